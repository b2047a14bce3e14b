"""A circuit breaker per profile: open after `consecutive_failures` failures in a row or a
failure rate of `error_rate` over `window_seconds` (with `min_calls` calls in it); after
`open_seconds` half-open, letting one probe call through at a time; closed again by a success.

A failure is an outcome that says the processor is unwell: nothing could be sent, or it answered
5xx or timed out (an unresolved Result with processor_error, processor_unavailable, timeout or
network_error). A decline is the processor working. State lives in memory by default; a shared
store (Redis) lets several replicas see one state."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

UNWELL_CODES = frozenset({"processor_error", "processor_unavailable", "timeout", "network_error"})


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    consecutive_failures: int = 5
    error_rate: float = 0.5
    window_seconds: float = 60.0
    min_calls: int = 20
    open_seconds: float = 30.0


class HealthStore(Protocol):
    def allow(self, profile: str) -> bool:
        """Whether a call to `profile` may be made now (closed, or the half-open probe)."""

    def record(self, profile: str, failed: bool) -> None:
        """An outcome of a call that `allow` let through."""

    def state(self, profile: str) -> str:
        """closed, open or half_open (for explanations and metrics)."""


@dataclass
class _Circuit:
    consecutive: int = 0
    calls: deque[tuple[float, bool]] = field(default_factory=deque)
    opened_at: float | None = None
    probing: bool = False


class MemoryHealth:
    """This process's circuits (thread-safe)."""

    def __init__(
        self, policy: HealthPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or HealthPolicy()
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        self._lock = threading.Lock()

    def _circuit(self, profile: str) -> _Circuit:
        return self._circuits.setdefault(profile, _Circuit())

    def state(self, profile: str) -> str:
        with self._lock:
            return self._state(self._circuit(profile))

    def _state(self, circuit: _Circuit) -> str:
        if circuit.opened_at is None:
            return "closed"
        if self._clock() - circuit.opened_at >= self.policy.open_seconds:
            return "half_open"
        return "open"

    def allow(self, profile: str) -> bool:
        with self._lock:
            circuit = self._circuit(profile)
            state = self._state(circuit)
            if state == "closed":
                return True
            if state == "half_open" and not circuit.probing:
                circuit.probing = True  # one probe at a time
                return True
            return False

    def record(self, profile: str, failed: bool) -> None:
        with self._lock:
            circuit = self._circuit(profile)
            now = self._clock()
            was_probe = circuit.probing
            circuit.probing = False
            circuit.calls.append((now, failed))
            while circuit.calls and now - circuit.calls[0][0] > self.policy.window_seconds:
                circuit.calls.popleft()
            if not failed:
                circuit.consecutive = 0
                if was_probe or circuit.opened_at is not None:
                    circuit.opened_at = None
                    circuit.calls.clear()
                return
            circuit.consecutive += 1
            failures = sum(1 for _, bad in circuit.calls if bad)
            rate_trips = (
                len(circuit.calls) >= self.policy.min_calls
                and failures / len(circuit.calls) >= self.policy.error_rate
            )
            if was_probe or circuit.consecutive >= self.policy.consecutive_failures or rate_trips:
                circuit.opened_at = now
