"""A compiled JMESPath expression + a document → its value, within a fixed budget.

Specs are untrusted: `to_string([@, @])` nested twenty times, or `[@, @][]` doubling a list at
every level, would make one extraction take minutes or gigabytes. Every node the interpreter
visits costs one step; every list, object or text it builds is charged by its size before it is
built where the size can be known first (flatten, `join`, `to_string`: a shared reference is
counted each time it would be written) and after otherwise. Over budget raises BudgetExceeded
(parse turns any extraction failure into `unresolved` / `invalid_response`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jmespath import functions
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter

from ._budget import GROWTH, Budget, BudgetExceeded, extraction_budget, tree_size

#: Functions whose output is text as long as their input's tree (checked before they run).
_SERIALISING = frozenset({"to_string"})


class BoundedInterpreter(TreeInterpreter):
    """jmespath's TreeInterpreter with every visit counted and every built value charged."""

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget
        self.calls = functions.Functions()

    def visit(self, node: Any, *args: Any, **kwargs: Any) -> Any:
        budget = self.budget
        budget.steps -= 1
        if budget.steps < 0:
            raise BudgetExceeded(budget.over)
        result = super().visit(node, *args, **kwargs)
        if node["type"] in _BUILDS and isinstance(result, list | dict | str):
            budget.size -= len(result) + 1  # shallow: the items are references already charged
            if budget.size < 0:
                raise BudgetExceeded(budget.over)
        return result

    def visit_flatten(self, node: Any, value: Any) -> Any:
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None  # JMESPath: only a list flattens
        length = sum(len(e) if isinstance(e, list) else 1 for e in base)
        if length > self.budget.size:  # refused before the list is built
            raise BudgetExceeded(self.budget.over)
        merged: list[Any] = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    def visit_function_expression(self, node: Any, value: Any) -> Any:
        args = [self.visit(child, value) for child in node["children"]]
        name = node["value"]
        budget = self.budget
        if name in _SERIALISING:
            budget.afford(args, GROWTH)
        elif name == "join" and len(args) == 2 and isinstance(args[1], list):
            texts = sum(len(a) if isinstance(a, str) else 1 for a in args[1])
            glue = len(args[0]) if isinstance(args[0], str) else 1
            if texts + glue * len(args[1]) > budget.size:
                raise BudgetExceeded(budget.over)
        result = self.calls.call_function(name, args)
        if isinstance(result, str | list | dict) and name not in _SERIALISING:
            budget.size -= tree_size(result, budget.size) if name == "join" else len(result)
            if budget.size < 0:
                raise BudgetExceeded(budget.over)
        elif isinstance(result, str):
            budget.size -= len(result)
        return result


#: Node types that build a new list, object or text (their results are charged).
_BUILDS = frozenset(
    {
        "multi_select_list",
        "multi_select_dict",
        "projection",
        "value_projection",
        "filter_projection",
        "slice",
        "flatten",
    }
)


def bounded_search(expression: ParsedResult) -> Callable[[Any], Any]:
    """`expression.search`, with a fresh extraction budget for each call."""
    parsed: Any = expression.parsed

    def search(document: Any) -> Any:
        return BoundedInterpreter(extraction_budget()).visit(parsed, document)

    return search
