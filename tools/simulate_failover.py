"""A failover simulation on loopback: thousands of payments from a seeded generator, routed over
three fake Stripe-shaped processors that fail in the three ways that matter —

    down     refuses connections (nothing is ever sent to it)
    flaky    answers 503 before processing, for a share of its payments
    slow     receives the payment, then never answers in time, for a share of its payments

— and counted on both sides: what the router reported, and what each processor received.

    python tools/simulate_failover.py [--payments 2000] [--seed 7] [--json]

The money-safety figure is `sent_to_two_after_uncertain`: payments that reached a second
processor after the first may have acted. It must be 0; the simulation exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Client, Limits, NotSentError  # noqa: E402
from engine.routing import Router  # noqa: E402

SCENARIOS = ROOT / "tests" / "connectors" / "stripe" / "scenarios"


def _answer(name: str) -> bytes:
    recorded = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text(encoding="utf-8"))
    return json.dumps(recorded["response"]["body"]).encode()


class Processor:
    """A fake processor: answers the recorded Stripe capture, a 503 before processing, or
    nothing in time, as its mode and seeded dice say; records each payment's reference."""

    def __init__(self, name: str, mode: str, failure_share: float, seed: int) -> None:
        self.name, self.mode, self.share = name, mode, failure_share
        self.dice = random.Random(seed)
        self.received: Counter[str] = Counter()
        self.processed: Counter[str] = Counter()  # payments it may have acted on
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, reference: str) -> tuple[int, bytes, float]:
        with self.lock:
            self.received[reference] += 1
            fails = self.dice.random() < self.share
            if not (fails and self.mode == "flaky"):
                self.processed[reference] += 1
        if fails and self.mode == "flaky":
            error = {"error": {"type": "api_error", "message": "Service unavailable"}}
            return 503, json.dumps(error).encode(), 0.0
        if fails and self.mode == "slow":
            return 200, CAPTURED, 0.3  # the payment is taken; the answer comes too late
        return 200, CAPTURED, 0.0


CAPTURED = _answer("authorize_card_automatic_captured")


@contextmanager
def serving(processor: Processor) -> Iterator[None]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            form = parse_qs(body.decode())
            reference = (form.get("metadata[reference]") or form.get("description") or ["?"])[0]
            status, answer, delay = processor.handle(reference)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    processor.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


RULES = {
    "routing_version": 1,
    "profiles": {
        "down": {"connector": "stripe", "cost": {"default": {"percent": 1.0, "fixed": 5}}},
        "flaky": {"connector": "stripe", "cost": {"default": {"percent": 1.8, "fixed": 10}}},
        "slow": {"connector": "stripe", "cost": {"default": {"percent": 2.4, "fixed": 20}}},
    },
    "rules": [
        {
            "name": "eur-split",
            "when": {"currency": ["EUR"]},
            "split": {"down": 50, "flaky": 30, "slow": 20},
        },
    ],
    "default": {"candidates": ["down", "flaky", "slow"], "order": "cheapest"},
    "health": {"consecutive_failures": 5, "open_seconds": 0.5},
}


def simulate(payments: int, seed: int, workers: int = 8) -> dict[str, Any]:
    dice = random.Random(seed)
    processors = {
        "flaky": Processor("flaky", "flaky", 0.15, seed + 1),
        "slow": Processor("slow", "slow", 0.10, seed + 2),
    }
    with serving(processors["flaky"]), serving(processors["slow"]):
        urls = {"down": _closed_port(), **{n: p.url for n, p in processors.items()}}
        limits = Limits(connect_timeout=0.5, read_timeout=0.1, total_timeout=2.0)
        clients = {
            name: Client(
                "stripe",
                {"api_key": f"sk_test_51Sim{name.title()}000000000"},
                base_url=url,
                allow_undeclared_host=True,
                limits=limits,
            )
            for name, url in urls.items()
        }
        router = Router(RULES, clients)
        outcomes: Counter[str] = Counter()
        answered_by: Counter[str] = Counter()
        recovered = unresolved = 0
        first_uncertain: dict[str, str] = {}
        started = time.perf_counter()
        requests = [
            {
                "amount": dice.randrange(100, 50_000),
                "currency": dice.choice(["USD", "EUR"]),
                "reference": f"sim-{seed}-{index}",
                "description": f"sim-{seed}-{index}",
                "payment_method": {"type": "token", "token": "pm_card_visa"},
            }
            for index in range(payments)
        ]
        lock = threading.Lock()

        def pay(request: dict[str, Any]) -> None:
            nonlocal recovered, unresolved
            try:
                result = router.authorize(request)
            except NotSentError:
                with lock:
                    outcomes["not_sent"] += 1
                return
            assert result.routing is not None
            moved = any(a.outcome in ("not_sent", "circuit_open") for a in result.routing.attempts)
            with lock:
                outcomes[result.status] += 1
                answered_by[result.routing.profile or "-"] += 1
                if moved and result.status == "captured":
                    recovered += 1
                if result.status == "unresolved":
                    unresolved += 1
                    first_uncertain[request["reference"]] = result.routing.profile or "-"

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(pay, requests))
        elapsed = time.perf_counter() - started
        for client in clients.values():
            client.close()
    reached: dict[str, set[str]] = defaultdict(set)
    for name, processor in processors.items():
        for reference in processor.received:
            reached[reference].add(name)
    twice = sum(1 for names in reached.values() if len(names) > 1)
    after_uncertain = sum(
        1 for ref, holder in first_uncertain.items() if reached.get(ref, set()) - {holder}
    )
    return {
        "payments": payments,
        "seed": seed,
        "outcomes": dict(outcomes),
        "answered_by": dict(answered_by),
        "recovered_by_failover": recovered,
        "left_unresolved": unresolved,
        "received": {n: sum(p.received.values()) for n, p in processors.items()},
        "payments_reaching_two_processors": twice,
        "sent_to_two_after_uncertain": after_uncertain,
        "seconds": round(elapsed, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = simulate(args.payments, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:34} {value}")
    return 0 if report["sent_to_two_after_uncertain"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
