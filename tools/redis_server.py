"""Run a throwaway redis-server (the Debian package's binary) on 127.0.0.1: no persistence, its
files in a temporary directory. Used by the token-cache tests and the scale-out tests.

    python tools/redis_server.py --port 6390
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

INSTALL_HINT = "install it with `apt-get install redis-server`"


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int
    directory: tempfile.TemporaryDirectory[str]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL) and removes its directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.directory.cleanup()


def binary() -> str:
    """The redis-server executable on PATH; a clear error (never a skip) when it is missing."""
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError(f"redis-server is not installed: {INSTALL_HINT}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(port: int | None = None, timeout: float = 20.0) -> RedisServer:
    """Starts redis-server and returns once it answers PING."""
    executable = binary()
    port = port or free_port()
    directory = tempfile.TemporaryDirectory(prefix="redis-")
    process = subprocess.Popen(
        [
            executable,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            directory.name,
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--repl-diskless-sync-delay",  # a snapshot (redis-cli --rdb) starts at once
            "0",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=directory.name,
    )
    server = RedisServer(process, port, directory)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            directory.cleanup()
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        if _pong(port):
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError("redis-server did not answer in time")


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=6379)
    server = start(parser.parse_args().port)
    print(server.url, flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
