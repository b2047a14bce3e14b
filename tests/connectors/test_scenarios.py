"""Every flow scenario of every connector, end to end through Client with a mock transport:
the request the engine sends (snapshot), the unified result (snapshot), and explicit
assertions from the scenario's `expect`."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

import engine._clock
from engine import Client, ConnectorServiceError, HttpResponse, load_connector
from engine._tokens import AccessToken

from .scenarios import Scenario, credentials_for, dotted, flow_scenarios, response_body

SCENARIOS = flow_scenarios()

TRANSPORT_ERRORS = {
    "connect_error": httpx.ConnectError("connection refused"),
    "connect_timeout": httpx.ConnectTimeout("connect timed out"),
    "read_timeout": httpx.ReadTimeout("read timed out"),
    "write_timeout": httpx.WriteTimeout("write timed out"),
    "remote_protocol_error": httpx.RemoteProtocolError("peer closed connection"),
    "read_error": httpx.ReadError("connection reset"),
}


@pytest.fixture
def snapshot_json(snapshot: Any) -> Any:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture
def fixed_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-request random values a signed request may read (`nonce`, `uuid`), fixed like
    the clock, so a snapshot of a request that sends them (a salt, a request id) is stable."""
    monkeypatch.setattr(
        engine._clock, "secrets", SimpleNamespace(token_hex=lambda n: "5a17" * (n // 2))
    )
    fixed = uuid.UUID("7d0c6c7e-3b51-4a8e-9c2f-1f6e0b9a4d21")
    monkeypatch.setattr(engine._clock, "uuid", SimpleNamespace(uuid4=lambda: fixed))


#: Scenarios run at a fixed clock (signed dates) with a standing access token (OAuth2 specs):
#: the token exchange itself is tested once, in tests/unit/test_oauth_and_steps.py.
CLOCK = 1_767_225_600.0  # 2026-01-01T00:00:00Z
ACCESS_TOKEN = AccessToken("scenario-access-token", 4_102_444_800.0)


def _responses(scenario: Scenario) -> list[dict[str, Any]]:
    """One answer per request the flow sends: `response`, or `responses` for multi-step flows."""
    data = scenario.data
    return list(data["responses"]) if "responses" in data else [data["response"]]


def _run(scenario: Scenario) -> tuple[list[httpx.Request], Any]:
    data = scenario.data
    answers = _responses(scenario)
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        assert len(sent) <= len(answers), f"request {len(sent)} has no answer in the scenario"
        response = answers[len(sent) - 1]
        if "transport" in response:
            raise TRANSPORT_ERRORS[response["transport"]]
        return httpx.Response(
            response.get("status", 200),
            headers=response.get("headers", {"Content-Type": "application/json"}),
            content=response_body(response),
        )

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = Client(
        scenario.connector,
        credentials_for(scenario.connector),
        http_client=http,
        clock=lambda: CLOCK,
        access_token=ACCESS_TOKEN,
    )
    try:
        return sent, client.call(data["flow"], data["request"])
    except ConnectorServiceError as exc:
        return sent, exc


def _secrets(scenario: Scenario) -> list[str]:
    card = (scenario.data["request"].get("payment_method") or {}).get("card") or {}
    connector = load_connector(scenario.connector)
    secret_names = {c.name for c in connector.plan.credentials if c.secret}
    creds = credentials_for(scenario.connector)
    return [str(v) for k, v in creds.items() if k in secret_names] + [
        str(card[k]) for k in ("number", "cvc") if k in card and len(str(card[k])) >= 4
    ]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
@pytest.mark.usefixtures("fixed_randomness")
def test_scenario(scenario: Scenario, snapshot_json: Any) -> None:
    expect = scenario.data["expect"]
    assert "status" in expect or "raises" in expect, (
        "every scenario asserts a status or an exception"
    )
    connector = load_connector(scenario.connector)
    sent, outcome = _run(scenario)

    if "raises" in expect:
        assert isinstance(outcome, Exception), f"expected {expect['raises']}, got {outcome!r}"
        assert type(outcome).__name__ == expect["raises"]
        assert sent == [] or expect["raises"] == "NotSentError"
        return
    assert not isinstance(outcome, Exception), f"unexpected exception: {outcome!r}"
    answers = _responses(scenario)
    assert len(sent) == len(answers), f"{len(sent)} request(s) sent, {len(answers)} answered"

    # What went on the wire is exactly what build_request gives (the sans-I/O promise), step by
    # step, each step seeing the earlier answers as parse_step decoded them.
    flow = scenario.data["flow"]
    request = (
        {**scenario.data["request"], "idempotency_key": outcome.idempotency_key}
        if outcome.idempotency_key
        else scenario.data["request"]
    )
    steps: dict[str, Any] = {}
    built_all = []
    index = -1
    for position, (wire, answer) in enumerate(zip(sent, answers, strict=True)):
        # A step whose `if` does not hold is not sent: the wire skips its index.
        creds = credentials_for(scenario.connector)
        index = connector.next_step(flow, index + 1, request, creds, steps)
        built = connector.build_request(
            flow,
            request,
            credentials_for(scenario.connector),
            step=index,
            steps=steps,
            access_token=ACCESS_TOKEN.token.reveal() if connector.plan.auth.token else None,
            now=CLOCK,
        )
        assert (wire.method, str(wire.url)) == (built.method, built.url)
        assert wire.content == (built.body or b"")
        built_all.append(built.redacted())
        if position < len(sent) - 1 and "transport" not in answer:
            response = HttpResponse(answer.get("status", 200), {}, response_body(answer))
            decoded = connector.parse_step(flow, index, request, response, steps=steps)
            steps[connector.plan.flows[flow].steps[index].name] = decoded

    result = outcome.to_dict()
    for path, expected in expect.items():
        assert dotted(result, path) == expected, f"{path}: {dotted(result, path)!r} != {expected!r}"

    if len(built_all) == 1:
        recorded = {"request": built_all[0], "result": result}
    else:
        recorded = {"requests": built_all, "result": result}
    text = json.dumps(recorded, default=str)
    generated = outcome.idempotency_key
    if generated and "idempotency_key" not in scenario.data["request"]:
        # A generated key differs per run: the snapshot shows where it went, not its value.
        text = text.replace(generated, "<generated>")
        recorded = json.loads(text)
    for secret in _secrets(scenario):
        assert secret not in text, "a secret or card value leaked into the transcript"
    assert recorded == snapshot_json
