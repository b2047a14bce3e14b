"""The bundled specs as loaded, written ahead of time: specs/loaded/<id>.py.

Parsing a spec's YAML (libyaml, then the engine's own construction with positions, aliases and
merge keys checked) is over half of loading it. For a bundled spec that lint passed, the result
is always the same: `connector docs` writes it as Python literals (repr: data, never spec text
as code) in a module of functions that build a fresh copy of the data and its source map on each
call, with the spec's fingerprint (engine._manifest: the spec schema and the spec's bytes). A
spec loads from it only when its bytes are exactly those (it is then in specs/linted.json too);
any other spec, or one edited since, is parsed as before. CI checks the modules are current
(`connector docs --check`, tests/unit/test_spec_cache.py).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from ._generated import load_generated, write_generated
from ._load import LoadedSpec, SourceMap, load_spec_text, read_spec_file
from ._manifest import fingerprint
from ._resources import specs_dir


def folder() -> Path:
    """Where the modules are: beside the specs (the bench points it at a synthetic bundle's)."""
    return specs_dir().parent / "loaded"


def loaded_module(path: Path) -> ModuleType | None:
    """The module written for the spec at `path`, or None when there is none."""
    return load_generated(folder() / f"{path.stem}.py", f"connector_specs_loaded.{path.stem}")


def cached_spec(path: Path, raw: bytes, text: str) -> LoadedSpec | None:
    """The loaded spec from its module, or None when there is none for exactly these bytes."""
    module = loaded_module(path)
    if module is None or getattr(module, "FINGERPRINT", None) != fingerprint(raw):
        return None
    source = SourceMap(str(path), tuple(text.splitlines()), module.values(), module.keys())
    for kind, constant in _PARSERS.items():
        version, table = getattr(module, constant, None), getattr(module, kind, None)
        if isinstance(version, str) and callable(table):
            _PENDING.append((kind, version, table))
    return LoadedSpec(module.data(), source)


#: What a loaded spec's module holds parsed ahead: the function giving {text: parsed} → the
#: constant naming the version of the library that parsed it. jmespath's parser and Jinja's are
#: pure Python, the slow part of compiling a flow; their results are used only under that same
#: version.
_PARSERS = {"jmespath": "JMESPATH", "jinja": "JINJA"}
#: (parser, version, table function) of each module loaded, merged into _TABLES on first use.
_PENDING: list[tuple[str, str, Callable[[], dict[str, Any]]]] = []
_TABLES: dict[tuple[str, str], dict[str, Any]] = {}


def _parsed_ahead(parser: str, version: str, source: str) -> Any:
    while _PENDING:
        kind, made_by, table = _PENDING.pop()
        _TABLES.setdefault((kind, made_by), {}).update(table())
    return _TABLES.get((parser, version), {}).get(source)


def parsed_jmespath(source: str, version: str) -> Any:
    """The AST jmespath `version` parses `source` to, when a loaded spec's module has it."""
    return _parsed_ahead("jmespath", version, source)


def parsed_template(source: str, environment: Any) -> Any:
    """The Template AST the installed Jinja parses `source` to, bound to `environment`, when
    a loaded spec's module has it (engine._jinja_ast); None otherwise."""
    if not _PENDING and not _TABLES:
        return None
    import jinja2

    from ._jinja_ast import NotPlain, build

    data = _parsed_ahead("jinja", jinja2.__version__, source)
    if data is None:
        return None
    try:
        return build(data, environment)
    except NotPlain:  # not what this module writes: parsed instead
        return None


def _templates(loaded: LoadedSpec) -> dict[str, Any]:
    """Every template text compiling the whole spec compiles, as its AST's data (`loaded` is
    compiled, and so changed)."""
    from jinja2 import TemplateError

    from ._jinja_ast import NotPlain, dump
    from ._spec import check_loaded
    from ._templates import ENVIRONMENT, recording

    with recording() as sources:
        check_loaded(loaded)
    table = {}
    for source in sorted(sources):
        try:
            table[source] = dump(ENVIRONMENT.parse(source))
        except (NotPlain, RecursionError, TemplateError):
            continue
    return table


def _expressions(value: Any, found: set[str]) -> set[str]:
    """Every text of a spec that may be a JMESPath expression (a superset: each one jmespath
    parses is kept, whether or not the spec extracts with it)."""
    if isinstance(value, dict):
        for item in value.values():
            _expressions(item, found)
    elif isinstance(value, list):
        for item in value:
            _expressions(item, found)
    elif isinstance(value, str) and len(value) <= 2000 and "{{" not in value and "{%" not in value:
        found.add(value)
    return found


def _parsed(data: Any) -> dict[str, Any]:
    import jmespath
    from jmespath.exceptions import JMESPathError

    table = {}
    for text in sorted(_expressions(data, set())):
        # A text that only looks like an expression (prose with backticks) may make jmespath
        # warn of its deprecated literal form: such a text is left for compile time.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                table[text] = jmespath.compile(text).parsed
            except (JMESPathError, RecursionError, ValueError, Warning):
                continue
    return table


def _plain(value: Any) -> bool:
    """Whether repr writes `value` back exactly: plain data, finite floats."""
    kind = type(value)
    if kind is dict:
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    if kind is float:
        return math.isfinite(value)
    return value is None or kind in (str, int, bool)


def render(path: Path) -> str | None:
    """The module of bundled spec `path`, or None when its data is not plain enough for repr."""
    raw, text = read_spec_file(path)
    loaded = load_spec_text(text, str(path))
    parts = (loaded.data, loaded.source.values, loaded.source.keys)
    if not all(_plain(part) for part in parts):
        return None
    import jinja2
    import jmespath

    parsed = _parsed(loaded.data)
    if not _plain(parsed):
        return None
    # From a load of its own: compiling a spec expands its tables in place.
    templates = _templates(load_spec_text(text, str(path)))
    return (
        f'"""specs/connectors/{path.name} as loaded: generated by `connector docs` '
        '(engine/_spec_cache.py); do not edit."""\n'
        "# ruff: noqa\n# mypy: ignore-errors\n"
        f"FINGERPRINT = {fingerprint(raw)!r}\n"
        f"JMESPATH = {jmespath.__version__!r}\n"
        f"JINJA = {jinja2.__version__!r}\n\n\n"
        + "\n\n\n".join(
            f"def {name}():\n    return {part!r}\n"
            for name, part in zip(
                ("data", "values", "keys", "jmespath", "jinja"),
                (*parts, parsed, templates),
                strict=True,
            )
        )
    )


def write_spec_data(*, check: bool = False) -> list[Path]:
    """Write the module of every bundled spec lint passed (with `check`, only compare); returns
    the paths that were stale."""
    from ._manifest import is_linted
    from ._spec import bundled_spec_paths

    wanted: dict[str, str] = {}
    for path in bundled_spec_paths():
        if is_linted(path, path.read_bytes()):
            text = render(path)
            if text is not None:
                wanted[f"{path.stem}.py"] = text
    # A module whose spec is gone, or no longer linted, is removed.
    return write_generated(folder(), wanted, check=check)
