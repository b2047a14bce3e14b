"""Bounded and graceful: a connector's concurrency limit refuses (nothing sent) instead of
queueing without end; a stopping replica takes no new calls, lets those in flight finish within
its grace, and answers those still running then as `unresolved` — none is dropped."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import API_KEY, AUTHORIZE, config, started
from .fake_processor import FakeProcessor, fake_processor, scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import service_harness


def _headers(processor: FakeProcessor) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {API_KEY}",
        "X-Connector-Profile": "shop",
        "X-Connector-Base-Url": processor.url,
    }


async def _until_received(processor: FakeProcessor, count: int) -> None:
    for _ in range(500):
        if len(processor.received) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the processor never got the request")


@pytest.mark.asyncio
async def test_past_the_concurrency_limit_is_503_and_nothing_sent(
    processor: FakeProcessor,
) -> None:
    processor.answer(scenario("stripe", "authorize_card_automatic_captured"), delay=0.5)
    app, http = await started(processor, config(concurrency_per_connector=1))
    try:
        first = asyncio.ensure_future(
            http.post("/v1/stripe/authorize", json=AUTHORIZE, headers=_headers(processor))
        )
        await _until_received(processor, 1)
        second = await http.post(
            "/v1/stripe/authorize", json=AUTHORIZE, headers=_headers(processor)
        )
        assert second.status_code == 503
        assert second.json()["type"].endswith("/overloaded")
        assert second.headers["Retry-After"] == "1"
        assert (await first).json()["status"] == "captured"
        assert len(processor.received) == 1
    finally:
        await http.aclose()
        await app.state.service.stop()


@pytest.mark.asyncio
async def test_a_call_outliving_the_grace_is_answered_unresolved(processor: FakeProcessor) -> None:
    processor.answer(scenario("stripe", "authorize_card_automatic_captured"), delay=3.0)
    app, http = await started(processor, config(shutdown_grace=0.2))
    service = app.state.service
    try:
        call = asyncio.ensure_future(
            http.post(
                "/v1/stripe/authorize",
                json=AUTHORIZE,
                headers={**_headers(processor), "Idempotency-Key": "drain-1"},
            )
        )
        await _until_received(processor, 1)
        drained = asyncio.ensure_future(service.drain())
        await asyncio.sleep(0.05)
        refused = await http.post(
            "/v1/stripe/authorize", json=AUTHORIZE, headers=_headers(processor)
        )
        assert refused.status_code == 503
        assert refused.json()["type"].endswith("/shutting-down")
        response = await call
        await drained
        assert response.status_code == 200
        result = response.json()
        assert result["status"] == "unresolved"
        assert result["idempotency_key"] == "drain-1"
        assert result["error"]["code"] == "timeout"
        assert len(processor.received) == 1
    finally:
        await http.aclose()
        await service.stop()


@pytest.mark.asyncio
async def test_a_call_within_the_grace_finishes(processor: FakeProcessor) -> None:
    processor.answer(scenario("stripe", "authorize_card_automatic_captured"), delay=0.3)
    app, http = await started(processor, config(shutdown_grace=5.0))
    service = app.state.service
    try:
        call = asyncio.ensure_future(
            http.post("/v1/stripe/authorize", json=AUTHORIZE, headers=_headers(processor))
        )
        await _until_received(processor, 1)
        await service.drain()
        assert (await call).json()["status"] == "captured"
    finally:
        await http.aclose()
        await service.stop()


@pytest.mark.parametrize(("delay", "status"), [(0.3, "captured"), (6.0, "unresolved")])
def test_sigterm_drains_a_real_replica(delay: float, status: str) -> None:
    settings = service_harness.config({"shutdown_grace": 1.0})
    with fake_processor() as processor:
        processor.answer(scenario("stripe", "authorize_card_automatic_captured"), delay=delay)
        process, url, log = service_harness.start_service(settings)
        answers: list[Any] = []
        headers = {
            "Authorization": f"Bearer {service_harness.API_KEY}",
            "X-Connector-Profile": service_harness.PROFILE,
            "X-Connector-Base-Url": processor.url,
        }

        def call() -> None:
            answers.append(
                httpx.post(
                    f"{url}/v1/stripe/authorize", json=AUTHORIZE, headers=headers, timeout=30
                )
            )

        thread = threading.Thread(target=call)
        thread.start()
        for _ in range(500):
            if processor.received:
                break
            time.sleep(0.01)
        assert processor.received, log.read_text()
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
        code = process.wait(timeout=30)
        assert answers and answers[0].status_code == 200, log.read_text()
        assert answers[0].json()["status"] == status
        # uvicorn re-raises the signal once it has drained: the exit is by SIGTERM, cleanly.
        assert code in (0, -signal.SIGTERM), log.read_text()
        assert len(processor.received) == 1
