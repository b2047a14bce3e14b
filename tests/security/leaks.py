"""A scenario's secrets → a detector that says where any of them shows up in printed text.

Watched values: the card number, the CVC, every credential the spec marks secret and the OAuth2
access token. Long values are found as substrings in their plain, URL-encoded and JSON-escaped
forms; the CVC (three or four digits) only as a token standing alone, so "123" is not found
inside "41234" but is found in `cvc=123` or `"123"`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from engine import load_connector

from ..connectors.scenarios import Scenario, credentials_for, response_body


def _standalone(token: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(token)}(?![0-9A-Za-z])")


def _encodings(value: str) -> set[str]:
    return {
        value,
        quote(value, safe=""),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


@dataclass(frozen=True)
class Watched:
    """What must never be printed: `values` (name → long secret) and `tokens` (name → short
    secret, matched standalone). Reports name what leaked, never the value itself."""

    values: Mapping[str, str]
    tokens: Mapping[str, str]

    def leaks(self, text: str) -> list[str]:
        found = []
        for name, value in self.values.items():
            if any(form in text for form in _encodings(value)):
                found.append(name)
        for name, token in self.tokens.items():
            if _standalone(token).search(text):
                found.append(name)
        return found

    def assert_absent(self, where: str, text: str) -> None:
        leaked = self.leaks(text)
        assert not leaked, f"{', '.join(leaked)} leaked into {where}"


def card_of(request: Mapping[str, Any]) -> Mapping[str, Any]:
    return (request.get("payment_method") or {}).get("card") or {}


def secret_credentials(connector: str) -> dict[str, str]:
    """The values of credentials.json that the spec declares `secret: true`."""
    plan = load_connector(connector).plan
    secret = {c.name for c in plan.credentials if c.secret}
    return {
        name: str(value) for name, value in credentials_for(connector).items() if name in secret
    }


def watched_for(scenario: Scenario, *, access_token: str | None = None) -> Watched:
    card = card_of(scenario.data["request"])
    values = {
        f"credential {name!r}": value
        for name, value in secret_credentials(scenario.connector).items()
    }
    if card.get("number"):
        values["card number"] = str(card["number"])
    if access_token:
        values["access token"] = access_token
    tokens = {"CVC": str(card["cvc"])} if card.get("cvc") else {}
    return Watched(values, tokens)


def cvc_is_unambiguous(scenario: Scenario) -> bool:
    """True when the CVC stands alone nowhere else in the scenario (request or answers), so
    finding it in any output can only mean the CVC itself leaked."""
    request = json.loads(json.dumps(scenario.data["request"]))
    cvc = card_of(request).get("cvc")
    if not cvc:
        return True
    del request["payment_method"]["card"]["cvc"]
    answers = scenario.data.get("responses") or [scenario.data.get("response") or {}]
    text = json.dumps(request) + "\n".join(response_body(a).decode() for a in answers)
    return _standalone(str(cvc)).search(text) is None


def exception_texts(exc: BaseException) -> Iterable[tuple[str, str]]:
    """str and repr of an exception and of every exception it was raised from or during."""
    seen: BaseException | None = exc
    depth = 0
    while seen is not None and depth < 10:
        yield f"str({type(seen).__name__})", str(seen)
        yield f"repr({type(seen).__name__})", repr(seen)
        yield f"args of {type(seen).__name__}", repr(seen.args)
        seen = seen.__cause__ or seen.__context__
        depth += 1
