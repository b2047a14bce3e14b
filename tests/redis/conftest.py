"""A real redis-server (the Debian package) per test session, on 127.0.0.1 with a free port,
no persistence, in a temporary directory; flushed before each test. A missing binary fails
the tests (install it with `apt-get install redis-server`), never skips them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import redis_server

from .token_server import TokenServer


@pytest.fixture(scope="session")
def redis_session() -> Iterator[redis_server.RedisServer]:
    server = redis_server.start()  # raises with the install hint when redis-server is missing
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_session: redis_server.RedisServer) -> Iterator[str]:
    with redis.Redis.from_url(redis_session.url) as connection:
        connection.flushall()
    yield redis_session.url


@pytest.fixture
def own_redis() -> Iterator[redis_server.RedisServer]:
    """A redis-server of this test alone (which it may stop)."""
    server = redis_server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer(delay=0.2)
    try:
        yield server
    finally:
        server.stop()
