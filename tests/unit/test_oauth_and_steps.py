"""Multi-step flows (create an order, then pay it) and OAuth2 client-credentials tokens: the
token is fetched once, reused from the cache, refreshed after a 401, and returned for stateless
callers without printing."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from engine import Client, Connector, CredentialsError, NotSentError
from engine._tokens import AccessToken, MemoryTokenCache

from .conftest import acme_variant, card_request

CREDS = {"client_id": "cid_123", "client_secret": "csecret_456"}


def _oauth_steps(spec: dict[str, Any]) -> None:
    spec["credentials"] = {
        "client_id": {"secret": False, "description": "OAuth client id."},
        "client_secret": {"secret": True, "description": "OAuth client secret."},
    }
    spec["environments"] = {
        "sandbox": "https://api.sandbox.acme-pay.com",
        "production": "https://api.acme-pay.com",
    }
    spec["auth"] = {
        "scheme": "oauth2_client_credentials",
        "token_path": "/v1/oauth2/token",
        "client_id": "{{ credentials.client_id }}",
        "client_secret": "{{ credentials.client_secret }}",
    }
    authorize = spec["flows"]["authorize"]
    authorize["steps"] = [
        {
            "name": "order",
            "request": {
                "method": "POST",
                "path": "/v1/orders",
                "body": {"amount": "{{ amount }}", "currency": "{{ request.currency }}"},
            },
            "response": {"error": {"code": "error.code", "message": "error.message"}},
        }
    ]
    authorize["request"] = {
        "method": "POST",
        "path": "/v1/orders/{{ steps.order.id }}/pay",
        "body": {"card": {"number": "{{ request.payment_method.card.number }}"}},
    }


class Processor:
    """A fake processor: counts token requests, checks bearer tokens, creates orders."""

    def __init__(self, *, reject_first_payment: bool = False, order_status: int = 200) -> None:
        self.tokens = 0
        self.seen: list[httpx.Request] = []
        self.reject_first_payment = reject_first_payment
        self.order_status = order_status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path == "/v1/oauth2/token":
            assert (
                request.headers["authorization"]
                == "Basic " + base64.b64encode(b"cid_123:csecret_456").decode()
            )
            assert request.content == b"grant_type=client_credentials"
            self.tokens += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok{self.tokens}",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                },
            )
        if request.url.path == "/v1/orders":
            if self.order_status != 200:
                return httpx.Response(
                    self.order_status, json={"error": {"code": "bad", "message": "no"}}
                )
            return httpx.Response(200, json={"id": "ord_1"})
        if self.reject_first_payment and request.headers["authorization"] == "Bearer stale":
            return httpx.Response(401, json={"error": {"code": "expired"}})
        assert request.url.path == "/v1/orders/ord_1/pay"
        return httpx.Response(
            200, json={"id": "pay_1", "status": "approved", "amount": 1099, "currency": "USD"}
        )


def _client(processor: Processor, cache: MemoryTokenCache, **kwargs: Any) -> Client:
    connector = Connector(acme_variant(_oauth_steps))
    http = httpx.Client(transport=httpx.MockTransport(processor))
    return Client(connector, CREDS, http_client=http, token_cache=cache, **kwargs)


def test_token_then_two_steps_and_the_token_is_reused() -> None:
    processor, cache = Processor(), MemoryTokenCache()
    first = _client(processor, cache).authorize(card_request())
    assert first.status == "captured" and first.connector_transaction_id == "pay_1"
    assert [r.url.path for r in processor.seen] == [
        "/v1/oauth2/token",
        "/v1/orders",
        "/v1/orders/ord_1/pay",
    ]
    assert processor.seen[1].headers["authorization"] == "Bearer tok1"
    second = _client(processor, cache).authorize(card_request())
    assert second.status == "captured"
    assert processor.tokens == 1  # reused from the cache


def test_the_result_returns_the_token_without_printing_it() -> None:
    result = _client(Processor(), MemoryTokenCache()).authorize(card_request())
    assert isinstance(result.access_token, AccessToken)
    assert "tok1" not in repr(result)
    assert "token" not in result.to_dict()["access_token"]
    assert result.to_dict(reveal_access_token=True)["access_token"]["token"] == "tok1"
    assert "tok1" not in json.dumps(result.to_dict())


def test_a_stateless_caller_passes_the_token_back() -> None:
    processor = Processor()
    token = AccessToken("tok_from_caller", 2e9)
    result = _client(processor, MemoryTokenCache(), access_token=token).authorize(card_request())
    assert result.status == "captured"
    assert processor.tokens == 0
    assert processor.seen[0].headers["authorization"] == "Bearer tok_from_caller"


def test_a_rejected_cached_token_is_refreshed_once() -> None:
    processor = Processor(reject_first_payment=True)
    cache = MemoryTokenCache()
    client = _client(processor, cache, access_token=AccessToken("stale", 2e9))
    result = client.authorize(card_request())
    assert result.status == "captured"
    assert processor.tokens == 1


def test_a_failed_step_fails_the_flow_without_paying() -> None:
    processor = Processor(order_status=422)
    result = _client(processor, MemoryTokenCache()).authorize(card_request())
    assert result.status == "failed"
    assert result.error is not None and "step 'order'" in result.error.message
    assert all(r.url.path != "/v1/orders/ord_1/pay" for r in processor.seen)


def test_refused_client_credentials_send_nothing_else() -> None:
    def processor(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/oauth2/token"
        return httpx.Response(401, json={"error": "invalid_client"})

    connector = Connector(acme_variant(_oauth_steps))
    http = httpx.Client(transport=httpx.MockTransport(processor))
    with pytest.raises(CredentialsError):
        Client(connector, CREDS, http_client=http, token_cache=MemoryTokenCache()).authorize(
            card_request()
        )


def test_an_unreachable_token_endpoint_is_not_sent() -> None:
    def processor(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    connector = Connector(acme_variant(_oauth_steps))
    http = httpx.Client(transport=httpx.MockTransport(processor))
    with pytest.raises(NotSentError):
        Client(connector, CREDS, http_client=http, token_cache=MemoryTokenCache()).authorize(
            card_request()
        )


def test_sans_io_steps() -> None:
    connector = Connector(acme_variant(_oauth_steps))
    assert connector.request_count("authorize") == 2
    first = connector.build_request("authorize", card_request(), CREDS, access_token="t")
    assert first.url.endswith("/v1/orders")
    answer = connector.parse_step("authorize", 0, card_request(), _response({"id": "ord_9"}))
    second = connector.build_request(
        "authorize", card_request(), CREDS, step=1, steps={"order": answer}, access_token="t"
    )
    assert second.url.endswith("/v1/orders/ord_9/pay")
    with pytest.raises(CredentialsError):
        connector.build_request("authorize", card_request(), CREDS)  # no token given


def _response(body: Any) -> Any:
    from engine import HttpResponse

    return HttpResponse(200, {}, json.dumps(body).encode())
