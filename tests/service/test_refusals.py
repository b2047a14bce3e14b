"""Refusals before anything is sent: each one a problem document of its own type, with the
right HTTP status, naming the bad field or header but never echoing a value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import API_KEY, AUTHORIZE, LIMITED_KEY, Service

pytestmark = pytest.mark.asyncio

BASE = "https://connector-service.dev/problems/"


def problem(response: Any, slug: str, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = response.json()
    assert document["type"] == BASE + slug
    assert document["status"] == status
    assert document["title"] and document["detail"]
    return document


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {API_KEY}", "Bearer", f"Bearer {API_KEY}x"]
)
async def test_a_service_key_is_required(service: Service, authorization: str | None) -> None:
    headers = service.headers()
    del headers["Authorization"]
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    problem(response, "unauthenticated", 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert service.processor.received == []
    listed = await service.http.get("/v1/connectors", headers=headers)
    problem(listed, "unauthenticated", 401)


async def test_unknown_connector_and_flow_are_404(service: Service) -> None:
    response = await service.post("/v1/nosuch/authorize", AUTHORIZE, headers=service.headers())
    assert "stripe" in problem(response, "unknown-connector", 404)["allowed"]
    response = await service.post("/v1/stripe/teleport", AUTHORIZE, headers=service.headers())
    assert "authorize" in problem(response, "unknown-flow", 404)["allowed"]
    response = await service.http.get("/v1/stripe/authorize", headers=service.headers())
    problem(response, "method-not-allowed", 405)
    response = await service.http.get("/nowhere")
    problem(response, "not-found", 404)


async def test_invalid_input_names_the_field(service: Service) -> None:
    body = {**AUTHORIZE, "amount": "10.99"}
    document = problem(
        await service.post("/v1/stripe/authorize", body, headers=service.headers()),
        "invalid-input",
        422,
    )
    assert document["pointer"] == "/amount"
    card = {**AUTHORIZE["payment_method"]["card"], "number": "4242-4242-x"}  # type: ignore[index]
    body = {**AUTHORIZE, "payment_method": {"type": "card", "card": card}}
    response = await service.post("/v1/stripe/authorize", body, headers=service.headers())
    document = problem(response, "invalid-input", 422)
    assert document["pointer"].startswith("/payment_method/card")
    assert "4242-4242-x" not in response.text
    assert service.processor.received == []


async def test_unsupported_is_400(service: Service) -> None:
    body = {**AUTHORIZE, "payment_method": {"type": "upi", "upi": {"vpa": "name@bank"}}}
    response = await service.post("/v1/stripe/authorize", body, headers=service.headers())
    problem(response, "unsupported", 400)


@pytest.mark.parametrize("content", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"amount": NaN}'])
async def test_a_body_that_is_no_json_object_is_400(service: Service, content: bytes) -> None:
    response = await service.http.post(
        "/v1/stripe/authorize", content=content, headers=service.headers()
    )
    problem(response, "bad-request", 400)


async def test_a_large_body_is_413_declared_or_streamed(service: Service) -> None:
    big = b'{"reference": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await service.http.post(
        "/v1/stripe/authorize", content=big, headers=service.headers()
    )
    problem(response, "payload-too-large", 413)

    async def chunks() -> Any:
        for _ in range(40):
            yield b" " * 65536

    response = await service.http.post(
        "/v1/stripe/authorize", content=chunks(), headers=service.headers()
    )
    problem(response, "payload-too-large", 413)


async def test_credentials_come_from_exactly_one_place(service: Service) -> None:
    headers = service.headers()
    del headers["X-Connector-Profile"]
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    problem(response, "bad-request", 400)
    both = service.headers(**{"X-Connector-Credentials": '{"api_key": "sk_test_x"}'})
    problem(await service.post("/v1/stripe/authorize", AUTHORIZE, headers=both), "bad-request", 400)


@pytest.mark.parametrize(
    "raw", ['{"api_key": ', '["sk_test_hidden"]', '{"api_key": 12345}', "sk_test_hidden"]
)
async def test_malformed_credentials_are_named_not_echoed(service: Service, raw: str) -> None:
    headers = service.headers(**{"X-Connector-Credentials": raw})
    del headers["X-Connector-Profile"]
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    document = problem(response, "bad-request", 400)
    assert "X-Connector-Credentials" in document["detail"]
    assert "sk_test_hidden" not in response.text and "12345" not in response.text


async def test_missing_credential_is_401(service: Service) -> None:
    headers = service.headers(**{"X-Connector-Credentials": "{}"})
    del headers["X-Connector-Profile"]
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    problem(response, "invalid-credentials", 401)


async def test_profiles_are_limited_per_key(service: Service) -> None:
    limited = {**service.headers(), "Authorization": f"Bearer {LIMITED_KEY}"}
    ok = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=limited)
    assert ok.status_code == 200
    # Not its profile / a profile of another connector / no such profile: one answer for all.
    for name in ("other", "nosuch"):
        headers = {**limited, "X-Connector-Profile": name}
        response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
        problem(response, "profile-not-allowed", 403)
    wrong_connector = {**service.headers(), "X-Connector-Profile": "other"}
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=wrong_connector)
    problem(response, "profile-not-allowed", 403)
    own = {k: v for k, v in limited.items() if k != "X-Connector-Profile"}
    own["X-Connector-Credentials"] = json.dumps({"api_key": "sk_test_own"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=own)
    problem(response, "profile-not-allowed", 403)
    assert len(service.processor.received) == 1


async def test_base_url_only_in_test_mode(processor: Any) -> None:
    from .conftest import config, started

    app, http = await started(processor, config(allow_base_url=False))
    try:
        headers = {
            "Authorization": f"Bearer {API_KEY}",
            "X-Connector-Profile": "shop",
            "X-Connector-Base-Url": processor.url,
        }
        response = await http.post("/v1/stripe/authorize", json=AUTHORIZE, headers=headers)
        problem(response, "bad-request", 400)
        assert processor.received == []
    finally:
        await http.aclose()
        await app.state.service.stop()
