"""The exception tree: every exception the engine raises means nothing was sent.

    ConnectorServiceError
    ├── SpecError            a spec file is invalid; carries every Problem, sorted by position
    ├── InputError           the unified request is invalid; carries the bad field's JSON pointer
    ├── UnsupportedError     the spec does not declare this flow, payment method, currency, ...
    ├── CredentialsError     a credential the spec needs is missing, or a host check failed
    ├── RenderError          a template failed while building the request (a spec bug)
    ├── NotSentError         the connection could not be made: the request never left
    ├── WebhookError         a webhook could not be verified or read
    └── ServiceError         the connector service refused the call (engine.remote): its API
                             key, a profile, a limit, a shutdown; carries the problem document

When the processor may have seen the request, the outcome is data (a Result whose status may be
`unresolved`), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass


def kind_of(value: object) -> str:
    """A value's type for a message ("an int", "a tuple", "None"): never the value itself."""
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


class ConnectorServiceError(Exception):
    """Base of every engine exception. Nothing was sent to the processor. Raised by the remote
    client (engine.remote) for a problem document, it also names the service's `request_id`
    (its log has the call under it) and the document's `problem_type` URI."""

    request_id: str | None = None
    problem_type: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a spec file, located by line, column and JSON pointer. A `warning` (lint
    only: `lint_file(..., warnings=True)`) never makes a spec invalid."""

    file: str
    line: int
    col: int
    pointer: str
    message: str
    source_line: str | None = None
    severity: str = "error"  # or "warning"

    def format(self) -> str:
        kind = "warning: " if self.severity == "warning" else ""
        head = f"{self.file}:{self.line}:{self.col}: {kind}{self.message} ({self.pointer or '/'})"
        if self.source_line is None:
            return head
        caret = " " * (max(self.col, 1) - 1) + "^"
        return f"{head}\n    {self.source_line}\n    {caret}"

    def __str__(self) -> str:
        return self.format()


class SpecError(ConnectorServiceError):
    """A spec is invalid. `problems` lists every problem found in the file."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))
        super().__init__("\n".join(p.format() for p in self.problems))


class InputError(ConnectorServiceError):
    """The unified request is invalid. `pointer` is the JSON pointer of the bad field."""

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer or "/"
        self.message = message
        super().__init__(f"{self.pointer}: {message}")


class UnsupportedError(ConnectorServiceError):
    """The connector does not declare what was asked (a flow, payment method, currency...)."""

    def __init__(self, message: str, pointer: str | None = None) -> None:
        self.pointer = pointer
        super().__init__(message)


class CredentialsError(ConnectorServiceError):
    """A credential is missing or invalid, or a base URL left the spec's declared hosts."""


class RenderError(ConnectorServiceError):
    """A template failed while building a request: a bug in the spec, located by pointer."""

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer
        super().__init__(f"{pointer}: {message}")


class NotSentError(ConnectorServiceError):
    """The request could not be sent (connection refused, DNS, connect timeout)."""


class WebhookError(ConnectorServiceError):
    """A webhook was rejected: `reason` is one of the WebhookRejection codes."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}")


class ServiceError(ConnectorServiceError):
    """The connector service refused a call itself, before anything was sent (engine.remote):
    a problem document (RFC 9457) of one of the service's own types. `type` is its URI, `slug`
    its last part (`unauthenticated`, `profile-not-allowed`, `payload-too-large`, `overloaded`,
    `shutting-down`, ...), `status` the HTTP status, `detail` the service's explanation,
    `request_id` the id its log has the call under, `retry_after` the seconds a 503 asks to
    wait (None when it does not say)."""

    def __init__(
        self,
        type: str,
        status: int,
        detail: str,
        *,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.type = type
        self.slug = type.rstrip("/").rsplit("/", 1)[-1]
        self.status = status
        self.detail = detail
        self.request_id = request_id
        self.retry_after = retry_after
        where = f"; request id {request_id}" if request_id else ""
        super().__init__(f"{self.slug} (HTTP {status}): {detail}{where}")
