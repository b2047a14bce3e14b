"""A regular expression a spec writes → a matcher that runs in linear time (RE2).

Python's `re` backtracks: a credential `pattern` such as `^(a+)+$` takes seconds per build on a
value of a few thousand characters. Spec patterns run in RE2 (google-re2), which never
backtracks; a pattern RE2 cannot run (back-references, look-around) is a lint error."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

#: Longest credential value the engine accepts (a key, a certificate in PEM fits easily).
MAX_CREDENTIAL_CHARS = 16_384


class PatternError(ValueError):
    """A pattern RE2 cannot compile."""


@functools.lru_cache(maxsize=1024)
def compile_pattern(source: str) -> Callable[[str], bool]:
    """`source` → a full-match test, compiled once per process."""
    import re2  # imported on first use

    options: Any = re2.Options()
    options.log_errors = False  # RE2 would print to stderr
    try:
        compiled = re2.compile(source, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason) or "not a pattern RE2 can run") from None

    def matches(value: str) -> bool:
        # As UTF-8 bytes, which is what the wrapper matches a text as (str.encode("utf-8"),
        # raising alike on a lone surrogate), without mapping every span back to characters:
        # a sixth of the cost, the same answer.
        return compiled.fullmatch(value.encode("utf-8")) is not None

    return matches
