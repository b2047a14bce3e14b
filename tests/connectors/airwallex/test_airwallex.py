"""Airwallex-specific checks, against Airwallex's published descriptions rather than our spec.

- every request the spec builds for a scenario (each step of authorize included) is an operation
  of the OpenAPI file (airwallex-openapi.yml here, a verbatim copy of the third-party sketch in
  processor-apis/airwallex/, paths only), method and path; the file writes the payment-intent
  paths without the /pa/ segment that Airwallex's API reference and its own demo code use,
  recorded below as a patch;
- the file has no request schemas, so each body is checked against a schema written by hand from
  the request models of the official @airwallex/node-sdk 2.0.0-beta.4 (dist/model/*RequestRaw.d.ts),
  closed so that a misspelt field fails; the schemas can fail: broken bodies are rejected;
- amounts are JSON numbers with the currency's exact digits (parsed as Decimal, never float);
- the processor answers in the fixtures have the documented shapes (PaymentIntent, Refund,
  the error envelope), so they cannot drift into shapes that only agree with the spec;
- the login: POST /api/v1/authentication/login with x-client-id / x-api-key, its {token,
  expires_at} answer, the token cached and sent as a bearer token, never printed;
- webhook fixture signatures are recomputed here with hmac/hashlib, independently of the engine:
  hex(HMAC-SHA256(secret, x-timestamp + raw body)).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import Client, HttpResponse, load_connector
from engine._tokens import MemoryTokenCache, build_token_request, parse_token_response

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
#: A verbatim copy of processor-apis/airwallex/airwallex-openapi.yml (api-evangelist/airwallex :
#: openapi/_original/airwallex-openapi.yml @ d468842033025e408ddf41aa2c9c369fdc75dfdf).
OPENAPI_PATH = HERE / "airwallex-openapi.yml"
OPENAPI_SHA256 = "26b8d456febcae3385a7c9dcdcb81919a3d4750595b1bc910494cd284dcd3f02"
CREDENTIALS = credentials_for("airwallex")
SCENARIOS = fixtures_of("airwallex", "scenarios")
WEBHOOKS = fixtures_of("airwallex", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
#: Scenarios whose request Airwallex refuses on purpose, and the one schema error each must have.
REFUSED_BY_AIRWALLEX = {
    "authorize_create_400_validation_error": ("merchant_order_id", "is too long")
}
TOKEN_ANSWER = json.loads((HERE / "token_answer.json").read_text("utf-8"))

#: OpenAPI path → the path Airwallex serves. The sketch drops /pa/ from the payment-intent
#: paths; Airwallex's reference (docs/api/payments/payment_intents) and its demo code
#: (airwallex/airwallex-payment-demo, integrations/react-ts/src/util.ts) have it.
PATCHES = {
    "/api/v1/payment_intents/create": "/api/v1/pa/payment_intents/create",
    "/api/v1/payment_intents/{id}": "/api/v1/pa/payment_intents/{id}",
    "/api/v1/payment_intents/{id}/confirm": "/api/v1/pa/payment_intents/{id}/confirm",
    "/api/v1/payment_intents/{id}/capture": "/api/v1/pa/payment_intents/{id}/capture",
    "/api/v1/payment_intents/{id}/cancel": "/api/v1/pa/payment_intents/{id}/cancel",
}


def _openapi_operations() -> dict[str, dict[str, Any]]:
    """ "METHOD /path" → operation, for every operation of the saved file (patched)."""
    document = yaml.safe_load(OPENAPI_PATH.read_text("utf-8"))
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            found[f"{method.upper()} {PATCHES.get(path, path)}"] = operation
    return found


OPERATIONS = _openapi_operations()
AMOUNT: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}
METADATA: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
REQUEST_ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
CARD: dict[str, Any] = {
    # PaymentAcceptanceCardConfirmRequest: every field a string.
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
        "expiry_month": {"type": "string", "pattern": "^(0[1-9]|1[0-2])$"},
        "expiry_year": {"type": "string", "pattern": "^[0-9]{4}$"},
        "cvc": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "name": {"type": "string"},
        "number_type": {"type": "string"},
        # PaymentAcceptanceExternalThreeDomainSecure: the merchant's own 3DS result.
        "external_three_ds": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "authentication_value": {"type": "string", "minLength": 1},
                "ds_transaction_id": {"type": "string"},
                "eci": {"type": "string", "pattern": "^[0-9]{2}$"},
                "three_ds_exemption": {"type": "string"},
                "three_ds_server_transaction_id": {"type": "string"},
                "version": {"type": "string", "pattern": "^[12]\\.[0-9]+\\.[0-9]+$"},
            },
        },
    },
    "required": ["number", "expiry_month", "expiry_year"],
}

#: The endpoints the spec uses, each with its body schema (None: no body), from the node SDK's
#: request models (PaymentAcceptance…RequestRaw) with the fields this spec can send.
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /api/v1/pa/payment_intents/create": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "request_id": REQUEST_ID,
                "amount": AMOUNT,
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                # "Maximum of 64 characters" (Create a PaymentIntent).
                "merchant_order_id": {"type": "string", "minLength": 1, "maxLength": 64},
                "customer_id": {"type": "string", "pattern": "^cus_"},
                "descriptor": {"type": "string", "maxLength": 32},
                "return_url": {"type": "string"},
                "metadata": METADATA,
            },
            "required": ["request_id", "amount", "currency", "merchant_order_id"],
        }
    },
    "POST /api/v1/pa/payment_intents/{id}/confirm": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "request_id": REQUEST_ID,
                "payment_method": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"type": {"const": "card"}, "card": CARD},
                    "required": ["type", "card"],
                },
                "payment_method_options": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "card": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"auto_capture": {"type": "boolean"}},
                        }
                    },
                },
                "return_url": {"type": "string"},
                # A merchant-initiated payment confirms with the consent instead of a method.
                "payment_consent_id": {"type": "string", "pattern": "^cst_"},
            },
            "required": ["request_id"],
            "oneOf": [
                {"required": ["payment_method"], "not": {"required": ["payment_consent_id"]}},
                {"required": ["payment_consent_id"], "not": {"required": ["payment_method"]}},
            ],
        }
    },
    "POST /api/v1/pa/payment_intents/{id}/capture": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"request_id": REQUEST_ID, "amount": AMOUNT},
            "required": ["request_id"],
        }
    },
    "POST /api/v1/pa/payment_intents/{id}/cancel": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"request_id": REQUEST_ID, "cancellation_reason": {"type": "string"}},
            "required": ["request_id"],
        }
    },
    "POST /api/v1/pa/refunds/create": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "request_id": REQUEST_ID,
                "payment_intent_id": {"type": "string", "pattern": "^int_"},
                "amount": AMOUNT,
                "reason": {"type": "string"},
                "metadata": METADATA,
            },
            "required": ["request_id", "payment_intent_id"],
        }
    },
    # PaymentConsentCreateRequest / PaymentConsentVerifyRequest of Airwallex's own SDK
    # (airwallex/airwallex-payment-android, airwallex/src/main/java/com/airwallex/android/model/).
    "POST /api/v1/pa/payment_consents/create": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "request_id": REQUEST_ID,
                "customer_id": {"type": "string", "pattern": "^cus_"},
                "payment_method": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"type": {"const": "card"}, "card": CARD},
                    "required": ["type", "card"],
                },
                "next_triggered_by": {"enum": ["merchant", "customer"]},
                "merchant_trigger_reason": {"enum": ["scheduled", "unscheduled"]},
                "requires_cvc": {"type": "boolean"},
                "metadata": METADATA,
            },
            "required": ["request_id", "customer_id", "next_triggered_by"],
        }
    },
    "POST /api/v1/pa/payment_consents/{id}/verify": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "request_id": REQUEST_ID,
                "verification_options": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "card": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "amount": AMOUNT,
                                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                                "cvc": {"type": "string", "pattern": "^[0-9]{3,4}$"},
                            },
                        }
                    },
                },
                "return_url": {"type": "string"},
            },
            "required": ["request_id"],
        }
    },
    # disablePaymentConsentUrl of Airwallex's Android SDK (AirwallexApiRepository.kt): the
    # consent is named by the path; the body carries only the request_id every POST has.
    "POST /api/v1/pa/payment_consents/{id}/disable": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"request_id": REQUEST_ID},
            "required": ["request_id"],
        }
    },
    # Airwallex "Payment Disputes" (docs/api/payments/payment_disputes): retrieve, and accept
    # (no fields besides the request_id every POST has).
    "GET /api/v1/pa/payment_disputes/{id}": {"body": None},
    "POST /api/v1/pa/payment_disputes/{id}/accept": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"request_id": REQUEST_ID},
            "required": ["request_id"],
        }
    },
    "GET /api/v1/pa/payment_intents/{id}": {"body": None},
    "GET /api/v1/pa/refunds/{id}": {"body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)
#: Endpoints of Airwallex's API reference (docs/api/payments/payment_consents) that the saved
#: sketch lacks: their bodies are still checked above, against Airwallex's SDK models.
NOT_IN_THE_SKETCH = {
    "POST /api/v1/pa/payment_consents/create",
    "POST /api/v1/pa/payment_consents/{id}/verify",
    "POST /api/v1/pa/payment_consents/{id}/disable",
    "GET /api/v1/pa/payment_disputes/{id}",
    "POST /api/v1/pa/payment_disputes/{id}/accept",
}

INTENT_STATUSES = [
    "REQUIRES_PAYMENT_METHOD",
    "REQUIRES_CUSTOMER_ACTION",
    "REQUIRES_CAPTURE",
    "PENDING",
    "SUCCEEDED",
    "CANCELLED",
]
#: PaymentAcceptancePaymentIntent (the fields the fixtures carry).
INTENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^int_[a-z0-9]+$"},
        "request_id": {"type": "string"},
        "amount": {"type": "number"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "merchant_order_id": {"type": "string"},
        "status": {"enum": INTENT_STATUSES},
        "captured_amount": {"type": "number"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "latest_payment_attempt": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^att_"},
                "payment_intent_id": {"type": "string", "pattern": "^int_"},
                "amount": {"type": "number"},
                "status": {"type": "string"},
            },
            "required": ["id", "amount", "status"],
        },
        "next_action": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "url": {"type": "string"}},
        },
    },
    "required": ["id", "amount", "currency", "merchant_order_id", "status", "captured_amount"],
}
#: PaymentConsent (Airwallex's SDK model): status PENDING_VERIFICATION, VERIFIED or DISABLED.
CONSENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^cst_[a-z0-9]+$"},
        "request_id": {"type": "string"},
        "customer_id": {"type": "string", "pattern": "^cus_"},
        "initial_payment_intent_id": {"type": "string", "pattern": "^int_"},
        "next_triggered_by": {"enum": ["merchant", "customer"]},
        "merchant_trigger_reason": {"enum": ["scheduled", "unscheduled"]},
        "requires_cvc": {"type": "boolean"},
        "status": {"enum": ["PENDING_VERIFICATION", "VERIFIED", "DISABLED"]},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
    },
    "required": ["id", "customer_id", "next_triggered_by", "status"],
}
#: PaymentDispute (Airwallex "Payment Disputes"; the members as hotgluexyz/tap-airwallex's
#: payment_disputes stream lists them): stage and reason as Airwallex names them.
DISPUTE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^dis_[a-z0-9]+$"},
        "payment_intent_id": {"type": "string", "pattern": "^int_"},
        "payment_attempt_id": {"type": "string", "pattern": "^att_"},
        "merchant_order_id": {"type": "string"},
        "amount": {"type": "number"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "stage": {
            "enum": ["RFI", "PRE_CHARGEBACK", "CHARGEBACK", "PRE_ARBITRATION", "ARBITRATION"]
        },
        "status": {"type": "string", "pattern": "^[A-Z_]+$"},
        "reason": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"type": "string"},
                "original_code": {"type": "string"},
                "description": {"type": "string"},
            },
        },
        "due_at": {"type": "string"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
    },
    "required": ["id", "payment_intent_id", "amount", "currency", "stage", "status", "reason"],
}
#: PaymentAcceptanceRefund.
REFUND: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^rfd_"},
        "payment_intent_id": {"type": "string", "pattern": "^int_"},
        "amount": {"type": "number"},
        "currency": {"type": "string"},
        "status": {"enum": ["RECEIVED", "ACCEPTED", "SETTLED", "SUCCEEDED", "FAILED"]},
        "request_id": {"type": "string"},
    },
    "required": ["id", "payment_intent_id", "amount", "currency", "status"],
}
#: "Error response structure": code, message, source, trace_id, details,
#: provider_original_response_code.
ERROR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "source": {"type": "string"},
        "trace_id": {"type": "string"},
        "details": {"type": "object"},
        "provider_original_response_code": {"type": "string"},
    },
    "required": ["code", "message"],
}


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> list[Any]:
    """Every request the scenario's flow sends, each step fed the scenario's earlier answers."""
    data = SCENARIOS[name]
    connector = load_connector("airwallex")
    answers = data["responses"] if "responses" in data else [data["response"]]
    steps: dict[str, Any] = {}
    built = []
    for index, answer in enumerate(answers):
        request = connector.build_request(
            data["flow"],
            data["request"],
            CREDENTIALS,
            step=index,
            steps=steps,
            access_token="awx-access-token",
        )
        built.append(request)
        if index < len(answers) - 1:
            response = HttpResponse(answer["status"], {}, json.dumps(answer["body"]).encode())
            step = connector.plan.flows[data["flow"]].steps[index].name
            steps[step] = connector.parse_step(data["flow"], index, data["request"], response)
    return built


# --- requests ------------------------------------------------------------------------------


def test_the_openapi_file_is_the_recorded_copy() -> None:
    assert hashlib.sha256(OPENAPI_PATH.read_bytes()).hexdigest() == OPENAPI_SHA256


def test_the_openapi_file_lists_every_endpoint_the_spec_uses() -> None:
    assert set(ENDPOINTS) - NOT_IN_THE_SKETCH <= set(OPERATIONS), set(ENDPOINTS) - set(OPERATIONS)
    assert not NOT_IN_THE_SKETCH & set(OPERATIONS), "listed as missing, yet in the file"
    assert OPERATIONS["POST /api/v1/authentication/login"]["operationId"] == "login"
    # the patch only renames: without it the spec's paths are not in the file
    assert "POST /api/v1/pa/payment_intents/create" not in {
        f"{m.upper()} {p}"
        for p, item in yaml.safe_load(OPENAPI_PATH.read_text("utf-8"))["paths"].items()
        for m in item
    }


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_airwallex_operations_with_documented_bodies(name: str) -> None:
    for built in _built(name):
        split = urlsplit(built.url)
        assert split.scheme == "https" and split.netloc == "api-demo.airwallex.com"
        key, params = ENDPOINT_INDEX.match(built.method, split.path)
        assert key in OPERATIONS or key in NOT_IN_THE_SKETCH, f"{key} is not an Airwallex operation"
        for value in params.values():
            assert value.startswith(("int_", "rfd_", "cst_", "dis_")), f"{key}: path id {value!r}"
        assert built.headers["Authorization"] == "Bearer awx-access-token"
        schema = ENDPOINTS[key]["body"]
        if schema is None:
            assert not built.body, f"{key} takes no body"
            continue
        problems = _problems(schema, json.loads(built.body or b"{}"))
        if name in REFUSED_BY_AIRWALLEX:
            field, message = REFUSED_BY_AIRWALLEX[name]
            assert len(problems) == 1, problems
            assert problems[0].startswith(f"{field}:") and message in problems[0], problems
            continue
        assert not problems, f"{name}: {key} body breaks the documented request: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The test above is not vacuous: each endpoint gets checked, and every body too."""
    ENDPOINT_INDEX.assert_covered(
        (request for name in BUILDABLE for request in _built(name)), ENDPOINTS
    )


def _confirm_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built("authorize_manual_requires_capture")[1].body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("month as a number", lambda b: b["payment_method"]["card"].update(expiry_month=3)),
        ("two-digit year", lambda b: b["payment_method"]["card"].update(expiry_year="30")),
        ("no request_id", lambda b: b.pop("request_id")),
        ("no payment method", lambda b: b.pop("payment_method")),
        ("a method and a consent", lambda b: b.update(payment_consent_id="cst_x")),
        (
            "a cavv-less external 3DS",
            lambda b: b["payment_method"]["card"].update(
                external_three_ds={"authentication_value": "", "eci": "5"}
            ),
        ),
        ("a misspelt field", lambda b: b.update(payment_methods=b["payment_method"])),
        (
            "capture as a string",
            lambda b: b["payment_method_options"]["card"].update(auto_capture="false"),
        ),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, edit: Any) -> None:
    body = _confirm_body()
    assert _problems(ENDPOINTS["POST /api/v1/pa/payment_intents/{id}/confirm"]["body"], body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    schema = ENDPOINTS["POST /api/v1/pa/payment_intents/{id}/confirm"]["body"]
    assert _problems(schema, broken), label
    create = json.loads(_built("authorize_manual_requires_capture")[0].body or b"")
    create["amount"] = "250.00"  # a decimal string is not Airwallex's number
    assert _problems(ENDPOINTS["POST /api/v1/pa/payment_intents/create"]["body"], create)


@pytest.mark.parametrize(
    ("name", "step", "written"),
    [
        ("authorize_automatic_succeeded", 0, "10.99"),
        ("authorize_manual_requires_capture", 0, "250.00"),
        ("authorize_jpy_zero_decimal", 0, "500"),
        ("capture_partial", 0, "100.50"),
        ("refund_partial_received", 0, "5.00"),
    ],
)
def test_amounts_are_exact_major_unit_numbers(name: str, step: int, written: str) -> None:
    body = _built(name)[step].body or b""
    assert f'"amount":{written}'.encode() in body  # a JSON number, not a string
    assert json.loads(body, parse_float=Decimal)["amount"] == Decimal(written)


def test_each_request_of_a_call_has_its_own_request_id_derived_from_the_key() -> None:
    create, confirm = _built("authorize_automatic_succeeded")
    ids = [json.loads(r.body or b"")["request_id"] for r in (create, confirm)]
    # The confirm's key is derived (derive_key): stable for the call's key, a UUID Airwallex
    # takes as request_id, and not the create's.
    assert ids[0] == "idem-awx-auto-0001"
    assert ids[1] != ids[0] and str(uuid.UUID(ids[1])) == ids[1]
    assert _built("authorize_automatic_succeeded")[1].body == confirm.body
    assert create.carries_key and confirm.carries_key


def test_manual_capture_turns_auto_capture_off() -> None:
    automatic = json.loads(_built("authorize_automatic_succeeded")[1].body or b"")
    manual = _confirm_body()
    assert automatic["payment_method_options"] == {"card": {"auto_capture": True}}
    assert manual["payment_method_options"] == {"card": {"auto_capture": False}}


# --- answers -------------------------------------------------------------------------------


def _answers() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        answers = data["responses"] if "responses" in data else [data["response"]]
        flow = data["flow"]
        for answer in answers:
            if "body" in answer:
                found.append((name, flow, answer))
    return found


@pytest.mark.parametrize(("name", "flow", "answer"), _answers(), ids=lambda v: str(v)[:40])
def test_fixture_answers_have_documented_shapes(name: str, flow: str, answer: Any) -> None:
    if answer["status"] >= 400:
        schema = ERROR
    elif flow in ("refund", "get_refund"):
        schema = REFUND
    elif flow in ("setup_recurring", "verify", "revoke_recurring"):
        schema = CONSENT
    elif flow in ("get_dispute", "accept_dispute"):
        schema = DISPUTE
    else:
        schema = INTENT
    assert _problems(schema, answer["body"]) == [], name


def test_the_token_answer_is_airwallexs() -> None:
    assert TOKEN_ANSWER["status"] == 201
    assert set(TOKEN_ANSWER["body"]) == {"token", "expires_at"}


# --- the login -----------------------------------------------------------------------------


def test_the_login_request_is_exact_and_redacted() -> None:
    built = build_token_request(load_connector("airwallex").plan, CREDENTIALS)
    assert built.method == "POST"
    assert built.url == "https://api-demo.airwallex.com/api/v1/authentication/login"
    assert built.headers == {
        "x-client-id": CREDENTIALS["client_id"],
        "x-api-key": CREDENTIALS["api_key"],
    }
    assert built.body is None
    key, _ = ENDPOINT_INDEX.match("POST", "/api/v1/pa/refunds/create")  # the index works …
    assert key and "POST /api/v1/authentication/login" in OPERATIONS  # … and login is listed
    shown = json.dumps(built.redacted())
    assert CREDENTIALS["api_key"] not in shown and CREDENTIALS["client_id"] not in shown


def test_the_login_answer_gives_the_token_and_its_expiry() -> None:
    answer = HttpResponse(201, {}, json.dumps(TOKEN_ANSWER["body"]).encode())
    token = parse_token_response(load_connector("airwallex").plan, answer, now=1_767_225_600.0)
    assert token.token.reveal() == TOKEN_ANSWER["body"]["token"]
    assert token.expires_at == 1_767_225_600.0 + 1800  # 2026-01-01T00:30:00+0000
    assert TOKEN_ANSWER["body"]["token"] not in repr(token)


def test_a_call_logs_in_once_and_sends_the_token() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.awx-live-token-SECRET"
    seen: list[httpx.Request] = []
    scenario = SCENARIOS["authorize_automatic_succeeded"]

    def airwallex(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/authentication/login":
            assert request.headers["x-api-key"] == CREDENTIALS["api_key"]
            return httpx.Response(
                201, json={"expires_at": "2099-01-01T00:30:00+0000", "token": token}
            )
        assert request.headers["authorization"] == f"Bearer {token}"
        answer = scenario["responses"][0 if request.url.path.endswith("/create") else 1]
        return httpx.Response(answer["status"], json=answer["body"])

    cache = MemoryTokenCache()
    for _ in range(2):
        http = httpx.Client(transport=httpx.MockTransport(airwallex))
        result = Client("airwallex", CREDENTIALS, http_client=http, token_cache=cache).authorize(
            scenario["request"]
        )
        assert result.status == "captured"
        assert token not in repr(result) and token not in json.dumps(result.to_dict())
    paths = [r.url.path for r in seen]
    assert paths.count("/api/v1/authentication/login") == 1
    assert len(paths) == 5


# --- webhooks ------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body", "missing_timestamp"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = {k.lower(): v for k, v in data["headers"].items()}
    if "x-timestamp" not in headers:
        assert name in SIGNED_ELSEWHERE
        return
    message = (headers["x-timestamp"] + data["body_text"]).encode()
    expected = hmac.new(data["secret"].encode(), message, hashlib.sha256).hexdigest()
    matches = hmac.compare_digest(expected, headers["x-signature"])
    assert matches == (name not in SIGNED_ELSEWHERE), name


def test_webhook_timestamps_are_milliseconds() -> None:
    for name, data in WEBHOOKS.items():
        stamp = data["headers"].get("x-timestamp")
        if stamp is not None and name != "timestamp_in_seconds_is_refused":
            assert len(stamp) == 13 and abs(int(stamp) / 1000 - data["now"]) < 3600, name


def test_webhook_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {("payment.captured",), ("payment.authorized",), ("refund.succeeded",)} <= outcomes
    assert rejections == {"bad_signature", "stale_timestamp", "missing_signature"}


# --- verify, revoke, disputes --------------------------------------------------------------


def test_verify_makes_a_customer_only_consent_and_verifies_without_an_amount() -> None:
    create, verify = _built("verify_consent_verified")
    consent = json.loads(create.body or b"")
    assert consent["next_triggered_by"] == "customer"
    assert "merchant_trigger_reason" not in consent  # only merchant-triggered consents have one
    body = json.loads(verify.body or b"")
    assert body["verification_options"] == {"card": {"currency": "USD"}}
    assert urlsplit(verify.url).path == "/api/v1/pa/payment_consents/cst_hkdmtp6ssg5x3nq2v02/verify"
    assert body["request_id"] != consent["request_id"]


def test_revoke_disables_the_consent_named_by_the_mandate() -> None:
    (built,) = _built("revoke_recurring_consent_disabled")
    assert built.method == "POST"
    assert urlsplit(built.url).path == "/api/v1/pa/payment_consents/cst_hkdmtp6ssg5x3nq2r7d/disable"
    assert json.loads(built.body or b"") == {"request_id": "idem-awx-disable-0001"}


def test_the_dispute_schema_rejects_what_airwallex_does_not_send() -> None:
    answer = SCENARIOS["get_dispute_requires_response"]["response"]["body"]
    assert _problems(DISPUTE, answer) == []
    for edit in (
        lambda d: d.update(stage="INQUIRY"),  # Airwallex's first stage is RFI
        lambda d: d.update(amount="80.00"),  # a number, as every Airwallex amount
        lambda d: d["reason"].update(code="4855"),  # the network's code is original_code
        lambda d: d.pop("payment_intent_id"),
    ):
        broken = copy.deepcopy(answer)
        edit(broken)
        assert _problems(DISPUTE, broken)
