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
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape as xml_escape

import httpx
import pytest

from engine import Client, Connector, HttpResponse, Result, load_connector

from ..connectors.scenarios import Scenario, credentials_for, flow_scenarios, response_body
from ..connectors.test_scenarios import ACCESS_TOKEN, CLOCK
from .leaks import card_of, secret_credentials

ALL = flow_scenarios()


def _answers(scenario: Scenario) -> list[dict[str, Any]]:
    data = scenario.data
    return list(data["responses"]) if "responses" in data else [data["response"]]


def _error_scenario(connector: str) -> Scenario | None:
    """The connector's first authorize scenario whose last answer is a processor's refusal with
    a message in its body: JSON (a `body`, or `body_text` as Authorize.net sends it), XML or a
    query string (NMI);
    one whose expected result shows a message read from it, when there is one."""
    found = []
    for scenario in ALL:
        data = scenario.data
        last = _answers(scenario)[-1]
        if (
            scenario.connector == connector
            and data["flow"] == "authorize"
            and data.get("expect", {}).get("status") == "failed"
            and ("body" in last or "body_text" in last)
            and "transport" not in last
            and _echoing_body(last, "echo") != response_body(last)  # it holds a message
        ):
            found.append(scenario)
    found.sort(key=lambda s: not _is_message(str(s.data["expect"].get("error.connector_message"))))
    return found[0] if found else None


def _is_message(value: str) -> bool:
    # Free text (a message) rather than a code or status word the spec maps: it has a space.
    return " " in value.strip()


def _fill(value: Any, text: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, text) for v in value]
    return text if isinstance(value, str) and _is_message(value) else value


_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_TEXT = re.compile(r">([^<>]*\S\s+\S[^<>]*)<")


def _echoing_body(answer: Mapping[str, Any], text: str) -> bytes:
    """The answer's body with every message replaced by `text` (JSON or XML, as sent)."""
    if "body" in answer:
        return json.dumps(_fill(answer["body"], text)).encode()
    raw = str(answer["body_text"])
    bom = "\ufeff" if raw.startswith("\ufeff") else ""
    try:
        document = json.loads(raw.removeprefix("\ufeff"))
    except ValueError:
        if not raw.lstrip().startswith("<"):  # a query-string answer (NMI's Direct Post)
            pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
            return urlencode([(k, text if _is_message(v) else v) for k, v in pairs]).encode()
        cdata = _CDATA.sub(lambda m: f"<![CDATA[{text}]]>" if _is_message(m[1]) else m[0], raw)
        return _TEXT.sub(lambda m: f">{xml_escape(text)}<", cdata).encode()
    return (bom + json.dumps(_fill(document, text))).encode()


def _echoed(answers: list[dict[str, Any]], index: int, text: str) -> httpx.Response:
    """Answer `index` as recorded, except the last one, which echoes `text`."""
    answer = answers[index]
    headers = dict(answer.get("headers") or {"Content-Type": "application/json"})
    if index < len(answers) - 1:
        return httpx.Response(
            answer.get("status", 200), headers=headers, content=response_body(answer)
        )
    return httpx.Response(
        answer.get("status", 200), headers=headers, content=_echoing_body(answer, text)
    )


def _assert_echo_arrived(result: Any) -> None:
    """The echo reached the Result (scrubbed): the test exercised the scrubber."""
    printed = json.dumps(result.to_dict(), default=str)
    assert "Invalid API Key provided" in printed, "the echoed message was not read"


CONNECTORS = sorted({s.connector for s in ALL})
SCENARIOS = [s for s in map(_error_scenario, CONNECTORS) if s is not None]


#: Connectors whose refusals carry codes only (no free text a processor could echo a key into).
CODES_ONLY = {"trustly": "JSON-RPC errors are ERROR_* codes and numbers"}


def test_every_connector_is_covered() -> None:
    covered = [s.connector for s in SCENARIOS]
    assert covered == [c for c in CONNECTORS if c not in CODES_ONLY]
    for connector in CODES_ONLY:  # and it really has no message to echo into
        assert connector in CONNECTORS and connector not in covered


_AUTH_HEADERS = ("authorization", "signature", "x-api-key")


def _sent_auth_values(headers: Any) -> list[str]:
    """The auth header values as sent, and their parts: what the scheme derived."""
    values = []
    for name in _AUTH_HEADERS:
        value = headers.get(name)
        if value:
            values.append(value)
            values += re.findall(r'signature="([^"]+)"', value)
            # "Basic <base64 of id:secret>", "Bearer <token>", "V2-HMAC-SHA256, Signature: <hex>":
            # the credential is the last word.
            if name == "authorization" and " " in value:
                values += value.split(" ")[-1:]
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
    answers = _answers(scenario)
    watched: list[str] = []
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        watched.extend(_variants(scenario) + _sent_auth_values(request.headers))
        return _echoed(answers, count - 1, _echo(watched))

    client = Client(
        scenario.connector,
        credentials_for(scenario.connector),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=lambda: CLOCK,
        access_token=ACCESS_TOKEN,
    )
    result = client.call("authorize", scenario.data["request"])
    assert count == len(answers), "the processor was not reached"
    assert result.error is not None
    _assert_echo_arrived(result)
    _assert_clean(json.dumps(result.to_dict(), default=str), watched)
    _assert_clean(repr(result), watched)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_sans_io_parse_with_the_sent_scrubber_hides_an_echoed_secret(scenario: Scenario) -> None:
    connector: Connector = load_connector(scenario.connector)
    request = dict(scenario.data["request"])
    answers = _answers(scenario)
    token = ACCESS_TOKEN.token.reveal() if connector.plan.auth.token is not None else None
    steps: dict[str, Any] = {}
    watched: list[str] = []
    result: Any = None
    for index in range(len(answers)):
        built = connector.build_request(
            "authorize",
            request,
            credentials_for(scenario.connector),
            access_token=token,
            now=CLOCK,
            step=index,
            steps=steps,
        )
        watched += _variants(scenario) + _sent_auth_values(
            {k.lower(): v for k, v in built.headers.items()}
        )
        raw = _echoed(answers, index, _echo(watched))
        response = HttpResponse(raw.status_code, dict(raw.headers), raw.content)
        if index < connector.request_count("authorize") - 1:
            answer = connector.parse_step(
                "authorize", index, request, response, steps=steps, scrubber=built.scrubber
            )
            if isinstance(answer, Result):
                result = answer
                break
            steps[connector.plan.flows["authorize"].steps[index].name] = answer
            continue
        result = connector.parse_response(
            "authorize", request, response, steps=steps or None, scrubber=built.scrubber
        )
    assert isinstance(result, Result) and result.error is not None
    _assert_echo_arrived(result)
    _assert_clean(json.dumps(result.to_dict(), default=str), watched)
    _assert_clean(repr(result), watched)
