"""`connector new`: in a copy of the project, the scaffold and the README's "Writing a connector"
steps, run as written, leave a tree whose checks pass with the new connector present (the fault
matrix, the webhook coverage, the docs and README checks, lint, the connector's scenarios)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine._scaffold import SCENARIOS
from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
#: Not copied: the VCS, environments and caches (the copy is the project as a checkout has it).
SKIPPED = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def readme_steps() -> list[str]:
    """The commands of the README's "Writing a connector" block, comments dropped."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Writing a connector", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README's Writing a connector section has no bash block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_steps_name_the_snapshot_update_and_the_docs() -> None:
    steps = readme_steps()
    assert steps[0] == "connector new acme"
    assert any("--snapshot-update" in step for step in steps)
    assert "connector docs" in steps
    assert steps[-1] == "bash tools/test.sh"
    assert "docs/authoring.md" in (ROOT / "README.md").read_text()


def _command(step: str) -> list[str]:
    """A README step as this interpreter runs it (`connector` is `python -m engine`)."""
    words = shlex.split(step)
    if words[0] == "connector":
        return [sys.executable, "-m", "engine", *words[1:]]
    if words[0] == "pytest":
        return [sys.executable, "-m", "pytest", *words[1:], "-q", "-p", "no:cacheprovider"]
    raise AssertionError(f"a README step this test does not know how to run: {step}")


def _run(command: list[str], cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{shlex.join(command[1:])}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_a_new_connector_passes_the_checks_after_the_readme_steps(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=lambda _, names: [n for n in names if n in SKIPPED])
    steps = readme_steps()
    for step in steps[:-1]:  # the last, tools/test.sh, is run below as the modules it covers
        _run(_command(step), project)

    spec = project / "specs" / "connectors" / "acme.yaml"
    declared = set(yaml.safe_load(spec.read_text())["flows"])
    scenarios = project / "tests" / "connectors" / "acme" / "scenarios"
    exercised = {yaml.safe_load(p.read_text())["flow"] for p in scenarios.glob("*.yaml")}
    assert exercised == declared  # a scenario for every flow the spec declares
    snapshots = project / "tests" / "connectors" / "__snapshots__" / "test_scenarios"
    assert len(list(snapshots.glob("test_scenario[[]acme-*.json"))) == len(SCENARIOS)

    # What tools/test.sh runs, on what the new connector touches: lint and the generated docs
    # of every spec, and the test modules that range over every bundled processor.
    python = [sys.executable, "-m"]
    _run([*python, "engine", "lint"], project)
    _run([*python, "engine", "docs", "--check"], project)
    quiet = ["-q", "-p", "no:cacheprovider"]
    _run(
        [
            *python,
            "pytest",
            "tests/faults",
            "tests/property",
            "tests/security",
            "tests/connectors",
            "-k",
            "acme",
            *quiet,
        ],
        project,
    )
    _run(
        [
            *python,
            "pytest",
            "tests/unit/test_readme.py",
            "tests/unit/test_docs.py",
            "tests/unit/test_manifest.py",
            "tests/security/test_webhook_rejections.py::test_every_spec_with_webhooks_is_covered",
            *quiet,
        ],
        project,
    )


def test_new_refuses_to_run_outside_a_project_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match="is not the project root"):
        main(["new", "acme_pay", "--root", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


def test_new_writes_a_scenario_per_flow_and_the_readme_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "specs" / "connectors").mkdir(parents=True)
    (tmp_path / "tests" / "connectors").mkdir(parents=True)
    readme = tmp_path / "README.md"
    readme.write_text("| id | processor |\n|---|---|\n| `stripe` | Stripe | forms |\n\nAfter.\n")
    assert main(["new", "acme_pay", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"updated {readme}" in out and "README.md, 'Writing a connector'" in out
    assert readme.read_text() == (
        "| id | processor |\n|---|---|\n| `stripe` | Stripe | forms |\n"
        "| `acme_pay` | Acme Pay | TODO: what it exercises |\n\nAfter.\n"
    )
    flows = {
        yaml.safe_load(path.read_text())["flow"]
        for path in (tmp_path / "tests" / "connectors" / "acme_pay" / "scenarios").glob("*.yaml")
    }
    spec = yaml.safe_load((tmp_path / "specs" / "connectors" / "acme_pay.yaml").read_text())
    assert flows == set(spec["flows"]) == {"authorize", "capture", "void", "refund", "get"}


def test_the_authoring_guide_is_ten_steps_with_the_scaffolds_own_examples() -> None:
    from engine._authoring import render_authoring
    from engine._scaffold import planned_files

    guide = (ROOT / "docs" / "authoring.md").read_text()
    assert guide == render_authoring()  # generated: `connector docs` keeps it current
    steps = re.findall(r"^## (\d+)\. ", guide, re.M)
    assert steps == [str(n) for n in range(1, 11)]
    files = {str(path): text for path, text in planned_files("acme").items()}
    assert files["specs/connectors/acme.yaml"].rstrip() in guide
    assert files["tests/connectors/acme/scenarios/authorize_approved.yaml"].rstrip() in guide
    for path in files:
        assert f"created {path}\n" in guide
    # What render and parse print for that scenario, as the engine gives it.
    assert "POST https://api.sandbox.example.com/v1/payments\nIdempotency-Key: idem-auth-1\n" in (
        guide
    )
    assert "\nstatus: captured\nconnector_status: succeeded\n" in guide
    assert "request has no field 'curency'" in guide
    assert "--snapshot-update" in guide and "connector docs" in guide
    assert "(docs/authoring.md)" in (ROOT / "README.md").read_text()
