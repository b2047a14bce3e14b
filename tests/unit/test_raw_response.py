"""Result.raw (opt-in, Client(raw_response=True)): the processor's own answer, scrubbed like
every transcript, cookies left out, the body bounded; absent unless asked for."""

from __future__ import annotations

import json

import httpx
import pytest

from engine._client import AsyncClient, Client
from engine._connector import Connector
from engine._unified import RAW_BODY_LIMIT, Result

from .conftest import API_KEY, CARD_NUMBER, CVC, acme_variant, card_request

ECHO = {
    "id": "pay_1",
    "status": "approved",
    "amount": 1099,
    "currency": "USD",
    # A processor careless enough to echo the card and the key back.
    "debug": {"card": CARD_NUMBER, "cvc": CVC, "auth": API_KEY},
}


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json=ECHO,
        headers={"Set-Cookie": "session=abc123; HttpOnly", "X-Request-Id": "req_42"},
    )


def _client(raw: bool) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(_answer))
    return Client(
        Connector(acme_variant(lambda spec: None)),
        {"api_key": API_KEY},
        http_client=http,
        raw_response=raw,
    )


def test_the_raw_answer_is_scrubbed_and_drops_cookies() -> None:
    result = _client(True).authorize(card_request())
    assert result.status == "captured"
    raw = result.raw
    assert raw is not None and raw.status_code == 200 and not raw.truncated
    assert json.loads(raw.body)["id"] == "pay_1"
    for value in (CARD_NUMBER, CVC, API_KEY):
        assert value not in raw.body and value not in repr(result)
    assert "set-cookie" not in raw.headers and raw.headers["x-request-id"] == "req_42"
    data = result.to_dict()
    assert data["raw"]["status_code"] == 200
    assert Result.from_dict(data) == result


def test_without_asking_there_is_no_raw_answer_and_no_key() -> None:
    result = _client(False).authorize(card_request())
    assert result.raw is None and "raw" not in result.to_dict()


def test_a_long_body_is_cut_at_the_limit() -> None:
    big = {**ECHO, "padding": "x" * (RAW_BODY_LIMIT + 10)}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=big)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = Client(
        Connector(acme_variant(lambda spec: None)),
        {"api_key": API_KEY},
        http_client=http,
        raw_response=True,
    )
    raw = client.authorize(card_request()).raw
    assert raw is not None and raw.truncated and len(raw.body) == RAW_BODY_LIMIT


@pytest.mark.asyncio
async def test_the_async_client_carries_it_too() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
    client = AsyncClient(
        Connector(acme_variant(lambda spec: None)),
        {"api_key": API_KEY},
        http_client=http,
        raw_response=True,
    )
    raw = (await client.authorize(card_request())).raw
    assert raw is not None and CARD_NUMBER not in raw.body
