"""tools/redis_server.py: a missing redis-server is a clear failure naming the package, and a
started server keeps nothing on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from .conftest import redis_server


def test_a_missing_binary_fails_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"apt-get install redis-server"):
        redis_server.start()


def test_the_server_persists_nothing(redis_session: redis_server.RedisServer) -> None:
    with redis.Redis.from_url(redis_session.url) as connection:
        assert connection.config_get("save") == {"save": ""}
        assert connection.config_get("appendonly") == {"appendonly": "no"}
        assert connection.config_get("bind")["bind"] == "127.0.0.1"
