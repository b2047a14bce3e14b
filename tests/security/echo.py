"""A processor that echoes what it was sent: a local HTTP server (127.0.0.1) whose answer
carries the request's headers back as response headers (`X-Echo-<name>`) and whose body is a
canned error answer with every string replaced by an echo of the request's auth header and
body, the careless "Invalid API Key provided: sk_test_…" of real processors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def fill(value: Any, text: str) -> Any:
    """`value` (a JSON document) with every string replaced by `text`."""
    if isinstance(value, dict):
        return {k: fill(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, text) for v in value]
    return text if isinstance(value, str) else value


def echo_of(headers: Mapping[str, str], body: bytes) -> str:
    """What a careless processor says back: the auth headers it got and the body."""
    sent = [f"{k}={v}" for k, v in headers.items() if k.lower() in ECHOED]
    return "Invalid API Key provided: " + " / ".join(sent) + " body: " + body.decode("latin-1")


#: The request headers a careless processor quotes back.
ECHOED = ("authorization", "signature", "x-api-key", "cookie", "x-request-signature")


@dataclass(frozen=True)
class Answer:
    """One answer: `document` as is, or (`echo`) with every string replaced by the echo."""

    status: int
    document: Any
    echo: bool = True


@dataclass
class Seen:
    """What the server received: each request's headers and body."""

    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


class _Echo(BaseHTTPRequestHandler):
    server: _EchoServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k: v for k, v in self.headers.items()}
        self.server.seen.requests.append((headers, body))
        answer = self.server.next_answer()
        text = echo_of(headers, body)
        document = fill(answer.document, text) if answer.echo else answer.document
        data = json.dumps(document).encode()
        self.send_response(answer.status)
        for name, value in headers.items():
            if name.lower() in ECHOED:
                self.send_header(f"X-Echo-{name}", value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


class _EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answers: Sequence[Answer]) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.answers = list(answers)
        self.lock = threading.Lock()
        self.seen = Seen()

    def next_answer(self) -> Answer:
        """The answers in order; the last one again and again."""
        with self.lock:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def echo_server(*answers: Answer) -> Iterator[_EchoServer]:
    """A local processor giving `answers` in order (the last repeated), echoing where told."""
    server = _EchoServer(answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
