"""engine._load on text PyYAML refuses: every reader, scanner, parser and composer error is a
located Problem (FILE:LINE:COL), never a YAML exception, whichever loader is in use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import engine._yaml_load
from engine._errors import Problem, SpecError
from engine._load import load_spec_file, load_spec_text
from engine._spec import compile_file, lint_file
from engine.cli import main


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "acme.yaml")
    return caught.value.problems


@pytest.mark.parametrize(
    ("char", "kind"),
    [
        ("\x00", "a control character"),
        ("\x07", "a control character"),
        ("\x1b", "a control character"),
        ("\x7f", "a control character"),
        ("\x80", "a control character"),
        ("\x9f", "a control character"),
        ("\ufffe", "not text"),
        ("\ud800", "not text"),  # a lone surrogate (only a str can hold one)
    ],
)
def test_a_character_yaml_refuses_is_located(char: str, kind: str) -> None:
    (problem,) = problems_of(f"id: acme\nname: Acme{char}Pay\n")
    assert (problem.file, problem.line, problem.col) == ("acme.yaml", 2, 11)
    assert problem.message == f"character U+{ord(char):04X} ({kind}) is not allowed in YAML"
    assert problem.source_line == "name: Acme\N{REPLACEMENT CHARACTER}Pay"  # never the raw byte


def test_lines_are_counted_as_an_editor_counts_them() -> None:
    (problem,) = problems_of("a: 1\r\nb: 2\rc: 3\nd: \x00\n")
    assert (problem.line, problem.col) == (4, 4)


def test_every_refused_character_is_reported_up_to_a_limit() -> None:
    problems = problems_of("a: \x01\nb: \x02\n" + "\x00" * 100)
    assert [(p.line, p.col) for p in problems[:2]] == [(1, 4), (2, 4)]
    assert len(problems) == engine._yaml_load.MAX_CHARACTER_PROBLEMS


def test_characters_yaml_allows_pass() -> None:
    loaded = load_spec_text('a: "x\ty"\nb: caf\u00e9 \U0001f600 \x85\n', "acme.yaml")
    assert loaded.data["a"] == "x\ty"


def test_a_leading_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_bytes(b"\xef\xbb\xbfid: acme\n")
    assert load_spec_file(path).data == {"id": "acme"}


def test_a_utf16_file_is_not_utf8_at_its_first_byte(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_bytes("id: acme\n".encode("utf-16"))  # with its byte-order mark, FF FE
    (problem,) = lint_file(path)
    assert (problem.line, problem.col) == (1, 1)
    assert problem.message.startswith("the file is not UTF-8: byte 0xff")
    with pytest.raises(SpecError):
        compile_file(path)


def test_invalid_utf8_is_located_on_its_line(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_bytes(b"id: acme\nname: caf\xc3\xa9 \xe9t\xe9\n")
    (problem,) = lint_file(path)
    assert (problem.line, problem.col) == (2, 12)  # "é" before it is one column
    assert problem.source_line == "name: café \N{REPLACEMENT CHARACTER}t\N{REPLACEMENT CHARACTER}"


def test_an_unclosed_quote_is_located_where_it_opens() -> None:
    (problem,) = problems_of('id: acme\nname: "Acme Pay\n')  # runs to the end of the file
    assert (problem.line, problem.col) == (2, 7)
    assert "found unexpected end of stream" in problem.message
    (problem,) = problems_of('id: acme\nname: "Acme Pay\ndocs: x\nauth: "y"\n')  # closed later
    assert (problem.line, problem.col) == (2, 7)
    assert "the quoted value opened here runs on to 4:8" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\n",  # parser: unclosed flow sequence
        "a: {b: 1\n",
        "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",  # duplicate directive
        "a: &x 1\nb: *y\n",  # composer: undefined alias
        "a: 1\n---\nb: 2\n",  # a second document
        "a: 1\n\tb: 2\n",  # tab indentation
        "a: 'x\n",
        "a: b: c\n",
        "- a\nb: 1\n",
        "a: !<tag:yaml.org,2002:str\n",  # unterminated verbatim tag
        "? a\n? a\n",
        "a: 1\n\ufeffb: 2\n",  # a byte-order mark inside the text
    ],
)
def test_a_yaml_error_is_a_located_problem(text: str) -> None:
    problems = problems_of(text)
    assert problems
    for problem in problems:
        assert problem.line >= 1 and problem.col >= 1
        assert problem.format().startswith(f"acme.yaml:{problem.line}:{problem.col}: ")


def test_a_reader_error_is_located_if_the_parser_raises_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The pre-scan refuses these characters first; should a parser's reader still raise, its
    # error (an offset in bytes for libyaml, in characters for PyYAML) becomes a Problem too.
    monkeypatch.setattr(engine._yaml_load, "_unprintable", lambda text, file: [])
    (problem,) = problems_of("id: caf\u00e9\nname: A\x00B\n")
    assert (problem.line, problem.col) == (2, 8)
    assert problem.message.startswith("YAML cannot read the text: ")


def test_any_other_yaml_error_is_still_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def compose(*args: object, **kwargs: object) -> None:
        raise yaml.YAMLError("something new")

    monkeypatch.setattr(engine._yaml_load.yaml, "compose", compose)
    (problem,) = problems_of("id: acme\n")
    assert (problem.line, problem.col, problem.message) == (1, 1, "YAML error (YAMLError)")


def test_cli_lint_reports_a_control_character_as_file_line_col(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "acme.yaml"
    path.write_bytes(b"spec_version: 1\nid: acme\nname: Acme\x00Pay\n")
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:3:11: character U+0000 (a control character) is not allowed")
    assert "\x00" not in out
