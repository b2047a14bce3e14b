"""The wheel carries the bundled specs and schemas, and an installed copy loads them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_bundles_specs_and_schemas_and_loads_them(tmp_path: Path) -> None:
    wheel = Path(
        next(iter(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])))
    )
    names = set(zipfile.ZipFile(wheel).namelist())
    specs = {p.name for p in (ROOT / "specs" / "connectors").glob("*.yaml")}
    for name in specs:
        assert f"engine/_bundled/specs/connectors/{name}" in names
    assert "engine/_bundled/schemas/connector-spec.schema.json" in names
    assert "engine/_bundled/schemas/unified/authorize.request.json" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import engine, engine._resources as r, pathlib, sys;"
        "print(r.specs_dir().is_relative_to(pathlib.Path(sys.argv[1]) / 'engine' / '_bundled'));"
        "print(sorted(c.id for c in engine.bundled_connectors()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(site)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site)},  # ahead of the editable checkout on sys.path
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    flag, ids = out.stdout.splitlines()
    assert flag == "True"
    assert eval(ids) == sorted(p.removesuffix(".yaml") for p in specs)  # noqa: S307
