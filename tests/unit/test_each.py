"""`$each`: one body element per item of a list (line items), each rendered with the element
bound to a name; lint checks the element's fields against the list's schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from engine._build import build_request
from engine._errors import RenderError, SpecError
from engine._load import load_spec_text
from engine._plan import ConnectorPlan
from engine._spec import check_loaded, compile_text

from .conftest import API_KEY, acme_dict, card_request

LINES = [
    {"name": "Tea", "quantity": 2, "unit_amount": 450, "sku": "T-1"},
    {"name": "Cup", "quantity": 1, "unit_amount": 199},
]


def _spec(order_lines: Any) -> dict[str, Any]:
    data = acme_dict()
    data["spec_version"] = 2
    data["flows"]["authorize"]["request"]["body"]["order_lines"] = order_lines
    return data


def _plan(order_lines: Any) -> ConnectorPlan:
    return compile_text(yaml.safe_dump(_spec(order_lines), sort_keys=False), "acme.yaml")


def _problems(order_lines: Any) -> list[str]:
    text = yaml.safe_dump(_spec(order_lines), sort_keys=False)
    _, problems = check_loaded(load_spec_text(text, "acme.yaml"))
    return [p.message for p in problems]


def _body(plan: ConnectorPlan, **request: Any) -> Any:
    built = build_request(plan, "authorize", card_request(**request), {"api_key": API_KEY})
    return json.loads(built.body or b"{}")


ITEM = {
    "$each": "request.line_items",
    "$as": "line",
    "$item": {
        "name": "{{ line.name }}",
        "quantity": "{{ line.quantity }}",
        "total": "{{ line.unit_amount * line.quantity }}",
        "sku": "{{ line.sku }}",
    },
}


def test_each_line_item_becomes_one_element_in_order_with_nulls_omitted() -> None:
    body = _body(_plan(ITEM), line_items=LINES)
    assert body["order_lines"] == [
        {"name": "Tea", "quantity": 2, "total": 900, "sku": "T-1"},
        {"name": "Cup", "quantity": 1, "total": 199},
    ]


def test_an_absent_or_empty_list_omits_the_key() -> None:
    plan = _plan(ITEM)
    assert "order_lines" not in _body(plan)
    assert "order_lines" not in _body(plan, line_items=[])


def test_the_default_name_is_each_and_an_item_may_be_a_single_template() -> None:
    plan = _plan({"$each": "request.line_items", "$item": "{{ each.name | upper }}"})
    assert _body(plan, line_items=LINES)["order_lines"] == ["TEA", "CUP"]


def test_the_element_reads_outer_names_too() -> None:
    item = {
        "$each": "request.line_items",
        "$item": {"n": "{{ each.name }}", "c": "{{ request.currency }}"},
    }
    assert _body(_plan(item), line_items=LINES[:1])["order_lines"] == [{"n": "Tea", "c": "USD"}]


def test_a_misspelt_element_field_is_a_lint_error_with_a_suggestion() -> None:
    item = {"$each": "request.line_items", "$as": "line", "$item": {"n": "{{ line.nmae }}"}}
    problems = _problems(item)
    assert any("line has no field 'nmae'" in p and "line.name" in p for p in problems), problems


@pytest.mark.parametrize(
    ("order_lines", "message"),
    [
        ({"$each": "request.line_items", "$as": "request", "$item": "x"}, "shadows"),
        ({"$each": "request.line_items"}, "needs $item"),
        ({"$each": "request.line_items", "$item": "x", "extra": 1}, "takes only"),
    ],
)
def test_a_malformed_each_is_a_lint_error(order_lines: Any, message: str) -> None:
    assert any(message in p for p in _problems(order_lines))
    with pytest.raises(SpecError):
        _plan(order_lines)


def test_a_non_list_is_a_render_error_at_the_each_pointer() -> None:
    plan = _plan({"$each": "request.currency", "$item": "{{ each }}"})
    with pytest.raises(RenderError, match=r"\$each needs a list"):
        _body(plan)
