"""engine/_spec_data/: the bundled specs as loaded, written ahead of time by `connector docs`.
They are current (CI), a bundled spec loads from its module exactly what its YAML gives (data
and source map), and a spec whose bytes are not those the module was made from is parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine._spec_cache as cache
from engine._load import load_spec_file, read_spec_file
from engine._spec import bundled_spec_paths, compile_file


def test_the_loaded_specs_are_current() -> None:
    assert cache.write_spec_data(check=True) == [], "run `connector docs` to regenerate them"


@pytest.mark.parametrize("path", bundled_spec_paths(), ids=lambda p: p.stem)
def test_a_bundled_spec_loads_from_its_module_what_its_yaml_gives(path: Path) -> None:
    raw, text = read_spec_file(path)
    cached = cache.cached_spec(path, raw, text)
    assert cached is not None
    parsed = load_spec_file(path)
    assert repr(cached.data) == repr(parsed.data)  # the same values, of the same types
    assert cached.source == parsed.source
    again = cache.cached_spec(path, raw, text)
    assert again is not None and again.data is not cached.data  # a fresh copy every time


def test_other_bytes_are_parsed(tmp_path: Path) -> None:
    path = bundled_spec_paths()[0]
    raw, text = read_spec_file(path)
    assert cache.cached_spec(path, raw + b"\n# edited\n", text + "\n# edited\n") is None
    assert cache.cached_spec(tmp_path / "no_such_spec.yaml", raw, text) is None


def test_a_spec_loaded_either_way_compiles_to_the_same_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = next(p for p in bundled_spec_paths() if p.stem == "stripe")
    cached = compile_file(path, lazy_flows=True)
    monkeypatch.setattr("engine._spec.cached_spec", lambda *args: None)
    parsed = compile_file(path, lazy_flows=True)
    assert cached.raw == parsed.raw
    assert list(cached.flows) == list(parsed.flows)


def test_the_expressions_come_parsed_as_jmespath_parses_them() -> None:
    import jmespath

    from tests.property.test_jmes_compile import bundled_expressions

    for path in bundled_spec_paths():  # each spec's module registers its table when loaded
        raw, text = read_spec_file(path)
        assert cache.cached_spec(path, raw, text) is not None
    texts: set[str] = set()
    for path in bundled_spec_paths():
        cache._expressions(load_spec_file(path).data, texts)
    for expression in bundled_expressions():
        ahead = cache.parsed_jmespath(expression, jmespath.__version__)
        if expression in texts:  # not the engine's own defaults (`access_token`)
            assert ahead is not None, expression
        if ahead is not None:
            assert ahead == jmespath.compile(expression).parsed, expression
    assert cache.parsed_jmespath("a.b", "another version") is None
