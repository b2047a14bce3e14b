"""The service's tests: the app in process (httpx over ASGI, lifespan run by hand) in front of a
recording fake processor."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from engine._credentials import Secret
from engine.service import ServiceConfig, create_app
from engine.service._config import ApiKey, Profile, _digest

from .fake_processor import FakeProcessor, fake_processor, scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import service_harness

API_KEY = "svc_test_key_0123456789"
LIMITED_KEY = "svc_test_limited_987654"
STRIPE_SECRET = "sk_test_51M2JTkLkdIwHu7ixServiceTestKey0000"
WEBHOOK_SECRET = "whsec_serviceTestWebhookSecret"


def config(**changes: Any) -> ServiceConfig:
    base = ServiceConfig(
        api_keys=(
            ApiKey("main", _digest(API_KEY)),
            ApiKey("limited", _digest(LIMITED_KEY), frozenset({"shop"}), credentials=False),
        ),
        profiles={
            "shop": Profile(
                "shop",
                "stripe",
                "sandbox",
                {"api_key": Secret(STRIPE_SECRET)},
                Secret(WEBHOOK_SECRET),
            ),
            "other": Profile("other", "adyen", "sandbox", {}),
        },
        allow_base_url=True,
        shutdown_grace=0.3,
    )
    from dataclasses import replace

    return replace(base, **changes)


@pytest.fixture
def processor() -> Iterator[FakeProcessor]:
    with fake_processor() as fake:
        fake.answer(scenario("stripe", "authorize_card_automatic_captured"))
        yield fake


class Service:
    """An app and an httpx client over ASGI, with the headers of a profile call preset."""

    def __init__(self, app: Any, http: httpx.AsyncClient, processor: FakeProcessor) -> None:
        self.app, self.http, self.processor = app, http, processor

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {API_KEY}",
            "X-Connector-Profile": "shop",
            "X-Connector-Base-Url": self.processor.url,
            **extra,
        }

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.http.post(path, json=body, **kwargs)


async def started(
    processor: FakeProcessor, settings: ServiceConfig
) -> tuple[Any, httpx.AsyncClient]:
    app = create_app(settings)
    await app.state.service.start()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")
    return app, http


@pytest_asyncio.fixture
async def service(processor: FakeProcessor) -> AsyncIterator[Service]:
    app, http = await started(processor, config())
    try:
        yield Service(app, http, processor)
    finally:
        await http.aclose()
        await app.state.service.stop()


AUTHORIZE = {
    "amount": 1099,
    "currency": "USD",
    "payment_method": {
        "type": "card",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    },
    "reference": "order-1001",
}


@pytest.fixture(scope="session")
def remote_service() -> Iterator[dict[str, str]]:
    """The real service (`connector serve`) in front of localstripe, once per session: the
    environment the clients' tests read (see tools/service_harness.py)."""
    with service_harness.running() as env:
        yield env
