"""Unified events carry the processor's event time as RFC 3339 UTC (engine._webhooks.rfc3339)."""

from __future__ import annotations

from typing import Any

import pytest

from engine._webhooks import rfc3339


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (1693533695, "2023-09-01T02:01:35Z"),  # Stripe, Razorpay: Unix seconds
        ("1693533695", "2023-09-01T02:01:35Z"),
        (1693533695123, "2023-09-01T02:01:35.123Z"),  # milliseconds
        ("2020-01-08T12:00:00+01:00", "2020-01-08T11:00:00Z"),  # Adyen: with an offset
        ("2024-05-14T20:48:02.0080095Z", "2024-05-14T20:48:02.008Z"),  # Authorize.net: 7 digits
        ("2026-01-01T00:00:05.940Z", "2026-01-01T00:00:05.940Z"),  # PayPal
        ("2024-05-14T10:00:00", "2024-05-14T10:00:00Z"),  # no offset: UTC
    ],
)
def test_processor_times_become_rfc3339_utc(given: Any, expected: str) -> None:
    assert rfc3339(given) == expected


@pytest.mark.parametrize("given", [None, True, "yesterday", "", 10**30, float("nan"), [1], {}])
def test_an_unreadable_time_is_null_never_an_error(given: Any) -> None:
    assert rfc3339(given) is None
