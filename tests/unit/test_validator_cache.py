"""schemas/validators/: the request validators generated ahead of time by `connector docs`. They
are current (CI), they are what engine._requests runs, and a module whose fingerprint is not that
of the installed schemas is ignored (the validator is then generated at run time)."""

from __future__ import annotations

import pytest

import engine._amounts
import engine._requests
import engine._validator_cache as cache
from engine._errors import InputError
from engine._unified import FLOWS

CARD = {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030}}


def test_the_generated_validators_are_current() -> None:
    assert cache.write_validators(check=True) == [], "run `connector docs` to regenerate them"


@pytest.mark.parametrize("flow", FLOWS)
def test_each_flow_has_a_current_module_of_fastjsonschemas_own_code(flow: str) -> None:
    ready = cache.generated(flow)
    assert ready is not None
    schema, rules = cache.flat_schema(flow)
    assert ready[1] == rules
    source = (cache.folder() / f"{flow}.py").read_text(encoding="utf-8")
    assert source.endswith(cache.generate_code(schema))


def test_a_module_made_from_other_schemas_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "fingerprint", lambda: "made from other schemas")
    assert cache.generated("authorize") is None
    engine._requests._fast_validator.cache_clear()
    try:
        request = {"amount": 1099, "currency": "USD", "payment_method": CARD}
        engine._requests.validate_request("authorize", request)  # compiled at run time
        with pytest.raises(InputError) as refused:
            engine._requests.validate_request("authorize", {**request, "amount": -1})
        assert refused.value.pointer == "/amount"
    finally:
        engine._requests._fast_validator.cache_clear()


def test_the_fingerprint_covers_every_unified_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache.fingerprint()
    cache.fingerprint.cache_clear()
    monkeypatch.setattr(cache, "GENERATOR", cache.GENERATOR + 1)
    try:
        assert cache.fingerprint() != before
    finally:
        cache.fingerprint.cache_clear()


def test_the_currency_table_is_the_installed_iso4217_packages() -> None:
    from iso4217 import Currency

    expected = {c.code: c.exponent for c in Currency if c.exponent is not None}
    assert cache.currency_exponents() == expected
    assert engine._amounts._iso_exponents() == expected


def test_a_currency_table_made_from_another_iso4217_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cache, "_iso4217_fingerprint", lambda: "another package")
    assert cache.currency_exponents() is None
