"""Where the bundled specs and schemas live: inside the wheel, or in the source checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"none of {', '.join(map(str, candidates))} exists")


@cache
def specs_dir() -> Path:
    """The bundled connector specs: engine/_bundled/specs in a wheel, specs/connectors here."""
    return _first_existing(
        _PACKAGE_DIR / "_bundled" / "specs" / "connectors",
        _PACKAGE_DIR.parent / "specs" / "connectors",
    )


@cache
def schemas_dir() -> Path:
    return _first_existing(_PACKAGE_DIR / "_bundled" / "schemas", _PACKAGE_DIR.parent / "schemas")


@cache
def load_schema(relative: str) -> Any:
    with (schemas_dir() / relative).open(encoding="utf-8") as handle:
        return json.load(handle)
