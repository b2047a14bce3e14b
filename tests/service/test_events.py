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
