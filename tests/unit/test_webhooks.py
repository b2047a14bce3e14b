"""engine._webhooks: body + headers + secret → verified events, or WebhookError. Expected
signatures are computed here with hmac/hashlib directly, independently of engine._signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from engine._errors import UnsupportedError, WebhookError
from engine._plan import ConnectorPlan
from engine._unified import Event
from engine._webhooks import REJECTIONS, WebhookResult, parse_event

from .conftest import WEBHOOK_SECRET, acme_variant

NOW = 1_700_000_000
EVENT = {
    "id": "evt_1",
    "type": "payment.captured",
    "data": {"payment_id": "pay_1", "amount": 1099, "currency": "USD"},
}


def stripe_like(body: str, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def deliver(
    plan: ConnectorPlan, body: str, header: str, *, now: float = NOW, secret: str = WEBHOOK_SECRET
) -> WebhookResult:
    return parse_event(plan, body.encode(), {"acme-signature": header}, secret, now=now)


def rejection(
    plan: ConnectorPlan, body: bytes, headers: dict[str, str], secret: str, **kw: Any
) -> str:
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, body, headers, secret, **kw)
    assert caught.value.reason in REJECTIONS
    assert secret not in str(caught.value)
    return caught.value.reason


# --- a structured header: t=...,v1=...,v1=... ---------------------------------------------------


def test_a_signed_event_is_verified_and_read(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    result = deliver(acme, body, f"t={NOW},v1={stripe_like(body, NOW)}")
    assert result.events == (
        Event(
            connector="acme",
            type="payment.captured",
            connector_event_type="payment.captured",
            verified=True,
            status="captured",
            event_id="evt_1",
            connector_transaction_id="pay_1",
            amount=1099,
            currency="USD",
        ),
    )
    assert (result.acknowledge_status, result.acknowledge_body) == (200, "")
    assert result.acknowledge_content_type == "text/plain"


def test_the_header_name_is_case_insensitive(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    headers = {"ACME-SIGNATURE": f"t={NOW},v1={stripe_like(body, NOW)}"}
    assert len(parse_event(acme, body.encode(), headers, WEBHOOK_SECRET, now=NOW).events) == 1


def test_header_pairs_with_spaces_and_unknown_keys(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    header = f"t={NOW}, v0=ignored, v1={stripe_like(body, NOW)}, junk"
    assert deliver(acme, body, header).events[0].type == "payment.captured"


def test_several_signatures_one_valid(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    good = stripe_like(body, NOW)
    old = stripe_like(body, NOW, "whsec_rotated_out")
    assert deliver(acme, body, f"t={NOW},v1={old},v1={good}").events[0].event_id == "evt_1"
    assert deliver(acme, body, f"t={NOW},v1={good},v1={old}").events[0].event_id == "evt_1"
    assert deliver(acme, body, f"t={NOW},v1={good.upper()}").events[0].event_id == "evt_1"


def test_several_signatures_none_valid(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    header = f"t={NOW},v1={stripe_like(body, NOW, 'other')},v1={'0' * 64}"
    headers = {"Acme-Signature": header}
    assert rejection(acme, body.encode(), headers, WEBHOOK_SECRET, now=NOW) == "bad_signature"


def test_a_tampered_body_is_rejected(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    header = f"t={NOW},v1={stripe_like(body, NOW)}"
    tampered = body.replace("1099", "9999").encode()
    assert rejection(acme, tampered, {"Acme-Signature": header}, WEBHOOK_SECRET, now=NOW) == (
        "bad_signature"
    )


def test_the_timestamp_is_signed(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    header = f"t={NOW + 1},v1={stripe_like(body, NOW)}"
    assert rejection(acme, body.encode(), {"Acme-Signature": header}, WEBHOOK_SECRET, now=NOW) == (
        "bad_signature"
    )


@pytest.mark.parametrize("age", [0, 299, 300, -300])
def test_within_tolerance_is_accepted(acme: ConnectorPlan, age: int) -> None:
    body = json.dumps(EVENT)
    result = deliver(acme, body, f"t={NOW},v1={stripe_like(body, NOW)}", now=NOW + age)
    assert len(result.events) == 1


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_a_stale_or_future_timestamp_is_rejected(acme: ConnectorPlan, age: int) -> None:
    body = json.dumps(EVENT)
    headers = {"Acme-Signature": f"t={NOW},v1={stripe_like(body, NOW)}"}
    assert rejection(acme, body.encode(), headers, WEBHOOK_SECRET, now=NOW + age) == (
        "stale_timestamp"
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Acme-Signature": ""},
        {"Acme-Signature": f"t={NOW}"},
        {"Acme-Signature": "v1"},
        {"Other": "v1=abc"},
    ],
)
def test_a_missing_signature_is_rejected(acme: ConnectorPlan, headers: dict[str, str]) -> None:
    body = json.dumps(EVENT).encode()
    assert rejection(acme, body, headers, WEBHOOK_SECRET, now=NOW) == "missing_signature"


@pytest.mark.parametrize("stamp", ["", "t=", "t=soon,"])
def test_a_missing_timestamp_is_rejected_when_there_is_a_tolerance(
    acme: ConnectorPlan, stamp: str
) -> None:
    body = json.dumps(EVENT)
    headers = {"Acme-Signature": f"{stamp}v1={stripe_like(body, NOW)}"}
    assert rejection(acme, body.encode(), headers, WEBHOOK_SECRET, now=NOW) == "missing_signature"


def test_unknown_event_type(acme: ConnectorPlan) -> None:
    body = json.dumps({"id": "evt_2", "type": "payment.exploded", "data": {}})
    (event,) = deliver(acme, body, f"t={NOW},v1={stripe_like(body, NOW)}").events
    assert (event.type, event.connector_event_type, event.status) == (
        "unknown",
        "payment.exploded",
        None,
    )
    assert event.verified is True


def test_an_event_without_a_type_is_unknown(acme: ConnectorPlan) -> None:
    body = json.dumps({"id": "evt_3"})
    (event,) = deliver(acme, body, f"t={NOW},v1={stripe_like(body, NOW)}").events
    assert (event.type, event.connector_event_type) == ("unknown", "")


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"\xff\xfe{}", b"{", b"1" * 5000, b"[" * 100_000 + b"]" * 100_000],
)
def test_an_unreadable_body_is_rejected(acme: ConnectorPlan, body: bytes) -> None:
    headers = {"Acme-Signature": f"t={NOW},v1={'0' * 64}"}
    assert rejection(acme, body, headers, WEBHOOK_SECRET, now=NOW) == "unreadable_body"


def test_a_body_too_large_to_sign_is_rejected_as_unreadable(acme: ConnectorPlan) -> None:
    body = json.dumps({**EVENT, "padding": "x" * 1_100_000})
    headers = {"Acme-Signature": f"t={NOW},v1={stripe_like(body, NOW)}"}
    assert rejection(acme, body.encode(), headers, WEBHOOK_SECRET, now=NOW) == "unreadable_body"


def test_a_template_failing_on_an_odd_item_is_rejected_as_unreadable() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["event"]["fields"]["amount"] = "{{ item.data.amount * 100 - 1 }}"

    plan = acme_variant(edit)
    body = json.dumps({**EVENT, "data": {"amount": {"value": 1}}})
    headers = {"Acme-Signature": f"t={NOW},v1={stripe_like(body, NOW)}"}
    assert rejection(plan, body.encode(), headers, WEBHOOK_SECRET, now=NOW) == "unreadable_body"


def test_a_bom_before_the_json_is_tolerated(acme: ConnectorPlan) -> None:
    body = json.dumps(EVENT)
    headers = {"Acme-Signature": f"t={NOW},v1={stripe_like(body, NOW)}"}
    result = parse_event(acme, b"\xef\xbb\xbf" + body.encode(), headers, WEBHOOK_SECRET, now=NOW)
    assert result.events[0].event_id == "evt_1"


def test_a_connector_without_webhooks() -> None:
    plan = acme_variant(lambda spec: spec.pop("webhooks"))
    with pytest.raises(UnsupportedError, match="acme has no webhooks section"):
        parse_event(plan, b"{}", {}, WEBHOOK_SECRET)


# --- a single signature with a prefix, over the raw body ---------------------------------------

HEX_SECRET = "0b" * 20


def prefixed_plan() -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "header": "X-Acme-Hmac",
            "prefix": "sha512=",
            "message": "{{ body }}",
            "algorithm": "sha512",
            "key_encoding": "hex",
            "output": "hex",
        }

    return acme_variant(edit)


def test_a_signature_prefix() -> None:
    plan = prefixed_plan()
    body = json.dumps(EVENT)
    signature = hmac.new(bytes.fromhex(HEX_SECRET), body.encode(), hashlib.sha512).hexdigest()
    for header in (f"sha512={signature}", f"SHA512={signature}", f"  sha512={signature.upper()} "):
        result = parse_event(plan, body.encode(), {"X-Acme-Hmac": header}, HEX_SECRET)
        assert result.events[0].type == "payment.captured"


def test_a_missing_prefix_is_rejected() -> None:
    plan = prefixed_plan()
    body = json.dumps(EVENT)
    signature = hmac.new(bytes.fromhex(HEX_SECRET), body.encode(), hashlib.sha512).hexdigest()
    for header in (signature, f"sha256={signature}"):
        assert rejection(plan, body.encode(), {"X-Acme-Hmac": header}, HEX_SECRET) == (
            "bad_signature"
        )


@pytest.mark.parametrize("secret", ["zz" * 20, "abc", "whsec_not_hex"])
def test_a_secret_not_in_the_declared_encoding(secret: str) -> None:
    plan = prefixed_plan()
    body = json.dumps(EVENT).encode()
    assert rejection(plan, body, {"X-Acme-Hmac": "sha512=00"}, secret) == "bad_secret"


# --- signatures in the body, one per item -------------------------------------------------------

B64_SECRET = base64.b64encode(b"acme-item-key").decode("ascii")


def item_plan() -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"] = {
            "signature": {
                "from": "signature",
                "message": "{{ item.id }}:{{ item.data.amount }}:{{ item.type }}",
                "algorithm": "sha256",
                "key_encoding": "base64",
                "output": "base64",
            },
            "items": "notifications",
            "event": {
                "type": "type",
                "id": "id",
                "map": {"CAPTURE": "payment.captured", "REFUND": "refund.succeeded"},
                "fields": {"connector_transaction_id": "data.payment_id", "amount": "data.amount"},
            },
            "acknowledge": {"status": 202, "body": "[accepted]", "content_type": "text/plain"},
        }

    return acme_variant(edit)


def signed_item(
    event_id: str, kind: str, amount: int, key: bytes = b"acme-item-key"
) -> dict[str, Any]:
    message = f"{event_id}:{amount}:{kind}".encode()
    signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return {
        "id": event_id,
        "type": kind,
        "data": {"payment_id": "pay_9", "amount": amount},
        "signature": signature,
    }


def test_signatures_in_the_body_per_item() -> None:
    body = json.dumps(
        {"notifications": [signed_item("n1", "CAPTURE", 500), signed_item("n2", "REFUND", 200)]}
    )
    result = parse_event(item_plan(), body.encode(), {}, B64_SECRET)
    assert [(e.event_id, e.type, e.status, e.amount) for e in result.events] == [
        ("n1", "payment.captured", "captured", 500),
        ("n2", "refund.succeeded", "succeeded", 200),
    ]
    assert all(event.verified for event in result.events)


def test_acknowledge_values() -> None:
    body = json.dumps({"notifications": [signed_item("n1", "CAPTURE", 500)]})
    result = parse_event(item_plan(), body.encode(), {}, B64_SECRET)
    assert (
        result.acknowledge_status,
        result.acknowledge_body,
        result.acknowledge_content_type,
    ) == (
        202,
        "[accepted]",
        "text/plain",
    )
    assert result.to_dict()["acknowledge"] == {
        "status": 202,
        "body": "[accepted]",
        "content_type": "text/plain",
    }


def test_one_bad_item_rejects_the_whole_delivery() -> None:
    forged = signed_item("n2", "REFUND", 200, key=b"wrong-key")
    body = json.dumps({"notifications": [signed_item("n1", "CAPTURE", 500), forged]})
    assert rejection(item_plan(), body.encode(), {}, B64_SECRET) == "bad_signature"


def test_an_item_with_a_changed_amount_is_rejected() -> None:
    item = signed_item("n1", "CAPTURE", 500)
    item["data"]["amount"] = 50_000
    body = json.dumps({"notifications": [item]})
    assert rejection(item_plan(), body.encode(), {}, B64_SECRET) == "bad_signature"


@pytest.mark.parametrize("signature", [None, "", 5, ["x"]])
def test_an_item_without_a_signature_is_rejected(signature: Any) -> None:
    item = signed_item("n1", "CAPTURE", 500)
    item["signature"] = signature
    body = json.dumps({"notifications": [item]})
    assert rejection(item_plan(), body.encode(), {}, B64_SECRET) == "missing_signature"


@pytest.mark.parametrize("document", [{}, {"notifications": []}, {"notifications": "x"}, []])
def test_a_body_without_items_is_rejected(document: Any) -> None:
    body = json.dumps(document).encode()
    assert rejection(item_plan(), body, {}, B64_SECRET) == "unreadable_body"


def test_a_bad_base64_secret() -> None:
    body = json.dumps({"notifications": [signed_item("n1", "CAPTURE", 500)]}).encode()
    assert rejection(item_plan(), body, {}, "not base64!") == "bad_secret"


# --- settings the signature covers ---------------------------------------------------------------


def settings_signed_plan(*, default: str | None = None) -> ConnectorPlan:
    """Square-like: the message is a non-secret setting (the notification URL) and the body."""

    def edit(data: dict[str, Any]) -> None:
        data["credentials"]["notification_url"] = {
            "secret": False,
            "required": False,
            "description": "The webhook subscription's URL, as registered.",
            **({"default": default} if default is not None else {}),
        }
        data["webhooks"]["signature"] = {
            "header": "Acme-Signature",
            "message": "{{ credentials.notification_url }}{{ body }}",
            "algorithm": "sha256",
            "key_encoding": "utf8",
            "output": "base64",
        }

    return acme_variant(edit)


def url_signed(url: str, body: str) -> str:
    mac = hmac.new(WEBHOOK_SECRET.encode(), (url + body).encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def test_the_signature_knows_the_settings_it_reads() -> None:
    plan = settings_signed_plan()
    assert plan.webhooks is not None and plan.webhooks.signature is not None
    assert plan.webhooks.signature.settings == ("notification_url",)
    acme = acme_variant(lambda data: None)
    assert acme.webhooks is not None and acme.webhooks.signature is not None
    assert acme.webhooks.signature.settings == ()


def test_a_missing_setting_is_named_not_blamed_on_the_body() -> None:
    plan = settings_signed_plan()
    body = json.dumps(EVENT)
    url = "https://shop.example.com/hooks/acme"
    headers = {"Acme-Signature": url_signed(url, body)}
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, body.encode(), headers, WEBHOOK_SECRET)
    assert caught.value.reason == "missing_setting"
    assert "notification_url" in str(caught.value)
    result = parse_event(
        plan, body.encode(), headers, WEBHOOK_SECRET, credentials={"notification_url": url}
    )
    assert [e.connector_transaction_id for e in result.events] == ["pay_1"]


def test_a_setting_with_a_default_is_not_missing() -> None:
    url = "https://shop.example.com/hooks/default"
    plan = settings_signed_plan(default=url)
    body = json.dumps(EVENT)
    headers = {"Acme-Signature": url_signed(url, body)}
    assert len(parse_event(plan, body.encode(), headers, WEBHOOK_SECRET).events) == 1
