"""A minimal HTTP/1.1 server on 127.0.0.1 that answers every request with one recorded response.

    python tools/canned_server.py BODY_FILE [--status 200] [--content-type application/json]

Prints the port it listens on (one line), then serves until killed. Keep-alive, no routing, no
parsing beyond what framing needs, so that in a benchmark the clients' own costs dominate: the
engine and an official SDK are timed against the same answers from the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def _response(status: int, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} OK\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: bytes) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            writer.write(answer)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main_async(answer: bytes) -> None:
    server = await asyncio.start_server(lambda r, w: _serve(r, w, answer), host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("body_file", type=Path)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--content-type", default="application/json")
    args = parser.parse_args()
    answer = _response(args.status, args.content_type, args.body_file.read_bytes())
    try:
        asyncio.run(main_async(answer))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
