"""A call through the service: a Result is HTTP 200 whatever its status; the idempotency key is
the caller's or a new one, and is returned; nothing sent is a problem document."""

from __future__ import annotations

import json

import pytest

from .conftest import AUTHORIZE, STRIPE_SECRET, Service, scenario

pytestmark = pytest.mark.asyncio


async def test_authorize_through_a_profile_answers_the_result(service: Service) -> None:
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=service.headers())
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "captured"
    assert result["connector_transaction_id"] == "pi_3NlAu7KcLkdIwHu7ix1JnLUt"
    assert response.headers["Idempotency-Key"] == result["idempotency_key"]
    sent = service.processor.received[-1]
    assert sent.headers["Authorization"] == f"Bearer {STRIPE_SECRET}"
    assert sent.headers["Idempotency-Key"] == result["idempotency_key"]


async def test_the_callers_key_is_sent_and_returned(service: Service) -> None:
    headers = service.headers(**{"Idempotency-Key": "order-1001-try-1"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.json()["idempotency_key"] == "order-1001-try-1"
    assert response.headers["Idempotency-Key"] == "order-1001-try-1"
    assert service.processor.received[-1].headers["Idempotency-Key"] == "order-1001-try-1"
    in_body = {**AUTHORIZE, "idempotency_key": "order-1001-try-2"}
    response = await service.post("/v1/stripe/authorize", in_body, headers=service.headers())
    assert response.headers["Idempotency-Key"] == "order-1001-try-2"


async def test_a_key_in_body_and_header_must_agree(service: Service) -> None:
    body = {**AUTHORIZE, "idempotency_key": "a"}
    headers = service.headers(**{"Idempotency-Key": "b"})
    response = await service.post("/v1/stripe/authorize", body, headers=headers)
    assert response.status_code == 400
    assert response.json()["pointer"] == "/idempotency_key"
    assert service.processor.received == []


async def test_raw_credentials_are_used_and_never_echoed(service: Service) -> None:
    secret = "sk_test_51CallerOwnKeyNeverEchoed0000000"
    headers = {
        "Authorization": service.headers()["Authorization"],
        "X-Connector-Credentials": json.dumps({"api_key": secret}),
        "X-Connector-Base-Url": service.processor.url,
    }
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.status_code == 200
    assert service.processor.received[-1].headers["Authorization"] == f"Bearer {secret}"
    assert secret not in response.text
    assert "4242424242424242" not in response.text


@pytest.mark.parametrize(
    ("name", "status"),
    [("authorize_500_api_error", "unresolved"), ("authorize_decline_expired_card", "failed")],
)
async def test_failed_and_unresolved_are_results_not_problems(
    service: Service, name: str, status: str
) -> None:
    service.processor.answer(scenario("stripe", name))
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=service.headers())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status"] == status
    assert response.json()["idempotency_key"]


async def test_nothing_sent_is_a_503_problem(service: Service) -> None:
    headers = service.headers(**{"X-Connector-Base-Url": "http://127.0.0.1:9"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://connector-service.dev/problems/not-sent"
    assert problem["request_id"] == response.headers["X-Request-Id"]


async def test_read_flows_get_no_generated_key(service: Service) -> None:
    service.processor.answer(scenario("stripe", "get_captured"))
    body = {"connector_transaction_id": "pi_3NlAu7KcLkdIwHu7ix1JnLUt"}
    response = await service.post("/v1/stripe/get", body, headers=service.headers())
    assert response.status_code == 200, response.text
    assert "Idempotency-Key" not in response.headers
    assert "Idempotency-Key" not in service.processor.received[-1].headers


async def test_request_id_is_echoed_when_well_formed(service: Service) -> None:
    headers = service.headers(**{"X-Request-Id": "trace-42.a:b"})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.headers["X-Request-Id"] == "trace-42.a:b"
    headers = service.headers(**{"X-Request-Id": "x" * 200})
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=headers)
    assert response.headers["X-Request-Id"] != "x" * 200
    assert len(response.headers["X-Request-Id"]) == 32


async def test_a_result_that_cannot_be_written_is_still_a_result(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import Result

    def broken(self: Result, **_: object) -> dict[str, object]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Result, "to_dict", broken)
    response = await service.post("/v1/stripe/authorize", AUTHORIZE, headers=service.headers())
    assert response.status_code == 200  # it was sent: never a problem document
    assert response.json()["status"] == "unresolved"
    assert response.json()["idempotency_key"] == response.headers["Idempotency-Key"]
    assert len(service.processor.received) == 1
