"""X-Connector-Raw-Response: the processor's own answer in the Result's `raw`, only when asked;
scrubbed as the embedded Client scrubs it (the account's secret, the request's card data) and
bounded by the same limit; any value but true or false refused before sending."""

from __future__ import annotations

import json

import pytest

from engine._unified import RAW_BODY_LIMIT

from .conftest import AUTHORIZE, STRIPE_SECRET, Service, scenario

pytestmark = pytest.mark.asyncio

CAPTURED = scenario("stripe", "authorize_card_automatic_captured")


async def test_raw_is_never_there_unless_asked(service: Service) -> None:
    plain = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=service.headers())
    off = await service.post(
        "/v1/stripe/authorize",
        AUTHORIZE,
        headers=service.headers(**{"X-Connector-Raw-Response": "false"}),
    )
    for response in (plain, off):
        assert response.status_code == 200
        assert response.json()["status"] == "captured"
        assert "raw" not in response.json()


async def test_asked_for_the_result_carries_the_processors_answer(service: Service) -> None:
    headers = service.headers(**{"X-Connector-Raw-Response": "true"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "captured"
    raw = result["raw"]
    assert set(raw) == {"status_code", "headers", "body", "truncated"}
    assert raw["status_code"] == 200 and raw["truncated"] is False
    assert raw["headers"]["content-type"] == "application/json"
    assert json.loads(raw["body"]) == CAPTURED["response"]["body"]


async def test_raw_is_scrubbed_of_the_secret_and_the_card(service: Service) -> None:
    echoed = {
        **CAPTURED["response"]["body"],
        "description": f"key {STRIPE_SECRET} card 4242424242424242",
    }
    service.processor.body = json.dumps(echoed).encode()
    headers = service.headers(**{"X-Connector-Raw-Response": "true"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.json()["raw"]["body"].count("key ") == 1  # the body is there
    assert STRIPE_SECRET not in response.text
    assert "4242424242424242" not in response.text


async def test_raw_body_is_cut_at_the_limit(service: Service) -> None:
    big = {**CAPTURED["response"]["body"], "description": "x" * (RAW_BODY_LIMIT + 10)}
    service.processor.body = json.dumps(big).encode()
    headers = service.headers(**{"X-Connector-Raw-Response": "true"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    raw = response.json()["raw"]
    assert raw["truncated"] is True and len(raw["body"]) == RAW_BODY_LIMIT
    assert response.json()["status"] == "captured"  # the Result itself read the whole answer


@pytest.mark.parametrize("value", ["yes", "1", "TRUE please", ""])
async def test_any_other_value_is_refused_before_sending(service: Service, value: str) -> None:
    headers = service.headers(**{"X-Connector-Raw-Response": value})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.status_code == 400
    assert "X-Connector-Raw-Response" in response.json()["detail"]
    assert service.processor.received == []
