"""Spec files: their bytes and text, the loaded document (plain data) and a source map from
JSON pointer to file:line:col. The YAML parsing itself is in engine._yaml_load, imported on
first use: a bundled spec loads from its module written ahead of time (engine._spec_cache)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import Problem, SpecError


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
    """Parse YAML text; raise SpecError (with positions) on characters YAML does not allow,
    syntax errors, tags or duplicate keys. Whatever PyYAML raises becomes a located Problem."""
    from ._yaml_load import parse_spec_text

    return parse_spec_text(text, file)


def read_spec_file(path: str | Path) -> tuple[bytes, str]:
    """A spec file's bytes and its text (UTF-8, a leading byte-order mark allowed); SpecError
    when it cannot be read, at the line and column of the first byte that is not UTF-8."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SpecError([Problem(str(path), 1, 1, "", f"cannot read the file: {reason}")]) from None
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        start = before.rfind(b"\n") + 1
        col = len(before[start:].decode("utf-8", "replace")) + 1
        end = raw.find(b"\n", exc.start)
        shown = raw[start : end if end >= 0 else len(raw)].decode("utf-8", "replace").rstrip()
        message = f"the file is not UTF-8: byte 0x{raw[exc.start]:02x} ({exc.reason})"
        raise SpecError([Problem(str(path), line, col, "", message, shown)]) from None


def load_spec_file(path: str | Path) -> LoadedSpec:
    return load_spec_text(read_spec_file(path)[1], str(path))
