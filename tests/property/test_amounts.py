"""Amount conversion for every ISO 4217 currency (the iso4217 package's table): minor units to a
processor's decimal string and back is exact at any size and sign; rescaling to a processor's
own exponent is exact or refused, never rounded."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from iso4217 import Currency

from engine._amounts import (
    AMOUNT_FORMATS,
    AmountError,
    amount_formatter,
    amount_parser,
    exponent,
    from_major,
    from_processor_minor,
    to_major_string,
    to_processor_minor,
)

#: Every currency ISO 4217 gives minor units, with its exponent (0 for JPY, 3 for KWD...).
ISO = sorted((c.code, c.exponent) for c in Currency if c.exponent is not None)
#: Negative (refunds and reversals as some processors write them) and far past any real amount.
amounts = st.one_of(st.integers(-(10**15), 10**15), st.integers(-(10**60), 10**60))


def test_the_table_has_zero_two_and_three_decimal_currencies() -> None:
    exponents = dict(ISO)
    assert (exponents["JPY"], exponents["USD"], exponents["KWD"]) == (0, 2, 3)
    assert {e for _, e in ISO} >= {0, 2, 3}


def scaled(value: object, shift: int) -> Decimal:
    """`value` times 10**shift, exactly (a precision well past any amount drawn here)."""
    with localcontext(prec=200):
        return Decimal(str(value)).scaleb(shift)


@pytest.mark.parametrize(("currency", "digits"), ISO, ids=[c for c, _ in ISO])
@given(amount=amounts)
def test_minor_to_major_and_back_is_exact(currency: str, digits: int, amount: int) -> None:
    assert exponent(currency) == digits
    text = to_major_string(amount, digits)
    whole, _, fraction = text.lstrip("-").partition(".")
    assert len(fraction) == digits and whole.isdigit()
    assert Decimal(text) == scaled(amount, -digits)
    assert from_major(text, digits) == amount
    for fmt in AMOUNT_FORMATS:
        written = amount_formatter(fmt, {})(amount, currency)
        assert amount_parser(fmt, {})(written, currency) == amount


@given(currency=st.sampled_from(ISO), amount=amounts, extra=st.integers(1, 6))
def test_a_value_with_more_decimals_is_refused_not_rounded(
    currency: tuple[str, int], amount: int, extra: int
) -> None:
    code, digits = currency
    text = to_major_string(amount, digits + extra)
    exact = scaled(amount, -extra)  # the value in minor units, maybe fractional
    if exact == exact.to_integral_value():
        assert from_major(text, digits) == int(exact)
    else:
        with pytest.raises(ValueError):
            from_major(text, digits)
        assert amount_parser("major_string", {})(text, code) is None


@given(
    currency=st.sampled_from(ISO),
    processor_digits=st.integers(0, 4),
    amount=amounts,
    fmt=st.sampled_from(sorted(AMOUNT_FORMATS)),
)
def test_rescaling_to_a_processor_exponent_is_exact_or_refused(
    currency: tuple[str, int], processor_digits: int, amount: int, fmt: str
) -> None:
    code, digits = currency
    overrides = {code: processor_digits}
    shift = processor_digits - digits
    exact = scaled(amount, shift)
    if exact != exact.to_integral_value():
        with pytest.raises(AmountError):
            to_processor_minor(amount, code, overrides)
        with pytest.raises(AmountError):
            amount_formatter(fmt, overrides)(amount, code)
        return
    assert to_processor_minor(amount, code, overrides) == int(exact)
    assert from_processor_minor(int(exact), code, overrides) == amount
    written = amount_formatter(fmt, overrides)(amount, code)
    assert amount_parser(fmt, overrides)(written, code) == amount


@given(currency=st.sampled_from(ISO), processor_digits=st.integers(0, 4), value=amounts)
def test_reading_a_processor_amount_is_exact_or_none(
    currency: tuple[str, int], processor_digits: int, value: int
) -> None:
    code, digits = currency
    back = from_processor_minor(value, code, {code: processor_digits})
    exact = scaled(value, digits - processor_digits)
    assert back == (int(exact) if exact == exact.to_integral_value() else None)


@given(
    junk=st.one_of(
        st.none(),
        st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(["NaN", "-Infinity", "1e999999999", "1e-999999999", "10.5.1", ""]),
    ),
    fmt=st.sampled_from(sorted(AMOUNT_FORMATS)),
    currency=st.sampled_from(ISO),
)
def test_reading_any_value_gives_an_exact_amount_or_none(
    junk: object, fmt: str, currency: tuple[str, int]
) -> None:
    code, digits = currency
    read = amount_parser(fmt, {})(junk, code)
    if read is not None:
        assert not isinstance(junk, bool)
        scale = digits if fmt == "major_string" else 0
        assert scaled(junk, scale) == read
