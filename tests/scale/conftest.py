"""Real parts on loopback for the scale-out tests: a redis-server, a fake PayPal (its own
process), three `connector serve` replicas and nginx in front of them. Every process is started
by a fixture and stopped by its finalizer, whatever the test's outcome. A missing redis-server
or nginx fails the tests with the Debian package to install; it never skips them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import redis_server  # noqa: E402
import service_harness  # noqa: E402

from . import balancer  # noqa: E402

API_KEY = "svc_test_scaleOutKey0001"
REPLICAS = 3
#: Three merchants, each its own PayPal REST app (client id and secret).
TENANTS: dict[str, dict[str, str]] = {
    "acme-eu": {"client_id": "AcmeEuRestApp_client_0001", "client_secret": "acmeEU_SECRET_aaaa"},
    "bolt-us": {"client_id": "BoltUsRestApp_client_0002", "client_secret": "boltUS_SECRET_bbbb"},
    "cora-jp": {"client_id": "CoraJpRestApp_client_0003", "client_secret": "coraJP_SECRET_cccc"},
}


def require(find: Callable[[], str]) -> str:
    try:
        return find()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@dataclass
class Processor:
    """The fake PayPal's process and URL; `state()` reads its counts."""

    process: subprocess.Popen[str]
    url: str

    def state(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/_fake/state", timeout=10)
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def processor() -> Iterator[Processor]:
    """A fresh fake PayPal per test: tokens answered after 0.3 s (so concurrent first calls on
    every replica overlap while a token is being fetched), payments after 0.8 to 1.6 s (so a
    replica stopped mid-load holds calls the processor already has)."""
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("fake_paypal.py")),
            "--token-delay",
            "0.3",
            "--payment-delay",
            "0.8:1.6",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake PayPal exited with {process.wait()}")
        fake = Processor(process, f"http://127.0.0.1:{json.loads(line)['port']}")
    except BaseException:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        raise
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A fresh redis-server per test (the Debian package's binary; no persistence)."""
    require(redis_server.binary)
    server = redis_server.start()
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")


@dataclass
class Cluster:
    replicas: list[Replica]
    balancer: balancer.Balancer
    processor: Processor

    @property
    def url(self) -> str:
        return self.balancer.url

    def diagnostics(self) -> str:
        """The replicas' and nginx's logs (tails), for a failing assertion's message."""
        parts = [self.balancer.logs()]
        for replica in self.replicas:
            text = replica.log.read_text(errors="replace") if replica.log.exists() else ""
            parts.append(f"--- replica {replica.address}\n{text[-3000:]}")
        return "\n".join(parts)


def replica_config(token_cache: dict[str, str], shutdown_grace: float) -> dict[str, object]:
    return {
        "api_keys": [{"id": "scale", "key": API_KEY}],
        "profiles": {
            name: {"connector": "paypal", "credentials": credentials}
            for name, credentials in TENANTS.items()
        },
        "token_cache": token_cache,
        "allow_base_url": True,
        "shutdown_grace": shutdown_grace,
        "log_level": "warning",
    }


ClusterFactory = Callable[..., Cluster]


@pytest.fixture
def cluster(processor: Processor) -> Iterator[ClusterFactory]:
    """Starts three replicas sharing `token_cache` and nginx in front of them (call it once
    per test); stops all of them afterwards (SIGTERM then SIGKILL: a replica the test killed
    is simply reaped)."""
    started: list[Replica] = []
    balancers: list[balancer.Balancer] = []

    def start(
        token_cache: dict[str, str], *, shutdown_grace: float = 5.0, max_fails: int = 0
    ) -> Cluster:
        require(balancer.binary)
        settings = replica_config(token_cache, shutdown_grace)
        with ThreadPoolExecutor(REPLICAS) as pool:
            futures = [
                pool.submit(service_harness.start_service, settings) for _ in range(REPLICAS)
            ]
            errors = []
            for future in futures:
                try:
                    started.append(Replica(*future.result()))
                except RuntimeError as exc:
                    errors.append(exc)
            if errors:
                raise errors[0]
        balancers.append(balancer.start([r.address for r in started], max_fails=max_fails))
        return Cluster(list(started), balancers[-1], processor)

    try:
        yield start
    finally:
        for front in balancers:
            front.stop()
        with ThreadPoolExecutor(REPLICAS) as pool:
            list(pool.map(lambda r: service_harness.stop_service(r.process, 15), started))
