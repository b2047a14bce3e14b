"""Connector arguments → spec files: a bare id names a bundled spec and nothing else; a file is
read only when the argument is a path (a Path, a separator, or a .yaml/.yml ending)."""

from __future__ import annotations

import json
from pathlib import Path, PurePath

import pytest

import engine._spec
from engine import Client, SpecError, UnsupportedError, load_connector
from engine._resources import specs_dir
from engine._spec import find_spec, is_spec_path
from engine.cli import main

BUNDLED_STRIPE = specs_dir() / "stripe.yaml"
REQUEST = {
    "amount": 1099,
    "currency": "EUR",
    "idempotency_key": "idem-resolution-1",
    "payment_method": {"type": "token", "token": "pm_card_visa"},
}


def _impostor(directory: Path, name: str) -> Path:
    """A lint-clean copy of the Stripe spec that sends the key to another host."""
    text = BUNDLED_STRIPE.read_text(encoding="utf-8").replace(
        "https://api.stripe.com", "https://collector.example.net"
    )
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["stripe", "stripe.json", "stripe.YAML.bak"])
def test_a_file_in_the_working_directory_never_replaces_a_bundled_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _impostor(tmp_path, name)
    monkeypatch.chdir(tmp_path)
    assert find_spec("stripe") == BUNDLED_STRIPE
    connector = load_connector("stripe")
    assert Path(connector.plan.file).resolve() == BUNDLED_STRIPE.resolve()
    built = connector.build_request("authorize", REQUEST, {"api_key": "sk_test_resolution"})
    assert built.url.startswith("https://api.stripe.com/")
    with Client("stripe", {"api_key": "sk_test_resolution"}) as client:
        assert client.connector.plan.file == connector.plan.file


def test_an_id_is_never_joined_onto_the_bundle_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bundle at tmp/bundle/connectors and a spec beside it: "../x" and "stripe/../../x" must
    # not climb out of the bundle to reach it (they are paths, read from the working directory).
    bundle = tmp_path / "bundle" / "connectors"
    bundle.mkdir(parents=True)
    (bundle / "stripe.yaml").write_bytes(BUNDLED_STRIPE.read_bytes())
    _impostor(tmp_path / "bundle", "x.yaml")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(engine._spec, "specs_dir", lambda: bundle)
    for argument in ("../x", "stripe/../../x", "connectors/../x"):
        assert is_spec_path(argument)
        assert find_spec(argument) == Path(argument)  # relative to the working directory
        with pytest.raises(SpecError, match="cannot read the file"):
            load_connector(argument)


@pytest.mark.parametrize(
    "argument", ["Stripe", "", "stripe ", "stripe\x00", "strip", "stripe.", "..", "~stripe"]
)
def test_an_unknown_id_names_itself_and_the_bundled_ids(argument: str) -> None:
    with pytest.raises(UnsupportedError) as raised:
        load_connector(argument)
    message = str(raised.value)
    assert f"no bundled connector {argument!r}" in message
    for path in sorted(specs_dir().glob("*.yaml")):
        assert path.stem in message


def test_a_non_string_id_is_refused_by_an_engine_exception() -> None:
    with pytest.raises(UnsupportedError, match="no bundled connector 5"):
        load_connector(5)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedError):
        Client(None, {"api_key": "sk_test_resolution"})  # type: ignore[arg-type]


def test_a_path_is_an_explicit_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _impostor(tmp_path, "stripe")  # no suffix: named by a Path or with a separator
    monkeypatch.chdir(tmp_path)
    for argument in (spec, PurePath(spec), "./stripe", str(spec)):
        assert is_spec_path(argument)
        built = load_connector(argument).build_request(
            "authorize", REQUEST, {"api_key": "sk_test_resolution"}
        )
        assert built.url.startswith("https://collector.example.net/")
    assert not is_spec_path("stripe")
    assert is_spec_path("stripe.yaml") and is_spec_path("stripe.yml")


def test_the_cli_follows_the_same_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _impostor(tmp_path, "stripe")
    (tmp_path / "request.json").write_text(json.dumps(REQUEST))
    monkeypatch.chdir(tmp_path)
    assert main(["render", "stripe", "authorize", "request.json", "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)["requests"]
    assert shown["url"].startswith("https://api.stripe.com/")
    assert main(["render", "./stripe", "authorize", "request.json", "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)["requests"]
    assert shown["url"].startswith("https://collector.example.net/")
    assert main(["render", "strpe", "authorize", "request.json"]) == 2
    err = capsys.readouterr().err
    assert "UnsupportedError: no bundled connector 'strpe'" in err
    assert "stripe" in err.split("bundled connectors:", 1)[1]
