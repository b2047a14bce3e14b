"""Benchmark: build+parse per processor flow, against a hand-written Stripe authorize, and the
time to load and compile every bundled spec. All figures come from one run in one process.

    python tools/bench.py [--json] [--quick]

Inputs are the scenario fixtures in tests/connectors/<id>/scenarios (the first 2xx scenario of
each flow), so the benchmark measures realistic requests and processor responses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import HttpResponse, Result, load_connector  # noqa: E402
from engine._spec import bundled_spec_paths, compile_file  # noqa: E402


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


def measure(quick: bool) -> dict[str, Any]:
    number = 200 if quick else 2000
    t0 = time.perf_counter()
    for path in bundled_spec_paths():
        compile_file(path)
    load_ms = (time.perf_counter() - t0) * 1000

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

    figures: dict[str, Any] = {"load_ms": round(load_ms, 2), "flows_us": flows}
    stripe = scenarios("stripe").get("authorize")
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

        # Interleave the two so machine noise hits both alike.
        engine_us = min(best_us(engine_run, number, 1) for _ in range(5))
        hand_us = min(best_us(hand_run, number, 1) for _ in range(5))
        figures.update(
            {
                "stripe_authorize_engine_us": round(engine_us, 2),
                "stripe_authorize_handwritten_us": round(hand_us, 2),
                "handwritten_ratio": round(engine_us / hand_us, 2),
            }
        )
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
    print(f"load + compile all bundled specs: {figures['load_ms']:.1f} ms")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
