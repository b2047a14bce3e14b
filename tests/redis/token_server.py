"""A fake OAuth processor on 127.0.0.1 for the token-cache tests: issues a distinct token per
token request, remembers which client secret each token was issued to, and records which
token paid each order (the order's amount names the tenant). Every process of a test calls
this one server, so its counts are the truth across processes."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TokenServer:
    """`delay` slows every token answer (concurrent callers overlap while it answers);
    `hang_first` never answers the first token request (until `stop`); `fail_status` answers
    every token request with that status and a token in the body."""

    def __init__(
        self, *, delay: float = 0.0, hang_first: bool = False, fail_status: int | None = None
    ) -> None:
        self.delay = delay
        self.fail_status = fail_status
        self.hang_first = hang_first
        self.lock = threading.Lock()
        self.token_requests: list[str] = []  # the client secret of each token request
        self.issued: dict[str, str] = {}  # token → the client secret it was issued to
        self.paid: list[tuple[int, str]] = []  # (amount, bearer token) per order
        self.revoked: set[str] = set()  # tokens an order is refused with (HTTP 401)
        self.released = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def tokens_for(self, secret: str) -> int:
        with self.lock:
            return self.token_requests.count(secret)

    def issue(self, secret: str) -> str | None:
        with self.lock:
            self.token_requests.append(secret)
            number = len(self.token_requests)
            if self.hang_first and number == 1:
                return None
            token = f"tok_{number}_ISSUED_SECRET_VALUE"
            self.issued[token] = secret
            return token


def _handler(fake: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path == "/v1/oauth2/token":
                pair = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
                token = fake.issue(pair.split(":", 1)[1])
                if token is None:
                    fake.released.wait()
                    return
                time.sleep(fake.delay)
                self._answer({"access_token": token, "expires_in": 3600}, fake.fail_status or 200)
            elif self.path == "/v1/orders":
                bearer = self.headers["Authorization"].removeprefix("Bearer ")
                if bearer in fake.revoked:
                    self._answer({"error": {"code": "expired", "message": "no"}}, 401)
                    return
                with fake.lock:
                    fake.paid.append((json.loads(body)["amount"], bearer))
                self._answer({"id": "ord_1"})
            else:
                self._answer({"id": "pay_1", "status": "approved", "amount": 1, "currency": "USD"})

        def _answer(self, data: dict[str, Any], status: int = 200) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    return Handler
