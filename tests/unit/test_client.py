"""engine._client: sending over httpx (MockTransport only: no network). Exceptions mean nothing
was sent; anything after sending is a Result, `unresolved` when the outcome is unknown."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import engine._connector
from engine._client import AsyncClient, Client, Limits
from engine._connector import Connector
from engine._errors import CredentialsError, InputError, NotSentError
from engine._plan import ConnectorPlan
from engine._unified import Result

from .conftest import API_KEY, CARD_NUMBER, CVC, acme_variant, card_request

Handler = Callable[[httpx.Request], httpx.Response]
APPROVED = {"id": "pay_1", "status": "approved", "amount": 1099, "currency": "USD"}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=APPROVED)


def client(plan: ConnectorPlan, handler: Handler, limits: Limits | None = None) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Client(Connector(plan), {"api_key": API_KEY}, limits=limits, http_client=http)


def async_client(plan: ConnectorPlan, handler: Handler) -> AsyncClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncClient(Connector(plan), {"api_key": API_KEY}, http_client=http)


class Recorder:
    """A handler that records what was sent and answers with `answer`."""

    def __init__(self, answer: Handler = ok) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def raising(exc_type: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("simulated", request=request)

    return handler


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of parse_response through the Connector."""
    calls: list[int] = []
    real = engine._connector.parse_response

    def spy(*args: Any, **kwargs: Any) -> Result:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine._connector, "parse_response", spy)
    return calls


def test_a_successful_call(acme: ConnectorPlan) -> None:
    recorder = Recorder()
    with client(acme, recorder) as sender:
        result = sender.authorize(card_request(idempotency_key="idem-1"))
    assert (result.status, result.connector_transaction_id, result.amount) == (
        "captured",
        "pay_1",
        1099,
    )
    (sent,) = recorder.requests
    assert (sent.method, str(sent.url)) == ("POST", "https://eu-sandbox.acme-pay.com/v1/payments")
    assert sent.headers["X-Api-Key"] == API_KEY
    assert json.loads(sent.content)["source"]["number"] == CARD_NUMBER


# --- nothing sent: an exception ------------------------------------------------------------------


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_connect_failures_raise_not_sent(
    acme: ConnectorPlan, parsed: list[int], exc_type: type[httpx.TransportError]
) -> None:
    with pytest.raises(NotSentError) as caught, client(acme, raising(exc_type)) as sender:
        sender.authorize(card_request())
    assert str(caught.value) == (
        f"acme authorize: could not connect ({exc_type.__name__}); nothing was sent"
    )
    assert parsed == []


def test_invalid_input_is_refused_before_sending(acme: ConnectorPlan) -> None:
    recorder = Recorder()
    with pytest.raises(InputError), client(acme, recorder) as sender:
        sender.authorize(card_request(amount=-1))
    assert recorder.requests == []


# --- sent, outcome unknown: unresolved ----------------------------------------------------------


@pytest.mark.parametrize(
    ("exc_type", "code"),
    [
        (httpx.ReadTimeout, "timeout"),
        (httpx.WriteTimeout, "timeout"),
        (httpx.ReadError, "network_error"),
        (httpx.WriteError, "network_error"),
        (httpx.RemoteProtocolError, "network_error"),
    ],
)
@pytest.mark.parametrize("honoured", [False, True])
def test_failures_after_sending_are_unresolved(
    acme: ConnectorPlan, exc_type: type[httpx.TransportError], code: str, honoured: bool
) -> None:
    """Sending the same authorize again is safe only where the processor honours the key the
    request carried (acme's spec does not say it does; its variant does)."""

    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["idempotency_key"] = True

    plan = acme_variant(edit) if honoured else acme
    with client(plan, raising(exc_type)) as sender:
        result = sender.authorize(card_request(idempotency_key="idem-7"))
    assert result.status == "unresolved"
    assert result.error is not None
    assert (result.error.code, result.error.retryable) == (code, honoured)
    assert exc_type.__name__ in result.error.message
    assert result.idempotency_key == "idem-7"


class _BrokenStream(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b'{"id": "pay_1", '
        raise httpx.ReadError("connection reset")


def test_a_connection_lost_mid_body_is_unresolved(acme: ConnectorPlan) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_BrokenStream())

    with client(acme, handler) as sender:
        result = sender.authorize(card_request())
    assert (result.status, result.error.code) == ("unresolved", "network_error")  # type: ignore[union-attr]


def test_a_response_over_the_limit_is_unresolved(acme: ConnectorPlan, parsed: list[int]) -> None:
    body = json.dumps(APPROVED).encode()
    limits = Limits(max_response_bytes=len(body) - 1)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    with client(acme, handler, limits) as sender:
        result = sender.authorize(card_request())
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == "invalid_response"
    assert result.error.message == f"the response exceeded {len(body) - 1} bytes"
    assert parsed == []
    with client(acme, handler, Limits(max_response_bytes=len(body))) as sender:
        assert sender.authorize(card_request()).status == "captured"


def test_a_corrupt_compressed_body_is_unresolved(acme: ConnectorPlan) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip at all")

    with client(acme, handler) as sender:
        result = sender.authorize(card_request())
    assert (result.status, result.error.code) == ("unresolved", "invalid_response")  # type: ignore[union-attr]


def test_a_5xx_is_unresolved(acme: ConnectorPlan) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, content=b"<html>Service Unavailable</html>")

    with client(acme, handler) as sender:
        result = sender.authorize(card_request())
    assert (result.status, result.error.code, result.http_status) == (  # type: ignore[union-attr]
        "unresolved",
        "processor_unavailable",
        503,
    )


def test_redirects_are_not_followed(acme: ConnectorPlan) -> None:
    recorder = Recorder(
        lambda request: httpx.Response(302, headers={"Location": "https://evil.example/"})
    )
    with client(acme, recorder) as sender:
        result = sender.authorize(card_request())
    assert len(recorder.requests) == 1
    assert result.status == "unresolved"
    with Client(Connector(acme), {"api_key": API_KEY}) as owned:
        assert owned._http.follow_redirects is False


# --- idempotency keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flow", "request_"),
    [
        ("authorize", card_request()),
        ("capture", {"connector_transaction_id": "pay_1", "amount": 500, "currency": "USD"}),
        ("void", {"connector_transaction_id": "pay_1"}),
        ("refund", {"connector_transaction_id": "pay_1"}),
    ],
)
def test_an_idempotency_key_is_generated_for_mutating_flows(
    acme: ConnectorPlan, flow: str, request_: dict[str, Any]
) -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json={"status": "x"}))
    with client(acme, recorder) as sender:
        first = sender.call(flow, request_)
        second = sender.call(flow, request_)
    keys = [request.headers.get("Idempotency-Key") for request in recorder.requests]
    assert keys == [first.idempotency_key, second.idempotency_key]
    assert first.idempotency_key is not None
    assert len(first.idempotency_key) == 32
    assert first.idempotency_key != second.idempotency_key
    assert "idempotency_key" not in request_  # the caller's mapping is not modified


@pytest.mark.parametrize(
    ("flow", "request_"),
    [
        ("get", {"connector_transaction_id": "pay_1"}),
        ("get_refund", {"connector_refund_id": "re_1"}),
    ],
)
def test_no_idempotency_key_for_reads(
    acme: ConnectorPlan, flow: str, request_: dict[str, Any]
) -> None:
    recorder = Recorder(
        lambda request: httpx.Response(200, json={"id": "pay_1", "status": "approved"})
    )
    with client(acme, recorder) as sender:
        result = sender.call(flow, request_)
    assert "Idempotency-Key" not in recorder.requests[0].headers
    assert result.idempotency_key is None


def test_the_callers_key_is_kept(acme: ConnectorPlan) -> None:
    recorder = Recorder()
    with client(acme, recorder) as sender:
        result = sender.authorize(card_request(idempotency_key="order-42-attempt-1"))
        timed_out = client(acme, raising(httpx.ReadTimeout)).authorize(
            card_request(idempotency_key="order-42-attempt-2")
        )
    assert recorder.requests[0].headers["Idempotency-Key"] == "order-42-attempt-1"
    assert result.idempotency_key == "order-42-attempt-1"
    assert timed_out.idempotency_key == "order-42-attempt-2"


# --- logs ---------------------------------------------------------------------------------------


def test_debug_logs_never_hold_card_data_or_secrets(
    acme: ConnectorPlan, caplog: pytest.LogCaptureFixture
) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        # A processor that echoes everything it got: body, card data and key.
        source = json.loads(request.content or b"{}").get("source", {})
        message = f"card {source.get('number')} cvc {source.get('cvc')}"
        return httpx.Response(
            402,
            json={
                "error": {"code": "expired_card", "message": message},
                "echo": request.content.decode(),
                "key": request.headers["X-Api-Key"],
            },
        )

    caplog.set_level(logging.DEBUG)
    with client(acme, echo) as sender:
        result = sender.authorize(card_request(reference="order-1"))
        sender.get({"connector_transaction_id": "pay_1"})
    assert result.status == "failed"
    assert caplog.records, "the client logs requests and responses at DEBUG"
    assert any("order-1" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + (record.exc_text or "")
        for secret in (CARD_NUMBER, API_KEY, f'"{CVC}"', f"cvc {CVC}"):
            assert secret not in text, (secret, record.name, text)
    assert CARD_NUMBER not in repr(result)


def test_the_client_repr_hides_credentials(acme: ConnectorPlan) -> None:
    sender = client(acme, ok)
    assert repr(sender) == "Client('acme', environment='sandbox')"


# --- async ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_connect_error_raises_not_sent(acme: ConnectorPlan, parsed: list[int]) -> None:
    sender = async_client(acme, raising(httpx.ConnectError))
    async with sender:
        with pytest.raises(NotSentError):
            await sender.authorize(card_request())
    assert parsed == []


@pytest.mark.asyncio
async def test_async_read_timeout_is_unresolved(acme: ConnectorPlan) -> None:
    async with async_client(acme, raising(httpx.ReadTimeout)) as sender:
        result = await sender.authorize(card_request())
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == "timeout"
    assert result.idempotency_key is not None


@pytest.mark.asyncio
async def test_async_success_sends_the_generated_key(acme: ConnectorPlan) -> None:
    recorder = Recorder()
    async with async_client(acme, recorder) as sender:
        result = await sender.authorize(card_request())
        read = await sender.get({"connector_transaction_id": "pay_1"})
    assert result.status == "captured"
    assert recorder.requests[0].headers["Idempotency-Key"] == result.idempotency_key
    assert "Idempotency-Key" not in recorder.requests[1].headers
    assert read.idempotency_key is None


@pytest.mark.asyncio
async def test_async_response_over_the_limit_is_unresolved(acme: ConnectorPlan) -> None:
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 100))
    )
    sender = AsyncClient(
        Connector(acme),
        {"api_key": API_KEY},
        limits=Limits(max_response_bytes=99),
        http_client=http,
    )
    async with sender:
        result = await sender.authorize(card_request())
    assert (result.status, result.error.code) == ("unresolved", "invalid_response")  # type: ignore[union-attr]


# --- foreign exceptions while sending: nothing was sent ---------------------------------------


def test_a_closed_http_client_is_not_sent(acme: ConnectorPlan) -> None:
    http = httpx.Client(transport=httpx.MockTransport(ok))
    http.close()
    sender = Client(Connector(acme), {"api_key": API_KEY}, http_client=http)
    with pytest.raises(NotSentError) as caught:
        sender.authorize(card_request())
    assert "RuntimeError" in str(caught.value)


def test_a_url_httpx_would_refuse_is_refused_before_sending(acme: ConnectorPlan) -> None:
    recorder = Recorder()
    sender = client(acme, recorder)
    sender.base_url = "http://127.0.0.1:1/a\tb"  # set after the constructor checked it
    sender.allow_undeclared_host = True
    with pytest.raises(CredentialsError) as caught:
        sender.authorize(card_request())
    assert "base_url may hold printable ASCII only" in str(caught.value)
    assert "\t" not in str(caught.value) and recorder.requests == []


def test_a_header_h11_refuses_is_not_sent_and_names_only_the_class(acme: ConnectorPlan) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError("Illegal header value b'sk_secret'", request=request)

    with pytest.raises(NotSentError) as caught:
        client(acme, refuse).authorize(card_request())
    assert "LocalProtocolError" in str(caught.value)
    assert "sk_secret" not in str(caught.value)


def test_a_foreign_exception_text_never_reaches_the_message(acme: ConnectorPlan) -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise UnicodeEncodeError("ascii", "sk_live_secret", 0, 1, "bad")

    with pytest.raises(NotSentError) as caught:
        client(acme, explode).authorize(card_request())
    assert "UnicodeEncodeError" in str(caught.value)
    assert "sk_live_secret" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_request_changed_while_its_token_is_fetched_is_checked_again() -> None:
    # The client checks a request once before asking for a token; what it builds after that
    # pause is checked again, so a nested object the caller changed meanwhile is refused.
    import json
    import time
    from pathlib import Path

    import yaml

    from engine import Client, InputError
    from engine._tokens import AccessToken, TokenWanted

    folder = Path(__file__).parents[1] / "connectors" / "airwallex"
    scenario = yaml.safe_load(
        (folder / "scenarios" / "authorize_manual_requires_capture.yaml").read_text()
    )
    credentials = json.loads((folder / "credentials.json").read_text())
    request = scenario["request"]
    client = Client("airwallex", credentials)
    exchange = client._drive("authorize", request)
    assert isinstance(next(exchange), TokenWanted)
    request["currency"] = "usd"  # the top level was copied: this change is not seen
    request["payment_method"]["type"] = "not-a-type"  # shared with the caller
    with pytest.raises(InputError):
        exchange.send((AccessToken("tok", time.time() + 600), True))
    client.close()
