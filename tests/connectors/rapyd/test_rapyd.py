"""Rapyd-specific checks, against Rapyd's own published OpenAPI description and docs.

- every request the spec builds for a scenario is checked against Rapyd's OFFICIAL OpenAPI file
  (processor_schema.json, extracted from Rapyd-Samples/RapydOpenAPI rapyd-openapi.yaml): the
  JSON body against the operation's request-body schema, path ids against their pattern. The
  file describes `payment_method` as a payment method *type* listing (its `fields` an array of
  field descriptions), not the object Create Payment takes ({type, fields: {number, ...}}, as in
  every card example of docs.rapyd.net): that one property is patched below, and a test shows
  the unpatched file rejects Rapyd's own card example;
- the published schemas are open (no additionalProperties: false), so a second check closes
  them: every field sent must be a property the file (or the patch) declares;
- negative tests show the schemas can fail (types, required fields, unknown fields);
- every request's signature is recomputed here from the bytes sent, with hmac/hashlib/base64:
  BASE64(HEX(HMAC-SHA256(secret, lower(method) + path + salt + timestamp + access_key + secret +
  body))) ("Request Signatures"; Rapyd's Postman pre-request script: CryptoJS.enc.Hex, then
  Base64 of those characters), salt 8-16 characters, timestamp Unix seconds, the body compact;
- amounts are JSON numbers in major units, exact;
- fixture answers have the shapes of the file's response schemas ({status, data} with the
  Payment or Refund object);
- webhook fixture signatures are recomputed here, independently of the engine.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import InputError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, processor_schema

SCHEMA = processor_schema("rapyd")
CREDENTIALS = credentials_for("rapyd")
SCENARIOS = fixtures_of("rapyd", "scenarios")
WEBHOOKS = fixtures_of("rapyd", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
ENDPOINT_INDEX = Endpoints(SCHEMA["endpoints"])
PATH_IDS = {"paymentId": r"^payment_[0-9a-f]{32}$", "refundId": r"^refund_[0-9a-f]{32}$"}

#: Create Payment's `payment_method` object (docs.rapyd.net "Create Payment" and its card,
#: bank redirect and cash examples): a type and that type's fields; the card fields are
#: number, expiration_month and expiration_year (two digits), cvv and name.
PAYMENT_METHOD_PATCH: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "pattern": "^[a-z]{2}_[a-z0-9_]+$"},
        "fields": {
            "type": "object",
            "properties": {
                "number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
                "expiration_month": {"type": "string", "pattern": "^(0[1-9]|1[0-2])$"},
                "expiration_year": {"type": "string", "pattern": "^[0-9]{2}$"},
                "cvv": {"type": "string", "pattern": "^[0-9]{3,4}$"},
                "name": {"type": "string"},
                # "Saving a European Card While Creating a Payment".
                "recurrence_type": {"enum": ["recurring", "installment", "unscheduled"]},
            },
            "required": ["number", "expiration_month", "expiration_year"],
        },
        "metadata": {"type": "object"},
    },
    "required": ["type"],
}


def _patched_defs() -> dict[str, Any]:
    defs = copy.deepcopy(SCHEMA["$defs"])
    defs["v1_payments_body"]["properties"]["payment_method"] = {
        "oneOf": [{"type": "string", "pattern": "^(card|other)_"}, PAYMENT_METHOD_PATCH]
    }
    return defs


DEFS = _patched_defs()


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DEFS[schema["$ref"].split("/")[-1]]
    return schema


def _problems(schema: dict[str, Any] | None, instance: Any, defs: Any = None) -> list[str]:
    assert schema is not None
    validator = Draft202012Validator({**schema, "$defs": DEFS if defs is None else defs})
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _undeclared(schema: dict[str, Any], instance: Any, where: str = "") -> list[str]:
    """Fields sent that the (patched) published schema does not declare: the file's schemas are
    open, this closes them."""
    schema = _resolve(schema)
    if not isinstance(instance, dict):
        return []
    if "oneOf" in schema:
        options = [_resolve(o) for o in schema["oneOf"] if _resolve(o).get("type") == "object"]
        return _undeclared(options[0], instance, where) if options else []
    properties = schema.get("properties")
    if properties is None:  # a free-form object (metadata)
        return []
    found = []
    for key, value in instance.items():
        if key not in properties:
            found.append(f"{where}/{key}")
        else:
            found += _undeclared(properties[key], value, f"{where}/{key}")
    return found


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("rapyd").build_request(data["flow"], data["request"], CREDENTIALS)


def _expected_signature(method: str, path: str, salt: str, stamp: str, body: bytes) -> str:
    secret = CREDENTIALS["secret_key"]
    message = (
        method.lower() + path + salt + stamp + CREDENTIALS["access_key"] + secret
    ).encode() + body
    hex_text = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return base64.b64encode(hex_text.encode()).decode()


# --- the published schema ------------------------------------------------------------------


def test_schema_source_is_recorded() -> None:
    assert "f3121a7a3bb27858d85bdcc1954ef7fc92043d4e" in SCHEMA["source"]
    assert SCHEMA["api_version"] == "1.0.23"
    assert {e["operationId"] for e in SCHEMA["endpoints"].values()} == {
        "createPayment",
        "capturePayment",
        "cancelPayment",
        "requestTotal_createRefund",
        "retrievePayment",
        "refundByToken",
    }
    for entry in SCHEMA["endpoints"].values():
        if entry["body"] is not None:
            Draft202012Validator.check_schema({**entry["body"], "$defs": DEFS})


def test_the_patch_is_needed_and_only_renames_the_payment_method() -> None:
    """Rapyd's own card example fails the file as published, and passes once patched."""
    example = {
        "amount": 100,
        "currency": "USD",
        "complete_payment_url": "https://complete.rapyd.net",
        "error_payment_url": "https://error.rapyd.net",
        "payment_method": {
            "type": "us_visa_card",
            "fields": {
                "number": "4111111111111111",
                "expiration_month": "12",
                "expiration_year": "29",
                "cvv": "345",
                "name": "John Doe",
            },
        },
    }
    body = SCHEMA["endpoints"]["POST /v1/payments"]["body"]
    assert _problems(body, example, SCHEMA["$defs"])
    assert _problems(body, example) == []
    changed = {k for k in SCHEMA["$defs"] if SCHEMA["$defs"][k] != DEFS[k]}
    assert changed == {"v1_payments_body"}


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_match_rapyds_published_schema(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "sandboxapi.rapyd.net"
    key, params = ENDPOINT_INDEX.match(built.method, split.path)
    for param, value in params.items():
        assert re.match(PATH_IDS[param], value), f"{key}: {param}={value!r}"
    entry = SCHEMA["endpoints"][key]
    if entry["body"] is None:
        assert not built.body, f"{key} takes no body"
        return
    body = json.loads(built.body or b"")
    problems = _problems(entry["body"], body)
    assert not problems, f"{name}: {key} body breaks Rapyd's schema: {problems}"
    assert _undeclared(entry["body"], body) == [], f"{name}: {key}"


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered((_built(name) for name in BUILDABLE), SCHEMA["endpoints"])


def _card_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built("authorize_card_manual_pending_capture").body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit", "undeclared"),
    [
        ("amount as a string", lambda b: b.update(amount="25.50"), False),
        ("capture as a string", lambda b: b.update(capture="false"), False),
        ("no complete_payment_url", lambda b: b.pop("complete_payment_url"), False),
        ("no currency", lambda b: b.pop("currency"), False),
        (
            "a four-digit year",
            lambda b: b["payment_method"]["fields"].update(expiration_year="2029"),
            False,
        ),
        (
            "a one-digit month",
            lambda b: b["payment_method"]["fields"].update(expiration_month="4"),
            False,
        ),
        ("metadata as text", lambda b: b.update(metadata="x"), False),
        (
            "a misspelt field",
            lambda b: b.update(merchant_reference=b.pop("merchant_reference_id")),
            True,
        ),
        ("an unknown card field", lambda b: b["payment_method"]["fields"].update(cvc="123"), True),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, edit: Any, undeclared: bool) -> None:
    schema = SCHEMA["endpoints"]["POST /v1/payments"]["body"]
    body = _card_body()
    assert _problems(schema, body) == [] and _undeclared(schema, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    if undeclared:
        assert _undeclared(schema, broken), label
    else:
        assert _problems(schema, broken), label


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_every_request_is_signed_over_the_bytes_sent(name: str) -> None:
    built = _built(name)
    headers = built.headers
    assert headers["access_key"] == CREDENTIALS["access_key"]
    assert 8 <= len(headers["salt"]) <= 16
    assert re.match(r"^[0-9]{10}$", headers["timestamp"])
    body = built.body or b""
    if body:  # compact: no whitespace outside the strings (Rapyd signs the body as sent)
        assert not re.search(rb"\s", re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', body)), body
    path = urlsplit(built.url).path
    expected = _expected_signature(built.method, path, headers["salt"], headers["timestamp"], body)
    assert headers["signature"] == expected
    if built.method == "GET":
        assert not body and "idempotency" not in headers
    else:
        assert headers["idempotency"] == SCENARIOS[name]["request"]["idempotency_key"]
    shown = json.dumps(built.redacted())
    assert CREDENTIALS["secret_key"] not in shown and headers["signature"] not in shown


def test_the_signature_check_can_fail() -> None:
    built = _built("authorize_card_captured")
    h, body = built.headers, built.body or b""
    path = urlsplit(built.url).path
    good = _expected_signature(built.method, path, h["salt"], h["timestamp"], body)
    assert good == h["signature"]
    assert _expected_signature("POST", path, h["salt"], h["timestamp"], body) == good  # lower-cased
    assert _expected_signature("get", path, h["salt"], h["timestamp"], body) != good
    assert _expected_signature(built.method, path, h["salt"][::-1], h["timestamp"], body) != good
    assert _expected_signature(built.method, path, h["salt"], h["timestamp"], body + b" ") != good


def test_each_request_has_its_own_salt() -> None:
    salts = {_built("get_closed").headers["salt"] for _ in range(5)}
    assert len(salts) == 5


@pytest.mark.parametrize(
    ("name", "written"),
    [
        # a whole amount is an integer ("If the amount is a whole number, use an integer")
        ("authorize_card_captured", "5"),
        ("authorize_oxxo_cash", "250"),
        ("capture_partial", "10"),
        # else the currency's exact decimals
        ("authorize_card_manual_pending_capture", "25.50"),
        ("refund_partial_pending", "1.50"),
    ],
)
def test_amounts_are_exact_major_unit_numbers(name: str, written: str) -> None:
    body = _built(name).body or b""
    assert f'"amount":{written},'.encode() in body or body.endswith(
        f'"amount":{written}}}'.encode()
    )
    assert json.loads(body, parse_float=Decimal)["amount"] == Decimal(written)


def test_a_capture_without_amount_sends_none() -> None:
    assert "amount" not in json.loads(_built("capture_full").body or b"{}")


def test_payment_method_types() -> None:
    types = {
        name: json.loads(_built(name).body or b"")["payment_method"]["type"]
        for name in ("authorize_card_captured", "authorize_ideal_redirect", "authorize_oxxo_cash")
    }
    assert types == {
        "authorize_card_captured": "us_visa_card",
        "authorize_ideal_redirect": "nl_ideal_bank",
        "authorize_oxxo_cash": "mx_oxxo_cash",
    }
    assert _card_body()["capture"] is False
    assert "capture" not in json.loads(_built("authorize_ideal_redirect").body or b"")


@pytest.mark.parametrize(
    "name", ["authorize_without_return_url_refused", "charge_recurring_without_return_url_refused"]
)
def test_a_payment_without_return_url_is_refused(name: str) -> None:
    data = SCENARIOS[name]
    with pytest.raises(InputError) as caught:
        load_connector("rapyd").build_request(data["flow"], data["request"], CREDENTIALS)
    assert "/return_url" in str(caught.value)


# --- answers -------------------------------------------------------------------------------

PAYMENT_ANSWER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {
            "type": "object",
            "properties": {
                "error_code": {"type": "string"},
                "status": {"enum": ["SUCCESS", "ERROR"]},
                "message": {"type": "string"},
                "response_code": {"type": "string"},
                "operation_id": {"type": "string"},
            },
            "required": ["error_code", "status", "message", "operation_id"],
            "additionalProperties": False,
        },
        "data": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^(payment|refund)_[0-9a-f]{32}$"},
                "amount": {"type": "number"},
                "status": {"type": "string"},
            },
            "required": ["id", "amount", "status"],
        },
    },
    "required": ["status"],
    "additionalProperties": False,
}
PAYMENT_STATUSES = {"ACT", "CLO", "ERR", "CAN", "EXP", "DLD", "REV", "UND", "CRE"}
NEXT_ACTIONS = {"3d_verification", "pending_capture", "pending_confirmation", "not_applicable"}
REFUND_STATUSES = {"Pending", "Completed", "Rejected", "Error", "Canceled"}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fixture_answers_have_documented_shapes(name: str) -> None:
    data = SCENARIOS[name]
    answer = data["response"]
    if "body" not in answer or "raises" in data["expect"]:
        return
    body = answer["body"]
    assert _problems(PAYMENT_ANSWER, body) == [], name
    assert (body["status"]["status"] == "ERROR") == (answer["status"] >= 400), name
    if "data" not in body:
        return
    item = body["data"]
    if data["flow"] in ("refund", "get_refund"):
        assert item["status"] in REFUND_STATUSES
        assert _undeclared({"$ref": "#/$defs/Refund"}, item, "data") == [], name
    else:
        assert item["status"] in PAYMENT_STATUSES and item["next_action"] in NEXT_ACTIONS
        assert not [f for f in _undeclared({"$ref": "#/$defs/Payment"}, item) if f.count("/") == 1]


def test_the_answer_schema_comes_from_the_file() -> None:
    """The answers are checked against the file's own Payment and Refund objects (extracted
    into $defs beside the request schemas)."""
    assert "Payment" in DEFS and "Refund" in DEFS
    assert {"id", "status", "next_action", "redirect_url", "textual_codes"} <= set(
        DEFS["Payment"]["properties"]
    )


# --- webhooks ------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body", "another_salt", "another_webhook_url"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = data["headers"]
    if "signature" not in headers or "timestamp" not in headers:
        assert data["expect"] == {"rejected": "missing_signature"}, name
        return
    secret = data["secret"]
    assert secret == CREDENTIALS["secret_key"]
    message = (
        CREDENTIALS["webhook_url"]
        + headers["salt"]
        + headers["timestamp"]
        + CREDENTIALS["access_key"]
        + secret
        + data["body_text"]
    )
    hex_text = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    expected = base64.b64encode(hex_text.encode()).decode()
    matches = hmac.compare_digest(expected, headers["signature"])
    assert matches == (name not in SIGNED_ELSEWHERE), name


def test_webhook_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {("payment.captured",), ("payment.failed",), ("refund.succeeded",)} <= outcomes
    assert rejections == {"bad_signature", "missing_signature"}


def test_recurring_saves_the_card_and_charges_it_by_id() -> None:
    setup = json.loads(_built("setup_recurring_card_saved").body or b"")
    assert setup["amount"] == 0 and setup["save_payment_method"] is True
    assert setup["payment_method"]["type"] == "de_visa_card"
    assert setup["payment_method"]["fields"]["recurrence_type"] == "recurring"
    charge = json.loads(_built("charge_recurring_saved_card").body or b"")
    assert charge["payment_method"] == "card_8fa6f39774a1c599de2be2d980471e14"
    assert charge["customer"] == "cus_3670eac2a6c45d67fd5de7f59341d559"
    assert charge["initiation_type"] == "recurring"
    assert (
        charge["complete_payment_url"]
        == SCENARIOS["charge_recurring_saved_card"]["request"]["return_url"]
    )
    assert charge["error_payment_url"] == charge["complete_payment_url"]
    schema = SCHEMA["endpoints"]["POST /v1/payments"]["body"]
    assert _problems(schema, {**charge, "initiation_type": 7})  # the schema can fail here too
