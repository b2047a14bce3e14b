"""httpx clients whose every socket operation obeys the call's deadline, bounded decoding of
raw response bytes, and closing of pooled connections whose framing is in doubt."""

from __future__ import annotations

import contextvars
import http.cookiejar
import re
import ssl
import time
import typing
import zlib
from collections.abc import Iterable

import httpcore
import httpx

#: The monotonic deadline of the exchange in flight (set by the client's `_send`).
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "connector_deadline", default=None
)

#: The first line of the answer read last on the exchange in flight (set by the streams), so
#: that a status line the HTTP parser refuses can be told from a broken connection.
STATUS_LINE: contextvars.ContextVar[bytes | None] = contextvars.ContextVar(
    "connector_status_line", default=None
)
#: No status line worth reading is longer; the rest of a longer one is not kept.
STATUS_LINE_CAP = 64
_STATUS_CODE = re.compile(rb"HTTP/[0-9.]+ +([^ \r\n]*)")

#: Content-codings the engine decodes with bounded output, as sent in Accept-Encoding.
ACCEPT_ENCODING = "gzip, deflate"
#: More stacked codings than this is refused: no processor answers `gzip, gzip, gzip, …`.
MAX_CODINGS = 2


class ResponseTooLarge(Exception):
    """The decoded (or raw) response exceeded Limits.max_response_bytes."""


class UndecodableResponse(Exception):
    """A content-coding the engine did not offer, too many codings, or corrupt data."""


class LocalFailure(Exception):
    """A non-transport exception raised before anything was sent; holds only its class name."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def refused_status(line: bytes | None) -> str | None:
    """For an HTTP status line whose code an HTTP parser refuses (not three digits, or under
    100): that code when it is digits, else ""; None for any other line."""
    match = _STATUS_CODE.match(line or b"")
    if match is None:
        return None
    code = match[1]
    if len(code) == 3 and code.isdigit() and int(code) >= 100:
        return None
    return code.decode("ascii") if code.isdigit() else ""  # the processor's text: only digits


def _noted(head: bytearray | None, data: bytes) -> bytearray | None:
    """Collect the start of an answer until its first line is complete, then publish it
    (STATUS_LINE); None once published."""
    if head is None:
        return None
    head += data[: max(STATUS_LINE_CAP - len(head), 0)]
    if b"\n" in head or len(head) >= STATUS_LINE_CAP:
        STATUS_LINE.set(bytes(head.split(b"\n", 1)[0]))
        return None
    return head


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("the call's total time limit ran out")
    return left if timeout is None else min(timeout, left)


# -- sync ------------------------------------------------------------------------------------


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self.doubt = False
        self._head: bytearray | None = None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        self._head = _noted(self._head, data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._head = bytearray()  # a request goes out: the next bytes read start its answer
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        # A doubtful connection reads as "the server spoke": httpcore then closes it instead of
        # reusing it (HTTP11Connection.has_expired).
        if info == "is_readable" and self.doubt:
            return True
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Every connect/read/write/TLS handshake uses min(its timeout, deadline - now)."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- async -----------------------------------------------------------------------------------


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self.doubt = False
        self._head: bytearray | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        self._head = _noted(self._head, data)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._head = bytearray()
        await self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and self.doubt:
            return True
        return self._inner.get_extra_info(info)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """The asyncio twin of DeadlineBackend."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        inner = await self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _AsyncStream(inner)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, bounded, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# -- installing the backends -----------------------------------------------------------------


def _pool(client: httpx.Client | httpx.AsyncClient) -> typing.Any:
    """The httpcore pool behind an httpx client's default transport, or None (a custom or
    mock transport: nothing to wrap)."""
    transport = getattr(client, "_transport", None)
    if not isinstance(transport, httpx.HTTPTransport | httpx.AsyncHTTPTransport):
        return None
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool | httpcore.AsyncConnectionPool):
        return None  # a proxy pool; its backend is wrapped the same way below if present
    return pool


def install(client: httpx.Client | httpx.AsyncClient) -> bool:
    """Wrap the network backend of `client`'s connection pool so the deadline holds for every
    socket operation. Returns whether it could (a mock or custom transport has no sockets)."""
    pool = _pool(client)
    if pool is None:
        return False
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, DeadlineBackend | AsyncDeadlineBackend):
        return True
    if isinstance(pool, httpcore.ConnectionPool) and isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = DeadlineBackend(backend)
        return True
    if isinstance(pool, httpcore.AsyncConnectionPool) and isinstance(
        backend, httpcore.AsyncNetworkBackend
    ):
        pool._network_backend = AsyncDeadlineBackend(backend)
        return True
    return False


def _no_cookies() -> http.cookiejar.CookieJar:
    """A jar that keeps nothing: a processor's cookie must never reach the next call (another
    tenant's, on a shared client)."""
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


#: httpx's own default pool limits.
_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def new_client(limits: httpx.Limits | None = None) -> httpx.Client:
    client = httpx.Client(
        transport=httpx.HTTPTransport(limits=limits or _DEFAULT_LIMITS),
        follow_redirects=False,
        trust_env=False,
        cookies=_no_cookies(),
    )
    install(client)
    return client


def new_async_client(limits: httpx.Limits | None = None) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(limits=limits or _DEFAULT_LIMITS),
        follow_redirects=False,
        trust_env=False,
        cookies=_no_cookies(),
    )
    install(client)
    return client


def find_owner(client: httpx.Client | httpx.AsyncClient, stream: object) -> typing.Any:
    """The httpcore HTTP/1.1 connection whose network stream is `stream`, or None."""
    pool = _pool(client)
    if pool is None:
        return None
    for connection in getattr(pool, "connections", ()):
        inner = getattr(connection, "_connection", None)
        if getattr(inner, "_network_stream", None) is stream:
            return inner
    return None


def owner_of(client: httpx.Client | httpx.AsyncClient, response: httpx.Response) -> typing.Any:
    """The connection serving `response`, found while it is still active (after the body
    is read httpcore may already have moved or closed it)."""
    return find_owner(client, response.extensions.get("network_stream"))


def close_if_doubtful(owner: typing.Any, response: httpx.Response) -> None:
    """After a response was read: when its connection holds bytes beyond the end of that
    response (an answer nobody asked for) or the response was not framed by a length or
    chunks, mark the connection so the pool closes it instead of reusing it."""
    stream = response.extensions.get("network_stream")
    if not isinstance(stream, _Stream | _AsyncStream):
        return
    encoding = response.headers.get("transfer-encoding", "").lower()
    if "content-length" not in response.headers and "chunked" not in encoding:
        stream.doubt = True
        return
    if owner is None:
        return
    # h11 keeps bytes received after a complete response in its buffer; httpcore has no
    # public way to show them (guarded: an unreadable state counts as doubt).
    trailing = getattr(getattr(owner, "_h11_state", None), "trailing_data", None)
    if not isinstance(trailing, tuple) or trailing[0]:
        stream.doubt = True


# -- bounded decoding ------------------------------------------------------------------------


class _Inflate:
    def __init__(self, coding: str) -> None:
        self._gzip = coding in ("gzip", "x-gzip")
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes, budget: int) -> bytes:
        if not data:
            return b""
        if self._z.eof:
            raise UndecodableResponse("data after the end of a compressed stream")
        try:
            if not self._started and not self._gzip:
                self._started = True
                try:
                    return self._check(self._z.decompress(data, budget + 1), budget)
                except zlib.error:  # deflate without the zlib wrapper, as some servers send
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            self._started = True
            return self._check(self._z.decompress(data, budget + 1), budget)
        except zlib.error:
            raise UndecodableResponse("corrupt compressed data") from None

    def _check(self, out: bytes, budget: int) -> bytes:
        if len(out) > budget:
            raise ResponseTooLarge
        if self._z.unused_data:
            raise UndecodableResponse("data after the end of a compressed stream")
        return out

    def finish(self, budget: int) -> bytes:
        try:
            out = self._z.flush(budget + 1)
        except zlib.error:
            raise UndecodableResponse("corrupt compressed data") from None
        if len(out) > budget:
            raise ResponseTooLarge
        if self._started and not self._z.eof:
            raise UndecodableResponse("truncated compressed data")
        return out


class BoundedDecoder:
    """Raw body bytes → decoded bytes, never more than `limit` at any stage."""

    def __init__(self, content_encodings: list[str], limit: int) -> None:
        codings = [c.strip().lower() for c in content_encodings]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > MAX_CODINGS:
            raise UndecodableResponse(f"more than {MAX_CODINGS} content-codings")
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise UndecodableResponse("a content-coding the engine did not offer")
        # The last coding listed was applied last: it is undone first.
        self._stages = [_Inflate(c) for c in reversed(codings)]
        self._sizes = [0] * len(self._stages)
        self._limit = limit
        self._raw = 0
        self.body = bytearray()

    def feed(self, raw: bytes) -> None:
        self._raw += len(raw)
        if self._raw > self._limit:
            raise ResponseTooLarge
        self._push(0, raw)

    def finish(self) -> bytes:
        for index, stage in enumerate(self._stages):
            out = stage.finish(self._limit - self._sizes[index])
            self._sizes[index] += len(out)
            self._push(index + 1, out)
        return bytes(self.body)

    def _push(self, index: int, data: bytes) -> None:
        while index < len(self._stages):
            data = self._stages[index].feed(data, self._limit - self._sizes[index])
            self._sizes[index] += len(data)
            index += 1
        self.body += data
        if len(self.body) > self._limit:
            raise ResponseTooLarge
