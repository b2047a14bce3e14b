"""Webhooks confirmed by a fetch (unsigned deliveries that only name a payment), form-encoded
deliveries, and signed messages that read non-secret settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from engine import Client, Connector, WebhookError

from .conftest import API_KEY, acme_variant


def _unsigned(spec: dict[str, Any]) -> None:
    spec["webhooks"] = {
        "decode": "form",
        "confirm": {"flow": "get"},
        "event": {"type": "'payment'", "map": {}, "fields": {"connector_transaction_id": "id"}},
    }


def test_parse_event_alone_refuses_an_unconfirmed_delivery() -> None:
    connector = Connector(acme_variant(_unsigned))
    with pytest.raises(WebhookError) as caught:
        connector.parse_event(b"id=pay_1", {})
    assert caught.value.reason == "unconfirmed"
    events = connector.parse_event(b"id=pay_1", {}, allow_unconfirmed=True).events
    assert [(e.connector_transaction_id, e.verified) for e in events] == [("pay_1", False)]


def test_handle_event_confirms_by_fetching_the_payment() -> None:
    seen: list[httpx.Request] = []

    def processor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"id": "pay_1", "status": "captured", "amount": 1099, "currency": "USD"}
        return httpx.Response(200, json=body)

    http = httpx.Client(transport=httpx.MockTransport(processor))
    client = Client(Connector(acme_variant(_unsigned)), {"api_key": API_KEY}, http_client=http)
    [event] = client.handle_event(
        b"id=pay_1", {"Content-Type": "application/x-www-form-urlencoded"}
    ).events
    assert [(r.method, r.url.path) for r in seen] == [("GET", "/v1/payments/pay_1")]
    assert (event.type, event.status, event.verified) == ("payment.captured", "captured", True)


def test_an_unreadable_confirmation_is_not_an_event() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503, text="busy")))
    client = Client(Connector(acme_variant(_unsigned)), {"api_key": API_KEY}, http_client=http)
    with pytest.raises(WebhookError) as caught:
        client.handle_event(b"id=pay_1", {})
    assert caught.value.reason == "unconfirmed"


def test_a_signed_message_can_read_a_setting() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "header": "X-Sig",
            "message": "https://{{ credentials.region }}.shop.example/hook{{ body }}",
            "algorithm": "sha256",
            "key_encoding": "utf8",
            "output": "base64",
        }

    connector = Connector(acme_variant(edit))
    body = json.dumps({"type": "payment.captured", "data": {"payment_id": "pay_9"}}).encode()
    message = b"https://us.shop.example/hook" + body
    signature = base64.b64encode(hmac.new(b"whk", message, hashlib.sha256).digest()).decode()
    [event] = connector.parse_event(
        body, {"X-Sig": signature}, "whk", credentials={"region": "us"}
    ).events
    assert event.connector_transaction_id == "pay_9"
    with pytest.raises(WebhookError):  # the default region (eu) signs another message
        connector.parse_event(body, {"X-Sig": signature}, "whk")


def test_sha1_key_encoding() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "header": "X-Sig",
            "message": "{{ body }}",
            "algorithm": "sha1",
            "key_encoding": "sha1",
            "output": "hex",
        }

    connector = Connector(acme_variant(edit))
    body = json.dumps({"type": "payment.captured", "data": {"payment_id": "p"}}).encode()
    key = hashlib.sha1(b"private").digest()  # noqa: S324
    signature = hmac.new(key, body, hashlib.sha1).hexdigest()
    assert connector.parse_event(body, {"X-Sig": signature}, "private").events[0].verified


def test_a_webhooks_section_needs_a_signature_or_a_confirm() -> None:
    from engine import SpecError

    def edit(spec: dict[str, Any]) -> None:
        del spec["webhooks"]["signature"]

    with pytest.raises(SpecError) as caught:
        acme_variant(edit)
    assert any("give a signature, a confirm, or both" in p.message for p in caught.value.problems)


def test_a_structured_signature_in_the_body_keyed_by_a_setting() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"] = {
            "decode": "form",
            "signature": {
                "from": "sig",
                "parse": {
                    "pair_separator": "&",
                    "value_separator": "|",
                    "signature_key": "{{ credentials.region }}",
                },
                "message": "{{ item.payload }}",
                "algorithm": "sha1",
                "key_encoding": "sha1",
                "output": "hex",
            },
            "event": {
                "type": "'payment.captured'",
                "map": {"payment.captured": "payment.captured"},
            },
        }

    connector = Connector(acme_variant(edit))
    key = hashlib.sha1(b"private").digest()  # noqa: S324
    mac = hmac.new(key, b"PAYLOAD", hashlib.sha1).hexdigest()
    from urllib.parse import urlencode

    ours = urlencode({"sig": f"other|{'0' * 40}&us|{mac}", "payload": "PAYLOAD"}).encode()
    [event] = connector.parse_event(ours, {}, "private", credentials={"region": "us"}).events
    assert event.verified
    with pytest.raises(WebhookError):  # the matching pair belongs to another key name
        connector.parse_event(ours, {}, "private", credentials={"region": "eu"})


def _unsigned_claims(spec: dict[str, Any]) -> None:
    _unsigned(spec)
    spec["webhooks"]["event"]["fields"].update(
        {
            "amount": "amount",
            "currency": "currency",
            "reference": "reference",
            "connector_refund_id": "refund",
            "occurred_at": "at",
        }
    )


def test_a_confirmed_event_keeps_nothing_the_unsigned_body_claimed() -> None:
    def processor(request: httpx.Request) -> httpx.Response:
        body = {"id": "pay_1", "status": "captured", "amount": 1099, "currency": "USD"}
        return httpx.Response(200, json=body)

    http = httpx.Client(transport=httpx.MockTransport(processor))
    connector = Connector(acme_variant(_unsigned_claims))
    client = Client(connector, {"api_key": API_KEY}, http_client=http)
    forged = b"id=pay_1&amount=1&currency=JPY&reference=evil&refund=re_evil&at=1700000000"
    [claimed] = connector.parse_event(forged, {}, allow_unconfirmed=True).events
    assert (claimed.amount, claimed.reference, claimed.connector_refund_id) == (
        1,
        "evil",
        "re_evil",
    )
    [event] = client.handle_event(forged, {}).events
    # acme's get reads no amount: the event then has none, never the body's forged one.
    assert (event.amount, event.currency) == (None, None)
    assert event.type == "payment.captured" and event.connector_transaction_id == "pay_1"
    assert event.reference is None
    assert event.connector_refund_id is None
    assert event.occurred_at is None
