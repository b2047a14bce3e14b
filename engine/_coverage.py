"""Which flows of a spec its scenario fixtures exercise. A spec at
`<root>/specs/connectors/<id>.yaml` (the layout `connector new` makes) has its fixtures in
`<root>/tests/connectors/<id>/`:

- `scenarios/*.yaml`: one flow exchange each; it exercises its `flow` unless it expects the call
  to be refused before anything is sent (`expect: {raises: ...}`);
- any other folder's `*.yaml` (webhooks/, deliveries/...): a webhook delivery; it exercises
  `parse_event` when it expects events (`expect: {events: [...]}`).

The `flows_have_scenarios` lint warning and the feature matrix (no ✓ for a flow no scenario
exercises) read this."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: The folder of flow scenarios inside a connector's test folder.
SCENARIOS = "scenarios"
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fixtures_dir(spec_file: str | Path, connector_id: str) -> Path | None:
    """`<root>/tests/connectors/<id>/` for a spec in `<root>/specs/connectors/`; None for a spec
    outside that layout, or when `<root>/tests/connectors/` does not exist (an installed wheel):
    its coverage is then not known."""
    path = Path(spec_file).resolve()
    if (path.parent.name, path.parent.parent.name) != ("connectors", "specs"):
        return None
    tests = path.parent.parent.parent / "tests" / "connectors"
    return tests / connector_id if tests.is_dir() else None


def exercised(folder: Path) -> frozenset[str]:
    """The flows (and `parse_event`) the fixtures in `folder` exercise."""
    found: set[str] = set()
    for path in sorted(folder.glob("*/*.yaml")):
        fixture = _read(path)
        expect = fixture.get("expect")
        expect = expect if isinstance(expect, dict) else {}
        if path.parent.name == SCENARIOS:
            if isinstance(fixture.get("flow"), str) and "raises" not in expect:
                found.add(fixture["flow"])
        elif isinstance(expect.get("events"), list) and expect["events"]:
            found.add("parse_event")
    return frozenset(found)


def unexercised(spec_file: str | Path, data: Any) -> list[str] | None:
    """The declared flows (and `parse_event`, for a spec with webhooks) that no fixture
    exercises, in the spec's order; None when the spec's fixtures are not known."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    folder = fixtures_dir(spec_file, data["id"])
    if folder is None:
        return None
    flows = data.get("flows")
    declared = list(flows) if isinstance(flows, dict) else []
    if "webhooks" in data:
        declared.append("parse_event")
    done = exercised(folder) if folder.is_dir() else frozenset()
    return [flow for flow in declared if flow not in done]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # the scenario tests report it
    return data if isinstance(data, dict) else {}
