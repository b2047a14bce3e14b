"""The small pieces a compiled spec is made of: renders that omit nulls, locate errors and skip
absent subtrees; JMESPath compiled once into the bounded interpreter; and what a request's
templates read (settings, where the idempotency key is placed)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined
from jinja2.exceptions import SecurityError, UndefinedError

from ._errors import RenderError
from ._plan import Render
from ._templates import (
    ENVIRONMENT,
    MISSING,
    PATH_ENVIRONMENT,
    TemplateCompileError,
    compile_template,
    is_template,
)


def _render_error(pointer: str, exc: Exception) -> RenderError:
    """A template's runtime failure as a RenderError naming the spec pointer. Only Jinja's own
    messages are kept: other exceptions' texts can quote values (card data)."""
    if isinstance(exc, RenderError):
        return exc
    if isinstance(exc, UndefinedError | SecurityError):
        return RenderError(pointer, str(exc.message))
    return RenderError(pointer, f"template failed ({type(exc).__name__})")


#: (key, render, pointer): `render` may return Undefined, which counts as null.
Item = tuple[str, Render, str]


#: Values that are never Jinja's Undefined, told apart by their exact type (no isinstance).
_DEFINED = frozenset({str, int, dict, list, bool, float})


def _omit_nulls_mapping(items: tuple[Item, ...]) -> Render:
    def render(context: Mapping[str, Any]) -> Any:
        out = {}
        for key, item, pointer in items:
            try:  # free in Python 3.11 unless it raises
                value = item(context)
            except Exception as exc:
                raise _render_error(pointer, exc) from None
            if type(value) in _DEFINED or (
                value is not None and value is not MISSING and not isinstance(value, Undefined)
            ):
                out[key] = value
        # A mapping whose every key was omitted is omitted too (documented in the reference).
        return out if out or not items else None

    return render


def _omit_nulls_list(items: tuple[tuple[Render, str], ...]) -> Render:
    def render(context: Mapping[str, Any]) -> Any:
        out = []
        for item, pointer in items:
            try:
                value = item(context)
            except Exception as exc:
                raise _render_error(pointer, exc) from None
            if type(value) in _DEFINED or (
                value is not None and value is not MISSING and not isinstance(value, Undefined)
            ):
                out.append(value)
        return out

    return render


def _located(render: Render, pointer: str) -> Render:
    def guarded(context: Mapping[str, Any]) -> Any:
        try:
            return render(context)
        except Exception as exc:
            raise _render_error(pointer, exc) from None

    return guarded


class ExtractionSyntaxError(ValueError):
    """A JMESPath expression that does not parse."""


@functools.lru_cache(maxsize=4096)
def compile_jmespath(source: str) -> Callable[[Any], Any]:
    """A JMESPath expression → a search function: compiled to Python closures with the bounded
    interpreter's semantics and budget (engine._jmes_compile), or, for the node kinds that
    compiler leaves alone, the bounded interpreter itself (engine._extraction)."""
    import jmespath  # imported on first use (a bundled spec compiles its flows lazily)
    from jmespath.exceptions import JMESPathError
    from jmespath.parser import ParsedResult

    from ._jmes_compile import compile_search, folded_search, root_fields
    from ._spec_cache import parsed_jmespath

    # A bundled spec's expressions come parsed, by this jmespath version, with the spec.
    ahead = parsed_jmespath(source, jmespath.__version__)
    try:
        expression = ParsedResult(source, ahead) if ahead else jmespath.compile(source)
    except JMESPathError as exc:
        raise ExtractionSyntaxError(str(exc)) from None
    compiled = compile_search(expression.parsed)
    if compiled is None:
        from ._extraction import bounded_search

        compiled = bounded_search(expression)
    if expression.parsed.get("type") in ("field", "subexpression") and not _reads_more(
        expression.parsed
    ):
        return compiled  # a plain path stops at its first absent member anyway
    names = root_fields(expression.parsed)
    return compiled if names is None else folded_search(compiled, names)


def _reads_more(node: Mapping[str, Any]) -> bool:
    """Whether a path has more than field steps (`a.b` has not; `a.b[0] || c` has)."""
    if node.get("type") == "field":
        return False
    if node.get("type") != "subexpression":
        return True
    return any(_reads_more(child) for child in node["children"])


def _skipped_when_absent(render: Render, path: tuple[str | int, ...]) -> Render:
    """`render`, or null without evaluating it when `path` is absent or null in the context."""
    root, *segments = path
    name = str(root)

    def guarded(context: Mapping[str, Any]) -> Any:
        value = context.get(name)
        for segment in segments:
            if type(value) is dict or isinstance(value, Mapping):
                value = value.get(segment)
            elif isinstance(value, list) and isinstance(segment, int):
                value = value[segment] if -len(value) <= segment < len(value) else None
            else:
                return None
        return None if value is None else render(context)

    return guarded


def _constant(value: Any) -> Render:
    return lambda context: value


#: The request's ids an answer must agree with, by default, wherever the request names them.
ECHOED_BY_DEFAULT = ("connector_transaction_id", "connector_refund_id")


def settings_read(*sources: object) -> tuple[str, ...]:
    """The `credentials.<name>` settings the template `sources` read, in name order (a source
    that is no template, or does not compile, reads none: its problem is reported elsewhere)."""
    names: set[str] = set()
    for source in sources:
        if not is_template(source):
            continue
        try:
            compiled = compile_template(str(source))
        except TemplateCompileError:
            continue
        names |= {
            str(path.segments[0])
            for path in compiled.paths
            if path.root == "credentials" and path.segments
        }
    return tuple(sorted(names))


#: The request field whose placement makes a request safe to send again (the processor then
#: answers the first request's outcome instead of acting twice).
IDEMPOTENCY_KEY = ("idempotency_key",)


def key_placements(sections: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Where, in a request's sections as written ({"path", "query", "headers", "body"}, the
    defaults merged in), a template reads `request.idempotency_key`: (section, keys inside it).
    Neither a template reading the whole `request` nor one inside a list (whose nulls are
    omitted, so positions shift) is a placement: what either sent cannot be pinned down."""
    found: list[tuple[str, tuple[str, ...]]] = []

    def visit(section: str, value: Any, at: tuple[str, ...]) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                visit(section, item, (*at, str(key)))
        elif is_template(value):
            environment = PATH_ENVIRONMENT if section == "path" else ENVIRONMENT
            try:
                paths = compile_template(value, environment).paths
            except TemplateCompileError:  # reported where the template itself is compiled
                return
            if any(p.root == "request" and p.segments[:1] == IDEMPOTENCY_KEY for p in paths):
                found.append((section, at))

    for section, value in sections.items():
        visit(section, value, ())
    return tuple(found)
