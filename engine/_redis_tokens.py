"""A token cache that processes share through Redis: token cache key + seal → an AccessToken
fetched once per key across every process (sync via redis, async via redis.asyncio).

What Redis holds says nothing by itself. Keys are the engine's hashed cache keys (no credential);
a value is AES-256-GCM ciphertext of the token and its expiry under the seal, a key only the
tenant's credentials give (engine._tokens.token_cache_seal), bound to its Redis key as
associated data. A value that does not decrypt (tampered, moved to another key, written by
someone without the credentials) is a miss, never an error and never a token. A value lives as
long as its token is usable (Redis TTL = expiry minus the engine's margin).

One fetch per key across processes: the process that misses takes a lock in Redis (SET NX PX
with a random owner, released only by its owner through a compare-and-delete script) and holds
it while it fetches and stores; the others poll the cache with short, growing pauses, bounded
by the call's deadline, and take what the holder stored. A holder that dies leaves a lock that
expires. Redis unreachable is no reason for a payment to fail: the token is then fetched
without it (and kept in this process) and a warning names only the error's type; the cache
leaves Redis alone for `rest_seconds` before trying it again.

The single flight is one sans-I/O conversation (`_converse`): the sync and async drivers only
carry out the Redis commands, pauses and the fetch it asks for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlsplit

import redis
import redis.asyncio
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from ._credentials import Secret
from ._tokens import EXPIRY_MARGIN_SECONDS, Accept, AccessToken, TokenWaitExpired

__all__ = ["RedisTokenCache"]

logger = logging.getLogger("engine")

#: The first byte of every stored value: the layout (version, 12-byte nonce, ciphertext + tag).
_LAYOUT = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16

#: Releases a lock only for its owner (a lock that expired may already be another's).
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

#: Tokens kept in this process before the expired ones are dropped.
_LOCAL_TOKENS = 10_000

#: Pauses between looks while another process fetches: short first, growing to this.
_FIRST_PAUSE = 0.005
_LONGEST_PAUSE = 0.1

#: What a failed Redis command is, for a driver: the error's type only (its message may name
#: the server, and a URL may carry a password).
_REDIS_ERRORS = (redis.RedisError, OSError)


@dataclass(frozen=True, slots=True)
class _Get:
    name: str


@dataclass(frozen=True, slots=True)
class _Lock:
    name: str
    owner: str
    milliseconds: int


@dataclass(frozen=True, slots=True)
class _Put:
    name: str
    value: bytes
    milliseconds: int


@dataclass(frozen=True, slots=True)
class _Unlock:
    name: str
    owner: str


@dataclass(frozen=True, slots=True)
class _Pause:
    seconds: float


@dataclass(frozen=True, slots=True)
class _Fetch:
    pass


@dataclass(frozen=True, slots=True)
class _Unreachable:
    """A Redis command failed (the answer a driver sends for it)."""

    kind: str


_Command = _Get | _Lock | _Put | _Unlock
_Step = _Command | _Pause | _Fetch
#: What a driver sends back: a command's answer, an _Unreachable, a fetched token or the
#: exception the fetch raised (re-raised once the lock is released).
_Answer = bytes | bool | None | _Unreachable | AccessToken | BaseException
_Conversation = Generator[_Step, _Answer, tuple[AccessToken, bool]]


class RedisTokenCache:
    """Access tokens shared through Redis by every process using the same `url`
    (`redis://[:password@]host:port/db`, or `rediss://` for TLS): select it with
    `Client(..., token_cache=RedisTokenCache("redis://127.0.0.1:6379/0"))`.

    `lock_seconds` bounds how long a fetching process keeps the others waiting (a dead holder's
    lock expires after that); `timeout` bounds each Redis command; after a failure the cache
    leaves Redis alone for `rest_seconds`. `prefix` starts every key it writes. Tokens this
    process fetched or read are also kept here (`get`/`set`: the plain TokenCache side), so a
    call that finds one asks Redis nothing. Close it with `close()` (sync) and, in each event
    loop that used it, `await aclose()`."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "connector-service:",
        lock_seconds: float = 10.0,
        timeout: float = 0.5,
        rest_seconds: float = 5.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("a Redis URL starts with redis://, rediss:// or unix://")
        self._url = Secret(url)  # may carry a password
        self._where = f"{parts.scheme}://{parts.hostname or ''}:{parts.port or ''}{parts.path}"
        self.prefix = prefix
        self.lock_seconds = lock_seconds
        self.timeout = timeout
        self.rest_seconds = rest_seconds
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._unlock = self._redis.register_script(_UNLOCK)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _AsyncSide] = (
            weakref.WeakKeyDictionary()
        )
        self._local: dict[str, AccessToken] = {}
        self._guard = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._resting_until = 0.0

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Self:
        return cls(url, **options)

    def __repr__(self) -> str:
        return f"RedisTokenCache({self._where!r})"

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("a RedisTokenCache cannot be pickled (it holds tokens)")

    # The plain TokenCache side: this process's copies.

    def get(self, key: str) -> AccessToken | None:
        with self._guard:
            token = self._local.get(key)
            if token is not None:
                self._counts["local_hits"] += 1
            return token

    def set(self, key: str, token: AccessToken) -> None:
        with self._guard:
            if len(self._local) >= _LOCAL_TOKENS and key not in self._local:
                now = time.time()
                self._local = {k: t for k, t in self._local.items() if t.usable(now)}
            self._local[key] = token

    def counts(self) -> dict[str, int]:
        """What this cache did so far (for metrics): `local_hits` (found in this process),
        `shared_hits` (read from Redis), `fetches`, `waits` (pauses while another process
        fetched) and `unreachable` (Redis commands that failed)."""
        with self._guard:
            return {
                name: self._counts[name]
                for name in ("local_hits", "shared_hits", "fetches", "waits", "unreachable")
            }

    def _count(self, name: str) -> None:
        with self._guard:
            self._counts[name] += 1

    # The shared side (engine._tokens.SharedTokenCache).

    def get_or_fetch(
        self,
        key: str,
        seal: Secret,
        accept: Accept,
        fetch: Callable[[], AccessToken],
        deadline: float | None,
    ) -> tuple[AccessToken, bool]:
        conversation = self._converse(key, seal, accept, deadline)
        answer: _Answer = None
        try:
            while True:
                step = conversation.send(answer)
                if isinstance(step, _Fetch):
                    try:
                        answer = fetch()
                    except BaseException as problem:  # re-raised once the lock is released
                        answer = problem
                elif isinstance(step, _Pause):
                    time.sleep(step.seconds)
                    answer = None
                else:
                    answer = self._command(step)
        except StopIteration as done:
            result: tuple[AccessToken, bool] = done.value
            return result

    async def get_or_fetch_async(
        self,
        key: str,
        seal: Secret,
        accept: Accept,
        fetch: Callable[[], Awaitable[AccessToken]],
        deadline: float | None,
    ) -> tuple[AccessToken, bool]:
        side = self._async_side()
        conversation = self._converse(key, seal, accept, deadline)
        answer: _Answer = None
        try:
            while True:
                step = conversation.send(answer)
                if isinstance(step, _Fetch):
                    try:
                        answer = await fetch()
                    except BaseException as problem:  # re-raised once the lock is released
                        answer = problem
                elif isinstance(step, _Pause):
                    await asyncio.sleep(step.seconds)
                    answer = None
                else:
                    answer = await side.command(step)
        except StopIteration as done:
            result: tuple[AccessToken, bool] = done.value
            return result

    def close(self) -> None:
        """Closes the connections of the sync side."""
        self._redis.close()

    async def aclose(self) -> None:
        """Closes the connections this event loop opened."""
        with self._guard:
            side = self._loops.pop(asyncio.get_running_loop(), None)
        if side is not None:
            await side.redis.aclose()

    # The conversation, and what the drivers run for it.

    def _converse(
        self, key: str, seal: Secret, accept: Accept, deadline: float | None
    ) -> _Conversation:
        """One token for `key`: a stored one that `accept`s, or one fetched under the lock."""
        if time.monotonic() < self._resting_until:
            return (yield from self._alone(key, accept, None))
        name, lock = self.prefix + key, f"{self.prefix}lock:{key}"
        found = yield _Get(name)
        if isinstance(found, _Unreachable):
            return (yield from self._alone(key, accept, found))
        token = self._taken(key, seal, name, found, accept)
        if token is not None:
            return token, False
        owner = os.urandom(16).hex()
        pause = _FIRST_PAUSE
        while True:
            held = yield _Lock(lock, owner, self._lock_milliseconds(deadline))
            if isinstance(held, _Unreachable):
                return (yield from self._alone(key, accept, held))
            if held is True:
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TokenWaitExpired
            self._count("waits")
            yield _Pause(pause if left is None else min(pause, left))
            pause = min(pause * 2, _LONGEST_PAUSE)
            found = yield _Get(name)
            if isinstance(found, _Unreachable):
                return (yield from self._alone(key, accept, found))
            token = self._taken(key, seal, name, found, accept)
            if token is not None:
                return token, False
        # Stored between the last look and the lock: the holder before us just let go.
        found = yield _Get(name)
        self._note(found)
        token = self._taken(key, seal, name, found, accept)
        if token is not None:
            self._note((yield _Unlock(lock, owner)))
            return token, False
        self._count("fetches")
        fetched = yield _Fetch()
        if isinstance(fetched, AccessToken):
            self.set(key, fetched)
            milliseconds = _lifetime_milliseconds(fetched)
            if milliseconds > 0:
                self._note((yield _Put(name, _sealed(seal, name, fetched), milliseconds)))
        self._note((yield _Unlock(lock, owner)))
        if not isinstance(fetched, AccessToken):
            raise _raised(fetched)
        return fetched, True

    def _alone(self, key: str, accept: Accept, why: _Unreachable | None) -> _Conversation:
        """Redis unreachable: this process's copy, or a fetch that no other process shares."""
        self._note(why)
        kept = self.get(key)
        if kept is not None and accept(kept):
            return kept, False
        self._count("fetches")
        fetched = yield _Fetch()
        if not isinstance(fetched, AccessToken):
            raise _raised(fetched)
        self.set(key, fetched)
        return fetched, True

    def _taken(
        self, key: str, seal: Secret, name: str, found: _Answer, accept: Accept
    ) -> AccessToken | None:
        """The stored token when it decrypts and `accept`s (and keeps it in this process)."""
        if not isinstance(found, bytes):
            return None
        token = _opened(seal, name, found, key)
        if token is None or not accept(token):
            return None
        self._count("shared_hits")
        self.set(key, token)
        return token

    def _note(self, answer: _Answer) -> None:
        """Rests the cache (and warns, once per rest) when a Redis command failed."""
        if not isinstance(answer, _Unreachable):
            return
        self._count("unreachable")
        if time.monotonic() >= self._resting_until:
            logger.warning(
                "token cache %s unreachable (%s): access tokens are fetched without it for %.0f s",
                self._where,
                answer.kind,
                self.rest_seconds,
            )
        self._resting_until = time.monotonic() + self.rest_seconds

    def _lock_milliseconds(self, deadline: float | None) -> int:
        seconds = self.lock_seconds
        if deadline is not None:
            seconds = min(seconds, deadline - time.monotonic())
        return max(1, math.ceil(seconds * 1000))

    def _command(self, step: _Command) -> _Answer:
        try:
            if isinstance(step, _Get):
                value = self._redis.get(step.name)
                return value if isinstance(value, bytes) else None
            if isinstance(step, _Lock):
                return bool(self._redis.set(step.name, step.owner, nx=True, px=step.milliseconds))
            if isinstance(step, _Put):
                self._redis.set(step.name, step.value, px=step.milliseconds)
                return True
            self._unlock(keys=[step.name], args=[step.owner])
            return True
        except _REDIS_ERRORS as problem:
            return _Unreachable(type(problem).__name__)

    def _async_side(self) -> _AsyncSide:
        loop = asyncio.get_running_loop()
        with self._guard:
            side = self._loops.get(loop)
            if side is None:
                side = self._loops[loop] = _AsyncSide(self._url, self.timeout)
            return side


class _AsyncSide:
    """The redis.asyncio client of one event loop (its connections belong to that loop)."""

    __slots__ = ("redis", "unlock")

    def __init__(self, url: Secret, timeout: float) -> None:
        self.redis: redis.asyncio.Redis = redis.asyncio.Redis.from_url(
            url.reveal(),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=AsyncRetry(NoBackoff(), 1),
        )
        self.unlock = self.redis.register_script(_UNLOCK)

    async def command(self, step: _Command) -> _Answer:
        try:
            if isinstance(step, _Get):
                value = await self.redis.get(step.name)
                return value if isinstance(value, bytes) else None
            if isinstance(step, _Lock):
                held = await self.redis.set(step.name, step.owner, nx=True, px=step.milliseconds)
                return bool(held)
            if isinstance(step, _Put):
                await self.redis.set(step.name, step.value, px=step.milliseconds)
                return True
            await self.unlock(keys=[step.name], args=[step.owner])
            return True
        except _REDIS_ERRORS as problem:
            return _Unreachable(type(problem).__name__)


def _raised(answer: _Answer) -> BaseException:
    """What the fetch raised (a driver answers a _Fetch with a token or that exception)."""
    return answer if isinstance(answer, BaseException) else AssertionError(type(answer).__name__)


def _lifetime_milliseconds(token: AccessToken) -> int:
    """How long Redis keeps a token: while it is usable (0: not worth storing)."""
    left = token.expires_at - EXPIRY_MARGIN_SECONDS - time.time()
    return max(0, math.floor(left * 1000))


def _sealed(seal: Secret, name: str, token: AccessToken) -> bytes:
    """The stored value: layout byte, nonce, AES-256-GCM(token + expiry), bound to `name`."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps({"token": token.token.reveal(), "expires_at": token.expires_at})
    cipher = AESGCM(bytes.fromhex(seal.reveal()))
    return _LAYOUT + nonce + cipher.encrypt(nonce, plain.encode(), name.encode())


def _opened(seal: Secret, name: str, value: bytes, key: str) -> AccessToken | None:
    """The token a stored value holds, or None when it is not one this seal made for `name`."""
    if len(value) < 1 + _NONCE_BYTES + _TAG_BYTES or value[:1] != _LAYOUT:
        return None
    nonce, sealed = value[1 : 1 + _NONCE_BYTES], value[1 + _NONCE_BYTES :]
    try:
        cipher = AESGCM(bytes.fromhex(seal.reveal()))
        data: Any = json.loads(cipher.decrypt(nonce, sealed, name.encode()))
        token, expires_at = data["token"], data["expires_at"]
    except (InvalidTag, ValueError, KeyError, TypeError, RecursionError):
        return None
    if not isinstance(token, str) or not token or not isinstance(expires_at, int | float):
        return None
    if isinstance(expires_at, bool) or not math.isfinite(expires_at):
        return None
    return AccessToken(Secret(token), float(expires_at), bound_to=key)
