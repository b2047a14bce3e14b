"""Scenario fixtures: tests/connectors/<id>/scenarios/*.yaml and webhooks/*.yaml, loaded for the
generic scenario tests. The format is documented in tests/connectors/README.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent


@dataclass(frozen=True)
class Scenario:
    connector: str
    name: str
    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.connector}-{self.name}"  # no "/": it names the snapshot file


def _scenarios(folder: str) -> list[Scenario]:
    found = []
    for path in sorted(ROOT.glob(f"*/{folder}/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.append(Scenario(path.parent.parent.name, path.stem, path, data))
    return found


def flow_scenarios() -> list[Scenario]:
    return _scenarios("scenarios")


def webhook_scenarios() -> list[Scenario]:
    return _scenarios("webhooks")


def fixtures_of(connector: str, folder: str) -> dict[str, dict[str, Any]]:
    """name → data of every tests/connectors/<connector>/<folder>/*.yaml, in name order."""
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / connector / folder).glob("*.yaml"))
    }


def processor_schema(connector: str) -> dict[str, Any]:
    """tests/connectors/<connector>/processor_schema.json: the processor's own request schemas."""
    schema: dict[str, Any] = json.loads(
        (ROOT / connector / "processor_schema.json").read_text(encoding="utf-8")
    )
    return schema


def credentials_for(connector: str) -> dict[str, str]:
    path = ROOT / connector / "credentials.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


#: The token endpoint answer OAuth2 (RFC 6749 §5.1) describes, as PayPal's docs show it.
OAUTH2_TOKEN_ANSWER: dict[str, Any] = {
    "status": 200,
    "headers": {"Content-Type": "application/json"},
    "body": {
        "scope": "https://uri.paypal.com/services/payments/payment",
        "access_token": "A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYXVJYE8ovjj68el",
        "token_type": "Bearer",
        "app_id": "APP-80W284485P519543T",
        "expires_in": 31668,
        "nonce": "2026-01-01T00:00:00Z5L6vQ6",
    },
}


def token_answer_for(connector: str, token: str | None = None) -> dict[str, Any]:
    """The answer of `connector`'s token endpoint, {status, headers, body}: its own documented
    shape (tests/connectors/<id>/token_answer.json) or OAuth2's; with `token`, that token in
    place of the recorded one (found by reading the answer as the spec does)."""
    path = ROOT / connector / "token_answer.json"
    answer: dict[str, Any] = (
        json.loads(path.read_text(encoding="utf-8"))
        if path.exists()
        else json.loads(json.dumps(OAUTH2_TOKEN_ANSWER))
    )
    if token is None:
        return answer
    from engine import HttpResponse, load_connector
    from engine._tokens import parse_token_response

    recorded = HttpResponse(200, {}, json.dumps(answer["body"]).encode())
    old = parse_token_response(load_connector(connector).plan, recorded).token.reveal()

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return token if value == old else value

    return {**answer, "body": swap(answer["body"])}


def response_body(response: dict[str, Any]) -> bytes:
    if "body_text" in response:
        return str(response["body_text"]).encode("utf-8")
    if "body" in response:
        return json.dumps(response["body"]).encode("utf-8")
    return b""


def dotted(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        else:
            return None
    return value
