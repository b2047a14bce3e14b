"""The sandbox spec templates run in: Jinja's immutable sandbox, with every way a template could
grow a value (text, lists, integers, widths) bounded before it allocates. Specs are untrusted
input: a short template must not be able to build gigabytes or spin for minutes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as _JINJA_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_eval_context

MAX_OUTPUT_CHARS = 1_000_000
MAX_EXPONENT = 1_000
#: Integers a template may compute: amounts need 64 bits; squaring in a loop must stop early.
MAX_INT_BITS = 1_024
#: The widest field a `format` conversion may pad to (`'%20000000s'` would allocate 20 MB).
MAX_FORMAT_WIDTH = 1_000
_FORMAT_NUMBERS = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")


def text_limit(text: str) -> str:
    if len(text) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"a text over {MAX_OUTPUT_CHARS} characters")
    return text


def _bounded_format(value: Any, *args: Any, check_only: bool = False, **kwargs: Any) -> str:
    """Jinja's `format`, refusing field widths or precisions that would allocate megabytes."""
    for width, precision in _FORMAT_NUMBERS.findall(str(value)):
        if "*" in (width, precision):
            raise SecurityError("a format width taken from the arguments (`*`)")
        if int(width or 0) > MAX_FORMAT_WIDTH or int(precision or 0) > MAX_FORMAT_WIDTH:
            raise SecurityError(f"a format width over {MAX_FORMAT_WIDTH}")
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
    _check_total(items, len(str(separator)) * max(len(items) - 1, 0))
    return str(_JINJA_FILTERS["join"](eval_ctx, items, separator, attribute))


def _check_total(parts: Any, extra: int = 0) -> None:
    """Refuse before joining when the pieces add up to more than the output limit."""
    total = extra
    for part in parts:
        total += len(part) if isinstance(part, str) else len(str(part))
        if total > MAX_OUTPUT_CHARS:
            raise SecurityError(f"a text over {MAX_OUTPUT_CHARS} characters")


#: Jinja filters that can turn a short input into megabytes, replaced by bounded versions.
BOUNDED_FILTERS: Mapping[str, Callable[..., Any]] = {
    "format": _bounded_format,
    "join": pass_eval_context(_bounded_join),
    "replace": pass_eval_context(_bounded_replace),
    "center": _bounded_center,
}
#: Jinja filters specs cannot use (padding or wrapping every line of a text: no processor
#: needs it, and it multiplies output); a template naming one is a lint error.
REMOVED_FILTERS = ("indent", "wordwrap", "xmlattr", "urlize", "filesizeformat", "pprint")


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with `a ~ b` joined by the sandbox's bounded concatenation (a
    `{% set x = x ~ x %}` repeated thirty times would otherwise build a gigabyte)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


#: str methods whose integer argument is an output width.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with these changes:
    - an unsafe attribute (`''.__class__`) raises at once (Jinja returns an undefined for it,
      which a native value would turn into a silent null);
    - mapping keys are read before attributes: `response.items` is the key "items" of a
      processor's response, not the dict method (as in the compiled fast path);
    - whatever can grow a value is bounded before it allocates: repetition, `+`, `~`, `%`,
      powers and integer products, widths (`format`, `zfill`, `center`...), `replace`, `join`;
      `str.format` is not available (the `format` filter is)."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def bounded_concat(self, values: Any) -> str:
        parts = [str(value) for value in values]
        _check_total(parts)
        return "".join(parts)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # The sandbox hands out str.format wrapped (`__wrapped__` is the bound method).
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in ("format", "format_map"):
                raise SecurityError("str.format is not available in specs: use the format filter")
            if name in _WIDTH_METHODS and any(
                isinstance(a, int) and a > MAX_FORMAT_WIDTH for a in (*args, *kwargs.values())
            ):
                raise SecurityError(f"a width over {MAX_FORMAT_WIDTH}")
            if name == "join" and args:
                items = list(args[0])
                _check_total(items, len(owner) * max(len(items) - 1, 0))
                args = (items, *args[1:])
            if name == "replace" and len(args) >= 2:
                _bounded_replace(None, owner, args[0], args[1], *args[2:3], check_only=True)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and not attribute.startswith("__"):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        both_int = isinstance(left, int) and isinstance(right, int)
        if operator == "**":
            if isinstance(right, int) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"an exponent over {MAX_EXPONENT}")
            if both_int and abs(left).bit_length() * abs(right) > MAX_INT_BITS:
                raise SecurityError(f"an integer over {MAX_INT_BITS} bits")
        elif both_int:
            if abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
                raise SecurityError(f"an integer over {MAX_INT_BITS} bits")
        elif operator == "+":
            sized = (str, list, tuple)
            if (
                isinstance(left, sized)
                and isinstance(right, sized)
                and len(left) + len(right) > MAX_OUTPUT_CHARS
            ):
                raise SecurityError(f"a value over {MAX_OUTPUT_CHARS} items")
        elif operator == "%":
            if isinstance(left, str):
                _bounded_format(left, check_only=True)
                result = super().call_binop(context, operator, left, right)
                return text_limit(result) if isinstance(result, str) else result
        else:
            sized = (str, list, tuple)
            sequence, times = (left, right) if isinstance(left, sized) else (right, left)
            too_long = (
                isinstance(sequence, sized)
                and isinstance(times, int)
                and len(sequence) * times > MAX_OUTPUT_CHARS
            )
            if too_long:
                raise SecurityError(f"a repetition over {MAX_OUTPUT_CHARS} items")
        return super().call_binop(context, operator, left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )
