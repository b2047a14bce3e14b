"""The Go client (clients/go): its generated files match the current OpenAPI document and are
gofmt-clean, `go vet` passes, and `go test` passes against the real service in front of
localstripe (tools/service_harness.py). Fails, never skips, when Go is missing."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.service import openapi_document

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import gen_go

ROOT = gen_go.ROOT
CLIENT = gen_go.OUT


def go_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (Debian: apt-get install golang-go)")
    return found


def go_env() -> dict[str, str]:
    """Hermetic: the build cache and GOPATH in the repo's .gocache/ (ignored by git), no
    network, no toolchain download, no cgo (no C compiler needed), no user go.env."""
    cache = ROOT / ".gocache"
    return {
        **os.environ,
        "GOCACHE": str(cache / "build"),
        "GOPATH": str(cache / "path"),
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOENV": "off",
        "GOWORK": "off",
        "CGO_ENABLED": "0",
    }


def run(command: list[str], timeout: float = 600) -> None:
    done = subprocess.run(
        command,
        cwd=CLIENT,
        env=go_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (
        f"{' '.join(command)} exited {done.returncode}\n"
        f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )


def test_generated_files_match_the_openapi_document() -> None:
    for path, text in gen_go.generate(openapi_document()).items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} is stale: run python tools/gen_go.py"
        )
    assert gen_go.main(["--check"]) == 0


def test_a_changed_document_makes_the_check_fail() -> None:
    document: dict[str, Any] = copy.deepcopy(openapi_document())
    document["components"]["schemas"]["PaymentStatus"]["enum"].append("on_hold")
    document["components"]["schemas"]["Result"]["properties"]["settled_at"] = {
        "type": ["string", "null"]
    }
    types = gen_go.generate(document)[CLIENT / "types.go"]
    assert re.search(r'\tPaymentStatusOnHold +PaymentStatus = "on_hold"\n', types)
    assert re.search(r'\tSettledAt +string +`json:"settled_at,omitempty"`\n', types)
    assert types != (CLIENT / "types.go").read_text(encoding="utf-8")


def test_check_fails_on_a_stale_file_and_a_write_fixes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("types.go", "flows.go"):
        shutil.copy(CLIENT / name, tmp_path / name)
    stale = (CLIENT / "types.go").read_text(encoding="utf-8").replace("ErrorCode", "ErrCode")
    (tmp_path / "types.go").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(gen_go, "OUT", tmp_path)
    assert gen_go.main(["--check"]) == 1
    assert "types.go is stale" in capsys.readouterr().err
    assert (tmp_path / "types.go").read_text(encoding="utf-8") == stale  # --check writes nothing
    assert gen_go.main([]) == 0
    assert gen_go.main(["--check"]) == 0
    assert (tmp_path / "types.go").read_bytes() == (CLIENT / "types.go").read_bytes()


def test_generation_is_deterministic() -> None:
    assert gen_go.generate(openapi_document()) == gen_go.generate(openapi_document())


def test_every_problem_type_and_flow_is_in_the_go_client() -> None:
    document = openapi_document()
    files = gen_go.generate(document)
    types, flows = files[CLIENT / "types.go"], files[CLIENT / "flows.go"]
    for problem in document["x-problem-types"]:
        name = gen_go.go_name(problem["slug"])
        assert f"ProblemType{name}" in types and f"Err{name} = &ProblemKind{{" in types
    for flow, _ in gen_go.flow_operations(document):
        assert f"func (c *Connector) {gen_go.go_name(flow)}(" in flows
    from engine._unified import FLOWS

    assert len(gen_go.flow_operations(document)) == len(FLOWS)  # each declared by some processor


def test_go_sources_are_gofmt_clean() -> None:
    done = subprocess.run(
        [go_tool("gofmt"), "-l", "."], cwd=CLIENT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_go_vet() -> None:
    run([go_tool("go"), "vet", "./..."])


@pytest.mark.e2e
def test_go_test_against_the_service() -> None:
    harness = ROOT / "tools" / "service_harness.py"
    go = go_tool("go")
    run([sys.executable, str(harness), "--", go, "test", "-count=1", "-timeout=300s", "./..."])
