"""A recording fake processor on 127.0.0.1 for the service's tests: answers every request with a
scenario's recorded response (optionally after a delay), and keeps what it received."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

SCENARIOS = Path(__file__).resolve().parents[1] / "connectors"


def scenario(connector: str, name: str) -> dict[str, Any]:
    path = SCENARIOS / connector / "scenarios" / f"{name}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeProcessor:
    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""
    #: Answers by exact path (e.g. an OAuth token endpoint), before the default answer.
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def answer(self, recorded: dict[str, Any], delay: float = 0.0) -> None:
        self.status = recorded["response"]["status"]
        self.body = json.dumps(recorded["response"]["body"]).encode()
        self.delay = delay


@contextmanager
def fake_processor() -> Iterator[FakeProcessor]:
    fake = FakeProcessor()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                fake.received.append(
                    Received(self.command, self.path, dict(self.headers.items()), body)
                )
            status, answer = fake.routes.get(self.path.split("?")[0], (fake.status, fake.body))
            if fake.delay and self.path not in fake.routes:
                time.sleep(fake.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller gave up waiting (a drained call): nothing to answer

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
