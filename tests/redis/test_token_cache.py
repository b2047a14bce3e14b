"""engine.RedisTokenCache against a real redis-server: one token per tenant across Clients,
threads, asyncio tasks and OS processes; tenants never share; what Redis holds is no token and
no credential; a tampered value is a miss; Redis down costs a fetch, never a payment; a dead
lock holder's lock expires and another process takes over."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from engine import Limits, NotSentError, RedisTokenCache
from engine._redis_tokens import _UNLOCK, _opened, _sealed
from engine._tokens import AccessToken

from .tenants import AMOUNTS, TENANTS, async_client, client, payment
from .token_server import TokenServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as connection:
        yield connection


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pay(tenant: str, server: TokenServer, cache: RedisTokenCache, **kwargs: Any) -> str:
    with client(tenant, server.url, cache, **kwargs) as payer:
        return str(payer.authorize(payment(tenant)).status)


def _wrong_tokens(server: TokenServer) -> list[tuple[int, str]]:
    """Orders paid with a token issued to another tenant (or never issued)."""
    owner = {AMOUNTS[name]: creds["client_secret"] for name, creds in TENANTS.items()}
    return [(a, t) for a, t in server.paid if server.issued.get(t) != owner[a]]


def _worker(order: dict[str, Any]) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.redis.worker", json.dumps(order)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def _go(worker: subprocess.Popen[str]) -> None:
    assert worker.stdin is not None
    worker.stdin.write("go\n")
    worker.stdin.flush()


def _finish(worker: subprocess.Popen[str]) -> list[str]:
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0
    statuses: list[str] = json.loads(out.strip().splitlines()[-1])
    return statuses


def test_two_caches_on_one_redis_share_one_token(redis_url: str, token_server: TokenServer) -> None:
    first, second = RedisTokenCache(redis_url), RedisTokenCache(redis_url)
    assert _pay("alpha", token_server, first) == "captured"
    assert _pay("alpha", token_server, second) == "captured"  # another process's view
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 1
    assert len({bearer for _, bearer in token_server.paid}) == 1
    first.close()
    second.close()


def test_two_processes_with_the_same_credentials_share_one_token(
    redis_url: str, token_server: TokenServer
) -> None:
    order = {"redis_url": redis_url, "base_url": token_server.url, "tenants": ["alpha"]}
    for _ in range(2):
        worker = _worker(order)
        _go(worker)
        assert _finish(worker) == ["captured"]
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 1
    assert _wrong_tokens(token_server) == []


def test_different_tenants_never_share_a_token(redis_url: str, token_server: TokenServer) -> None:
    cache = RedisTokenCache(redis_url)
    for tenant in ["alpha", "beta", "alpha", "beta"]:
        assert _pay(tenant, token_server, RedisTokenCache(redis_url)) == "captured"
        assert _pay(tenant, token_server, cache) == "captured"
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 1
    assert token_server.tokens_for(TENANTS["beta"]["client_secret"]) == 1
    assert len(token_server.paid) == 8
    assert _wrong_tokens(token_server) == []
    cache.close()


def test_threads_tasks_and_processes_fetch_one_token_per_tenant(
    redis_url: str, token_server: TokenServer
) -> None:
    tenants, threads = ["alpha", "beta"], 4
    order = {
        "redis_url": redis_url,
        "base_url": token_server.url,
        "tenants": tenants,
        "threads": threads,
    }
    # Three OS processes, each ready and waiting for the word: two with threads, one asyncio.
    workers = [_worker(order), _worker(order), _worker({**order, "asyncio": True})]
    thread_cache, task_cache = RedisTokenCache(redis_url), RedisTokenCache(redis_url)
    statuses: list[str] = []

    def pay(tenant: str) -> None:
        statuses.append(_pay(tenant, token_server, thread_cache))

    async def tasks() -> list[str]:
        async def one(tenant: str) -> str:
            async with async_client(tenant, token_server.url, task_cache) as payer:
                return str((await payer.authorize(payment(tenant))).status)

        try:
            return await asyncio.gather(*(one(t) for t in tenants for _ in range(threads)))
        finally:
            await task_cache.aclose()

    pool = [threading.Thread(target=pay, args=(t,)) for t in tenants for _ in range(threads)]
    for worker in workers:
        _go(worker)
    for thread in pool:
        thread.start()
    statuses += asyncio.run(tasks())
    for thread in pool:
        thread.join()
    for worker in workers:
        statuses += _finish(worker)
    thread_cache.close()
    assert statuses == ["captured"] * (len(tenants) * threads * 5)
    for tenant in tenants:
        assert token_server.tokens_for(TENANTS[tenant]["client_secret"]) == 1, tenant
    assert _wrong_tokens(token_server) == []


def test_asyncio_calls_talk_to_redis_without_blocking_their_loop(
    redis_url: str, token_server: TokenServer
) -> None:
    async def pay_in_a_fresh_process_view() -> str:
        cache = RedisTokenCache(redis_url)
        cache._command = _no_blocking_redis  # type: ignore[method-assign]
        try:
            async with async_client("alpha", token_server.url, cache) as payer:
                return str((await payer.authorize(payment("alpha"))).status)
        finally:
            await cache.aclose()

    assert asyncio.run(pay_in_a_fresh_process_view()) == "captured"
    assert asyncio.run(pay_in_a_fresh_process_view()) == "captured"
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 1


def _no_blocking_redis(step: object) -> object:
    raise AssertionError("an asyncio call used the blocking Redis client")


def test_a_token_the_processor_refuses_is_replaced_once_for_every_process(
    redis_url: str, token_server: TokenServer
) -> None:
    assert _pay("alpha", token_server, RedisTokenCache(redis_url)) == "captured"
    token_server.revoked.update(token_server.issued)  # the processor no longer takes it
    assert _pay("alpha", token_server, RedisTokenCache(redis_url)) == "captured"
    assert _pay("alpha", token_server, RedisTokenCache(redis_url)) == "captured"
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 2
    first, second = sorted(token_server.issued)
    assert [bearer for _, bearer in token_server.paid] == [first, second, second]


def test_counts_say_what_the_cache_did(redis_url: str, token_server: TokenServer) -> None:
    first, second = RedisTokenCache(redis_url), RedisTokenCache(redis_url)
    for cache in [first, first, second]:
        assert _pay("alpha", token_server, cache) == "captured"
    assert first.counts() == {
        "local_hits": 1,
        "shared_hits": 0,
        "fetches": 1,
        "waits": 0,
        "unreachable": 0,
    }
    assert second.counts()["shared_hits"] == 1 and second.counts()["fetches"] == 0


def _everything_redis_holds(store: redis.Redis, redis_url: str, tmp_path: Path) -> bytes:
    """Every key and value (GET, DUMP), and a full RDB snapshot taken by redis-cli --rdb."""
    held = b""
    for name in store.keys("*"):
        held += name + b"\n" + (store.get(name) or b"") + b"\n" + (store.dump(name) or b"")
    port = redis_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    snapshot = tmp_path / "dump.rdb"
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", port, "--rdb", str(snapshot)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return held + snapshot.read_bytes()


def test_what_redis_holds_is_no_token_and_no_credential(
    redis_url: str, token_server: TokenServer, store: redis.Redis, tmp_path: Path
) -> None:
    for tenant in TENANTS:
        assert _pay(tenant, token_server, RedisTokenCache(redis_url)) == "captured"
    assert len(store.keys("*")) == 2  # one value per tenant; the locks are gone
    held = _everything_redis_holds(store, redis_url, tmp_path)
    assert len(token_server.issued) == 2
    values = [*token_server.issued, *(v for c in TENANTS.values() for v in c.values())]
    for value in values:
        for shape in {value.encode(), value.encode("utf-16-le"), value.encode().hex().encode()}:
            assert shape not in held
    for name in store.keys("*"):
        assert name.startswith(b"connector-service:oauth2:acme:sandbox:")
        assert 3500_000 < store.pttl(name) <= 3540_000  # the token's life minus the margin


def test_a_tampered_value_is_a_miss_never_an_error(
    redis_url: str, token_server: TokenServer, store: redis.Redis
) -> None:
    assert _pay("alpha", token_server, RedisTokenCache(redis_url)) == "captured"
    (name,) = store.keys("*")
    value = bytearray(store.get(name) or b"")
    value[-5] ^= 0x01
    store.set(name, bytes(value), keepttl=True)
    assert _pay("alpha", token_server, RedisTokenCache(redis_url)) == "captured"
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 2  # a miss: fetched
    for garbage in [b"", b"\x01", b"not a sealed value at all", b"\x02" + bytes(40)]:
        store.set(name, garbage, keepttl=True)
        assert _pay("alpha", token_server, RedisTokenCache(redis_url)) == "captured"
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 6
    assert _wrong_tokens(token_server) == []


def test_a_value_moved_to_another_tenants_key_is_a_miss(
    redis_url: str, token_server: TokenServer, store: redis.Redis
) -> None:
    for tenant in TENANTS:
        assert _pay(tenant, token_server, RedisTokenCache(redis_url)) == "captured"
    first, second = store.keys("*")
    store.set(second, store.get(first) or b"", keepttl=True)  # alpha's value under beta's key
    for tenant in TENANTS:
        assert _pay(tenant, token_server, RedisTokenCache(redis_url)) == "captured"
    assert len(token_server.token_requests) == 3  # whoever's key was overwritten fetched again
    assert _wrong_tokens(token_server) == []


def test_a_sealed_value_opens_only_with_its_seal_and_its_key() -> None:
    from engine import Secret

    token = AccessToken("tok_SEALED", time.time() + 3600)
    seal, other = Secret("11" * 32), Secret("22" * 32)
    value = _sealed(seal, "name", token)
    opened = _opened(seal, "name", value, "key")
    assert opened is not None and opened.token.reveal() == "tok_SEALED"
    assert opened.bound_to == "key" and opened.expires_at == token.expires_at
    assert _opened(other, "name", value, "key") is None
    assert _opened(seal, "another name", value, "key") is None
    assert b"tok_SEALED" not in value
    assert _sealed(seal, "name", token) != value  # a fresh nonce per value


def test_redis_down_the_call_still_succeeds_by_fetching(
    token_server: TokenServer, own_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = own_redis
    url = f"redis://:hunter2_REDIS_PASSWORD@127.0.0.1:{server.port}/0"
    with redis.Redis.from_url(server.url) as admin:
        admin.config_set("requirepass", "hunter2_REDIS_PASSWORD")
    assert _pay("alpha", token_server, RedisTokenCache(url)) == "captured"
    server.stop()
    with caplog.at_level(logging.WARNING, logger="engine"):
        down = RedisTokenCache(url)
        assert _pay("alpha", token_server, down) == "captured"
        assert _pay("alpha", token_server, down) == "captured"  # this process's copy
    assert token_server.tokens_for(TENANTS["alpha"]["client_secret"]) == 2
    assert "unreachable" in caplog.text
    assert "hunter2" not in caplog.text and "hunter2" not in repr(down)
    assert _wrong_tokens(token_server) == []


def test_redis_down_and_no_token_sends_no_payment(caplog: pytest.LogCaptureFixture) -> None:
    refusing = TokenServer(hang_first=True)
    try:
        cache = RedisTokenCache(f"redis://127.0.0.1:{_free_port()}/0")
        with caplog.at_level(logging.WARNING, logger="engine"), pytest.raises(NotSentError):
            _pay("alpha", refusing, cache, limits=Limits(total_timeout=1.0))
        assert refusing.paid == []
    finally:
        refusing.stop()


def test_a_failed_fetch_releases_the_lock_and_leaves_no_secret_in_frame_locals(
    redis_url: str, store: redis.Redis
) -> None:
    failing = TokenServer(fail_status=502)
    try:
        with pytest.raises(NotSentError) as raised:
            _pay("alpha", failing, RedisTokenCache(redis_url))
        assert failing.paid == [] and store.keys("*") == []  # no lock left, nothing stored
        shown = traceback.TracebackException.from_exception(raised.value, capture_locals=True)
        frames = [f for f in shown.stack if "/engine/" in f.filename]
        assert any("_redis_tokens" in f.filename for f in frames)
        text = "".join(repr(f.locals) for f in frames)
        secrets = [*failing.issued, *failing.token_requests, "ISSUED_SECRET_VALUE"]
        assert [s for s in secrets if s in text] == []
    finally:
        failing.stop()


def test_a_dead_lock_holder_is_taken_over_after_the_lock_expires(
    redis_url: str, store: redis.Redis
) -> None:
    hanging = TokenServer(hang_first=True)  # the first token request is never answered
    order = {
        "redis_url": redis_url,
        "base_url": hanging.url,
        "tenants": ["alpha"],
        "lock_seconds": 3.0,
    }
    try:
        holder = _worker(order)
        _go(holder)
        while not hanging.token_requests:
            time.sleep(0.01)
        (lock,) = store.keys("connector-service:lock:*")
        holder.kill()
        holder.communicate()
        assert store.pttl(lock) > 0  # the dead process's lock is still there
        assert _pay("alpha", hanging, RedisTokenCache(redis_url)) == "captured"
        assert hanging.tokens_for(TENANTS["alpha"]["client_secret"]) == 2
        assert not store.exists(lock)
        assert _wrong_tokens(hanging) == []
    finally:
        hanging.stop()


def test_waiting_for_another_fetch_is_bounded_by_the_calls_deadline(
    redis_url: str, token_server: TokenServer, store: redis.Redis
) -> None:
    cache = RedisTokenCache(redis_url)
    with client("alpha", token_server.url, cache) as probe:
        key = probe._token_key()
    store.set(f"connector-service:lock:{key}", "another process", px=60_000)
    with pytest.raises(NotSentError, match="waiting for an access token"):
        _pay("alpha", token_server, cache, limits=Limits(total_timeout=0.5))
    assert token_server.token_requests == [] and token_server.paid == []


def test_a_lock_is_released_only_by_its_owner(store: redis.Redis) -> None:
    unlock = store.register_script(_UNLOCK)
    store.set("lock", "owner-a", px=60_000)
    assert unlock(keys=["lock"], args=["owner-b"]) == 0
    assert store.get("lock") == b"owner-a"
    assert unlock(keys=["lock"], args=["owner-a"]) == 1
    assert not store.exists("lock")


def test_the_cache_prints_without_its_password_and_refuses_pickling() -> None:
    cache = RedisTokenCache("redis://user:pa55word_SECRET@127.0.0.1:6390/2")
    assert "pa55word" not in repr(cache) and "6390/2" in repr(cache)
    with pytest.raises(TypeError):
        pickle.dumps(cache)
    with pytest.raises(ValueError, match="redis://"):
        RedisTokenCache("http://127.0.0.1:6379")
    assert isinstance(RedisTokenCache.from_url("redis://127.0.0.1:6390/0"), RedisTokenCache)
    cache.close()
