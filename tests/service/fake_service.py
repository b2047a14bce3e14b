"""A fake connector service on 127.0.0.1 for the remote client's transport tests: a small asyncio
server (in a thread of its own) that reads each whole HTTP request, records it, and then answers
as told — never until released (an answer that comes too late), by resetting the connection, or
with the given bytes."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

#: Hold the answer until the test is over (the client's read timeout fires first).
SLOW = "slow"
#: Read the request, then reset the connection without answering.
RESET = "reset"

_LENGTH = re.compile(rb"^content-length:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass
class FakeService:
    url: str
    received: list[bytes] = field(default_factory=list)


def http_answer(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


@contextlib.contextmanager
def fake_service(answer: bytes | str, late_answer: bytes = b"") -> Iterator[FakeService]:
    """Serve until the block ends. `answer`: SLOW (then `late_answer` once released), RESET,
    or the raw bytes of an HTTP answer."""
    loop = asyncio.new_event_loop()
    released = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = _LENGTH.search(head)
            body = await reader.readexactly(int(length[1])) if length else b""
            service.received.append(head + body)
            if answer == SLOW:
                await released.wait()
                writer.write(late_answer)
            elif answer == RESET:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                assert isinstance(answer, bytes)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    # The loop runs in its own thread from the start: the caller may be inside a running loop.
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started = asyncio.run_coroutine_threadsafe(asyncio.start_server(handle, "127.0.0.1", 0), loop)
    server = started.result(timeout=10)
    port = server.sockets[0].getsockname()[1]
    service = FakeService(f"http://127.0.0.1:{port}")
    try:
        yield service
    finally:
        loop.call_soon_threadsafe(released.set)

        async def shut() -> None:
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shut(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def refused_url() -> str:
    """A loopback URL nothing listens on (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
