"""The service's problem documents (RFC 9457): one table of problem types, each with its HTTP
status, and the engine exception each one stands for. The OpenAPI document, the clients' typed
errors and the docs are generated from this table.

A problem document always means that nothing was sent to the processor: every outcome after
sending is a Result (HTTP 200), `unresolved` included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._errors import (
    ConnectorServiceError,
    CredentialsError,
    InputError,
    NotSentError,
    RenderError,
    SpecError,
    UnsupportedError,
    WebhookError,
)

#: Every problem type's URI is this base plus its slug.
TYPE_BASE = "https://connector-service.dev/problems/"


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str
    #: The engine exception this type stands for (None: raised by the service itself).
    exception: type[ConnectorServiceError] | None = None

    @property
    def uri(self) -> str:
        return TYPE_BASE + self.slug


#: The one table. Order matters for `for_exception`: a subclass before its base.
PROBLEM_TYPES: tuple[ProblemType, ...] = (
    ProblemType(
        "invalid-input",
        422,
        "The unified request is invalid",
        "A field of the request body is missing, of the wrong type or out of range; `pointer` "
        "is its JSON pointer.",
        InputError,
    ),
    ProblemType(
        "unsupported",
        400,
        "The connector does not support this request",
        "The connector's spec does not declare what was asked: a payment method, currency, "
        "capture method or feature.",
        UnsupportedError,
    ),
    ProblemType(
        "invalid-credentials",
        401,
        "The processor credentials are missing or invalid",
        "A credential the connector needs is missing or malformed, or a base URL left the "
        "spec's declared hosts.",
        CredentialsError,
    ),
    ProblemType(
        "not-sent",
        503,
        "The request could not be sent to the processor",
        "The connection to the processor could not be made (refused, DNS, connect timeout), or "
        "the call's time ran out before its request left: nothing was sent, so the same request "
        "may be sent again.",
        NotSentError,
    ),
    ProblemType(
        "webhook-rejected",
        400,
        "The webhook delivery was rejected",
        "The delivery could not be verified or read; `reason` is the engine's rejection code.",
        WebhookError,
    ),
    ProblemType(
        "spec-error",
        500,
        "The connector's spec is invalid",
        "A bug in the connector's spec, found before anything was sent.",
        SpecError,
    ),
    ProblemType(
        "render-error",
        500,
        "The connector's spec could not build the request",
        "A template of the connector's spec failed: a bug in the spec, found before anything "
        "was sent.",
        RenderError,
    ),
    ProblemType(
        "internal",
        500,
        "Internal error",
        "An unexpected error inside the service (its details are in the service's log under "
        "the request id, never in the answer). Raised by the engine, it came before anything "
        "was sent; the service's own last-resort handler cannot always say so, so a careful "
        "caller (engine.remote does) treats it as unresolved and looks the payment up.",
        ConnectorServiceError,
    ),
    ProblemType(
        "unauthenticated",
        401,
        "A valid service API key is required",
        "Send `Authorization: Bearer <key>` with one of the service's API keys.",
    ),
    ProblemType(
        "profile-not-allowed",
        403,
        "This API key may not use that profile or credentials",
        "The profile does not exist, belongs to another connector, or is not among the "
        "profiles this API key may use; or the key may not send credentials of its own.",
    ),
    ProblemType(
        "unknown-connector",
        404,
        "No such connector",
        "The path names no bundled connector (see GET /v1/connectors).",
    ),
    ProblemType(
        "unknown-flow",
        404,
        "No such flow on this connector",
        "The connector's spec does not declare this flow (see GET /v1/connectors).",
    ),
    ProblemType("not-found", 404, "Not found", "No such resource."),
    ProblemType("method-not-allowed", 405, "Method not allowed", "See the OpenAPI document."),
    ProblemType(
        "bad-request",
        400,
        "The HTTP request is malformed",
        "The body is not JSON, or a header the service reads is malformed (named in `detail`; "
        "its value is never echoed).",
    ),
    ProblemType(
        "payload-too-large",
        413,
        "The request body is too large",
        "The body is larger than the service's `max_body_bytes`.",
    ),
    ProblemType(
        "overloaded",
        503,
        "Too many calls to this connector in flight",
        "The service's concurrency limit for this connector is reached; nothing was sent. "
        "Retry after the `Retry-After` seconds.",
    ),
    ProblemType(
        "shutting-down",
        503,
        "The service is shutting down",
        "This replica takes no new calls; nothing was sent. Retry on another replica.",
    ),
)

BY_SLUG = {p.slug: p for p in PROBLEM_TYPES}


def for_exception(exc: ConnectorServiceError) -> ProblemType:
    """The problem type of an engine exception (the most specific class in the table)."""
    for problem in PROBLEM_TYPES:
        if problem.exception is not None and isinstance(exc, problem.exception):
            return problem
    return BY_SLUG["internal"]


def document(
    slug: str,
    detail: str,
    *,
    request_id: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """A problem document (application/problem+json). Extension members with a None value are
    left out."""
    problem = BY_SLUG[slug]
    data: dict[str, Any] = {
        "type": problem.uri,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
    }
    if request_id is not None:
        data["request_id"] = request_id
    data.update({k: v for k, v in extensions.items() if v is not None})
    return data


def exception_document(exc: ConnectorServiceError, request_id: str | None) -> dict[str, Any]:
    """The problem document of an engine exception (already sanitised by the engine's public
    boundary: its text holds no secret or card number). An unexpected error's text is never
    shown."""
    problem = for_exception(exc)
    if problem.slug == "internal":
        return document("internal", "unexpected error; see the service log", request_id=request_id)
    extensions: dict[str, Any] = {}
    if isinstance(exc, InputError):
        extensions["pointer"] = exc.pointer
        detail = exc.message
    elif isinstance(exc, WebhookError):
        extensions["reason"] = exc.reason
        detail = str(exc)
    elif isinstance(exc, RenderError | UnsupportedError):
        extensions["pointer"] = exc.pointer
        detail = str(exc)
    else:
        detail = str(exc)
    return document(problem.slug, detail, request_id=request_id, **extensions)
