"""Webhook signatures that are a plain hash of a message containing the secret
(`webhooks.signature.scheme: digest`, Nuvei's DMN advanceResponseChecksum): verified in constant
time, rejected when tampered with or made with another secret, and refused at lint when the
message does not read the secret (anyone could compute it) or an HMAC's message reads it. The
expected values are computed here with hashlib, independently of the engine."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import pytest

from engine._errors import SpecError, WebhookError
from engine._plan import ConnectorPlan
from engine._webhooks import parse_event

from .conftest import WEBHOOK_SECRET, acme_variant

FIELDS = {"id": "evt_9", "type": "payment.captured", "payment_id": "pay_9", "amount": "10.99"}


def _digest_spec(**signature: Any) -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["spec_version"] = 2
        spec["webhooks"]["decode"] = "form"
        spec["webhooks"]["signature"] = {
            "from": "checksum",
            "scheme": "digest",
            "message": "{{ secret }}{{ item.id }}{{ item.amount }}",
            "algorithm": "sha256",
            "key_encoding": "utf8",
            "output": "hex",
            **signature,
        }
        spec["webhooks"]["event"]["fields"] = {
            "connector_transaction_id": "payment_id",
            "amount": "amount",
        }

    return acme_variant(edit)


def _body(secret: str = WEBHOOK_SECRET, **changes: str) -> bytes:
    text = secret + FIELDS["id"] + FIELDS["amount"]
    fields = {**FIELDS, "checksum": hashlib.sha256(text.encode()).hexdigest(), **changes}
    return urlencode(fields).encode()


def test_a_digest_over_the_secret_and_fields_verifies() -> None:
    events = parse_event(_digest_spec(), _body(), {}, WEBHOOK_SECRET).events
    assert [(e.type, e.connector_transaction_id, e.verified) for e in events] == [
        ("payment.captured", "pay_9", True)
    ]


def test_a_digest_in_base64_and_sha512() -> None:
    plan = _digest_spec(algorithm="sha512", output="base64")
    text = WEBHOOK_SECRET + FIELDS["id"] + FIELDS["amount"]
    checksum = base64.b64encode(hashlib.sha512(text.encode()).digest()).decode()
    body = urlencode({**FIELDS, "checksum": checksum}).encode()
    assert len(parse_event(plan, body, {}, WEBHOOK_SECRET).events) == 1


@pytest.mark.parametrize(
    ("label", "body", "reason"),
    [
        ("a tampered amount", _body(amount="19.99"), "bad_signature"),
        ("another secret", _body(secret="someone-else"), "bad_signature"),
        ("the HMAC instead", None, "bad_signature"),
        ("no checksum", urlencode(FIELDS).encode(), "missing_signature"),
    ],
)
def test_a_wrong_digest_is_rejected(label: str, body: bytes | None, reason: str) -> None:
    if body is None:  # an HMAC of the same message is not the digest
        text = (WEBHOOK_SECRET + FIELDS["id"] + FIELDS["amount"]).encode()
        mac = hmac.new(WEBHOOK_SECRET.encode(), text, hashlib.sha256).hexdigest()
        body = urlencode({**FIELDS, "checksum": mac}).encode()
    with pytest.raises(WebhookError) as caught:
        parse_event(_digest_spec(), body, {}, WEBHOOK_SECRET)
    assert caught.value.reason == reason, label
    assert WEBHOOK_SECRET not in str(caught.value)


def test_a_digest_that_does_not_read_the_secret_is_refused() -> None:
    with pytest.raises(SpecError, match="must read `secret`"):
        _digest_spec(message="{{ item.id }}{{ item.amount }}")


def test_a_digest_needs_the_secret_as_text() -> None:
    with pytest.raises(SpecError, match="utf8"):
        _digest_spec(key_encoding="hex")


def test_hmac_stays_the_default() -> None:
    plan = _digest_spec(message="{{ item.id }}{{ item.amount }}", scheme="hmac")
    text = (FIELDS["id"] + FIELDS["amount"]).encode()
    mac = hmac.new(WEBHOOK_SECRET.encode(), text, hashlib.sha256).hexdigest()
    body = urlencode({**FIELDS, "checksum": mac}).encode()
    assert len(parse_event(plan, body, {}, WEBHOOK_SECRET).events) == 1
    assert plan.webhooks is not None and plan.webhooks.signature is not None
    assert plan.webhooks.signature.scheme == "hmac"
