"""A body subtree whose every value is null when one request path is absent is skipped as a
whole: the same body as evaluating each member, with one lookup instead of many."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine._build import build_request
from engine._plan import ConnectorPlan
from engine._templates import compile_template

from .conftest import API_KEY, acme_variant, card_request

SHIPPING = {
    "line1": "{{ request.shipping_address.line1 }}",
    "city": "{{ request.shipping_address.city[:40] if request.shipping_address.city }}",
    "zip": "{{ request.shipping_address.postal_code if request.shipping_address.country }}",
    "name": {"first": "{{ request.shipping_address.first_name }}"},
}


@pytest.mark.parametrize(
    ("source", "absent"),
    [
        ("{{ request.a.b }}", {("request", "a"), ("request", "a", "b")}),
        (
            "{{ request.a.b if request.c }}",
            {("request", "a"), ("request", "a", "b"), ("request", "c")},
        ),
        ("{{ 'x' if request.a and request.b }}", {("request", "a"), ("request", "b")}),
        ("{{ 'x' if request.a or request.b }}", set()),
        ("{{ 'x' if request.a == 'card' }}", {("request", "a")}),
        ("{{ 'x' if request.a in ['v', 'w'] }}", {("request", "a")}),
        ("{{ 'x' if request.a == none }}", set()),  # a missing value is not none here: no claim
        ("{{ 'x' if request.a is not none }}", set()),
        ("{{ 'x' if request.a != 'card' }}", set()),
        ("{{ request.a | lower }}", set()),  # a filter may make something of nothing
        ("{{ request.a if request.b else request.a }}", {("request", "a")}),
        ("{{ request.a if request.b else 'x' }}", set()),
        ("id-{{ request.a }}", set()),  # text: a missing field is an error, not a null
        ("{{ 'constant' }}", set()),
    ],
)
def test_absent_when(source: str, absent: set[tuple[str, ...]]) -> None:
    assert compile_template(source).absent_when == absent


def _with_shipping(data: dict[str, Any]) -> None:
    data["flows"]["authorize"]["request"]["body"]["shipping"] = SHIPPING


@pytest.fixture(scope="module")
def plan() -> ConnectorPlan:
    return acme_variant(_with_shipping)


def _body(plan: ConnectorPlan, **request: Any) -> dict[str, Any]:
    built = build_request(plan, "authorize", card_request(**request), {"api_key": API_KEY})
    return dict(json.loads(built.body or b""))


def test_absent_subtree_is_omitted(plan: ConnectorPlan) -> None:
    assert "shipping" not in _body(plan)


def test_present_subtree_is_rendered_member_by_member(plan: ConnectorPlan) -> None:
    body = _body(
        plan, shipping_address={"line1": "1 Main St", "city": "Springfield", "first_name": "Ada"}
    )
    # zip's guard (country) is absent: that member alone is omitted.
    assert body["shipping"] == {
        "line1": "1 Main St",
        "city": "Springfield",
        "name": {"first": "Ada"},
    }


def test_a_constant_member_keeps_the_subtree(plan: ConnectorPlan) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["flows"]["authorize"]["request"]["body"]["shipping"] = {**SHIPPING, "kind": "home"}

    assert _body(acme_variant(edit))["shipping"] == {"kind": "home"}
