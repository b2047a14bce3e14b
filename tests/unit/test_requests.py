"""Request validation: the generated fast validator and jsonschema (the authority) agree on every
mutation of realistic requests, and refusals name the bad field without echoing its value."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import fastjsonschema
import pytest

from engine import InputError
from engine._requests import _fast_validator, _precise_validator, validate_request

VALID: dict[str, dict[str, Any]] = {
    "authorize": {
        "amount": 1099,
        "currency": "EUR",
        "capture_method": "manual",
        "reference": "order-1",
        "idempotency_key": "idem-1",
        "payment_method": {
            "type": "card",
            "card": {
                "number": "4111111111111111",
                "exp_month": 3,
                "exp_year": 2030,
                "cvc": "737",
                "holder_name": "J Doe",
            },
        },
        "customer": {
            "id": "c1",
            "email": "j@example.com",
            "name": "J Doe",
            "phone": "+31201234567",
        },
        "billing_address": {
            "line1": "Dam 1",
            "city": "Amsterdam",
            "postal_code": "1012JS",
            "country": "NL",
        },
        "browser_info": {"user_agent": "Mozilla/5.0", "color_depth": 24, "java_enabled": False},
        "return_url": "https://shop.example/return",
        "metadata": {"cart": "3"},
        "three_ds": {"request": "challenge"},
    },
    "capture": {"connector_transaction_id": "pi_1", "amount": 500, "currency": "EUR"},
    "refund": {
        "connector_transaction_id": "pi_1",
        "amount": 500,
        "currency": "EUR",
        "reason": "duplicate",
    },
    "complete_authorize": {"redirect_response": {"params": {"redirectResult": "X"}}},
    "get_refund": {"connector_refund_id": "re_1"},
}

BAD_VALUES: list[Any] = [None, "", "x" * 3000, -1, 10**15, 1.5, True, [], {}, "EURO", "12"]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _leaves(item, (*path, key))


def _mutations(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _leaves(request):
        for bad in BAD_VALUES:
            mutated = copy.deepcopy(request)
            node = mutated
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = bad
            yield mutated
        removed = copy.deepcopy(request)
        node = removed
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        yield removed
    yield {**request, "unknown_field": 1}


def _fast_accepts(flow: str, request: Any) -> bool:
    try:
        _fast_validator(flow)(request)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@pytest.mark.parametrize("flow", list(VALID))
def test_fast_validator_agrees_with_jsonschema(flow: str) -> None:
    checked = 0
    for request in [VALID[flow], *_mutations(VALID[flow])]:
        assert _fast_accepts(flow, request) == _precise_validator(flow).is_valid(request), request
        checked += 1
    assert checked > len(BAD_VALUES)


def test_bad_card_number_is_named_by_pointer_without_its_value() -> None:
    request = copy.deepcopy(VALID["authorize"])
    request["payment_method"]["card"]["number"] = "4111x11111111111"
    with pytest.raises(InputError) as caught:
        validate_request("authorize", request)
    assert caught.value.pointer == "/payment_method/card/number"
    assert "4111" not in str(caught.value)


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        validate_request("authorize", {**VALID["authorize"], "currency": "XYZ"})
    assert caught.value.pointer == "/currency"


def test_amount_needs_currency_on_capture() -> None:
    with pytest.raises(InputError) as caught:
        validate_request("capture", {"connector_transaction_id": "pi_1", "amount": 5})
    assert caught.value.pointer == "/currency"  # named like any missing field
    assert "amount" in caught.value.message


@pytest.mark.parametrize(
    "method",
    [
        {"type": "card"},
        {"type": "token"},
        {"type": "wallet"},
        {"type": "upi", "token": "tok_1"},
        {"type": "token", "token": "tok_1"},
        {"type": "bank_redirect", "bank_redirect": {"type": "ideal"}},
        {"type": 1, "card": {}},
        {"card": {"number": "4242424242424242", "exp_month": 1, "exp_year": 2030}},
        "card",
        None,
    ],
    ids=repr,
)
def test_lifted_type_rules_agree_with_jsonschema(method: Any) -> None:
    # The payment method's `if type is X then X is required` rules run outside fastjsonschema.
    request = {**VALID["authorize"], "payment_method": method}
    assert _fast_accepts("authorize", request) == _precise_validator("authorize").is_valid(request)


def test_references_resolve_as_the_registry_resolves_them() -> None:
    # resolve_ref follows the unified schemas' `<file>#<pointer>` references itself (no
    # `referencing` import on the hot path): it must land where the registry does.
    import json

    from engine._requests import resolve_ref, unified_registry
    from engine._resources import schemas_dir

    checked = 0
    for path in sorted((schemas_dir() / "unified").glob("*.json")):
        schema = json.loads(path.read_text())
        base = schema["$id"]
        refs = set()
        stack: list[Any] = [schema]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("$ref"), str):
                    refs.add(node["$ref"])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        for ref in refs:
            expected = unified_registry().resolver(base).lookup(ref).contents
            assert resolve_ref(ref, base) == expected, (path.name, ref)
            checked += 1
    assert checked > 20
