"""The OAuth connector and tenants the token-cache tests use, in this process or a worker."""

from __future__ import annotations

import functools
from typing import Any

from engine import AsyncClient, Client, Connector, RedisTokenCache

from ..unit.conftest import acme_variant, card_request
from ..unit.test_oauth_and_steps import _oauth_steps

#: Two merchants of the same OAuth app (same client id): only their secrets differ.
TENANTS = {
    "alpha": {"client_id": "cid_shared_app", "client_secret": "alpha_CLIENT_SECRET_1"},
    "beta": {"client_id": "cid_shared_app", "client_secret": "beta_CLIENT_SECRET_2"},
}
#: Each tenant pays its own amount, so the fake processor knows whose order a token paid.
AMOUNTS = {"alpha": 1001, "beta": 1002}


@functools.cache
def connector() -> Connector:
    return Connector(acme_variant(_oauth_steps))


def client(tenant: str, base_url: str, cache: RedisTokenCache, **kwargs: Any) -> Client:
    return Client(
        connector(),
        TENANTS[tenant],
        base_url=base_url,
        allow_undeclared_host=True,
        token_cache=cache,
        **kwargs,
    )


def async_client(tenant: str, base_url: str, cache: RedisTokenCache, **kwargs: Any) -> AsyncClient:
    return AsyncClient(
        connector(),
        TENANTS[tenant],
        base_url=base_url,
        allow_undeclared_host=True,
        token_cache=cache,
        **kwargs,
    )


def payment(tenant: str) -> dict[str, Any]:
    return card_request(amount=AMOUNTS[tenant])
