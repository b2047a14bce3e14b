"""Template text → compiled callables (sandboxed Jinja), plus the variable paths each one reads.

Rules (documented in the spec reference):
- A value that is exactly one `{{ expression }}` keeps its native type: an int stays an int,
  a mapping stays a mapping. Any other text with `{{`/`{%` renders to a string.
- Reading a field the request does not have gives null in a native value (and a key whose value is
  null is omitted by the caller), but is an error inside a string; an explicit null inside a
  string is written as "". Misspelled variables are caught
  at lint time by checking every variable path against the unified request schema.
- Plain field paths (`{{ request.amount }}`) compile to direct getters; nothing is parsed per call.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from jinja2 import ChainableUndefined, TemplateError, Undefined, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ._budget import MAX_RENDER_SIZE, BudgetExceeded, budgeted, within_budget
from ._fastexpr import compile_node
from ._sandbox import (
    ALLOWED_FILTERS,
    ALLOWED_TESTS,
    BOUNDED_FILTERS,
    FILTER_GROWTH,
    BoundedSandbox,
    charged,
    charged_output,
    text_limit,
)
from ._signing_filters import SIGNING_FILTERS


class OptionalUndefined(ChainableUndefined):
    """Chains through missing optional fields (`request.customer.email` when there is no
    customer) and is false-y, but fails loudly when rendered into text or iterated."""

    __slots__ = ()
    __str__ = Undefined._fail_with_undefined_error
    __iter__ = Undefined._fail_with_undefined_error
    __len__ = Undefined._fail_with_undefined_error
    __contains__ = Undefined._fail_with_undefined_error


def _is_none(value: Any) -> bool:
    return value is None or isinstance(value, Undefined)


def _b64encode(value: Any) -> str:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: Any) -> str:
    return base64.b64decode(str(value), validate=False).decode("utf-8")


def _from_xml(value: Any) -> Any:
    from ._encoding import parse_xml  # the one safe XML parser

    return parse_xml(str(value))


# Issuer identification number ranges (ISO/IEC 7812 prefixes as the networks publish them).
_BRANDS: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("amex", ((34, 34), (37, 37))),
    ("diners", ((300, 305), (36, 36), (38, 39))),
    ("jcb", ((3528, 3589),)),
    ("discover", ((6011, 6011), (644, 649), (65, 65))),
    ("unionpay", ((62, 62),)),
    ("mastercard", ((51, 55), (2221, 2720))),
    ("maestro", ((50, 50), (56, 58), (6304, 6304), (67, 67))),
    ("visa", ((4, 4),)),
)


def _card_brand(value: Any) -> str | None:
    digits = str(value)
    for brand, ranges in _BRANDS:
        for low, high in ranges:
            width = len(str(low))
            if digits[:width].isdigit() and low <= int(digits[:width]) <= high:
                return brand
    return None


def _last4(value: Any) -> str:
    return str(value)[-4:]


def _two_digits(value: Any) -> str:
    return f"{int(value):02d}"


def _merge(value: Any, other: Any) -> Any:
    """A mapping with `other`'s non-null entries added (null when both are empty)."""
    merged = {**(value if isinstance(value, Mapping) else {})}
    if isinstance(other, Mapping):
        merged.update(
            {k: v for k, v in other.items() if v is not None and not isinstance(v, Undefined)}
        )
    return merged or None


def _compact(value: Any) -> list[Any]:
    if value is None or isinstance(value, Undefined):
        return []
    return [item for item in value if item not in (None, "") and not isinstance(item, Undefined)]


def _unix_time(value: Any) -> int:
    """RFC 3339 text with a time zone → whole seconds since 1970-01-01T00:00:00Z."""
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return int(moment.timestamp())


def _decimal(value: Any) -> Decimal | None:
    """An amount exactly as written ("10.99", 1099, "1e2"): never through a float."""
    if value is None or isinstance(value, Undefined | bool):
        return None
    # A float (a JSON number, as decoded) is read through its shortest round-trip text, which is
    # the text the processor wrote for any amount of up to 15 significant digits.
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise ValueError(f"{str(value)[:20]!r} is not a decimal amount") from None
    if not number.is_finite() or abs(number.adjusted()) > 30:
        raise ValueError("an amount must be finite and under 10^30")
    return number


def _money(value: Any, exponent: Any) -> str | None:
    """Minor units and their exponent → the major-unit amount as exact decimal text."""
    minor = _decimal(value)
    if minor is None or exponent is None or isinstance(exponent, Undefined):
        return None
    places = int(exponent)
    if minor != minor.to_integral_value() or not 0 <= places <= 8:
        raise ValueError("money(): minor units must be whole and the exponent 0-8")
    return str(minor.scaleb(-places).quantize(Decimal(1).scaleb(-places)))


def _minor(value: Any, exponent: Any) -> int | None:
    """A major-unit amount ("10.99") → whole minor units at `exponent` (1099); an amount with
    more decimals than the exponent allows is refused, never rounded."""
    major = _decimal(value)
    if major is None or exponent is None or isinstance(exponent, Undefined):
        return None
    if not 0 <= int(exponent) <= 8:
        raise ValueError("minor(): the exponent must be 0-8")
    scaled = major.scaleb(int(exponent))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"minor(): {major} has more than {int(exponent)} decimals")
    return int(scaled)


def _pick(value: Any, *names: str) -> dict[str, Any] | None:
    """`address | pick('city', 'zip=postal_code')`: the named keys of a mapping, in the order
    written (`out=in` renames: processor name = unified name), nulls left out; null when
    none is left."""
    if not isinstance(value, Mapping):
        return None
    picked = {}
    for name in names:
        out, _, key = str(name).partition("=")
        item = value.get(key or out)
        if item is not None and not isinstance(item, Undefined):
            picked[out] = item
    return picked or None


def _derive_key(value: Any, purpose: Any) -> str | None:
    """A step's own idempotency key from the call's: the same key and purpose always give the
    same UUID-shaped key (a retry resends it), different purposes different keys."""
    if value is None or isinstance(value, Undefined):
        return None
    digest = hashlib.sha256(f"{value}\x00{purpose}".encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


#: Template filters beyond Jinja's built-ins: name → (function, documentation).
FILTERS: Mapping[str, tuple[Callable[..., Any], str]] = {
    "b64encode": (_b64encode, "Base64 of the UTF-8 text (standard alphabet, padded)."),
    "b64decode": (_b64decode, "The UTF-8 text of base64 data."),
    "from_xml": (
        _from_xml,
        "Parse XML text (entity declarations refused) into data: `@name` attributes, `#text`.",
    ),
    "card_brand": (
        _card_brand,
        "The card network of a card number from its issuer prefix: visa, mastercard, amex, "
        "discover, jcb, diners, unionpay, maestro; null when unknown.",
    ),
    "last4": (_last4, "The last four characters, e.g. of a card number for a refund."),
    "two_digits": (_two_digits, 'An integer as two digits: 3 → "03" (expiry months).'),
    "merge": (
        _merge,
        "`a | merge(b)`: mapping `a` with `b`'s non-null entries added; null if both are empty.",
    ),
    "compact": (_compact, "A list without its null and empty-string items: `[a, b] | compact`."),
    "unix_time": (
        _unix_time,
        "RFC 3339 text with a time zone as whole seconds since the Unix epoch: "
        '"2026-01-01T00:00:00Z" → 1767225600 (search filters on a creation time).',
    ),
    "decimal": (
        _decimal,
        'An amount as an exact decimal ("10.99" → 10.99) for comparing or computing, never a '
        "binary float (a JSON number is read through its shortest text); lint warns on "
        "`| float` near an amount.",
    ),
    "money": (
        _money,
        "`minor | money(exponent)`: minor units and their exponent as major-unit decimal text: "
        '`"1099" | money(2)` → `"10.99"` (a response that writes value and exponent apart).',
    ),
    "minor": (
        _minor,
        '`major | minor(exponent)`: a major-unit amount as whole minor units: `"10.99" | '
        "minor(2)` → 1099; more decimals than the exponent allows is an error, never rounded.",
    ),
    "pick": (
        _pick,
        "`request.billing_address | pick('city', 'zip=postal_code')`: a mapping's named keys in "
        "the order written, `out=in` renaming one; nulls left out, null if none is left. The "
        "keys read are checked like field paths.",
    ),
    "derive_key": (
        _derive_key,
        "`request.idempotency_key | derive_key('order')`: a step's own idempotency key, the "
        "same for the same call key and purpose (a retry resends it), UUID-shaped.",
    ),
    **SIGNING_FILTERS,
}


def _make_environment() -> BoundedSandbox:
    env = BoundedSandbox(undefined=OptionalUndefined, autoescape=False, keep_trailing_newline=True)
    # Whitelists: a filter, test or global Jinja adds in a later version is not exposed.
    filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    filters.update(BOUNDED_FILTERS)
    filters.update({name: func for name, (func, _) in FILTERS.items()})
    env.filters = {name: charged(f, FILTER_GROWTH.get(name, 1)) for name, f in filters.items()}
    env.tests = {name: env.tests[name] for name in ALLOWED_TESTS}
    # A missing field reads as null everywhere, so `x is none` holds for it too.
    env.tests["none"] = _is_none
    env.globals.clear()
    return env


def _path_segment(value: Any) -> Any:
    if value is None or isinstance(value, Undefined):
        raise ValueError("a path parameter is null")
    text = str(value)
    if text in (".", ".."):  # a dot segment would be resolved away ("/payments/../captures")
        return text.replace(".", "%2E")
    return quote(text, safe="")


def _null_as_empty(value: Any) -> Any:
    return "" if value is None else value


ENVIRONMENT = _make_environment()
# Text templates write an explicit null as "" (never the word "None" in a header or URL).
ENVIRONMENT.finalize = charged_output(_null_as_empty)
#: For URL paths: every `{{ }}` output is percent-encoded as one path segment ("../x" → "..%2Fx").
PATH_ENVIRONMENT = _make_environment()
PATH_ENVIRONMENT.finalize = charged_output(_path_segment)
#: The finalize of each environment without the accounting, for the fast path's plain fields.
_PLAIN_FINALIZE = {id(ENVIRONMENT): _null_as_empty, id(PATH_ENVIRONMENT): _path_segment}

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|%\}).)*)\}\}\s*$", re.S)
# Jinja's dict/str methods a template may call; they are not fields, so path checks stop there.
METHOD_NAMES = frozenset(dir(dict)) | frozenset(dir(str))

Renderer = Callable[[Mapping[str, Any]], Any]


class TemplateCompileError(Exception):
    def __init__(self, message: str, line_offset: int = 0) -> None:
        self.line_offset = line_offset
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class VariablePath:
    """A variable the template reads: `request.payment_method.card.number` is
    root="request", segments=("payment_method", "card", "number")."""

    root: str
    segments: tuple[str | int, ...]

    def dotted(self) -> str:
        return ".".join([self.root, *map(str, self.segments)])


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """`render` gives null for a missing field; `evaluate` may give Jinja's Undefined instead
    (one call less, for callers that treat both as null)."""

    source: str
    render: Renderer
    native: bool
    paths: tuple[VariablePath, ...]
    evaluate: Renderer
    #: Field paths (root first) any one of which being absent or null makes the value null:
    #: a body subtree all of whose values share one such path is skipped when it is absent.
    absent_when: frozenset[tuple[str | int, ...]] = frozenset()


def is_template(value: object) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def compile_template(
    source: str, environment: ImmutableSandboxedEnvironment = ENVIRONMENT
) -> CompiledTemplate:
    """Compile one template string; raise TemplateCompileError on syntax errors.

    Compiled once per process: specs repeat the same templates across flows and processors
    (937 templates in the bundled specs, 362 distinct), and a CompiledTemplate is immutable."""
    for sources in _RECORDINGS:
        sources.add(source)
    try:
        return _compile_template_cached(source, environment)
    except RecursionError:  # `[[[[…]]]]` hundreds deep: Jinja's parser recurses per level
        raise TemplateCompileError("template error: the expression nests too deeply") from None


#: While `connector docs` writes a bundled spec's module: every template text compiled.
_RECORDINGS: list[set[str]] = []


@contextmanager
def recording() -> Iterator[set[str]]:
    """The template texts compiled inside the block (engine._spec_cache writes their ASTs)."""
    sources: set[str] = set()
    _RECORDINGS.append(sources)
    try:
        yield sources
    finally:
        _RECORDINGS.remove(sources)


@functools.lru_cache(maxsize=4096)
def _compile_template_cached(
    source: str, environment: ImmutableSandboxedEnvironment
) -> CompiledTemplate:
    from ._spec_cache import parsed_template

    # A bundled spec's templates come parsed with it; any other text is parsed here.
    ast: nodes.Template | None = parsed_template(source, environment)
    if ast is None:
        try:
            ast = environment.parse(source)
        except TemplateError as exc:
            line = getattr(exc, "lineno", 1) - 1
            raise TemplateCompileError(_template_message(exc), line) from None
    every = _all_nodes(ast)  # one walk of the tree serves every check below
    for name in _private_names(every):
        raise TemplateCompileError(f"template error: access to {name!r} is not allowed")
    for statement in _statements_refused(every):
        raise TemplateCompileError(
            f"template error: `{statement}` is not allowed in a spec (use `if`/`set` and filters)"
        )
    for kind, name in _unknown_filters(every, environment):
        raise TemplateCompileError(f"template error: no {kind} named {name!r}")
    paths = tuple(_variable_paths(ast, _free_names(every)))
    try:
        fast = _fast_renderer(ast, environment)
    except TemplateError as exc:
        raise TemplateCompileError(_template_message(exc)) from None
    if fast is not None:
        absent: frozenset[tuple[str | int, ...]] = frozenset()
        if fast[1]:  # one native expression: it is null wherever its guard paths are absent
            (output,) = ast.body
            assert isinstance(output, nodes.Output)
            value = next(n for n in output.nodes if not isinstance(n, nodes.TemplateData))
            absent = _absent_when(value)
        render, evaluate = fast[0], fast[2]
        if not all(_is_plain(node) for node in ast.body[0].nodes):  # type: ignore[attr-defined]
            # What the fast path reads: the field paths, and the mapping a `.get` call reads
            # (`credentials.get('key')` reads `credentials`, not a field named get).
            reads = (*paths, *_call_subjects(every))
            render, evaluate = folded(render, reads), folded(evaluate, reads)
        return CompiledTemplate(source, render, fast[1], paths, evaluate, absent)
    # Jinja's code generation is the costly part of loading a spec; a template that needs it
    # (a loop, a call) is generated on first use. Everything a spec author can get wrong
    # (syntax, names, filters, variable paths) has been checked above.
    single = _SINGLE_EXPRESSION.match(source)
    if single is not None and environment is ENVIRONMENT:
        expression = single.group("expr")
        native_code = _lazy(
            lambda: environment.compile_expression(expression, undefined_to_none=False)
        )

        def evaluate_native(code: Any, context: Mapping[str, Any]) -> Any:
            return _native(code(**context))

        def render_native(context: Mapping[str, Any]) -> Any:
            code = native_code()  # generated (under a budget of its own) before this one's
            return within_budget(evaluate_native, code, context)

        return CompiledTemplate(source, render_native, True, paths, render_native)
    text_code = _lazy(lambda: environment.from_string(ast))

    def evaluate_text(code: Any, context: Mapping[str, Any]) -> Any:
        return text_limit(code.render(context))

    def render_text(context: Mapping[str, Any]) -> Any:
        code = text_code()
        return within_budget(evaluate_text, code, context)

    return CompiledTemplate(source, render_text, False, paths, render_text)


def _lazy(make: Callable[[], Any]) -> Callable[[], Any]:
    made: list[Any] = []

    def get() -> Any:
        if not made:
            # Jinja folds constant expressions while generating code: that work has a budget
            # of its own (a fold over budget is left to run, and be refused, at render time).
            with budgeted():
                made.append(make())
        return made[0]

    return get


def _all_nodes(ast: nodes.Template) -> list[nodes.Node]:
    found: list[nodes.Node] = []
    stack: list[nodes.Node] = [ast]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.iter_child_nodes())
    return found


def _unknown_filters(
    every: list[nodes.Node], environment: ImmutableSandboxedEnvironment
) -> Iterator[tuple[str, str]]:
    for node in every:
        if not isinstance(node, nodes.Filter | nodes.Test):
            continue
        table = environment.filters if isinstance(node, nodes.Filter) else environment.tests
        if node.name not in table:
            yield ("filter" if isinstance(node, nodes.Filter) else "test"), node.name


#: Statements a spec template may not use: loops, macros and template loading make a template a
#: program (unbounded time, files), and no processor needs them; `if` and `set` remain.
_REFUSED_STATEMENTS: Mapping[type[nodes.Node], str] = {
    nodes.For: "for",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
    nodes.Extends: "extends",
    nodes.Block: "block",
    nodes.FilterBlock: "filter",
}


def _statements_refused(every: list[nodes.Node]) -> Iterator[str]:
    for node in every:
        refused = _REFUSED_STATEMENTS.get(type(node))
        if refused is not None:
            yield refused


def _private_names(every: list[nodes.Node]) -> Iterator[str]:
    """Dunder attributes or keys (`__class__`, `__globals__`): the usual first step of a
    sandbox escape, refused at compile time. (`_links` is a fine processor field.) The sandbox
    still guards everything else at render time."""
    for node in every:
        if not isinstance(node, nodes.Getattr | nodes.Getitem):
            continue
        if isinstance(node, nodes.Getattr):
            name: Any = node.attr
        else:
            assert isinstance(node, nodes.Getitem)
            name = getattr(node.arg, "value", None)
        if isinstance(name, str) and name.startswith("__"):
            yield name


def _native(value: Any) -> Any:
    """Undefined → null; but an Undefined the sandbox produced for an unsafe access raises.
    A text value is held to the same output limit as a text template."""
    if isinstance(value, Undefined):
        if value._undefined_exception is not UndefinedError:
            value._fail_with_undefined_error()
        return None
    return text_limit(value) if isinstance(value, str) else value


#: What a field the context does not have evaluates to in the compiled fast path.
MISSING = OptionalUndefined(hint="a field the request or response does not have")


#: What a folded template keeps per combination of its absent inputs (there are few).
_FOLDED_MAX = 16


def folded(render: Renderer, paths: tuple[VariablePath, ...]) -> Renderer:
    """`render`, computed once for each combination of absent and null inputs: when every path
    the template reads is absent or null in the context (a payment method's fields when the
    request pays by another, a `let` name that came out null), its value is a constant, kept
    while it is immutable (null, a text, a number). Exact: a compiled template reads the
    context only through `paths` (the fast path's field walks, where an absent or null step
    makes the rest absent), and every filter is a pure function. Nothing of a request is kept:
    only outputs computed from no request value at all."""
    # The shortest paths first: a present input (a request's amount) is usually a short one,
    # and one present input ends the check.
    ordered = sorted(paths, key=lambda path: len(path.segments))
    walks = tuple((path.root, path.segments) for path in ordered)
    memo: dict[int, Any] = {}

    def run(context: Mapping[str, Any]) -> Any:
        key = 1  # one bit per path (null: 1, absent: 0) after a leading 1
        for root, segments in walks:
            value = context.get(root, MISSING)
            for segment in segments:
                if type(value) is dict:
                    value = value.get(segment, MISSING)
                elif value is None or value is MISSING:  # the rest of the walk is absent
                    value = MISSING
                    break
                else:
                    return render(context)  # a list, a value the walk cannot see through
            if value is None:
                key = key << 1 | 1
            elif value is MISSING:
                key <<= 1
            else:
                return render(context)  # a present input: evaluated as usual
        try:
            return memo[key]
        except KeyError:
            result = render(context)
            if (result is None or result is MISSING or type(result) in _IMMUTABLE) and len(
                memo
            ) < _FOLDED_MAX:
                memo[key] = result
            return result

    run.memo = memo  # type: ignore[attr-defined]  # for the tests: what it keeps
    return run


_IMMUTABLE = frozenset({str, int, float, bool})


def _fast_renderer(
    ast: nodes.Template, environment: ImmutableSandboxedEnvironment
) -> tuple[Renderer, bool, Renderer] | None:
    """Plain closures for templates made of one output of text and handled expressions."""
    if len(ast.body) != 1 or not isinstance(ast.body[0], nodes.Output):
        return None
    parts: list[str | Callable[[Mapping[str, Any]], Any]] = []
    for node in ast.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            parts.append(node.data)
            continue
        evaluate = compile_node(node, environment, MISSING)
        if evaluate is None:
            return None
        parts.append(evaluate)
    expressions = [part for part in parts if callable(part)]
    blank = all(
        isinstance(part, str) and not part.strip() for part in parts if part not in expressions
    )
    # Only fields and constants: nothing is built, so nothing needs accounting but the output.
    plain = all(_is_plain(node) for node in ast.body[0].nodes)
    if len(expressions) == 1 and blank and environment is ENVIRONMENT:
        evaluate = expressions[0]
        if plain:

            def native(context: Mapping[str, Any]) -> Any:
                return _native(evaluate(context))

            return native, True, evaluate

        def counted(context: Mapping[str, Any]) -> Any:
            return within_budget(evaluate, context)

        def native_counted(context: Mapping[str, Any]) -> Any:
            return _native(counted(context))

        return native_counted, True, counted
    finalize = _PLAIN_FINALIZE.get(id(environment), environment.finalize)

    def join(context: Mapping[str, Any]) -> Any:
        out = []
        total = 0
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = part(context)
                out.append(str(finalize(value) if finalize else value))
            total += len(out[-1])
            if total > MAX_RENDER_SIZE:
                raise BudgetExceeded(f"a text over {MAX_RENDER_SIZE:,} characters")
        return text_limit("".join(out))

    if plain:
        return join, False, join

    def text(context: Mapping[str, Any]) -> Any:
        return within_budget(join, context)

    return text, False, text


def _is_plain(node: nodes.Node) -> bool:
    """Text, a constant, or a field path with constant keys (`request.customer['id']`)."""
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return False
        node = node.node
    return isinstance(node, nodes.TemplateData | nodes.Const | nodes.Name)


def _template_message(exc: TemplateError) -> str:
    return f"template error: {exc.message or exc}"


def _chain(node: nodes.Node) -> VariablePath | None:
    segments: list[str | int] = []
    while True:
        if isinstance(node, nodes.Getattr):
            segments.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if not isinstance(node.arg.value, str | int):
                return None
            segments.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            return VariablePath(node.name, tuple(reversed(segments)))
        else:
            return None


Prefixes = frozenset[tuple[str | int, ...]]


def _absent_when(node: nodes.Node) -> Prefixes:
    """Paths such that, when one is absent or null, the expression (as the fast path evaluates
    it) is missing. Conservative: an empty set claims nothing."""
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        path = _chain(node)
        if path is None:
            return frozenset()
        full = (path.root, *path.segments)
        return frozenset(full[:end] for end in range(2, len(full) + 1))
    if isinstance(node, nodes.CondExpr):
        then = _absent_when(node.expr1)
        if node.expr2 is None:  # `x if test`: missing unless the test holds
            return then | _falsy_when(node.test)
        otherwise = _absent_when(node.expr2)
        return (then & otherwise) | (_falsy_when(node.test) & otherwise)
    return frozenset()


def _falsy_when(node: nodes.Node) -> Prefixes:
    """Paths such that, when one is absent or null, the condition is false."""
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        return _absent_when(node)  # a missing value is false
    if isinstance(node, nodes.And):
        return _falsy_when(node.left) | _falsy_when(node.right)
    if isinstance(node, nodes.Or):
        return _falsy_when(node.left) & _falsy_when(node.right)
    if isinstance(node, nodes.Compare) and len(node.ops) == 1:
        operand = node.ops[0]
        # `path == 'literal'` / `path in ['a', 'b']`: a missing value equals no literal.
        if operand.op == "eq" and _is_literal(operand.expr):
            return _absent_when(node.expr)
        if (
            operand.op == "in"
            and isinstance(operand.expr, nodes.List | nodes.Tuple)
            and all(_is_literal(item) for item in operand.expr.items)
        ):
            return _absent_when(node.expr)
    return frozenset()


def _is_literal(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Const) and node.value is not None


def _call_subjects(every: list[nodes.Node]) -> list[VariablePath]:
    """The field paths whose value a method call reads whole: `x.y.get(k)` reads `x.y`."""
    found = []
    for node in every:
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            path = _chain(node.node.node)
            if path is not None:
                found.append(path)
    return found


def _free_names(every: list[nodes.Node]) -> set[str]:
    """Names read but never bound inside the template (loop targets, `set`, macro params):
    Jinja's own meta.find_undeclared_variables, without running its code generator."""
    names = [n for n in every if isinstance(n, nodes.Name)]
    bound = {n.name for n in names if n.ctx in ("store", "param")}
    return {n.name for n in names if n.ctx == "load"} - bound


def _variable_paths(ast: nodes.Template, free: set[str]) -> Iterator[VariablePath]:
    def visit(node: nodes.Node) -> Iterator[VariablePath]:
        if isinstance(node, nodes.Filter) and node.name == "pick" and node.node is not None:
            # `x | pick('city', zip='postal_code')` reads x.city and x.postal_code: checked too.
            base = _chain(node.node)
            if base is not None and base.root in free:
                for key in node.args:
                    if isinstance(key, nodes.Const) and isinstance(key.value, str):
                        read = key.value.partition("=")[2] or key.value
                        yield VariablePath(base.root, (*base.segments, read))
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            path = _chain(node)
            if path is not None:
                if path.root in free:
                    yield path
                return
        for child in node.iter_child_nodes():
            yield from visit(child)

    yield from visit(ast)


def filter_docs() -> list[tuple[str, str]]:
    return [(name, doc) for name, (_, doc) in FILTERS.items()]
