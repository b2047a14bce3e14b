"""Worldline Direct checks, against Worldline's published models rather than our spec.

Worldline publishes no OpenAPI description for Direct. The official Python SDK
(wl-online-payments-direct/sdk-python3 8.4.0, commit f333f4c4) carries a model class per request
and response object; worldline-sdk-models.json is a mechanical extraction of them (each model's
to_dictionary() keys and declared types, closed), and:

- every request the spec builds for a scenario is an SDK endpoint (merchant/*/…_client.py paths),
  method and path, on the preprod host, and its body validates against the SDK's request model
  (CreatePaymentRequest, CapturePaymentRequest, CancelPaymentRequest, RefundRequest), closed, with
  the constraints of the API reference on top (amounts integer minor units, MMYY expiry dates,
  one payment method input, the idempotence key's 40 ASCII characters); the schemas can fail:
  broken bodies are rejected;
- the processor answers in the fixtures validate against the SDK's response models
  (CreatePaymentResponse, PaymentResponse, CaptureResponse, …, PaymentErrorResponse), closed, so
  they cannot drift into shapes that only agree with the spec;
- the v1HMAC Authorization header of every request is recomputed here with hmac/hashlib from the
  string V1HmacAuthenticator.to_data_to_sign builds, independently of the engine;
- webhook fixture signatures are recomputed here: base64(HMAC-SHA256(secret, raw body))
  (webhooks/signature_validator.py).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
MODELS_PATH = HERE / "worldline-sdk-models.json"
MODELS_SHA256 = "ef22b8eea2bd877e286d5ff90ea325b226037925d9cef8cdc6df14b74c8afd10"
MODELS: dict[str, Any] = json.loads(MODELS_PATH.read_text("utf-8"))
CREDENTIALS = credentials_for("worldline")
SCENARIOS = fixtures_of("worldline", "scenarios")
WEBHOOKS = fixtures_of("worldline", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
HOST = "payment.preprod.direct.worldline-solutions.com"
MID = CREDENTIALS["merchant_id"]


def _model(name: str, *extra: dict[str, Any]) -> dict[str, Any]:
    """The SDK model `name` (closed), with further constraints of the API reference."""
    schema: dict[str, Any] = {"$defs": MODELS["$defs"], "$ref": f"#/$defs/{name}"}
    if extra:
        schema = {"$defs": MODELS["$defs"], "allOf": [{"$ref": f"#/$defs/{name}"}, *extra]}
    return schema


CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}
MONEY: dict[str, Any] = {
    "type": "object",
    "properties": {"amount": {"type": "integer", "minimum": 0}, "currencyCode": CURRENCY},
    "required": ["amount", "currencyCode"],
}
#: "Maintenance operations", "API reference > CreatePayment": what the models do not say.
CREATE_PAYMENT = _model(
    "CreatePaymentRequest",
    {
        "required": ["order"],
        "properties": {
            "order": {
                "required": ["amountOfMoney"],
                "properties": {
                    "amountOfMoney": MONEY,
                    "references": {
                        "properties": {"merchantReference": {"maxLength": 40}},
                    },
                },
            },
            "cardPaymentMethodSpecificInput": {
                "properties": {
                    "authorizationMode": {
                        "enum": ["FINAL_AUTHORIZATION", "PRE_AUTHORIZATION", "SALE"]
                    },
                    "paymentProductId": {"enum": [1, 2, 3, 56, 117, 125, 128, 130, 132]},
                    "card": {
                        "required": ["cardNumber", "expiryDate"],
                        "properties": {
                            "cardNumber": {"pattern": "^[0-9]{12,19}$"},
                            "cvv": {"pattern": "^[0-9]{3,4}$"},
                            "expiryDate": {"pattern": "^(0[1-9]|1[0-2])[0-9]{2}$"},
                        },
                    },
                    "unscheduledCardOnFileRequestor": {
                        "enum": ["merchantInitiated", "cardholderInitiated"]
                    },
                    "unscheduledCardOnFileSequenceIndicator": {"enum": ["first", "subsequent"]},
                    "recurring": {
                        "properties": {
                            "recurringPaymentSequenceIndicator": {"enum": ["first", "recurring"]}
                        }
                    },
                    "transactionChannel": {"enum": ["ECOMMERCE", "MOTO"]},
                    "threeDSecure": {
                        "properties": {
                            "challengeIndicator": {
                                "enum": [
                                    "no-preference",
                                    "no-challenge-requested",
                                    "challenge-requested",
                                    "challenge-required",
                                ]
                            },
                            "exemptionRequest": {
                                "enum": [
                                    "none",
                                    "automatic",
                                    "transaction-risk-analysis",
                                    "low-value",
                                    "whitelist",
                                ]
                            },
                            "externalCardholderAuthenticationData": {
                                "required": ["cavv", "eci"],
                                "properties": {"threeDSecureVersion": {"pattern": "^2\\.[0-9.]+$"}},
                            },
                        }
                    },
                },
                "oneOf": [{"required": ["card"]}, {"required": ["token"]}],
            },
            "mobilePaymentMethodSpecificInput": {
                "required": ["paymentProductId"],
                "properties": {
                    # 302 Apple Pay, 320 Google Pay.
                    "paymentProductId": {"enum": [302, 320]},
                    "authorizationMode": {"enum": ["FINAL_AUTHORIZATION", "SALE"]},
                    "decryptedPaymentData": {
                        "required": ["dpan", "expiryDate", "cryptogram"],
                        "properties": {"expiryDate": {"pattern": "^(0[1-9]|1[0-2])[0-9]{2}$"}},
                    },
                },
                "oneOf": [
                    {"required": ["encryptedPaymentData"]},
                    {"required": ["decryptedPaymentData"]},
                ],
            },
            "redirectPaymentMethodSpecificInput": {
                "required": ["paymentProductId", "redirectionData"],
                # 809 iDEAL, 840 PayPal.
                "properties": {
                    "paymentProductId": {"enum": [809, 840]},
                    "redirectionData": {"required": ["returnUrl"]},
                },
            },
        },
        # Exactly one payment method input.
        "oneOf": [
            {"required": [kind]}
            for kind in (
                "cardPaymentMethodSpecificInput",
                "mobilePaymentMethodSpecificInput",
                "redirectPaymentMethodSpecificInput",
            )
        ],
    },
)

#: Endpoints of the SDK (onlinepayments/sdk/merchant/*/…_client.py) this spec uses.
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /v2/{merchantId}/payments": {"body": CREATE_PAYMENT},
    "POST /v2/{merchantId}/payments/{paymentId}/capture": {
        "body": _model(
            "CapturePaymentRequest", {"properties": {"amount": {"type": "integer", "minimum": 1}}}
        )
    },
    "POST /v2/{merchantId}/payments/{paymentId}/cancel": {
        "body": _model("CancelPaymentRequest", {"properties": {"amountOfMoney": MONEY}})
    },
    "POST /v2/{merchantId}/payments/{paymentId}/refund": {
        "body": _model("RefundRequest", {"properties": {"amountOfMoney": MONEY}})
    },
    "GET /v2/{merchantId}/payments/{paymentId}": {"body": None},
    "GET /v2/{merchantId}/payments/{paymentId}/refunds": {"body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)

#: The answer model of each flow (2xx) and of an error (4xx/5xx) of each endpoint.
ANSWERS = {
    "authorize": "CreatePaymentResponse",
    "setup_recurring": "CreatePaymentResponse",
    "charge_recurring": "CreatePaymentResponse",
    "capture": "CaptureResponse",
    "void": "CancelPaymentResponse",
    "refund": "RefundResponse",
    "get": "PaymentResponse",
    "get_refund": "RefundsResponse",
}
ERRORS = {
    "authorize": "PaymentErrorResponse",
    "setup_recurring": "PaymentErrorResponse",
    "charge_recurring": "PaymentErrorResponse",
    "refund": "RefundErrorResponse",
}


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    # The fixed clock of the scenario runner (2026-01-01T00:00:00Z).
    return load_connector("worldline").build_request(
        data["flow"], data["request"], CREDENTIALS, now=1_767_225_600.0
    )


# --- the models file --------------------------------------------------------------------------


def test_the_models_file_is_the_recorded_extraction() -> None:
    assert hashlib.sha256(MODELS_PATH.read_bytes()).hexdigest() == MODELS_SHA256
    Draft202012Validator.check_schema(MODELS)
    for name in ("CreatePaymentRequest", "PaymentResponse", "APIError", "WebhooksEvent"):
        assert MODELS["$defs"][name]["additionalProperties"] is False


# --- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_sdk_endpoints_with_documented_bodies(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == HOST
    key, params = ENDPOINT_INDEX.match(built.method, split.path)
    assert params["merchantId"] == MID
    if "paymentId" in params:
        assert params["paymentId"].split("_")[0].isdigit(), params
    schema = ENDPOINTS[key]["body"]
    if schema is None:
        assert not built.body, f"{key} takes no body"
        assert "X-GCS-Idempotence-Key" not in built.headers
        return
    assert built.headers["Content-Type"] == "application/json"
    problems = _problems(schema, json.loads(built.body or b"{}"))
    assert not problems, f"{name}: {key} body breaks the SDK model: {problems}"
    key_header = built.headers["X-GCS-Idempotence-Key"]
    assert key_header == SCENARIOS[name]["request"]["idempotency_key"]
    assert len(key_header) <= 40 and key_header.isascii()


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered((_built(name) for name in BUILDABLE), ENDPOINTS)


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name).body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("amount as a string", lambda b: b["order"]["amountOfMoney"].update(amount="10.99")),
        ("no currency", lambda b: b["order"]["amountOfMoney"].pop("currencyCode")),
        (
            "expiry with the year first",
            lambda b: b["cardPaymentMethodSpecificInput"]["card"].update(expiryDate="3012"),
        ),
        (
            "a misspelt card field",
            lambda b: b["cardPaymentMethodSpecificInput"]["card"].update(cardNumbr="4111"),
        ),
        (
            "an unknown authorization mode",
            lambda b: b["cardPaymentMethodSpecificInput"].update(authorizationMode="AUTH"),
        ),
        (
            "two payment method inputs",
            lambda b: b.update(redirectPaymentMethodSpecificInput={"paymentProductId": 809}),
        ),
        ("no payment method input", lambda b: b.pop("cardPaymentMethodSpecificInput")),
        ("a field the SDK does not have", lambda b: b["order"].update(captureMethod="manual")),
        (
            "a reference over 40 characters",
            lambda b: b["order"]["references"].update(merchantReference="r" * 41),
        ),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, edit: Any) -> None:
    body = _body("authorize_sale_captured")
    schema = ENDPOINTS["POST /v2/{merchantId}/payments"]["body"]
    assert _problems(schema, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(schema, broken), label


def test_the_card_is_written_as_the_sdk_writes_it() -> None:
    card_input = _body("authorize_sale_captured")["cardPaymentMethodSpecificInput"]
    assert card_input["card"] == {
        "cardNumber": "4111111111111111",
        "cvv": "123",
        "expiryDate": "1230",
        "cardholderName": "Wile E. Coyote",
    }
    assert card_input["paymentProductId"] == 1 and card_input["authorizationMode"] == "SALE"
    manual = _body("authorize_final_authorization_pending_capture")
    assert manual["cardPaymentMethodSpecificInput"]["authorizationMode"] == "FINAL_AUTHORIZATION"
    assert manual["cardPaymentMethodSpecificInput"]["card"]["expiryDate"] == "0631"
    assert manual["cardPaymentMethodSpecificInput"]["paymentProductId"] == 3


def test_amounts_are_integer_minor_units() -> None:
    assert b'"amountOfMoney":{"amount":1099,"currencyCode":"EUR"}' in (
        _built("authorize_sale_captured").body or b""
    )
    assert _body("capture_partial_not_final") == {"amount": 10000, "isFinal": False}
    assert _body("refund_partial_requested")["amountOfMoney"] == {
        "amount": 500,
        "currencyCode": "EUR",
    }
    # No amount: everything that was captured (RefundRequest without amountOfMoney).
    assert "amountOfMoney" not in _body("refund_full_without_amount")


def test_redirect_methods_and_wallets() -> None:
    ideal = _body("authorize_ideal_redirect")["redirectPaymentMethodSpecificInput"]
    assert ideal["paymentProductId"] == 809
    assert ideal["paymentProduct809SpecificInput"] == {"issuerId": "INGBNL2A"}
    assert ideal["redirectionData"] == {"returnUrl": "https://shop.example.com/return"}
    paypal = _body("authorize_paypal_redirect_manual")["redirectPaymentMethodSpecificInput"]
    assert paypal["paymentProductId"] == 840 and paypal["requiresApproval"] is True
    apple = _body("authorize_apple_pay_decrypted")["mobilePaymentMethodSpecificInput"]
    assert apple["paymentProductId"] == 302
    assert apple["decryptedPaymentData"]["expiryDate"] == "1129"
    assert apple["decryptedPaymentData"]["eci"] == 7
    google = _body("authorize_google_pay_token_manual")["mobilePaymentMethodSpecificInput"]
    assert google["paymentProductId"] == 320
    assert google["authorizationMode"] == "FINAL_AUTHORIZATION"
    assert json.loads(google["encryptedPaymentData"])["protocolVersion"] == "ECv2"


def test_setup_tokenizes_a_first_cardholder_initiated_authorization() -> None:
    card = _body("setup_recurring_card_tokenized")["cardPaymentMethodSpecificInput"]
    assert card["tokenize"] is True and card["authorizationMode"] == "FINAL_AUTHORIZATION"
    assert card["unscheduledCardOnFileRequestor"] == "cardholderInitiated"
    assert card["unscheduledCardOnFileSequenceIndicator"] == "first"
    assert card["paymentProductId"] == 1 and card["card"]["expiryDate"] == "1230"
    assert card["threeDSecure"]["redirectionData"]["returnUrl"] == "https://shop.example.com/return"
    challenged = _body("setup_recurring_3ds_challenge_redirect")["cardPaymentMethodSpecificInput"]
    assert challenged["threeDSecure"]["challengeIndicator"] == "challenge-requested"


def test_card_on_file_fields() -> None:
    first = _body("authorize_tokenize_for_later")["cardPaymentMethodSpecificInput"]
    assert first["tokenize"] is True
    assert first["unscheduledCardOnFileRequestor"] == "cardholderInitiated"
    assert first["unscheduledCardOnFileSequenceIndicator"] == "first"
    mit = _body("charge_recurring_merchant_initiated")["cardPaymentMethodSpecificInput"]
    assert mit["token"] == "0ea3fd8c-1d8c-4b52-97a1-6f2c8d9e3b7a"
    assert mit["unscheduledCardOnFileRequestor"] == "merchantInitiated"
    assert mit["initialSchemeTransactionId"] == "483297487231504"
    scheduled = _body("charge_recurring_subscription_declined")["cardPaymentMethodSpecificInput"]
    assert scheduled["isRecurring"] is True
    assert scheduled["recurring"] == {"recurringPaymentSequenceIndicator": "recurring"}
    assert "unscheduledCardOnFileRequestor" not in scheduled


# --- v1HMAC -----------------------------------------------------------------------------------


def _expected_authorization(built: Any, **changed: Any) -> str:
    """V1HmacAuthenticator.to_data_to_sign, written here from the SDK's description; `changed`
    replaces the request's method, url or headers."""
    headers = changed.get("headers", built.headers)
    method = changed.get("method", built.method)
    gcs = sorted(
        (name.lower(), " ".join(value.split()))
        for name, value in headers.items()
        if name.lower().startswith("x-gcs")
    )
    split = urlsplit(changed.get("url", built.url))
    resource = split.path + (f"?{split.query}" if split.query else "")
    text = (
        f"{method}\n{headers.get('Content-Type', '')}\n{headers['Date']}\n"
        + "".join(f"{name}:{value}\n" for name, value in gcs)
        + f"{resource}\n"
    )
    digest = hmac.new(
        CREDENTIALS["secret_api_key"].encode(), text.encode(), hashlib.sha256
    ).digest()
    return f"GCS v1HMAC:{CREDENTIALS['api_key_id']}:{base64.b64encode(digest).decode()}"


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_the_v1hmac_signature_is_worldlines(name: str) -> None:
    built = _built(name)
    assert parsedate_to_datetime(built.headers["Date"]).timestamp() == 1_767_225_600
    assert built.headers["Date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert built.headers["Authorization"] == _expected_authorization(built)
    shown = json.dumps(built.redacted())
    assert CREDENTIALS["secret_api_key"] not in shown
    assert built.headers["Authorization"] not in shown


def test_the_signature_covers_the_idempotence_key_and_the_path() -> None:
    built = _built("authorize_sale_captured")
    # Without the x-gcs line (or with another path) the signature would differ.
    assert built.headers["Authorization"] == _expected_authorization(built)
    headers = {k: v for k, v in built.headers.items() if k != "X-GCS-Idempotence-Key"}
    assert _expected_authorization(built, headers=headers) != built.headers["Authorization"]
    moved = built.url.replace("/payments", "/payouts")
    assert _expected_authorization(built, url=moved) != built.headers["Authorization"]
    assert _expected_authorization(built, method="PUT") != built.headers["Authorization"]
    get = _built("get_pending_capture")
    assert "Content-Type" not in get.headers
    assert get.headers["Authorization"] == _expected_authorization(get)


# --- answers ----------------------------------------------------------------------------------


def _answers() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        answers = data["responses"] if "responses" in data else [data.get("response", {})]
        found += [(name, data["flow"], a) for a in answers if "body" in a]
    return found


@pytest.mark.parametrize(("name", "flow", "answer"), _answers(), ids=lambda v: str(v)[:40])
def test_fixture_answers_have_the_sdk_shapes(name: str, flow: str, answer: Any) -> None:
    model = ANSWERS[flow] if answer["status"] < 400 else ERRORS.get(flow, "ErrorResponse")
    assert _problems(_model(model), answer["body"]) == [], name


def test_the_answer_models_are_closed() -> None:
    answer = copy.deepcopy(SCENARIOS["authorize_sale_captured"]["response"]["body"])
    answer["payment"]["paymentOutput"]["capturedAmount"] = 1099  # not a PaymentOutput field
    assert _problems(_model("CreatePaymentResponse"), answer)


# --- webhooks ---------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = {k.lower(): v for k, v in data["headers"].items()}
    assert headers["x-gcs-keyid"]
    if "x-gcs-signature" not in headers:
        assert data["expect"] == {"rejected": "missing_signature"}
        return
    digest = hmac.new(data["secret"].encode(), data["body_text"].encode(), hashlib.sha256).digest()
    matches = hmac.compare_digest(base64.b64encode(digest).decode(), headers["x-gcs-signature"])
    assert matches == (name not in SIGNED_ELSEWHERE), name


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_bodies_are_sdk_events(name: str) -> None:
    assert _problems(_model("WebhooksEvent"), json.loads(WEBHOOKS[name]["body_text"])) == []


def test_webhook_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {("payment.captured",), ("payment.authorized",), ("refund.succeeded",)} <= outcomes
    assert rejections == {"bad_signature", "missing_signature"}
