"""Starts localstripe on 127.0.0.1 for the end-to-end tests, and stops it afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import localstripe_server

API_KEY = "sk_test_e2eLocalstripeKey"


@pytest.fixture(scope="session")
def stripe_base_url() -> Iterator[str]:
    process, base_url = localstripe_server.start()
    try:
        yield base_url
    finally:
        localstripe_server.stop(process)


@pytest.fixture
def payment_method(stripe_base_url: str) -> object:
    """Creates a PaymentMethod for a test card (tokenization is outside the engine's flows:
    a merchant's front end does it with Stripe.js)."""

    def create(number: str = "4242424242424242") -> str:
        response = httpx.post(
            f"{stripe_base_url}/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
            auth=(API_KEY, ""),
        )
        response.raise_for_status()
        pm_id: str = response.json()["id"]
        return pm_id

    return create
