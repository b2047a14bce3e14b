"""Connector + credentials → Results over HTTP (httpx, sync and async). The only module that
does I/O: it generates idempotency keys, sends, enforces limits and maps transport failures."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self

import httpx

from ._connector import Connector, load_connector
from ._errors import NotSentError, WebhookError
from ._http import HttpRequest, HttpResponse
from ._parse import unresolved
from ._unified import READ_FLOWS, STATUS_EVENT, ErrorCode, Event, Result
from ._webhooks import WebhookResult

logger = logging.getLogger("engine")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-call limits. Timeouts are seconds; the response body is capped in bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    write_timeout: float = 30.0
    pool_timeout: float = 5.0
    max_response_bytes: int = 5 * 1024 * 1024

    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.write_timeout,
            pool=self.pool_timeout,
        )


class _ResponseTooLarge(Exception):
    pass


class _Base:
    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.connector = (
            connector if isinstance(connector, Connector) else load_connector(connector)
        )
        self._credentials = credentials or {}
        self.environment = environment
        self.base_url = base_url
        self.limits = limits or Limits()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.connector.id!r}, environment={self.environment!r})"

    def _prepare(self, flow: str, request: Mapping[str, Any]) -> tuple[dict[str, Any], HttpRequest]:
        prepared = dict(request)
        if flow not in READ_FLOWS and not prepared.get("idempotency_key"):
            prepared["idempotency_key"] = uuid.uuid4().hex
        built = self.connector.build_request(
            flow, prepared, self._credentials, environment=self.environment, base_url=self.base_url
        )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s request: %s", self.connector.id, flow, built.redacted())
        return prepared, built

    def _finish(
        self, flow: str, prepared: Mapping[str, Any], built: HttpRequest, response: HttpResponse
    ) -> Result:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s response: HTTP %s %s",
                self.connector.id,
                flow,
                response.status_code,
                built.scrubber.text(response.body.decode("utf-8", "replace")),
            )
        return self.connector.parse_response(
            flow, prepared, response, idempotency_key=prepared.get("idempotency_key")
        )

    def _parse_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None
    ) -> WebhookResult:
        return self.connector.parse_event(
            body, headers, secret, credentials=self._credentials, allow_unconfirmed=True
        )

    @staticmethod
    def _confirm_request(event: Event) -> dict[str, Any]:
        if not event.connector_transaction_id:
            raise WebhookError("unreadable_body", "the event names no payment to confirm")
        return {"connector_transaction_id": event.connector_transaction_id}

    @staticmethod
    def _confirmed(event: Event, result: Result) -> Event:
        """The event as the processor's own answer about the payment states it."""
        if result.status not in STATUS_EVENT:
            raise WebhookError(
                "unconfirmed",
                f"the payment's status could not be read ({result.status}); let the processor "
                "deliver the event again",
            )
        return replace(
            event,
            type=str(STATUS_EVENT[result.status]),
            status=result.status,
            verified=True,
            amount=result.amount if result.amount is not None else event.amount,
            currency=result.currency or event.currency,
            reference=result.reference or event.reference,
        )

    def _transport_failure(self, flow: str, prepared: Mapping[str, Any], exc: Exception) -> Result:
        key = prepared.get("idempotency_key")
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            raise NotSentError(
                f"{self.connector.id} {flow}: could not connect ({type(exc).__name__}); "
                "nothing was sent"
            ) from None
        if isinstance(exc, _ResponseTooLarge):
            return unresolved(
                self.connector.plan,
                flow,
                ErrorCode.INVALID_RESPONSE,
                f"the response exceeded {self.limits.max_response_bytes} bytes",
                idempotency_key=key,
            )
        if isinstance(exc, httpx.DecodingError):  # e.g. a corrupt gzip body, after sending
            return unresolved(
                self.connector.plan,
                flow,
                ErrorCode.INVALID_RESPONSE,
                f"the response could not be decompressed ({type(exc).__name__})",
                idempotency_key=key,
            )
        if isinstance(exc, httpx.TimeoutException):
            return unresolved(
                self.connector.plan,
                flow,
                ErrorCode.TIMEOUT,
                f"no answer in time after the request was sent ({type(exc).__name__})",
                idempotency_key=key,
            )
        return unresolved(
            self.connector.plan,
            flow,
            ErrorCode.NETWORK_ERROR,
            f"the connection failed after the request was sent ({type(exc).__name__})",
            idempotency_key=key,
        )


def _response(raw: httpx.Response, body: bytes) -> HttpResponse:
    return HttpResponse(raw.status_code, dict(raw.headers), body)


class Client(_Base):
    """Sends a connector's flows over HTTP. Exceptions mean nothing was sent; any outcome after
    sending is a Result (possibly `unresolved`)."""

    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        limits: Limits | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            connector, credentials, environment=environment, base_url=base_url, limits=limits
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=self.limits.httpx_timeout(), follow_redirects=False
        )

    def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        prepared, built = self._prepare(flow, request)
        try:
            with self._http.stream(
                built.method, built.url, headers=dict(built.headers), content=built.body
            ) as raw:
                body = bytearray()
                for chunk in raw.iter_bytes():
                    body += chunk
                    if len(body) > self.limits.max_response_bytes:
                        raise _ResponseTooLarge
        except (httpx.TransportError, httpx.DecodingError, _ResponseTooLarge) as exc:
            return self._transport_failure(flow, prepared, exc)
        return self._finish(flow, prepared, built, _response(raw, bytes(body)))

    def authorize(self, request: Mapping[str, Any]) -> Result:
        return self.call("authorize", request)

    def complete_authorize(self, request: Mapping[str, Any]) -> Result:
        return self.call("complete_authorize", request)

    def capture(self, request: Mapping[str, Any]) -> Result:
        return self.call("capture", request)

    def void(self, request: Mapping[str, Any]) -> Result:
        return self.call("void", request)

    def refund(self, request: Mapping[str, Any]) -> Result:
        return self.call("refund", request)

    def get(self, request: Mapping[str, Any]) -> Result:
        return self.call("get", request)

    def get_refund(self, request: Mapping[str, Any]) -> Result:
        return self.call("get_refund", request)

    def setup_recurring(self, request: Mapping[str, Any]) -> Result:
        return self.call("setup_recurring", request)

    def charge_recurring(self, request: Mapping[str, Any]) -> Result:
        return self.call("charge_recurring", request)

    def handle_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None = None
    ) -> WebhookResult:
        """Verify and read a webhook delivery; where the spec says events are confirmed by a
        fetch (unsigned webhooks), run that flow for each event and report what it found."""
        result = self._parse_event(body, headers, secret)
        flow = self.connector.plan.webhooks.confirm_flow if self.connector.plan.webhooks else None
        if flow is None:
            return result
        confirmed = [
            self._confirmed(event, self.call(flow, self._confirm_request(event)))
            for event in result.events
        ]
        return replace(result, events=tuple(confirmed))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Base):
    """The asyncio twin of Client."""

    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        limits: Limits | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            connector, credentials, environment=environment, base_url=base_url, limits=limits
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=self.limits.httpx_timeout(), follow_redirects=False
        )

    async def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        prepared, built = self._prepare(flow, request)
        try:
            async with self._http.stream(
                built.method, built.url, headers=dict(built.headers), content=built.body
            ) as raw:
                body = bytearray()
                async for chunk in raw.aiter_bytes():
                    body += chunk
                    if len(body) > self.limits.max_response_bytes:
                        raise _ResponseTooLarge
        except (httpx.TransportError, httpx.DecodingError, _ResponseTooLarge) as exc:
            return self._transport_failure(flow, prepared, exc)
        return self._finish(flow, prepared, built, _response(raw, bytes(body)))

    async def authorize(self, request: Mapping[str, Any]) -> Result:
        return await self.call("authorize", request)

    async def complete_authorize(self, request: Mapping[str, Any]) -> Result:
        return await self.call("complete_authorize", request)

    async def capture(self, request: Mapping[str, Any]) -> Result:
        return await self.call("capture", request)

    async def void(self, request: Mapping[str, Any]) -> Result:
        return await self.call("void", request)

    async def refund(self, request: Mapping[str, Any]) -> Result:
        return await self.call("refund", request)

    async def get(self, request: Mapping[str, Any]) -> Result:
        return await self.call("get", request)

    async def get_refund(self, request: Mapping[str, Any]) -> Result:
        return await self.call("get_refund", request)

    async def setup_recurring(self, request: Mapping[str, Any]) -> Result:
        return await self.call("setup_recurring", request)

    async def charge_recurring(self, request: Mapping[str, Any]) -> Result:
        return await self.call("charge_recurring", request)

    async def handle_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None = None
    ) -> WebhookResult:
        """The asyncio twin of Client.handle_event."""
        result = self._parse_event(body, headers, secret)
        flow = self.connector.plan.webhooks.confirm_flow if self.connector.plan.webhooks else None
        if flow is None:
            return result
        confirmed = [
            self._confirmed(event, await self.call(flow, self._confirm_request(event)))
            for event in result.events
        ]
        return replace(result, events=tuple(confirmed))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
