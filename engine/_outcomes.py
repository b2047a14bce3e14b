"""The written outcome tables: what each HTTP status and each fault of the processor (or of
the network) gives. engine._parse applies them; docs/outcomes.md is generated from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ._unified import ErrorCode

#: Unified error code implied by an HTTP status when the processor's code says nothing more.
HTTP_ERROR_CODES: Mapping[int, ErrorCode] = {
    400: ErrorCode.INVALID_REQUEST,
    401: ErrorCode.INVALID_CREDENTIALS,
    402: ErrorCode.CARD_DECLINED,
    403: ErrorCode.INVALID_CREDENTIALS,
    404: ErrorCode.NOT_FOUND,
    408: ErrorCode.TIMEOUT,
    409: ErrorCode.DUPLICATE_REQUEST,
    422: ErrorCode.INVALID_REQUEST,
    429: ErrorCode.RATE_LIMITED,
    500: ErrorCode.PROCESSOR_ERROR,
    502: ErrorCode.PROCESSOR_UNAVAILABLE,
    503: ErrorCode.PROCESSOR_UNAVAILABLE,
    504: ErrorCode.PROCESSOR_UNAVAILABLE,
}

#: HTTP statuses after which the processor may or may not have acted: always unresolved.
UNCERTAIN_HTTP = frozenset({408, 409}) | frozenset(range(500, 600))

#: 4xx statuses that are a definite refusal by themselves: the request was not acted on. Any
#: other 4xx (418, 460, 499: often a proxy's, not the processor's) is a refusal only when the
#: spec explains it — its `error.http_status` table, or a processor code its `map` knows.
DEFINITE_REFUSALS = frozenset(
    status for status in HTTP_ERROR_CODES if 400 <= status < 500 and status not in UNCERTAIN_HTTP
)

#: (situation, status, error code) — the written outcome table; docs are generated from it.
OUTCOMES: tuple[tuple[str, str, str], ...] = (
    (
        "invalid request, unsupported flow/method/currency, missing credentials, a field that "
        "changes the payment's meaning (external 3DS, exemption, stored credential, MOTO, MCC, "
        "save-method, a non-final capture: `x-refused-unless-read`) given to a spec that never "
        "reads it",
        "exception",
        "—",
    ),
    (
        "connection refused, DNS failure, connect timeout (nothing sent)",
        "exception (NotSentError)",
        "—",
    ),
    (
        "timeout or connection lost after the request was sent",
        "unresolved",
        "timeout / network_error",
    ),
    ("HTTP status outside 100-599", "unresolved", "invalid_response"),
    ("HTTP 5xx", "unresolved", "processor_error / processor_unavailable"),
    ("HTTP 408 or 409", "unresolved", "timeout / duplicate_request"),
    (
        "HTTP 4xx other than 400/401/402/403/404/422/429 that the spec does not explain (no "
        "`error.http_status` entry, no mapped processor code)",
        "unresolved",
        "by HTTP status, else processor_error",
    ),
    (
        "body that cannot be decoded (whatever the status, but for an empty 4xx body), or an "
        "unexpected shape",
        "unresolved",
        "invalid_response",
    ),
    ("2xx with a status value the spec does not map", "unresolved", "invalid_response"),
    (
        "HTTP 4xx (other than 408/409) or `error_when` true, on get / get_refund",
        "unresolved",
        "mapped code, else by HTTP status",
    ),
    (
        "HTTP 4xx (other than 408/409) or `error_when` true, on other flows",
        "failed",
        "mapped code, else by HTTP status",
    ),
    ("2xx whose status maps to failed (a decline)", "failed", "mapped decline code"),
    ("2xx whose status maps to anything else", "that status", "—"),
)

#: The outcome column for "an exception was raised: NotSentError, nothing was sent".
NOT_SENT = "NotSentError"
#: The outcome column for "what the answer itself says", as if nothing had gone wrong.
AS_ANSWERED = "as answered"
#: The outcome column where a fault cannot happen (an id echo on an answer nothing checks).
NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    """What one fault of the processor (or of the network in between) gives. `status` is for
    flows that may move money, `read_status` for get / get_refund; `earlier_step` when the
    fault hits a step before the flow's own request (those steps move no money);
    `token_request` when it hits the OAuth2 token request (the payment request is then never
    sent). `bodyless_status` replaces `status` for a flow whose spec reads no body from a 2xx
    (`decode: none` or `text`, the status a constant): any 2xx is then the answer."""

    situation: str
    status: str
    code: str | None
    read_status: str
    earlier_step: str
    token_request: str
    bodyless_status: str | None = None


def _sent(situation: str, code: str, status: str = "unresolved") -> FaultOutcome:
    """A fault after the request may have reached the processor."""
    read = "unresolved"
    return FaultOutcome(situation, status, code, read, "failed", NOT_SENT)


def _unreadable(situation: str) -> FaultOutcome:
    """A 2xx whose body cannot be read: unknown, unless the flow reads no body at all."""
    return replace(_sent(situation, ErrorCode.INVALID_RESPONSE), bodyless_status=AS_ANSWERED)


#: The fault table: every fault the fault-injecting test server (tests/faults) can act out, by
#: name, and its outcome. docs/outcomes.md renders it; the fault tests derive every expectation
#: from it.
FAULTS: Mapping[str, FaultOutcome] = {
    "refuse": FaultOutcome(
        "the connection is refused (nobody listens)", NOT_SENT, None, NOT_SENT, NOT_SENT, NOT_SENT
    ),
    "close_without_reading": _sent(
        "the connection is accepted, then closed before the request is read",
        ErrorCode.NETWORK_ERROR,
    ),
    "hold_before_reading": _sent(
        "the connection is accepted; the request is never read or answered (read timeout)",
        ErrorCode.TIMEOUT,
    ),
    "hold_after_reading": _sent(
        "the request is read, then never answered (read timeout)", ErrorCode.TIMEOUT
    ),
    "reset_mid_response": _sent(
        "the status line, headers and half the body arrive, then a reset (RST)",
        ErrorCode.NETWORK_ERROR,
    ),
    "http_500": _sent("HTTP 500 with a plain-text body", ErrorCode.PROCESSOR_ERROR),
    "http_502": _sent("HTTP 502 with a plain-text body", ErrorCode.PROCESSOR_UNAVAILABLE),
    "http_503": _sent("HTTP 503 with a plain-text body", ErrorCode.PROCESSOR_UNAVAILABLE),
    "http_504": _sent("HTTP 504 with a plain-text body", ErrorCode.PROCESSOR_UNAVAILABLE),
    "http_429": _sent(
        "HTTP 429 with `Retry-After` and no body (refused without acting)",
        ErrorCode.RATE_LIMITED,
        status="failed",
    ),
    "html_5xx": _sent("an HTML error page with HTTP 502", ErrorCode.PROCESSOR_UNAVAILABLE),
    "html_200": _unreadable("an HTML page with the real answer's 2xx status"),
    "truncated_body": _unreadable("the real success body cut in half (JSON or XML)"),
    "wrong_content_type": FaultOutcome(
        "the real success body labelled `text/html` (the spec, not the header, says how to "
        "read a body)",
        AS_ANSWERED,
        None,
        AS_ANSWERED,
        AS_ANSWERED,
        AS_ANSWERED,
    ),
    "empty_body": _unreadable("the real answer's 2xx status with an empty body"),
    "http_600": _sent(
        "the real success body with HTTP status 600 (outside 100-599: not an HTTP status)",
        ErrorCode.INVALID_RESPONSE,
    ),
    "http_99": _sent(
        "the real success body with HTTP status 99 (not three digits: the HTTP parser refuses "
        "the status line, and the engine reads why)",
        ErrorCode.INVALID_RESPONSE,
    ),
    "http_1000": _sent(
        "the real success body with HTTP status 1000 (refused by the HTTP parser, as 99)",
        ErrorCode.INVALID_RESPONSE,
    ),
    "another_id": FaultOutcome(
        "the real answer naming another payment or refund than the request's (its id "
        "changed where `response.echo` reads it; checked on the flow's own answer, not on "
        "steps' answers)",
        "unresolved",
        ErrorCode.INVALID_RESPONSE,
        "unresolved",
        NOT_APPLICABLE,
        NOT_APPLICABLE,
    ),
    "oversized_body": _sent("a body over `Limits.max_response_bytes`", ErrorCode.INVALID_RESPONSE),
    "slow_drip": _sent(
        "headers, then a byte every 50 ms, forever (only `Limits.total_timeout` ends it)",
        ErrorCode.TIMEOUT,
    ),
}


#: Declines by class: `hard` — this card must not be tried again for this payment (the issuer
#: said the card is lost, stolen, closed or wrong); `soft` — a later or different attempt may
#: succeed (funds, limits, a generic refusal). Other failures (errors, not declines) have none.
HARD_DECLINES = frozenset(
    {
        ErrorCode.LOST_OR_STOLEN_CARD,
        ErrorCode.SUSPECTED_FRAUD,
        ErrorCode.EXPIRED_CARD,
        ErrorCode.INCORRECT_NUMBER,
        ErrorCode.INVALID_EXPIRY_DATE,
        ErrorCode.INCORRECT_CVC,
        ErrorCode.INCORRECT_ADDRESS,
        ErrorCode.AUTHENTICATION_FAILED,
    }
)
SOFT_DECLINES = frozenset(
    {
        ErrorCode.CARD_DECLINED,
        ErrorCode.INSUFFICIENT_FUNDS,
        ErrorCode.DO_NOT_HONOR,
        ErrorCode.CALL_ISSUER,
        ErrorCode.LIMIT_EXCEEDED,
        ErrorCode.AUTHENTICATION_REQUIRED,
    }
)
#: Merchant advice codes that forbid another attempt whatever the decline (Mastercard 03: do
#: not try again; 21: the cardholder cancelled the recurring payment).
DO_NOT_RETRY_ADVICE = frozenset({"03", "21"})


def decline_class(code: str, advice_code: str | None) -> str | None:
    """`hard`, `soft`, or None (not a decline)."""
    if code in HARD_DECLINES:
        return "hard"
    if code in SOFT_DECLINES:
        return "hard" if advice_code in DO_NOT_RETRY_ADVICE else "soft"
    return None
