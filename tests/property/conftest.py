"""Hypothesis settings for the property tests: the `ci` profile (the default) is derandomized,
so a run is reproducible and a failure in CI fails the same way on a developer's machine, and
sized so the whole folder stays well under two minutes on two cores. Set HYPOTHESIS_PROFILE=dev
for a randomized, longer search while working on the engine."""

from __future__ import annotations

import os

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
