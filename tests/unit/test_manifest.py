"""specs/linted.json: a bundled spec whose bytes lint passed loads without re-validation; any
other spec, or a bundled one edited since, is validated in full."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine._validate
from engine._manifest import fingerprint, is_linted, write_manifest
from engine._resources import specs_dir
from engine._spec import compile_file


def test_the_manifest_is_fresh() -> None:
    assert write_manifest(check=True) == [], "run `connector docs` to regenerate it"


def test_every_bundled_spec_is_recorded() -> None:
    for path in sorted(specs_dir().glob("*.yaml")):
        assert is_linted(path, path.read_bytes()), path.name


def test_edited_bytes_or_another_place_are_not_trusted(tmp_path: Path) -> None:
    path = specs_dir() / "stripe.yaml"
    raw = path.read_bytes()
    assert not is_linted(path, raw + b"\n# edited\n")
    copy = tmp_path / "stripe.yaml"
    copy.write_bytes(raw)
    assert not is_linted(copy, raw)


def test_the_fingerprint_covers_the_spec_schema() -> None:
    assert fingerprint(b"id: x") != fingerprint(b"id: y")
    assert len(fingerprint(b"")) == 64


def _refuse_validation(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def validate(spec: object) -> tuple[list[object], object]:
        calls.append(str(spec))
        return [], spec

    monkeypatch.setattr(engine._validate, "checkable_part", validate)
    return calls


def test_a_recorded_spec_is_not_validated_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _refuse_validation(monkeypatch)
    plan = compile_file(specs_dir() / "adyen.yaml", lazy_flows=True)
    assert plan.id == "adyen" and calls == []


def test_a_spec_outside_the_bundle_is_validated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _refuse_validation(monkeypatch)
    copy = tmp_path / "adyen.yaml"
    copy.write_bytes((specs_dir() / "adyen.yaml").read_bytes())
    compile_file(copy, lazy_flows=True)
    assert len(calls) == 1
