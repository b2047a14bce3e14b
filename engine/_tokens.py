"""Access tokens (the `token` auth scheme and its OAuth2 client-credentials preset): the login
request (pure), its answer → AccessToken, the cache that reuses a token until shortly before it
expires, and the per-key flights that make concurrent calls share one token request.

A token belongs to exactly the credentials that fetched it: the cache key is a SHA-256
fingerprint of every credential value (secret or not), the connector, the environment and the
token URL, and a fetched AccessToken carries that key, so a Client built with other credentials
never uses it. The cache interface is two methods, so another store can replace the in-memory
default (keys are stable across processes); a SharedTokenCache (engine.RedisTokenCache) adds one
fetch per key across processes and keeps tokens encrypted under a seal only the credentials give
(token_cache_seal). A stateless caller can instead keep the AccessToken a Result returns and
pass it back to the next Client.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # asyncio is imported where a task needs it: a sync caller never does
    import asyncio

from ._build import root_url
from ._credentials import ResolvedCredentials, Secret, resolve_credentials
from ._encoding import ENCODERS
from ._errors import CredentialsError, NotSentError
from ._http import HttpRequest, HttpResponse
from ._plan import ConnectorPlan, TokenPlan
from ._scrub import Scrubber
from ._timestamps import read_timestamp

#: A token is not used in its last seconds: the request may take that long to arrive.
EXPIRY_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True, init=False)
class AccessToken:
    """An access token (a Secret: `.token.reveal()` gives it) and when it expires (Unix
    seconds). `bound_to` is the token cache key it was fetched for: a Client whose credentials
    give another key ignores it. A token the caller builds (`bound_to` None) is the caller's
    word that it belongs to the Client's credentials. Prints, copies and `asdict`s without the
    token; refuses to be pickled."""

    token: Secret
    expires_at: float
    bound_to: str | None = field(default=None, repr=False, compare=False)

    def __init__(self, token: str | Secret, expires_at: float, bound_to: str | None = None) -> None:
        object.__setattr__(self, "token", token if isinstance(token, Secret) else Secret(token))
        object.__setattr__(self, "expires_at", expires_at)
        object.__setattr__(self, "bound_to", bound_to)

    def usable(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.expires_at - EXPIRY_MARGIN_SECONDS

    def fits(self, key: str) -> bool:
        """Whether a Client whose token cache key is `key` may send this token."""
        return self.bound_to is None or self.bound_to == key

    def __repr__(self) -> str:
        return f"AccessToken(token='***', expires_at={self.expires_at:.0f})"


class TokenCache(Protocol):
    def get(self, key: str) -> AccessToken | None: ...

    def set(self, key: str, token: AccessToken) -> None: ...


class MemoryTokenCache:
    """The default cache: this process only, thread-safe."""

    def __init__(self) -> None:
        self._tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(key)

    def set(self, key: str, token: AccessToken) -> None:
        with self._lock:
            self._tokens[key] = token


DEFAULT_TOKEN_CACHE = MemoryTokenCache()

#: Whether a token found in a cache may be sent (it fits the key, is usable, was not refused).
Accept = Callable[[AccessToken], bool]


@runtime_checkable
class SharedTokenCache(TokenCache, Protocol):
    """A TokenCache that processes share (engine.RedisTokenCache). Its plain get/set are this
    process's copies; on a miss the client asks `get_or_fetch`, which returns a stored token
    that `accept`s, or runs `fetch` — once per key across every process sharing the store —
    and stores what it fetched. `seal` (token_cache_seal) is derived from the credentials:
    what the store keeps is encrypted with it. Raises TokenWaitExpired when `deadline`
    (time.monotonic) passes while another process holds the fetch; an unreachable store is
    no reason to fail: the token is then fetched without it."""

    def get_or_fetch(
        self,
        key: str,
        seal: Secret,
        accept: Accept,
        fetch: Callable[[], AccessToken],
        deadline: float | None,
    ) -> tuple[AccessToken, bool]: ...

    async def get_or_fetch_async(
        self,
        key: str,
        seal: Secret,
        accept: Accept,
        fetch: Callable[[], Awaitable[AccessToken]],
        deadline: float | None,
    ) -> tuple[AccessToken, bool]: ...


class TokenWaitExpired(Exception):
    """The call's deadline passed while another process was fetching the token."""


def token_url(
    plan: ConnectorPlan,
    resolved: ResolvedCredentials,
    *,
    environment: str = "sandbox",
    base_url: str | None = None,
    allow_undeclared_host: bool = False,
) -> str:
    """Where the token request goes (the cache key names this same URL)."""
    token = _token_plan(plan)
    context = {"credentials": resolved.settings}
    root = root_url(plan, environment, context, base_url, allow_undeclared_host)
    return root.rstrip("/") + token.path


def token_cache_key(
    plan: ConnectorPlan, resolved: ResolvedCredentials, *, environment: str, url: str
) -> str:
    """`oauth2:<connector>:<environment>:<sha256>`, the hash over the connector, environment,
    token URL and every credential value (canonical JSON). Holds no credential; the same in
    every process (no salt), so a shared cache works."""
    canonical = _canonical(plan, resolved, environment, url)
    digest = hashlib.sha256(canonical).hexdigest()
    del canonical  # holds every credential value: not left in a traceback's frame locals
    return f"oauth2:{plan.id}:{environment}:{digest}"


def token_cache_seal(
    plan: ConnectorPlan, resolved: ResolvedCredentials, *, environment: str, url: str
) -> Secret:
    """A 256-bit key (hex) only these credentials give: HMAC-SHA256 keyed by its own label over
    the canonical JSON the cache key hashes, so the key (which a shared cache stores) tells
    nothing of it. A shared cache encrypts the token with it: a dump of the store alone holds
    no token and no credential."""
    canonical = _canonical(plan, resolved, environment, url)
    seal = Secret(hmac.new(_SEAL_LABEL, canonical, hashlib.sha256).hexdigest())
    del canonical
    return seal


_SEAL_LABEL = b"connector-service/token-cache/seal/v1"


def _canonical(
    plan: ConnectorPlan, resolved: ResolvedCredentials, environment: str, url: str
) -> bytes:
    return json.dumps(
        {
            "connector": plan.id,
            "environment": environment,
            "url": url,
            "credentials": dict(resolved.values),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")


@dataclass(frozen=True, slots=True)
class TokenWanted:
    """What a call's conversation yields when it needs an access token: the client answers
    with (AccessToken, fetched_now), fetching once per key however many calls wait.
    `rejected` is a token the processor just refused (never handed out again)."""

    key: str
    rejected: AccessToken | None = None


class Flight:
    """The token fetch for one key: a lock for threads, one per event loop for asyncio tasks,
    and the token it fetched (waiters take it even when the cache does not keep it)."""

    __slots__ = ("__weakref__", "_loop_locks", "lock", "token")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.token: AccessToken | None = None
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def task_lock(self) -> asyncio.Lock:
        import asyncio

        with _FLIGHTS_GUARD:
            loop = asyncio.get_running_loop()
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock


_FLIGHTS_GUARD = threading.Lock()
_FLIGHTS: weakref.WeakValueDictionary[str, Flight] = weakref.WeakValueDictionary()


def flight(key: str) -> Flight:
    """This process's flight for `key`; it lives while a call holds or waits on it."""
    with _FLIGHTS_GUARD:
        found = _FLIGHTS.get(key)
        if found is None:
            found = _FLIGHTS[key] = Flight()
        return found


def _token_plan(plan: ConnectorPlan) -> TokenPlan:
    if plan.auth.token is None:
        raise CredentialsError(f"{plan.id} does not use access tokens")
    return plan.auth.token


def build_token_request(
    plan: ConnectorPlan,
    credentials: Mapping[str, object] | None,
    *,
    environment: str = "sandbox",
    base_url: str | None = None,
    allow_undeclared_host: bool = False,
    check_credential_patterns: bool = True,
) -> HttpRequest:
    """The login (token) request the spec's token scheme describes: its headers and body are
    templates over the credentials; every header value it renders is scrubbed from echoes.
    `check_credential_patterns=False` lets placeholders stand for the credentials (a render)."""
    token = _token_plan(plan)
    resolved = resolve_credentials(plan, credentials, check_patterns=check_credential_patterns)
    context: dict[str, Any] = {"credentials": resolved.values}
    if plan.auth.prepare is not None:  # a login that reads a nonce or the time
        plan.auth.prepare(context, token.method, "", time.time())
    rendered = token.headers(context) or {}
    headers = {str(k): str(v) for k, v in rendered.items() if v is not None}  # null: omitted
    body: bytes | None = None
    derived = [v for k, v in headers.items() if k.lower() in token.sensitive_headers]
    if token.body is not None and token.encoding is not None:
        encode, content_type, _ = ENCODERS[token.encoding]
        fields = token.body(context) or {}
        body = encode(fields)
        headers.setdefault("Content-Type", content_type)
        # A field made from a secret (a hash of a nonce and the key) is scrubbed like it.
        derived += [str(fields[k]) for k in token.sensitive_fields if fields.get(k) is not None]
    return HttpRequest(
        method=token.method,
        url=token_url(
            plan,
            resolved,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
        ),
        headers=headers,
        body=body,
        scrubber=Scrubber(resolved.secrets, derived),
        sensitive_headers=token.sensitive_headers,
    )


def parse_token_response(
    plan: ConnectorPlan, response: HttpResponse, *, now: float | None = None
) -> AccessToken:
    """The access token, or an exception: without a token the payment request is never sent."""
    return parse_token_answer(plan, response.status_code, hide_body(response), now=now)


def hide_body(response: HttpResponse) -> Secret:
    """The token endpoint's answer body (it holds the token) as a Secret, lossless."""
    return Secret(response.body.decode("latin-1"))


def parse_token_answer(
    plan: ConnectorPlan, status_code: int, body: Secret, *, now: float | None = None
) -> AccessToken:
    """parse_token_response over a hidden body: no frame of a raised exception shows it."""
    if status_code in (400, 401, 403):
        raise CredentialsError(
            f"{plan.id}: the token endpoint refused the client credentials "
            f"(HTTP {status_code}); nothing else was sent"
        )
    clock = time.time() if now is None else now
    grant = _read_grant(_token_plan(plan), body, clock)
    if grant is None:
        raise NotSentError(
            f"{plan.id}: no access token could be read (HTTP {status_code}); "
            "the payment request was not sent"
        )
    token, expires_at = grant
    if status_code >= 300 or not token.reveal():
        raise NotSentError(
            f"{plan.id}: the token endpoint answered HTTP {status_code}; the payment request "
            "was not sent"
        )
    return AccessToken(token, expires_at)


def _read_grant(plan: TokenPlan, body: Secret, now: float) -> tuple[Secret, float] | None:
    """The token (wrapped at once) and when it expires (Unix seconds); its own frame, so the
    decoded answer is never among a traceback's locals. No expiry in the answer: the token
    serves this call and is not reused."""
    try:
        data: Any = json.loads(body.reveal().encode("latin-1").decode("utf-8-sig"))
        value = plan.token(data)
        if not isinstance(value, str | int) or isinstance(value, bool):
            return None
        expires_at = now
        if plan.expires_in is not None:
            lifetime = plan.expires_in(data)
            if lifetime is not None:
                if isinstance(lifetime, bool):
                    return None
                seconds = float(lifetime)
                if not math.isfinite(seconds):
                    return None
                expires_at = now + seconds
        elif plan.expires_at is not None:
            search, fmt = plan.expires_at
            when = search(data)
            if when is not None:
                read = read_timestamp(when, fmt)
                if read is None:
                    return None
                expires_at = read
        return Secret(str(value)), expires_at
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
