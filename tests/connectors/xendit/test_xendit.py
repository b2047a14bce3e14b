"""Xendit-specific checks, against Xendit's own API reference rather than our spec.

Xendit publishes no OpenAPI file, but every page of its API reference (docs.xendit.co/apidocs)
embeds the OpenAPI 3.0 description of its operation; they were read from the Markdown mirror of
those pages (naelrudd/xendit-docs-llm-agents, apidocs/*.md @ 8a167412bd13bf5d0bd4):
create-payment-request (Payments_API_Pay), get-payment-request, capture-payment
(POST /v3/payments/{payment_id}/capture, capture_amount), cancel-payment, refund-payment-request
(Payments_API_Refund), payment- and refund-webhook-notification. The schemas below are written
from them, one per endpoint, and closed (a misspelt field fails). Those operations leave
channel_properties open ("Refer to the Channel Data Finder widget"); its members per channel
follow "Routing payment channels" (success_return_url, failure_return_url, cancel_return_url:
https, 11-255 characters), the PAY_Cards examples (card_details) and the virtual account and
QR examples (display_name, expires_at).

- every request the spec builds for a scenario (each step included) is an operation of the
  reference, and its body validates against that operation's closed schema; negative tests show
  the schemas can fail;
- the saved third-party sketch (xendit-openapi.yml, API Evangelist, "modeled subset") is checked
  for what it gets right (the paths of payment requests and refunds) and shown not to be the v3
  body (its PaymentRequestInput is v2's amount + payment_method);
- auth is HTTP Basic with the secret key and an empty password; api-version 2024-11-11 on the
  /v3 operations and on none other;
- amounts are JSON numbers in major units, IDR without decimals;
- the fixture answers have the documented shapes (PaymentRequestSchema, PaymentSchema,
  RefundSchema, the error objects) and enums;
- webhook fixtures carry the callback token, compared here with hmac.compare_digest (the scheme
  signs nothing: `signature.scheme: token`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from engine import HttpResponse, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
#: A verbatim copy of processor-apis/xendit/xendit-openapi.yml (api-evangelist/xendit :
#: openapi/_original/xendit-openapi.yml @ 0b17e0d66afce5c7b5a2a72da17816252e15a9da).
SKETCH_PATH = HERE / "xendit-openapi.yml"
SKETCH_SHA256 = "7ebfd074c306059ff66b05fe260856bc2167838f208d59fad38f88ba8c292dd4"
CREDENTIALS = credentials_for("xendit")
SCENARIOS = fixtures_of("xendit", "scenarios")
WEBHOOKS = fixtures_of("xendit", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
REFERENCE = "https://docs.xendit.co/apidocs"

COUNTRY: dict[str, Any] = {"enum": ["ID", "PH", "VN", "TH", "SG", "MY", "HK", "MX"]}
#: Payments_API_Currency (its first entries; the spec declares no other).
CURRENCY: dict[str, Any] = {
    "enum": [
        "IDR",
        "PHP",
        "VND",
        "THB",
        "SGD",
        "MYR",
        "USD",
        "HKD",
        "AUD",
        "GBP",
        "EUR",
        "JPY",
        "MXN",
    ]
}
METADATA: dict[str, Any] = {
    # "up to 50 keys, with key names up to 40 characters and values up to 500 characters"
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"maxLength": 40},
    "additionalProperties": {"type": "string", "maxLength": 500},
}
RETURN_URL: dict[str, Any] = {
    "type": "string",
    "minLength": 11,
    "maxLength": 255,
    "pattern": "^https://",
}
#: "The 39-character payment request ID" (the sketch); pr- and a UUID.
PR_ID: dict[str, Any] = {
    "type": "string",
    "pattern": "^pr-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$",
}
CARD_DETAILS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "card_number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
        "expiry_month": {"type": "string", "pattern": "^(0[1-9]|1[0-2])$"},
        "expiry_year": {"type": "string", "pattern": "^20[0-9]{2}$"},
        "cvn": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "cardholder_first_name": {"type": "string", "minLength": 1},
        "cardholder_last_name": {"type": "string", "minLength": 1},
        "cardholder_email": {"type": "string", "format": "email"},
        "cardholder_phone_number": {"type": "string", "pattern": "^\\+[0-9]{6,15}$"},
    },
    "required": ["card_number", "expiry_month", "expiry_year", "cvn"],
}
EWALLETS = ["OVO", "DANA", "SHOPEEPAY", "GCASH", "GRABPAY", "PAYMAYA"]
CARD_ON_FILE: dict[str, Any] = {
    "enum": ["RECURRING", "MERCHANT_UNSCHEDULED", "CUSTOMER_UNSCHEDULED"]
}
#: Payments_API_PaymentTokenId: pt- and a UUID.
PT_ID: dict[str, Any] = {
    "type": "string",
    "pattern": "^pt-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$",
}


def _props(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }


#: channel_properties by channel_code.
CHANNEL_PROPERTIES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"const": "CARDS"},
        _props(
            {
                "card_details": CARD_DETAILS,
                "success_return_url": RETURN_URL,
                "failure_return_url": RETURN_URL,
                "skip_three_ds": {"type": "boolean"},
                "mid_label": {"type": "string"},
                # "Merchant initiated and recurring flagging": the card-on-file indicator.
                "card_on_file_type": CARD_ON_FILE,
            },
            [],
        ),
    ),
    (
        {"enum": EWALLETS},
        _props(
            {
                "success_return_url": RETURN_URL,
                "failure_return_url": RETURN_URL,
                "cancel_return_url": RETURN_URL,
            },
            ["success_return_url", "failure_return_url"],
        ),
    ),
    (
        {"pattern": "^[A-Z]+_VIRTUAL_ACCOUNT$"},
        _props(
            {
                "display_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "expires_at": {"type": "string", "format": "date-time"},
            },
            ["display_name"],
        ),
    ),
    (
        {"const": "QRIS"},
        _props({"expires_at": {"type": "string", "format": "date-time"}}, []),
    ),
]

#: The endpoints the spec uses: the reference page, whether it takes api-version, the body.
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /v3/payment_requests": {
        "doc": f"{REFERENCE}/create-payment-request (Payments_API_Pay)",
        "api_version": True,
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "reference_id": {"type": "string", "minLength": 1, "maxLength": 255},
                "type": {"const": "PAY"},
                "country": COUNTRY,
                "currency": CURRENCY,
                "channel_code": {"type": "string"},
                "channel_properties": {"type": "object"},
                "request_amount": {"type": "number", "minimum": 0},
                "capture_method": {"enum": ["AUTOMATIC", "MANUAL"]},
                "description": {"type": "string", "minLength": 1, "maxLength": 1000},
                "customer_id": {"type": "string", "maxLength": 41},
                "metadata": METADATA,
                # Payments_API_PayWithToken: a saved token instead of the card's details.
                "payment_token_id": PT_ID,
            },
            "required": [
                "reference_id",
                "type",
                "country",
                "currency",
                "request_amount",
                "channel_code",
                "channel_properties",
            ],
            "allOf": [
                # Payments_API_Pay with CARDS carries card_details; PayWithToken never does.
                {
                    "if": {"required": ["payment_token_id"]},
                    "then": {
                        "properties": {
                            "channel_code": {"const": "CARDS"},
                            "channel_properties": {"not": {"required": ["card_details"]}},
                        }
                    },
                    "else": {
                        "if": {
                            "properties": {"channel_code": {"const": "CARDS"}},
                            "required": ["channel_code"],
                        },
                        "then": {
                            "properties": {"channel_properties": {"required": ["card_details"]}}
                        },
                    },
                },
            ]
            + [
                {
                    "if": {"properties": {"channel_code": code}, "required": ["channel_code"]},
                    "then": {"properties": {"channel_properties": properties}},
                }
                for code, properties in CHANNEL_PROPERTIES
            ]
            + [
                {
                    "properties": {
                        "channel_code": {
                            "anyOf": [code for code, _ in CHANNEL_PROPERTIES],
                        }
                    }
                }
            ],
        },
    },
    "POST /v3/payment_tokens": {
        "doc": f"{REFERENCE}/create-payment-token (Payments_API_CreatePaymentToken, cards)",
        "api_version": True,
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "reference_id": {"type": "string", "minLength": 1, "maxLength": 255},
                "country": COUNTRY,
                "currency": CURRENCY,
                "channel_code": {"const": "CARDS"},
                "channel_properties": _props(
                    {
                        "card_details": CARD_DETAILS,
                        "success_return_url": RETURN_URL,
                        "failure_return_url": RETURN_URL,
                        "skip_three_ds": {"type": "boolean"},
                        "mid_label": {"type": "string"},
                        "card_on_file_type": CARD_ON_FILE,
                    },
                    ["card_details"],
                ),
                "customer_id": {"type": "string", "maxLength": 41},
                "description": {"type": "string", "minLength": 1, "maxLength": 1000},
                "metadata": METADATA,
            },
            "required": [
                "reference_id",
                "country",
                "currency",
                "channel_code",
                "channel_properties",
            ],
        },
    },
    "GET /v3/payment_requests/{payment_request_id}": {
        "doc": f"{REFERENCE}/get-payment-request",
        "api_version": True,
        "body": None,
    },
    "POST /v3/payments/{payment_id}/capture": {
        "doc": f"{REFERENCE}/capture-payment",
        "api_version": True,
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"capture_amount": {"type": "number", "minimum": 0}},
            "required": ["capture_amount"],
        },
    },
    "POST /v3/payments/{payment_id}/cancel": {
        "doc": f"{REFERENCE}/cancel-payment",
        "api_version": True,
        "body": None,
    },
    "POST /refunds": {
        "doc": f"{REFERENCE}/refund-payment-request (Payments_API_Refund)",
        "api_version": False,
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "payment_request_id": PR_ID,
                "reference_id": {"type": "string", "minLength": 1, "maxLength": 255},
                "currency": CURRENCY,
                "amount": {"type": "number", "exclusiveMinimum": 0},
                "reason": {
                    "enum": [
                        "FRAUDULENT",
                        "DUPLICATE",
                        "REQUESTED_BY_CUSTOMER",
                        "CANCELLATION",
                        "OTHERS",
                    ]
                },
                "metadata": METADATA,
            },
            "required": ["payment_request_id", "reason"],
            "dependentRequired": {"amount": ["currency"]},
        },
    },
    "GET /refunds/{refund_id}": {"doc": "GET /refunds/{id}", "api_version": False, "body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)
#: Paths of the reference the sketch lacks (it has no capture or cancel of a payment).
NOT_IN_THE_SKETCH = {
    "POST /v3/payments/{payment_id}/capture",
    "POST /v3/payments/{payment_id}/cancel",
}
#: The sketch's path parameter names → the reference's.
SKETCH_PATHS = {
    "/v3/payment_requests/{payment_request_id}": "/v3/payment_requests/{payment_request_id}",
    "/refunds/{refund_id}": "/refunds/{refund_id}",
}

ACTION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["PRESENT_TO_CUSTOMER", "REDIRECT_CUSTOMER", "API_POST_REQUEST"]},
        "descriptor": {
            "enum": [
                "CAPTURE_PAYMENT",
                "PAYMENT_CODE",
                "QR_STRING",
                "VIRTUAL_ACCOUNT_NUMBER",
                "WEB_URL",
                "DEEPLINK_URL",
                "VALIDATE_OTP",
                "RESEND_OTP",
            ]
        },
        "value": {"type": "string", "minLength": 1},
    },
    "required": ["type", "descriptor", "value"],
}
FAILURE_CODES = [
    "ACCOUNT_ACCESS_BLOCKED",
    "INVALID_MERCHANT_SETTINGS",
    "INVALID_ACCOUNT_DETAILS",
    "PAYMENT_ATTEMPT_COUNTS_EXCEEDED",
    "USER_DEVICE_UNREACHABLE",
    "CHANNEL_UNAVAILABLE",
    "INSUFFICIENT_BALANCE",
    "ACCOUNT_NOT_ACTIVATED",
    "INVALID_TOKEN",
    "SERVER_ERROR",
    "PARTNER_TIMEOUT_ERROR",
    "TIMEOUT_ERROR",
    "USER_DECLINED_PAYMENT",
    "USER_DID_NOT_AUTHORIZE",
    "PAYMENT_REQUEST_EXPIRED",
    "FAILURE_DETAILS_UNAVAILABLE",
    "EXPIRED_OTP",
    "INVALID_OTP",
    "PAYMENT_AMOUNT_LIMITS_EXCEEDED",
    "OTP_ATTEMPT_COUNTS_EXCEEDED",
    "CARD_DECLINED",
    "DECLINED_BY_ISSUER",
    "ISSUER_UNAVAILABLE",
    "INVALID_CVV",
    "DECLINED_BY_PROCESSOR",
    "CAPTURE_AMOUNT_EXCEEDED",
    "AUTHENTICATION_FAILED",
    "PROCESSOR_ERROR",
    "EXPIRED_CARD",
    "STOLEN_CARD",
    "INACTIVE_OR_UNAUTHORIZED_CARD",
    "INVALID_MERCHANT_CREDENTIALS",
    "SUSPECTED_FRAUDULENT",
]
#: Payments_API_PaymentRequestSchema.
PAYMENT_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "business_id": {"type": "string"},
        "reference_id": {"type": "string"},
        "payment_request_id": PR_ID,
        "payment_token_id": {"type": "string"},
        "customer_id": {"type": "string"},
        "latest_payment_id": {"type": "string", "pattern": "^py-"},
        "type": {"enum": ["PAY", "PAY_AND_SAVE", "REUSABLE_PAYMENT_CODE"]},
        "country": COUNTRY,
        "currency": CURRENCY,
        "request_amount": {"type": "number"},
        "capture_method": {"enum": ["AUTOMATIC", "MANUAL"]},
        "channel_code": {"type": "string"},
        "channel_properties": {"type": "object"},
        "actions": {"type": "array", "items": ACTION},
        "status": {
            "enum": [
                "ACCEPTING_PAYMENTS",
                "REQUIRES_ACTION",
                "AUTHORIZED",
                "CANCELED",
                "EXPIRED",
                "SUCCEEDED",
                "FAILED",
            ]
        },
        "failure_code": {"enum": FAILURE_CODES},
        "description": {"type": "string"},
        "metadata": {"type": "object"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    },
    "required": ["payment_request_id", "reference_id", "status", "request_amount", "currency"],
}
#: Payments_API_PaymentSchema.
PAYMENT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "payment_id": {"type": "string", "pattern": "^py-"},
        "business_id": {"type": "string"},
        "reference_id": {"type": "string"},
        "payment_request_id": PR_ID,
        "payment_token_id": {"type": "string"},
        "customer_id": {"type": "string"},
        "type": {"enum": ["PAY", "PAY_AND_SAVE", "REUSABLE_PAYMENT_CODE"]},
        "country": COUNTRY,
        "currency": CURRENCY,
        "request_amount": {"type": "number"},
        "capture_method": {"enum": ["AUTOMATIC", "MANUAL"]},
        "channel_code": {"type": "string"},
        "captures": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "capture_timestamp": {"type": "string", "format": "date-time"},
                    "capture_id": {"type": "string", "pattern": "^cap-"},
                    "capture_amount": {"type": "number", "minimum": 0},
                },
            },
        },
        "status": {"enum": ["AUTHORIZED", "CANCELED", "SUCCEEDED", "FAILED", "EXPIRED", "PENDING"]},
        "payment_details": {"type": "object"},
        "failure_code": {"enum": FAILURE_CODES},
        "metadata": {"type": "object"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    },
    "required": ["payment_id", "payment_request_id", "status", "request_amount", "currency"],
}
#: Payments_API_RefundSchema.
REFUND: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^rfd-"},
        "payment_request_id": PR_ID,
        "payment_id": {"type": "string"},
        "invoice_id": {"type": ["string", "null"]},
        "payment_method_type": {"enum": ["CARD", "EWALLET", "DIRECT_DEBIT"]},
        "reference_id": {"type": "string"},
        "channel_code": {"type": "string"},
        "currency": CURRENCY,
        "amount": {"type": "number", "exclusiveMinimum": 0},
        "status": {"enum": ["SUCCEEDED", "FAILED", "PENDING", "CANCELLED"]},
        "reason": {
            "enum": ["FRAUDULENT", "DUPLICATE", "REQUESTED_BY_CUSTOMER", "CANCELLATION", "OTHERS"]
        },
        "failure_code": {
            "enum": [
                "ACCOUNT_ACCESS_BLOCKED",
                "ACCOUNT_NOT_FOUND",
                "DUPLICATE_ERROR",
                "INSUFFICIENT_BALANCE",
                "REFUND_FAILED",
                None,
            ]
        },
        "refund_fee_amount": {"type": ["number", "null"]},
        "metadata": {"type": ["object", "null"]},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    },
    "required": ["id", "payment_request_id", "amount", "currency", "status"],
}
#: Payments_API_PaymentTokenSchema (the create-payment-token answers).
PAYMENT_TOKEN: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "payment_token_id": PT_ID,
        "business_id": {"type": "string"},
        "customer_id": {"type": "string"},
        "reference_id": {"type": "string"},
        "country": COUNTRY,
        "currency": CURRENCY,
        "channel_code": {"type": "string"},
        "channel_properties": {"type": "object"},
        "actions": {"type": "array", "items": ACTION},
        "status": {
            "enum": ["REQUIRES_ACTION", "PENDING", "ACTIVE", "FAILED", "EXPIRED", "CANCELED"]
        },
        "token_details": {"type": "object"},
        "failure_code": {"enum": FAILURE_CODES},
        "description": {"type": "string"},
        "metadata": {"type": "object"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
    },
    "required": ["payment_token_id", "reference_id", "channel_code", "status"],
}
#: The error objects (Payments_API_Http4xx/5xx…): exactly error_code and message.
ERROR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "error_code": {"type": "string", "pattern": "^[A-Z0-9_]+$"},
        "message": {"type": "string"},
    },
    "required": ["error_code", "message"],
}


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    )


def _built(name: str) -> list[Any]:
    data = SCENARIOS[name]
    connector = load_connector("xendit")
    answers = data["responses"] if "responses" in data else [data["response"]]
    steps: dict[str, Any] = {}
    built = []
    for index, answer in enumerate(answers):
        request = connector.build_request(
            data["flow"], data["request"], CREDENTIALS, step=index, steps=steps
        )
        built.append(request)
        if index < len(answers) - 1:
            response = HttpResponse(answer["status"], {}, json.dumps(answer["body"]).encode())
            step = connector.plan.flows[data["flow"]].steps[index].name
            steps[step] = connector.parse_step(data["flow"], index, data["request"], response)
    return built


def _key_of(request: Any) -> tuple[str, dict[str, str]]:
    split = urlsplit(request.url)
    assert split.scheme == "https" and split.netloc == "api.xendit.co"
    return ENDPOINT_INDEX.match(request.method, split.path)


# --- the sketch ------------------------------------------------------------------------------


def test_the_sketch_is_the_recorded_copy() -> None:
    assert hashlib.sha256(SKETCH_PATH.read_bytes()).hexdigest() == SKETCH_SHA256


def test_the_sketch_lists_the_payment_request_and_refund_paths() -> None:
    sketch = yaml.safe_load(SKETCH_PATH.read_text("utf-8"))
    operations = {
        f"{method.upper()} {SKETCH_PATHS.get(path, path)}"
        for path, item in sketch["paths"].items()
        for method in item
        if method in ("get", "post")
    }
    assert set(ENDPOINTS) - NOT_IN_THE_SKETCH <= operations, set(ENDPOINTS) - operations
    assert not NOT_IN_THE_SKETCH & operations, "listed as missing, yet in the sketch"
    assert sketch["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"


def test_the_sketch_models_the_v2_body_not_v3() -> None:
    """The sketch's PaymentRequestInput (amount + payment_method) is Payment API v2's: the v3
    body this spec sends (request_amount + channel_code) breaks it, and its own shape breaks
    the v3 schema of Xendit's reference."""
    sketch = yaml.safe_load(SKETCH_PATH.read_text("utf-8"))
    v2 = sketch["components"]["schemas"]["PaymentRequestInput"]
    body = json.loads(_built("authorize_card_3ds_redirect")[0].body or b"")
    assert _problems(v2, body) == ["<root>: 'amount' is a required property"]
    v2_body = {"reference_id": "r-1", "currency": "IDR", "amount": 10000, "payment_method": {}}
    assert _problems(ENDPOINTS["POST /v3/payment_requests"]["body"], v2_body)


# --- requests --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_xendit_operations_with_documented_bodies(name: str) -> None:
    for built in _built(name):
        key, params = _key_of(built)
        for value in params.values():
            assert value.startswith(("pr-", "py-", "rfd-")), f"{key}: path id {value!r}"
        user = base64.b64decode(built.headers["Authorization"].removeprefix("Basic ")).decode()
        assert user == f"{CREDENTIALS['secret_key']}:"  # the key, then an empty password
        if ENDPOINTS[key]["api_version"]:
            assert built.headers["api-version"] == "2024-11-11"
        else:
            assert "api-version" not in built.headers, key
        schema = ENDPOINTS[key]["body"]
        if schema is None:
            assert not built.body, f"{key} takes no body"
            continue
        problems = _problems(schema, json.loads(built.body or b"null"))
        assert not problems, f"{name}: {key} body breaks Xendit's reference: {problems}"


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered(
        (request for name in BUILDABLE for request in _built(name)), ENDPOINTS
    )


def _body(name: str, index: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name)[index].body or b"")
    return body


PAY = ENDPOINTS["POST /v3/payment_requests"]["body"]


@pytest.mark.parametrize(
    ("label", "scenario", "edit"),
    [
        (
            "amount as text",
            "authorize_card_3ds_redirect",
            lambda b: b.update(request_amount="100000"),
        ),
        (
            "no channel_properties",
            "authorize_card_3ds_redirect",
            lambda b: b.pop("channel_properties"),
        ),
        (
            "a country Xendit has not",
            "authorize_card_3ds_redirect",
            lambda b: b.update(country="IN"),
        ),
        (
            "lower-case capture",
            "authorize_card_3ds_redirect",
            lambda b: b.update(capture_method="manual"),
        ),
        (
            "the month as a number",
            "authorize_card_3ds_redirect",
            lambda b: b["channel_properties"]["card_details"].update(expiry_month=12),
        ),
        (
            "a misspelt card field",
            "authorize_card_3ds_redirect",
            lambda b: b["channel_properties"]["card_details"].update(cvv="123"),
        ),
        (
            "v2's amount",
            "authorize_card_3ds_redirect",
            lambda b: b.update(amount=b["request_amount"]),
        ),
        (
            "a wallet without return URLs",
            "authorize_shopeepay_redirect",
            lambda b: b["channel_properties"].pop("success_return_url"),
        ),
        (
            "an http return URL",
            "authorize_gcash_redirect",
            lambda b: b["channel_properties"].update(failure_return_url="http://shop.example.ph/x"),
        ),
        (
            "a virtual account without display_name",
            "authorize_bca_virtual_account",
            lambda b: b["channel_properties"].pop("display_name"),
        ),
        ("an unknown channel", "authorize_qris", lambda b: b.update(channel_code="QR_CODE")),
        (
            "a card payment without its card",
            "authorize_card_3ds_redirect",
            lambda b: b["channel_properties"].pop("card_details"),
        ),
        (
            "a token payment with card details too",
            "charge_recurring_token_succeeded",
            lambda b: b["channel_properties"].update(card_details={"card_number": "4000"}),
        ),
        (
            "a token that is not a pt- id",
            "charge_recurring_token_succeeded",
            lambda b: b.update(payment_token_id="tok_123"),
        ),
        (
            "an unknown card-on-file type",
            "charge_recurring_token_succeeded",
            lambda b: b["channel_properties"].update(card_on_file_type="UNSCHEDULED"),
        ),
    ],
)
def test_the_payment_request_schema_rejects_broken_bodies(
    label: str, scenario: str, edit: Any
) -> None:
    body = _body(scenario)
    assert _problems(PAY, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(PAY, broken), label


def test_setup_saves_the_card_as_a_token_and_charge_pays_with_it() -> None:
    token = ENDPOINTS["POST /v3/payment_tokens"]["body"]
    saved = _body("setup_recurring_card_active")
    assert (
        saved["channel_code"] == "CARDS" and "type" not in saved and "request_amount" not in saved
    )
    assert saved["channel_properties"]["card_on_file_type"] == "MERCHANT_UNSCHEDULED"
    assert saved["channel_properties"]["card_details"]["expiry_month"] == "09"
    assert _problems(token, saved) == []
    broken = copy.deepcopy(saved)
    broken["channel_properties"].pop("card_details")
    assert _problems(token, broken)  # Create_Payment_Token_Cards needs the card
    assert _problems(token, {**saved, "request_amount": 0})  # a token is no payment
    charged = _body("charge_recurring_token_succeeded")
    assert (
        charged["payment_token_id"]
        == SCENARIOS["charge_recurring_token_succeeded"]["request"]["mandate_id"]
    )
    assert _body("charge_recurring_400_invalid_token")["capture_method"] == "MANUAL"


def test_the_refund_and_capture_schemas_reject_broken_bodies() -> None:
    refund = ENDPOINTS["POST /refunds"]["body"]
    body = _body("refund_partial_pending")
    assert body == {
        "payment_request_id": "pr-90392f42-d98a-49ef-a7f3-abcef0000123",
        "reference_id": "refund_order_123456",
        "currency": "IDR",
        "amount": 25000,
        "reason": "REQUESTED_BY_CUSTOMER",
    }
    for edit in (
        lambda b: b.pop("reason"),
        lambda b: b.update(reason="requested_by_customer"),
        lambda b: b.update(amount=0),
        lambda b: b.pop("currency"),
        lambda b: b.update(refund_amount=b["amount"]),
    ):
        broken = copy.deepcopy(body)
        edit(broken)
        assert _problems(refund, broken)
    capture = ENDPOINTS["POST /v3/payments/{payment_id}/capture"]["body"]
    assert _problems(capture, {"capture_amount": "100000"})
    assert _problems(capture, {"amount": 100000})


@pytest.mark.parametrize(
    ("name", "index", "field", "written"),
    [
        ("authorize_card_3ds_redirect", 0, "request_amount", "100000"),
        ("authorize_shopeepay_redirect", 0, "request_amount", "1250.00"),
        ("authorize_grabpay_redirect", 0, "request_amount", "150.00"),
        ("capture_partial", 1, "capture_amount", "100000"),
        ("refund_partial_pending", 0, "amount", "25000"),
    ],
)
def test_amounts_are_major_unit_numbers_idr_whole(
    name: str, index: int, field: str, written: str
) -> None:
    body = _built(name)[index].body or b""
    assert f'"{field}":{written}'.encode() in body
    assert json.loads(body, parse_float=Decimal)[field] == Decimal(written)


def test_channel_codes_follow_the_payment_method() -> None:
    codes = {
        name: _body(name)["channel_code"]
        for name in BUILDABLE
        if SCENARIOS[name]["flow"] == "authorize"
    }
    assert codes["authorize_card_3ds_redirect"] == "CARDS"
    assert codes["authorize_shopeepay_redirect"] == "SHOPEEPAY"
    assert codes["authorize_maya_redirect"] == "PAYMAYA"
    assert codes["authorize_bca_virtual_account"] == "BCA_VIRTUAL_ACCOUNT"
    assert codes["authorize_qris"] == "QRIS"
    # the country follows the currency
    assert _body("authorize_gcash_redirect")["country"] == "PH"
    assert _body("authorize_grabpay_redirect")["country"] == "MY"
    assert _body("authorize_card_manual_authorized")["capture_method"] == "MANUAL"


def test_capture_and_void_act_on_the_latest_payment() -> None:
    read, capture = _built("capture_full")
    assert urlsplit(read.url).path == "/v3/payment_requests/pr-90392f42-d98a-49ef-a7f3-abcef0000125"
    assert (
        urlsplit(capture.url).path == "/v3/payments/py-2402feb0-bb79-47ae-9d1e-e69394d3949c/capture"
    )
    _, cancel = _built("void_canceled")
    assert (
        urlsplit(cancel.url).path == "/v3/payments/py-2402feb0-bb79-47ae-9d1e-e69394d3949c/cancel"
    )


# --- answers ---------------------------------------------------------------------------------


def _answers() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        if "raises" in data["expect"]:
            continue
        answers = data["responses"] if "responses" in data else [data["response"]]
        for request, answer in zip(_built(name), answers, strict=False):
            if "body" in answer:
                found.append((name, _key_of(request)[0], answer))
    return found


@pytest.mark.parametrize(("name", "key", "answer"), _answers(), ids=lambda v: str(v)[:50])
def test_fixture_answers_have_documented_shapes(name: str, key: str, answer: Any) -> None:
    if answer["status"] >= 400:
        schema = ERROR
    elif key.startswith(("POST /refunds", "GET /refunds")):
        schema = REFUND
    elif key.startswith("POST /v3/payments/"):
        schema = PAYMENT
    elif key == "POST /v3/payment_tokens":
        schema = PAYMENT_TOKEN
    else:
        schema = PAYMENT_REQUEST
    assert _problems(schema, answer["body"]) == [], name


# --- webhooks --------------------------------------------------------------------------------

PAYMENT_EVENT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "event": {"enum": ["payment.capture", "payment.authorization", "payment.failure"]},
        "business_id": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "data": {
            **PAYMENT,
            # The webhook examples carry the request's description and channel_properties.
            "properties": {
                **PAYMENT["properties"],
                "description": {"type": "string"},
                "channel_properties": {"type": "object"},
            },
        },
    },
    "required": ["event", "business_id", "created", "data"],
}
REFUND_EVENT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "event": {"enum": ["refund.succeeded", "refund.failed"]},
        "business_id": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "data": REFUND,
    },
    "required": ["event", "business_id", "created", "data"],
}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_tokens(name: str) -> None:
    data = WEBHOOKS[name]
    token = {k.lower(): v for k, v in data["headers"].items()}.get("x-callback-token")
    if token is None:
        assert name == "missing_token"
        return
    matches = hmac.compare_digest(token.encode(), str(data["secret"]).encode())
    assert matches == (name != "wrong_token"), name


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_bodies_have_the_documented_shapes(name: str) -> None:
    body = json.loads(WEBHOOKS[name]["body_text"])
    schema = REFUND_EVENT if body["event"].startswith("refund.") else PAYMENT_EVENT
    assert _problems(schema, body) == [], name


def test_webhook_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {
        ("payment.captured",),
        ("payment.authorized",),
        ("payment.failed",),
        ("refund.succeeded",),
        ("refund.failed",),
    } <= outcomes
    assert rejections == {"bad_signature", "missing_signature"}
