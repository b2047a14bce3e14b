"""The failover simulation (tools/simulate_failover.py), counted on both sides: payments are
recovered from the processor that refuses connections, those that met a 503 or a timeout are
left unresolved, and no payment reaches a second processor after an uncertain outcome."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import simulate_failover


def test_failover_recovers_and_never_sends_twice() -> None:
    report = simulate_failover.simulate(payments=600, seed=11)
    assert report["sent_to_two_after_uncertain"] == 0
    assert report["payments_reaching_two_processors"] == 0
    assert report["recovered_by_failover"] > 100  # the refusing processor's share moved on
    assert report["left_unresolved"] > 0  # 503s and timeouts were not failed over
    assert report["outcomes"].get("failed", 0) == 0
    # What each processor received is exactly what the router says it answered.
    assert report["received"] == {
        name: report["answered_by"].get(name, 0) for name in ("flaky", "slow")
    }
    assert sum(report["outcomes"].values()) == 600
