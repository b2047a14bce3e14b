"""Spec files → lint problems or a compiled ConnectorPlan: load, validate, compile, lint."""

from __future__ import annotations

import os
from pathlib import Path

from ._boundary import public
from ._compile import compile_spec
from ._errors import Problem, SpecError, UnsupportedError
from ._load import LoadedSpec, load_spec_file, load_spec_text, read_spec_file
from ._manifest import is_linted
from ._plan import ConnectorPlan
from ._resources import specs_dir
from ._spec_cache import cached_spec
from ._tables import expand_tables


def check_loaded(
    spec: LoadedSpec, *, lazy_flows: bool = False, linted: bool = False
) -> tuple[ConnectorPlan | None, list[Problem]]:
    """Validate, compile and lint. `linted`: these exact bytes passed lint before (see
    _manifest), so schema validation and the lint rules are not run again."""
    problems: list[Problem] = []
    if not linted:
        from ._validate import checkable_part  # jsonschema: imported only when validating

        problems, checkable = checkable_part(spec)
        if checkable is None:
            return None, sorted(problems, key=lambda p: (p.line, p.col))
        # A schema problem does not hide the others: the well-formed rest is compiled and linted.
        spec = checkable
    spec, expanded = expand_tables(spec)
    plan, compiled = compile_spec(spec, lazy_flows=lazy_flows)
    problems += expanded + compiled
    if not linted:
        from ._lint import lint_rules  # the rules, only where they run

        problems += lint_rules(spec)
    return (plan if not problems else None), sorted(problems, key=lambda p: (p.line, p.col))


@public("lint_file")
def lint_file(path: str | Path, *, warnings: bool = False) -> list[Problem]:
    """Every problem of one spec file (empty when clean); with `warnings`, the lint warnings too
    (e.g. a flow no scenario exercises), which never make a spec invalid."""
    try:
        spec = load_spec_file(path)
    except SpecError as exc:
        return exc.problems
    problems = check_loaded(spec)[1]
    if warnings:
        from ._lint import lint_warnings

        problems = sorted([*problems, *lint_warnings(spec)], key=lambda p: (p.line, p.col))
    return problems


def compile_file(path: str | Path, *, lazy_flows: bool = False) -> ConnectorPlan:
    """The compiled plan; raises SpecError with every problem. With `lazy_flows`, flows are
    compiled on first use (for specs already linted whole, such as the bundled ones), and a
    bundled spec recorded in the lint manifest is not validated again."""
    path = Path(path)
    raw, text = read_spec_file(path)
    linted = lazy_flows and is_linted(path, raw)
    # A bundled spec lint passed loads from its module written by `connector docs`, if current.
    loaded = cached_spec(path, raw, text) if linted else None
    if loaded is None:
        loaded = load_spec_text(text, str(path))
    plan, problems = check_loaded(loaded, lazy_flows=lazy_flows, linted=linted)
    if plan is None:
        raise SpecError(problems)
    return plan


def compile_text(text: str, file: str = "<string>") -> ConnectorPlan:
    plan, problems = check_loaded(load_spec_text(text, file))
    if plan is None:
        raise SpecError(problems)
    return plan


def bundled_spec_paths() -> list[Path]:
    return sorted(specs_dir().glob("*.yaml"))


def is_spec_path(name_or_path: str | Path) -> bool:
    """Whether the argument names a spec file rather than a bundled connector id: a path object
    (os.PathLike), or a string with a path separator or a .yaml/.yml ending. Anything else is an
    id, and an id only ever names a bundled spec (a file named like a bundled id in the working
    directory is not that spec)."""
    if isinstance(name_or_path, os.PathLike):
        return True
    if not isinstance(name_or_path, str):
        return False
    separators = {"/", "\\", os.sep, os.altsep or "/"}
    return any(s in name_or_path for s in separators) or name_or_path.endswith((".yaml", ".yml"))


def find_spec(name_or_path: str | Path) -> Path:
    """The spec file a connector argument names: a bundled connector id (as `connector list`
    shows), or a path (see `is_spec_path`), the caller's explicit choice. An unknown id raises
    UnsupportedError listing the bundled ids; the id is never joined onto a directory."""
    if is_spec_path(name_or_path):
        return Path(os.fspath(name_or_path))
    bundled = {path.stem: path for path in bundled_spec_paths()}
    if not isinstance(name_or_path, str) or name_or_path not in bundled:
        shown = repr(name_or_path)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise UnsupportedError(
            f"no bundled connector {shown}; bundled connectors: {', '.join(bundled)} "
            "(a spec file is named by a path: ./acme.yaml, specs/acme.yaml)"
        )
    return bundled[name_or_path]
