"""A field that changes what the payment means (`x-refused-unless-read` in the unified
schemas: external 3DS, exemptions, stored credentials, MOTO, MCC, save-method, an existing
bank-debit mandate, a capture that is not final) is refused before sending by a spec that never
reads it: the processor would take the payment without it, silently."""

from __future__ import annotations

from typing import Any

import pytest

from engine import UnsupportedError, load_connector
from engine._build import build_request
from engine._card_data import needs_support
from engine._plan import ConnectorPlan
from engine._request_reads import mentioned_request_paths

from .conftest import card_request

STRIPE = {"api_key": "sk_test_51M2JTkLkdIwHu7ixFakeKeyForFixturesOnly0000"}
PAYMENT: dict[str, Any] = {
    "amount": 1099,
    "currency": "USD",
    "payment_method": {"type": "token", "token": "pm_card_visa"},
}


def test_the_marked_fields() -> None:
    assert dict(needs_support("authorize")) == {
        ("channel",): "ecommerce",
        ("merchant_category_code",): None,
        # An existing mandate to debit under, instead of the one the payer gives now.
        ("payment_method", "bank_debit", "mandate", "id"): None,
        ("save_payment_method",): False,
        ("stored_credential",): None,
        ("three_ds", "exemption"): None,
        ("three_ds", "external"): None,
    }
    assert dict(needs_support("capture")) == {("final",): True}


@pytest.mark.parametrize(
    ("extra", "pointer"),
    [
        ({"three_ds": {"external": {"cavv": "AAABBBCCC", "eci": "05"}}}, "/three_ds/external"),
        ({"three_ds": {"exemption": "low_value"}}, "/three_ds/exemption"),
        (
            {"stored_credential": {"initiator": "merchant", "reason": "unscheduled"}},
            "/stored_credential",
        ),
        ({"channel": "moto"}, "/channel"),
        ({"merchant_category_code": "5999"}, "/merchant_category_code"),
    ],
)
def test_a_spec_that_never_reads_it_refuses_it(
    extra: dict[str, Any], pointer: str, acme: ConnectorPlan
) -> None:
    with pytest.raises(UnsupportedError) as raised:  # the test spec reads none of them
        build_request(acme, "authorize", card_request(**extra), {"api_key": "ak_test_k1"})
    assert raised.value.pointer == pointer
    assert "never sends it" in str(raised.value)


@pytest.mark.parametrize(
    "extra",
    [
        {"channel": "ecommerce"},  # the default: nothing asked
        {"save_payment_method": False},
        {"save_payment_method": True},  # Stripe reads it (setup_future_usage)
        {"three_ds": {"request": "automatic"}},  # read: request_three_d_secure
        {"stored_credential": {"initiator": "merchant", "reason": "unscheduled"}},  # off_session
    ],
)
def test_the_default_or_a_field_it_reads_passes(extra: dict[str, Any]) -> None:
    load_connector("stripe").build_request("authorize", {**PAYMENT, **extra}, STRIPE)


def test_a_capture_that_is_not_final() -> None:
    stripe = load_connector("stripe")
    request = {"connector_transaction_id": "pi_1", "amount": 500, "currency": "USD"}
    stripe.build_request("capture", {**request, "final": True}, STRIPE)
    with pytest.raises(UnsupportedError, match="final"):
        stripe.build_request("capture", {**request, "final": False}, STRIPE)


def test_what_counts_as_a_mention() -> None:
    reads = mentioned_request_paths(
        [
            "{{ request.three_ds.external.cavv }}",
            {"$if": "request.stored_credential", "x": "{{ request.customer | pick('id') }}"},
            {"required_fields": ["/payment_method/card/number | /payment_method/token"]},
        ]
    )
    assert reads is not None
    assert {("three_ds", "external", "cavv"), ("stored_credential",), ("customer",)} <= reads
    assert ("payment_method", "card", "number") in reads
    assert mentioned_request_paths(["{{ request | pick('amount') }}"]) is None  # the whole
    assert mentioned_request_paths(["{{ request.amount }}", "requests"]) == {("amount",)}
