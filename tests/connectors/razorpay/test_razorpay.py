"""Razorpay-specific checks.

Razorpay publishes no OpenAPI description, so the request schemas below are written by hand from
Razorpay's API reference, one per endpoint, with the page each one follows (read from the
Markdown copy of razorpay.com/docs in razorpay/razorpay-php-testapp, branch markdown-docs,
llm-content/…, 2026-03-24). Razorpay refuses fields it does not know ("{any Extra field} is/are
not required and should not be sent"), so every schema is closed (additionalProperties: false).

- every request the spec builds for a scenario (each step of a multi-request flow included) is
  checked against the schema of its endpoint, path ids against Razorpay's id format;
- the schemas can fail: deliberately broken bodies are rejected;
- the processor answers in the fixtures are checked against the documented entities (order,
  payment, refund, error), so a fixture cannot drift into a shape that only agrees with the spec;
- webhook fixture signatures are recomputed with hmac/hashlib, independently of the engine, and
  with the official SDK's Utility.verify_webhook_signature (razorpay is a dev dependency).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from engine import HttpRequest, HttpResponse, load_connector

from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
CREDENTIALS = credentials_for("razorpay")
SCENARIOS = fixtures_of("razorpay", "scenarios")
WEBHOOKS = fixtures_of("razorpay", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
DOCS = "https://razorpay.com/docs"

NOTES: dict[str, Any] = {
    # "Key-value pair … Maximum 15 key-value pairs, 256 characters (maximum) each."
    "type": "object",
    "maxProperties": 15,
    "additionalProperties": {"type": ["string", "number"], "maxLength": 256},
}
AMOUNT: dict[str, Any] = {"type": "integer", "minimum": 1}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}

#: "METHOD /path" → {"doc": the page it follows, "id": path id pattern, "body": schema or None}.
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /v1/orders": {
        "doc": f"{DOCS}/api/orders/create/ and {DOCS}/api/payments/recurring-payments/"
        "(payment_capture)",
        "body": {
            "type": "object",
            "additionalProperties": False,
            "required": ["amount", "currency"],
            "properties": {
                "amount": AMOUNT,
                "currency": CURRENCY,
                # "Can have a maximum length of 40 characters and has to be unique."
                "receipt": {"type": "string", "maxLength": 40},
                "notes": NOTES,
                "partial_payment": {"type": "boolean"},
                "first_payment_min_amount": {"type": "integer"},
                # "Determines whether the payment status should be changed to captured
                # automatically or not" (true / false).
                "payment_capture": {"type": "boolean"},
            },
        },
    },
    "POST /v1/payments/create/json": {
        "doc": f"{DOCS}/payments/payment-gateway/s2s-integration/json/v2/build-integration/cards/"
        " (1.2 Create a Payment) and …/json/v2/build-integration/upi/collect/",
        "body": {
            "type": "object",
            "additionalProperties": False,
            "required": ["amount", "currency", "order_id", "email", "contact", "method", "ip"],
            "properties": {
                "amount": AMOUNT,
                "currency": CURRENCY,
                "order_id": {"type": "string", "pattern": "^order_[A-Za-z0-9]{14}$"},
                # "The maximum length supported is 40 characters."
                "email": {"type": "string", "maxLength": 40, "pattern": "^[^@\\s]+@[^@\\s]+$"},
                # "The maximum length supported is 15 characters, inclusive of country code."
                "contact": {"type": "string", "maxLength": 15, "pattern": "^\\+?[0-9]+$"},
                "method": {"enum": ["card", "upi"]},
                "card": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["number", "expiry_month", "expiry_year"],
                    "properties": {
                        "number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
                        "name": {"type": "string"},
                        # "Expiry month for the card in MM format", "… year … in YY format".
                        "expiry_month": {"type": "string", "pattern": "^(0[1-9]|1[0-2])$"},
                        "expiry_year": {"type": "string", "pattern": "^[0-9]{2}$"},
                        "cvv": {"type": "string", "pattern": "^[0-9]{3,4}$"},
                    },
                },
                "authentication": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"authentication_channel": {"enum": ["browser", "app"]}},
                },
                "browser": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "java_enabled": {"type": "boolean"},
                        "javascript_enabled": {"type": "boolean"},
                        "timezone_offset": {"type": "integer"},
                        "screen_width": {"type": "integer"},
                        "screen_height": {"type": "integer"},
                        "color_depth": {"type": "integer"},
                        "language": {"type": "string", "maxLength": 8},
                    },
                },
                "upi": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["flow"],
                    "properties": {
                        "flow": {"enum": ["collect", "intent"]},
                        "vpa": {"type": "string", "pattern": "^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+$"},
                        "expiry_time": {"type": "integer", "minimum": 1, "maximum": 5760},
                    },
                },
                "ip": {"type": "string", "format": "ipv4"},
                "referer": {"type": "string"},
                "user_agent": {"type": "string"},
                "callback_url": {"type": "string", "format": "uri"},
                "description": {"type": "string"},
                "notes": NOTES,
            },
            "allOf": [
                {
                    "if": {"properties": {"method": {"const": "card"}}},
                    "then": {"required": ["card", "browser"], "not": {"required": ["upi"]}},
                },
                {
                    "if": {"properties": {"method": {"const": "upi"}}},
                    "then": {
                        "required": ["upi"],
                        # collect names the payer's VPA; intent none ("upi.flow … the value
                        # must be intent", …/upi/intent: no vpa among its parameters).
                        "properties": {
                            "upi": {
                                "if": {"properties": {"flow": {"const": "collect"}}},
                                "then": {"required": ["flow", "vpa"]},
                                "else": {"not": {"required": ["vpa"]}},
                            }
                        },
                        "not": {
                            "anyOf": [
                                {"required": ["card"]},
                                {"required": ["browser"]},
                                {"required": ["authentication"]},
                            ]
                        },
                    },
                },
            ],
        },
    },
    # "Create Subsequent Payments" (recurring-payments, S2S): all eight mandatory fields.
    "POST /v1/payments/create/recurring": {
        "doc": f"{DOCS}/api/payments/recurring-payments/ (Create Subsequent Payments)",
        "body": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "email",
                "contact",
                "amount",
                "currency",
                "order_id",
                "customer_id",
                "token",
                "recurring",
            ],
            "properties": {
                "email": {"type": "string", "maxLength": 40, "pattern": "^[^@\\s]+@[^@\\s]+$"},
                "contact": {"type": "string", "maxLength": 15, "pattern": "^\\+?[0-9]+$"},
                "amount": AMOUNT,
                "currency": CURRENCY,
                "order_id": {"type": "string", "pattern": "^order_[A-Za-z0-9]{14}$"},
                "customer_id": {"type": "string", "pattern": "^cust_[A-Za-z0-9]{14}$"},
                "token": {"type": "string", "pattern": "^token_[A-Za-z0-9]{14}$"},
                "recurring": {"enum": ["1", True]},
                "description": {"type": "string"},
                "notes": NOTES,
            },
        },
    },
    "POST /v1/payments/{id}/capture": {
        "doc": f"{DOCS}/api/payments/capture/",
        "id": "^pay_[A-Za-z0-9]{14}$",
        "body": {
            "type": "object",
            "additionalProperties": False,
            "required": ["amount", "currency"],
            "properties": {"amount": AMOUNT, "currency": CURRENCY},
        },
    },
    "POST /v1/payments/{id}/refund": {
        "doc": f"{DOCS}/api/refunds/create-normal/",
        "id": "^pay_[A-Za-z0-9]{14}$",
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "amount": AMOUNT,
                "speed": {"enum": ["normal", "optimum"]},
                "notes": NOTES,
                "receipt": {"type": "string"},
            },
        },
    },
    # find: "Fetch Orders (With Expanded Payments)": query receipt, expand[]=payments, count
    # (at most 100), from/to (Unix seconds); no body.
    "GET /v1/orders": {
        "doc": f"{DOCS}/api/orders/fetch-all/ and {DOCS}/api/orders/fetch-expanded-payments/",
        "body": None,
    },
    "GET /v1/payments/{id}": {
        "doc": f"{DOCS}/api/payments/fetch-with-id/",
        "id": "^pay_[A-Za-z0-9]{14}$",
        "body": None,
    },
    "GET /v1/refunds/{id}": {
        "doc": f"{DOCS}/api/refunds/fetch-with-id/",
        "id": "^rfnd_[A-Za-z0-9]{14}$",
        "body": None,
    },
    "GET /v1/disputes/{id}": {
        "doc": f"{DOCS}/api/disputes/fetch-with-id/",
        "id": "^disp_[A-Za-z0-9]{14}$",
        "body": None,
    },
    # "Accept a Dispute": no request body.
    "POST /v1/disputes/{id}/accept": {
        "doc": f"{DOCS}/api/disputes/accept/",
        "id": "^disp_[A-Za-z0-9]{14}$",
        "body": None,
    },
}

#: The documented entities the fixtures' answers must look like (api/*/entity pages).
ENTITIES: dict[str, dict[str, Any]] = {
    # api/disputes/entity: every key of the entity page's sample, closed.
    "dispute": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "entity",
            "payment_id",
            "amount",
            "currency",
            "amount_deducted",
            "reason_code",
            "respond_by",
            "status",
            "phase",
            "created_at",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^disp_[A-Za-z0-9]{14}$"},
            "entity": {"const": "dispute"},
            "payment_id": {"type": "string", "pattern": "^pay_[A-Za-z0-9]{14}$"},
            "amount": {"type": "integer", "minimum": 0},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "amount_deducted": {"type": "integer", "minimum": 0},
            "reason_code": {"type": "string"},
            "reason_description": {"type": "string"},
            "respond_by": {"type": "integer"},
            "status": {"enum": ["open", "under_review", "won", "lost", "closed"]},
            "phase": {
                "enum": ["fraud", "retrieval", "chargeback", "pre_arbitration", "arbitration"]
            },
            "comments": {"type": ["string", "null"]},
            "created_at": {"type": "integer"},
            "evidence": {"type": "object"},
        },
    },
    # A list answer (Fetch Orders): {entity: collection, count, items}; each item is checked
    # as the entity it names (test_fixture_answers_have_documented_shapes).
    "collection": {
        "type": "object",
        "additionalProperties": False,
        "required": ["entity", "count", "items"],
        "properties": {
            "entity": {"const": "collection"},
            "count": {"type": "integer", "minimum": 0},
            "items": {"type": "array", "items": {"type": "object", "required": ["entity"]}},
        },
    },
    "order": {
        "type": "object",
        "required": [
            "id",
            "entity",
            "amount",
            "amount_paid",
            "amount_due",
            "currency",
            "receipt",
            "status",
            "attempts",
            "notes",
            "created_at",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^order_[A-Za-z0-9]{14}$"},
            "entity": {"const": "order"},
            "status": {"enum": ["created", "attempted", "paid"]},
        },
    },
    "payment": {
        "type": "object",
        "required": [
            "id",
            "entity",
            "amount",
            "currency",
            "status",
            "order_id",
            "method",
            "amount_refunded",
            "refund_status",
            "captured",
            "email",
            "contact",
            "notes",
            "error_code",
            "error_description",
            "error_source",
            "error_step",
            "error_reason",
            "created_at",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^pay_[A-Za-z0-9]{14}$"},
            "entity": {"const": "payment"},
            "status": {"enum": ["created", "authorized", "captured", "refunded", "failed"]},
            "method": {"enum": ["card", "netbanking", "wallet", "emi", "upi"]},
            "refund_status": {"enum": [None, "partial", "full"]},
            # With expand[]=card: the card entity (api/payments/cards, "Card Entity").
            "card": {
                "type": "object",
                "required": ["id", "entity", "name", "last4", "network", "type", "issuer"],
                "properties": {
                    "id": {"type": "string", "pattern": "^card_[A-Za-z0-9]{14}$"},
                    "entity": {"const": "card"},
                    "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                    "network": {
                        "enum": [
                            "American Express",
                            "Diners Club",
                            "Maestro",
                            "MasterCard",
                            "RuPay",
                            "Unknown",
                            "Visa",
                            "JCB",
                            "Bajaj Finserv",
                        ]
                    },
                    "type": {"enum": ["credit", "debit", "prepaid", "unknown"]},
                    "international": {"type": "boolean"},
                },
            },
            "customer_id": {"type": ["string", "null"], "pattern": "^cust_[A-Za-z0-9]{14}$"},
            "token_id": {"type": ["string", "null"], "pattern": "^token_[A-Za-z0-9]{14}$"},
        },
    },
    "refund": {
        "type": "object",
        "required": [
            "id",
            "entity",
            "amount",
            "currency",
            "payment_id",
            "notes",
            "receipt",
            "acquirer_data",
            "created_at",
            "batch_id",
            "status",
        ],
        "properties": {
            "id": {"type": "string", "pattern": "^rfnd_[A-Za-z0-9]{14}$"},
            "entity": {"const": "refund"},
            "status": {"enum": ["pending", "processed", "failed"]},
        },
    },
    "error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "description", "source", "step", "reason", "metadata"],
                "properties": {
                    "code": {"enum": ["BAD_REQUEST_ERROR", "GATEWAY_ERROR", "SERVER_ERROR"]},
                },
            }
        },
    },
    # POST /payments/create/recurring: {razorpay_payment_id, razorpay_order_id,
    # razorpay_signature} (recurring-payments "Create Subsequent Payments", Response).
    "recurring": {
        "type": "object",
        "additionalProperties": False,
        "required": ["razorpay_payment_id", "razorpay_order_id", "razorpay_signature"],
        "properties": {
            "razorpay_payment_id": {"type": "string", "pattern": "^pay_[A-Za-z0-9]{14}$"},
            "razorpay_order_id": {"type": "string", "pattern": "^order_[A-Za-z0-9]{14}$"},
            "razorpay_signature": {"type": "string", "pattern": "^[0-9a-f]+$"},
        },
    },
    # POST /payments/create/json: "razorpay_payment_id … Present for all responses"; `next`
    # "Present when the payment requires further processing".
    "s2s": {
        "type": "object",
        "additionalProperties": False,
        "required": ["razorpay_payment_id"],
        "properties": {
            "razorpay_payment_id": {"type": "string", "pattern": "^pay_[A-Za-z0-9]{14}$"},
            "next": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["action", "url"],
                    "properties": {
                        "action": {"enum": ["redirect", "otp_generate", "poll", "intent"]},
                        # intent: "a UPI deep link"; the others Razorpay's API host.
                        "url": {
                            "type": "string",
                            "pattern": "^(https://api\\.razorpay\\.com/|upi://)",
                        },
                    },
                },
            },
        },
    },
}


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _patterns() -> list[tuple[str, re.Pattern[str], str]]:
    found = []
    for key in ENDPOINTS:
        method, template = key.split(" ", 1)
        regex = re.escape(template).replace(re.escape("{id}"), "(?P<id>[^/]+)")
        found.append((method, re.compile(f"^{regex}$"), key))
    return found


PATTERNS = _patterns()


def _endpoint(built: HttpRequest) -> tuple[str, str | None]:
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "api.razorpay.com"
    for method, pattern, key in PATTERNS:
        match = pattern.match(split.path)
        if method == built.method and match:
            return key, match.groupdict().get("id")
    raise AssertionError(f"{built.method} {split.path} is not a Razorpay endpoint listed here")


def _answers(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data["responses"]) if "responses" in data else [data["response"]]


def _built(name: str) -> list[HttpRequest]:
    """Every request of the scenario, each step seeing the earlier answers, as the Client does."""
    data = SCENARIOS[name]
    connector = load_connector("razorpay")
    answers = _answers(data)
    steps: dict[str, Any] = {}
    built = []
    for index, answer in enumerate(answers):
        built.append(
            connector.build_request(
                data["flow"], data["request"], CREDENTIALS, step=index, steps=steps
            )
        )
        if index < len(answers) - 1:
            body = json.dumps(answer["body"]).encode()
            decoded = connector.parse_step(
                data["flow"],
                index,
                data["request"],
                HttpResponse(answer["status"], {}, body),
                steps=steps,
            )
            steps[connector.plan.flows[data["flow"]].steps[index].name] = decoded
    return built


def _body(built: HttpRequest) -> Any:
    return json.loads(built.body) if built.body else None


def test_schemas_are_valid_json_schema() -> None:
    for key, entry in ENDPOINTS.items():
        assert entry["doc"].startswith(DOCS), key
        if entry["body"] is not None:
            Draft202012Validator.check_schema(entry["body"])
    for schema in ENTITIES.values():
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_match_razorpay_documented_fields(name: str) -> None:
    for built in _built(name):
        key, path_id = _endpoint(built)
        entry = ENDPOINTS[key]
        if path_id is not None:
            assert re.match(entry["id"], path_id), f"{key}: {path_id!r} is not a Razorpay id"
        if entry["body"] is None:
            assert not built.body, f"{key} takes no body"
            continue
        problems = _problems(entry["body"], _body(built))
        assert not problems, f"{name}: {key} body breaks Razorpay's documented fields: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The check above is not vacuous: each endpoint, bodies included, is reached."""
    seen: Counter[str] = Counter()
    for name in BUILDABLE:
        for built in _built(name):
            key, _ = _endpoint(built)
            seen[key] += 1 if (ENDPOINTS[key]["body"] is None or built.body) else 0
    assert set(seen) == set(ENDPOINTS), f"unchecked: {set(ENDPOINTS) - set(seen)}"
    assert all(seen[key] >= 1 for key in ENDPOINTS), seen


def _payment_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = _body(_built(name)[-1])
    return body


CREATE = ENDPOINTS["POST /v1/payments/create/json"]["body"]


@pytest.mark.parametrize(
    ("label", "breaks"),
    [
        ("a four-digit expiry year", lambda b: b["card"].__setitem__("expiry_year", "2030")),
        ("an integer expiry month", lambda b: b["card"].__setitem__("expiry_month", 3)),
        (
            "an email over 40 characters",
            lambda b: b.__setitem__("email", "a" * 30 + "@example.com"),
        ),
        ("a contact over 15 characters", lambda b: b.__setitem__("contact", "+9190000900001234")),
        ("an unknown field", lambda b: b.__setitem__("capture", True)),
        ("no order id", lambda b: b.pop("order_id")),
        ("no ip", lambda b: b.pop("ip")),
        ("a card payment without browser data", lambda b: b.pop("browser")),
        (
            "a card payment with upi details",
            lambda b: b.__setitem__("upi", {"flow": "collect", "vpa": "a@b"}),
        ),
        (
            "a language tag over 8 characters",
            lambda b: b["browser"].__setitem__("language", "zh-Hant-TW"),
        ),
        ("an amount in rupees", lambda b: b.__setitem__("amount", "499.00")),
    ],
)
def test_schema_rejects_broken_card_payments(label: str, breaks: Any) -> None:
    body = _payment_body("authorize_card_3ds_requires_action")
    assert not _problems(CREATE, body)
    broken = copy.deepcopy(body)
    breaks(broken)
    assert _problems(CREATE, broken), f"a body with {label} was accepted"


def test_schema_rejects_broken_upi_orders_captures_and_refunds() -> None:
    upi = _payment_body("authorize_upi_collect_pending")
    assert not _problems(CREATE, upi)
    assert _problems(CREATE, {**upi, "upi": {"flow": "collect"}})  # no VPA
    assert _problems(CREATE, {**upi, "upi": {"flow": "qr", "vpa": "a@b"}})
    assert _problems(CREATE, {**upi, "upi": {"flow": "intent", "vpa": "a@b"}})
    assert not _problems(CREATE, {**upi, "upi": {"flow": "intent"}})
    assert _problems(CREATE, {**upi, "card": {"number": "4100280000001007"}})
    orders = ENDPOINTS["POST /v1/orders"]["body"]
    order = _body(_built("authorize_upi_collect_pending")[0])
    assert not _problems(orders, order)
    assert _problems(orders, {**order, "receipt": "R" * 41})
    assert _problems(orders, {**order, "payment_capture": 1})
    assert _problems(orders, {**order, "notes": {f"k{i}": "v" for i in range(16)}})
    capture = ENDPOINTS["POST /v1/payments/{id}/capture"]["body"]
    assert _problems(capture, {"amount": 125000})
    assert _problems(capture, {"amount": 1250.5, "currency": "INR"})
    refund = ENDPOINTS["POST /v1/payments/{id}/refund"]["body"]
    assert _problems(refund, {"amount": 100, "speed": "instant"})
    assert _problems(refund, {"amount": 100, "reason": "duplicate"})
    assert not re.match(ENDPOINTS["GET /v1/refunds/{id}"]["id"], "pay_Q8tX2nH4kRj9Vw")


def _entity_of(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if "error" in body:
        return "error"
    if "razorpay_signature" in body:
        return "recurring"
    if "razorpay_payment_id" in body:
        return "s2s"
    return body.get("entity")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fixture_answers_have_documented_shapes(name: str) -> None:
    for answer in _answers(SCENARIOS[name]):
        body = answer.get("body")
        if not body:  # transports, unreadable bodies, answers to refused requests
            continue
        for entity, part in _entities(body):
            assert entity in ENTITIES, f"{name}: an answer of no documented shape: {part}"
            problems = _problems(ENTITIES[entity], part)
            assert not problems, f"{name}: {entity} answer: {problems}"


def _entities(body: Any) -> list[tuple[str | None, Any]]:
    """The answer's entity, and those of a collection's items and of an order's expanded
    payments (expand[]=payments puts a payment collection in the order's `payments`)."""
    found: list[tuple[str | None, Any]] = [(_entity_of(body), body)]
    if isinstance(body, dict) and body.get("entity") == "collection":
        for item in body.get("items", []):
            found += _entities(item)
    if isinstance(body, dict) and body.get("entity") == "order" and "payments" in body:
        found += _entities(body["payments"])
    return found


def test_authorize_bodies() -> None:
    order, card = (_body(b) for b in _built("authorize_card_3ds_requires_action"))
    assert order == {
        "amount": 49900,
        "currency": "INR",
        "receipt": "ORD-1001",
        "notes": {"cart_id": "cart_7781"},
        "payment_capture": True,
    }
    assert card["order_id"] == "order_Q8tX1bV7cYq2Lm"
    assert card["card"] == {
        "number": "4100280000001007",
        "name": "Gaurav Kumar",
        "expiry_month": "12",
        "expiry_year": "30",
        "cvv": "123",
    }
    assert card["authentication"] == {"authentication_channel": "browser"}
    assert card["browser"]["timezone_offset"] == -330
    assert "description" not in card and "upi" not in card
    manual_order, _ = (_body(b) for b in _built("authorize_card_manual_capture"))
    assert manual_order["payment_capture"] is False
    _, upi = (_body(b) for b in _built("authorize_upi_collect_pending"))
    assert upi["upi"] == {"flow": "collect", "vpa": "success@razorpay"}
    assert upi["method"] == "upi" and upi["description"] == "Order ORD-2001"
    assert not {"card", "browser", "authentication"} & set(upi)


def test_long_language_tags_keep_their_language() -> None:
    data = copy.deepcopy(SCENARIOS["authorize_card_3ds_requires_action"])
    data["request"]["browser_info"]["language"] = "zh-Hant-TW"
    connector = load_connector("razorpay")
    answer = json.dumps(data["responses"][0]["body"]).encode()
    order = connector.parse_step("authorize", 0, data["request"], HttpResponse(200, {}, answer))
    built = connector.build_request(
        "authorize", data["request"], CREDENTIALS, step=1, steps={"order": order}
    )
    body = _body(built)
    assert body["browser"]["language"] == "zh"
    assert not _problems(CREATE, body)


def test_auth_and_refund_idempotency_headers() -> None:
    pair = f"{CREDENTIALS['key_id']}:{CREDENTIALS['key_secret']}".encode()
    expected = "Basic " + base64.b64encode(pair).decode()
    for name in BUILDABLE:
        for built in _built(name):
            headers = {k.lower(): v for k, v in built.headers.items()}
            assert headers["authorization"] == expected
            key, _ = _endpoint(built)
            if key == "POST /v1/payments/{id}/refund":
                # "at least 10 character long … alphabets, numbers, hyphens and underscores".
                idempotency = headers["x-refund-idempotency"]
                assert idempotency == SCENARIOS[name]["request"]["idempotency_key"]
                assert re.fullmatch(r"[A-Za-z0-9_-]{10,}", idempotency)
            else:
                assert "x-refund-idempotency" not in headers


def _signature(secret: str, body: str) -> str:
    return hmac.new(secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha256).hexdigest()


def _header(data: dict[str, Any], name: str) -> str | None:
    return {k.lower(): v for k, v in data["headers"].items()}.get(name)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    """Recomputed with the standard library, not the engine: hex(HMAC-SHA256(secret, raw body))."""
    data = WEBHOOKS[name]
    header = _header(data, "x-razorpay-signature")
    expected = _signature(data["secret"], data["body_text"])
    rejected = data["expect"].get("rejected")
    if rejected == "missing_signature":
        assert header is None
    elif rejected == "bad_signature":
        assert header is not None and header != expected
    else:
        assert header == expected
        event = json.loads(data["body_text"])
        assert event["entity"] == "event" and event["event"] and event["payload"]
        for part in event["contains"]:
            entity = event["payload"][part]["entity"]
            assert not _problems(ENTITIES[part], entity), f"{name}: {part}"


def test_webhook_signatures_with_the_official_sdk() -> None:
    """The razorpay SDK's own verifier agrees with the fixtures (skipped when not installed)."""
    import razorpay  # a dev dependency: this independent check always runs
    from razorpay.errors import SignatureVerificationError

    utility = razorpay.Utility(None)
    for data in WEBHOOKS.values():
        header = _header(data, "x-razorpay-signature")
        if header is None:
            continue
        if "rejected" in data["expect"]:
            with pytest.raises(SignatureVerificationError):
                utility.verify_webhook_signature(data["body_text"], header, data["secret"])
        else:
            assert utility.verify_webhook_signature(data["body_text"], header, data["secret"])


def test_webhook_kinds_covered() -> None:
    outcomes = {data["expect"].get("rejected", "accepted") for data in WEBHOOKS.values()}
    assert {"accepted", "bad_signature", "missing_signature"} <= outcomes
    kinds = {json.loads(data["body_text"])["event"] for data in WEBHOOKS.values()}
    assert {"payment.captured", "payment.failed", "refund.processed"} <= kinds
