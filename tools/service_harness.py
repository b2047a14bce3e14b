"""Start the service (`connector serve --allow-base-url`) in front of localstripe, both on
127.0.0.1, for the clients' live tests; stop both afterwards.

    python tools/service_harness.py -- node --test clients/typescript/test/

runs the command with these in its environment, and exits with its exit code:

    CONNECTOR_SERVICE_URL        the service, e.g. http://127.0.0.1:43121
    CONNECTOR_SERVICE_API_KEY    a bearer key the service takes (every profile)
    CONNECTOR_SERVICE_LIMITED_KEY  a key limited to the profile `stripe-test`, no credentials
    CONNECTOR_SERVICE_PROFILE    `stripe-test`: localstripe's account (connector stripe)
    CONNECTOR_STRIPE_KEY         that account's secret key (for X-Connector-Credentials)
    CONNECTOR_STRIPE_BASE_URL    localstripe (send it as X-Connector-Base-Url; create test
                                 payment methods there: POST /v1/payment_methods)
    CONNECTOR_STRIPE_WEBHOOK_SECRET  the profile's webhook signing secret

The Python tests use `running()` directly (tests/service/conftest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import localstripe_server

API_KEY = "svc_test_harnessKey0001"
LIMITED_KEY = "svc_test_limitedKey0002"
STRIPE_KEY = "sk_test_harnessLocalstripe"
WEBHOOK_SECRET = "whsec_harnessWebhookSecret"
PROFILE = "stripe-test"


def config(extra: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "api_keys": [
            {"id": "harness", "key": API_KEY},
            {"id": "limited", "key": LIMITED_KEY, "profiles": [PROFILE]},
        ],
        "profiles": {
            PROFILE: {
                "connector": "stripe",
                "credentials": {"api_key": STRIPE_KEY},
                "webhook_secret": WEBHOOK_SECRET,
            }
        },
        "allow_base_url": True,
        "shutdown_grace": 5,
        **(extra or {}),
    }


def start_service(
    settings: dict[str, object], port: int | None = None, timeout: float = 30.0
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`connector serve` on 127.0.0.1 with `settings` as its config; returns once /readyz
    answers 200. Its JSON log goes to a file next to the config (returned)."""
    port = port or localstripe_server.free_port()
    folder = Path(tempfile.mkdtemp(prefix="connector-service-"))
    config_file = folder / "service.json"
    config_file.write_text(json.dumps(settings), encoding="utf-8")
    log = folder / "service.log"
    connector = Path(sys.executable).with_name("connector")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(connector), "serve", "--port", str(port), "--config", str(config_file)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_SERVICE_")},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"connector serve exited with {process.returncode}: {log.read_text()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url, log
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"connector serve did not get ready in time: {log.read_text()}")


def stop_service(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGTERM (a graceful drain), then SIGKILL if it outlives `timeout`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextlib.contextmanager
def running(extra: dict[str, object] | None = None) -> Iterator[dict[str, str]]:
    """localstripe and the service, running; yields the environment the clients' tests read."""
    stripe, stripe_url = localstripe_server.start()
    try:
        service, url, log = start_service(config(extra))
        try:
            yield {
                "CONNECTOR_SERVICE_URL": url,
                "CONNECTOR_SERVICE_API_KEY": API_KEY,
                "CONNECTOR_SERVICE_LIMITED_KEY": LIMITED_KEY,
                "CONNECTOR_SERVICE_PROFILE": PROFILE,
                "CONNECTOR_SERVICE_LOG": str(log),
                "CONNECTOR_STRIPE_KEY": STRIPE_KEY,
                "CONNECTOR_STRIPE_BASE_URL": stripe_url,
                "CONNECTOR_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
        finally:
            stop_service(service)
    finally:
        localstripe_server.stop(stripe)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run after --")
    with running() as env:
        return subprocess.call(command, env={**os.environ, **env})


if __name__ == "__main__":
    sys.exit(main())
