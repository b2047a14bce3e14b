"""`webhooks.signature.scheme: token`: the processor sends a shared verification token (Xendit's
x-callback-token) instead of a signature. The header's value must equal the webhook secret,
compared in constant time; the hmac keys are refused beside it, and a spec without `scheme`
still needs them (hmac stays the default)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine._errors import SpecError, WebhookError
from engine._plan import ConnectorPlan
from engine._webhooks import parse_event, webhook_secrets

from .conftest import WEBHOOK_SECRET, acme_variant

EVENT = {"id": "evt_1", "type": "payment.captured", "data": {"payment_id": "pay_1"}}
BODY = json.dumps(EVENT).encode()


def _token_spec(**extra: Any) -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {"scheme": "token", "header": "x-callback-token", **extra}

    return acme_variant(edit)


def _reason(plan: ConnectorPlan, headers: dict[str, str], secret: str = WEBHOOK_SECRET) -> str:
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, BODY, headers, secret)
    assert secret not in str(caught.value)
    return caught.value.reason


def test_the_token_equal_to_the_secret_verifies() -> None:
    result = parse_event(_token_spec(), BODY, {"X-Callback-Token": WEBHOOK_SECRET}, WEBHOOK_SECRET)
    assert [e.verified for e in result.events] == [True]
    assert result.events[0].connector_transaction_id == "pay_1"


@pytest.mark.parametrize(
    "given",
    [WEBHOOK_SECRET + "x", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET.upper(), "whsec", "é"],
)
def test_any_other_token_is_refused(given: str) -> None:
    assert _reason(_token_spec(), {"x-callback-token": given}) == "bad_signature"


def test_no_token_header_is_a_missing_signature() -> None:
    assert _reason(_token_spec(), {}) == "missing_signature"
    assert _reason(_token_spec(), {"x-callback-token": ""}) == "missing_signature"


def test_the_token_is_not_an_hmac_of_the_body() -> None:
    """A token does not cover the body: the same token verifies another body too (what the
    scheme can prove is who sent it), and an HMAC of the body is not the token."""
    import hashlib
    import hmac

    plan = _token_spec()
    other = json.dumps({**EVENT, "id": "evt_2"}).encode()
    assert parse_event(plan, other, {"x-callback-token": WEBHOOK_SECRET}, WEBHOOK_SECRET).events
    digest = hmac.new(WEBHOOK_SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert _reason(plan, {"x-callback-token": digest}) == "bad_signature"


def test_a_prefix_is_removed_before_comparing() -> None:
    plan = _token_spec(prefix="Token ")
    headers = {"x-callback-token": f"Token {WEBHOOK_SECRET}"}
    assert parse_event(plan, BODY, headers, WEBHOOK_SECRET).events
    assert _reason(plan, {"x-callback-token": WEBHOOK_SECRET}) == "bad_signature"


def test_the_outputs_are_scrubbed_of_the_token() -> None:
    assert webhook_secrets(_token_spec(), WEBHOOK_SECRET)[0] == WEBHOOK_SECRET


@pytest.mark.parametrize(
    "extra",
    [
        {"message": "{{ body }}"},
        {"algorithm": "sha256"},
        {"key_encoding": "utf8"},
        {"output": "hex"},
        {"parse": {"pair_separator": ",", "value_separator": "=", "signature_key": "v1"}},
    ],
)
def test_hmac_keys_are_refused_with_a_token(extra: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        _token_spec(**extra)


def test_hmac_stays_the_default_and_needs_its_keys() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {"header": "x-signature"}

    with pytest.raises(SpecError) as caught:
        acme_variant(edit)
    assert "message" in str(caught.value)
