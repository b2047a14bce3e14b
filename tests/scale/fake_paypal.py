"""A fake PayPal on 127.0.0.1 in its own process: OAuth2 client credentials and Orders v2 card
payments, answering in the shapes of tests/connectors/paypal/scenarios; it counts every token
request per client id and every payment request per PayPal-Request-Id, so its counts are the
truth across every replica of the service.

    python tests/scale/fake_paypal.py --payment-delay 0.8:1.6 --token-delay 0.3

prints its port on the first line of stdout once it listens. `GET /_fake/state` answers the
counts (see `State.snapshot`). Payment answers wait a random time in the `--payment-delay`
range (seconds), so a replica killed mid-load holds calls the processor has already received.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN_PATH = "/v1/oauth2/token"
ORDERS_PATH = "/v2/checkout/orders"
STATE_PATH = "/_fake/state"


@dataclass
class State:
    token_delay: float
    payment_delay: tuple[float, float]
    tokens: Counter[str] = field(default_factory=Counter)  # client id → token requests
    issued: dict[str, str] = field(default_factory=dict)  # access token → client id
    payments: Counter[str] = field(default_factory=Counter)  # PayPal-Request-Id → requests
    #: PayPal-Request-Id → (the client id its bearer token was issued to, custom_id)
    payers: dict[str, tuple[str, str]] = field(default_factory=dict)
    held: int = 0  # payment requests received and not answered yet
    answered: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # why a payment request was refused
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def snapshot(self) -> dict[str, Any]:
        return {
            "tokens": dict(self.tokens),
            "payments": dict(self.payments),
            "payers": {key: list(value) for key, value in self.payers.items()},
            "held": self.held,
            "answered": self.answered,
            "refused": dict(self.refused),
        }


def _client_id(header: str) -> str | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = pair.partition(":")
    return client_id if colon and client_id and secret else None


def _problem(status: int, name: str, message: str) -> web.Response:
    # PayPal's error shape: {name, message, debug_id, details: [{issue, description}]}.
    body = {
        "name": name,
        "message": message,
        "debug_id": "f00dfeed0001",
        "details": [{"issue": name, "description": message}],
    }
    return web.json_response(body, status=status)


async def token(request: web.Request) -> web.Response:
    state: State = request.app["state"]
    client_id = _client_id(request.headers.get("Authorization", ""))
    form = await request.post()
    if client_id is None or form.get("grant_type") != "client_credentials":
        return web.json_response(
            {"error": "invalid_client", "error_description": "Client Authentication failed"},
            status=401,
        )
    state.tokens[client_id] += 1
    number = next(state.ids)
    access_token = f"A21AAFakeAccessToken{number:06d}"
    state.issued[access_token] = client_id
    await asyncio.sleep(state.token_delay)
    # The shape of PayPal's "Get an access token" response.
    return web.json_response(
        {
            "scope": "https://uri.paypal.com/services/payments/payment "
            "https://uri.paypal.com/services/payments/refund",
            "access_token": access_token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": 32400,
            "nonce": f"2026-01-01T00:00:00Z{number:06d}",
        }
    )


async def create_order(request: web.Request) -> web.Response:
    state: State = request.app["state"]
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
    payer = state.issued.get(bearer)
    if payer is None:
        state.refused["unknown token"] += 1
        return web.json_response(
            {"error": "invalid_token", "error_description": "Access Token not found in cache"},
            status=401,
        )
    key = request.headers.get("PayPal-Request-Id")
    if not key:
        state.refused["no PayPal-Request-Id"] += 1
        return _problem(400, "PAYPAL_REQUEST_ID_REQUIRED", "A PayPal-Request-Id is required.")
    body = await request.json()
    unit = body["purchase_units"][0]
    state.payments[key] += 1
    state.payers[key] = (payer, str(unit.get("custom_id")))
    state.held += 1
    try:
        await asyncio.sleep(random.uniform(*state.payment_delay))
        answer = _order(body, next(state.ids))
        state.answered += 1
        return web.json_response(answer, status=201)
    finally:
        state.held -= 1


def _order(body: dict[str, Any], number: int) -> dict[str, Any]:
    """A COMPLETED order holding a COMPLETED capture (intent CAPTURE) or a CREATED
    authorization (AUTHORIZE), as in PayPal's card-testing samples."""
    unit = body["purchase_units"][0]
    amount = unit["amount"]
    card = body["payment_source"]["card"]
    payment = {
        "id": f"PAY{number:014d}",
        "amount": amount,
        "custom_id": unit.get("custom_id"),
        "invoice_id": unit.get("invoice_id"),
        "network_transaction_reference": {"id": f"{563862185372910 + number}", "network": "VISA"},
        "seller_protection": {"status": "NOT_ELIGIBLE"},
        "processor_response": {"avs_code": "Y", "cvv_code": "M", "response_code": "0000"},
        "create_time": "2026-01-01T00:00:03Z",
        "update_time": "2026-01-01T00:00:03Z",
    }
    if body["intent"] == "CAPTURE":
        payments = {"captures": [{**payment, "status": "COMPLETED", "final_capture": True}]}
    else:
        payments = {"authorizations": [{**payment, "status": "CREATED"}]}
    order_id = f"ORD{number:014d}"
    return {
        "id": order_id,
        "intent": body["intent"],
        "status": "COMPLETED",
        "payment_source": {
            "card": {
                "name": card.get("name"),
                "last_digits": str(card["number"])[-4:],
                "expiry": card["expiry"],
                "brand": "VISA",
                "type": "CREDIT",
            }
        },
        "purchase_units": [
            {
                "reference_id": "default",
                "amount": amount,
                "payee": {"email_address": "merchant@example.com", "merchant_id": "C7CYMKZDG8D6E"},
                "custom_id": unit.get("custom_id"),
                "invoice_id": unit.get("invoice_id"),
                "payments": payments,
            }
        ],
        "create_time": "2026-01-01T00:00:02Z",
        "update_time": "2026-01-01T00:00:04Z",
        "links": [
            {
                "href": f"https://api.sandbox.paypal.com/v2/checkout/orders/{order_id}",
                "rel": "self",
                "method": "GET",
            }
        ],
    }


async def state_view(request: web.Request) -> web.Response:
    return web.json_response(request.app["state"].snapshot())


def application(state: State) -> web.Application:
    app = web.Application()
    app["state"] = state
    app.router.add_post(TOKEN_PATH, token)
    app.router.add_post(ORDERS_PATH, create_order)
    app.router.add_get(STATE_PATH, state_view)
    return app


def _range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(":")
    return float(low), float(high or low)


async def _serve(state: State) -> None:
    runner = web.AppRunner(application(state), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"port": port}), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--payment-delay", type=_range, default=(0.0, 0.0))
    args = parser.parse_args()
    state = State(token_delay=args.token_delay, payment_delay=args.payment_delay)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(state))


if __name__ == "__main__":
    main()
