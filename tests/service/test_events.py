"""POST /v1/{connector}/events: a delivery forwarded as is, verified with the profile's webhook
secret; the unified events, or 400 with the engine's rejection reason."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
import yaml

from .conftest import API_KEY, WEBHOOK_SECRET, Service
from .fake_processor import SCENARIOS

pytestmark = pytest.mark.asyncio


def _delivery(secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    recorded = yaml.safe_load(
        (SCENARIOS / "stripe" / "webhooks" / "payment_intent_succeeded.yaml").read_text()
    )
    body = recorded["body_text"].encode()
    stamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"Stripe-Signature": f"t={stamp},v1={mac}", "Content-Type": "application/json"}


def _ours(profile: str | None = "shop") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if profile is not None:
        headers["X-Connector-Profile"] = profile
    return headers


async def test_a_signed_delivery_answers_its_events(service: Service) -> None:
    body, signed = _delivery()
    response = await service.http.post(
        "/v1/stripe/events", content=body, headers={**signed, **_ours()}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    [event] = answer["events"]
    assert event["type"] == "payment.captured"
    assert event["verified"] is True
    assert event["connector_transaction_id"] == "pi_3NlWh1SuLkdIwHu7ix1UPh74"
    assert answer["acknowledge"]["status"] == 200
    assert WEBHOOK_SECRET not in response.text


async def test_a_forged_delivery_is_400_with_the_reason(service: Service) -> None:
    body, forged = _delivery("whsec_someoneElse")
    response = await service.http.post(
        "/v1/stripe/events", content=body, headers={**forged, **_ours()}
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/webhook-rejected")
    assert problem["reason"] == "bad_signature"
    unsigned = await service.http.post("/v1/stripe/events", content=body, headers=_ours())
    assert unsigned.json()["reason"] == "missing_signature"


async def test_a_profile_is_required_and_must_fit(service: Service) -> None:
    body, signed = _delivery()
    response = await service.http.post(
        "/v1/stripe/events", content=body, headers={**signed, **_ours(None)}
    )
    assert response.status_code == 400
    response = await service.http.post(
        "/v1/stripe/events", content=body, headers={**signed, **_ours("other")}
    )
    assert response.status_code == 403
    response = await service.http.post(
        "/v1/stripe/events", content=body, headers={**signed, "X-Connector-Profile": "shop"}
    )
    assert response.status_code == 401


async def test_a_signed_acknowledgement_is_answered_rendered(processor: object) -> None:
    """Trustly's notification answer is a JSON-RPC response signed with the merchant's key: the
    service renders it with the profile's credentials and shows none of them."""
    import base64
    import json
    from dataclasses import replace as changed

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from engine._credentials import Secret
    from engine.service._config import Profile

    from ..connectors.scenarios import ROOT, credentials_for
    from .conftest import config, started

    creds = credentials_for("trustly")
    delivery = yaml.safe_load((ROOT / "trustly" / "webhooks" / "credit.yaml").read_text())
    secrets = {"password", "private_key"}
    profile = Profile(
        "shop",
        "trustly",
        "sandbox",
        {k: Secret(v) if k in secrets else v for k, v in creds.items()},
        Secret(delivery["secret"]),
    )
    settings = changed(config(), profiles={"shop": profile})
    app, http = await started(processor, settings)  # type: ignore[arg-type]
    try:
        response = await http.post(
            "/v1/trustly/events",
            content=delivery["body_text"].encode(),
            headers={"Content-Type": "application/json", **_ours()},
        )
    finally:
        await http.aclose()
        await app.state.service.stop()
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [e["type"] for e in answer["events"]] == ["payment.captured"]
    ack = answer["acknowledge"]
    assert ack["content_type"] == "application/json"
    result = json.loads(ack["body"])["result"]
    key = serialization.load_pem_private_key(creds["private_key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    text = (result["method"] + result["uuid"] + "statusOK").encode()
    sha1 = hashes.SHA1()  # noqa: S303 (Trustly's signature scheme)
    key.public_key().verify(base64.b64decode(result["signature"]), text, padding.PKCS1v15(), sha1)
    for secret in (creds["password"], json.dumps(creds["private_key"])[1:-1]):
        assert secret not in response.text
