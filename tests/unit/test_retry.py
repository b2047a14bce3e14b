"""RetryPolicy: retries happen only where they cannot charge twice."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from engine import AsyncClient, Client, Connector, NotSentError, RetryPolicy

from .conftest import API_KEY, acme_variant, card_request

POLICY = RetryPolicy(attempts=3, backoff=0.25, max_delay=5.0)
APPROVED = {"id": "pay_1", "status": "approved", "amount": 1099, "currency": "USD"}


def _connector(idempotent: bool) -> Connector:
    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["idempotency_key"] = idempotent

    return Connector(acme_variant(edit))


class Script:
    """Answers requests from a list; records what was sent."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _client(script: Script, idempotent: bool, slept: list[float]) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(script))
    return Client(
        _connector(idempotent),
        {"api_key": API_KEY},
        http_client=http,
        retry=POLICY,
        sleep=slept.append,
    )


def test_a_non_idempotent_authorize_is_never_sent_twice() -> None:
    slept: list[float] = []
    script = Script(httpx.ReadTimeout("late"), httpx.Response(200, json=APPROVED))
    result = _client(script, idempotent=False, slept=slept).authorize(card_request())
    assert result.status == "unresolved"
    assert len(script.sent) == 1 and slept == []


def test_an_idempotent_authorize_is_repeated_with_the_same_key() -> None:
    slept: list[float] = []
    script = Script(httpx.Response(503, text="busy"), httpx.Response(200, json=APPROVED))
    result = _client(script, idempotent=True, slept=slept).authorize(card_request())
    assert result.status == "captured"
    keys = {r.headers["idempotency-key"] for r in script.sent}
    assert len(script.sent) == 2 and len(keys) == 1
    assert slept == [0.25]


def test_nothing_sent_is_retried_and_finally_raised() -> None:
    slept: list[float] = []
    refused = httpx.ConnectError("refused")
    script = Script(refused, refused, refused)
    with pytest.raises(NotSentError):
        _client(script, idempotent=False, slept=slept).authorize(card_request())
    assert len(script.sent) == 3 and slept == [0.25, 0.5]


def test_rate_limited_honours_retry_after_up_to_the_cap() -> None:
    slept: list[float] = []
    script = Script(
        httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {"code": "rate"}}),
        httpx.Response(429, headers={"Retry-After": "120"}, json={"error": {"code": "rate"}}),
        httpx.Response(200, json=APPROVED),
    )
    result = _client(script, idempotent=False, slept=slept).authorize(card_request())
    assert result.status == "captured"
    assert slept == [2.0, 5.0]


def test_reads_are_retried_and_declines_are_not() -> None:
    slept: list[float] = []
    script = Script(httpx.Response(500, text="oops"), httpx.Response(200, json=APPROVED))
    result = _client(script, idempotent=False, slept=slept).get(
        {"connector_transaction_id": "pay_1"}
    )
    assert result.status == "authorized" and len(script.sent) == 2
    declined = {"id": "pay_2", "status": "declined", "error": {"code": "insufficient_funds"}}
    script = Script(httpx.Response(200, json=declined))
    assert (
        _client(script, idempotent=True, slept=slept).authorize(card_request()).status == "failed"
    )
    assert len(script.sent) == 1


def test_the_default_policy_never_retries() -> None:
    script = Script(httpx.Response(503, text="busy"))
    http = httpx.Client(transport=httpx.MockTransport(script))
    result = Client(_connector(True), {"api_key": API_KEY}, http_client=http).authorize(
        card_request()
    )
    assert result.status == "unresolved" and len(script.sent) == 1


@pytest.mark.asyncio
async def test_the_async_client_follows_the_same_policy() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    script = Script(httpx.ReadTimeout("late"), httpx.Response(200, json=APPROVED))
    http = httpx.AsyncClient(transport=httpx.MockTransport(script))
    client = AsyncClient(
        _connector(False), {"api_key": API_KEY}, http_client=http, retry=POLICY, sleep=sleep
    )
    result = await client.authorize(card_request())
    assert result.status == "unresolved" and len(script.sent) == 1 and slept == []
    await http.aclose()
