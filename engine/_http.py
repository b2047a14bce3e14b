"""The sans-I/O boundary: HttpRequest (built, not yet sent) and HttpResponse (received)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._scrub import Scrubber


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """Exactly what to send. `repr` and `redacted()` hide secrets and card data."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    scrubber: Scrubber = field(default_factory=Scrubber, repr=False, compare=False)
    sensitive_headers: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    #: Whether it sends the call's idempotency key: a template the spec placed to read the key
    #: rendered a value (known from the compiled templates, never from searching the bytes).
    carries_key: bool = field(default=False, repr=False, compare=False)
    #: The idempotency key it sends (the call's, or one a step derived from it), when it does.
    sent_key: str | None = field(default=None, repr=False, compare=False)

    def redacted(self) -> dict[str, Any]:
        """{"method", "url", "headers", "body"} with secrets and card data replaced."""
        headers = self.scrubber.headers(self.headers)
        for name in headers:
            if name.lower() in self.sensitive_headers:
                headers[name] = "[REDACTED]"
        body = (
            None if self.body is None else self.scrubber.text(self.body.decode("utf-8", "replace"))
        )
        return {
            "method": self.method,
            "url": self.scrubber.text(self.url),
            "headers": headers,
            "body": body,
        }

    def __repr__(self) -> str:
        shown = self.redacted()
        return (
            f"HttpRequest({shown['method']} {shown['url']}, "
            f"headers={shown['headers']!r}, body={shown['body']!r})"
        )


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What came back: status, headers (any case) and the raw body bytes."""

    status_code: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None
