"""tools/bench_service.py runs (a smoke run: `--quick --json`). Nothing here looks at a time:
the bench itself fails when a call is not answered with the authorized Result it expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "tools" / "bench_service.py"


def test_the_service_bench_runs() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout)
    one = figures["latency_one_in_flight"]
    assert set(one) == {"embedded_sync", "embedded", "service"}
    loaded = figures["load_4_in_flight"]
    assert set(loaded) == {"embedded", "service"}
    for row in [*one.values(), *loaded.values()]:
        assert row["ops"] == figures["calls_per_round"]
        assert row["p50_ms"] <= row["p99_ms"]
        assert row["cpu_s"] > 0
    assert isinstance(figures["service_added_p50_ms"], float)
    assert set(figures["aims_met"]) == {"added_p50", "ops_per_core"}
