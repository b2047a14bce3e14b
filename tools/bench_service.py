"""Benchmark: the service (`connector serve`, one uvicorn worker) against the embedded engine,
on the same local fake processor, in one run: operations per second per core, and p50/p99
latency. The aim (issue 10): the service adds at most 1 ms at p50 and sustains at least half of
the embedded engine's operations per second per core.

    python tools/bench_service.py [--json] [--quick]

The processor is tools/canned_server.py answering the recorded Stripe authorize (the same
fixture tools/bench.py uses), in its own process. The embedded engine is timed in this process
(AsyncClient, and Client for the sync latency); the service is driven by a load generator in
another process (a minimal keep-alive HTTP/1.1 client written for this bench, so that the
client's own cost stays small and out of the figures), one connection per call in flight.
The embedded engine runs on asyncio's own event loop, as a program embedding it would; the
service on uvloop, as `connector serve` runs it.

- latency: one call at a time, each timed from the request's first byte to the answer's last
  (for the service, as the caller sees it: the HTTP hop included); p50 and p99.
- throughput: `--concurrency` calls in flight; operations per wall-clock second, and per CPU
  second of the serving processes (this process for the embedded engine; the service process,
  with its threads and children, for the service: /proc/<pid>/stat). The per-core figure is the
  one that matters on a shared machine: wall-clock rates move with the other load on it.

Rounds alternate embedded and service so that machine noise hits both alike; each figure is
the best of its rounds (the least disturbed). Nothing here asserts a time: the aims are reported
as met or not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

#: The request both sides make (tools/bench.py's: the canned answer approves it).
REQUEST: dict[str, Any] = {
    "amount": 1099,
    "currency": "USD",
    "capture_method": "manual",
    "idempotency_key": "bench-1",
    "metadata": {"order": "A-1"},
    "payment_method": {
        "type": "card",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
    },
}
API_KEY = "svc_bench_key_0001"
PROFILE = "stripe-bench"
STRIPE_KEY = "sk_test_benchCannedServer"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- measuring ---------------------------------------------------------------------------------


def percentiles(latencies: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1000, 3), "p99_ms": round(cuts[98] * 1000, 3)}


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            continue
        found += [int(child) for child in text.split()]
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, its threads and its live descendants."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)"; fields 14 and 15 of stat
        total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        pending += _children(current)
    return total


def self_cpu_seconds() -> float:
    return time.process_time()


# --- the load generator (run in its own process: `--load URL`) --------------------------------


def http_request(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive connection of the load generator. A server may close a connection after
    some requests (hypercorn: after 1000, with `Connection: close`): it then reconnects, as an
    HTTP client does, and counts it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reconnects += 1
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        closing = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                closing = True
        body = await self.reader.readexactly(length)
        if closing:
            self.close()
        return status, body


async def drive(
    url: str,
    request: bytes,
    concurrency: int,
    count: int,
    warmup: int,
    go: Callable[[], Awaitable[None]],
) -> dict[str, Any]:
    """`count` calls over `concurrency` keep-alive connections, after `warmup` unmeasured
    ones per connection; `go` is awaited between the two (the CPU meter's start)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    connections = [Connection(parts.hostname, parts.port) for _ in range(concurrency)]
    for connection in connections:
        await connection.open()
    refused: list[str] = []

    async def once(connection: Connection) -> float:
        started = time.perf_counter()
        status, body = await connection.exchange(request)
        elapsed = time.perf_counter() - started
        if status != 200 or b'"status":"authorized"' not in body:
            refused.append(f"{status} {body[:300]!r}")
        return elapsed

    async def warm(connection: Connection) -> None:
        for _ in range(warmup):
            await once(connection)

    await asyncio.gather(*(warm(c) for c in connections))
    await go()
    latencies: list[float] = []
    share = count // concurrency

    async def work(connection: Connection) -> None:
        for _ in range(share):
            latencies.append(await once(connection))

    started = time.perf_counter()
    await asyncio.gather(*(work(c) for c in connections))
    wall = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return {
        "latencies": latencies,
        "wall_s": wall,
        "refused": refused[:3],
        "errors": len(refused),
        "reconnects": sum(c.reconnects for c in connections),
    }


def load_main(url: str, concurrency: int, count: int, warmup: int) -> int:
    """The load generator's process: the request's headers come as JSON on the first stdin
    line; prints `warm` when warmed up, waits for a line on stdin, then runs and prints JSON."""
    settings = json.loads(sys.stdin.readline())
    request = http_request(url, json.dumps(REQUEST).encode(), settings["headers"])

    async def go() -> None:
        print("warm", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    outcome = asyncio.run(drive(url, request, concurrency, count, warmup, go))
    print(json.dumps(outcome), flush=True)
    return 0


def load(
    url: str, headers: dict[str, str], pid: int, concurrency: int, count: int, warmup: int
) -> dict[str, Any]:
    """Run the load generator against `url` in another process; the CPU of process `pid` (and
    its descendants) is metered over the measured calls only."""
    generator = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--load",
            url,
            "--concurrency",
            str(concurrency),
            "--count",
            str(count),
            "--warmup",
            str(warmup),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert generator.stdin is not None and generator.stdout is not None
    try:
        generator.stdin.write(json.dumps({"headers": headers}) + "\n")
        generator.stdin.flush()
        if generator.stdout.readline().strip() != "warm":
            raise RuntimeError("the load generator failed before its measured calls")
        before = tree_cpu_seconds(pid)
        generator.stdin.write("go\n")
        generator.stdin.flush()
        line = generator.stdout.readline()
        cpu = tree_cpu_seconds(pid) - before
    finally:
        generator.stdin.close()
        generator.wait(timeout=60)
    if not line:
        raise RuntimeError(f"the load generator exited with {generator.returncode}")
    outcome: dict[str, Any] = json.loads(line)
    if outcome["errors"]:
        raise RuntimeError(f"{outcome['errors']} calls were not authorized: {outcome['refused']}")
    return {
        **summary(outcome["latencies"], outcome["wall_s"], cpu),
        "reconnects": outcome["reconnects"],
    }


def summary(latencies: list[float], wall: float, cpu: float) -> dict[str, Any]:
    ops = len(latencies)
    return {
        "ops": ops,
        "ops_s": round(ops / wall, 1),
        "cpu_s": round(cpu, 3),
        "ops_s_per_core": round(ops / cpu, 1) if cpu > 0 else None,
        **percentiles(latencies),
    }


# --- the embedded engine -----------------------------------------------------------------------


def embedded_async(url: str, concurrency: int, count: int, warmup: int) -> dict[str, Any]:
    """AsyncClient calls with `concurrency` in flight on one event loop, CPU of this process."""
    from engine import AsyncClient

    async def run() -> dict[str, Any]:
        async with AsyncClient(
            "stripe", {"api_key": STRIPE_KEY}, base_url=url, allow_undeclared_host=True
        ) as client:

            async def once() -> float:
                started = time.perf_counter()
                result = await client.authorize(REQUEST)
                elapsed = time.perf_counter() - started
                if result.status != "authorized":
                    raise RuntimeError(f"the embedded call was not authorized: {result}")
                return elapsed

            for _ in range(warmup):
                await asyncio.gather(*(once() for _ in range(concurrency)))
            latencies: list[float] = []

            async def work() -> None:
                for _ in range(count // concurrency):
                    latencies.append(await once())

            cpu, started = self_cpu_seconds(), time.perf_counter()
            await asyncio.gather(*(work() for _ in range(concurrency)))
            wall, cpu = time.perf_counter() - started, self_cpu_seconds() - cpu
            return summary(latencies, wall, cpu)

    return asyncio.run(run())


def embedded_sync(url: str, count: int, warmup: int) -> dict[str, Any]:
    """Client calls one at a time (the sync latency), CPU of this process."""
    from engine import Client

    with Client(
        "stripe", {"api_key": STRIPE_KEY}, base_url=url, allow_undeclared_host=True
    ) as client:
        for _ in range(warmup):
            client.authorize(REQUEST)
        latencies: list[float] = []
        cpu, started = self_cpu_seconds(), time.perf_counter()
        for _ in range(count):
            begun = time.perf_counter()
            result = client.authorize(REQUEST)
            latencies.append(time.perf_counter() - begun)
            if result.status != "authorized":
                raise RuntimeError(f"the embedded call was not authorized: {result}")
        wall, cpu = time.perf_counter() - started, self_cpu_seconds() - cpu
    return summary(latencies, wall, cpu)


# --- the service -------------------------------------------------------------------------------


def service_settings() -> dict[str, Any]:
    """The service's config for the bench: one key, one Stripe profile, test mode (the base URL
    of the canned processor comes per request, as X-Connector-Base-Url)."""
    return {
        "api_keys": [{"id": "bench", "key": API_KEY}],
        "profiles": {PROFILE: {"connector": "stripe", "credentials": {"api_key": STRIPE_KEY}}},
        "allow_base_url": True,
        "shutdown_grace": 5,
    }


def call_headers(processor_url: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {API_KEY}",
        "X-Connector-Profile": PROFILE,
        "X-Connector-Base-Url": processor_url,
    }


@contextmanager
def running_service() -> Iterator[tuple[str, int]]:
    """`connector serve` (tools/service_harness.py's start); yields its URL and pid."""
    import service_harness

    process, url, _log = service_harness.start_service(service_settings())
    try:
        yield url, process.pid
    finally:
        service_harness.stop_service(process)


@contextmanager
def canned_processor() -> Iterator[str]:
    """tools/canned_server.py answering the recorded Stripe authorize; yields its URL."""
    import bench

    scenario = bench.authorized_scenario("stripe")
    if scenario is None:
        raise RuntimeError("no approved Stripe authorize scenario in tests/connectors/stripe")
    with bench.canned_server(json.dumps(scenario["response"]["body"]).encode()) as url:
        yield url


# --- the run -----------------------------------------------------------------------------------


def measure(quick: bool, concurrency: int) -> dict[str, Any]:
    rounds, count, warmup = (1, 100, 10) if quick else (3, 2000, 100)
    latency: dict[str, list[dict[str, Any]]] = {"embedded_sync": [], "embedded": [], "service": []}
    load_runs: dict[str, list[dict[str, Any]]] = {"embedded": [], "service": []}
    with canned_processor() as processor, running_service() as (service_url, pid):
        endpoint = f"{service_url}/v1/stripe/authorize"
        headers = call_headers(processor)
        for _ in range(rounds):
            latency["embedded_sync"].append(embedded_sync(processor, count, warmup))
            latency["embedded"].append(embedded_async(processor, 1, count, warmup))
            latency["service"].append(load(endpoint, headers, pid, 1, count, warmup))
            load_runs["embedded"].append(
                {
                    **embedded_async(processor, concurrency, count, warmup),
                    "concurrency": concurrency,
                }
            )
            load_runs["service"].append(
                {
                    **load(endpoint, headers, pid, concurrency, count, warmup // concurrency + 1),
                    "concurrency": concurrency,
                }
            )
    one = {name: min(runs, key=lambda r: r["p50_ms"]) for name, runs in latency.items()}
    many = {
        name: max(runs, key=lambda r: r["ops_s_per_core"] or 0) for name, runs in load_runs.items()
    }
    added_p50 = round(one["service"]["p50_ms"] - one["embedded"]["p50_ms"], 3)
    per_core = many["service"]["ops_s_per_core"], many["embedded"]["ops_s_per_core"]
    ratio = round(per_core[0] / per_core[1], 3) if per_core[0] and per_core[1] else None
    return {
        "quick": quick,
        "rounds": rounds,
        "calls_per_round": count,
        "latency_one_in_flight": one,
        f"load_{concurrency}_in_flight": many,
        "service_added_p50_ms": added_p50,
        "service_ops_per_core_ratio": ratio,
        "aim_added_p50_ms_at_most": 1.0,
        "aim_ops_per_core_ratio_at_least": 0.5,
        "aims_met": {
            "added_p50": added_p50 <= 1.0,
            "ops_per_core": ratio is not None and ratio >= 0.5,
        },
    }


def report(figures: dict[str, Any], concurrency: int) -> str:
    lines = [
        "Stripe authorize against tools/canned_server.py "
        f"({figures['calls_per_round']} calls a round, best of {figures['rounds']})",
        "",
        "one call in flight           p50 ms    p99 ms",
    ]
    names = {
        "embedded_sync": "embedded Client",
        "embedded": "embedded AsyncClient",
        "service": "service (HTTP)",
    }
    for name, row in figures["latency_one_in_flight"].items():
        lines.append(f"  {names[name]:<24}{row['p50_ms']:>9.3f}{row['p99_ms']:>10.3f}")
    lines += [
        "",
        f"{concurrency} calls in flight          ops/s  ops/s/core    p50 ms    p99 ms",
    ]
    for name, row in figures[f"load_{concurrency}_in_flight"].items():
        lines.append(
            f"  {names[name]:<24}{row['ops_s']:>7.0f}{row['ops_s_per_core'] or 0:>12.0f}"
            f"{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}"
        )
    met = figures["aims_met"]
    lines += [
        "",
        f"the service adds {figures['service_added_p50_ms']:.3f} ms at p50 "
        f"(aim <= 1 ms: {'met' if met['added_p50'] else 'NOT met'})",
        f"the service sustains {figures['service_ops_per_core_ratio']}x the embedded engine's "
        f"ops/s per core (aim >= 0.5: {'met' if met['ops_per_core'] else 'NOT met'})",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="one short round (a smoke run)")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight under load")
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        return load_main(args.load, args.concurrency, args.count, args.warmup)
    figures = measure(args.quick, args.concurrency)
    print(json.dumps(figures, indent=2) if args.json else report(figures, args.concurrency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
