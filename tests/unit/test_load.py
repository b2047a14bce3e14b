"""engine._load: YAML text → plain data and a source map of JSON pointer → line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine._errors import Problem, SpecError
from engine._load import escape_pointer_token, load_spec_file, load_spec_text

TEXT = """\
id: acme
flows:
  authorize:
    method: POST
    tags: [a, b]
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "acme.yaml")
    return caught.value.problems


def test_data_is_plain() -> None:
    loaded = load_spec_text(TEXT, "acme.yaml")
    assert loaded.data == {
        "id": "acme",
        "flows": {"authorize": {"method": "POST", "tags": ["a", "b"]}},
    }


def test_keys_and_values_are_located() -> None:
    source = load_spec_text(TEXT, "acme.yaml").source
    assert source.keys["/flows/authorize/method"] == (4, 5)
    assert source.values["/flows/authorize/method"] == (4, 13)
    assert source.values["/flows/authorize/tags/1"] == (5, 15)
    assert source.locate("/flows/authorize/method", key=True) == (4, 5)
    assert source.locate("/flows/authorize/method") == (4, 13)


def test_locate_falls_back_to_the_nearest_parent() -> None:
    source = load_spec_text(TEXT, "acme.yaml").source
    assert source.locate("/flows/authorize/missing/deeper", key=True) == (3, 3)
    assert source.locate("/nowhere") == (1, 1)


def test_problem_carries_file_position_and_source_line() -> None:
    source = load_spec_text(TEXT, "acme.yaml").source
    problem = source.problem("/flows/authorize/method", "bad method", key=True)
    assert problem == Problem(
        "acme.yaml", 4, 5, "/flows/authorize/method", "bad method", "    method: POST"
    )
    assert problem.format() == (
        "acme.yaml:4:5: bad method (/flows/authorize/method)\n        method: POST\n        ^"
    )


def test_pointer_tokens_are_escaped() -> None:
    loaded = load_spec_text("map:\n  a/b: 1\n  c~d: 2\n")
    assert escape_pointer_token("a/b") == "a~1b"
    assert loaded.source.keys["/map/a~1b"] == (2, 3)
    assert loaded.source.keys["/map/c~0d"] == (3, 3)


def test_duplicate_keys_are_reported_at_the_second_key() -> None:
    problems = problems_of("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n")
    assert [(p.line, p.col, p.pointer, p.message) for p in problems] == [
        (4, 3, "/b/x", "duplicate key 'x'"),
        (5, 1, "/a", "duplicate key 'a'"),
    ]


def test_duplicate_key_in_a_flow_mapping() -> None:
    (problem,) = problems_of("x: {a: 1, a: 2}\n")
    assert (problem.line, problem.col, problem.pointer) == (1, 11, "/x/a")


@pytest.mark.parametrize("word", ["NO", "no", "yes", "Yes", "on", "OFF", "y", "n"])
def test_yaml_1_1_booleans_stay_strings(word: str) -> None:
    assert load_spec_text(f"country: {word}\n").data == {"country": word}


@pytest.mark.parametrize(
    ("word", "value"), [("true", True), ("True", True), ("FALSE", False), ("false", False)]
)
def test_yaml_1_2_booleans(word: str, value: bool) -> None:
    assert load_spec_text(f"flag: {word}\n").data["flag"] is value


def test_dates_stay_strings() -> None:
    data = load_spec_text("version: 2023-08-16\nat: 2001-12-14t21:59:43.10-05:00\n").data
    assert data == {"version": "2023-08-16", "at": "2001-12-14t21:59:43.10-05:00"}


def test_other_scalars() -> None:
    data = load_spec_text("i: 42\nf: 1.5\nn: null\nt: ~\ns: '007'\n").data
    assert data == {"i": 42, "f": 1.5, "n": None, "t": None, "s": "007"}
    assert type(data["i"]) is int


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!binary aGk=\n", "tag:yaml.org,2002:binary"),
        ("a: !!timestamp 2024-01-01\n", "tag:yaml.org,2002:timestamp"),
        ("a: !!python/object:os.system x\n", "tag:yaml.org,2002:python/object:os.system"),
        ("a: !custom 1\n", "!custom"),
        ("a: !!set {x: null}\n", "tag:yaml.org,2002:set"),
        ("a: !!omap [{x: 1}]\n", "tag:yaml.org,2002:omap"),
        ("a: !!python/tuple [1, 2]\n", "tag:yaml.org,2002:python/tuple"),
        (
            "a: !!python/object/apply:os.system [ls]\n",
            "tag:yaml.org,2002:python/object/apply:os.system",
        ),
        ("a: !thing {b: 1}\n", "!thing"),
    ],
)
def test_tags_beyond_plain_data_are_refused(text: str, tag: str) -> None:
    (problem,) = problems_of(text)
    assert (problem.line, problem.col, problem.pointer) == (1, 4, "/a")
    assert problem.message == f"YAML tag {tag!r} is not allowed"


@pytest.mark.parametrize(
    ("text", "tag"),
    [("a: !!map x\n", "tag:yaml.org,2002:map"), ("a: !!str [1]\n", "tag:yaml.org,2002:str")],
)
def test_a_tag_of_another_kind_of_node_is_refused(text: str, tag: str) -> None:
    (problem,) = problems_of(text)
    assert (problem.line, problem.col, problem.message) == (
        1,
        4,
        f"YAML tag {tag!r} is not allowed",
    )


@pytest.mark.parametrize("text", ["a: !!int abc\n", "a: !!float x\n", "a: !!bool maybe\n"])
def test_a_value_that_does_not_fit_its_tag_is_a_located_problem(text: str) -> None:
    (problem,) = problems_of(text)
    assert (problem.line, problem.col, problem.pointer) == (1, 4, "/a")
    assert problem.message.startswith("the value does not fit YAML tag 'tag:yaml.org,2002:")


def test_explicit_plain_tags_are_allowed() -> None:
    data = load_spec_text("a: !!str 2024-01-01\nb: !!int '7'\nc: !!map {x: 1}\nd: !!seq [1]\n").data
    assert data == {"a": "2024-01-01", "b": 7, "c": {"x": 1}, "d": [1]}


def test_non_string_keys_are_refused() -> None:
    (problem,) = problems_of("? [a, b]\n: 1\n")
    assert (problem.line, problem.col, problem.message) == (
        1,
        3,
        "mapping keys must be plain strings",
    )


def test_syntax_error_is_located() -> None:
    (problem,) = problems_of("a: 1\nb: [1, 2\nc: 3\n")
    assert (problem.file, problem.line, problem.col) == ("acme.yaml", 3, 2)
    # The wording is the YAML parser's (libyaml or pure Python); the position is ours.
    assert problem.message.startswith("YAML syntax error: ")
    assert "expected ',' or ']'" in problem.message
    assert problem.source_line == "c: 3"


def test_mapping_values_not_allowed_is_located() -> None:
    (problem,) = problems_of("ok: 1\na: b: c\n")
    assert (problem.line, problem.col) == (2, 5)
    assert problem.message.startswith("YAML syntax error: mapping values are not allowed")


def test_empty_file() -> None:
    (problem,) = problems_of("")
    assert (problem.line, problem.col, problem.message) == (1, 1, "the file is empty")


def test_every_problem_of_a_file_is_collected() -> None:
    problems = problems_of("a: 1\nb: !!binary aGk=\na: 2\n")
    assert [(p.line, p.message) for p in problems] == [
        (2, "YAML tag 'tag:yaml.org,2002:binary' is not allowed"),
        (3, "duplicate key 'a'"),
    ]


def test_load_spec_file(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("id: acme\n", encoding="utf-8")
    loaded = load_spec_file(path)
    assert loaded.data == {"id": "acme"}
    assert loaded.source.file == str(path)


def test_unreadable_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.col) == (str(path), 1, 5)  # the bad byte
    assert problem.message.startswith("the file is not UTF-8: byte 0xff")


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.col) == (str(path), 1, 1)
    assert problem.message.startswith("cannot read the file: ")


def test_merge_keys_merge_and_own_keys_win() -> None:
    spec = load_spec_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n", "t.yaml")
    assert spec.data["other"] == {"x": 1, "y": 3}
    assert spec.source.values["/other"] == (3, 3)


def test_merge_of_a_scalar_is_refused() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_text("a: &s 5\nb:\n  <<: *s\n", "t.yaml")
    assert "merges mappings only" in str(caught.value)
