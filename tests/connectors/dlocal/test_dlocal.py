"""dLocal-specific checks, against dLocal's published descriptions rather than our spec.

- every request the spec builds for a scenario is an endpoint of the Postman collection
  (dlocal.postman_collection.json here, a verbatim copy of processor-apis/dlocal/, THIRD-PARTY:
  a dLocal technical account manager's personal repository), method and path;
- dLocal publishes no machine-readable schema, so each body is checked against a closed schema
  written by hand from docs.dlocal.com (Payments "Create a payment" parameters, "Capture an
  authorization", "Refunds", the payer, card and address objects), so a misspelt or undocumented
  field fails; negative tests show the schemas can fail;
- every request's signature is recomputed here from the bytes sent, with hmac/hashlib:
  `Authorization: V2-HMAC-SHA256, Signature: hex(HMAC-SHA256(secret key, X-Login + X-Date +
  body))` ("Security" / "Generate a signature"; the collection's pre-request script concatenates
  the same three strings), X-Date ISO 8601 with milliseconds, X-Version 2.1, a GET signing "";
- amounts are JSON numbers in major units with the currency's exact digits (never floats);
- the fixture answers have the documented shapes (the payment object with its ticket, the refund
  object, the error envelope {code, message, param});
- webhook fixture signatures are recomputed here, independently of the engine.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import HttpResponse, InputError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
#: A verbatim copy of processor-apis/dlocal/Postman-Collections.postman_collection.json
#: (tam-dlocal/dlocal-postman-collection @ 751e12355717c5482ad111767e40d519d20b4f31).
COLLECTION_PATH = HERE / "dlocal.postman_collection.json"
COLLECTION_SHA256 = "c8b0132bb0ca885528416a6d2fc51d0d3e59313ef93da110b76dbe0c9630b534"
CREDENTIALS = credentials_for("dlocal")
SCENARIOS = fixtures_of("dlocal", "scenarios")
WEBHOOKS = fixtures_of("dlocal", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
SIGNATURE_PREFIX = "V2-HMAC-SHA256, Signature: "
X_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

AMOUNT: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}
COUNTRY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{2}$"}
URL: dict[str, Any] = {"type": "string", "pattern": "^https?://"}
#: "The address object": state, city, zip_code, street, number (and the country).
ADDRESS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "country": COUNTRY,
        "state": {"type": "string"},
        "city": {"type": "string"},
        "zip_code": {"type": "string"},
        "street": {"type": "string"},
        "number": {"type": "string"},
    },
}
#: "The payer object": name, email and document are required for payins.
PAYER: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
        "birth_date": {"type": "string"},
        "phone": {"type": "string"},
        "document": {"type": "string", "minLength": 1},
        "document2": {"type": "string"},
        "user_reference": {"type": "string"},
        "address": ADDRESS,
        "ip": {"type": "string"},
        "device_id": {"type": "string"},
    },
    "required": ["name", "email", "document"],
}
#: "The card object" with raw card data (/secure_payments): expiration month and year are
#: integers in dLocal's examples, capture a boolean ("Default TRUE").
CARD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "holder_name": {"type": "string", "minLength": 1},
        "number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
        "cvv": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "expiration_month": {"type": "integer", "minimum": 1, "maximum": 12},
        "expiration_year": {"type": "integer", "minimum": 2000, "maximum": 2099},
        "capture": {"type": "boolean"},
        "descriptor": {"type": "string"},
        "installments": {"type": "string"},
        "installments_id": {"type": "string"},
        "save": {"type": "boolean"},
        "verify": {"type": "boolean"},
    },
    "required": ["holder_name", "number", "expiration_month", "expiration_year"],
}
#: "The 3D-Secure object" of a card payment ("3D-Secure": Optional 3D-Secure's force, 3rd-party
#: Authentication (MPI)'s mpi and the external server's result).
THREE_DSECURE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "force": {"type": "boolean"},
        "mpi": {"type": "boolean"},
        "three_dsecure_version": {"enum": ["1.0", "2.0", "2.1.0", "2.2.0"]},
        "cavv": {"type": "string"},
        "eci": {"type": "string", "pattern": "^[0-9]{2}$"},
        "xid": {"type": "string"},
        "ds_transaction_id": {"type": "string", "maxLength": 36},
        "enrollment_response": {"enum": ["Y", "N", "U"]},
        "authentication_response": {"enum": ["Y", "A", "N", "U"]},
    },
    "minProperties": 1,
    # "Required if mpi = TRUE": cavv and eci; xid for 1.0, ds_transaction_id for 2.x.
    "allOf": [
        {
            "if": {"properties": {"mpi": {"const": True}}, "required": ["mpi"]},
            "then": {"required": ["cavv", "eci"]},
        },
        {
            "if": {
                "properties": {"mpi": {"const": True}, "three_dsecure_version": {"const": "1.0"}},
                "required": ["mpi", "three_dsecure_version"],
            },
            "then": {"required": ["xid"]},
        },
        {
            "if": {
                "properties": {
                    "mpi": {"const": True},
                    "three_dsecure_version": {"enum": ["2.0", "2.1.0", "2.2.0"]},
                },
                "required": ["mpi", "three_dsecure_version"],
            },
            "then": {"required": ["ds_transaction_id"]},
        },
    ],
}
#: The payment fields every payin takes ("Create a payment").
PAYIN_PROPERTIES: dict[str, Any] = {
    "amount": AMOUNT,
    "currency": CURRENCY,
    "country": COUNTRY,
    "payment_method_id": {"type": "string"},
    "payment_method_flow": {"enum": ["DIRECT", "REDIRECT"]},
    "payer": PAYER,
    "order_id": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": "string"},
    "notification_url": URL,
    "callback_url": URL,
}
PAYIN_REQUIRED = [
    "amount",
    "currency",
    "country",
    "payment_method_id",
    "payment_method_flow",
    "payer",
    "order_id",
]
#: POST /secure_payments: a card payment with the card's data.
CARD_PAYMENT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **PAYIN_PROPERTIES,
        "payment_method_id": {"const": "CARD"},
        "payment_method_flow": {"const": "DIRECT"},
        "card": CARD,
        "three_dsecure": THREE_DSECURE,
    },
    "required": [*PAYIN_REQUIRED, "card"],
}
#: POST /payments for a local method: Pix (PQ, REDIRECT: "Brazil PIX payments"), Boleto (BL) and
#: OXXO (OX) tickets (DIRECT: "Cash payments"), without a card.
LOCAL_PAYMENT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {**PAYIN_PROPERTIES, "payment_method_id": {"enum": ["PQ", "BL", "OX"]}},
    "required": PAYIN_REQUIRED,
    "allOf": [
        {
            "if": {"properties": {"payment_method_id": {"const": "PQ"}}},
            "then": {
                "properties": {
                    "payment_method_flow": {"const": "REDIRECT"},
                    "country": {"const": "BR"},
                }
            },
        },
        {
            "if": {"properties": {"payment_method_id": {"const": "OX"}}},
            "then": {"properties": {"country": {"const": "MX"}}},
        },
        {
            "if": {"properties": {"payment_method_id": {"const": "BL"}}},
            "then": {"properties": {"country": {"const": "BR"}}},
        },
    ],
}
#: POST /payments with authorization_id ("Capture an authorization"): currency "Required if
#: amount is present".
CAPTURE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "authorization_id": {"type": "string", "pattern": "^[A-Z]-[0-9]+-"},
        "amount": AMOUNT,
        "currency": CURRENCY,
        "order_id": {"type": "string"},
    },
    "required": ["authorization_id"],
    "dependentRequired": {"amount": ["currency"]},
}
#: POST /refunds ("Refunds", "The refund object").
REFUND_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "payment_id": {"type": "string", "pattern": "^[A-Z]-[0-9]+-"},
        "amount": AMOUNT,
        "currency": CURRENCY,
        "notification_url": URL,
        "description": {"type": "string"},
    },
    "required": ["payment_id"],
    "dependentRequired": {"amount": ["currency"]},
}

#: The endpoints the spec uses, each with its body schema (None: no body).
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /secure_payments": {"body": CARD_PAYMENT},
    "POST /payments": {"body": {"oneOf": [LOCAL_PAYMENT, CAPTURE]}},
    "POST /payments/{payment_id}/cancel": {"body": None},
    "POST /refunds": {"body": REFUND_REQUEST},
    "GET /payments/{payment_id}": {"body": None},
    "GET /refunds/{refund_id}": {"body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)

#: "The payment object" (with "The ticket object" of cash payments).
PAYMENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[A-Z]-[0-9]+-[0-9a-f-]+$"},
        "amount": {"type": "number"},
        "currency": CURRENCY,
        "country": COUNTRY,
        "payment_method_id": {"type": "string"},
        "payment_method_type": {"enum": ["CARD", "TICKET", "BANK_TRANSFER", "WALLET"]},
        "payment_method_flow": {"enum": ["DIRECT", "REDIRECT"]},
        "status": {
            "enum": [
                "PENDING",
                "PAID",
                "REJECTED",
                "CANCELLED",
                "EXPIRED",
                "AUTHORIZED",
                "VERIFIED",
            ]
        },
        "status_code": {"type": "string", "pattern": "^[1-7][0-9]{2}$"},
        "status_detail": {"type": "string"},
        "order_id": {"type": "string"},
        "authorization_id": {"type": "string"},
        "redirect_url": URL,
        # "3D-Secure": the redirect_url of a payment waiting for 3DS; the eci of one authorized
        # with a 3rd-party authentication (MPI).
        "three_dsecure": {
            "type": "object",
            "properties": {"redirect_url": URL, "eci": {"type": "string", "pattern": "^[0-9]{2}$"}},
            "additionalProperties": False,
        },
        "card": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "holder_name": {"type": "string"},
                "expiration_month": {"type": "integer"},
                "expiration_year": {"type": "integer"},
                "brand": {"type": "string"},
                "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                "card_id": {"type": "string"},
            },
        },
        "ticket": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"enum": ["NUMERIC", "BARCODE", "CUSTOM", "REFERENCE_CODE"]},
                "number": {"type": "string"},
                "barcode": {"type": "string"},
                "format": {"type": "string"},
                "id": {"type": "string"},
                "expiration_date": {"type": "string"},
                "company_name": {"type": "string"},
                "company_id": {"type": "string"},
                "provider_name": {"type": "string"},
                "provider_logo": {"type": "string"},
                "image_url": URL,
            },
        },
        "created_date": {"type": "string"},
        "approved_date": {"type": "string"},
        "notification_url": URL,
        "payer": {"type": "object"},
    },
    "required": ["id", "amount", "currency", "status", "status_code", "status_detail"],
}
#: "The refund object".
REFUND: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^REF-"},
        "payment_id": {"type": "string", "pattern": "^[A-Z]-[0-9]+-"},
        "amount": {"type": "number"},
        "amount_refunded": {"type": "number"},
        "currency": CURRENCY,
        "status": {"enum": ["PENDING", "SUCCESS", "REJECTED", "CANCELLED"]},
        "status_code": {"type": "string", "pattern": "^[1-4]00$"},
        "status_detail": {"type": "string"},
        "created_date": {"type": "string"},
        "notification_url": URL,
    },
    "required": ["id", "payment_id", "amount", "currency", "status", "status_code"],
}
#: "HTTP errors": {code (integer), message, param}.
ERROR: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "code": {"type": "integer", "minimum": 3000, "maximum": 7999},
        "message": {"type": "string"},
        "param": {"type": "string"},
    },
    "required": ["code", "message"],
}


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("dlocal").build_request(data["flow"], data["request"], CREDENTIALS)


def _collection_requests() -> set[str]:
    """ "METHOD /path" of every request in the collection, {{host}} dropped, ids as {id}."""
    document = json.loads(COLLECTION_PATH.read_text("utf-8"))
    found: set[str] = set()

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if "item" in item:
                walk(item["item"])
                continue
            raw = item["request"]["url"]["raw"].replace("{{host}}", "").split("?")[0]
            found.add(f"{item['request']['method']} {raw}")

    walk(document["item"])
    return found


def _signing_scripts() -> list[str]:
    document = json.loads(COLLECTION_PATH.read_text("utf-8"))
    scripts: list[str] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            walk(item.get("item", []))
            for event in item.get("event", []):
                if event["listen"] == "prerequest":
                    scripts.append("\n".join(event["script"]["exec"]))

    walk(document["item"])
    return scripts


def _expected_signature(x_date: str, body: bytes) -> str:
    message = CREDENTIALS["x_login"].encode() + x_date.encode() + body
    digest = hmac.new(CREDENTIALS["secret_key"].encode(), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


# --- the collection ------------------------------------------------------------------------


def test_the_collection_is_the_recorded_copy() -> None:
    assert hashlib.sha256(COLLECTION_PATH.read_bytes()).hexdigest() == COLLECTION_SHA256


def test_the_collection_has_every_endpoint_the_spec_uses() -> None:
    found = _collection_requests()
    for key in ENDPOINTS:
        assert key in found, f"{key} is not in the dLocal collection"


def test_the_collections_scripts_sign_login_date_and_body() -> None:
    """The scripts the signature test below follows: HMAC-SHA256 (CryptoJS, hex output) over
    X-Login + X-Date (new Date().toJSON(): ISO 8601 with milliseconds) + the raw body."""
    # The payins' scripts (the payouts' sign the body alone, into Payload-Signature).
    scripts = [s for s in _signing_scripts() if 'pm.environment.set("authorization"' in s]
    assert len(scripts) >= 10
    for script in scripts:
        assert "CryptoJS.HmacSHA256(message, secret)" in script
        assert "var message = login + timestamp.toString() + body" in script
        assert "new Date().toJSON()" in script
        assert '"V2-HMAC-SHA256, Signature: " + String(' in script


# --- requests ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_dlocal_endpoints_with_documented_bodies(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "sandbox.dlocal.com"
    key, params = ENDPOINT_INDEX.match(built.method, split.path)
    for value in params.values():
        assert re.match(r"^([A-Z]-[0-9]+-|REF-)", value), f"{key}: path id {value!r}"
    schema = ENDPOINTS[key]["body"]
    if schema is None:
        assert not built.body, f"{key} takes no body"
        return
    body = json.loads(built.body or b"", parse_float=Decimal)
    problems = _problems(schema, json.loads(built.body or b""))
    assert not problems, f"{name}: {key} body breaks the documented request: {problems}"
    if "amount" in body:
        assert isinstance(body["amount"], (int, Decimal)) and not isinstance(body["amount"], bool)


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered((_built(name) for name in BUILDABLE), ENDPOINTS)


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_every_request_is_signed_over_the_bytes_sent(name: str) -> None:
    built = _built(name)
    headers = built.headers
    assert X_DATE.match(headers["X-Date"]), headers["X-Date"]
    assert headers["X-Login"] == CREDENTIALS["x_login"]
    assert headers["X-Trans-Key"] == CREDENTIALS["x_trans_key"]
    assert headers["X-Version"] == "2.1"
    assert headers["Authorization"] == _expected_signature(headers["X-Date"], built.body or b"")
    if built.method == "GET":
        assert not built.body  # a GET signs X-Login + X-Date alone
        assert "X-Idempotency-Key" not in headers
    else:
        assert headers["X-Idempotency-Key"] == SCENARIOS[name]["request"]["idempotency_key"]
    shown = json.dumps(built.redacted())
    assert CREDENTIALS["secret_key"] not in shown and CREDENTIALS["x_trans_key"] not in shown
    assert headers["Authorization"][len(SIGNATURE_PREFIX) :] not in shown


def test_a_changed_body_no_longer_matches_the_signature() -> None:
    """The check above can fail: one byte of the body, or another X-Date, breaks it."""
    built = _built("authorize_card_paid")
    body = built.body or b""
    signature = built.headers["Authorization"]
    assert _expected_signature(built.headers["X-Date"], body.replace(b"120", b"121")) != signature
    assert _expected_signature("2026-01-01T00:00:01.000Z", body) != signature


def _card_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built("authorize_card_manual_authorized").body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("no document", lambda b: b["payer"].pop("document")),
        ("no country", lambda b: b.pop("country")),
        ("month as a string", lambda b: b["card"].update(expiration_month="10")),
        ("capture as a string", lambda b: b["card"].update(capture="false")),
        ("amount as a string", lambda b: b.update(amount="120.00")),
        ("lower-case currency", lambda b: b.update(currency="usd")),
        ("a misspelt field", lambda b: b["card"].update(cvc=b["card"].pop("cvv"))),
        ("a redirect card flow", lambda b: b.update(payment_method_flow="REDIRECT")),
        ("no order id", lambda b: b.pop("order_id")),
        (
            "an MPI result without its cavv",
            lambda b: b.update(three_dsecure={"mpi": True, "eci": "05"}),
        ),
        ("a misspelt 3DS field", lambda b: b.update(three_dsecure={"forced": True})),
        ("force as a string", lambda b: b.update(three_dsecure={"force": "true"})),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, edit: Any) -> None:
    body = _card_body()
    assert _problems(CARD_PAYMENT, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(CARD_PAYMENT, broken), label


def test_the_payments_schema_tells_a_capture_from_a_payin() -> None:
    capture: dict[str, Any] = json.loads(_built("capture_full").body or b"")
    pix: dict[str, Any] = json.loads(_built("authorize_pix_redirect").body or b"")
    schema = ENDPOINTS["POST /payments"]["body"]
    assert _problems(schema, capture) == [] and _problems(schema, pix) == []
    assert _problems(schema, {**capture, "payer": pix["payer"]})  # neither one nor the other
    assert _problems(schema, {k: v for k, v in capture.items() if k != "currency"})
    assert _problems(schema, {**pix, "payment_method_flow": "DIRECT"})  # Pix is REDIRECT here
    assert _problems(
        schema, {**pix, "payment_method_id": "CARD"}
    )  # a card goes to /secure_payments


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("authorize_card_paid", "120.00"),
        ("authorize_oxxo_ticket", "250.00"),
        ("capture_partial", "50.50"),
        ("refund_partial_pending", "50.00"),
    ],
)
def test_amounts_are_exact_major_unit_numbers(name: str, written: str) -> None:
    body = _built(name).body or b""
    assert f'"amount":{written}'.encode() in body  # a JSON number, not a string
    assert json.loads(body, parse_float=Decimal)["amount"] == Decimal(written)


def test_manual_capture_sends_capture_false_and_local_methods_their_codes() -> None:
    assert json.loads(_built("authorize_card_paid").body or b"")["card"]["capture"] is True
    assert _card_body()["card"]["capture"] is False
    codes = {
        name: json.loads(_built(name).body or b"")["payment_method_id"]
        for name in ("authorize_pix_redirect", "authorize_boleto_ticket", "authorize_oxxo_ticket")
    }
    assert codes == {
        "authorize_pix_redirect": "PQ",
        "authorize_boleto_ticket": "BL",
        "authorize_oxxo_ticket": "OX",
    }
    assert urlsplit(_built("authorize_pix_redirect").url).path == "/payments"
    assert urlsplit(_built("authorize_card_paid").url).path == "/secure_payments"


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("authorize_without_document_refused", "/customer/tax_id"),
        ("authorize_without_country_refused", "/billing_address/country"),
    ],
)
def test_missing_country_data_is_refused_before_sending(name: str, field: str) -> None:
    data = SCENARIOS[name]
    with pytest.raises(InputError) as caught:
        load_connector("dlocal").build_request(data["flow"], data["request"], CREDENTIALS)
    assert field in str(caught.value)


# --- answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fixture_answers_have_documented_shapes(name: str) -> None:
    data = SCENARIOS[name]
    answer = data["response"]
    if "body" not in answer or "raises" in data["expect"]:
        return
    if answer["status"] >= 400:
        schema = ERROR
    elif data["flow"] in ("refund", "get_refund"):
        schema = REFUND
    else:
        schema = PAYMENT
    assert _problems(schema, answer["body"]) == [], name


def test_a_capture_answer_names_its_authorization() -> None:
    data = SCENARIOS["capture_full"]
    answer = HttpResponse(200, {}, json.dumps(data["response"]["body"]).encode())
    result = load_connector("dlocal").parse_response("capture", data["request"], answer)
    assert result.status == "captured"
    other = copy.deepcopy(data["response"]["body"])
    other["authorization_id"] = "D-4-00000000-0000-4000-8000-000000000000"
    stale = HttpResponse(200, {}, json.dumps(other).encode())
    result = load_connector("dlocal").parse_response("capture", data["request"], stale)
    assert result.status == "unresolved"  # an answer about another authorization


# --- webhooks ------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body", "signed_with_another_x_date"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = data["headers"]
    if "Authorization" not in headers or "X-Date" not in headers:
        assert data["expect"] == {"rejected": "missing_signature"}, name
        return
    message = (CREDENTIALS["x_login"] + headers["X-Date"] + data["body_text"]).encode()
    expected = hmac.new(data["secret"].encode(), message, hashlib.sha256).hexdigest()
    matches = hmac.compare_digest(SIGNATURE_PREFIX + expected, headers["Authorization"])
    assert matches == (name not in SIGNED_ELSEWHERE), name
    assert data["secret"] == CREDENTIALS["secret_key"]


def test_webhook_bodies_are_documented_objects() -> None:
    for name, data in WEBHOOKS.items():
        body = json.loads(data["body_text"])
        schema = REFUND if "payment_id" in body else PAYMENT
        assert _problems(schema, body) == [], name


def test_webhook_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {("payment.captured",), ("payment.authorized",), ("refund.succeeded",)} <= outcomes
    assert rejections == {"bad_signature", "missing_signature"}
