"""Scenario fixtures: tests/connectors/<id>/scenarios/*.yaml and webhooks/*.yaml, loaded for the
generic scenario tests. The format is documented in tests/connectors/README.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent


@dataclass(frozen=True)
class Scenario:
    connector: str
    name: str
    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.connector}-{self.name}"  # no "/": it names the snapshot file


def _scenarios(folder: str) -> list[Scenario]:
    found = []
    for path in sorted(ROOT.glob(f"*/{folder}/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.append(Scenario(path.parent.parent.name, path.stem, path, data))
    return found


def flow_scenarios() -> list[Scenario]:
    return _scenarios("scenarios")


def webhook_scenarios() -> list[Scenario]:
    return _scenarios("webhooks")


def fixtures_of(connector: str, folder: str) -> dict[str, dict[str, Any]]:
    """name → data of every tests/connectors/<connector>/<folder>/*.yaml, in name order."""
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / connector / folder).glob("*.yaml"))
    }


def processor_schema(connector: str) -> dict[str, Any]:
    """tests/connectors/<connector>/processor_schema.json: the processor's own request schemas."""
    schema: dict[str, Any] = json.loads(
        (ROOT / connector / "processor_schema.json").read_text(encoding="utf-8")
    )
    return schema


def credentials_for(connector: str) -> dict[str, str]:
    path = ROOT / connector / "credentials.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def response_body(response: dict[str, Any]) -> bytes:
    if "body_text" in response:
        return str(response["body_text"]).encode("utf-8")
    if "body" in response:
        return json.dumps(response["body"]).encode("utf-8")
    return b""


def dotted(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        else:
            return None
    return value
