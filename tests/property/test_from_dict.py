"""from_dict is to_dict's inverse, for every shape the schemas allow: Result (with next_action,
error, matches, an access token with or without its value), Event, WebhookResult."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine import ErrorInfo, Event, EventType, Match, NextAction, Result, WebhookResult
from engine._requests import unified_registry
from engine._resources import load_schema
from engine._tokens import AccessToken
from engine._unified import FLOWS, ErrorCode, FindStatus, PaymentStatus, TokenExpiry

text = st.text(max_size=12)
maybe_text = st.none() | text
maybe_int = st.none() | st.integers(min_value=0, max_value=10**12)
statuses = st.sampled_from([*PaymentStatus, *FindStatus]).map(str)

errors = st.builds(
    ErrorInfo,
    code=st.sampled_from(list(ErrorCode)).map(str),
    message=text,
    retryable=st.booleans(),
    connector_code=maybe_text,
    connector_message=maybe_text,
    decline_code=maybe_text,
    http_status=st.none() | st.integers(min_value=100, max_value=599),
)
next_actions = st.builds(
    NextAction,
    type=st.just("redirect"),
    url=text,
    method=st.sampled_from(["GET", "POST"]),
    data=st.none() | st.dictionaries(text, text, max_size=3),
)
matches = st.builds(
    Match,
    status=st.sampled_from(list(PaymentStatus)).map(str),
    connector_transaction_id=maybe_text,
    connector_status=maybe_text,
    reference=maybe_text,
    amount=maybe_int,
    currency=maybe_text,
)
expiries = st.floats(min_value=0, max_value=4e9, allow_nan=False) | st.integers(0, 4 * 10**9)
tokens = st.none() | st.builds(
    AccessToken, token=st.text(min_size=1, max_size=12), expires_at=expiries
)
results = st.builds(
    Result,
    flow=st.sampled_from(list(FLOWS)),
    connector=text,
    status=statuses,
    connector_status=maybe_text,
    connector_transaction_id=maybe_text,
    connector_refund_id=maybe_text,
    connector_reference=maybe_text,
    reference=maybe_text,
    amount=maybe_int,
    currency=maybe_text,
    network_transaction_id=maybe_text,
    mandate_id=maybe_text,
    next_action=st.none() | next_actions,
    error=st.none() | errors,
    http_status=st.none() | st.integers(min_value=100, max_value=599),
    idempotency_key=maybe_text,
    access_token=tokens,
    matches=st.none() | st.lists(matches, max_size=3).map(tuple),
)
events = st.builds(
    Event,
    connector=text,
    type=st.sampled_from(list(EventType)).map(str),
    connector_event_type=text,
    verified=st.booleans(),
    status=st.none() | statuses,
    event_id=maybe_text,
    connector_transaction_id=maybe_text,
    connector_refund_id=maybe_text,
    reference=maybe_text,
    amount=maybe_int,
    currency=maybe_text,
    occurred_at=maybe_text,
)


def _through_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


@settings(max_examples=100)  # cheap: more than the ci profile's 12
@given(results)
def test_a_result_survives_its_json(result: Result) -> None:
    revealed = _through_json(result.to_dict(reveal_access_token=True))
    assert Result.from_dict(revealed) == result
    plain = _through_json(result.to_dict())
    back = Result.from_dict(plain)
    assert back.to_dict() == plain  # the service's answer (no token value) is a fixed point
    if result.access_token is not None:
        assert back.access_token == TokenExpiry(result.access_token.expires_at)
        assert Result.from_dict(revealed).access_token.token.reveal() == (
            result.access_token.token.reveal()
        )
    else:
        assert back == result


@settings(max_examples=50)
@given(st.lists(events, max_size=3), st.integers(100, 599), text, text)
def test_a_webhook_result_survives_its_json(
    found: list[Event], status: int, body: str, content_type: str
) -> None:
    webhook = WebhookResult(tuple(found), status, body, content_type)
    assert WebhookResult.from_dict(_through_json(webhook.to_dict())) == webhook
    for event in found:
        assert Event.from_dict(_through_json(event.to_dict())) == event


def test_unknown_members_are_ignored_and_the_schema_still_holds() -> None:
    data = {"flow": "get", "connector": "acme", "status": "captured", "added_later": 1}
    assert Result.from_dict(data) == Result(flow="get", connector="acme", status="captured")
    validator = Draft202012Validator(
        load_schema("unified/result.json"), registry=unified_registry()
    )
    assert list(validator.iter_errors(Result.from_dict(data).to_dict())) == []


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"flow": "get", "connector": "acme"},
        {"flow": "get", "connector": "acme", "status": 3},
        {"flow": "get", "connector": "acme", "status": "captured", "amount": "100"},
        {"flow": "get", "connector": "acme", "status": "captured", "amount": True},
        {"flow": "get", "connector": "acme", "status": "captured", "error": "declined"},
        {"flow": "get", "connector": "acme", "status": "captured", "error": {"code": "x"}},
        {"flow": "get", "connector": "acme", "status": "captured", "matches": {}},
        {"flow": "get", "connector": "acme", "status": "captured", "access_token": {"token": "t"}},
        {"flow": "get", "connector": "acme", "status": "captured", "next_action": {"url": "u"}},
    ],
)
def test_what_is_not_a_result_raises(data: Any) -> None:
    with pytest.raises((KeyError, TypeError)):
        Result.from_dict(data)


@pytest.mark.parametrize(
    "data",
    [
        {"events": {}, "acknowledge": {"status": 200, "body": "", "content_type": "t"}},
        {"events": [], "acknowledge": {"status": "200", "body": "", "content_type": "t"}},
        {"events": [], "acknowledge": {"status": 200, "body": 1, "content_type": "t"}},
        {
            "events": [{"connector": "a"}],
            "acknowledge": {"status": 200, "body": "", "content_type": "t"},
        },
        {"events": []},
    ],
)
def test_what_is_not_a_webhook_result_raises(data: Any) -> None:
    with pytest.raises((KeyError, TypeError)):
        WebhookResult.from_dict(data)
