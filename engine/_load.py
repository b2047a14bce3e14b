"""YAML text → plain data plus a source map from JSON pointer to file:line:col."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._errors import Problem, SpecError

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


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class SourceMap:
    """Where each JSON pointer of a loaded document came from."""

    file: str
    lines: tuple[str, ...]
    values: dict[str, tuple[int, int]] = field(default_factory=dict)
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of `pointer`, falling back to the nearest parent."""
        table = self.keys if key else self.values
        probe = pointer
        while True:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return (1, 1)
            probe = probe.rsplit("/", 1)[0]

    def problem(
        self, pointer: str, message: str, *, key: bool = False, severity: str = "error"
    ) -> Problem:
        line, col = self.locate(pointer, key=key)
        source = self.lines[line - 1].rstrip() if 0 < line <= len(self.lines) else None
        return Problem(self.file, line, col, pointer, message, source, severity)


@dataclass(frozen=True)
class LoadedSpec:
    """A loaded document and where each of its values came from. `cut`: pointers of the
    subtrees schema validation found invalid and cut away (see _validate.checkable_part), or
    that a schema-invalid document lacks; what remains is checked by the compiler and lint."""

    data: Any
    source: SourceMap
    cut: frozenset[str] = frozenset()

    def complete(self, pointer: str) -> bool:
        """Whether nothing at, under or above `pointer` was cut: a rule that reasons about the
        absence of something there may run."""
        return not any(
            c == pointer or c.startswith(pointer + "/") or pointer.startswith(c + "/")
            for c in self.cut
        )


def load_spec_text(text: str, file: str = "<string>") -> LoadedSpec:
    """Parse YAML text; raise SpecError (with positions) on syntax errors or duplicate keys."""
    source = SourceMap(file, tuple(text.splitlines()))
    try:
        node = yaml.compose(text, Loader=_SpecLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        text_line = source.lines[line - 1] if 0 < line <= len(source.lines) else None
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise SpecError([Problem(file, line, col, "", message, text_line)]) from None
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


def load_spec_file(path: str | Path) -> LoadedSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(path), 1, 1, "", f"cannot read the file: {exc}")]) from None
    return load_spec_text(text, str(path))


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
