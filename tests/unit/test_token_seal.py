"""engine._tokens: the seal a shared cache encrypts a token with (derived from the credentials,
unrelated to the cache key) and the cache protocols: a cache with only get/set still works."""

from __future__ import annotations

import hashlib

import httpx

from engine import Client, Connector
from engine._credentials import Secret, resolve_credentials
from engine._tokens import (
    AccessToken,
    MemoryTokenCache,
    SharedTokenCache,
    token_cache_key,
    token_cache_seal,
)

from .conftest import acme_variant, card_request
from .test_oauth_and_steps import CREDS, Processor, _oauth_steps

URL = "https://api.sandbox.acme-pay.com/v1/oauth2/token"


def _seal_and_key(
    creds: dict[str, str], environment: str = "sandbox", url: str = URL
) -> tuple[Secret, str]:
    plan = acme_variant(_oauth_steps)
    resolved = resolve_credentials(plan, creds)
    return (
        token_cache_seal(plan, resolved, environment=environment, url=url),
        token_cache_key(plan, resolved, environment=environment, url=url),
    )


def test_the_seal_is_the_credentials_own_and_says_nothing_through_the_key() -> None:
    seal, key = _seal_and_key(CREDS)
    assert isinstance(seal, Secret) and "***" in repr(seal)
    assert seal == _seal_and_key(dict(CREDS))[0]  # the same in every process
    assert len(bytes.fromhex(seal.reveal())) == 32  # an AES-256 key
    others = [
        _seal_and_key({**CREDS, "client_secret": "another"})[0],
        _seal_and_key(CREDS, environment="production")[0],
        _seal_and_key(CREDS, url=URL + "?x")[0],
    ]
    assert all(other != seal for other in others)
    digest = key.rsplit(":", 1)[1]
    assert seal.reveal() != digest and seal.reveal() not in key
    assert hashlib.sha256(bytes.fromhex(seal.reveal())).hexdigest() != digest


class PlainCache:
    """A user's cache with only the two plain methods."""

    def __init__(self) -> None:
        self.tokens: dict[str, AccessToken] = {}

    def get(self, key: str) -> AccessToken | None:
        return self.tokens.get(key)

    def set(self, key: str, token: AccessToken) -> None:
        self.tokens[key] = token


def test_a_cache_with_only_get_and_set_keeps_working() -> None:
    processor, cache = Processor(), PlainCache()
    assert not isinstance(cache, SharedTokenCache)
    assert not isinstance(MemoryTokenCache(), SharedTokenCache)
    connector = Connector(acme_variant(_oauth_steps))
    for _ in range(2):
        http = httpx.Client(transport=httpx.MockTransport(processor))
        with Client(connector, CREDS, http_client=http, token_cache=cache) as client:
            assert client.authorize(card_request()).status == "captured"
    assert processor.tokens == 1 and len(cache.tokens) == 1
