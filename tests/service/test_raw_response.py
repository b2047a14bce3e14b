"""X-Connector-Raw-Response: the processor's own answer in the Result's `raw`, only when asked;
scrubbed as the embedded Client scrubs it (the account's secret, the request's card data) and
bounded by the same limit; any value but true or false refused before sending."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from engine import AsyncRemoteClient, RemoteClient, UnsupportedError
from engine._unified import RAW_BODY_LIMIT, RawResponse

from .conftest import API_KEY, AUTHORIZE, STRIPE_SECRET, Service, scenario

CAPTURED = scenario("stripe", "authorize_card_automatic_captured")


@pytest.mark.asyncio
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


@pytest.mark.asyncio
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


@pytest.mark.asyncio
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


@pytest.mark.asyncio
async def test_raw_body_is_cut_at_the_limit(service: Service) -> None:
    big = {**CAPTURED["response"]["body"], "description": "x" * (RAW_BODY_LIMIT + 10)}
    service.processor.body = json.dumps(big).encode()
    headers = service.headers(**{"X-Connector-Raw-Response": "true"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    raw = response.json()["raw"]
    assert raw["truncated"] is True and len(raw["body"]) == RAW_BODY_LIMIT
    assert response.json()["status"] == "captured"  # the Result itself read the whole answer


@pytest.mark.asyncio
@pytest.mark.parametrize("value", ["yes", "1", "TRUE please", ""])
async def test_any_other_value_is_refused_before_sending(service: Service, value: str) -> None:
    headers = service.headers(**{"X-Connector-Raw-Response": value})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.status_code == 400
    assert "X-Connector-Raw-Response" in response.json()["detail"]
    assert service.processor.received == []


# --- the remote clients ------------------------------------------------------------------------


def _remote(service: Service, **options: Any) -> AsyncRemoteClient:
    return AsyncRemoteClient(
        "stripe",
        service_url="http://service",
        api_key=API_KEY,
        profile="shop",
        base_url=service.processor.url,
        http_client=service.http,
        **options,
    )


@pytest.mark.asyncio
async def test_the_async_remote_client_asks_only_when_told(service: Service) -> None:
    plain = await _remote(service).authorize(AUTHORIZE)
    assert plain.status == "captured" and plain.raw is None
    asked = await _remote(service, raw_response=True).authorize(AUTHORIZE)
    assert asked.status == "captured"
    assert isinstance(asked.raw, RawResponse) and asked.raw.status_code == 200
    assert json.loads(asked.raw.body) == CAPTURED["response"]["body"]


def _answering(document: dict[str, Any], seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=document)

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("asked", [False, True])
def test_the_remote_client_sends_the_header_only_when_told(asked: bool) -> None:
    raw = {"status_code": 200, "headers": {}, "body": "{}", "truncated": False}
    document = {"flow": "get", "connector": "stripe", "status": "captured", "raw": raw}
    seen: list[httpx.Request] = []
    client = RemoteClient(
        "stripe",
        {"api_key": STRIPE_SECRET},
        service_url="http://service",
        api_key=API_KEY,
        http_client=_answering(document, seen),
        raw_response=asked,
    )
    result = client.get({"connector_transaction_id": "pi_1"})
    assert seen[0].headers.get("X-Connector-Raw-Response") == ("true" if asked else None)
    # A raw the caller did not ask for (a misconfigured or newer service) is left out.
    assert (result.raw is not None) is asked


def test_raw_response_must_be_a_boolean() -> None:
    with pytest.raises(UnsupportedError, match="raw_response"):
        RemoteClient(
            "stripe",
            {"api_key": STRIPE_SECRET},
            service_url="http://service",
            api_key=API_KEY,
            raw_response="yes",  # type: ignore[arg-type]
        )
