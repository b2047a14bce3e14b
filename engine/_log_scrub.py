"""Log records of httpx, httpcore and the engine → the same records scrubbed of the secrets of
the call in flight.

A caller who turns on DEBUG logging for `httpx` or `httpcore` sees the request URL, every
response header (an echoed `Authorization`, a `Set-Cookie`) and connection details. The engine
cannot stop those libraries from logging, so it filters their records: the client sets the
sent request's scrubber (HttpRequest.scrubber: the credential values, what the auth scheme
derived from them, the card data) in `IN_FLIGHT` around each send, and `ScrubbingFilter`
rewrites every record emitted meanwhile. The filters are installed once, when the engine first
sends; records outside an engine call pass unchanged (they are not the engine's to touch).

A filter on a logger applies only to records created on that very logger (not its children),
so it is installed on each logger of the libraries' known names and on every child already
created under them.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ._scrub import Scrubber

#: The scrubber of the request being sent in this thread or task (set by `sending`).
IN_FLIGHT: contextvars.ContextVar[Scrubber | None] = contextvars.ContextVar(
    "connector_scrubber", default=None
)

#: The loggers the filter goes on: the libraries' roots, their modules' loggers, the engine's.
LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "engine",
)
_ROOTS = ("httpx", "httpcore", "engine")


class ScrubbingFilter(logging.Filter):
    """Rewrites a record's message (with its args merged in) through the in-flight scrubber.
    Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrubber = IN_FLIGHT.get()
        if scrubber is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: shown without them
            message = str(record.msg)
        record.msg = scrubber.text(message)
        record.args = ()
        if record.exc_info:
            # A traceback's text quotes exception messages, which may hold what was sent.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrubber.text(record.exc_text)
        return True


FILTER = ScrubbingFilter()
_installed = threading.Event()
_lock = threading.Lock()


def install() -> None:
    """Put FILTER on the loggers (idempotent; cheap after the first call)."""
    if _installed.is_set():
        return
    with _lock:
        existing = [
            name
            for name in list(logging.root.manager.loggerDict)
            if any(name == root or name.startswith(root + ".") for root in _ROOTS)
        ]
        for name in {*LOGGERS, *existing}:
            logger = logging.getLogger(name)
            if FILTER not in logger.filters:
                logger.addFilter(FILTER)
        _installed.set()


def scrub_logs_with(scrubber: Scrubber) -> contextvars.Token[Scrubber | None]:
    """From now until `IN_FLIGHT.reset(token)`, records are scrubbed with `scrubber`."""
    install()
    return IN_FLIGHT.set(scrubber)


@contextmanager
def sending(scrubber: Scrubber) -> Iterator[None]:
    """Records emitted inside are scrubbed with `scrubber`."""
    token = scrub_logs_with(scrubber)
    try:
        yield
    finally:
        IN_FLIGHT.reset(token)
