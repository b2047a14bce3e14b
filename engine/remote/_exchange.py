"""One remote call, sans I/O: the unified request → the service's HTTP request; the service's
answer (or the transport exception that ended it) → a Result, a WebhookResult, or the engine
exception its problem document stands for.

The money-safety rule of the whole client lives here: an exception means nothing was sent.
Only two things prove that: a failure before any byte could reach the service (no connection,
no pooled connection, a request this side refused to write), and a problem document of the
service's own types, which the service emits only before it sends anything. Everything else —
a read timeout or a reset after the request was written, a 502 from a proxy, a 200 whose body
is not a Result, the service's catch-all `internal` error — may hide a call the processor
acted on, so a flow gets an `unresolved` Result carrying the idempotency key generated here,
before sending (the caller can look the payment up, or resend with the same key)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .._errors import (
    ConnectorServiceError,
    InputError,
    NotSentError,
    RenderError,
    ServiceError,
    SpecError,
    UnsupportedError,
    WebhookError,
)
from .._unified import (
    FLOWS,
    READ_FLOWS,
    ErrorCode,
    ErrorInfo,
    PaymentStatus,
    Result,
    result_statuses,
)
from .._webhooks import WebhookResult
from ..service import _problems  # the table only: it imports without the service extra

PROBLEM_JSON = "application/problem+json"

#: Transport failures that happen before any byte of the request can reach the service: no
#: connection could be made or taken from the pool, or this side refused to write the request.
#: Every other failure (a read timeout, a reset, a write error) may follow a request the
#: service received.
NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)

#: Problem types the service emits without an engine exception behind them, that a caller of
#: the embedded Client knows as an engine exception: the same class, so switching is one line.
_AS_ENGINE = {"unknown-connector": UnsupportedError, "unknown-flow": UnsupportedError}

#: The catch-all type: the service also answers it for an error *after* a call returned (its
#: logging, its serialisation), so it cannot vouch that nothing was sent.
_CATCH_ALL = "internal"


@dataclass(frozen=True, slots=True)
class Call:
    """What one remote call is about: enough to build its request and to state an outcome the
    client could not learn (`request` is the unified request with its idempotency key; for a
    webhook delivery, empty)."""

    connector: str
    flow: str
    request: Mapping[str, Any]
    request_id: str

    @property
    def key(self) -> str | None:
        key = self.request.get("idempotency_key")
        return key if isinstance(key, str) else None


def keyed(flow: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """The request with an idempotency key generated here when absent (flows that may move
    money), so the key is known even when the service's answer is not."""
    if not isinstance(request, Mapping):
        raise InputError("/", "the request must be a JSON object")
    prepared = dict(request)
    if flow not in READ_FLOWS and prepared.get("idempotency_key") is None:
        prepared["idempotency_key"] = uuid.uuid4().hex
    return prepared


def new_request_id() -> str:
    return uuid.uuid4().hex


def body_of(request: Mapping[str, Any]) -> bytes:
    """The request as JSON bytes, or InputError (naming no value) when it is not JSON data."""
    try:
        text = json.dumps(request, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        raise InputError(
            "/",
            "the request is not JSON data (a value that is not a string, number, boolean, "
            "null, list or object, a non-string key, or NaN/infinity)",
        ) from None
    return text.encode("utf-8")


# --- outcomes --------------------------------------------------------------------------------


def failed_transport(call: Call, exc: Exception) -> Result:
    """The Result of a call a transport exception ended, or NotSentError when the exception
    proves nothing reached the service. Only the exception's class is named: its text may
    quote the request."""
    kind = type(exc).__name__
    if isinstance(exc, NOT_SENT):
        raise NotSentError(
            f"{call.connector} {call.flow}: could not reach the connector service ({kind}); "
            "nothing was sent"
        ) from None
    if isinstance(exc, httpx.TimeoutException):
        code: str = ErrorCode.TIMEOUT
        what = f"no answer from the connector service in time ({kind})"
    else:
        code = ErrorCode.NETWORK_ERROR
        what = f"the connection to the connector service failed after sending ({kind})"
    return unresolved(call, code, what)


def unresolved(call: Call, code: str, what: str) -> Result:
    """An outcome the client cannot know: the service may have received the request and the
    processor acted on it. It carries what resolving it needs (the key, the reference, the
    ids the request named). Resending is `retryable` only for a read: only the service knows
    whether the processor honours the key."""
    sent = call.request
    key = call.key
    hint = f" (or send it again with idempotency_key {key!r} where the processor honours keys)"
    message = (
        f"{what}; the service may have received the request, so its outcome is unknown: look "
        f"the payment up (get with its id, or find by reference){hint if key else ''}; the "
        f"service's log has the call under request id {call.request_id}"
    )
    return Result(
        flow=call.flow,
        connector=call.connector,
        status=str(PaymentStatus.UNRESOLVED),
        connector_transaction_id=_text(sent.get("connector_transaction_id")),
        connector_refund_id=_text(sent.get("connector_refund_id")),
        reference=_text(sent.get("reference")),
        idempotency_key=key,
        error=ErrorInfo(code=code, message=message, retryable=call.flow in READ_FLOWS),
    )


def read_result(call: Call, response: httpx.Response, *, raw_response: bool = False) -> Result:
    """The service's answer to a flow: its Result (HTTP 200), the exception its problem
    document stands for, or `unresolved` for any answer that proves neither. A `raw` the
    caller did not ask for is left out (raw_response: whether it was asked for)."""
    status = response.status_code
    problem = _problem(response)
    if problem is not None and problem.get("_slug") != _CATCH_ALL:
        raise problem_exception(problem, response)
    if status == 200 and problem is None:
        try:
            result = Result.from_dict(json.loads(response.content))
        except (ValueError, TypeError, KeyError, RecursionError):
            result = None
        if result is not None and _answers(call, result):
            return result if raw_response or result.raw is None else replace(result, raw=None)
        return unresolved(
            call, ErrorCode.INVALID_RESPONSE, "the connector service's answer is not a Result"
        )
    if problem is not None:
        what = "the connector service failed unexpectedly (problem type internal)"
    else:
        what = f"the connector service answered HTTP {status} without a problem document"
    return unresolved(call, ErrorCode.INVALID_RESPONSE, what)


def _answers(call: Call, result: Result) -> bool:
    """Whether `result` is an answer to `call`: its connector, its flow, a status it may have."""
    return (
        result.connector == call.connector
        and result.flow == call.flow
        and (call.flow not in FLOWS or result.status in result_statuses(call.flow))
    )


def read_events(call: Call, response: httpx.Response) -> WebhookResult:
    """The service's answer to a webhook delivery: its WebhookResult, or an exception (a
    delivery moves no money: an answer that cannot be read is `unconfirmed`, so the caller
    lets the processor deliver it again)."""
    problem = _problem(response)
    if problem is not None:
        raise problem_exception(problem, response)
    if response.status_code == 200:
        try:
            return WebhookResult.from_dict(json.loads(response.content))
        except (ValueError, TypeError, KeyError, RecursionError):
            pass
    raise WebhookError(
        "unconfirmed",
        f"the connector service's answer (HTTP {response.status_code}) could not be read: let "
        f"the processor deliver the event again (request id {call.request_id})",
    )


def failed_events(call: Call, exc: Exception) -> WebhookResult:
    """A webhook delivery a transport exception ended: NotSentError when nothing reached the
    service, else `unconfirmed` (let the processor deliver it again)."""
    if isinstance(exc, NOT_SENT):
        raise NotSentError(
            f"{call.connector} events: could not reach the connector service "
            f"({type(exc).__name__}); nothing was sent"
        ) from None
    raise WebhookError(
        "unconfirmed",
        f"no answer from the connector service ({type(exc).__name__}): let the processor "
        f"deliver the event again (request id {call.request_id})",
    )


# --- problem documents -----------------------------------------------------------------------


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's problem document when it is one of the service's own (its media type, a
    JSON object whose `type` is under the service's problem base), with `_slug` added; else
    None (a proxy's error page, or another hop's problem document, proves nothing)."""
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != PROBLEM_JSON:
        return None
    try:
        document = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    kind = document.get("type")
    if not isinstance(kind, str) or not kind.startswith(_problems.TYPE_BASE):
        return None
    return {**document, "_slug": kind.removeprefix(_problems.TYPE_BASE)}


def _field(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    return value if isinstance(value, str) else None


def _unprefixed(text: str, prefix: str | None) -> str:
    return text.removeprefix(f"{prefix}: ") if prefix else text


def _spec_error(detail: str, document: Mapping[str, Any]) -> SpecError:
    exc = SpecError([])  # the service reports the spec's problems in its log, not the answer
    exc.args = (detail,)
    return exc


#: How each engine exception is rebuilt from its problem document (its detail, the document).
_BUILDERS: Mapping[type[ConnectorServiceError], Callable[..., ConnectorServiceError]] = {
    InputError: lambda d, doc: InputError(_field(doc, "pointer") or "/", d),
    UnsupportedError: lambda d, doc: UnsupportedError(d, _field(doc, "pointer")),
    WebhookError: lambda d, doc: WebhookError(
        _field(doc, "reason") or "unreadable_body", _unprefixed(d, _field(doc, "reason"))
    ),
    RenderError: lambda d, doc: RenderError(
        _field(doc, "pointer") or "/", _unprefixed(d, _field(doc, "pointer"))
    ),
    SpecError: _spec_error,
}


def problem_exception(
    document: Mapping[str, Any], response: httpx.Response
) -> ConnectorServiceError:
    """The exception a problem document of the service stands for: the engine exception of
    its type in the service's table (with the document's pointer or reason), UnsupportedError
    for an unknown connector or flow (as the embedded Client raises), ServiceError for the
    service's own refusals and any type this client does not know. Each carries the
    service's `request_id` and the `problem_type` URI."""
    slug = str(document["_slug"])
    detail = _field(document, "detail") or _field(document, "title") or slug
    request_id = _field(document, "request_id") or response.headers.get("x-request-id")
    status = document.get("status")
    status = status if isinstance(status, int) and not isinstance(status, bool) else 0
    known = _problems.BY_SLUG.get(slug)
    cls = known.exception if known is not None else None
    cls = cls or _AS_ENGINE.get(slug)
    exc: ConnectorServiceError
    if cls is None:
        exc = ServiceError(
            str(document["type"]),
            status or response.status_code,
            detail,
            request_id=request_id,
            retry_after=_retry_after(response.headers.get("retry-after")),
        )
    elif cls in _BUILDERS:
        exc = _BUILDERS[cls](detail, document)
    else:
        exc = cls(detail)
    exc.request_id = request_id
    exc.problem_type = str(document["type"])
    return exc


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list | bool):
        return None
    return str(value)
