"""Benchmark: build+parse per processor flow; the Stripe authorize against a hand-written
baseline; the engine's Stripe authorize over HTTP against the official `stripe` SDK making the
same call to the same local server (sync and async operations per second); import + load of
every bundled spec and resident memory after it. Ratios compare runs made in the same process
(the load and memory figures come from fresh interpreters, as a user's cold start would).

    python tools/bench.py [--json] [--quick]

Inputs are the scenario fixtures in tests/connectors/<id>/scenarios (the first 2xx scenario of
each flow), so the benchmark measures realistic requests and processor responses. The HTTP
comparison uses tools/canned_server.py (127.0.0.1, a separate process) answering the recorded
Stripe response.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import AsyncClient, Client, HttpResponse, Result, load_connector  # noqa: E402
from engine._spec import bundled_spec_paths  # noqa: E402

#: Run in a fresh interpreter: import the engine, load every bundled spec, report the time and
#: the resident set size (VmRSS) after loading.
_COLD_START = """
import time
t0 = time.perf_counter()
import engine
engine.bundled_connectors()
elapsed = (time.perf_counter() - t0) * 1000
rss = 0
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
print(elapsed, rss)
"""


def best_us(func: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Best-of-`repeat` microseconds per call (the least disturbed run)."""
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def scenarios(connector: str) -> dict[str, dict[str, Any]]:
    """The first scenario of each flow whose every answer is a 2xx body (the success path)."""
    found: dict[str, dict[str, Any]] = {}
    folder = ROOT / "tests" / "connectors" / connector / "scenarios"
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        answers = data.get("responses") or [data.get("response", {})]
        succeeded = "raises" not in data.get("expect", {}) and all(
            ("body" in a or "body_text" in a) and 200 <= a.get("status", 200) < 300 for a in answers
        )
        if succeeded:
            found.setdefault(data["flow"], data)
    return found


def authorized_scenario(connector: str) -> dict[str, Any] | None:
    """The first card authorize scenario the processor approved (manual capture)."""
    folder = ROOT / "tests" / "connectors" / connector / "scenarios"
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if data["flow"] == "authorize" and data.get("expect", {}).get("status") == "authorized":
            return data
    return None


def _http_answers(scenario: dict[str, Any]) -> list[HttpResponse]:
    answers = scenario.get("responses") or [scenario["response"]]
    return [
        HttpResponse(
            a.get("status", 200),
            {},
            a["body_text"].encode() if "body_text" in a else json.dumps(a["body"]).encode(),
        )
        for a in answers
    ]


def build_and_parse(
    connector: Any, flow: str, request: Any, creds: Any, answers: list[Any]
) -> None:
    """Every request of the flow built and every answer parsed, as the client would."""
    token = "bench-token" if connector.plan.auth.token else None
    steps: dict[str, Any] = {}
    for index, answer in enumerate(answers[:-1]):
        connector.build_request(flow, request, creds, step=index, steps=steps, access_token=token)
        name = connector.plan.flows[flow].steps[index].name
        steps[name] = connector.parse_step(flow, index, request, answer, steps=steps)
    connector.build_request(
        flow, request, creds, step=len(answers) - 1, steps=steps, access_token=token
    )
    connector.parse_response(flow, request, answers[-1], steps=steps or None)


def credentials(connector: str) -> dict[str, str]:
    path = ROOT / "tests" / "connectors" / connector / "credentials.json"
    return json.loads(path.read_text()) if path.exists() else {}


# --- the hand-written baseline: Stripe authorize, as a careful engineer would write it directly


def handwritten_body(request: dict[str, Any]) -> bytes:
    card = request["payment_method"].get("card")
    params: list[tuple[str, str]] = [
        ("amount", str(request["amount"])),
        ("currency", request["currency"].lower()),
        ("capture_method", request.get("capture_method", "automatic")),
        ("confirm", "true"),
        ("payment_method_types[0]", "card"),
        ("expand[0]", "latest_charge"),
    ]
    if card:
        params += [
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][number]", card["number"]),
            ("payment_method_data[card][exp_month]", str(card["exp_month"])),
            ("payment_method_data[card][exp_year]", str(card["exp_year"])),
            ("payment_method_data[card][cvc]", card["cvc"]),
        ]
    else:
        params.append(("payment_method", request["payment_method"]["token"]))
    for key, value in (request.get("metadata") or {}).items():
        params.append((f"metadata[{key}]", value))
    encoded = urlencode(params).encode()
    return encoded


def handwritten_stripe_authorize(request: dict[str, Any], api_key: str, body: bytes) -> Result:
    encoded = handwritten_body(request)
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Stripe-Version": "2023-08-16",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    if request.get("idempotency_key"):
        headers["Idempotency-Key"] = request["idempotency_key"]
    assert encoded and headers
    data = json.loads(body)
    status = {
        "requires_capture": "authorized",
        "succeeded": "captured",
        "requires_action": "requires_action",
        "processing": "pending",
        "canceled": "voided",
        "requires_payment_method": "failed",
    }.get(data.get("status"), "unresolved")
    return Result(
        flow="authorize",
        connector="stripe",
        status=status,
        connector_status=data.get("status"),
        connector_transaction_id=data.get("id"),
        amount=data.get("amount"),
        currency=(data.get("currency") or "").upper() or None,
        http_status=200,
        idempotency_key=request.get("idempotency_key"),
    )


def cold_start(runs: int) -> tuple[float, float]:
    """Best import + load time (ms) over fresh interpreters, and the RSS (MB) after it."""
    best = (float("inf"), 0.0)
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _COLD_START], capture_output=True, text=True, check=True
        ).stdout.split()
        best = min(best, (float(out[0]), float(out[1])))
    return best


@contextmanager
def canned_server(body: bytes) -> Iterator[str]:
    """tools/canned_server.py in its own process, answering `body`; yields its base URL."""
    with tempfile.NamedTemporaryFile(suffix=".json") as file:
        file.write(body)
        file.flush()
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "canned_server.py"), file.name],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            yield f"http://127.0.0.1:{int(server.stdout.readline())}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def ops_per_second(call: Callable[[], object], number: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, time.perf_counter() - start)
    return number / best


def async_ops_per_second(
    call: Callable[[], Awaitable[object]], number: int, rounds: int, concurrency: int = 4
) -> float:
    """Operations per second with `concurrency` calls in flight on one event loop."""

    async def run() -> float:
        async def worker(count: int) -> None:
            for _ in range(count):
                await call()

        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            await asyncio.gather(*(worker(number // concurrency) for _ in range(concurrency)))
            best = min(best, time.perf_counter() - start)
        return (number // concurrency * concurrency) / best

    return asyncio.run(run())


def sdk_comparison(
    request: dict[str, Any], api_key: str, body: bytes, quick: bool
) -> dict[str, float]:
    """The engine's Stripe authorize (Client / AsyncClient over httpx) against the official SDK
    making the same PaymentIntent call (sync: its default HTTP client; async: its httpx client),
    both against one canned_server answering the recorded response."""
    import stripe  # a dev dependency; imported here so the rest of the bench runs without it

    card = request["payment_method"]["card"]
    params: Any = {  # the SDK's TypedDict; built from the same request as the engine's
        "amount": request["amount"],
        "currency": request["currency"].lower(),
        "capture_method": request["capture_method"],
        "confirm": True,
        "payment_method_types": ["card"],
        "expand": ["latest_charge"],
        "payment_method_data": {"type": "card", "card": dict(card)},
        "metadata": request["metadata"],
    }
    options: Any = {"idempotency_key": request["idempotency_key"]}
    number, rounds = (100, 3) if quick else (1000, 5)
    with canned_server(body) as url:
        sdk = stripe.StripeClient(api_key, base_addresses={"api": url}, max_network_retries=0)
        sdk_async = stripe.StripeClient(
            api_key,
            base_addresses={"api": url},
            max_network_retries=0,
            http_client=stripe.HTTPXClient(),
        )
        with Client(
            "stripe", {"api_key": api_key}, base_url=url, allow_undeclared_host=True
        ) as engine_client:
            first = engine_client.authorize(request)
            assert first.status == "authorized", first
            assert sdk.v1.payment_intents.create(params, options).status == "requires_capture"
            engine_sync = sdk_sync = 0.0
            for _ in range(2):  # interleaved, so machine noise hits both alike
                engine_sync = max(
                    engine_sync,
                    ops_per_second(lambda: engine_client.authorize(request), number, rounds),
                )
                sdk_sync = max(
                    sdk_sync,
                    ops_per_second(
                        lambda: sdk.v1.payment_intents.create(params, options), number, rounds
                    ),
                )

        async def engine_once(holder: list[AsyncClient]) -> object:
            return await holder[0].authorize(request)

        holder: list[AsyncClient] = []

        async def engine_call() -> object:
            if not holder:
                holder.append(
                    AsyncClient(
                        "stripe", {"api_key": api_key}, base_url=url, allow_undeclared_host=True
                    )
                )
            return await engine_once(holder)

        engine_async = async_ops_per_second(engine_call, number, rounds)
        sdk_async_ops = async_ops_per_second(
            lambda: sdk_async.v1.payment_intents.create_async(params, options), number, rounds
        )
    return {
        "engine_sync_ops_s": round(engine_sync, 1),
        "sdk_sync_ops_s": round(sdk_sync, 1),
        "sdk_ratio": round(engine_sync / sdk_sync, 2),
        "engine_async_ops_s": round(engine_async, 1),
        "sdk_async_ops_s": round(sdk_async_ops, 1),
        "sdk_async_ratio": round(engine_async / sdk_async_ops, 2),
    }


def measure(quick: bool) -> dict[str, Any]:
    number = 200 if quick else 2000
    load_ms, rss_mb = cold_start(3 if quick else 7)

    flows: dict[str, dict[str, float]] = {}
    for path in bundled_spec_paths():
        connector = load_connector(path.stem)
        creds = credentials(connector.id)
        for flow, scenario in scenarios(connector.id).items():
            request = scenario["request"]
            answers = _http_answers(scenario)

            def run(
                c: Any = connector,
                f: str = flow,
                r: Any = request,
                a: Any = answers,
                k: Any = creds,
            ) -> None:
                build_and_parse(c, f, r, k, a)

            flows.setdefault(connector.id, {})[flow] = best_us(run, number)

    figures: dict[str, Any] = {
        "load_ms": round(load_ms, 1),
        "rss_mb": round(rss_mb, 1),
        "flows_us": flows,
    }
    stripe = authorized_scenario("stripe")
    if stripe is not None:
        connector = load_connector("stripe")
        creds = credentials("stripe")
        # The request the hand-written version handles (card, capture method, metadata, key); the
        # two must send the same bytes, or the comparison would flatter one of them.
        request = {
            "amount": 1099,
            "currency": "USD",
            "capture_method": "manual",
            "idempotency_key": "bench-1",
            "metadata": {"order": "A-1"},
            "payment_method": {
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            },
        }
        body = json.dumps(stripe["response"]["body"]).encode()
        response = HttpResponse(200, {}, body)
        built = connector.build_request("authorize", request, creds)
        assert built.body == handwritten_body(request), "the baseline must send the same body"

        def engine_run() -> None:
            connector.build_request("authorize", request, creds)
            connector.parse_response("authorize", request, response)

        def hand_run() -> None:
            handwritten_stripe_authorize(request, creds["api_key"], body)

        # Alternate the two, round by round, so machine noise hits both alike; best of each.
        engine_us = hand_us = float("inf")
        for _ in range(7):
            engine_us = min(engine_us, best_us(engine_run, number, 1))
            hand_us = min(hand_us, best_us(hand_run, number, 1))
        figures.update(
            {
                "stripe_authorize_engine_us": round(engine_us, 2),
                "stripe_authorize_handwritten_us": round(hand_us, 2),
                "handwritten_ratio": round(engine_us / hand_us, 2),
            }
        )
        figures.update(sdk_comparison(request, creds["api_key"], body, quick))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    figures = measure(args.quick)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"import + load of all bundled specs (fresh interpreter): {figures['load_ms']:.1f} ms; "
        f"resident memory after: {figures['rss_mb']:.1f} MB"
    )
    print(f"{'connector':<14}{'flow':<20}{'build+parse µs/op':>18}")
    for connector, flows in figures["flows_us"].items():
        for flow, micros in flows.items():
            print(f"{connector:<14}{flow:<20}{micros:>18.1f}")
    if "handwritten_ratio" in figures:
        print(
            "\nStripe authorize build+parse: "
            f"engine {figures['stripe_authorize_engine_us']:.1f} µs, "
            f"hand-written {figures['stripe_authorize_handwritten_us']:.1f} µs, "
            f"ratio {figures['handwritten_ratio']:.2f}x"
        )
        print(
            "Stripe authorize over HTTP, same local server: "
            f"engine {figures['engine_sync_ops_s']:.0f} ops/s vs stripe SDK "
            f"{figures['sdk_sync_ops_s']:.0f} ops/s (sync, ratio {figures['sdk_ratio']:.2f}x); "
            f"async {figures['engine_async_ops_s']:.0f} vs {figures['sdk_async_ops_s']:.0f} "
            f"ops/s (ratio {figures['sdk_async_ratio']:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
