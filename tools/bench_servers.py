"""Which ASGI server runs the service best, by measurement: uvicorn (uvloop + httptools, what
`connector serve` runs), granian and hypercorn, each serving the same app (engine.service's
create_app, one worker) with the same config, under the same load as tools/bench_service.py
(its load generator, one call at a time for latency, then `--concurrency` in flight), against
the same canned Stripe processor (tools/canned_server.py).

    python tools/bench_servers.py [--json] [--quick] [--concurrency 16]

A server that is not installed is skipped, and said so (install granian and hypercorn to
compare: they are not dependencies of the project). Reported per server: ops/s, ops/s per
core (CPU of the server's processes: /proc), p50/p99 latency. Rounds alternate the servers so
that machine noise hits them alike; each figure is the best of its rounds. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
CONFIG_ENV = "BENCH_SERVERS_CONFIG"


def app() -> Any:
    """The ASGI app each server imports (`bench_servers:app`, a factory): the service, its JSON
    logs configured as `connector serve` does, from the config file in $BENCH_SERVERS_CONFIG."""
    sys.path.insert(0, str(ROOT))
    from engine.service import create_app, load_config
    from engine.service._logs import configure

    config = load_config(os.environ[CONFIG_ENV])
    configure(config.log_level)
    return create_app(config)


def _command(server: str, port: int) -> list[str]:
    python = sys.executable
    if server == "uvicorn":
        return [
            python, "-m", "uvicorn", "bench_servers:app", "--factory",
            "--host", "127.0.0.1", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--lifespan", "on",
            "--no-access-log", "--log-level", "warning", "--no-server-header",
        ]  # fmt: skip
    if server == "granian":
        return [
            python, "-m", "granian", "bench_servers:app", "--factory",
            "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--loop", "uvloop", "--http", "1",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    if server == "hypercorn":
        return [
            python, "-m", "hypercorn", "bench_servers:app()",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "uvloop",
            "--log-level", "warning",
        ]  # fmt: skip
    raise ValueError(server)


SERVERS = ("uvicorn", "granian", "hypercorn")


def installed(server: str) -> bool:
    return importlib.util.find_spec(server) is not None


@contextlib.contextmanager
def serving(server: str, config_file: Path) -> Iterator[tuple[str, int]]:
    """`server` serving the app on a free loopback port; yields its URL and pid once /readyz
    answers."""
    import localstripe_server

    port = localstripe_server.free_port()
    env = {
        **os.environ,
        CONFIG_ENV: str(config_file),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TOOLS), os.environ.get("PYTHONPATH")])),
    }
    log_file = config_file.with_name(f"{server}.log")
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            _command(server, port), cwd=TOOLS, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{server} exited: {log_file.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server} did not get ready: {log_file.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(quick: bool, concurrency: int) -> dict[str, Any]:
    import bench_service

    rounds, count, warmup = (1, 200, 20) if quick else (3, 2000, 100)
    available = [s for s in SERVERS if installed(s)]
    skipped = [s for s in SERVERS if s not in available]
    for server in skipped:
        print(f"{server} is not installed: skipped", file=sys.stderr)
    latency: dict[str, list[dict[str, Any]]] = {s: [] for s in available}
    loaded: dict[str, list[dict[str, Any]]] = {s: [] for s in available}
    with tempfile.TemporaryDirectory() as folder, bench_service.canned_processor() as processor:
        config_file = Path(folder) / "service.json"
        config_file.write_text(json.dumps(bench_service.service_settings()), encoding="utf-8")
        headers = bench_service.call_headers(processor)
        for _ in range(rounds):
            for server in available:
                with serving(server, config_file) as (url, pid):
                    endpoint = f"{url}/v1/stripe/authorize"
                    latency[server].append(
                        bench_service.load(endpoint, headers, pid, 1, count, warmup)
                    )
                    loaded[server].append(
                        bench_service.load(
                            endpoint, headers, pid, concurrency, count, warmup // concurrency + 1
                        )
                    )
    return {
        "quick": quick,
        "rounds": rounds,
        "calls_per_round": count,
        "concurrency": concurrency,
        "skipped": skipped,
        "servers": {
            server: {
                "one_in_flight": min(latency[server], key=lambda r: r["p50_ms"]),
                "loaded": max(loaded[server], key=lambda r: r["ops_s_per_core"] or 0),
            }
            for server in available
        },
    }


def report(figures: dict[str, Any]) -> str:
    lines = [
        "the service's Stripe authorize against tools/canned_server.py, one worker "
        f"({figures['calls_per_round']} calls a round, best of {figures['rounds']})",
        "",
        f"{'':12}{'one call in flight':>22}   {figures['concurrency']} calls in flight",
        f"{'server':<12}{'p50 ms':>10}{'p99 ms':>10}   {'ops/s':>7}{'ops/s/core':>12}"
        f"{'p50 ms':>10}{'p99 ms':>10}",
    ]
    for server, row in figures["servers"].items():
        one, loaded = row["one_in_flight"], row["loaded"]
        lines.append(
            f"{server:<12}{one['p50_ms']:>10.3f}{one['p99_ms']:>10.3f}   {loaded['ops_s']:>7.0f}"
            f"{loaded['ops_s_per_core'] or 0:>12.0f}{loaded['p50_ms']:>10.3f}"
            f"{loaded['p99_ms']:>10.3f}"
        )
    for server in figures["skipped"]:
        lines.append(f"{server:<12}not installed: skipped")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight under load")
    args = parser.parse_args()
    sys.path.insert(0, str(TOOLS))
    figures = measure(args.quick, args.concurrency)
    print(json.dumps(figures, indent=2) if args.json else report(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
