"""The Result's fields a spec reads: one table (engine._result_fields) that the spec schema, the
result schema and the parser all follow; typed, normalised and grouped as the Result holds them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine._next_actions import next_action_of
from engine._outcomes import decline_class
from engine._result_fields import AVS_CODES, FIELDS, GROUPS, shape
from engine._unified import NESTED, Result

ROOT = Path(__file__).resolve().parents[2]


def _parse_amount(value: Any, currency: str | None) -> int | None:
    return int(value) if isinstance(value, int) else None


def test_the_spec_schema_offers_exactly_the_table() -> None:
    schema = json.loads((ROOT / "schemas" / "connector-spec.schema.json").read_text())
    offered = schema["$defs"]["response"]["properties"]["fields"]["properties"]
    assert set(offered) == set(FIELDS)


def test_the_result_schema_holds_every_field_where_the_table_puts_it() -> None:
    schema = json.loads((ROOT / "schemas" / "unified" / "result.json").read_text())
    members = schema["properties"]
    for name, field in FIELDS.items():
        if field.group is None:
            assert name in members, name
        else:
            nested = members[field.group]["oneOf"][1]["properties"]
            assert field.key in nested, name
    assert set(GROUPS) == set(NESTED)
    assert {f.name for f in Result.__dataclass_fields__.values()} >= set(members)


def test_values_are_typed_normalised_and_grouped() -> None:
    read = {
        "connector_transaction_id": 12345,
        "currency": "eur",
        "authorized_amount": 900,
        "captured_amount": False,  # `a && b` where a does not hold
        "card_brand": "VISA",
        "card_exp_month": "07",
        "card_issuing_country": "de",
        "three_ds_liability_shift": "true",
        "created_at": 1693526400,
        "avs_result": "z",
        "cvc_result": "M",
    }
    out = shape(read, _parse_amount, "USD")
    assert out["connector_transaction_id"] == "12345"
    assert out["currency"] == "EUR"
    assert out["authorized_amount"] == 900
    assert out["captured_amount"] is None
    assert out["created_at"] == "2023-09-01T00:00:00Z"
    details = out["payment_method_details"]
    assert (details.brand, details.exp_month, details.issuing_country) == ("visa", 7, "DE")
    assert out["three_ds"].liability_shift is True
    assert (out["avs"].code, out["avs"].raw) == ("postal_only", "z")
    assert out["cvc"].code == "match"


def test_a_spec_given_code_wins_and_nothing_known_is_no_group() -> None:
    out = shape({"avs_result": "line1: pass", "avs_code": "address_only"}, _parse_amount, None)
    assert out["avs"].code == "address_only"
    assert shape({"card_brand": None, "avs_result": None}, _parse_amount, None) == {}
    assert shape({"avs_result": "pass"}, _parse_amount, None)["avs"].code is None  # not a letter


@pytest.mark.parametrize(("letter", "code"), sorted(AVS_CODES.items()))
def test_every_avs_letter(letter: str, code: str) -> None:
    assert shape({"avs_result": letter}, _parse_amount, None)["avs"].code == code


@pytest.mark.parametrize(
    ("read", "kind", "member", "value"),
    [
        ({"url": "https://bank/3ds"}, "redirect", "url", "https://bank/3ds"),
        ({"type": "sdk", "data": {"client_secret": "x"}}, "sdk", "data", {"client_secret": "x"}),
        ({"type": "html", "html": "<form/>"}, "html", "html", "<form/>"),
        (
            {"type": "qr", "qr_code": "000201", "expires_at": 1767225600},
            "qr",
            "expires_at",
            "2026-01-01T00:00:00Z",
        ),
        ({"type": "deeplink", "url": "upi://pay?pa=x"}, "deeplink", "url", "upi://pay?pa=x"),
        ({"type": "voucher", "reference": "3419", "barcode": "239"}, "voucher", "barcode", "239"),
        ({"type": "wait", "wait_seconds": "5"}, "wait", "wait_seconds", 5),
        (
            {"type": "three_ds_method", "url": "https://acs", "data": {"k": 1}},
            "three_ds_method",
            "data",
            {"k": "1"},
        ),
    ],
)
def test_next_actions(read: dict[str, Any], kind: str, member: str, value: Any) -> None:
    action = next_action_of(read.get)
    assert action is not None and action.type == kind
    assert getattr(action, member) == value


def test_an_action_missing_what_its_kind_needs_is_none_and_reads_nothing_more() -> None:
    asked: list[str] = []

    def read(name: str) -> Any:
        asked.append(name)
        return {"type": "qr"}.get(name)

    assert next_action_of(read) is None
    assert asked == ["type", "qr_code"]
    assert next_action_of({"type": "teleport", "url": "x"}.get) is None


@pytest.mark.parametrize(
    ("code", "advice", "expected"),
    [
        ("lost_or_stolen_card", None, "hard"),
        ("insufficient_funds", None, "soft"),
        ("insufficient_funds", "03", "hard"),  # Mastercard MAC 03: do not try again
        ("do_not_honor", "24", "soft"),
        ("processor_error", None, None),
        ("invalid_request", None, None),
    ],
)
def test_decline_classes(code: str, advice: str | None, expected: str | None) -> None:
    assert decline_class(code, advice) == expected
