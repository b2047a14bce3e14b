"""The budget's fast paths (sizing by exact type, filter calls sized without a walk) give the
same sizes and the same refusals as the plain walk they stand in for."""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import pytest

from engine._budget import Budget, BudgetExceeded, _walk


def reference_walk(value: Any, limit: int) -> tuple[int, int]:
    """The walk as first written: isinstance only, a check after every pair pushed."""
    total = visited = 0
    stack = [value]
    while stack:
        item = stack.pop()
        visited += 1
        if isinstance(item, str | bytes):
            total += len(item) + 1
        elif isinstance(item, Mapping):
            total += 1
            for key, child in item.items():
                stack.append(key)
                stack.append(child)
                if len(stack) > limit:
                    return limit + 1, visited
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            stack.extend(item)
        elif isinstance(item, int):
            total += 1 + item.bit_length() // 64
        else:
            total += 1
        if total > limit or len(stack) > limit:
            return limit + 1, visited
    return total, visited


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 5)
    if kind == 0:
        return "x" * rng.randrange(30)
    if kind == 1:
        return rng.choice([0, 1, -5, 2**70, 2**200])
    if kind == 2:
        return rng.choice([None, True, False, 1.5])
    if kind == 3:
        return b"ab" * rng.randrange(5)
    if kind == 4:
        return rng.choice(["", "é" * 3])
    items = [random_value(rng, depth + 1) for _ in range(rng.randrange(6))]
    if kind == 5:
        return items
    if kind == 6:
        return tuple(items)
    if kind == 7:
        return {f"k{i}": item for i, item in enumerate(items)}
    return OrderedDict((f"k{i}", item) for i, item in enumerate(items))  # not a dict exactly


@pytest.mark.parametrize("seed", range(40))
def test_walk_agrees_with_the_reference(seed: int) -> None:
    """The same size and count within the limit; over it, over it too (what was visited by
    the time it knew is not specified: an evaluation over its budget is refused either way)."""
    rng = random.Random(seed)
    for _ in range(50):
        value = random_value(rng)
        for limit in (0, 1, 3, 10, 40, 1000):
            expected = reference_walk(value, limit)
            found = _walk(value, limit)
            if expected[0] > limit:
                assert found[0] == limit + 1
            else:
                assert found == expected


def outcome(size: int, call: Any, *args: Any) -> tuple[str, int]:
    budget = Budget(size, 100, "over")
    try:
        call(budget, *args)
    except BudgetExceeded:
        return "refused", 0
    return "ok", budget.size


def _fast(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any], growth: int) -> None:
    budget.afford_call(args, kwargs, growth)


def _plain(budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any], growth: int) -> None:
    budget.afford((args, kwargs), growth)


@pytest.mark.parametrize("seed", range(20))
def test_filter_calls_are_sized_as_a_walk_would(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        args = tuple(
            rng.choice(
                [
                    *(None, True, False, "", "x" * rng.randrange(40), 7, {"a": "b"}, {"a": [1]}),
                    *(["x", 2**80, None], ("y", 1.5), {"k": "v" * rng.randrange(9), "n": None}),
                ]
            )
            for _ in range(rng.randrange(4))
        )
        kwargs = {"k": "v"} if rng.random() < 0.2 else {}
        growth = rng.choice([1, 2, 3, 12])
        size = rng.randrange(200)
        fast = outcome(size, _fast, args, kwargs, growth)
        assert fast == outcome(size, _plain, args, kwargs, growth), (args, kwargs, growth, size)


@pytest.mark.parametrize("value", ["", "text", None, True, 5, 2**100, [1, "a"], {"a": [1]}])
def test_charge_sizes_results_as_the_walk(value: Any) -> None:
    budget = Budget(1000, 10, "over")
    budget.charge(value)
    assert 1000 - budget.size == reference_walk(value, 1000)[0]


@pytest.mark.parametrize("seed", range(20))
def test_flat_values_are_sized_as_the_walk(seed: int) -> None:
    from engine._budget import _flat_size

    rng = random.Random(seed)
    for _ in range(200):
        value = random_value(rng)
        flat = _flat_size(value)
        if flat is not None:
            assert flat == reference_walk(value, 10**9)


def test_a_list_handed_to_filter_after_filter_is_walked_once_and_charged_each_time() -> None:
    from engine import _budget

    evidence = [{"type": "receipt", "text": "x" * 40}] * 3 + [[1, 2, [3]]]
    walks: list[int] = []
    real = _budget._walk

    def counting(value: object, limit: int) -> tuple[int, int]:
        walks.append(1)
        return real(value, limit)

    size, visited = real(evidence, 10**9)
    budget = _budget.Budget(10**6, 100, "over")
    start = budget.size
    try:
        _budget._walk = counting  # type: ignore[assignment]
        for _ in range(5):
            budget.afford_call((evidence, "type"), {}, 1)
    finally:
        _budget._walk = real  # type: ignore[assignment]
    assert len(walks) == 1  # measured once
    # Each call charged what measuring by a walk charges: the values visited, every time.
    assert start - budget.size == 5 * (3 + 2 + visited - 1)
    small = _budget.Budget(size // 2, 100, "over")  # the same list does not fit: refused
    with pytest.raises(_budget.BudgetExceeded):
        small.afford_call((evidence,), {}, 1)
