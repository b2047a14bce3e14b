"""Named tables (spec v2): a code table is written once, under the spec's `tables:` or shipped
with the engine (schemas/tables/*.yaml), and every `map` names the tables it uses.

A `map` (of an error, a status or the webhook events) is then a table name, or a list of table
names and inline mappings merged in order (a later entry wins), or a mapping as in v1. A table
is written either way round:

- by processor code: `"2001": insufficient_funds` (the target may be a status rule), or
- grouped by target: `insufficient_funds: ["2001", "51"]` — a list value groups the codes.

Expansion happens once, after schema validation and before compile and lint, so every later
stage sees plain inline maps; each expanded entry keeps the position of the line that wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ._errors import Problem
from ._load import LoadedSpec, SourceMap, escape_pointer_token, load_spec_file
from ._resources import schemas_dir
from ._unified import ErrorCode

#: The built-in table that maps every unified error code to itself: for processors whose own
#: codes already are unified ones (`map: [passthrough, …]`).
PASSTHROUGH = "passthrough"

#: Where a `map` may name tables: the pointer's parent keys (error maps, status maps and rules,
#: the webhook event map). A `map` inside a request body is a processor field, never a table.
_MAP_PARENTS = ("error", "status", "event")


def shared_tables_dir() -> Path:
    return schemas_dir() / "tables"


@cache
def shared_tables() -> dict[str, tuple[dict[str, Any], str]]:
    """The engine's own tables: name → (entries by processor code, description)."""
    tables: dict[str, tuple[dict[str, Any], str]] = {
        PASSTHROUGH: (
            {str(code): str(code) for code in ErrorCode},
            "Every unified error code, mapped to itself: for processor codes that already are "
            "unified codes.",
        )
    }
    for path in sorted(shared_tables_dir().glob("*.yaml")):
        loaded = load_spec_file(path)
        entries = _by_code(loaded.data["entries"], "/entries", loaded.source, None)
        tables[path.stem] = (entries, str(loaded.data["description"]))
    return tables


def _by_code(
    table: Mapping[str, Any],
    pointer: str,
    source: SourceMap,
    placed: dict[str, tuple[int, int]] | None,
) -> dict[str, Any]:
    """A table in either form → processor code → target; `placed` collects each entry's
    position (file line, column) when given."""
    entries: dict[str, Any] = {}
    for key, value in table.items():
        at = f"{pointer}/{escape_pointer_token(key)}"
        if isinstance(value, list):
            for index, code in enumerate(value):
                entries[str(code)] = key
                if placed is not None:
                    placed[str(code)] = source.locate(f"{at}/{index}")
        else:
            entries[str(key)] = value
            if placed is not None:
                placed[str(key)] = source.locate(at)
    return entries


def _map_sites(data: Any, pointer: str = "") -> Iterator[tuple[dict[str, Any], str]]:
    """Every (parent mapping, pointer of its `map`) where a `map` may name tables."""
    if isinstance(data, dict):
        parent = pointer.rsplit("/", 1)[-1]
        grandparent = pointer.rsplit("/", 2)[-2] if pointer.count("/") >= 2 else ""
        if "map" in data and (parent in _MAP_PARENTS or grandparent == "status"):
            yield data, f"{pointer}/map"
        for key, value in data.items():
            if key != "request":
                yield from _map_sites(value, f"{pointer}/{escape_pointer_token(key)}")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _map_sites(item, f"{pointer}/{index}")


def expand_tables(spec: LoadedSpec) -> tuple[LoadedSpec, list[Problem]]:
    """The spec with every table reference replaced by the entries it names."""
    data = spec.data
    if not isinstance(data, dict):
        return spec, []
    own = data.get("tables") or {}
    problems: list[Problem] = []
    source = spec.source
    sites = list(_map_sites(data.get("defaults"), "/defaults"))
    sites += _map_sites(data.get("flows"), "/flows")
    sites += _map_sites(data.get("webhooks"), "/webhooks")
    if not own and not any(not isinstance(parent["map"], dict) for parent, _ in sites):
        return spec, []
    used: set[str] = set()
    for parent, pointer in sites:
        raw = parent["map"]
        if isinstance(raw, dict) and not any(isinstance(v, list) for v in raw.values()):
            continue
        parts = raw if isinstance(raw, list) else [raw]
        merged: dict[str, Any] = {}
        for index, part in enumerate(parts):
            at = f"{pointer}/{index}" if isinstance(raw, list) else pointer
            placed: dict[str, tuple[int, int]] = {}
            if isinstance(part, dict):
                entries = _by_code(part, at, source, placed)
            elif isinstance(part, str) and part in own:
                used.add(part)
                where = f"/tables/{escape_pointer_token(part)}"
                entries = _by_code(own[part], where, source, placed)
            elif isinstance(part, str) and part in shared_tables():
                entries = dict(shared_tables()[part][0])
                placed = dict.fromkeys(entries, source.locate(at))
            else:
                known = sorted({*own, *shared_tables()})
                problems.append(
                    source.problem(
                        at, f"no table {part!r} (tables: {', '.join(known) or 'none declared'})"
                    )
                )
                continue
            merged.update(entries)
            for code, position in placed.items():
                source.values[f"{pointer}/{escape_pointer_token(code)}"] = position
        parent["map"] = merged
    for name in own if not spec.cut else ():  # a use in a part cut away is unknown
        if name not in used:
            problems.append(
                source.problem(
                    f"/tables/{escape_pointer_token(name)}",
                    f"table {name!r} is never used",
                    key=True,
                )
            )
    return spec, problems


def table_rows() -> list[tuple[str, int, str]]:
    """(name, entries, description) of each shared table, for the generated docs."""
    return [(name, len(entries), about) for name, (entries, about) in shared_tables().items()]
