"""Minor-unit integers ↔ the way a processor writes money, by ISO 4217 exponent."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any


@cache
def _iso_exponents() -> Mapping[str, int]:
    from ._validator_cache import currency_exponents

    ahead = currency_exponents()  # the table `connector docs` wrote for this iso4217 package
    if ahead is not None:
        return ahead
    from iso4217 import Currency  # imported on first use: it is a slow import

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


#: Beyond this many digits before the decimal point a value is no amount (and 10**n of a
#: hostile "1e999999999" would never finish).
_MAX_MAJOR_DIGITS = 100


def to_major_string(amount: int, digits: int) -> str:
    """1099, 2 → "10.99"; 500, 0 → "500"; 1234, 3 → "1.234". Exact at any size: integer
    arithmetic only (a Decimal context would round past 28 digits)."""
    if digits == 0:
        return str(amount)
    whole, fraction = divmod(abs(amount), 10**digits)
    return f"{'-' if amount < 0 else ''}{whole}.{fraction:0{digits}d}"


def from_major(value: Any, digits: int) -> int:
    """ "10.99" or 10.99 → 1099 (a processor's major-unit amount back to minor units). Exact:
    a value with more decimals than `digits` raises ValueError, never rounds."""
    quantity = Decimal(str(value))
    if not quantity.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    sign, coefficient, exp = quantity.as_tuple()
    assert isinstance(exp, int)  # finite
    shift = exp + digits
    if len(coefficient) + shift > _MAX_MAJOR_DIGITS + digits:
        raise ValueError(f"{value!r} is too large to be an amount")
    minor: int = int("".join(map(str, coefficient)))
    if minor and -shift > len(coefficient):  # a nonzero fraction, however long ("1e-9999")
        raise ValueError(f"{value!r} has more than {digits} decimals")
    scale: int = 10 ** abs(shift)
    if shift >= 0:
        minor *= scale
    else:
        minor, remainder = divmod(minor, scale)
        if remainder:
            raise ValueError(f"{value!r} has more than {digits} decimals")
    return -minor if sign else minor


#: Integers below this in size are amounts from_major(value, 0) takes as they are.
_WHOLE_LIMIT = 10**_MAX_MAJOR_DIGITS

AmountFormatter = Callable[[int, str], Any]


class AmountError(ValueError):
    """The amount cannot be written in this processor's units without changing its value."""


def _shift(currency: str, overrides: Mapping[str, int]) -> int:
    """Processor decimals minus ISO 4217 decimals (e.g. ISK written with 2, ISO says 0)."""
    return exponent(currency, overrides) - exponent(currency)


def to_processor_minor(amount: int, currency: str, overrides: Mapping[str, int]) -> int:
    """ISO minor units → the processor's minor units, exactly (never rounding money)."""
    shift = _shift(currency, overrides) if overrides else 0
    if shift >= 0:
        return int(amount * 10**shift)
    quotient, remainder = divmod(amount, 10**-shift)
    if remainder:
        raise AmountError(
            f"this processor takes {currency} in whole multiples of {10**-shift} minor units"
        )
    return int(quotient)


def from_processor_minor(value: int, currency: str, overrides: Mapping[str, int]) -> int | None:
    """The processor's minor units → ISO minor units; None if not exactly representable."""
    shift = _shift(currency, overrides) if overrides else 0
    if shift <= 0:
        return int(value * 10**-shift)
    quotient, remainder = divmod(value, 10**shift)
    return None if remainder else int(quotient)


def _minor_integer(amount: int, currency: str, overrides: Mapping[str, int]) -> Any:
    return to_processor_minor(amount, currency, overrides)


def _minor_string(amount: int, currency: str, overrides: Mapping[str, int]) -> Any:
    return str(to_processor_minor(amount, currency, overrides))


def _major_string(amount: int, currency: str, overrides: Mapping[str, int]) -> Any:
    minor = to_processor_minor(amount, currency, overrides)
    return to_major_string(minor, exponent(currency, overrides))


#: amounts.format in a spec → how the engine writes an amount for that processor. Every format
#: honours `amounts.exponents`: the unified amount is in ISO 4217 minor units, so a processor
#: that gives a currency other decimals gets the amount rescaled exactly.
def _major_number(amount: int, currency: str, overrides: Mapping[str, int]) -> Any:
    # A Decimal made from the exact string: the JSON encoder writes its digits as a number.
    return Decimal(_major_string(amount, currency, overrides))


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
    "major_number": (
        _major_number,
        "Number in major units, written exactly (a Decimal, never a float) with the currency's "
        "decimals: 10.99, 500, 1.234 in JSON; its digits as text in form and XML bodies.",
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
    """The inverse of the spec's format, for amounts read from responses (None when the value
    is not an exact amount)."""

    def parse(value: Any, currency: str | None) -> int | None:
        if value is None or isinstance(value, bool):
            return None
        try:
            if fmt in ("major_string", "major_number"):
                if currency is None:
                    return None
                minor = from_major(value, exponent(currency, overrides))
            elif type(value) is int and -_WHOLE_LIMIT < value < _WHOLE_LIMIT:
                minor = value  # what from_major(value, 0) gives an integer, without a Decimal
            else:
                minor = from_major(value, 0)  # minor units: a fraction is refused, not truncated
            if not overrides:
                return minor
            if currency is None:
                return None  # the processor's units depend on a currency we do not know
            return from_processor_minor(minor, currency, overrides)
        except (ArithmeticError, ValueError):
            return None

    return parse
