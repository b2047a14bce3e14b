"""A scripted processor server on 127.0.0.1 that misbehaves at the HTTP and the TCP level.

Each test registers a `Route`: its own port with a list of actions, one per request that
arrives on it (a recorded answer, or a fault). The route's `base_url` goes to
`Client(base_url=...)`, so every request a flow sends (token, steps, its own) lands on the
route in order, and the route records what arrived — the tests count requests and read the
idempotency key that was sent.

Raw sockets, one thread per connection, because the faults need what an HTTP framework hides:
closing before reading, holding a connection without reading it, a reset (RST) in the middle of
a body, a body that drips a byte at a time. A "hold" lasts until the client closes its end (seen
with POLLRDHUP, without reading the request) or a safety cap passes, so no outcome depends on
how long the server waits — only the client's own limits end a hold.
"""

from __future__ import annotations

import base64
import enum
import json
import re
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

#: No hold outlives this, even if a client never closes (a bug in a test, not in the engine).
SAFETY_CAP_SECONDS = 20.0
#: Pace of the slow drip: one byte per interval.
DRIP_INTERVAL_SECONDS = 0.05

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>502 Bad Gateway</title></head>\n"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>\n"
    b"</body></html>\n"
)


class Fault(enum.StrEnum):
    """Every way the server can misbehave; `tests/faults` maps each to `engine` FAULTS rows."""

    REFUSE = "refuse"  # a port nobody listens on (see FaultServer.refusing_url)
    CLOSE_WITHOUT_READING = "close_without_reading"
    HOLD_BEFORE_READING = "hold_before_reading"
    HOLD_AFTER_READING = "hold_after_reading"
    RESET_MID_RESPONSE = "reset_mid_response"
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    HTTP_504 = "http_504"
    HTTP_429 = "http_429"
    HTML_5XX = "html_5xx"
    HTML_200 = "html_200"
    TRUNCATED_BODY = "truncated_body"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    EMPTY_BODY = "empty_body"
    OVERSIZED_BODY = "oversized_body"
    SLOW_DRIP = "slow_drip"
    HTTP_600 = "http_600"
    HTTP_99 = "http_99"
    HTTP_1000 = "http_1000"
    ANOTHER_ID = "another_id"


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: a recorded response (or one made up by a test)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Misbehave:
    """A fault. `model` is the recorded answer the fault distorts (its body is truncated,
    relabelled, padded, given an impossible status or another payment's id); `retry_after` is
    sent with HTTP 429; `oversize_to` is the length an oversized body is padded to (leading
    whitespace, so only the size limit can refuse it)."""

    fault: Fault
    model: Answer | None = None
    retry_after: str = "7"
    oversize_to: int = 64 * 1024
    #: For ANOTHER_ID: (the request's id, another) — every occurrence in the body is replaced.
    swap: tuple[bytes, bytes] | None = None


@dataclass(frozen=True)
class Drip:
    """A body sent in `pieces` parts, `DRIP_INTERVAL_SECONDS` apart: slow, but finite."""

    answer: Answer
    pieces: int = 10


@dataclass(frozen=True)
class Raw:
    """Bytes sent verbatim, for faults in the framing itself: a head dripped one byte every
    `byte_interval` seconds (`drip_head` bytes of it), stacked content-codings, a second
    answer appended after the first. With `keep_alive` the connection stays open and its
    next request is answered by the route's next action."""

    data: bytes
    drip_head: int = 0
    byte_interval: float = 0.0
    keep_alive: bool = False


@dataclass(frozen=True)
class Echo:
    """The recorded answer `model`, quoting back what arrived: every header value (Basic
    credentials decoded too) and the body, appended to each string of the answer (JSON string
    values, XML text), as a processor does that says "Invalid API Key provided: sk_test_…"."""

    model: Answer


Action = Answer | Misbehave | Drip | Raw | Echo


def raw_answer(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    keep_alive: bool = False,
) -> bytes:
    """One HTTP/1.1 answer with `headers` as given (Content-Encoding kept) and a true length."""
    lines = [f"HTTP/1.1 {status} Fault Server"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    lines += [f"Content-Length: {len(body)}"]
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True)
class Arrival:
    """One request as it arrived (the raw bytes, so any field can be searched)."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def raw(self) -> bytes:
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        return f"{self.method} {self.target}\r\n{head}\r\n".encode() + self.body


class Route:
    """One test's own listening port: its actions, consumed in order, and what arrived.

    A port per route (not a path prefix) because faults that act before reading the request
    must know whose connection it is without reading it."""

    def __init__(self, server: FaultServer, actions: list[Action]) -> None:
        self._server = server
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(1.0)  # close() wakes it sooner; this is a fallback
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.actions = actions
        self.arrivals: list[Arrival] = []
        #: Requests that arrived when no action was left (the test sent more than it scripted).
        self.unscripted = 0
        #: Connections that a before-reading fault took (their request was never read).
        self.unread = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def connections(self) -> int:
        """Every connection the route took: read requests and unread ones."""
        return len(self.arrivals) + self.unread

    def close(self) -> None:
        self._closed.set()
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() at once
        self._acceptor.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not (self._closed.is_set() or self._server.stopping.is_set()):
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._server.spawn(self._serve, conn)

    def _pop(self, *, unread: bool) -> Action | None:
        """The next action; with `unread`, only if it is a fault acting before reading."""
        with self._lock:
            if unread:
                first = self.actions[0] if self.actions else None
                if not (isinstance(first, Misbehave) and first.fault in _BEFORE_READING):
                    return None
                self.unread += 1
                return self.actions.pop(0)
            if not self.actions:
                self.unscripted += 1
                return None
            return self.actions.pop(0)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(SAFETY_CAP_SECONDS)
            # The client may go away mid-answer: that is what several faults provoke.
            with suppress(OSError):
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        early = self._pop(unread=True)
        if isinstance(early, Misbehave):
            if early.fault == Fault.HOLD_BEFORE_READING:
                self._server.hold(conn)
            return  # CLOSE_WITHOUT_READING: close at once
        arrival = _read_request(conn)
        if arrival is None:
            return
        with self._lock:
            self.arrivals.append(arrival)
        action = self._pop(unread=False)
        if action is None:
            _send(conn, Answer(500, {"Content-Type": "text/plain"}, b"fault server: no script"))
        elif isinstance(action, Answer):
            _send(conn, action)
        elif isinstance(action, Drip):
            self._server.drip(conn, action)
        elif isinstance(action, Echo):
            _send(conn, echoed(action.model, arrival))
        elif isinstance(action, Raw):
            for index in range(action.drip_head):
                if self._server.stopping.wait(action.byte_interval):
                    return
                conn.sendall(action.data[index : index + 1])
            conn.sendall(action.data[action.drip_head :])
            if action.keep_alive:
                self._answer(conn)
            else:
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_WR)
                    _drain(conn)
        else:
            self._server.misbehave(conn, action)


class FaultServer:
    """Routes on 127.0.0.1 (free ports), the connection threads, and stop()."""

    def __init__(self) -> None:
        # Bound but never listening: a connection to it is refused, and no one else can take it.
        self._dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._dead.bind(("127.0.0.1", 0))
        self.refusing_url = f"http://127.0.0.1:{self._dead.getsockname()[1]}"
        self.stopping = threading.Event()
        self._routes: list[Route] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def stop(self) -> None:
        self.stopping.set()
        for route in self._routes:
            route.close()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._dead.close()

    def route(self, *actions: Action) -> Route:
        """A fresh route answering its requests with `actions`, in order."""
        route = Route(self, list(actions))
        with self._lock:
            self._routes = [r for r in self._routes if not r._closed.is_set()]
            self._routes.append(route)
        return route

    def spawn(self, target: Callable[[socket.socket], None], conn: socket.socket) -> None:
        thread = threading.Thread(target=target, args=(conn,), daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def misbehave(self, conn: socket.socket, action: Misbehave) -> None:
        fault, model = action.fault, _model(action.model)
        if fault == Fault.HOLD_AFTER_READING:
            self.hold(conn)
        elif fault == Fault.RESET_MID_RESPONSE:
            body = model.body or b'{"partial": true}'
            conn.sendall(_head(model.status, model.headers, len(body)))
            conn.sendall(body[: len(body) // 2])
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif fault == Fault.SLOW_DRIP:
            conn.sendall(_head(200, model.headers, 10**9))
            while not self.stopping.wait(DRIP_INTERVAL_SECONDS):
                conn.sendall(b" ")  # raises once the client has gone: the drip ends there
        else:
            _send(conn, _faulty_answer(action))

    def drip(self, conn: socket.socket, drip: Drip) -> None:
        body = drip.answer.body
        conn.sendall(_head(drip.answer.status, drip.answer.headers, len(body)))
        size = -(-len(body) // drip.pieces)
        for start in range(0, len(body), size):
            if self.stopping.wait(DRIP_INTERVAL_SECONDS):
                return
            conn.sendall(body[start : start + size])

    def hold(self, conn: socket.socket) -> None:
        """Keep the connection open, unread, until the client closes it (or the cap)."""
        poller = select.poll()
        poller.register(conn, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        deadline = time.monotonic() + SAFETY_CAP_SECONDS
        while time.monotonic() < deadline and not self.stopping.is_set():
            if poller.poll(50):
                return


_BEFORE_READING = frozenset({Fault.CLOSE_WITHOUT_READING, Fault.HOLD_BEFORE_READING})

_FAULT_STATUS = {
    Fault.HTTP_500: 500,
    Fault.HTTP_502: 502,
    Fault.HTTP_503: 503,
    Fault.HTTP_504: 504,
    Fault.HTML_5XX: 502,
}
#: Statuses no HTTP answer has, sent with the real success body.
_IMPOSSIBLE_STATUS = {Fault.HTTP_600: 600, Fault.HTTP_99: 99, Fault.HTTP_1000: 1000}


def _model(model: Answer | None) -> Answer:
    return model or Answer(200, {"Content-Type": "application/json"}, b"{}")


def _faulty_answer(action: Misbehave) -> Answer:
    """The complete (if wrong) answer of a fault that is well-formed HTTP."""
    fault, model = action.fault, _model(action.model)
    plain = {"Content-Type": "text/plain"}
    html = {"Content-Type": "text/html; charset=utf-8"}
    if fault in (Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503, Fault.HTTP_504):
        return Answer(_FAULT_STATUS[fault], plain, b"upstream trouble")
    if fault == Fault.HTML_5XX:
        return Answer(502, html, HTML_ERROR_PAGE)
    if fault == Fault.HTML_200:  # the real answer's 2xx status, with a page for a body
        page = HTML_ERROR_PAGE.replace(b"502 Bad Gateway", b"Please wait")
        return Answer(model.status, html, page)
    if fault == Fault.HTTP_429:
        return Answer(429, {"Retry-After": action.retry_after}, b"")
    if fault == Fault.TRUNCATED_BODY:
        return Answer(model.status, model.headers, model.body[: len(model.body) // 2])
    if fault == Fault.WRONG_CONTENT_TYPE:
        return Answer(model.status, {**_without_type(model.headers), **html}, model.body)
    if fault == Fault.EMPTY_BODY:
        return Answer(model.status, model.headers, b"")
    if fault == Fault.OVERSIZED_BODY:
        padding = b" " * max(action.oversize_to - len(model.body), 0)
        return Answer(model.status, model.headers, padding + model.body)
    if fault in _IMPOSSIBLE_STATUS:
        return Answer(_IMPOSSIBLE_STATUS[fault], model.headers, model.body)
    if fault == Fault.ANOTHER_ID:
        if action.swap is None:
            raise ValueError("another_id needs the id to swap")
        return Answer(model.status, model.headers, model.body.replace(*action.swap))
    raise ValueError(f"{fault} is not a complete answer")


def quoted(arrival: Arrival) -> str:
    """What a processor quoting the request back would say: its header values, the Basic
    credentials decoded, and its body."""
    values = list(arrival.headers.values())
    for value in arrival.headers.values():
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "basic":
            with suppress(ValueError):
                values.append(base64.b64decode(credentials).decode("latin-1"))
    values.append(arrival.body.decode("utf-8", "replace"))
    return "Invalid API Key provided: " + " | ".join(values)


def echoed(model: Answer, arrival: Arrival) -> Answer:
    """`model` with `quoted(arrival)` appended to each of its strings: JSON string values,
    else XML text; a body that is neither (or empty) becomes the quote itself."""
    quote = quoted(arrival)
    try:
        decoded = json.loads(model.body.decode("utf-8-sig"))
    except ValueError:
        decoded = None
    if decoded is not None:
        body = json.dumps(_append(decoded, " " + quote)).encode()
    elif model.body.lstrip().startswith(b"<"):
        text = " " + xml_escape(quote)
        body = re.sub(
            rb">(\s*[^<>\s][^<>]*)<", lambda m: b">" + m[1] + text.encode() + b"<", model.body
        )
    else:
        body = quote.encode()
    return Answer(model.status, model.headers, body)


def _append(value: object, text: str) -> object:
    if isinstance(value, str):
        return value + text
    if isinstance(value, dict):
        return {k: _append(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_append(v, text) for v in value]
    return value


def _without_type(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "content-type"}


def _head(status: int, headers: Mapping[str, str], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} Fault Server"]
    skip = {"content-length", "connection", "transfer-encoding", "content-encoding"}
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in skip]
    lines += [f"Content-Length: {length}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(conn: socket.socket, answer: Answer) -> None:
    conn.sendall(_head(answer.status, answer.headers, len(answer.body)) + answer.body)
    with suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        _drain(conn)


def _drain(conn: socket.socket) -> None:
    """Read until the client closes, so closing never turns into a reset."""
    while conn.recv(65536):
        pass


def _read_request(conn: socket.socket) -> Arrival | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return Arrival(method, target, headers, body)


@contextmanager
def running_server() -> Iterator[FaultServer]:
    """A started server, stopped on exit."""
    server = FaultServer()
    try:
        yield server
    finally:
        server.stop()
