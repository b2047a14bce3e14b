"""engine._amounts: minor-unit integers ↔ a processor's money format, by ISO 4217 exponent."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from engine._amounts import (
    AMOUNT_FORMATS,
    AmountError,
    amount_formatter,
    amount_parser,
    exponent,
    from_major,
    is_known_currency,
    to_major_string,
)
from engine._build import build_request

from .conftest import API_KEY, acme_variant, card_request


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3)])
def test_iso_exponents(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


def test_spec_overrides_win() -> None:
    assert exponent("ISK", {"ISK": 2}) == 2
    assert exponent("USD", {"ISK": 2}) == 2
    assert exponent("JPY", {"JPY": 2}) == 2


def test_unknown_currency() -> None:
    assert is_known_currency("USD") is True
    assert is_known_currency("XYZ") is False
    with pytest.raises(ValueError, match="'XYZ' is not an ISO 4217 currency"):
        exponent("XYZ")


@pytest.mark.parametrize(
    ("amount", "digits", "text"),
    [
        (1099, 2, "10.99"),
        (1000, 2, "10.00"),
        (5, 2, "0.05"),
        (0, 2, "0.00"),
        (500, 0, "500"),
        (1234, 3, "1.234"),
        (1, 3, "0.001"),
        (10**15 + 1, 2, "10000000000000.01"),
        (999999999999, 2, "9999999999.99"),
    ],
)
def test_to_major_string_is_exact(amount: int, digits: int, text: str) -> None:
    assert to_major_string(amount, digits) == text
    assert from_major(text, digits) == amount


@pytest.mark.parametrize(
    ("value", "digits", "minor"),
    [("10.99", 2, 1099), ("10.9", 2, 1090), ("10", 2, 1000), ("500", 0, 500), ("1.234", 3, 1234)],
)
def test_from_major(value: str, digits: int, minor: int) -> None:
    result = from_major(value, digits)
    assert result == minor
    assert type(result) is int


def test_from_major_float_goes_through_its_shortest_text() -> None:
    # 0.1 + 0.2 style float error must not leak in: 10.99 is read as the text "10.99".
    assert from_major(10.99, 2) == 1099
    assert from_major(0.29, 2) == 29


@pytest.mark.parametrize(("value", "digits"), [("10.999", 2), ("1.5", 0), ("0.0001", 3)])
def test_from_major_refuses_extra_decimals(value: str, digits: int) -> None:
    with pytest.raises(ValueError, match="has more than"):
        from_major(value, digits)


@pytest.mark.parametrize(
    ("fmt", "currency", "expected"),
    [
        ("minor_integer", "USD", 1099),
        ("minor_string", "USD", "1099"),
        ("major_string", "USD", "10.99"),
        ("major_string", "JPY", "1099"),
        ("major_string", "KWD", "1.099"),
    ],
)
def test_formatters(fmt: str, currency: str, expected: Any) -> None:
    value = amount_formatter(fmt, {})(1099, currency)
    assert value == expected
    assert type(value) is type(expected)


def test_formatter_uses_overrides() -> None:
    assert amount_formatter("major_string", {"ISK": 0})(1099, "ISK") == "1099"
    assert amount_formatter("major_string", {})(1099, "ISK") == "1099"
    # The unified amount is in ISO minor units (JPY has none): ¥1099 written with 2 decimals.
    assert amount_formatter("major_string", {"JPY": 2})(1099, "JPY") == "1099.00"


def test_minor_formats_rescale_to_the_processors_decimals() -> None:
    # Adyen writes ISK with 2 decimals (ISO: 0) and IDR with 0 (ISO: 2).
    overrides = {"ISK": 2, "IDR": 0}
    assert amount_formatter("minor_integer", overrides)(1230, "ISK") == 123000
    assert amount_formatter("minor_string", overrides)(150000, "IDR") == "1500"
    assert amount_formatter("minor_integer", overrides)(1099, "EUR") == 1099
    with pytest.raises(AmountError):
        amount_formatter("minor_integer", overrides)(150001, "IDR")  # would lose 0.01 IDR
    parse = amount_parser("minor_integer", overrides)
    assert parse(123000, "ISK") == 1230
    assert parse(1500, "IDR") == 150000
    assert parse(123001, "ISK") is None  # not an exact ISO amount


def test_every_format_is_documented() -> None:
    assert set(AMOUNT_FORMATS) == {"minor_integer", "minor_string", "major_string", "major_number"}
    assert all(doc for _, doc in AMOUNT_FORMATS.values())


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("10.99", "USD", 1099),
        (10.99, "USD", 1099),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("10.999", "USD", None),
        ("1.5", "JPY", None),
        ("NaN", "USD", None),
        ("Infinity", "USD", None),
        ("ten", "USD", None),
        (True, "USD", None),
        (None, "USD", None),
        ({"value": 1}, "USD", None),
        ("10.99", None, None),
        ("10.99", "XYZ", None),
    ],
)
def test_major_string_parser(value: Any, currency: str | None, expected: int | None) -> None:
    assert amount_parser("major_string", {})(value, currency) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1099, 1099),
        ("1099", 1099),
        (1099.0, 1099),
        ("10.5", None),
        (1099.5, None),
        ("NaN", None),
        ("Infinity", None),
        (True, None),
        (False, None),
        (None, None),
        ([1], None),
    ],
)
def test_minor_parser_never_truncates(value: Any, expected: int | None) -> None:
    for fmt in ("minor_integer", "minor_string"):
        assert amount_parser(fmt, {})(value, "USD") == expected


@pytest.mark.parametrize(
    ("currency", "amount", "written"),
    [("USD", 1099, "10.99"), ("JPY", 1099, "1099"), ("KWD", 1099, "1.099"), ("EUR", 5, "0.05")],
)
def test_the_built_body_carries_the_exact_major_string(
    currency: str, amount: int, written: str
) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["amounts"] = {"format": "major_string"}

    plan = acme_variant(edit)
    request = card_request(amount=amount, currency=currency)
    body = build_request(plan, "authorize", request, {"api_key": API_KEY}).body or b""
    assert f'"amount":"{written}"'.encode() in body
    assert json.loads(body)["amount"] == written


def test_a_spec_override_changes_the_built_amount() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["amounts"] = {"format": "major_string", "exponents": {"JPY": 2}}

    plan = acme_variant(edit)
    request = card_request(amount=1099, currency="JPY")
    body = json.loads(build_request(plan, "authorize", request, {"api_key": API_KEY}).body or b"")
    assert body["amount"] == "1099.00"


@pytest.mark.parametrize(
    ("currency", "amount", "written"),
    [
        ("USD", 1099, "10.99"),
        ("JPY", 1099, "1099"),
        ("KWD", 1099, "1.099"),
        ("EUR", 5, "0.05"),
        ("USD", 1000, "10.00"),
        ("USD", 999999999999, "9999999999.99"),  # the largest amount a request may carry
        ("KWD", 999999999999, "999999999.999"),
    ],
)
def test_major_number_is_an_exact_json_number(currency: str, amount: int, written: str) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["amounts"] = {"format": "major_number"}

    plan = acme_variant(edit)
    request = card_request(amount=amount, currency=currency)
    body = build_request(plan, "authorize", request, {"api_key": API_KEY}).body or b""
    assert f'"amount":{written},'.encode() in body  # a number, not a string, digits exact
    parsed = json.loads(body, parse_float=Decimal)
    assert str(parsed["amount"]) == written
    assert parsed["currency"] == currency  # the rest of the body is json.dumps's text


def test_major_number_writes_the_same_digits_as_major_string() -> None:
    number, string = amount_formatter("major_number", {}), amount_formatter("major_string", {})
    for amount, currency in [(1, "USD"), (0, "USD"), (99999, "KWD"), (7, "JPY"), (-1050, "EUR")]:
        value = number(amount, currency)
        assert isinstance(value, Decimal) and format(value, "f") == string(amount, currency)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(10.99, 1099), ("10.99", 1099), (Decimal("10.99"), 1099), (10, 1000), (10.999, None)],
)
def test_major_number_parser(value: Any, expected: int | None) -> None:
    assert amount_parser("major_number", {})(value, "USD") == expected


def test_major_number_in_a_form_body_is_its_digits() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["amounts"] = {"format": "major_number"}
        spec["defaults"]["encoding"] = "form"

    plan = acme_variant(edit)
    body = build_request(plan, "authorize", card_request(), {"api_key": API_KEY}).body or b""
    assert b"amount=10.99&" in body
