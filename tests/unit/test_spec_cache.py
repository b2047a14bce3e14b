"""specs/loaded/: the bundled specs as loaded, written ahead of time by `connector docs`.
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


def test_the_templates_come_parsed_as_jinja_parses_them() -> None:
    """Every template a bundled spec compiles is in its module, rebuilt equal to Jinja's own
    parse, bound to the environment asked for."""

    from engine._jinja_ast import build
    from engine._templates import ENVIRONMENT, PATH_ENVIRONMENT

    checked = 0
    for path in bundled_spec_paths():
        module = cache.loaded_module(path)
        assert module is not None, path.stem
        table = module.jinja()
        assert table, path.stem
        for source, data in table.items():
            for environment in (ENVIRONMENT, PATH_ENVIRONMENT):
                rebuilt = build(data, environment)
                assert rebuilt == environment.parse(source), source
                assert all(n.environment is environment for n in rebuilt.find_all(object))
            checked += 1
    assert checked > 300


def test_template_data_names_jinja_node_classes_only() -> None:
    from engine._jinja_ast import NotPlain, build, dump
    from engine._templates import ENVIRONMENT

    data = dump(ENVIRONMENT.parse("{{ request.amount }}"))
    assert build(data, ENVIRONMENT) == ENVIRONMENT.parse("{{ request.amount }}")
    for bad in (
        ("N", "Node", 1),  # abstract
        ("N", "Environment", 1),  # not a node class
        ("N", "__class__", 1),
        ("N", "Template", 1, [("N", "Output", 1, [object()])]),  # a value that is no scalar
        ("N", "Template", 1),  # missing fields
        ("X", "Template", 1, []),
    ):
        with pytest.raises(NotPlain):
            build(bad, ENVIRONMENT)


def test_a_template_not_in_any_module_is_parsed() -> None:
    from engine._templates import ENVIRONMENT, compile_template

    assert cache.parsed_template("{{ 'never in a spec' ~ request.x }}", ENVIRONMENT) is None
    assert (
        compile_template("{{ 'never in a spec' ~ request.x }}").render({"request": {"x": "!"}})
        == "never in a spec!"
    )
