"""parse_response and parse_step are total: for every flow of every processor, any bytes, any
JSON, any XML (for XML specs) and mutated real fixtures give a Result that validates against
schemas/unified/result.json with a status of the flow's kind; a 2xx the engine cannot read is
`unresolved` with `invalid_response`. parse_event gives events or WebhookError, never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine import HttpResponse, Result, WebhookError
from engine._encoding import DecodeError
from engine._requests import unified_registry
from engine._resources import load_schema
from engine._unified import Event, result_statuses

from ..connectors.scenarios import Scenario, flow_scenarios
from .documents import json_values, xml_documents
from .processors import CONNECTORS, FLOW_PAIRS, accepted_requests

PAIR_IDS = [f"{cid}-{flow}" for cid, flow in FLOW_PAIRS]
RESULT = Draft202012Validator(load_schema("unified/result.json"), registry=unified_registry())
EVENT = Draft202012Validator(load_schema("unified/event.json"), registry=unified_registry())

statuses = st.sampled_from(
    [200, 201, 202, 204, 301, 400, 401, 402, 404, 408, 409, 422, 429, 500, 503]
)
content_types = st.sampled_from(["application/json", "text/xml", "text/html", "text/plain", ""])


def assert_valid_result(result: Result, flow: str) -> None:
    assert isinstance(result, Result)
    errors = [e.message for e in RESULT.iter_errors(result.to_dict())]
    assert not errors, errors
    assert result.status in result_statuses(flow)


def parse(cid: str, flow: str, request: Any, status: int, body: bytes, ctype: str) -> Result:
    response = HttpResponse(status, {"Content-Type": ctype} if ctype else {}, body)
    result = CONNECTORS[cid].parse_response(flow, request, response)
    assert_valid_result(result, flow)
    if 200 <= status < 300 and _unreadable(cid, flow, body):
        assert result.status == "unresolved"
        assert result.error is not None and result.error.code == "invalid_response"
    return result


def _unreadable(cid: str, flow: str, body: bytes) -> bool:
    try:
        CONNECTORS[cid].plan.flows[flow].response.decode(body)
    except DecodeError:
        return True
    return False


@st.composite
def bodies(draw: st.DrawFn, cid: str) -> bytes:
    """Raw bytes, JSON text, and XML documents (every spec gets all three: a JSON spec must
    survive an XML answer too)."""
    kind = draw(st.sampled_from(["bytes", "json", "xml"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    return draw(xml_documents())


@pytest.mark.parametrize(("cid", "flow"), FLOW_PAIRS, ids=PAIR_IDS)
@given(data=st.data(), status=statuses, ctype=content_types)
def test_any_answer_gives_a_valid_result(
    cid: str, flow: str, data: st.DataObject, status: int, ctype: str
) -> None:
    request = data.draw(accepted_requests(CONNECTORS[cid], flow))
    parse(cid, flow, request, status, data.draw(bodies(cid)), ctype)


@pytest.mark.parametrize(
    ("cid", "flow"),
    [(cid, flow) for cid, flow in FLOW_PAIRS if CONNECTORS[cid].plan.flows[flow].steps],
)
@given(data=st.data(), status=statuses)
def test_any_step_answer_gives_data_or_a_failed_result(
    cid: str, flow: str, data: st.DataObject, status: int
) -> None:
    request = data.draw(accepted_requests(CONNECTORS[cid], flow))
    response = HttpResponse(status, {}, data.draw(bodies(cid)))
    answer = CONNECTORS[cid].parse_step(flow, 0, request, response)
    if isinstance(answer, Result):
        assert_valid_result(answer, flow)
        # A step moves no money, so its refusal is `failed` — unless the processor says the
        # idempotency key is in use: another request with this key may be acting (unresolved).
        assert answer.error is not None
        if answer.error.code == "duplicate_request":
            assert answer.status in ("failed", "unresolved")
        else:
            assert answer.status == "failed"
    else:
        assert 200 <= status < 300


# ---- mutated real fixtures -------------------------------------------------------------------


def _answered(scenario: Scenario) -> dict[str, Any] | None:
    """The scenario's (last) processor answer when it is a JSON body."""
    data = scenario.data
    answer = data["responses"][-1] if "responses" in data else data.get("response", {})
    known = data["flow"] in CONNECTORS[scenario.connector].flows  # not an "unsupported" case
    return answer if known and "body" in answer else None


FIXTURES = [s for s in flow_scenarios() if _answered(s) is not None]

replacements = st.one_of(
    st.none(),
    st.just("x" * 100_000),
    st.integers(-(10**30), 10**30),
    st.booleans(),
    st.just({"nested": {"deeper": [1, {"x": None}]}}),
    st.just([]),
    json_values,
)


@st.composite
def mutated_documents(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one node dropped, or replaced by a value of another shape."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, child in children:
            walk(child, (*path, key))

    walk(document, ())
    path = draw(st.sampled_from(paths))
    if not path:
        return draw(replacements)
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(replacements)
    return copy


@pytest.mark.parametrize("scenario", FIXTURES, ids=[s.id for s in FIXTURES])
@settings(max_examples=5)  # one test per fixture: many fixtures, few examples each
@given(data=st.data(), status=st.one_of(st.none(), statuses))
def test_a_mutated_real_answer_gives_a_valid_result(
    scenario: Scenario, data: st.DataObject, status: int | None
) -> None:
    answer = _answered(scenario)
    assert answer is not None
    body = json.dumps(data.draw(mutated_documents(answer["body"]))).encode()
    flow, request = scenario.data["flow"], scenario.data["request"]
    ctype = (answer.get("headers") or {}).get("Content-Type", "application/json")
    parse(scenario.connector, flow, request, status or answer.get("status", 200), body, ctype)


# ---- webhooks --------------------------------------------------------------------------------

WEBHOOK_IDS = sorted(cid for cid, c in CONNECTORS.items() if c.has_webhooks)


@pytest.mark.parametrize("cid", WEBHOOK_IDS)
@given(
    data=st.data(),
    headers=st.dictionaries(
        st.text("abcdefghijklmnopqrstuvwxyz-", max_size=20), st.text(max_size=40), max_size=4
    ),
    secret=st.one_of(st.none(), st.text(max_size=20)),
    allow_unconfirmed=st.booleans(),
)
def test_any_webhook_gives_events_or_webhook_error(
    cid: str,
    data: st.DataObject,
    headers: dict[str, str],
    secret: str | None,
    allow_unconfirmed: bool,
) -> None:
    connector = CONNECTORS[cid]
    signature = connector.plan.webhooks.signature if connector.plan.webhooks else None
    if signature is not None and signature.header:
        headers[signature.header] = data.draw(st.text(max_size=80))
    try:
        result = connector.parse_event(
            data.draw(bodies(cid)),
            headers,
            secret,
            now=1_767_225_600.0,
            allow_unconfirmed=allow_unconfirmed,
        )
    except WebhookError:
        return
    for event in result.events:
        assert isinstance(event, Event)
        errors = [e.message for e in EVENT.iter_errors(event.to_dict())]
        assert not errors, errors
