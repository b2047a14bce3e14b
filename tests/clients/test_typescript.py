"""The TypeScript client (clients/typescript): its generated types are current, it builds with
tsc, its compile-time type checks hold, and its node tests pass against the real service in
front of localstripe (tools/service_harness.py). Needs node >= 18 and npm: fails without them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from engine.service import PROBLEM_TYPES, openapi_document

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import gen_typescript
import service_harness

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: the TypeScript client's tests need node and npm")
    return found


def _run(command: Sequence[str], env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        command,
        cwd=CLIENT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def built() -> Path:
    """npm ci (when node_modules is absent), then tsc: dist/ holds the ESM build."""
    npm = _tool("npm")
    _tool("node")
    if not (CLIENT / "node_modules" / "typescript").is_dir():
        _run([npm, "ci", "--no-audit", "--no-fund"])
    _run([npm, "run", "build"])
    return CLIENT / "dist"


def test_generated_files_match_the_openapi_document() -> None:
    assert gen_typescript.main(["--check"]) == 0, "run python tools/gen_typescript.py"


def test_generation_is_deterministic_and_names_every_component() -> None:
    document = openapi_document()
    types = gen_typescript.types_ts(document)
    assert types == gen_typescript.types_ts(openapi_document())
    for name in document["components"]["schemas"]:
        assert f"export interface {name} {{" in types or f"export type {name} =" in types, name
    problems = gen_typescript.problems_ts(document)
    for problem in PROBLEM_TYPES:
        assert f"export class {gen_typescript.error_class(problem.slug)} " in problems
        assert f'slug: "{problem.slug}",' in types


def test_a_keyword_the_generator_cannot_express_stops_it() -> None:
    with pytest.raises(gen_typescript.Unsupported, match="patternProperties"):
        gen_typescript.ts_type({"type": "object", "patternProperties": {"^x": {}}})
    with pytest.raises(gen_typescript.Unsupported, match="allOf"):
        gen_typescript.ts_type({"type": "object", "properties": {"a": {}}, "allOf": [{}]})


def test_error_class_names() -> None:
    assert gen_typescript.error_class("invalid-input") == "InvalidInputError"
    assert gen_typescript.error_class("spec-error") == "SpecError"
    assert gen_typescript.error_class("webhook-rejected") == "WebhookRejectedError"


def test_compile_time_type_checks(built: Path) -> None:
    _run([_tool("npm"), "run", "typecheck"])


def test_the_readme_examples_compile(built: Path, tmp_path: Path) -> None:
    """The README's ts blocks, in order, as one module type-checked against dist/."""
    readme = (CLIENT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```ts\n(.*?)^```", readme, flags=re.M | re.S)
    assert blocks, "the README has TypeScript examples"
    example = tmp_path / "readme.mts"
    example.write_text(
        "declare const process: { env: Record<string, string | undefined> };\n" + "\n".join(blocks),
        encoding="utf-8",
    )
    config = {
        "extends": str(CLIENT / "tsconfig.json"),
        "compilerOptions": {
            "noEmit": True,
            "rootDir": str(tmp_path),
            "noUnusedLocals": False,
            "paths": {"@connector-service/client": [str(built / "index.d.ts")]},
        },
        "files": [str(example)],
        "include": [],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    _run([str(CLIENT / "node_modules" / ".bin" / "tsc"), "-p", str(tmp_path / "tsconfig.json")])


@pytest.mark.e2e
def test_node_tests_against_the_real_service(built: Path) -> None:
    node = _tool("node")
    tests = sorted(str(p.relative_to(CLIENT)) for p in (CLIENT / "test").glob("*.test.mjs"))
    assert len(tests) >= 3, tests
    with service_harness.running() as env:
        done = subprocess.run(
            [node, "--test", "--test-reporter=tap", *tests],
            cwd=CLIENT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        log = Path(env["CONNECTOR_SERVICE_LOG"])
        service_log = log.read_text(encoding="utf-8")[-4000:] if log.exists() else ""
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"node --test exited {done.returncode}:\n{output}\n{service_log}"
    assert "# fail 0" in output and "# pass 0" not in output, output
