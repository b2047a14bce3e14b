"""Per-evaluation budgets: every value one template render or one extraction builds is charged
by its size as a tree, so whatever a spec writes, one evaluation stays within fixed bounds.

The size of a value counts what serialising it would produce: a text counts its characters, a
container one unit plus its items' sizes, a number one unit per 64 bits. A reference shared by
several containers is counted every time it appears (a `{% set %}` DAG whose tree is exponential
is counted as the tree it serialises to), and a walk stops as soon as it passes what is left, so
measuring never costs more than the budget itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from jinja2.exceptions import SecurityError

#: Units (characters, items, 64-bit words) one template render may build in total: every
#: intermediate value and the whole output, shared references counted each time.
MAX_RENDER_SIZE = 4_000_000
#: Accounted operations (filter, method and operator calls, literals, output chunks) per render.
MAX_RENDER_STEPS = 100_000
#: Units one JMESPath extraction may build (the results of every node of the expression).
MAX_EXTRACTION_SIZE = 4_000_000
#: Expression nodes one JMESPath extraction may visit (a projection visits once per element).
MAX_EXTRACTION_STEPS = 200_000
#: How many times its input's size the text of a value may be at most (`tojson` writes an astral
#: character as two `\uXXXX` escapes; `urlencode` a 4-byte character as 12 characters).
GROWTH = 12


_R = TypeVar("_R")


class BudgetExceeded(SecurityError):
    """An evaluation went over its budget: a spec bug (nothing was sent)."""


def tree_size(value: Any, limit: int) -> int:
    """The size of `value` as a tree, or a number over `limit` as soon as it is known to be."""
    return _walk(value, limit)[0]


def _walk(value: Any, limit: int) -> tuple[int, int]:
    """(size as a tree, values visited), or (limit + 1, …) once the size is known to be over
    `limit` (what was visited by then is not specified: the walk is refused either way). The
    exact built-in types are told apart by `type` first (the common case, and cheap), and the
    text keys and leaf items of an exact dict, list or tuple are counted where they are found
    instead of pushed and popped; subclasses and other mappings and sequences by `isinstance`."""
    total = visited = 0
    stack = [value]
    pop = stack.pop
    push = stack.append
    while stack:
        item = pop()
        visited += 1
        kind = type(item)
        if kind is str or kind is bytes:
            total += len(item) + 1
        elif kind is dict:
            total += 1
            # Each pair is two values: past `limit`, the size is over it (each counts 1+).
            if len(stack) + 2 * len(item) > limit:
                return limit + 1, visited
            for key, child in item.items():
                if type(key) is str:
                    total += len(key) + 1
                    visited += 1
                else:
                    push(key)
                leaf = type(child)
                if leaf is str:
                    total += len(child) + 1
                elif leaf is int:
                    total += 1 + child.bit_length() // 64
                elif child is None or leaf is bool or leaf is float:
                    total += 1
                else:
                    push(child)
                    continue
                visited += 1
        elif kind is list or kind is tuple:
            total += 1
            if len(stack) + len(item) > limit:
                return limit + 1, visited
            for child in item:
                leaf = type(child)
                if leaf is str:
                    total += len(child) + 1
                elif leaf is int:
                    total += 1 + child.bit_length() // 64
                elif child is None or leaf is bool or leaf is float:
                    total += 1
                else:
                    push(child)
                    continue
                visited += 1
        elif kind is int:
            total += 1 + item.bit_length() // 64
        elif kind is bool or kind is float or item is None:
            total += 1
        elif isinstance(item, str | bytes):
            total += len(item) + 1
        elif isinstance(item, Mapping):
            total += 1
            for key, child in item.items():
                push(key)
                push(child)
                if len(stack) > limit:
                    return limit + 1, visited
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            stack.extend(item)
        elif isinstance(item, int):
            total += 1 + item.bit_length() // 64
        else:  # a float, None, a bool, an Undefined, a generator (charged when consumed)
            total += 1
        if total > limit or len(stack) > limit:
            return limit + 1, visited
    return total, visited


def _scalar_size(value: Any) -> int:
    """A leaf's size as _walk counts it, or -1 when it is not an exact text, int, bool, float
    or None."""
    kind = type(value)
    if kind is str:
        return len(value) + 1
    if kind is int:
        return 1 + int(value.bit_length()) // 64
    if value is None or kind is bool or kind is float:
        return 1
    return -1


def _flat_size(value: Any) -> tuple[int, int] | None:
    """_walk's (size, values visited) of a dict with text keys or a list or tuple whose items
    are all leaves (what most filters take and give), in one loop; None for anything else."""
    kind = type(value)
    if kind is dict:
        size = 1
        for key, item in value.items():
            if type(key) is not str:
                return None
            leaf = _scalar_size(item)
            if leaf < 0:
                return None
            size += len(key) + 1 + leaf
        return size, 1 + 2 * len(value)
    if kind is list or kind is tuple:
        size = 1
        for item in value:
            leaf = _scalar_size(item)
            if leaf < 0:
                return None
            size += leaf
        return size, 1 + len(value)
    return None


#: The measurements the evaluations of a `shared_measures` block share (None outside one).
_SHARED: ContextVar[dict[int, tuple[Any, int, int]] | None] = ContextVar(
    "connector_service_measures", default=None
)


class Budget:
    """What is left of one evaluation's size and step budget; `over` is the refusal message."""

    __slots__ = ("_measured", "over", "size", "steps")

    def __init__(self, size: int, steps: int, over: str) -> None:
        self.size = size
        self.steps = steps
        self.over = over
        #: id → (value, size, visited) of the containers afford_call measured: one evaluation
        #: builds nothing in place (the sandbox is immutable), so the same list handed to filter
        #: after filter is walked once; each use is still charged what a walk would charge.
        #: Inside `shared_measures`, one table for every evaluation of the block.
        self._measured: dict[int, tuple[Any, int, int]] | None = _SHARED.get()

    def charge(self, value: Any) -> Any:
        """Count one operation and the size of its result; the result is returned."""
        self.steps -= 1
        if self.steps < 0 or self.size < 0:
            raise BudgetExceeded(self.over)
        kind = type(value)
        if kind is str:  # the common results, sized as _walk would, without the walk
            self.size -= len(value) + 1
        elif value is None or kind is bool:
            self.size -= 1
        else:
            flat = _flat_size(value)
            self.size -= flat[0] if flat is not None else _walk(value, self.size)[0]
        if self.size < 0:
            raise BudgetExceeded(self.over)
        return value

    def charge_units(self, units: int) -> None:
        """Count one operation of a known size (a literal whose size was measured once)."""
        self.steps -= 1
        self.size -= units
        if self.steps < 0 or self.size < 0:
            raise BudgetExceeded(self.over)

    def afford(self, inputs: Any, growth: int = 1) -> None:
        """Refuse before an operation whose output may be `growth` times its inputs' size when
        that could not fit in what is left (so nothing large is allocated first)."""
        if self.size < 0:
            raise BudgetExceeded(self.over)
        size, visited = _walk(inputs, self.size // growth)
        # Measuring is charged too (by values visited: a text is one), so that measuring the
        # same large list again and again is bounded like everything else.
        self.size -= visited
        if size * growth > self.size:
            raise BudgetExceeded(self.over)

    def afford_call(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], growth: int) -> None:
        """`afford((args, kwargs), growth)`, sized without a walk when every argument is a
        text, a bool or None (most filter calls): the same units, the same refusals."""
        if kwargs or self.size < 0:
            self.afford((args, kwargs), growth)
            return
        size = 3  # the (args, kwargs) pair, the args tuple, the empty kwargs mapping
        visited = 3 + len(args)
        for value in args:
            kind = type(value)
            if kind is str:
                size += len(value) + 1
            elif value is None or kind is bool:
                size += 1
            else:
                flat = _flat_size(value) or self._measure(value, growth)
                size += flat[0]
                visited += flat[1] - 1
        limit = self.size // growth
        if size > limit:
            size = limit + 1  # as _walk reports it, for the same outcome below
        self.size -= visited
        if size * growth > self.size:
            raise BudgetExceeded(self.over)

    def _measure(self, value: Any, growth: int) -> tuple[int, int]:
        """_walk's (size, values visited) of `value`, remembered for this evaluation when the
        walk was whole (one that stopped early is over the budget, and refused by the caller)."""
        memo = self._measured
        if memo is not None:
            found = memo.get(id(value))
            if found is not None and found[0] is value:
                return found[1], found[2]
        limit = self.size // growth
        size, visited = _walk(value, limit)
        if size <= limit:
            if memo is None:
                memo = self._measured = {}
            memo[id(value)] = (value, size, visited)
        return size, visited

    def afford_size(self, units: int) -> None:
        if units > self.size:
            raise BudgetExceeded(self.over)


_RENDER_OVER = (
    f"the template is over its budget ({MAX_RENDER_SIZE:,} units or "
    f"{MAX_RENDER_STEPS:,} operations)"
)
_EXTRACTION_OVER = (
    f"the extraction is over its budget ({MAX_EXTRACTION_SIZE:,} units or "
    f"{MAX_EXTRACTION_STEPS:,} operations)"
)
_CURRENT: ContextVar[Budget | None] = ContextVar("connector_service_budget", default=None)


def shared_measures(function: Callable[..., _R], *arguments: Any) -> _R:
    """`function(*arguments)`, its evaluations sharing what they measured (`Budget._measure`):
    for a block where nothing measured changes, the flow's `let` names, each its own evaluation
    over the same request (an evidence list, filtered by a dozen names in turn). Each
    evaluation is still charged, and refused, exactly as if it had walked the value itself; the
    table (and the values it holds on to) ends with the block."""
    if _SHARED.get() is not None:
        return function(*arguments)
    token = _SHARED.set({})
    try:
        return function(*arguments)
    finally:
        _SHARED.reset(token)


def render_budget() -> Budget:
    return Budget(MAX_RENDER_SIZE, MAX_RENDER_STEPS, _RENDER_OVER)


def extraction_budget() -> Budget:
    return Budget(MAX_EXTRACTION_SIZE, MAX_EXTRACTION_STEPS, _EXTRACTION_OVER)


def current() -> Budget:
    """The budget of the render running now; outside one (a direct call in a test, Jinja
    folding a constant), a fresh budget for this one operation."""
    budget = _CURRENT.get()
    return budget if budget is not None else render_budget()


def within_budget(function: Callable[..., _R], *arguments: Any) -> _R:
    """`function(*arguments)` as one evaluation with a fresh render budget (`budgeted`,
    without a context manager's cost: this runs for every template with an operation in it)."""
    token = _CURRENT.set(Budget(MAX_RENDER_SIZE, MAX_RENDER_STEPS, _RENDER_OVER))
    try:
        return function(*arguments)
    finally:
        _CURRENT.reset(token)


@contextmanager
def budgeted(budget: Budget | None = None) -> Iterator[Budget]:
    """Run the block as one evaluation with its own budget (a fresh render budget by default)."""
    budget = budget if budget is not None else render_budget()
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)
