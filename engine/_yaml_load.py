"""YAML text → plain data plus its source map (engine._load's LoadedSpec): positions, aliases and
merge keys checked, YAML 1.2 scalars."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from ._errors import Problem, SpecError
from ._load import LoadedSpec, SourceMap, escape_pointer_token

# libyaml's parser when the wheel has it (10x faster), else the pure-Python one; both give
# nodes with line/column marks.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SpecLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 scalars: only true/false are booleans (country `NO` stays a
    string) and dates stay strings."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_spec_text(text: str, file: str = "<string>") -> LoadedSpec:
    """Parse YAML text; raise SpecError (with positions) on characters YAML does not allow,
    syntax errors, tags or duplicate keys. Whatever PyYAML raises becomes a located Problem."""
    source = SourceMap(file, tuple(text.splitlines()))
    refused = _unprintable(text, file)
    if refused:
        raise SpecError(refused)
    try:
        node = yaml.compose(text, Loader=_SpecLoader)
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_problem(exc, text, source)]) from None
    except RecursionError:
        raise SpecError([Problem(file, 1, 1, "", "the document nests too deeply")]) from None
    if node is None:
        raise SpecError([Problem(file, 1, 1, "", "the file is empty")])
    problems: list[Problem] = []
    loader = _SpecLoader("")
    try:
        data = _construct(node, "", source, problems, loader, _Expansion())
    except _TooLarge as exc:
        raise SpecError([_at(exc.node, exc.pointer, str(exc), source)]) from None
    except RecursionError:
        raise SpecError([Problem(file, 1, 1, "", "the document nests too deeply")]) from None
    finally:
        loader.dispose()
    if problems:
        raise SpecError(problems)
    return LoadedSpec(data, source)


#: What YAML 1.1/1.2 lets a stream hold (PyYAML's Reader.NON_PRINTABLE, inverted): no C0
#: control but tab, CR and LF, no DEL or C1 control but NEL, no lone surrogate, no U+FFFE/F.
_NOT_YAML = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: Problems reported for one file's refused characters (a binary file has thousands).
MAX_CHARACTER_PROBLEMS = 10


def _unprintable(text: str, file: str) -> list[Problem]:
    """A problem at each character YAML refuses (the first MAX_CHARACTER_PROBLEMS), located
    as an editor counts lines: the parsers would report only the first, by offset."""
    problems: list[Problem] = []
    for match in _NOT_YAML.finditer(text):
        if len(problems) == MAX_CHARACTER_PROBLEMS:
            break
        position = match.start()
        starts = [m.end() for m in _LINE_BREAK.finditer(text, 0, position)]
        start = starts[-1] if starts else 0
        end = _LINE_BREAK.search(text, position)
        shown = text[start : end.start() if end else len(text)]
        code = ord(match.group())
        kind = "a control character" if unicodedata.category(match.group()) == "Cc" else "not text"
        problems.append(
            Problem(
                file,
                len(starts) + 1,
                position - start + 1,
                "",
                f"character U+{code:04X} ({kind}) is not allowed in YAML",
                _NOT_YAML.sub("\N{REPLACEMENT CHARACTER}", shown).rstrip(),
            )
        )
    return problems


def _runaway_quote(text: str, mark: Any) -> tuple[int, int] | None:
    """Where the last quoted scalar before `mark` opened, when it spans lines: the usual sign
    of an unclosed quote. Scans tokens again (only ever after an error)."""
    if mark is None:
        return None
    found = None
    try:
        for token in yaml.scan(text, Loader=_SpecLoader):
            start = token.start_mark
            if (start.line, start.column) >= (mark.line, mark.column):
                break
            style = getattr(token, "style", None)
            if style in ('"', "'"):
                multi_line = token.end_mark.line > start.line
                found = (start.line + 1, start.column + 1) if multi_line else None
            elif isinstance(token, yaml.ScalarToken):
                found = None
    except yaml.YAMLError:
        pass
    return found


def _yaml_problem(exc: yaml.YAMLError, text: str, source: SourceMap) -> Problem:
    """Any PyYAML error (scanner, parser, composer, reader, ...) as a located Problem."""
    line, col = 1, 1
    if isinstance(exc, yaml.MarkedYAMLError):
        mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
        if mark is not None and context is not None and mark.line >= len(source.lines):
            mark = context  # the end of the file: where the unclosed quote or bracket began
        if mark is not None:
            line, col = mark.line + 1, mark.column + 1
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.problem and exc.context:
            began = context is not None and mark is not None and context.index != mark.index
            at = f" at {context.line + 1}:{context.column + 1}" if began and context else ""
            message += f" ({exc.context}{at})"
        opened = _runaway_quote(text, mark)
        if opened is not None and mark is not None:
            # A missing closing quote shows up lines later, where the next quote closes it.
            message += (
                f"; the quoted value opened here runs on to {mark.line + 1}:{mark.column + 1}:"
                " is its closing quote missing?"
            )
            line, col = opened
    elif isinstance(exc, yaml.reader.ReaderError):
        # libyaml counts the offset in UTF-8 bytes, PyYAML in characters.
        offset = exc.position
        if _BaseLoader is not yaml.SafeLoader:
            offset = len(text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore"))
        before = text[:offset]
        starts = [m.end() for m in _LINE_BREAK.finditer(before)]
        line, col = len(starts) + 1, offset - (starts[-1] if starts else 0) + 1
        message = f"YAML cannot read the text: {exc.reason}"
    else:
        message = f"YAML error ({type(exc).__name__})"
    shown = source.lines[line - 1].rstrip() if 0 < line <= len(source.lines) else None
    return Problem(source.file, line, col, "", message, shown)


#: Values a spec may expand to once aliases are followed. The bundled specs have ~1,000; a
#: "billion laughs" document (aliases of aliases) is refused here, before it costs anything.
MAX_VALUES = 50_000


class _TooLarge(Exception):
    def __init__(self, node: yaml.Node, pointer: str, message: str) -> None:
        self.node = node
        self.pointer = pointer
        super().__init__(message)


@dataclass
class _Expansion:
    """What construction has expanded so far: a count, and the collections being built (an
    alias back to one of them is a cycle)."""

    values: int = 0
    building: set[int] = field(default_factory=set)


def _construct(
    node: yaml.Node,
    pointer: str,
    source: SourceMap,
    problems: list[Problem],
    loader: _SpecLoader,
    expansion: _Expansion,
) -> Any:
    expansion.values += 1
    if expansion.values > MAX_VALUES:
        raise _TooLarge(
            node, pointer, f"the document expands to over {MAX_VALUES} values through aliases"
        )
    if id(node) in expansion.building:
        problems.append(_at(node, pointer, "a recursive alias (it contains itself)", source))
        return None
    if isinstance(node, yaml.CollectionNode):
        expansion.building.add(id(node))
        try:
            return _construct_collection(node, pointer, source, problems, loader, expansion)
        finally:
            expansion.building.discard(id(node))
    return _construct_scalar(node, pointer, source, problems, loader)


def _construct_collection(
    node: yaml.CollectionNode,
    pointer: str,
    source: SourceMap,
    problems: list[Problem],
    loader: _SpecLoader,
    expansion: _Expansion,
) -> Any:
    source.values[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _PLAIN_TAGS[type(node)]:
        # An explicit tag on a mapping or list (`!!set`, `!!python/tuple`) is refused like one on
        # a scalar: what runs must be the plain data the author wrote.
        problems.append(_at(node, pointer, f"YAML tag {node.tag!r} is not allowed", source))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                # `<<: *defaults` (or a list of them): the merged keys come first and the
                # mapping's own keys win; positions stay those of the anchored original.
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for merge_node in sources:
                    if not isinstance(merge_node, yaml.MappingNode):
                        problems.append(
                            _at(merge_node, pointer, "`<<` merges mappings only", source)
                        )
                own = source.values[pointer]
                for merge_node in reversed(sources):
                    if isinstance(merge_node, yaml.MappingNode):
                        value = _construct(merge_node, pointer, source, problems, loader, expansion)
                        merged.update(value if isinstance(value, dict) else {})
                source.values[pointer] = own
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    _at(key_node, pointer, "mapping keys must be plain strings", source)
                )
                continue
            key = str(key_node.value)
            child = f"{pointer}/{escape_pointer_token(key)}"
            if key in result:
                problems.append(_at(key_node, child, f"duplicate key {key!r}", source))
                continue
            source.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _construct(value_node, child, source, problems, loader, expansion)
        return (
            {**{k: v for k, v in merged.items() if k not in result}, **result} if merged else result
        )
    return [
        _construct(item, f"{pointer}/{index}", source, problems, loader, expansion)
        for index, item in enumerate(node.value)
    ]


def _construct_scalar(
    node: yaml.Node, pointer: str, source: SourceMap, problems: list[Problem], loader: _SpecLoader
) -> Any:
    source.values[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _PLAIN_TAGS[type(node)]:
        problems.append(_at(node, pointer, f"YAML tag {node.tag!r} is not allowed", source))
        return None
    try:
        return loader.construct_object(node)
    except (ValueError, LookupError, yaml.YAMLError):  # `!!int abc`, `!!bool maybe`
        problems.append(_at(node, pointer, f"the value does not fit YAML tag {node.tag!r}", source))
        return None


def _tags(*names: str) -> frozenset[str]:
    return frozenset(f"tag:yaml.org,2002:{name}" for name in names)


#: The tags allowed on each kind of node: plain data only.
_PLAIN_TAGS: dict[type[yaml.Node], frozenset[str]] = {
    yaml.ScalarNode: _tags("str", "int", "float", "bool", "null"),
    yaml.MappingNode: _tags("map"),
    yaml.SequenceNode: _tags("seq"),
}


def _at(node: yaml.Node, pointer: str, message: str, source: SourceMap) -> Problem:
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    text = source.lines[line - 1].rstrip() if 0 < line <= len(source.lines) else None
    return Problem(source.file, line, col, pointer, message, text)
