"""OAuth2 client-credentials tokens: the token request (pure), its answer → AccessToken, and the
cache that reuses a token until shortly before it expires.

The cache interface is two methods, so a shared store (Redis, a database) can replace the
in-memory default; a stateless caller can instead keep the AccessToken a Result returns and pass
it back to the next Client.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from ._build import base_url_for
from ._credentials import resolve_credentials
from ._errors import CredentialsError, NotSentError
from ._http import HttpRequest, HttpResponse
from ._plan import ConnectorPlan
from ._scrub import Scrubber

#: A token is not used in its last seconds: the request may take that long to arrive.
EXPIRY_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An OAuth2 access token and when it expires (Unix seconds). Prints without the token."""

    token: str = field(repr=False)
    expires_at: float

    def usable(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.expires_at - EXPIRY_MARGIN_SECONDS

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


def token_cache_key(plan: ConnectorPlan, base_url: str, credentials: Mapping[str, str]) -> str:
    """Per connector, host and client: the client id is hashed, never stored in the key."""
    assert plan.auth.token is not None
    client = str(plan.auth.token.client_id({"credentials": credentials}))
    digest = hashlib.sha256(client.encode()).hexdigest()[:16]
    return f"{plan.id}|{base_url}|{digest}"


def build_token_request(
    plan: ConnectorPlan,
    credentials: Mapping[str, object] | None,
    *,
    environment: str = "sandbox",
    base_url: str | None = None,
) -> HttpRequest:
    """The token request: POST token_path, HTTP Basic client id and secret, form body."""
    token = plan.auth.token
    if token is None:
        raise CredentialsError(f"{plan.id} does not use OAuth2 access tokens")
    resolved = resolve_credentials(plan, credentials)
    context = {"credentials": resolved.values}
    root = base_url if base_url is not None else base_url_for(plan, environment, context)
    client_id, secret = str(token.client_id(context)), str(token.client_secret(context))
    form = {"grant_type": "client_credentials"}
    if token.scope is not None and token.scope(context):
        form["scope"] = str(token.scope(context))
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    return HttpRequest(
        method="POST",
        url=root.rstrip("/") + token.path,
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        body=urlencode(form).encode("ascii"),
        scrubber=Scrubber([*resolved.secrets, client_id]),
        sensitive_headers=frozenset({"authorization"}),
    )


def parse_token_response(
    plan: ConnectorPlan, response: HttpResponse, *, now: float | None = None
) -> AccessToken:
    """The access token, or an exception: without a token the payment request is never sent."""
    if response.status_code in (400, 401, 403):
        raise CredentialsError(
            f"{plan.id}: the token endpoint refused the client credentials "
            f"(HTTP {response.status_code}); nothing else was sent"
        )
    try:
        data: Any = json.loads(response.body.decode("utf-8-sig"))
        token = str(data["access_token"])
        lifetime = float(data.get("expires_in", 0))
    except (ValueError, KeyError, TypeError):
        raise NotSentError(
            f"{plan.id}: no access token could be read (HTTP {response.status_code}); "
            "the payment request was not sent"
        ) from None
    if response.status_code >= 300 or not token:
        raise NotSentError(f"{plan.id}: the token endpoint answered HTTP {response.status_code}")
    return AccessToken(token, (time.time() if now is None else now) + lifetime)
