"""Minor-unit integers ↔ the way a processor writes money, by ISO 4217 exponent."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from iso4217 import Currency


@cache
def _iso_exponents() -> Mapping[str, int]:
    return {c.code: c.exponent for c in Currency if c.exponent is not None}


def is_known_currency(code: str) -> bool:
    return code in _iso_exponents()


def exponent(currency: str, overrides: Mapping[str, int] | None = None) -> int:
    """Digits after the decimal point for `currency`: the spec's override, else ISO 4217."""
    if overrides and currency in overrides:
        return overrides[currency]
    try:
        return _iso_exponents()[currency]
    except KeyError:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency with minor units") from None


def to_major_string(amount: int, digits: int) -> str:
    """1099, 2 → "10.99"; 500, 0 → "500"; 1234, 3 → "1.234". Exact: no floats."""
    if digits == 0:
        return str(amount)
    return str(Decimal(amount).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))


def from_major(value: Any, digits: int) -> int:
    """ "10.99" or 10.99 → 1099 (a processor's major-unit amount back to minor units)."""
    quantity = Decimal(str(value)).scaleb(digits)
    if quantity != quantity.to_integral_value():
        raise ValueError(f"{value!r} has more than {digits} decimals")
    return int(quantity)


AmountFormatter = Callable[[int, str], Any]


def _minor_integer(amount: int, currency: str, overrides: Mapping[str, int]) -> Any:
    return amount


def _minor_string(amount: int, currency: str, overrides: Mapping[str, int]) -> Any:
    return str(amount)


def _major_string(amount: int, currency: str, overrides: Mapping[str, int]) -> Any:
    return to_major_string(amount, exponent(currency, overrides))


#: amounts.format in a spec → how the engine writes an amount for that processor.
AMOUNT_FORMATS: Mapping[str, tuple[Callable[[int, str, Mapping[str, int]], Any], str]] = {
    "minor_integer": (
        _minor_integer,
        "Integer in minor units: 1099 for USD 10.99, 500 for JPY 500.",
    ),
    "minor_string": (_minor_string, 'String of minor units: "1099".'),
    "major_string": (
        _major_string,
        "Decimal string in major units with the currency's exact decimals: "
        '"10.99", "500", "1.234".',
    ),
}


def amount_formatter(fmt: str, overrides: Mapping[str, int]) -> AmountFormatter:
    write = AMOUNT_FORMATS[fmt][0]

    def formatter(amount: int, currency: str) -> Any:
        return write(amount, currency, overrides)

    return formatter


def amount_parser(
    fmt: str, overrides: Mapping[str, int]
) -> Callable[[Any, str | None], int | None]:
    """The inverse of the spec's format, for amounts read from responses."""

    def parse(value: Any, currency: str | None) -> int | None:
        if value is None or isinstance(value, bool):
            return None
        try:
            if fmt == "major_string":
                if currency is None:
                    return None
                return from_major(value, exponent(currency, overrides))
            return from_major(value, 0)  # minor units: a fraction is refused, not truncated
        except (ArithmeticError, ValueError):
            return None

    return parse
