"""An OAuth2 processor through the service: one token per tenant however many calls, never one
tenant's token for another's, and the token cache counted in /metrics."""

from __future__ import annotations

import asyncio
import json

import pytest

from .conftest import API_KEY, Service, scenario

pytestmark = pytest.mark.asyncio

TOKEN = {
    "scope": "https://uri.paypal.com/services/payments/payment",
    "access_token": "A21AAFakeAccessTokenForServiceTests0000000000000000",
    "token_type": "Bearer",
    "app_id": "APP-80W284485P519543T",
    "expires_in": 32400,
    "nonce": "2026-12-03T12:00:00ZFakeNonce",
}


def _tenant(name: str) -> dict[str, str]:
    return {
        "client_id": f"A{name}ClientId_for-service-tests_000000000000000000000000000000000000",
        "client_secret": f"E{name}Secret_for-service-tests_0000000000000000000000000000000000",
    }


async def test_one_token_per_tenant_and_counted(service: Service) -> None:
    recorded = scenario("paypal", "authorize_card_automatic_captured")
    service.processor.answer(recorded)
    service.processor.routes["/v1/oauth2/token"] = (200, json.dumps(TOKEN).encode())

    async def pay(tenant: str) -> str:
        headers = {
            "Authorization": f"Bearer {API_KEY}",
            "X-Connector-Credentials": json.dumps(_tenant(tenant)),
            "X-Connector-Base-Url": service.processor.url,
        }
        response = await service.post("/v1/paypal/authorize", recorded["request"], headers=headers)
        assert response.status_code == 200, response.text
        assert TOKEN["access_token"] not in response.text
        status: str = response.json()["status"]
        return status

    statuses = await asyncio.gather(*(pay(t) for t in ["shopA"] * 6 + ["shopB"] * 6))
    statuses += [await pay("shopA"), await pay("shopB")]  # later calls: from the cache
    assert set(statuses) == {"captured"}
    token_requests = [r for r in service.processor.received if r.path == "/v1/oauth2/token"]
    assert len(token_requests) == 2  # one per tenant, however many concurrent calls
    payments = [r for r in service.processor.received if r.path != "/v1/oauth2/token"]
    assert len(payments) == 14
    assert {r.headers["Authorization"] for r in payments} == {f"Bearer {TOKEN['access_token']}"}
    metrics = (await service.http.get("/metrics")).text
    assert 'connector_service_token_cache_total{result="stored"} 2.0' in metrics
    assert 'connector_service_token_cache_total{result="hit"} 2.0' in metrics
