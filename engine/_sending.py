"""HttpRequest → HttpResponse (or the transport exception) over httpx, sync and async, within a
call's Limits; and a transport exception → the call's Result, or NotSentError when nothing left."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from . import _log_scrub, _transport
from ._errors import NotSentError
from ._http import HttpRequest, HttpResponse
from ._parse import unresolved
from ._plan import ConnectorPlan
from ._unified import ErrorCode, Result


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-call limits. Timeouts are seconds; the response body is capped in bytes.

    `total_timeout` bounds the whole call — every request it sends (token, steps), every
    retry and every wait between them — so a processor that drips its answer a byte at a time
    cannot hold a call longer than that. `None` leaves a call bounded only per read."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    write_timeout: float = 30.0
    pool_timeout: float = 5.0
    total_timeout: float | None = 60.0
    max_response_bytes: int = 5 * 1024 * 1024

    def httpx_timeout(self, remaining: float | None = None) -> httpx.Timeout:
        """The per-operation timeouts, none longer than `remaining` seconds of the call."""
        return httpx.Timeout(**self.timeouts(remaining))

    def timeouts(self, remaining: float | None = None) -> dict[str, float]:
        """`httpx_timeout(remaining).as_dict()`, without building the Timeout (every send)."""
        cap = float("inf") if remaining is None else max(remaining, 0.0)
        return {
            "connect": min(self.connect_timeout, cap),
            "read": min(self.read_timeout, cap),
            "write": min(self.write_timeout, cap),
            "pool": min(self.pool_timeout, cap),
        }

    def deadline(self) -> float | None:
        """The monotonic time a call starting now must end by."""
        return None if self.total_timeout is None else time.monotonic() + self.total_timeout


def remaining(deadline: float | None) -> float | None:
    """Seconds left before `deadline` (None: no deadline)."""
    return None if deadline is None else deadline - time.monotonic()


ResponseTooLarge = _transport.ResponseTooLarge


class OutOfTime(Exception):
    """The call's total time limit ran out while a request was in flight."""


class NoTimeLeft(Exception):
    """The call's total time limit ran out before a request was sent."""


class NotAnHttpStatus(Exception):
    """The answer's status line named a code the HTTP parser refuses (99, 1000)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


#: What a send returns as the outcome (instead of raising) once the request may have left.
TRANSPORT_FAILURES = (
    httpx.TransportError,
    httpx.DecodingError,
    ResponseTooLarge,
    OutOfTime,
    _transport.UndecodableResponse,
)


def _exact_request(built: HttpRequest, limits: Limits, left: float | None) -> httpx.Request:
    """The request exactly as built: no default headers, cookies, params or auth of the
    httpx client it goes through (a shared client must not carry one call's, or one tenant's,
    state into another)."""
    return httpx.Request(
        built.method,
        built.url,
        headers=_outgoing_headers(built),
        content=built.body,
        extensions={"timeout": limits.timeouts(left)},
    )


@contextlib.contextmanager
def _exactly(
    http: httpx.Client, built: HttpRequest, limits: Limits, left: float | None
) -> Iterator[httpx.Response]:
    response = http.send(
        _exact_request(built, limits, left), stream=True, auth=None, follow_redirects=False
    )
    try:
        yield response
    finally:
        response.close()


@contextlib.asynccontextmanager
async def _exactly_async(
    http: httpx.AsyncClient, built: HttpRequest, limits: Limits, left: float | None
) -> AsyncIterator[httpx.Response]:
    response = await http.send(
        _exact_request(built, limits, left), stream=True, auth=None, follow_redirects=False
    )
    try:
        yield response
    finally:
        await response.aclose()


@contextlib.contextmanager
def _in_flight(built: HttpRequest, deadline: float | None) -> Iterator[None]:
    """The exchange's context for the layers below: its deadline (the network backends), the
    status line seen (send tells a refused code from a broken connection), and the scrubber
    httpx/httpcore log records go through meanwhile."""
    token = _transport.DEADLINE.set(deadline)
    line = _transport.STATUS_LINE.set(None)
    scrubbing = _log_scrub.scrub_logs_with(built.scrubber)
    try:
        yield
    finally:
        _log_scrub.IN_FLIGHT.reset(scrubbing)
        _transport.STATUS_LINE.reset(line)
        _transport.DEADLINE.reset(token)


def send(
    http: httpx.Client, built: HttpRequest, limits: Limits, deadline: float | None
) -> HttpResponse | Exception:
    """Send `built` with `http`: its answer, read within `limits` and before `deadline`, or the
    exception that ended it (a LocalFailure when it failed on this side before any byte left)."""
    left = remaining(deadline)
    if left is not None and left <= 0:
        return NoTimeLeft()
    answered = False
    with _in_flight(built, deadline):  # still set while a failure is classified
        try:
            with _exactly(http, built, limits, left) as raw:
                answered = True
                owner = _transport.owner_of(http, raw)
                decoder = _decoder(raw, limits)
                for chunk in _raw_chunks(raw):
                    decoder.feed(chunk)
                    _check_chunk(decoder.body, limits, deadline)
                body = decoder.finish()
                _transport.close_if_doubtful(owner, raw)
        except TRANSPORT_FAILURES as exc:
            return _timed_out(_refused_status(exc), deadline)
        except Exception as exc:
            return exc if answered else _transport.LocalFailure(type(exc).__name__)
    return _response(raw, body)


async def send_async(
    http: httpx.AsyncClient, built: HttpRequest, limits: Limits, deadline: float | None
) -> HttpResponse | Exception:
    """The asyncio twin of send."""
    left = remaining(deadline)
    if left is not None and left <= 0:
        return NoTimeLeft()
    answered = False
    with _in_flight(built, deadline):  # still set while a failure is classified
        try:
            async with _exactly_async(http, built, limits, left) as raw:
                answered = True
                owner = _transport.owner_of(http, raw)
                decoder = _decoder(raw, limits)
                if not raw.is_stream_consumed:
                    async for chunk in raw.aiter_raw():
                        decoder.feed(chunk)
                        _check_chunk(decoder.body, limits, deadline)
                body = decoder.finish()
                _transport.close_if_doubtful(owner, raw)
        except TRANSPORT_FAILURES as exc:
            return _timed_out(_refused_status(exc), deadline)
        except Exception as exc:
            return exc if answered else _transport.LocalFailure(type(exc).__name__)
    return _response(raw, body)


def transport_failure(
    plan: ConnectorPlan, flow: str, prepared: Mapping[str, Any], exc: Exception, limits: Limits
) -> Result:
    """The Result of a request a transport exception ended, or NotSentError when that
    exception means nothing was sent."""
    key = prepared.get("idempotency_key")
    if isinstance(exc, _transport.LocalFailure | httpx.LocalProtocolError):
        # Raised on this side before any byte left (a bad URL, header text h11 or the
        # encoder refuses, a closed client): only the class is named, its text may hold
        # a secret.
        kind = exc.kind if isinstance(exc, _transport.LocalFailure) else type(exc).__name__
        raise NotSentError(
            f"{plan.id} {flow}: the request could not be sent ({kind}); nothing was sent"
        ) from None
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        raise NotSentError(
            f"{plan.id} {flow}: could not connect ({type(exc).__name__}); nothing was sent"
        ) from None
    if isinstance(exc, NoTimeLeft):
        raise NotSentError(
            f"{plan.id} {flow}: the call's total time limit "
            f"({limits.total_timeout}s) ran out before the request was sent"
        ) from None
    if isinstance(exc, OutOfTime):
        code: str = ErrorCode.TIMEOUT
        message = (
            f"the call's total time limit ({limits.total_timeout}s) ran out after the "
            "request was sent"
        )
    elif isinstance(exc, NotAnHttpStatus):
        code = ErrorCode.INVALID_RESPONSE
        message = (
            f"HTTP status {exc.code} is not an HTTP status"
            if exc.code
            else "the answer's status line names no HTTP status"
        )
    elif isinstance(exc, ResponseTooLarge):
        code = ErrorCode.INVALID_RESPONSE
        message = f"the response exceeded {limits.max_response_bytes} bytes"
    elif isinstance(exc, httpx.DecodingError | _transport.UndecodableResponse):
        code = ErrorCode.INVALID_RESPONSE
        message = f"the response could not be decompressed ({type(exc).__name__})"
    elif isinstance(exc, httpx.TimeoutException):
        code = ErrorCode.TIMEOUT
        message = f"no answer in time after the request was sent ({type(exc).__name__})"
    else:
        code = ErrorCode.NETWORK_ERROR
        message = f"the connection failed after the request was sent ({type(exc).__name__})"
    return unresolved(plan, flow, code, message, idempotency_key=key, request=prepared)


def _check_chunk(body: bytearray, limits: Limits, deadline: float | None) -> None:
    if len(body) > limits.max_response_bytes:
        raise ResponseTooLarge
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime


def _decoder(raw: httpx.Response, limits: Limits) -> _transport.BoundedDecoder:
    if raw.is_stream_consumed:
        # A response a custom transport built already read (httpx.MockTransport): its
        # bytes are decoded; only their size is left to check.
        decoder = _transport.BoundedDecoder([], limits.max_response_bytes)
        decoder.feed(raw.content)
        return decoder
    codings = raw.headers.get_list("content-encoding", split_commas=True)
    return _transport.BoundedDecoder(codings, limits.max_response_bytes)


def _raw_chunks(raw: httpx.Response) -> Iterator[bytes]:
    return iter(()) if raw.is_stream_consumed else raw.iter_raw()


def _outgoing_headers(built: HttpRequest) -> dict[str, str]:
    # Only codings the engine decodes with bounded output are offered.
    headers = {k: v for k, v in built.headers.items() if k.lower() != "accept-encoding"}
    headers["Accept-Encoding"] = _transport.ACCEPT_ENCODING
    return headers


def _refused_status(exc: Exception) -> Exception:
    """A protocol error about the answer's status line (a code no HTTP status has) is the
    answer's doing, not the connection's: an invalid response, as status 600 is."""
    if isinstance(exc, httpx.RemoteProtocolError):
        code = _transport.refused_status(_transport.STATUS_LINE.get())
        if code is not None:
            return NotAnHttpStatus(code)
    return exc


def _timed_out(exc: Exception, deadline: float | None) -> Exception:
    """A read or write that timed out because the call's deadline (not the per-operation
    timeout) ran out is the total time limit's doing."""
    timed_out = isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout)
    if timed_out and deadline is not None and deadline - time.monotonic() < 0.05:
        return OutOfTime()
    return exc


def _response(raw: httpx.Response, body: bytes) -> HttpResponse:
    return HttpResponse(raw.status_code, dict(raw.headers), body)
