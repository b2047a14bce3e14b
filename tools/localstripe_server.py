"""Run localstripe (a fake, stateful Stripe server) on 127.0.0.1 only, starting empty.

    python tools/localstripe_server.py --port 8420

localstripe's own command binds every interface; this binds loopback only. Used by the
end-to-end tests (which start it themselves), by tools/demo.py and by tools/bench.py.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path


def serve(port: int) -> None:
    from aiohttp import web
    from localstripe.server import app  # type: ignore[import-untyped]

    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(port: int | None = None, timeout: float = 20.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server in a child process; return it and its base URL once it answers."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("localstripe did not start in time")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    serve(parser.parse_args().port)
