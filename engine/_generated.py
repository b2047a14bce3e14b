"""Modules `connector docs` writes ahead of time beside what they are made from: each bundled
spec as loaded (specs/loaded/<id>.py, engine._spec_cache) and the request validators
(schemas/validators/<flow>.py, engine._validator_cache). They are data of the specs and the
schemas, not of the engine (which never names a processor): imported from their files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_generated(path: Path, name: str) -> ModuleType | None:
    """The module at `path` (from its bytecode cache after the first time), under `name`; None
    when there is no such file."""
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_generated(target: Path, wanted: dict[str, str], *, check: bool) -> list[Path]:
    """Make `target` hold exactly the modules `wanted` (file name → text): write the stale ones
    and remove the others (with `check`, only compare); returns the paths that were stale."""
    stale = []
    for name, text in wanted.items():
        path = target / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not check:
                target.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in sorted(target.glob("*.py")) if target.exists() else []:
        if path.name not in wanted:  # what it was made from is gone
            stale.append(path)
            if not check:
                path.unlink()
    return stale
