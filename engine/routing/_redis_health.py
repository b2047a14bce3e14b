"""The circuit breakers of engine.routing._health in Redis, so that every replica of the service
sees one state per profile: each decision is one Lua script (atomic), timed by Redis's own clock
(replicas' clocks may differ). The half-open probe is a lease that expires, so a replica that
dies while probing does not hold the circuit half-open for ever.

Redis down: the router fails open (every profile allowed, nothing recorded) and logs it once a
minute — a health cache must never stop payments."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from ._health import HealthPolicy

logger = logging.getLogger("engine.routing")

_ALLOW = """
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '')
if not opened then return 1 end
if now - opened < tonumber(ARGV[1]) then return 0 end
local lease = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if lease > now then return 0 end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[2]))
return 1
"""

_RECORD = """
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local failed = ARGV[1] == '1'
local window = tonumber(ARGV[4])
local was_probe = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0') > 0
redis.call('HDEL', KEYS[1], 'probe_until')
redis.call('ZADD', KEYS[2], now, ARGV[6] .. ':' .. ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('EXPIRE', KEYS[2], math.ceil(window) + 1)
if not failed then
  redis.call('HSET', KEYS[1], 'consecutive', 0)
  if was_probe or redis.call('HEXISTS', KEYS[1], 'opened_at') == 1 then
    redis.call('HDEL', KEYS[1], 'opened_at')
    redis.call('DEL', KEYS[2])
  end
  return 0
end
local consecutive = redis.call('HINCRBY', KEYS[1], 'consecutive', 1)
local calls = redis.call('ZRANGE', KEYS[2], 0, -1)
local failures = 0
for _, member in ipairs(calls) do
  if string.sub(member, -2) == ':1' then failures = failures + 1 end
end
if was_probe or consecutive >= tonumber(ARGV[2])
   or (#calls >= tonumber(ARGV[5]) and failures / #calls >= tonumber(ARGV[3])) then
  redis.call('HSET', KEYS[1], 'opened_at', now)
  return 1
end
return 0
"""

_STATE = """
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '')
if not opened then return 'closed' end
if now - opened < tonumber(ARGV[1]) then return 'open' end
return 'half_open'
"""


class RedisHealth:
    """`RedisHealth("redis://127.0.0.1:6379/0", policy, namespace="shop")`: a HealthStore
    shared by every process that names the same Redis and namespace."""

    def __init__(
        self,
        url: str,
        policy: HealthPolicy | None = None,
        *,
        namespace: str = "default",
        probe_seconds: float = 10.0,
        client: Any = None,
    ) -> None:
        import redis

        self.policy = policy or HealthPolicy()
        self._redis = client or redis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25
        )
        self._prefix = f"connector:routing:health:{namespace}:"
        self._probe = probe_seconds
        self._allow = self._redis.register_script(_ALLOW)
        self._record = self._redis.register_script(_RECORD)
        self._state = self._redis.register_script(_STATE)
        self._warned = 0.0

    def __repr__(self) -> str:
        return f"RedisHealth(namespace={self._prefix.split(':')[-2]!r})"

    def _keys(self, profile: str) -> list[str]:
        return [self._prefix + profile, self._prefix + profile + ":calls"]

    def _down(self, what: str) -> None:
        now = time.monotonic()
        if now - self._warned > 60:
            self._warned = now
            logger.warning("routing health: Redis unreachable (%s); every profile allowed", what)

    def allow(self, profile: str) -> bool:
        import redis

        try:
            return bool(
                self._allow(
                    keys=self._keys(profile)[:1], args=[self.policy.open_seconds, self._probe]
                )
            )
        except redis.RedisError as exc:
            self._down(type(exc).__name__)
            return True

    def record(self, profile: str, failed: bool) -> None:
        import redis

        policy = self.policy
        args = [
            "1" if failed else "0",
            policy.consecutive_failures,
            policy.error_rate,
            policy.window_seconds,
            policy.min_calls,
            uuid.uuid4().hex,
        ]
        try:
            self._record(keys=self._keys(profile), args=args)
        except redis.RedisError as exc:
            self._down(type(exc).__name__)

    def state(self, profile: str) -> str:
        import redis

        try:
            value = self._state(keys=self._keys(profile)[:1], args=[self.policy.open_seconds])
        except redis.RedisError as exc:
            self._down(type(exc).__name__)
            return "closed"
        return value.decode() if isinstance(value, bytes) else str(value)
