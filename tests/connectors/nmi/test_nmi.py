"""NMI-specific checks, against NMI's published Payment API rather than our spec.

NMI publishes no OpenAPI description or SDK; its reference is the Integration Portal
(secure.nmi.com/merchants/resources/integration/integration_portal.php): "Payment API" (the
Direct Post API: Transaction Types, Transaction Variables, Transaction Response Variables,
Appendices 1-3), "Query API" and "Webhooks". So:

- every built request is a POST to /api/transact.php or /api/query.php (sandbox.nmi.com for a
  sandbox account, secure.nmi.com live),
  form-encoded, its fields checked against a closed schema per transaction type written from
  the "Transaction Variables" tables (sale/auth/validate, capture, void, refund; the Query
  API's variables), with the documented formats (amount x.xx, ccexp MMYY, type values);
  negative tests show the schemas can fail;
- the security key travels in the body (security_key), never in a header or the URL;
- the processor answers in the fixtures are query strings with only the documented response
  variables (response 1/2/3, response_code from Appendix 3), and Query API answers are XML
  <nm_response> documents whose condition is one of the documented values;
- webhook fixture signatures are recomputed here with hmac/hashlib, independently of the
  engine: Webhook-Signature `t=<nonce>,s=<hex HMAC-SHA256(signing key, nonce + "." + body)>`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import xmltodict
from jsonschema import Draft202012Validator

from engine import load_connector

from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
CREDENTIALS = credentials_for("nmi")
SCENARIOS = fixtures_of("nmi", "scenarios")
WEBHOOKS = fixtures_of("nmi", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}

TEXT: dict[str, Any] = {"type": "string"}
AMOUNT: dict[str, Any] = {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"}
ID: dict[str, Any] = {"type": "string", "pattern": "^[0-9]+$"}
KEY: dict[str, Any] = {"const": CREDENTIALS["security_key"]}
#: Billing and shipping variables of "Sale/Authorization/Credit/Validate/Offline".
PARTY = {
    name: TEXT
    for name in [
        "first_name",
        "last_name",
        "company",
        "address1",
        "address2",
        "city",
        "state",
        "zip",
        "country",
        "phone",
        "fax",
        "email",
        "shipping_firstname",
        "shipping_lastname",
        "shipping_company",
        "shipping_address1",
        "shipping_address2",
        "shipping_city",
        "shipping_state",
        "shipping_zip",
        "shipping_country",
        "shipping_email",
    ]
}
PAYMENT_VARIABLES: dict[str, Any] = {
    "security_key": KEY,
    "type": {"enum": ["sale", "auth", "validate"]},
    "amount": AMOUNT,
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "payment": {"enum": ["creditcard", "check"]},
    "ccnumber": {"type": "string", "pattern": "^[0-9]{12,19}$"},
    # "Credit card expiration date. Format: MMYY"
    "ccexp": {"type": "string", "pattern": "^(0[1-9]|1[0-2])[0-9]{2}$"},
    "cvv": {"type": "string", "pattern": "^[0-9]{3,4}$"},
    "payment_token": TEXT,
    "checkname": TEXT,
    "checkaba": {"type": "string", "pattern": "^[0-9]{9}$"},
    "checkaccount": {"type": "string", "pattern": "^[0-9]+$"},
    "account_holder_type": {"enum": ["business", "personal"]},
    "account_type": {"enum": ["checking", "savings"]},
    "sec_code": {"enum": ["PPD", "WEB", "TEL", "CCD"]},
    "orderid": TEXT,
    "order_description": TEXT,
    "ipaddress": TEXT,
    "customer_vault": {"enum": ["add_customer", "update_customer"]},
    "customer_vault_id": ID,
    "initiated_by": {"enum": ["customer", "merchant"]},
    "stored_credential_indicator": {"enum": ["stored", "used"]},
    "initial_transaction_id": ID,
    "billing_method": {"enum": ["recurring", "installment"]},
    **PARTY,
}
_CARD = {"required": ["ccnumber", "ccexp"]}
_TOKEN = {"required": ["payment_token"]}
_CHECK = {
    "required": ["payment", "checkname", "checkaba", "checkaccount"],
    "properties": {"payment": {"const": "check"}},
}
_VAULT = {"required": ["customer_vault_id"]}


def _only_one(*sources: dict[str, Any]) -> dict[str, Any]:
    """Exactly one way to pay: card data, a token, an account, or a vault record."""
    names = ["ccnumber", "payment_token", "checkaccount", "customer_vault_id"]
    return {
        "oneOf": [
            {**s, "not": {"anyOf": [{"required": [n]} for n in names if n not in s["required"]]}}
            for s in sources
        ]
    }


def _closed(properties: dict[str, Any], required: list[str], **more: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
        **more,
    }


#: (endpoint, type) → the schema of its form fields.
SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/transact.php", "sale"): _closed(
        PAYMENT_VARIABLES,
        ["security_key", "type", "amount"],
        **_only_one(_CARD, _TOKEN, _CHECK, _VAULT),
    ),
    ("/api/transact.php", "auth"): _closed(
        PAYMENT_VARIABLES,
        ["security_key", "type", "amount"],
        **_only_one(_CARD, _TOKEN, _VAULT),
    ),
    # "validate": an account verification; no amount (or 0.00).
    ("/api/transact.php", "validate"): _closed(
        {k: v for k, v in PAYMENT_VARIABLES.items() if k != "amount"},
        ["security_key", "type"],
        **_only_one(_CARD, _TOKEN),
    ),
    ("/api/transact.php", "capture"): _closed(
        {
            "security_key": KEY,
            "type": {"const": "capture"},
            "transactionid": ID,
            "amount": AMOUNT,
            "tracking_number": TEXT,
            "shipping_carrier": {"enum": ["ups", "fedex", "dhl", "usps"]},
            "orderid": TEXT,
            "signature_image": TEXT,
        },
        ["security_key", "type", "transactionid", "amount"],
    ),
    ("/api/transact.php", "void"): _closed(
        {
            "security_key": KEY,
            "type": {"const": "void"},
            "transactionid": ID,
            "void_reason": {
                "enum": [
                    "fraud",
                    "user_cancel",
                    "icc_rejected",
                    "icc_card_removed",
                    "icc_no_confirmation",
                    "pos_timeout",
                ]
            },
            "payment": {"enum": ["creditcard", "check"]},
        },
        ["security_key", "type", "transactionid"],
    ),
    ("/api/transact.php", "refund"): _closed(
        {
            "security_key": KEY,
            "type": {"const": "refund"},
            "transactionid": ID,
            "amount": AMOUNT,
            "orderid": TEXT,
            "payment": {"enum": ["creditcard", "check"]},
        },
        ["security_key", "type", "transactionid"],
    ),
    # Query API variables: security_key and the filters (transaction_id, or order_id with
    # start_date / end_date "Format: YYYYMMDDhhmmss").
    ("/api/query.php", ""): _closed(
        {
            "security_key": KEY,
            "transaction_id": ID,
            "order_id": {"type": "string", "minLength": 1},
            "start_date": {"type": "string", "pattern": "^[0-9]{14}$"},
            "end_date": {"type": "string", "pattern": "^[0-9]{14}$"},
        },
        ["security_key"],
        oneOf=[
            {"required": ["transaction_id"], "not": {"required": ["order_id"]}},
            {"required": ["order_id"], "not": {"required": ["transaction_id"]}},
        ],
    ),
}


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _fields(body: bytes | None) -> dict[str, str]:
    pairs = parse_qsl((body or b"").decode(), keep_blank_values=True, strict_parsing=True)
    fields = dict(pairs)
    assert len(fields) == len(pairs), "a form field is repeated"
    return fields


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("nmi").build_request(data["flow"], data["request"], CREDENTIALS)


def _schema_for(built: Any) -> tuple[tuple[str, str], dict[str, str]]:
    split = urlsplit(built.url)
    fields = _fields(built.body)
    kind = fields.get("type", "") if split.path == "/api/transact.php" else ""
    return (split.path, kind), fields


# --- requests ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_follow_the_documented_variables(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert built.method == "POST"
    assert split.scheme == "https" and split.netloc == "sandbox.nmi.com" and not split.query
    assert built.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "security_key" not in json.dumps(dict(built.headers)).lower()
    key, fields = _schema_for(built)
    assert key in SCHEMAS, f"{name}: {key} is not a documented request"
    assert next(iter(fields)) == "security_key"  # the auth fields come first
    problems = _problems(SCHEMAS[key], fields)
    assert not problems, f"{name}: {key} breaks the documented variables: {problems}"


def test_every_request_kind_is_checked() -> None:
    seen = {_schema_for(_built(name))[0] for name in BUILDABLE}
    assert seen == set(SCHEMAS), set(SCHEMAS) - seen


@pytest.mark.parametrize(
    ("label", "scenario", "edit"),
    [
        ("expiry as MM/YY", "authorize_sale_approved", lambda f: f.update(ccexp="10/30")),
        ("four-digit year", "authorize_sale_approved", lambda f: f.update(ccexp="102030")),
        ("amount in cents", "authorize_sale_approved", lambda f: f.update(amount="1099")),
        ("a misspelt variable", "authorize_sale_approved", lambda f: f.update(ccnum="4111")),
        ("card and token", "authorize_sale_approved", lambda f: f.update(payment_token="t")),
        ("no security key", "authorize_sale_approved", lambda f: f.pop("security_key")),
        ("an unknown type", "authorize_sale_approved", lambda f: f.update(type="purchase")),
        ("check without aba", "authorize_ach_check_pending", lambda f: f.pop("checkaba")),
        ("a bad SEC code", "authorize_ach_check_pending", lambda f: f.update(sec_code="ABC")),
        (
            "MIT as MIT",
            "charge_recurring_scheduled",
            lambda f: f.update(stored_credential_indicator="merchant"),
        ),
    ],
)
def test_the_schemas_reject_broken_requests(label: str, scenario: str, edit: Any) -> None:
    key, fields = _schema_for(_built(scenario))
    schema = SCHEMAS[key]
    assert _problems(schema, fields) == []
    broken = copy.deepcopy(fields)
    edit(broken)
    assert _problems(schema, broken), label


def test_capture_and_refund_schemas_reject_broken_requests() -> None:
    capture = _schema_for(_built("capture_partial"))[1]
    assert _problems(SCHEMAS[("/api/transact.php", "capture")], {**capture, "amount": "100.5"})
    refund = _schema_for(_built("refund_partial"))[1]
    assert _problems(SCHEMAS[("/api/transact.php", "refund")], {**refund, "transactionid": "x"})


@pytest.mark.parametrize(
    ("name", "amount"),
    [
        ("authorize_sale_approved", "10.99"),
        ("authorize_auth_approved", "250.00"),
        ("capture_partial", "100.50"),
        ("refund_partial", "5.00"),
    ],
)
def test_amounts_are_major_unit_decimal_text(name: str, amount: str) -> None:
    fields = _fields(_built(name).body)
    assert fields["amount"] == amount and Decimal(fields["amount"]) == Decimal(amount)


def test_find_queries_by_order_id_within_the_range_in_utc() -> None:
    fields = _fields(_built("find_one_by_order_id").body)
    assert fields == {
        "security_key": CREDENTIALS["security_key"],
        "order_id": "order-1001",
        "start_date": "20260101000000",
        "end_date": "20260101010000",
    }
    query = SCHEMAS[("/api/query.php", "")]
    assert _problems(query, {**fields, "start_date": "2026-01-01"})
    assert _problems(query, {**fields, "transaction_id": "10342811051"})


def test_a_full_refund_sends_no_amount() -> None:
    assert "amount" not in _fields(_built("refund_full").body)


def test_manual_capture_is_an_auth_and_automatic_a_sale() -> None:
    assert _fields(_built("authorize_auth_approved").body)["type"] == "auth"
    assert _fields(_built("authorize_sale_approved").body)["type"] == "sale"


def test_a_merchant_initiated_charge_names_the_vault_record_and_first_transaction() -> None:
    fields = _fields(_built("charge_recurring_scheduled").body)
    assert fields["customer_vault_id"] == "1309432776"
    assert fields["initial_transaction_id"] == "10342811070"
    assert (fields["initiated_by"], fields["stored_credential_indicator"]) == ("merchant", "used")
    alone = _fields(_built("charge_recurring_vault_id_only").body)
    assert alone["customer_vault_id"] == "1309432777" and "initial_transaction_id" not in alone


def test_card_data_and_the_key_never_reach_a_transcript() -> None:
    built = _built("authorize_sale_approved")
    shown = json.dumps(built.redacted())
    for secret in ("4111111111111111", "999", CREDENTIALS["security_key"]):
        assert f"={secret}" not in shown
    assert "4111111111111111" in (built.body or b"").decode()


# --- answers -------------------------------------------------------------------------------

#: "Transaction Response Variables" (Standard Response, and those a request's options add).
DIRECT_POST_ANSWER = _closed(
    {
        "response": {"enum": ["1", "2", "3"]},
        "responsetext": TEXT,
        "authcode": TEXT,
        "transactionid": {"type": "string", "pattern": "^[0-9]*$"},
        "avsresponse": {"type": "string", "pattern": "^[A-Z0-9]?$"},
        "cvvresponse": {"enum": ["", "M", "N", "P", "S", "U"]},
        "orderid": TEXT,
        "type": {"enum": ["", "sale", "auth", "capture", "void", "refund", "credit", "validate"]},
        # Appendix 3.
        "response_code": {"type": "string", "pattern": "^[1-4][0-9]{2}$"},
        "customer_vault_id": ID,
        "amount_authorized": AMOUNT,
    },
    [
        "response",
        "responsetext",
        "authcode",
        "transactionid",
        "avsresponse",
        "cvvresponse",
        "orderid",
        "type",
        "response_code",
    ],
)
CONDITIONS = [
    "pending",
    "pendingsettlement",
    "in_progress",
    "abandoned",
    "failed",
    "canceled",
    "complete",
    "unknown",
]


def _answers() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, data["response"])
        for name, data in SCENARIOS.items()
        if "body_text" in data["response"] and data["response"]["status"] == 200
    ]


@pytest.mark.parametrize(("name", "answer"), _answers(), ids=lambda v: str(v)[:40])
def test_fixture_answers_have_documented_shapes(name: str, answer: dict[str, Any]) -> None:
    text = answer["body_text"]
    if SCENARIOS[name]["flow"] in ("get", "get_refund", "find"):
        document = xmltodict.parse(text)
        assert set(document) == {"nm_response"}
        found = document["nm_response"]
        if found is None or "error_response" in found:
            return
        transactions = found["transaction"]
        for transaction in transactions if isinstance(transactions, list) else [transactions]:
            assert transaction["condition"] in CONDITIONS
            assert transaction["transaction_type"] in ("cc", "ck")
            actions = transaction["action"]
            for action in actions if isinstance(actions, list) else [actions]:
                assert Decimal(action["amount"]) > 0 and len(action["date"]) == 14
        return
    if name == "authorize_unknown_response_value":
        assert _problems(DIRECT_POST_ANSWER, _fields(text.encode()))  # on purpose
        return
    assert answer["headers"]["Content-Type"].startswith("text/html")
    assert _problems(DIRECT_POST_ANSWER, _fields(text.encode())) == [], name


def test_the_answer_schema_can_fail() -> None:
    good = _fields(SCENARIOS["authorize_sale_approved"]["response"]["body_text"].encode())
    assert _problems(DIRECT_POST_ANSWER, {**good, "response": "approved"})
    assert _problems(DIRECT_POST_ANSWER, {**good, "status": "ok"})


# --- webhooks ------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_key", "tampered_amount"}
EVENT = _closed(
    {
        "event_id": {"type": "string", "minLength": 1},
        "event_type": {
            "type": "string",
            "pattern": "^transaction\\.(sale|auth|capture|void|refund|credit|validate)"
            "\\.(success|failure|unknown)$",
        },
        "event_body": {
            "type": "object",
            "required": [
                "merchant",
                "transaction_id",
                "condition",
                "order_id",
                "currency",
                "action",
            ],
            "properties": {
                "transaction_id": ID,
                "condition": {"enum": CONDITIONS},
                "action": {
                    "type": "object",
                    "required": ["amount", "action_type", "success", "response_code"],
                    "properties": {"amount": AMOUNT},
                },
            },
        },
    },
    ["event_id", "event_type", "event_body"],
)


def _signature_pairs(header: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in header.split(","))


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    header = data["headers"].get("Webhook-Signature")
    if header is None:
        assert name == "missing_signature"
        return
    pairs = _signature_pairs(header)
    assert set(pairs) == {"t", "s"} and not pairs["t"].isdigit()  # a nonce, not a time
    message = f"{pairs['t']}.{data['body_text']}".encode()
    expected = hmac.new(data["secret"].encode(), message, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, pairs["s"]) == (name not in SIGNED_ELSEWHERE), name


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_bodies_have_the_documented_shape(name: str) -> None:
    assert _problems(EVENT, json.loads(WEBHOOKS[name]["body_text"])) == []


def test_webhook_kinds_covered() -> None:
    types = {e["type"] for d in WEBHOOKS.values() for e in d["expect"].get("events", [])}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {
        "payment.captured",
        "payment.authorized",
        "payment.failed",
        "payment.voided",
        "refund.succeeded",
    } <= types
    assert rejections == {"bad_signature", "missing_signature"}
