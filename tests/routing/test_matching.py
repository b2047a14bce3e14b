"""Rule conditions, one at a time: each holds exactly when the request carries a value it
accepts; a condition on a value the request does not carry does not hold."""

from __future__ import annotations

from typing import Any

import pytest

from engine.routing._health import HealthPolicy, MemoryHealth
from engine.routing._plan import matches

VISA = {"type": "card", "card": {"number": "4000056655665556", "exp_month": 1, "exp_year": 2030}}
AMEX = {"type": "card", "card": {"number": "378282246310005", "exp_month": 1, "exp_year": 2030}}
TOKEN = {"type": "token", "token": "pm_x"}


def _request(**changes: Any) -> dict[str, Any]:
    return {"amount": 5000, "currency": "EUR", "payment_method": VISA, **changes}


@pytest.mark.parametrize(
    ("when", "request_", "held"),
    [
        ({"currency": ["EUR", "GBP"]}, _request(), True),
        ({"currency": ["USD"]}, _request(), False),
        ({"amount": {"min": 1000, "max": 5000}}, _request(), True),
        ({"amount": {"min": 5001}}, _request(), False),
        ({"amount": {"max": 4999}}, _request(), False),
        ({"payment_method": ["card"]}, _request(), True),
        ({"payment_method": ["wallet"]}, _request(), False),
        ({"card_brand": ["visa"]}, _request(), True),
        ({"card_brand": ["visa"]}, _request(payment_method=AMEX), False),
        ({"card_brand": ["amex"]}, _request(payment_method=AMEX), True),
        ({"card_brand": ["visa"]}, _request(payment_method=TOKEN), False),  # not carried
        ({"bin": ["400005"]}, _request(), True),
        ({"bin": ["400000-400004"]}, _request(), False),
        ({"bin": ["370000-379999"]}, _request(payment_method=AMEX), True),
        ({"issuing_country": ["DE"]}, _request(), False),  # not carried
        (
            {"issuing_country": ["DE"]},
            _request(
                payment_method={"type": "card", "card": {**VISA["card"], "issuing_country": "DE"}}
            ),
            True,
        ),
        ({"billing_country": ["DE"]}, _request(billing_address={"country": "DE"}), True),
        ({"billing_country": ["DE"]}, _request(billing_address={"country": "FR"}), False),
        ({"billing_country": ["DE"]}, _request(), False),
        ({"metadata": {"channel": "web"}}, _request(metadata={"channel": "web", "x": "y"}), True),
        ({"metadata": {"channel": "web"}}, _request(metadata={"channel": "app"}), False),
        ({"capture_method": "automatic"}, _request(), True),  # the default
        ({"capture_method": "manual"}, _request(), False),
        ({"capture_method": "manual"}, _request(capture_method="manual"), True),
    ],
)
def test_each_condition(when: dict[str, Any], request_: dict[str, Any], held: bool) -> None:
    assert matches(when, "authorize", request_)[0] is held


def test_recurring_is_the_flow() -> None:
    assert matches({"recurring": True}, "setup_recurring", _request())[0]
    assert not matches({"recurring": True}, "authorize", _request())[0]
    assert matches({"recurring": False}, "authorize", _request())[0]


def test_the_first_failing_condition_is_named() -> None:
    assert matches({"currency": ["EUR"], "amount": {"max": 1}}, "authorize", _request()) == (
        False,
        "amount",
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_error_rate_opens_and_a_probe_closes() -> None:
    clock = Clock()
    health = MemoryHealth(
        HealthPolicy(
            consecutive_failures=100, error_rate=0.5, window_seconds=10, min_calls=4, open_seconds=5
        ),
        clock,
    )
    for failed in (True, False, True):
        assert health.allow("p")
        health.record("p", failed)
    assert health.state("p") == "closed"  # 3 calls: below min_calls
    health.record("p", True)  # 3 failures of 4
    assert health.state("p") == "open" and not health.allow("p")
    clock.now += 5
    assert health.state("p") == "half_open"
    assert health.allow("p")  # the probe
    assert not health.allow("p")  # one at a time
    health.record("p", False)
    assert health.state("p") == "closed" and health.allow("p")


def test_a_failed_probe_opens_again_and_old_calls_leave_the_window() -> None:
    clock = Clock()
    health = MemoryHealth(
        HealthPolicy(consecutive_failures=2, open_seconds=5, window_seconds=10), clock
    )
    health.record("p", True)
    health.record("p", True)
    assert health.state("p") == "open"
    clock.now += 6
    assert health.allow("p")
    health.record("p", True)
    assert health.state("p") == "open"
    clock.now += 6
    assert health.allow("p")
    health.record("p", False)
    assert health.state("p") == "closed"
    health.record("p", True)
    clock.now += 11  # the earlier failure left the window; the consecutive count decides
    health.record("p", False)
    assert health.state("p") == "closed"
