"""Prometheus metrics, one registry per app (two apps in one process never mix counts). Labels
are bounded sets: routes (not paths), connector ids, flows, statuses, problem slugs, API key ids
from the config — never a value from a request."""

from __future__ import annotations

from collections import Counter as Counter_
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

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
        self.token_counts: Callable[[], dict[str, int]] = dict
        r.register(_TokenCollector(self))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _TokenCollector(Collector):
    """connector_service_token_cache_total{result=...}: the token cache's own counts, read at
    each scrape (hits in this process, hits in the shared cache, fetches, waits, ...)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "connector_service_token_cache",
            "Access-token cache lookups and fetches, by result.",
            labels=["result"],
        )
        for result, count in sorted(self._metrics.token_counts().items()):
            family.add_metric([result], count)
        yield family


class CountingTokenCache:
    """A token cache that counts hits and misses, around the configured one. It forwards every
    other attribute (a shared cache's async and locking methods) unchanged."""

    def __init__(self, inner: TokenCache, metrics: Metrics) -> None:
        self._inner = inner
        self._counts: Counter_[str] = Counter_()
        metrics.token_counts = self.counts

    def get(self, key: str) -> AccessToken | None:
        token = self._inner.get(key)
        self._counts["hit" if token is not None and token.usable() else "miss"] += 1
        return token

    def set(self, key: str, token: AccessToken) -> None:
        self._counts["stored"] += 1
        self._inner.set(key, token)

    def counts(self) -> dict[str, int]:
        """This wrapper's hits, misses and stores, with the cache's own counts (a shared
        cache's hits across processes, fetches, waits) where it keeps them."""
        own = getattr(self._inner, "counts", None)
        return {**self._counts, **(own() if callable(own) else {})}

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return f"CountingTokenCache({self._inner!r})"
