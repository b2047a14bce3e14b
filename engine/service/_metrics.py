"""Prometheus metrics, one registry per app (two apps in one process never mix counts). Labels
are bounded sets: routes (not paths), connector ids, flows, statuses, problem slugs, API key ids
from the config — never a value from a request."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .._tokens import AccessToken, TokenCache

#: Seconds: a loopback call is ~1 ms, a processor round trip 100 ms to seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "connector_service_requests",
            "HTTP requests answered, by route and HTTP status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "connector_service_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.outcomes = Counter(
            "connector_service_outcomes",
            "Results, by connector, flow and unified status.",
            ["connector", "flow", "status"],
            registry=r,
        )
        self.problems = Counter(
            "connector_service_problems",
            "Problem documents (nothing sent), by connector and problem type.",
            ["connector", "type"],
            registry=r,
        )
        self.call_latency = Histogram(
            "connector_service_call_seconds",
            "Time of an engine call (every request to the processor), by connector and flow.",
            ["connector", "flow"],
            buckets=BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "connector_service_calls_in_flight",
            "Engine calls in flight, by connector.",
            ["connector"],
            registry=r,
        )
        self.token_cache = Counter(
            "connector_service_token_cache",
            "Token cache lookups: hit (a usable token) or miss.",
            ["result"],
            registry=r,
        )
        self.token_fetches = Counter(
            "connector_service_token_fetches",
            "Access tokens fetched from processors (stored in the token cache).",
            [],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class CountingTokenCache:
    """A token cache that counts hits and misses, around the configured one. It forwards every
    other attribute (a shared cache's async and locking methods) unchanged."""

    def __init__(self, inner: TokenCache, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def get(self, key: str) -> AccessToken | None:
        token = self._inner.get(key)
        self._count(token)
        return token

    def set(self, key: str, token: AccessToken) -> None:
        self._metrics.token_fetches.inc()
        self._inner.set(key, token)

    def _count(self, token: AccessToken | None) -> None:
        hit = token is not None and token.usable()
        self._metrics.token_cache.labels("hit" if hit else "miss").inc()

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return f"CountingTokenCache({self._inner!r})"
