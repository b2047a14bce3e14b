"""Templated webhook acknowledgements (`webhooks.acknowledge` with `let` and `body` templates in
the `acknowledgement` context) and RSA webhook signatures (`signature.scheme: rsa`). Signatures
are computed here with hmac / `cryptography` directly, independently of the engine."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from engine import Client
from engine._errors import SpecError, WebhookError
from engine._spec import compile_text
from engine._webhooks import parse_event

from .conftest import WEBHOOK_SECRET, acme_dict, acme_variant

NOW = 1_700_000_000
EVENT = {"id": "evt_1", "type": "payment.captured", "data": {"payment_id": "pay_1"}}
API_KEY = "ak_test_AckSigningKey123"


def _stripe_like(body: str, now: int = NOW) -> dict[str, str]:
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{now}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"Acme-Signature": f"t={now},v1={mac}"}


def _with_ack(ack: dict[str, Any]) -> Any:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["acknowledge"] = ack

    return acme_variant(edit)


SIGNED_ACK = {
    "status": 200,
    "content_type": "application/json",
    "let": {"answer": {"status": "OK", "event": "{{ item.id }}"}},
    "body": {
        "answer": "{{ answer }}",
        "count": "{{ events | length }}",
        "signature": "{{ (answer | sorted_concat) | hmac(credentials.api_key, 'sha256') }}",
    },
}


def test_the_body_is_rendered_per_delivery_and_signed_with_a_secret_credential() -> None:
    plan = _with_ack(SIGNED_ACK)
    body = json.dumps(EVENT)
    result = parse_event(
        plan,
        body.encode(),
        _stripe_like(body),
        WEBHOOK_SECRET,
        now=NOW,
        credentials={"api_key": API_KEY},
    )
    assert result.acknowledge_content_type == "application/json"
    answer = json.loads(result.acknowledge_body)
    assert answer["answer"] == {"status": "OK", "event": "evt_1"}
    assert answer["count"] == 1
    expected = hmac.new(API_KEY.encode(), b"eventevt_1statusOK", hashlib.sha256).hexdigest()
    assert answer["signature"] == expected
    assert API_KEY not in json.dumps(result.to_dict())


def test_a_fixed_body_stays_as_written() -> None:
    plan = _with_ack({"status": 200, "body": "[OK]", "content_type": "text/plain"})
    body = json.dumps(EVENT)
    result = parse_event(plan, body.encode(), _stripe_like(body), WEBHOOK_SECRET, now=NOW)
    assert (result.acknowledge_status, result.acknowledge_body) == (200, "[OK]")


def test_without_the_credential_the_delivery_is_refused_by_name() -> None:
    plan = _with_ack(SIGNED_ACK)
    body = json.dumps(EVENT)
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, body.encode(), _stripe_like(body), WEBHOOK_SECRET, now=NOW)
    assert caught.value.reason == "missing_setting" and "api_key" in str(caught.value)


def test_a_bad_signature_is_refused_before_anything_is_signed() -> None:
    plan = _with_ack(SIGNED_ACK)
    body = json.dumps(EVENT)
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, body.encode(), _stripe_like(body + " "), WEBHOOK_SECRET, now=NOW)
    assert caught.value.reason == "bad_signature"


def test_a_failing_template_shows_no_secret() -> None:
    ack = {"status": 200, "body": "{{ credentials.api_key ~ item.nothing.deeper }}"}
    plan = _with_ack(ack)
    body = json.dumps(EVENT)
    with pytest.raises(WebhookError) as caught:
        parse_event(
            plan,
            body.encode(),
            _stripe_like(body),
            WEBHOOK_SECRET,
            now=NOW,
            credentials={"api_key": API_KEY},
        )
    assert caught.value.reason == "unreadable_body"
    assert API_KEY not in str(caught.value)


def test_an_answer_quoting_a_secret_is_scrubbed() -> None:
    plan = _with_ack({"status": 200, "body": "key={{ credentials.api_key }}"})
    body = json.dumps(EVENT)
    result = parse_event(
        plan,
        body.encode(),
        _stripe_like(body),
        WEBHOOK_SECRET,
        now=NOW,
        credentials={"api_key": API_KEY},
    )
    assert API_KEY not in result.acknowledge_body


def test_client_handle_event_passes_its_credentials() -> None:
    data = acme_dict()
    data["webhooks"]["acknowledge"] = SIGNED_ACK
    import yaml

    from engine._connector import Connector

    connector = Connector(compile_text(yaml.safe_dump(data, sort_keys=False)))
    body = json.dumps(EVENT)
    with Client(connector, {"api_key": API_KEY}) as client:
        # handle_event checks the timestamp against the real clock: signed as of now.
        headers = _stripe_like(body, int(time.time()))
        result = client.handle_event(body.encode(), headers, WEBHOOK_SECRET)
    assert json.loads(result.acknowledge_body)["answer"]["status"] == "OK"


def test_the_acknowledgement_context_is_checked_at_lint_time() -> None:
    with pytest.raises(SpecError, match="response"):
        _with_ack({"status": 200, "body": "{{ response.id }}"})
    with pytest.raises(SpecError, match="nope"):
        _with_ack({"status": 200, "body": "{{ credentials.nope }}"})


# --- scheme rsa -------------------------------------------------------------------------------

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def _rsa_plan(output: str = "base64", algorithm: str = "sha256") -> Any:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "scheme": "rsa",
            "header": "X-Rsa-Signature",
            "message": "{{ body }}",
            "algorithm": algorithm,
            "key_encoding": "utf8",
            "output": output,
        }

    return acme_variant(edit)


def _rsa(body: str, output: str = "base64", key: Any = KEY, algorithm: str = "sha256") -> str:
    hasher = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}[algorithm]()
    raw = key.sign(body.encode(), padding.PKCS1v15(), hasher)
    return raw.hex() if output == "hex" else base64.b64encode(raw).decode()


@pytest.mark.parametrize(("output", "algorithm"), [("base64", "sha256"), ("hex", "sha1")])
def test_an_rsa_signature_verifies_with_the_public_key(output: str, algorithm: str) -> None:
    plan = _rsa_plan(output, algorithm)
    body = json.dumps(EVENT)
    headers = {"X-Rsa-Signature": _rsa(body, output, algorithm=algorithm)}
    events = parse_event(plan, body.encode(), headers, PUBLIC_PEM).events
    assert [e.type for e in events] == ["payment.captured"] and events[0].verified


def test_an_rsa_signature_of_another_body_or_key_is_refused() -> None:
    plan = _rsa_plan()
    body = json.dumps(EVENT)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for signature in (_rsa(body + " "), _rsa(body, key=other), "not base64!", ""):
        with pytest.raises(WebhookError) as caught:
            parse_event(plan, body.encode(), {"X-Rsa-Signature": signature}, PUBLIC_PEM)
        assert caught.value.reason in ("bad_signature", "missing_signature")


def test_a_secret_that_is_no_public_key_is_bad_secret() -> None:
    plan = _rsa_plan()
    body = json.dumps(EVENT)
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, body.encode(), {"X-Rsa-Signature": _rsa(body)}, "whsec_plain")
    assert caught.value.reason == "bad_secret"


def test_an_rsa_key_encoding_other_than_utf8_is_a_spec_error() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "scheme": "rsa",
            "header": "X-Rsa-Signature",
            "message": "{{ body }}",
            "algorithm": "sha256",
            "key_encoding": "hex",
            "output": "base64",
        }

    with pytest.raises(SpecError, match="PEM"):
        acme_variant(edit)
