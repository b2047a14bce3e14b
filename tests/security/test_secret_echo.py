"""A processor that echoes what it was sent ("Invalid API Key provided: sk_test_…") into its
error answer: the Result carries none of it — not the credential values, not what the auth
scheme derived from them (the Authorization / Signature header values, base64 of id:secret, the
signature), not simple variants (upper/lower case, base64 of the secret), not the card data.

Each connector's first authorize error scenario is replayed with every string of its answer
replaced by the echo, through Client (MockTransport) and through the sans-I/O Connector."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from engine import Client, Connector, HttpResponse, load_connector

from ..connectors.scenarios import Scenario, credentials_for, flow_scenarios
from ..connectors.test_scenarios import ACCESS_TOKEN, CLOCK
from .leaks import card_of, secret_credentials

ALL = flow_scenarios()


def _error_scenario(connector: str) -> Scenario | None:
    for scenario in ALL:
        data = scenario.data
        answer = data.get("response") or {}
        if (
            scenario.connector == connector
            and data["flow"] == "authorize"
            and "responses" not in data
            and 400 <= answer.get("status", 200) < 500
            and isinstance(answer.get("body"), dict)
        ):
            return scenario
    return None


CONNECTORS = sorted({s.connector for s in ALL})
SCENARIOS = [s for s in map(_error_scenario, CONNECTORS) if s is not None]


def _fill(value: Any, text: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, text) for v in value]
    return text if isinstance(value, str) else value


_AUTH_HEADERS = ("authorization", "signature", "x-api-key")


def _sent_auth_values(headers: Any) -> list[str]:
    """The auth header values as sent, and their parts: what the scheme derived."""
    values = []
    for name in _AUTH_HEADERS:
        value = headers.get(name)
        if value:
            values.append(value)
            values += re.findall(r'signature="([^"]+)"', value)
            if name == "authorization":  # "Basic <base64 of id:secret>", "Bearer <token>"
                values += value.split(" ")[1:2]
    return values


def _variants(scenario: Scenario) -> list[str]:
    found = []
    for value in secret_credentials(scenario.connector).values():
        raw = value.encode()
        found += [value, value.upper(), value.lower(), base64.b64encode(raw).decode()]
    card = card_of(scenario.data["request"])
    if card.get("number"):
        found.append(str(card["number"]))
    return found


def _echo(sent: list[str]) -> str:
    return "Invalid API Key provided: " + " / ".join(sent)


def _assert_clean(text: str, watched: list[str]) -> None:
    leaked = [i for i, value in enumerate(watched) if value in text]
    assert not leaked, f"watched values #{leaked} came back in the Result"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_client_result_hides_an_echoed_secret(scenario: Scenario) -> None:
    answer = scenario.data["response"]
    watched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        watched[:] = _variants(scenario) + _sent_auth_values(request.headers)
        body = _fill(answer["body"], _echo(watched))
        return httpx.Response(answer["status"], json=body)

    client = Client(
        scenario.connector,
        credentials_for(scenario.connector),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=lambda: CLOCK,
        access_token=ACCESS_TOKEN,
    )
    result = client.call("authorize", scenario.data["request"])
    assert watched, "the processor was not reached"
    assert result.error is not None
    _assert_clean(json.dumps(result.to_dict(), default=str), watched)
    _assert_clean(repr(result), watched)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_sans_io_parse_with_the_sent_scrubber_hides_an_echoed_secret(scenario: Scenario) -> None:
    connector: Connector = load_connector(scenario.connector)
    request = scenario.data["request"]
    token = ACCESS_TOKEN.token.reveal() if connector.plan.auth.token is not None else None
    built = connector.build_request(
        "authorize", request, credentials_for(scenario.connector), access_token=token, now=CLOCK
    )
    watched = _variants(scenario) + _sent_auth_values(
        {k.lower(): v for k, v in built.headers.items()}
    )
    answer = scenario.data["response"]
    body = json.dumps(_fill(answer["body"], _echo(watched))).encode()
    response = HttpResponse(answer["status"], {"Content-Type": "application/json"}, body)
    result = connector.parse_response("authorize", request, response, scrubber=built.scrubber)
    assert result.error is not None
    _assert_clean(json.dumps(result.to_dict(), default=str), watched)
