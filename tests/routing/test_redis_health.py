"""RedisHealth: the circuits of several replicas are one, in a real redis-server; the half-open
probe is one call across them all; Redis down fails open."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.routing import HealthPolicy, RedisHealth

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import redis_server


@pytest.fixture
def server() -> Iterator[redis_server.RedisServer]:
    running = redis_server.start()
    try:
        yield running
    finally:
        running.stop()


def _replicas(url: str, count: int = 3) -> list[RedisHealth]:
    policy = HealthPolicy(consecutive_failures=3, open_seconds=0.4, window_seconds=30)
    return [RedisHealth(url, policy, namespace="shop") for _ in range(count)]


def _wait_for(health: RedisHealth, state: str) -> None:
    for _ in range(100):
        if health.state("p") == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"never {state}")


def test_replicas_share_one_circuit(server: redis_server.RedisServer) -> None:
    first, second, third = _replicas(server.url)
    first.record("p", True)
    second.record("p", True)
    assert third.state("p") == "closed" and third.allow("p")
    third.record("p", True)  # the third failure in a row, counted across replicas
    assert [r.state("p") for r in (first, second, third)] == ["open"] * 3
    assert not first.allow("p") and not second.allow("p")
    assert RedisHealth(server.url, namespace="other").state("p") == "closed"  # namespaced
    _wait_for(first, "half_open")
    allowed = [r.allow("p") for r in (first, second, third)]
    assert allowed.count(True) == 1  # one probe across every replica
    prober = (first, second, third)[allowed.index(True)]
    prober.record("p", False)
    assert [r.state("p") for r in (first, second, third)] == ["closed"] * 3
    assert all(r.allow("p") for r in (first, second, third))


def test_a_failed_probe_opens_again(server: redis_server.RedisServer) -> None:
    first, second, _ = _replicas(server.url)
    for _ in range(3):
        first.record("p", True)
    _wait_for(second, "half_open")
    assert second.allow("p")
    second.record("p", True)
    assert first.state("p") == "open"


def test_redis_down_fails_open(server: redis_server.RedisServer) -> None:
    health = _replicas(server.url, 1)[0]
    for _ in range(3):
        health.record("p", True)
    assert not health.allow("p")
    server.stop()
    assert health.allow("p")  # a health cache never stops payments
    health.record("p", True)  # nothing raised
    assert health.state("p") == "closed"
