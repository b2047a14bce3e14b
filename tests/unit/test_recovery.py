"""Unresolved results carry what resolving them needs (issue 8 §6)."""

import httpx

from engine import Client

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


def test_transport_timeout_keeps_key_and_reference() -> None:
    client = Client(
        "stripe",
        {"api_key": "sk_test_x"},
        http_client=httpx.Client(transport=httpx.MockTransport(_timeout)),
    )
    result = client.authorize(
        {
            "amount": 1000,
            "currency": "USD",
            "reference": "order-17",
            "idempotency_key": "key-17",
            "payment_method": {"type": "card", "card": CARD},
        }
    )
    assert result.status == "unresolved"
    assert result.idempotency_key == "key-17"
    assert result.reference == "order-17"


def test_5xx_on_capture_keeps_transaction_id() -> None:
    client = Client(
        "stripe",
        {"api_key": "sk_test_x"},
        http_client=httpx.Client(
            transport=httpx.MockTransport(lambda r: httpx.Response(502, text="<html>bad gateway"))
        ),
    )
    result = client.capture(
        {"connector_transaction_id": "pi_123", "amount": 500, "currency": "USD"}
    )
    assert result.status == "unresolved"
    assert result.connector_transaction_id == "pi_123"
