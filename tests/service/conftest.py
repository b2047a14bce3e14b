"""The service's tests: the real service (`connector serve`) in front of localstripe, started
once per session by tools/service_harness.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import service_harness


@pytest.fixture(scope="session")
def remote_service() -> Iterator[dict[str, str]]:
    """The environment the clients' tests read (see tools/service_harness.py)."""
    with service_harness.running() as env:
        yield env
