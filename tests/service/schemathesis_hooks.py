"""schemathesis hooks for tests/service/test_schemathesis.py (loaded by the schemathesis CLI
through SCHEMATHESIS_HOOKS; not a test module).

Every call goes to localstripe, never to a real processor: the test sends X-Connector-Base-Url
(the harness's localstripe) with every request (`--header`, which overrides a generated value).
So that generated calls reach the engine rather than stop at the
service's own refusals, the tenant is made real before each call:

- where the operation offers `stripe`, two calls in three go to `stripe`, with the harness's
  profile (or, when schemathesis generated X-Connector-Credentials instead, with localstripe's
  key as credentials): localstripe acts on them;
- the others keep the generated connector, with its test credentials
  (tests/connectors/<id>/credentials.json) as X-Connector-Credentials: every spec builds its
  requests from generated input, and localstripe's answers (404, 401) become Results;
- a generated currency of the right shape (three capitals) becomes a real ISO 4217 code, and
  some generated tokens and card numbers become localstripe's test ones, and half the calls
  leave out the fields localstripe does not implement, so that some calls succeed (and their
  Results are checked too).

Everything else (bodies, other headers, a missing header, an unknown connector, a wrong
method) is schemathesis's own."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

CONNECTOR = "stripe"
ROOT = Path(__file__).resolve().parents[2]
#: Real codes with 2, 0 and 3 minor-unit digits.
CURRENCIES = ("USD", "EUR", "JPY", "GBP", "KWD")
_CURRENCY_SHAPE = re.compile(r"[A-Z]{3}")
#: Request fields whose Stripe parameters localstripe does not implement (it answers 400).
LOCALSTRIPE_REFUSES = (
    "return_url",
    "description",
    "statement_descriptor",
    "shipping_address",
    # Contract v2: a customer localstripe does not have, off-session and saving (it refuses
    # them), and fields Stripe's 2023-08-16 spec cannot send (refused before sending).
    "customer",
    "save_payment_method",
    "stored_credential",
    "channel",
    "merchant_category_code",
    "three_ds",
    "partial_authorization",
)


def _offered(case: Any) -> list[str]:
    for parameter in case.operation.definition.raw.get("parameters", []):
        if parameter.get("in") == "path" and parameter.get("name") == "connector":
            return list(parameter.get("schema", {}).get("enum", []))
    return []


def _test_credentials(connector: str) -> str:
    path = ROOT / "tests" / "connectors" / connector / "credentials.json"
    found = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return json.dumps(found, separators=(",", ":"))


def _tenant(case: Any, headers: dict[str, Any]) -> None:
    env = os.environ
    params = case.path_parameters or {}
    connector = params.get("connector")
    offered = _offered(case)
    if connector not in offered:  # an unknown connector: the service's 404, as generated
        return
    body = json.dumps(case.body, sort_keys=True, default=str)
    if CONNECTOR in offered and (connector == CONNECTOR or _pick(body, (CONNECTOR, CONNECTOR, ""))):
        params["connector"] = CONNECTOR
        if "X-Connector-Credentials" in headers and "X-Connector-Profile" not in headers:
            headers["X-Connector-Credentials"] = json.dumps(
                {"api_key": env["CONNECTOR_STRIPE_KEY"]}
            )
        elif "X-Connector-Profile" in headers or not case.path.endswith("/events"):
            headers.pop("X-Connector-Credentials", None)
            headers["X-Connector-Profile"] = env["CONNECTOR_SERVICE_PROFILE"]
    elif not case.path.endswith("/events"):
        headers.pop("X-Connector-Profile", None)
        headers["X-Connector-Credentials"] = _test_credentials(connector)


def _pick(value: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, the same for the same `value` (so a seed replays the same calls)."""
    return choices[sum(map(ord, value)) % len(choices)]


def _body(body: Any) -> None:
    if not isinstance(body, dict):
        return
    value = body.get("currency")
    if isinstance(value, str) and _CURRENCY_SHAPE.fullmatch(value):
        body["currency"] = _pick(value, CURRENCIES)
    if _pick(json.dumps(body, sort_keys=True, default=str), ("drop", "")):
        for name in LOCALSTRIPE_REFUSES:
            body.pop(name, None)
    method = body.get("payment_method")
    # Methods other than cards: Stripe's spec refuses some (400 unsupported) and localstripe
    # implements none of the local ones (400): two in three become a token it knows.
    if (
        isinstance(method, dict)
        and method.get("type") not in ("card", "token")
        and _pick(json.dumps(method, sort_keys=True, default=str), ("token", "token", ""))
    ):
        method.clear()
        method.update({"type": "token", "token": "pm_card_visa"})
    if isinstance(method, dict):
        token, card = method.get("token"), method.get("card")
        if isinstance(token, str) and token:
            # localstripe's test payment methods, or the generated token (a 404 there)
            method["token"] = _pick(token, ("pm_card_visa", "pm_card_mastercard", token))
        if isinstance(card, dict) and isinstance(card.get("number"), str):
            card["number"] = _pick(card["number"], ("4242424242424242", card["number"]))


def _about_headers(case: Any) -> bool:
    """A negative case whose violation is in its headers (a missing Authorization, a malformed
    header): left as generated. Editing its headers would make schemathesis relabel it
    positive, and then send the header it meant to leave out."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    return getattr(meta.phase.data, "parameter_location", None) == ParameterLocation.HEADER


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if not _about_headers(case):
        headers = dict(case.headers or {})
        _tenant(case, headers)
        case.headers = headers
    _body(case.body)
