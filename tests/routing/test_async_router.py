"""AsyncRouter: the same decisions as Router, over AsyncClients."""

from __future__ import annotations

import pytest

from engine import AsyncClient
from engine.routing import AsyncRouter

from .conftest import PAYMENT, FakeProcessor, closed_port, rules, scenario


@pytest.mark.asyncio
async def test_async_failover_and_follow_up(processors: dict[str, FakeProcessor]) -> None:
    urls = {n: f.url for n, f in processors.items()}
    urls["a"] = closed_port()
    clients = {
        name: AsyncClient(
            "stripe",
            {"api_key": f"sk_test_51Async{name.upper()}000000000"},
            base_url=url,
            allow_undeclared_host=True,
        )
        for name, url in urls.items()
    }
    try:
        router = AsyncRouter(rules(), clients)
        paid = await router.authorize({**PAYMENT, "capture_method": "manual"})
        assert paid.routing is not None and paid.routing.profile == "b"
        processors["b"].answer(scenario("stripe", "capture_full"))
        captured = await router.capture({"connector_transaction_id": paid.connector_transaction_id})
        assert captured.routing is not None and captured.routing.profile == "b"
        assert [len(f.received) for f in processors.values()] == [0, 2, 0]
    finally:
        for client in clients.values():
            await client.aclose()
