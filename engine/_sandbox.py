"""The sandbox spec templates run in: Jinja's immutable sandbox, where only whitelisted filters,
tests and methods of known cost exist, and every operation that builds a value (filters, method
calls, operators, literals, slices, output) charges the value's size as a tree to the render's
budget (engine/_budget.py). Specs are untrusted input: whatever a template writes, one render
stays within a fixed size and operation budget, refused (a RenderError, nothing sent) past it."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as _JINJA_FILTERS
from jinja2.filters import make_attrgetter
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_environment, pass_eval_context

from ._budget import GROWTH, current, tree_size

#: The longest text one value may be (a body field, a header).
MAX_OUTPUT_CHARS = 1_000_000
MAX_EXPONENT = 1_000
#: Integers a template may compute: amounts need 64 bits; squaring in a loop must stop early.
MAX_INT_BITS = 1_024
#: The widest field a `format` conversion may pad to (`'%20000000s'` would allocate 20 MB).
MAX_FORMAT_WIDTH = 1_000
_FORMAT_NUMBERS = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
#: The most characters one `%` conversion writes beyond its width (a float's 309 digits).
_CONVERSION_CHARS = 330


def text_limit(text: str) -> str:
    if len(text) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"a text over {MAX_OUTPUT_CHARS} characters")
    return text


def _bounded_format(value: Any, *args: Any, check_only: bool = False, **kwargs: Any) -> str:
    """Jinja's `format` (and a string's `%`): refused unless the longest output its conversions
    could write (widths, precisions, the arguments' text) fits in what is left of the budget."""
    text = str(value)
    bound = len(text) + GROWTH * tree_size((args, kwargs), MAX_OUTPUT_CHARS)
    for width, precision in _FORMAT_NUMBERS.findall(text):
        if "*" in (width, precision):
            raise SecurityError("a format width taken from the arguments (`*`)")
        if int(width or 0) > MAX_FORMAT_WIDTH or int(precision or 0) > MAX_FORMAT_WIDTH:
            raise SecurityError(f"a format width over {MAX_FORMAT_WIDTH}")
        bound += max(int(width or 0), int(precision or 0)) + _CONVERSION_CHARS
    if bound > MAX_OUTPUT_CHARS:
        raise SecurityError(f"a text over {MAX_OUTPUT_CHARS} characters")
    current().afford_size(bound)
    if check_only:
        return ""
    return text_limit(_JINJA_FILTERS["format"](value, *args, **kwargs))


def _bounded_replace(
    eval_ctx: Any,
    value: Any,
    old: Any,
    new: Any,
    count: int | None = None,
    *,
    check_only: bool = False,
) -> Any:
    """Jinja's `replace`, refusing a result over the output limit before building it."""
    text, old, new = str(value), str(old), str(new)
    times = text.count(old) if old else len(text) + 1
    if count is not None:
        times = min(times, max(count, 0))
    if len(text) + times * (len(new) - len(old)) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"a text over {MAX_OUTPUT_CHARS} characters")
    if check_only:
        return None
    return _JINJA_FILTERS["replace"](eval_ctx, value, old, new, count)


def _bounded_center(value: Any, width: int = 80) -> str:
    if int(width) > MAX_FORMAT_WIDTH:
        raise SecurityError(f"a width over {MAX_FORMAT_WIDTH}")
    return str(_JINJA_FILTERS["center"](value, width))


def _bounded_join(eval_ctx: Any, value: Any, separator: str = "", attribute: Any = None) -> str:
    items = list(value)
    current().afford([item for item in items if not isinstance(item, str)], GROWTH)
    _check_total(items, len(str(separator)) * max(len(items) - 1, 0))
    return str(_JINJA_FILTERS["join"](eval_ctx, items, separator, attribute))


def _check_total(parts: Any, extra: int = 0) -> None:
    """Refuse before joining when the pieces add up to more than the output limit."""
    total = extra
    for part in parts:
        total += len(part) if isinstance(part, str) else len(str(part))
        if total > MAX_OUTPUT_CHARS:
            raise SecurityError(f"a text over {MAX_OUTPUT_CHARS} characters")


@pass_environment
def _numbers_sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    """Jinja's `sum`, over numbers only (`sum(start=[])` would concatenate lists, quadratically)."""
    values = list(iterable)
    if attribute is not None:
        get = make_attrgetter(environment, attribute)
        values = [get(item) for item in values]
    if not all(isinstance(v, int | float) for v in (*values, start)):
        raise SecurityError("sum adds numbers only")
    return sum(values, start)


#: Jinja filters with a bound of their own (arguments that set an output size).
BOUNDED_FILTERS: Mapping[str, Callable[..., Any]] = {
    "format": _bounded_format,
    "join": pass_eval_context(_bounded_join),
    "replace": pass_eval_context(_bounded_replace),
    "center": _bounded_center,
    "sum": _numbers_sum,
}
#: Jinja's filters a spec may use: each writes at most FILTER_GROWTH times its inputs' size
#: (checked before it runs) or has a bound above; its result is charged to the render's budget.
ALLOWED_FILTERS = frozenset(
    {
        "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e",
        "escape", "first", "float", "forceescape", "format", "groupby", "int", "items", "join",
        "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
        "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string",
        "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper",
        "urlencode", "wordcount",
    }
)  # fmt: skip
#: Jinja filters specs cannot use (their cost is set by an argument, `slice(10**9)`, `batch`, or
#: they pad, wrap or randomise text): a template naming one is a lint error.
REMOVED_FILTERS = tuple(sorted(set(_JINJA_FILTERS) - ALLOWED_FILTERS))
#: Jinja's tests a spec may use (all give a boolean in time linear in their operands).
ALLOWED_TESTS = frozenset(
    {
        "!=", "<", "<=", "==", ">", ">=", "boolean", "callable", "defined", "divisibleby", "eq",
        "equalto", "escaped", "even", "false", "float", "ge", "greaterthan", "gt", "in",
        "integer", "iterable", "le", "lessthan", "lower", "lt", "mapping", "ne", "none",
        "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper",
    }
)  # fmt: skip


#: How many times its inputs' size a filter's output may be, where more than once: case changes
#: (`"ß".upper()` is "SS"), base64 of UTF-8, escapes. Any other filter gives at most its inputs
#: (`dictsort`, `items`, `groupby` add a pair per item).
FILTER_GROWTH: Mapping[str, int] = {
    "upper": 3, "title": 3, "capitalize": 3, "lower": 2, "dictsort": 2, "items": 2,
    "groupby": 3, "from_xml": 3, "b64encode": 6, "e": 6, "escape": 6, "forceescape": 6,
    "string": GROWTH, "tojson": GROWTH, "urlencode": GROWTH,
}  # fmt: skip


def charged(function: Callable[..., Any], growth: int = 1) -> Callable[..., Any]:
    """A filter that checks its inputs (times `growth`) fit the budget before running, and
    charges its result after. Jinja's pass-argument marker is kept (functools.wraps). What Jinja
    passes first to a filter marked `pass_context` (`selectattr`, `map`: to look up tests and
    filters) is the template's context, not an input: it is not sized (it would walk the whole
    request on every such call)."""
    if getattr(function, "jinja_pass_arg", None) is None:  # Jinja's pass_context marker

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            budget = current()
            budget.afford_call(args, kwargs, growth)
            return budget.charge(function(*args, **kwargs))

        return run

    @functools.wraps(function)
    def run_passed(passed: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current()
        budget.afford_call(args, kwargs, growth)
        return budget.charge(function(passed, *args, **kwargs))

    return run_passed


def charged_output(finalize: Callable[[Any], Any]) -> Callable[[Any], str]:
    """An environment's `finalize`, giving each output chunk as text charged to the budget: the
    whole output of a template is bounded, not only each value."""

    def output(value: Any) -> str:
        value = finalize(value)
        budget = current()
        if not isinstance(value, str):
            budget.afford(value, GROWTH)
            value = str(value)
        return str(budget.charge(value))

    return output


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with each value a template builds outside a filter or an operator
    passed through the sandbox's accounting: `a ~ b`, list/tuple/dict literals (a `{% set %}`
    of `[x, x]` nested 40 deep is a DAG whose tree is a trillion items) and slices."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _charged_literal(
        self, visit: Callable[[Any, Frame], None], node: Any, frame: Frame
    ) -> None:
        if getattr(node, "ctx", "load") != "load":
            visit(node, frame)
            return
        self.write("environment.charge(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._charged_literal(super().visit_List, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        self._charged_literal(super().visit_Tuple, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._charged_literal(super().visit_Dict, node, frame)

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if isinstance(node.arg, nodes.Slice):
            self._charged_literal(super().visit_Getitem, node, frame)
        else:
            super().visit_Getitem(node, frame)


#: The methods a template may call, by the kind of object (a whitelist: `(1).to_bytes(10**9)`,
#: `str.expandtabs` or `str.translate` could multiply a value by an argument).
_STR_METHODS = frozenset(
    {
        "capitalize", "casefold", "center", "count", "endswith", "find", "index", "isalnum",
        "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric", "isspace",
        "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix",
        "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
        "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill",
    }
)  # fmt: skip
_MAPPING_METHODS = frozenset({"get", "keys", "values", "items"})
_SEQUENCE_METHODS = frozenset({"count", "index"})
#: str methods whose integer argument is an output width.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


def _allowed_method(owner: Any, name: str) -> bool:
    if isinstance(owner, str):
        return name in _STR_METHODS
    if isinstance(owner, Mapping):
        return name in _MAPPING_METHODS
    if isinstance(owner, list | tuple):
        return name in _SEQUENCE_METHODS
    return False


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with these changes:
    - an unsafe attribute (`''.__class__`) raises at once (Jinja returns an undefined for it,
      which a native value would turn into a silent null);
    - mapping keys are read before attributes: `response.items` is the key "items" of a
      processor's response, not the dict method (as in the compiled fast path);
    - only whitelisted methods can be called (str, mapping and sequence methods of known cost;
      `str.format` is not available, the `format` filter is), and no globals exist;
    - every value built is charged to the render's budget (engine/_budget.py), and whatever
      could allocate much at once is refused first: repetition, `+`, `~`, `%`, powers and
      integer products, widths (`format`, `zfill`, `center`...), `replace`, `join`."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%", "-", "/", "//"})

    def charge(self, value: Any) -> Any:
        return current().charge(value)

    def bounded_concat(self, values: Any) -> str:
        budget = current()
        budget.afford([value for value in values if not isinstance(value, str)], GROWTH)
        parts = [str(value) for value in values]
        _check_total(parts)
        return str(budget.charge("".join(parts)))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # The sandbox hands out str.format wrapped (`__wrapped__` is the bound method).
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str) and name in ("format", "format_map"):
            raise SecurityError("str.format is not available in specs: use the format filter")
        if owner is None or not _allowed_method(owner, name):
            raise SecurityError(
                f"calling {name or type(__obj).__name__!r} is not available in specs"
            )
        budget = current()
        budget.afford((owner, args, kwargs), 3 if isinstance(owner, str) else 1)
        if isinstance(owner, str):
            if name in _WIDTH_METHODS and any(
                isinstance(a, int) and a > MAX_FORMAT_WIDTH for a in (*args, *kwargs.values())
            ):
                raise SecurityError(f"a width over {MAX_FORMAT_WIDTH}")
            if name == "join" and args:
                items = list(args[0])
                budget.afford([item for item in items if not isinstance(item, str)], GROWTH)
                _check_total(items, len(owner) * max(len(items) - 1, 0))
                args = (items, *args[1:])
            if name == "replace" and len(args) >= 2:
                _bounded_replace(None, owner, args[0], args[1], *args[2:3], check_only=True)
        return budget.charge(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and not attribute.startswith("__"):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = current()
        both_int = isinstance(left, int) and isinstance(right, int)
        sized = (str, list, tuple)
        if operator == "**":
            if isinstance(right, int) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"an exponent over {MAX_EXPONENT}")
            if both_int and abs(left).bit_length() * abs(right) > MAX_INT_BITS:
                raise SecurityError(f"an integer over {MAX_INT_BITS} bits")
        elif both_int:
            if abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
                raise SecurityError(f"an integer over {MAX_INT_BITS} bits")
        elif operator == "+":
            if isinstance(left, sized) and isinstance(right, sized):
                if len(left) + len(right) > MAX_OUTPUT_CHARS:
                    raise SecurityError(f"a value over {MAX_OUTPUT_CHARS} items")
                budget.afford((left, right), 1)
        elif operator == "%":
            if isinstance(left, str):
                _bounded_format(left, right, check_only=True)
                result = super().call_binop(context, operator, left, right)
                return budget.charge(text_limit(result) if isinstance(result, str) else result)
        elif operator == "*":
            sequence, times = (left, right) if isinstance(left, sized) else (right, left)
            if isinstance(sequence, sized) and isinstance(times, int):
                if len(sequence) * times > MAX_OUTPUT_CHARS:
                    raise SecurityError(f"a repetition over {MAX_OUTPUT_CHARS} items")
                # As a tree: `[[x] * 1000] * 1000` is a million x's, though two small lists.
                budget.afford(sequence, max(times, 1))
        return budget.charge(super().call_binop(context, operator, left, right))

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )
