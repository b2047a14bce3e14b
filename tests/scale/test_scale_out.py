"""Three replicas of the service behind nginx, sharing one Redis, under load from three
tenants of an OAuth processor (a fake PayPal): each tenant's token is fetched once across all
replicas, and a replica stopped mid-load (SIGKILL, or SIGTERM's graceful drain) loses no call
and doubles none — checked against the requests the processor itself counted.

What a caller can see, and what the processor's counts must then say:
- a Result (HTTP 200): `captured`/`authorized` → the processor got its key exactly once;
  `unresolved` → at most once (the replica stopped waiting; the processor may have it);
- a problem document of the service (nothing sent) → the processor never got its key;
- nginx's `replica-lost` (502: the replica died holding the call) → at most once: the call is
  in doubt, which the caller settles by looking it up; never twice, because nginx retries a
  POST on another replica only when the connection could not be made (see balancer.py).
No call may end without an HTTP answer, and no key may reach the processor twice."""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import redis_server

from . import balancer
from .conftest import API_KEY, TENANTS, Cluster, ClusterFactory, Replica, require
from .load import SUCCESS, Call, Progress, plan_calls, report, run_load

pytestmark = pytest.mark.scale

CALLS = 300
PACE = 0.01  # seconds between launches: the load lasts about three seconds


def _headers(cluster: Cluster) -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}", "X-Connector-Base-Url": cluster.processor.url}


def _metric(metrics: str, name: str) -> float:
    """The value of `name` (its first series) in a Prometheus text page; 0 when absent."""
    for line in metrics.splitlines():
        if line.startswith((name + "{", name + " ")) or ("{" in name and line.startswith(name)):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _stopper(
    cluster: Cluster, victim: Replica, stop: Callable[[], None]
) -> Callable[[Progress], Awaitable[None]]:
    """Stops `victim` mid-load: once half the calls are launched, the processor holds payment
    requests and the victim holds calls (its in-flight gauge)."""

    async def run(progress: Progress) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            while progress.launched < progress.total:
                await asyncio.sleep(0.02)
                if progress.launched < progress.total // 2:
                    continue
                state = (await http.get(f"{cluster.processor.url}/_fake/state")).json()
                metrics = (await http.get(f"{victim.url}/metrics")).text
                if (
                    state["held"] >= 20
                    and _metric(metrics, "connector_service_calls_in_flight") >= 5
                ):
                    stop()
                    progress.stopped.set()
                    return
        raise AssertionError("every call was launched before the replica held calls")

    return run


def _load(
    cluster: Cluster,
    calls: list[Call],
    stopper: Callable[[Progress], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    asyncio.run(run_load(cluster.url, calls, _headers(cluster), pace=PACE, stopper=stopper))
    return cluster.processor.state()


def _check_every_call(calls: list[Call], state: dict[str, Any], context: str) -> None:
    """What holds whatever happened to a replica: every call answered as a Result or a
    problem document, no key at the processor twice, none the load did not send, each paid
    with its own tenant's token, each Result that says paid matching one payment request."""
    payments: dict[str, int] = state["payments"]
    payers: dict[str, list[str]] = state["payers"]
    assert state["refused"] == {}, context
    unanswered = [c.key for c in calls if c.failure is not None]
    assert unanswered == [], f"calls without an HTTP answer: {unanswered}\n{context}"
    doubled = {key: n for key, n in payments.items() if n > 1}
    assert doubled == {}, f"keys the processor got more than once: {doubled}\n{context}"
    assert set(payments) <= {c.key for c in calls}, context
    for call in calls:
        got = payments.get(call.key, 0)
        where = f"call {call.index} ({call.outcome}, via {call.upstreams})\n{context}"
        kind, _, name = call.outcome.partition(":")
        if kind == "result":
            body = call.body
            assert body["idempotency_key"] == call.key, where
            assert name in (SUCCESS[call.capture_method], "unresolved"), where
            if name != "unresolved":
                assert got == 1, where
                assert body["reference"] == call.reference, where
                assert body["amount"] == 1000 + call.index, where
        elif kind == "problem":
            assert call.body["status"] == call.http_status, where
            assert got == 0, f"a problem document of the service, yet the key was sent: {where}"
        elif kind == "gateway":
            assert call.body["status"] == call.http_status == 502, where
            assert got <= 1, where
        else:
            pytest.fail(f"neither a Result nor a problem document: {where}")
        if got:
            # The token that paid was issued to this call's tenant: never another's.
            assert payers[call.key] == [TENANTS[call.tenant]["client_id"], call.reference], where


def _one_token_per_tenant(state: dict[str, Any], context: str) -> None:
    expected = {credentials["client_id"]: 1 for credentials in TENANTS.values()}
    assert state["tokens"] == expected, f"token requests per client id\n{context}"


def test_a_replica_killed_mid_load_loses_no_call_and_doubles_none(
    cluster: ClusterFactory, redis_url: str
) -> None:
    running = cluster({"type": "redis", "url": redis_url})
    victim = running.replicas[0]
    calls = plan_calls(CALLS, list(TENANTS), "kill")
    state = _load(running, calls, _stopper(running, victim, victim.process.kill))
    assert victim.process.wait(timeout=10) == -signal.SIGKILL
    context = report("SIGKILL", calls, state) + "\n" + running.diagnostics()
    print(report("SIGKILL one replica mid-load", calls, state))

    _check_every_call(calls, state, context)
    _one_token_per_tenant(state, context)
    payments: dict[str, int] = state["payments"]
    lost = [c for c in calls if c.outcome.startswith("gateway:")]
    # The hard case happened: the victim died holding calls the processor had received.
    assert any(payments.get(c.key) == 1 for c in lost), context
    for call in lost:
        assert call.answered_by == victim.address, context
    # Calls that found the victim gone were passed to another replica (a refused connection:
    # nothing written), and were paid there exactly once.
    moved = [c for c in calls if len(c.upstreams) > 1]
    assert moved, context
    for call in moved:
        assert call.upstreams[0] == victim.address and call.bytes_sent[0] == "0", context
        assert call.outcome == f"result:{SUCCESS[call.capture_method]}", context
    # Every call the survivors took was paid.
    for call in calls:
        if call.answered_by != victim.address:
            assert call.outcome == f"result:{SUCCESS[call.capture_method]}", context


def test_a_replica_drained_mid_load_answers_every_call_it_took(
    cluster: ClusterFactory, redis_url: str
) -> None:
    # A grace shorter than the processor's slowest answers: some calls the draining replica
    # holds finish in time, the rest come back `unresolved` — none is dropped.
    running = cluster({"type": "redis", "url": redis_url}, shutdown_grace=0.5)
    victim = running.replicas[1]
    calls = plan_calls(CALLS, list(TENANTS), "drain", seed=11)
    state = _load(
        running,
        calls,
        _stopper(running, victim, lambda: victim.process.send_signal(signal.SIGTERM)),
    )
    # uvicorn re-raises the signal once its graceful shutdown is done.
    assert victim.process.wait(timeout=30) in (0, -signal.SIGTERM)
    context = report("SIGTERM", calls, state) + "\n" + running.diagnostics()
    print(report("SIGTERM one replica mid-load", calls, state))

    _check_every_call(calls, state, context)
    _one_token_per_tenant(state, context)
    payments: dict[str, int] = state["payments"]
    # A drained replica sends nothing on that it does not answer: no nginx 502 for a key the
    # processor has. (A 502 can still happen, for a connection the kernel had queued when the
    # replica closed its listening socket: written by nginx, so not retried, but never read by
    # the replica: the processor's count for it is 0.)
    in_doubt = [c.key for c in calls if c.outcome.startswith("gateway:") and payments.get(c.key)]
    assert in_doubt == [], context
    # The calls it held when told to stop came back as Results (paid in time, or
    # `unresolved`); one that reached it after it began draining was refused unsent.
    drained = [
        c.outcome
        for c in calls
        if c.answered_by == victim.address and c.answered_after_stop and not c.launched_after_stop
    ]
    assert any(outcome.startswith("result:") for outcome in drained), context
    assert {o for o in drained if not o.startswith("result:")} <= {
        "problem:shutting-down",
        "gateway:replica-lost",
    }, context
    for call in calls:
        if call.outcome == "result:unresolved":
            assert call.answered_by == victim.address, context


def test_with_the_memory_cache_each_replica_fetches_its_own_token(
    cluster: ClusterFactory,
) -> None:
    """The control: the same load without Redis fetches a token per tenant on every replica,
    so the one-token assertion above is one that can fail."""
    running = cluster({"type": "memory"})
    calls = plan_calls(90, list(TENANTS), "memory", seed=12)
    state = _load(running, calls)
    context = report("memory cache", calls, state) + "\n" + running.diagnostics()
    print(report("memory token cache, no replica stopped", calls, state))

    _check_every_call(calls, state, context)
    assert all(c.outcome == f"result:{SUCCESS[c.capture_method]}" for c in calls), context
    tokens: dict[str, int] = state["tokens"]
    assert set(tokens) == {credentials["client_id"] for credentials in TENANTS.values()}, context
    assert sum(tokens.values()) > len(TENANTS), context
    # The replicas' own count of token fetches (/metrics) agrees with the processor's.
    fetched = sum(
        _metric(
            httpx.get(f"{r.url}/metrics").text,
            'connector_service_token_cache_total{result="stored"}',
        )
        for r in running.replicas
    )
    assert fetched == sum(tokens.values()), context


def test_a_missing_nginx_or_redis_server_fails_naming_its_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fails, never skips: the message names the Debian package to install."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(balancer, "CANDIDATES", ("/nonexistent/nginx",))
    with pytest.raises(pytest.fail.Exception, match="apt-get install nginx-light"):
        require(balancer.binary)
    with pytest.raises(pytest.fail.Exception, match="apt-get install redis-server"):
        require(redis_server.binary)
