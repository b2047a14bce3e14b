"""The fault server (one per session, on 127.0.0.1, stopped at the end) and a shared httpx
client, so a case costs one call and not the setup of a connection pool and TLS context."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .fault_server import FaultServer, running_server


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client
