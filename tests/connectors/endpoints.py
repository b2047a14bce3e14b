"""Matching a built request to an endpoint of a processor_schema.json ("METHOD /path/{param}")."""

from __future__ import annotations

import re
from collections.abc import Iterable


class Endpoints:
    """The endpoint templates of one processor's extracted schema."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._patterns = []
        for key in keys:
            method, template = key.split(" ", 1)
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            self._patterns.append((method, re.compile(f"^{regex}$"), key))

    def match(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        """The endpoint key and its path parameters; fails the test for an unknown endpoint."""
        for want, pattern, key in self._patterns:
            found = pattern.match(path)
            if want == method and found:
                return key, found.groupdict()
        raise AssertionError(f"{method} {path} is not an endpoint in processor_schema.json")
