"""Routing tests: three Stripe profiles, each on its own fake processor on 127.0.0.1 (or on a
closed port), and rules over them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from engine import Client
from tests.service.fake_processor import FakeProcessor, fake_processor, scenario

CARD = {
    "type": "card",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
}
PAYMENT = {"amount": 1099, "currency": "USD", "payment_method": CARD, "reference": "order-1"}


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed once the socket is


def rules(**default: Any) -> dict[str, Any]:
    return {
        "routing_version": 1,
        "profiles": {name: {"connector": "stripe"} for name in ("a", "b", "c")},
        "default": {"candidates": ["a", "b", "c"], **default},
    }


@pytest.fixture
def processors() -> Iterator[dict[str, FakeProcessor]]:
    with ExitStack() as stack:
        fakes = {name: stack.enter_context(fake_processor()) for name in ("a", "b", "c")}
        for fake in fakes.values():
            fake.answer(scenario("stripe", "authorize_card_automatic_captured"))
        yield fakes


_MADE: list[Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _MADE:
        _MADE.pop().close()


def clients(urls: dict[str, str]) -> dict[str, Client]:
    made = {
        name: Client(
            "stripe",
            {"api_key": f"sk_test_51Profile{name.upper()}0000000000"},
            base_url=url,
            allow_undeclared_host=True,
        )
        for name, url in urls.items()
    }
    _MADE.extend(made.values())
    return made
