"""HTTP Signatures (draft-cavage, HMAC): computed here independently, as Cybersource documents
it, and compared with what the engine sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate
from typing import Any

from engine import Connector

from .conftest import acme_variant, card_request

SECRET = base64.b64encode(b"shared-secret-bytes").decode()
NOW = 1_700_000_000.0


def _signed(spec: dict[str, Any]) -> None:
    spec["credentials"] = {
        "merchant_id": {"secret": False, "description": "Merchant id."},
        "key_id": {"secret": False, "description": "Key id."},
        "shared_secret": {"secret": True, "description": "Base64 shared secret."},
    }
    spec["environments"] = {
        "sandbox": "https://apitest.acme-pay.com",
        "production": "https://api.acme-pay.com",
    }
    spec["auth"] = {
        "scheme": "http_signature",
        "key_id": "{{ credentials.key_id }}",
        "secret": "{{ credentials.shared_secret }}",
        "key_encoding": "base64",
        "algorithm": "sha256",
        "headers": {"v-c-merchant-id": "{{ credentials.merchant_id }}"},
    }


CREDS = {"merchant_id": "m1", "key_id": "k-1", "shared_secret": SECRET}


def _expected(method: str, target: str, body: bytes | None) -> dict[str, str]:
    date = formatdate(NOW, usegmt=True)
    lines = [
        ("host", "apitest.acme-pay.com"),
        ("date", date),
        ("(request-target)", f"{method} {target}"),
    ]
    headers = {"Host": "apitest.acme-pay.com", "Date": date, "v-c-merchant-id": "m1"}
    if body:
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        lines.append(("digest", digest))
        headers["Digest"] = digest
    lines.append(("v-c-merchant-id", "m1"))
    text = "\n".join(f"{k}: {v}" for k, v in lines)
    mac = hmac.new(base64.b64decode(SECRET), text.encode(), hashlib.sha256).digest()
    names = " ".join(k for k, _ in lines)
    headers["Signature"] = (
        f'keyid="k-1", algorithm="HmacSHA256", headers="{names}", '
        f'signature="{base64.b64encode(mac).decode()}"'
    )
    return headers


def test_post_is_signed_with_a_digest() -> None:
    connector = Connector(acme_variant(_signed))
    built = connector.build_request("authorize", card_request(), CREDS, now=NOW)
    for name, value in _expected("post", "/v1/payments", built.body).items():
        assert built.headers[name] == value, name
    assert SECRET not in repr(built)
    assert built.redacted()["headers"]["Signature"] == "[REDACTED]"


def test_get_is_signed_without_a_digest() -> None:
    connector = Connector(acme_variant(_signed))
    built = connector.build_request("get", {"connector_transaction_id": "p 1"}, CREDS, now=NOW)
    assert built.body is None
    assert built.headers == {**built.headers, **_expected("get", "/v1/payments/p%201", None)}
    assert "Digest" not in built.headers
