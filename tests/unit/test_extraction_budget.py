"""Hostile extractions and patterns stay within fixed bounds (engine._extraction, _regex):
whatever a spec writes, one extraction or one credential check costs at most a fixed budget."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest

from engine._budget import BudgetExceeded
from engine._compile import compile_jmespath
from engine._http import HttpResponse
from engine._parse import parse_response
from engine._regex import compile_pattern

from .conftest import acme_variant, card_request

DOUBLE = " | ".join(["[@, @]"] * 40)  # a tree of 2^40 leaves from 40 shared references
FLATTEN = "items | " + " | ".join(["[@, @][]"] * 40)  # a list that really doubles 40 times
HOSTILE = {
    "to_string over shared references": f"to_string(a | {DOUBLE})",
    "flatten doubling": FLATTEN,
    "join over a doubling list": f"join('', {FLATTEN.replace('items', 'items[*].name')})",
    "sort over a doubling list": f"sort({FLATTEN.replace('items', 'items[*].name')})",
}
DOCUMENT = {"a": "x" * 100, "items": [{"name": f"n{i}"} for i in range(10)]}
#: Generous: the budget is 4,000,000 units; a unit is at most a pointer or a character.
PEAK_BYTES = 128 * 1024 * 1024


@pytest.mark.parametrize("expression", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_extraction_is_stopped_within_its_budget(expression: str) -> None:
    search = compile_jmespath(expression)
    tracemalloc.start()
    try:
        with pytest.raises(BudgetExceeded):
            search(DOCUMENT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES


def test_shared_references_alone_cost_nothing_until_written() -> None:
    assert isinstance(compile_jmespath(f"length({DOUBLE})")(DOCUMENT), int)


def test_ordinary_expressions_keep_jmespaths_answers() -> None:
    document = {"items": [{"id": i, "s": "ok"} for i in range(50)]}
    assert compile_jmespath("items[?id > `47`].id")(document) == [48, 49]
    assert compile_jmespath("join(',', items[:3].to_string(id))")(document) == "0,1,2"
    assert compile_jmespath("items[].s | [0]")(document) == "ok"


def test_a_hostile_status_extraction_makes_the_payment_unresolved() -> None:
    def hostile(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["response"]["status"]["from"] = f"to_string(@ | {DOUBLE})"

    plan = acme_variant(hostile)
    body = json.dumps({"id": "pay_1", "status": "approved"}).encode()
    result = parse_response(plan, "authorize", card_request(), HttpResponse(200, {}, body))
    assert result.status == "unresolved"
    assert result.error is not None and result.error.code == "invalid_response"


@pytest.mark.parametrize("pattern", [r"^(a+)+$", r"^(a|aa)+$", r"^(a*)*b$", r"^(\w+\s?)*$"])
def test_a_backtracking_pattern_runs_in_linear_time(pattern: str) -> None:
    # Python's re takes exponential time on these inputs; RE2 answers at once (no time is
    # asserted: the test would hang, not fail, on a backtracking engine).
    assert compile_pattern(pattern)("a" * 50_000 + "!") is False
