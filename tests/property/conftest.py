"""Hypothesis settings for the property tests: the `ci` profile (the default) is derandomized,
so a run is reproducible and a failure in CI fails the same way on a developer's machine, and
sized so the whole folder stays well under two minutes on two cores. Set HYPOTHESIS_PROFILE=dev
for a randomized, longer search while working on the engine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _deep_enough_for_hypothesis() -> Iterator[None]:
    """One @given test parametrized over every connector fixture (1,400+ with 29 processors): in
    one process, hypothesis's `settings.database` lookup recursed past Python's default limit of
    1,000 frames after ~490 of its parameters (observed on 6.170; a RecursionError inside
    hypothesis, not in the engine). The limit is raised for property tests only, and restored:
    other tests rely on the default limit (the lint corpus's deeply nested template)."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, 20_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)
