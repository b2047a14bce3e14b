"""The demo: lint every bundled spec, then run a real payment through the Stripe spec against
localstripe (a fake Stripe server) on 127.0.0.1: authorize (manual capture) → partial capture →
partial refund → status sync. Prints each unified result.

    python tools/demo.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import localstripe_server  # noqa: E402

from engine import Client, lint_file  # noqa: E402
from engine._spec import bundled_spec_paths  # noqa: E402

API_KEY = "sk_test_demoLocalstripe"


def show(step: str, result: object) -> None:
    fields = {k: v for k, v in result.to_dict().items() if v is not None}  # type: ignore[attr-defined]
    print(f"\n== {step}")
    for key, value in fields.items():
        print(f"   {key}: {value}")


def main() -> int:
    paths = bundled_spec_paths()
    problems = [p for path in paths for p in lint_file(path)]
    for problem in problems:
        print(problem.format())
    print(f"lint: {len(paths)} spec(s), {len(problems)} problem(s)")
    if problems:
        return 1

    process, base_url = localstripe_server.start()
    try:
        # The customer's browser tokenizes the card with Stripe.js; here we do it directly.
        pm = httpx.post(
            f"{base_url}/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": "4242424242424242",
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
            auth=(API_KEY, ""),
        ).json()["id"]
        with Client(
            "stripe", {"api_key": API_KEY}, base_url=base_url, allow_undeclared_host=True
        ) as client:
            auth = client.authorize(
                {
                    "amount": 4999,
                    "currency": "EUR",
                    "capture_method": "manual",
                    "payment_method": {"type": "token", "token": pm},
                    "reference": "order-1001",
                    "metadata": {"cart": "3 items"},
                }
            )
            show("authorize (manual capture)", auth)
            payment = auth.connector_transaction_id
            show(
                "capture 40.00 of 49.99",
                client.capture(
                    {"connector_transaction_id": payment, "amount": 4000, "currency": "EUR"}
                ),
            )
            show(
                "refund 15.00",
                client.refund(
                    {"connector_transaction_id": payment, "amount": 1500, "currency": "EUR"}
                ),
            )
            final = client.get({"connector_transaction_id": payment})
            show("get (status sync)", final)
        ok = auth.status == "authorized" and final.status == "captured"
        print("\ndemo:", "OK" if ok else "UNEXPECTED RESULT")
        return 0 if ok else 1
    finally:
        localstripe_server.stop(process)


if __name__ == "__main__":
    raise SystemExit(main())
