"""nginx (the Debian package's binary) as the load balancer in front of the service's replicas,
on 127.0.0.1 only, from a generated nginx.conf in a temporary folder (no root, no system files).

Retries: `proxy_next_upstream error` without `non_idempotent`. nginx's documentation: `error`
passes a request to the next server when "an error occurred while establishing a connection
with the server, passing a request to it, or reading the response header", but "requests with
a non-idempotent method (POST, LOCK, PATCH) are not passed to the next server if a request has
been sent to an upstream server" unless `non_idempotent` is given. Every call of the service is
a POST, so nginx tries another replica only when the connection could not be made (refused:
that replica never saw the call); once the request was written, a replica that dies makes a
502 for the caller, never a second copy of the payment on another replica. `timeout` is left
out on purpose (a read timeout after sending is the same doubt as a dead replica; nginx would
not retry a POST then either, so it adds nothing but confusion), and no `http_5xx` either: a
replica's 503 problem document (shutting-down, overloaded, not-sent) reaches the caller as is.
No upstream keepalive: with it, a POST written on a pooled connection the replica is closing at
that moment fails after sending (a 502 although nothing reached the replica) unless nginx's
upstream `keepalive_timeout` is kept below the replica's (uvicorn: 5 s).

nginx's own 502 and 504 answer a problem document too (`replica-lost`, `replica-timeout`)
saying the outcome is unknown: unlike the service's problem documents, these do NOT mean that
nothing was sent. Each answer carries `X-Upstream-Addr` and `X-Upstream-Bytes-Sent` (nginx's
`$upstream_addr` and `$upstream_bytes_sent`: one entry per replica tried)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "install it with `apt-get install nginx-light` (Debian package; `nginx` works too)"
#: Outside the service's own problem types: a balancer's answer never says "nothing was sent".
PROBLEM_BASE = "https://connector-service.dev/gateway/"
#: Where Debian puts nginx (/usr/sbin is not on every user's PATH).
CANDIDATES = ("/usr/sbin/nginx", "/sbin/nginx")


def binary() -> str:
    """The nginx executable; a clear error (never a skip) when it is missing."""
    found = shutil.which("nginx") or next(
        (path for path in CANDIDATES if Path(path).exists()), None
    )
    if found is None:
        raise RuntimeError(f"nginx is not installed: {INSTALL_HINT}")
    return found


def _gateway_problem(status: int, slug: str, title: str) -> str:
    # nginx substitutes the variables; their values (addresses, numbers) need no JSON escaping.
    return (
        f'{{"type":"{PROBLEM_BASE}{slug}","title":"{title}","status":{status},'
        '"detail":"the replica holding the call failed before it answered: the call may have '
        "reached the processor; look the payment up (get, find) or resend it with the same "
        'idempotency key","request_id":"$request_id","upstream":"$upstream_addr",'
        '"upstream_bytes_sent":"$upstream_bytes_sent"}'
    )


def render_config(folder: Path, port: int, upstreams: list[str], *, max_fails: int = 1) -> str:
    """nginx.conf: one worker, everything under `folder`, `upstreams` ("127.0.0.1:port")
    balanced round robin. `max_fails=0` keeps trying a dead replica (every call that picks it
    exercises the connect-error retry); nginx's default, 1, avoids it for 10 s after a fail."""
    servers = "\n".join(f"        server {u} max_fails={max_fails};" for u in upstreams)
    headers = (
        "add_header X-Upstream-Addr $upstream_addr always;\n"
        "            add_header X-Upstream-Bytes-Sent $upstream_bytes_sent always;"
    )
    temp = "\n".join(
        f"    {name}_temp_path {folder / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
worker_processes 1;
daemon off;
master_process on;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;

events {{
    worker_connections 4096;
}}

http {{
    log_format calls '$request_id $status "$http_idempotency_key" upstream=$upstream_addr '
                     'status=$upstream_status sent=$upstream_bytes_sent';
    access_log {folder / "access.log"} calls;
{temp}
    client_max_body_size 1m;

    upstream replicas {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{port} backlog=1024;
        server_tokens off;

        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection close;
            proxy_set_header Host $host;
            # Another replica only when the connection could not be made: see balancer.py.
            proxy_next_upstream error;
            proxy_next_upstream_tries {len(upstreams)};
            proxy_connect_timeout 2s;
            proxy_send_timeout 30s;
            proxy_read_timeout 70s;
            proxy_intercept_errors off;
            {headers}
            error_page 502 @replica_lost;
            error_page 504 @replica_timeout;
        }}

        location @replica_lost {{
            default_type application/problem+json;
            {headers}
            return 502 '{_gateway_problem(502, "replica-lost", "The replica failed")}';
        }}

        location @replica_timeout {{
            default_type application/problem+json;
            {headers}
            return 504 '{_gateway_problem(504, "replica-timeout", "The replica did not answer")}';
        }}
    }}
}}
"""


@dataclass
class Balancer:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        """nginx's stderr and error log (tails), and the access log's lines of failed calls."""
        parts = []
        for name in ("stderr.log", "error.log"):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- nginx {name}\n{path.read_text(errors='replace')[-4000:]}")
        access = self.folder / "access.log"
        if access.exists():
            failed = [
                line
                for line in access.read_text(errors="replace").splitlines()
                if line.split(" ", 2)[1:2] != ["200"]
            ]
            parts.append("--- nginx access.log, calls not answered 200\n" + "\n".join(failed))
        return "\n".join(parts)

    def stop(self) -> None:
        """SIGTERM (nginx's fast shutdown), then SIGKILL; removes its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(upstreams: list[str], *, max_fails: int = 1, timeout: float = 20.0) -> Balancer:
    """nginx balancing `upstreams`; returns once it accepts connections."""
    executable = binary()
    folder = Path(tempfile.mkdtemp(prefix="nginx-"))
    # nginx run by root hands its workers to `nobody`: they must reach the temp folders.
    folder.chmod(0o755)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(render_config(folder, port, upstreams, max_fails=max_fails), "utf-8")
    command = [executable, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")]
    with (folder / "stderr.log").open("wb") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink)
    balancer = Balancer(process, port, folder)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = balancer.logs()
            balancer.stop()
            raise RuntimeError(f"nginx exited with {process.returncode}\n{logs}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return balancer
        except OSError:
            time.sleep(0.05)
    logs = balancer.logs()
    balancer.stop()
    raise RuntimeError(f"nginx did not listen in time\n{logs}")
