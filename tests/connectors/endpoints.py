"""Matching a built request to an endpoint of a processor_schema.json ("METHOD /path/{param}")."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit


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

    def assert_covered(self, built: Iterable[Any], endpoints: Mapping[str, Any]) -> None:
        """Every endpoint is reached by some built request, and every endpoint that takes a
        body (`entry["body"]` not null) had a body checked: the schema test is not vacuous."""
        seen: Counter[str] = Counter()
        bodies: Counter[str] = Counter()
        for request in built:
            key, _ = self.match(request.method, urlsplit(request.url).path)
            seen[key] += 1
            if request.body:
                bodies[key] += 1
        assert set(seen) == set(endpoints), f"unchecked endpoints: {set(endpoints) - set(seen)}"
        for key, entry in endpoints.items():
            if entry["body"] is not None:
                assert bodies[key] >= 1, f"no body was checked for {key}"
