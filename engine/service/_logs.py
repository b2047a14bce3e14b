"""Structured JSON logs, one object per line on stderr, each with the request id. What a log
line may hold is fixed by the service (route, connector, flow, status, timings, ids it chose);
every message is scrubbed of card-number look-alikes besides, and the engine's own logger is
already scrubbed of secrets by engine._log_scrub."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from .._scrub import Scrubber

LOGGER = "connector_service"

#: The extra fields a record may carry into its JSON line.
FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "connector",
    "flow",
    "outcome",
    "problem",
    "api_key",
    "profile",
)


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._scrubber = Scrubber()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": self._scrubber.text(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = self._scrubber.text(value) if isinstance(value, str) else value
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__  # never its text: it may quote data
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def configure(level: str = "info") -> None:
    """JSON lines on stderr for the service's and the engine's loggers; uvicorn's access log is
    replaced by the service's own (one line per request, with its id)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in (LOGGER, "engine", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


logger = logging.getLogger(LOGGER)
