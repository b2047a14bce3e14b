"""POST /v1/route/{flow}: the config's routing rules over its profiles; the Result says which
profile answered; a follow-up names it in X-Connector-Profile."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from engine._credentials import Secret
from engine.service._config import Profile

from .conftest import API_KEY, AUTHORIZE, LIMITED_KEY, config, started
from .fake_processor import FakeProcessor, scenario

pytestmark = pytest.mark.asyncio


def _closed() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_routed_calls_fail_over_and_follow_ups_reach_the_holder(
    processor: FakeProcessor, tmp_path: Path
) -> None:
    rules = tmp_path / "routing.json"
    rules.write_text(
        json.dumps(
            {
                "routing_version": 1,
                "profiles": {"down": {"connector": "stripe"}, "up": {"connector": "stripe"}},
                "default": {"candidates": ["down", "up"]},
            }
        )
    )
    key = {"api_key": Secret("sk_test_51RouteProfile0000000000")}
    profiles = {
        **config().profiles,
        "down": Profile("down", "stripe", "sandbox", key),
        "up": Profile("up", "stripe", "sandbox", key),
    }
    from engine._load import load_spec_text
    from engine.service._config import _routing

    assert _routing(load_spec_text("{}\n"), str(rules), profiles) == str(rules)
    app, http = await started(processor, config(profiles=profiles, routing=str(rules)))
    # Profiles in a router send to their spec's hosts; point each at its test server.
    service = app.state.service
    real_client = service.client

    def client(connector, tenant, **options):  # type: ignore[no-untyped-def]
        url = _closed() if tenant.profile == "down" else processor.url
        return real_client(
            connector,
            tenant.__class__(tenant.credentials, "sandbox", tenant.profile, url),
            **options,
        )

    service.client = client
    try:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        response = await http.post("/v1/route/authorize", json=AUTHORIZE, headers=headers)
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["status"] == "captured"
        assert result["routing"]["profile"] == "up"
        assert [a["outcome"] for a in result["routing"]["attempts"]] == ["not_sent", "captured"]
        assert "raw" not in result  # never unless asked
        processor.answer(scenario("stripe", "capture_full"))
        follow = await http.post(
            "/v1/route/capture",
            json={"connector_transaction_id": result["connector_transaction_id"]},
            headers={**headers, "X-Connector-Profile": "up", "X-Connector-Raw-Response": "true"},
        )
        assert follow.json()["routing"]["profile"] == "up"
        # Asked for: the answering processor's own body, as the routed Result's raw.
        raw = follow.json()["raw"]
        assert raw["status_code"] == 200 and raw["truncated"] is False
        assert json.loads(raw["body"]) == scenario("stripe", "capture_full")["response"]["body"]
        lost = await http.post(
            "/v1/route/capture",
            json={"connector_transaction_id": "pi_unknown"},
            headers=headers,
        )
        assert lost.status_code == 422 and lost.json()["pointer"] == "/connector_transaction_id"
        limited = {"Authorization": f"Bearer {LIMITED_KEY}"}
        refused = await http.post("/v1/route/authorize", json=AUTHORIZE, headers=limited)
        assert refused.status_code == 403
        assert len(processor.received) == 2
    finally:
        await http.aclose()
        await service.stop()


async def test_no_rules_no_route(processor: FakeProcessor) -> None:
    app, http = await started(processor, config())
    try:
        response = await http.post(
            "/v1/route/authorize", json=AUTHORIZE, headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert response.status_code == 404
        assert response.json()["type"].endswith("/unknown-flow")
    finally:
        await http.aclose()
        await app.state.service.stop()
