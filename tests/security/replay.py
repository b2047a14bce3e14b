"""Scenario fixtures → the exchange replayed: through Client over httpx.MockTransport (every
HttpRequest the engine built is kept), or by a tiny HTTP server on 127.0.0.1 for the CLI."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from engine import Client, ConnectorServiceError, HttpRequest, Result

from ..connectors.scenarios import Scenario, credentials_for, response_body
from ..connectors.test_scenarios import ACCESS_TOKEN, CLOCK, TRANSPORT_ERRORS


def answers_of(scenario: Scenario) -> list[dict[str, Any]]:
    """One recorded answer per request the flow sends."""
    data = scenario.data
    return list(data["responses"]) if "responses" in data else [data["response"]]


class RecordingClient(Client):
    """A Client that keeps every HttpRequest it sends (the engine's own object, so its repr and
    redacted() can be inspected)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.built: list[HttpRequest] = []

    def _send(self, built: HttpRequest, deadline: float | None) -> Any:
        self.built.append(built)
        return super()._send(built, deadline)


@dataclass
class Replay:
    """What one scenario produced: the requests built, and a Result or the exception raised."""

    built: list[HttpRequest] = field(default_factory=list)
    outcome: Result | ConnectorServiceError | None = None


def replay(scenario: Scenario) -> Replay:
    """Run the scenario's flow through Client, answering with its recorded response(s)."""
    answers = answers_of(scenario)
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        assert count <= len(answers), f"request {count} has no answer in the scenario"
        answer = answers[count - 1]
        if "transport" in answer:
            raise TRANSPORT_ERRORS[answer["transport"]]
        return httpx.Response(
            answer.get("status", 200),
            headers=answer.get("headers", {"Content-Type": "application/json"}),
            content=response_body(answer),
        )

    client = RecordingClient(
        scenario.connector,
        credentials_for(scenario.connector),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=lambda: CLOCK,
        access_token=ACCESS_TOKEN,
    )
    done = Replay(client.built)
    try:
        done.outcome = client.call(scenario.data["flow"], scenario.data["request"])
    except ConnectorServiceError as exc:
        done.outcome = exc
    return done


@dataclass(frozen=True)
class Canned:
    status: int
    headers: Mapping[str, str]
    body: bytes


class _Replayer(BaseHTTPRequestHandler):
    """Answers each request with the next canned response, whatever the method or path."""

    server: _ReplayServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.server.lock:
            canned = self.server.queue.pop(0) if self.server.queue else Canned(599, {}, b"")
        self.send_response(canned.status)
        for name, value in canned.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(canned.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(canned.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: stderr is not ours
        return


class _ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Replayer)
        self.lock = threading.Lock()
        self.queue: list[Canned] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def load(self, answers: Sequence[Canned]) -> None:
        with self.lock:
            self.queue[:] = list(answers)


@contextmanager
def replay_server() -> Iterator[_ReplayServer]:
    """A local server (127.0.0.1, a free port) that replays canned answers; stopped on exit."""
    server = _ReplayServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def canned(answer: dict[str, Any]) -> Canned:
    return Canned(
        int(answer.get("status", 200)),
        dict(answer.get("headers", {"Content-Type": "application/json"})),
        response_body(answer),
    )
