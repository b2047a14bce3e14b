"""KOMOJU-specific checks, against KOMOJU's published API rather than our spec.

KOMOJU publishes no OpenAPI file in a stored repository; its official SDKs are generated from
its OpenAPI 1.0.0 ("KOMOJU API: Full featured access to the KOMOJU payments system"). The
request schemas below are written from komoju/komoju-node-sdk's models (models/*.ts), each
closed (additionalProperties: false) so a misspelt or invented field fails:

- POST /payments: CreatePaymentRequestWithPaymentDetails, with payment_details one of
  PaymentDetailsCreditCard, PaymentDetailsKonbini (store enum: seven-eleven, lawson,
  family-mart, ministop, daily-yamazaki, seicomart), PaymentDetailsPayPay; Currency and Locale
  enums;
- POST /payments/{id}/capture: CapturePaymentRequest; POST /payments/{id}/refund:
  RefundPaymentRequest; POST /payments/{id}/cancel and GET /payments/{id}: no body
  (docs/Apis/PaymentsApi.md).

komoju-openapi.yml here is a verbatim copy of the third-party modeled sketch in
processor-apis/komoju/ (api-evangelist/komoju @ a28002d3): only its paths are used (every
endpoint the spec calls is one of its operations). Also checked: HTTP Basic with the secret
key and an empty password, X-KOMOJU-IDEMPOTENCY on POSTs only, integer amounts; the fixtures'
answers against the Payment / APIError models; webhook signatures recomputed with hmac/hashlib:
hex(HMAC-SHA256(secret token, raw body)) (degica/komoju-woocommerce validate_hmac).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
SKETCH_PATH = HERE / "komoju-openapi.yml"
SKETCH_SHA256 = "92a33165dca799ba9950368ad7d11b07d602299c1d0e182d1d9d28fd2656818e"
CREDENTIALS = credentials_for("komoju")
SCENARIOS = fixtures_of("komoju", "scenarios")
WEBHOOKS = fixtures_of("komoju", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}

CURRENCIES = ["JPY", "USD", "EUR", "TWD", "KRW", "PLN", "GBP", "HKD", "SGD", "NZD", "AUD", "IDR"]
CURRENCIES += ["MYR", "PHP", "THB", "CNY", "BRL", "CHF", "CAD", "VND"]
AMOUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
STRING: dict[str, Any] = {"type": "string"}
#: The shipping_address_* and billing_address_* members every payment_details model has.
ADDRESSES = {
    f"{kind}_address_{part}": STRING
    for kind in ("shipping", "billing")
    for part in ("name", "line1", "line2", "city", "state", "zip", "country")
}
CREDIT_CARD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "number", "month", "year"],
    "properties": {
        "type": {"const": "credit_card"},
        "email": STRING,
        "number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
        "month": {"type": "integer", "minimum": 1, "maximum": 12},
        "year": {"type": "integer"},
        "verification_value": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "name": STRING,
        "given_name": STRING,
        "family_name": STRING,
        "expiry_days": {"type": "integer"},
        "intent": {"enum": ["one_time", "card_on_file", "subscription", "installment"]},
        "initiator": {"enum": ["customer", "merchant"]},
        "usage": {"enum": ["first", "used"]},
        "scheme_reference": STRING,
        "installments": {"type": "object"},
        **ADDRESSES,
    },
}
KONBINI: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "store", "email"],
    "properties": {
        "type": {"const": "konbini"},
        "store": {
            "enum": [
                "seven-eleven",
                "lawson",
                "family-mart",
                "ministop",
                "daily-yamazaki",
                "seicomart",
            ]
        },
        "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
        "phone": STRING,
        "family_name": STRING,
        "given_name": STRING,
        "expiry_days": {"type": "integer"},
        **ADDRESSES,
    },
}
PAYPAY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "type": {"const": "paypay"},
        "user_authorization_id": STRING,
        "scanned_code": STRING,
        **ADDRESSES,
    },
}
CREATE_PAYMENT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["amount", "currency", "payment_details"],
    "properties": {
        "amount": AMOUNT,
        "capture": {"type": "boolean"},
        "description": STRING,
        "tax": {"type": "object"},
        "currency": {"enum": CURRENCIES},
        "external_order_num": STRING,
        "return_url": {"type": "string", "pattern": "^https?://"},
        "cancel_url": {"type": "string", "pattern": "^https?://"},
        "locale": {"enum": ["ja", "en", "ko"]},
        # "Keys and values must be strings. Keys have a maximum length of 30 characters. Values
        # have a maximum length of 2000 characters."
        "metadata": {
            "type": "object",
            "propertyNames": {"maxLength": 30},
            "additionalProperties": {"type": "string", "maxLength": 2000},
        },
        "mcc": STRING,
        "statement_descriptor": {"type": "object"},
        "fraud_details": {"type": "object"},
        "platform_details": {"type": "object"},
        "payment_details": {"oneOf": [CREDIT_CARD, KONBINI, PAYPAY]},
    },
}
#: CreatePaymentRequestWithCustomer: the same members, `customer` instead of payment_details
#: ("Provide either payment_details ... or a customer ID ... but not both").
WITH_CUSTOMER: dict[str, Any] = {
    **CREATE_PAYMENT,
    "required": ["amount", "currency", "customer"],
    "properties": {
        **{k: v for k, v in CREATE_PAYMENT["properties"].items() if k != "payment_details"},
        "customer": {"type": "string", "pattern": "^[a-z0-9]{25}$"},
    },
}
#: CreateCustomerRequest: currency, email, metadata, and a card (PaymentDetailsOnlyCreditCards).
CREATE_CUSTOMER: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "currency": {"enum": CURRENCIES},
        "payment_details": CREDIT_CARD,
        "email": STRING,
        "metadata": CREATE_PAYMENT["properties"]["metadata"],
    },
}
#: "METHOD /path" → the body schema (None: no body).
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /payments": {"body": {"oneOf": [CREATE_PAYMENT, WITH_CUSTOMER]}},
    "POST /customers": {"body": CREATE_CUSTOMER},
    "POST /payments/{id}/capture": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"amount": AMOUNT, "tax": {"type": "object"}, "platform_details": {}},
        }
    },
    "POST /payments/{id}/cancel": {"body": None},
    "POST /payments/{id}/refund": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"amount": AMOUNT, "description": STRING, "platform_details": {}},
        }
    },
    "GET /payments/{id}": {"body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)
PAYMENT_ID = "^[a-z0-9]{25}$"
#: The Payment model (the members the fixtures carry; PaymentStatus enum).
PAYMENT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "resource", "status", "amount", "currency", "payment_details", "refunds"],
    "properties": {
        "id": {"type": "string", "pattern": PAYMENT_ID},
        "resource": {"const": "payment"},
        "status": {
            "enum": [
                "pending",
                "authorized",
                "captured",
                "cancelled",
                "expired",
                "refunded",
                "failed",
            ]
        },
        "amount": AMOUNT,
        "tax": AMOUNT,
        "total": AMOUNT,
        "amount_refunded": AMOUNT,
        "currency": {"enum": CURRENCIES},
        "payment_details": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["credit_card", "konbini", "paypay"]},
                "last_four_digits": {"type": "string", "pattern": "^[0-9]{4}$"},
                "verification_value": {
                    "enum": ["Approved", "Invalid", "Not Checked", "Not Supplied"]
                },
                "store": KONBINI["properties"]["store"],
            },
        },
        "refunds": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "resource", "amount", "currency", "payment"],
                "properties": {
                    "id": {"type": "string", "pattern": PAYMENT_ID},
                    "resource": {"const": "refund"},
                    "amount": AMOUNT,
                    "payment": {"type": "string", "pattern": PAYMENT_ID},
                },
            },
        },
    },
}
ERROR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "message"],
            "properties": {
                "code": STRING,
                "message": STRING,
                "param": {"type": ["string", "null"]},
                "details": {"type": "object"},
            },
        }
    },
}


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("komoju").build_request(data["flow"], data["request"], CREDENTIALS)


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name).body or b"")
    return body


def test_the_sketch_is_the_recorded_copy_and_lists_every_endpoint() -> None:
    assert hashlib.sha256(SKETCH_PATH.read_bytes()).hexdigest() == SKETCH_SHA256
    document = yaml.safe_load(SKETCH_PATH.read_text("utf-8"))
    operations = {f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item}
    assert set(ENDPOINTS) <= operations, set(ENDPOINTS) - operations
    assert document["servers"][0]["url"] == "https://komoju.com/api/v1"


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_komoju_operations_with_documented_bodies(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "komoju.com"
    assert split.path.startswith("/api/v1/")
    key, params = ENDPOINT_INDEX.match(built.method, split.path.removeprefix("/api/v1"))
    for value in params.values():
        assert len(value) == 25 and value.isalnum(), f"{key}: path id {value!r}"
    # HTTP Basic: the secret key as the user name, an empty password ("sk_…:").
    token = base64.b64encode(f"{CREDENTIALS['secret_key']}:".encode()).decode()
    assert built.headers["Authorization"] == f"Basic {token}"
    key_sent = built.headers.get("X-KOMOJU-IDEMPOTENCY")
    if built.method == "POST":
        assert key_sent == SCENARIOS[name]["request"]["idempotency_key"]
    else:
        assert key_sent is None
    schema = ENDPOINTS[key]["body"]
    if schema is None:
        assert not built.body, f"{key} takes no body"
        return
    problems = _problems(schema, json.loads(built.body or b"{}"))
    assert not problems, f"{name}: {key} body breaks KOMOJU's request model: {problems}"


def test_every_endpoint_is_checked() -> None:
    class _Rebased:
        def __init__(self, request: Any) -> None:
            self.method, self.body = request.method, request.body
            self.url = request.url.replace("/api/v1", "", 1)

    ENDPOINT_INDEX.assert_covered((_Rebased(_built(name)) for name in BUILDABLE), ENDPOINTS)


@pytest.mark.parametrize(
    ("label", "scenario", "edit"),
    [
        ("amount as text", "authorize_card_captured", lambda b: b.update(amount="1000")),
        ("an unknown currency", "authorize_card_captured", lambda b: b.update(currency="XYZ")),
        (
            "a two-letter locale it lacks",
            "authorize_card_captured",
            lambda b: b.update(locale="de"),
        ),
        (
            "month as text",
            "authorize_card_captured",
            lambda b: b["payment_details"].update(month="12"),
        ),
        ("no card number", "authorize_card_captured", lambda b: b["payment_details"].pop("number")),
        (
            "a misspelt card field",
            "authorize_card_captured",
            lambda b: b["payment_details"].update(cvc="1"),
        ),
        (
            "a store KOMOJU lacks",
            "authorize_konbini_voucher",
            lambda b: b["payment_details"].update(store="7-11"),
        ),
        (
            "konbini without email",
            "authorize_konbini_voucher",
            lambda b: b["payment_details"].pop("email"),
        ),
        (
            "a card field on PayPay",
            "authorize_paypay_redirect",
            lambda b: b["payment_details"].update(number="4111111111111111"),
        ),
        (
            "a misspelt top-level field",
            "authorize_card_captured",
            lambda b: b.update(external_order_number="x"),
        ),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, scenario: str, edit: Any) -> None:
    body = _body(scenario)
    assert _problems(CREATE_PAYMENT, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(CREATE_PAYMENT, broken), label


def test_each_method_sends_its_own_payment_details() -> None:
    card = _body("authorize_card_captured")["payment_details"]
    assert card["type"] == "credit_card" and card["month"] == 12 and card["year"] == 2030
    assert "store" not in card
    konbini = _body("authorize_konbini_voucher")["payment_details"]
    assert konbini["type"] == "konbini" and konbini["store"] == "lawson"
    assert konbini["email"] == "taro.yamada@example.jp" and "number" not in konbini
    assert _body("authorize_paypay_redirect")["payment_details"] == {"type": "paypay"}


def test_manual_capture_is_capture_false_and_amounts_are_integers() -> None:
    assert _body("authorize_card_manual")["capture"] is False
    assert "capture" not in _body("authorize_card_captured")
    assert _body("authorize_card_usd")["amount"] == 1099
    assert _body("capture_partial") == {"amount": 600}
    assert _body("capture_full") == {}
    assert _body("refund_partial") == {"amount": 400, "description": "requested_by_customer"}


#: The Customer model (customer.ts, its `source`: customer-source.ts).
CUSTOMER: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "resource", "email", "source", "metadata", "created_at"],
    "properties": {
        "id": {"type": "string", "pattern": PAYMENT_ID},
        "resource": {"const": "customer"},
        "email": {"type": ["string", "null"]},
        "source": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["type", "brand", "last_four_digits", "month", "year"],
                    "properties": {
                        "type": STRING,
                        "brand": STRING,
                        "last_four_digits": {"type": "string", "pattern": "^[0-9]{4}$"},
                        "month": {"type": "integer", "minimum": 1, "maximum": 12},
                        "year": {"type": "integer"},
                    },
                },
            ]
        },
        "metadata": {"type": "object"},
        "created_at": STRING,
        "locale": {"enum": ["ja", "en", "ko"]},
    },
}


def _answers() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, data["flow"], data["response"])
        for name, data in SCENARIOS.items()
        if "body" in data["response"]
    ]


@pytest.mark.parametrize(("name", "flow", "answer"), _answers(), ids=lambda v: str(v)[:40])
def test_fixture_answers_have_documented_shapes(
    name: str, flow: str, answer: dict[str, Any]
) -> None:
    if answer["status"] >= 400:
        schema = ERROR
    else:
        schema = CUSTOMER if flow == "setup_recurring" else PAYMENT
    assert _problems(schema, answer["body"]) == [], name


def test_answer_schemas_can_fail() -> None:
    payment = SCENARIOS["get_captured"]["response"]["body"]
    assert _problems(PAYMENT, {**payment, "status": "succeeded"})
    assert _problems(PAYMENT, {**payment, "amount": "1000"})
    assert _problems(ERROR, {"error": {"code": "not_found"}})
    customer = SCENARIOS["setup_recurring_card_saved"]["response"]["body"]
    assert _problems(CUSTOMER, {**customer, "resource": "payment"})
    assert _problems(CUSTOMER, {**customer, "source": {**customer["source"], "last4": "1111"}})


def test_setup_saves_a_customer_and_charge_names_it() -> None:
    saved = _body("setup_recurring_card_saved")
    assert saved["payment_details"]["type"] == "credit_card"
    assert saved["payment_details"]["intent"] == "card_on_file"
    assert saved["currency"] == "JPY" and saved["email"] == "taro.yamada@example.jp"
    assert _problems(CREATE_CUSTOMER, {**saved, "payment_details": {"type": "konbini"}})
    charged = _body("charge_recurring_captured")
    assert charged["customer"] == "0a5ms8ghq2ddcbbedbk9kmw3n" and "payment_details" not in charged
    assert _body("charge_recurring_manual_authorized")["capture"] is False
    # Never both: a payment with a customer and payment_details breaks the model.
    both = {**charged, "payment_details": saved["payment_details"]}
    assert _problems(ENDPOINTS["POST /payments"]["body"], both)


# --- webhooks ---------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = {k.lower(): v for k, v in data["headers"].items()}
    if "x-komoju-signature" not in headers:
        assert data["expect"] == {"rejected": "missing_signature"}
        return
    expected = hmac.new(
        data["secret"].encode(), data["body_text"].encode(), hashlib.sha256
    ).hexdigest()
    matches = hmac.compare_digest(expected, headers["x-komoju-signature"])
    assert matches == (name not in SIGNED_ELSEWHERE), name


def test_webhook_bodies_are_komoju_events() -> None:
    for name, data in WEBHOOKS.items():
        event = json.loads(data["body_text"])
        assert set(event) == {"id", "type", "resource", "data", "created_at", "reason"}, name
        assert event["resource"] == "event"
        assert _problems(PAYMENT, event["data"]) == [], name
