"""Global Payments GP API checks, against GP API's published description and official SDK rather
than our spec.

No OpenAPI description of GP API is published (../shared/processor-apis/global_payments/ is a
THIRD-PARTY sketch without /ucp, with number amounts: not GP API). The bodies are checked against
closed schemas written here from the official PHP SDK globalpayments/php-sdk 14.2.1 (commit
a0ff355): GpApiAuthorizationRequestBuilder::createFromAuthorizationBuilder and
setRequestStoredCredentials (POST /transactions), GpApiManagementRequestBuilder (capture,
reversal, refund), the DTOs PaymentMethod and Card, CardUtils::generateCard (two-digit expiry
year, cvv_indicator), AccessTokenRequest and GpApiSessionInfo (POST /accesstoken); and:

- every request is an SDK endpoint (GpApiRequest: /accesstoken, /transactions…) on the sandbox
  host, with the bearer token, X-GP-Version 2021-03-22 and x-gp-idempotency on POSTs;
- amounts are strings of minor units (StringUtils::toNumeric); the schemas can fail;
- the access-token request's secret is recomputed: hex(SHA-512(nonce + app_key));
- the answers in the fixtures have GP API's transaction shape (what GpApiMapping reads), closed;
- notification signatures are recomputed: hex(SHA-512(raw body + app_key)).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import HttpResponse, load_connector
from engine._tokens import build_token_request, parse_token_response

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
CREDENTIALS = credentials_for("global_payments")
SCENARIOS = fixtures_of("global_payments", "scenarios")
WEBHOOKS = fixtures_of("global_payments", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
TOKEN_ANSWER = json.loads((HERE / "token_answer.json").read_text("utf-8"))
HOST = "apis.sandbox.globalpay.com"
AMOUNT: dict[str, Any] = {"type": "string", "pattern": "^[0-9]+$"}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}


def _closed(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        schema["required"] = required
    return schema


#: DTO Card, as CardUtils::generateCard fills it for a card not present.
CARD = _closed(
    {
        "number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
        "expiry_month": {"type": "string", "pattern": "^(0[1-9]|1[0-2])$"},
        "expiry_year": {"type": "string", "pattern": "^[0-9]{2}$"},
        "cvv": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "cvv_indicator": {"enum": ["PRESENT", "ILLEGIBLE", "NOT_ON_CARD", "NOT_PRESENT"]},
        "brand": {"type": "string"},
        "avs_address": {"type": "string"},
        "avs_postal_code": {"type": "string"},
        "funding": {"type": "string"},
        "brand_reference": {"type": "string"},
        "authcode": {"type": "string"},
    },
    ["number", "expiry_month", "expiry_year"],
)
#: DTO PaymentMethod (the fields a card-not-present payment sends).
PAYMENT_METHOD = _closed(
    {
        "id": {"type": "string", "pattern": "^PMT_"},
        "entry_mode": {"enum": ["ECOM", "MOTO", "IN_APP"]},
        "name": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "usage_mode": {"type": "string"},
        "storage_mode": {"enum": ["ALWAYS", "ON_SUCCESS"]},
        "narrative": {"type": "string"},
        "fingerprint_mode": {"type": "string"},
        "card": CARD,
        "authentication": _closed(
            {
                "id": {"type": "string"},
                "three_ds": _closed(
                    {
                        "exempt_status": {"type": "string"},
                        "message_version": {"type": "string"},
                        "eci": {"type": "string", "pattern": "^[0-9]{2}$"},
                        "server_trans_ref": {"type": "string"},
                        "ds_trans_ref": {"type": "string"},
                        "value": {"type": "string", "minLength": 1},
                    },
                    ["value"],
                ),
            }
        ),
    },
    ["entry_mode"],
)
TRANSACTION_REQUEST = _closed(
    {
        "account_name": {"type": "string"},
        "account_id": {"type": "string"},
        "type": {"enum": ["SALE", "REFUND"]},
        "channel": {"enum": ["CNP", "CP"]},
        "capture_mode": {"enum": ["AUTO", "LATER", "MULTIPLE"]},
        "authorization_mode": {"enum": ["PARTIAL"]},
        "amount": AMOUNT,
        "currency": CURRENCY,
        "reference": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "order": _closed({"reference": {"type": "string"}}),
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "ip_address": {"type": "string"},
        "merchant_category": {"type": "string"},
        "payer": _closed({"id": {"type": "string"}}),
        "payment_method": PAYMENT_METHOD,
        "initiator": {"enum": ["PAYER", "MERCHANT"]},
        "stored_credential": _closed(
            {
                "model": {"enum": ["RECURRING", "UNSCHEDULED", "INSTALLMENT", "SUBSCRIPTION"]},
                "reason": {"type": "string"},
                "sequence": {"enum": ["FIRST", "SUBSEQUENT", "LAST"]},
            }
        ),
    },
    [
        "account_name",
        "type",
        "channel",
        "amount",
        "currency",
        "reference",
        "country",
        "payment_method",
    ],
)
#: A card stored for later (GpApiAuthorizationRequestBuilder, TransactionType::VERIFY with
#: requestMultiUseToken): account_name/account_id (the tokenization account), name, payer.id,
#: reference, usage_mode, fingerprint_mode, and the card (number, expiry, cvv).
PAYMENT_METHOD_REQUEST = _closed(
    {
        "account_name": {"type": "string", "minLength": 1},
        "account_id": {"type": "string", "pattern": "^TKA_"},
        "name": {"type": "string"},
        "payer": _closed({"id": {"type": "string"}}),
        "reference": {"type": "string", "minLength": 1},
        "usage_mode": {"enum": ["SINGLE", "MULTIPLE"]},
        "fingerprint_mode": {"type": "string"},
        "card": _closed(
            {
                "number": CARD["properties"]["number"],
                "expiry_month": CARD["properties"]["expiry_month"],
                "expiry_year": CARD["properties"]["expiry_year"],
                "cvv": CARD["properties"]["cvv"],
            },
            ["number", "expiry_month", "expiry_year"],
        ),
    },
    ["account_name", "reference", "usage_mode", "card"],
)
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /ucp/transactions": {"body": TRANSACTION_REQUEST},
    "POST /ucp/payment-methods": {"body": PAYMENT_METHOD_REQUEST},
    # GpApiManagementRequestBuilder: capture {amount, gratuity, capture_sequence, …}, reversal
    # and refund {amount, currency_conversion}.
    "POST /ucp/transactions/{id}/capture": {
        "body": _closed({"amount": AMOUNT, "gratuity": AMOUNT, "capture_sequence": {}})
    },
    "POST /ucp/transactions/{id}/reversal": {"body": _closed({"amount": AMOUNT})},
    "POST /ucp/transactions/{id}/refund": {"body": _closed({"amount": AMOUNT})},
    "GET /ucp/transactions/{id}": {"body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)

#: A transaction as GP API answers it (the members GpApiMapping::mapResponse reads, and the rest
#: of the documented transaction object), closed.
TRANSACTION: dict[str, Any] = _closed(
    {
        "id": {"type": "string", "pattern": "^TRN_"},
        "time_created": {"type": "string"},
        "type": {"enum": ["SALE", "REFUND"]},
        "status": {
            "enum": [
                "INITIATED",
                "AUTHENTICATED",
                "PENDING",
                "DECLINED",
                "PREAUTHORIZED",
                "CAPTURED",
                "BATCHED",
                "REVERSED",
                "FUNDED",
                "REJECTED",
            ]
        },
        "channel": {"enum": ["CNP", "CP"]},
        "capture_mode": {"enum": ["AUTO", "LATER", "MULTIPLE"]},
        "amount": AMOUNT,
        "currency": CURRENCY,
        "country": {"type": "string"},
        "merchant_id": {"type": "string", "pattern": "^MER_"},
        "merchant_name": {"type": "string"},
        "account_id": {"type": "string", "pattern": "^TRA_"},
        "account_name": {"type": "string"},
        "reference": {"type": "string"},
        "batch_id": {"type": "string"},
        "payment_method": _closed(
            {
                "id": {"type": "string", "pattern": "^PMT_"},
                "result": {"type": "string"},
                "message": {"type": "string"},
                "entry_mode": {"type": "string"},
                "card": _closed(
                    {
                        "brand": {"type": "string"},
                        "masked_number_last4": {"type": "string"},
                        "authcode": {"type": "string"},
                        "brand_reference": {"type": "string"},
                        "brand_time_created": {"type": "string"},
                        "cvv_result": {"type": "string"},
                        "avs_address_result": {"type": "string"},
                        "avs_postal_code_result": {"type": "string"},
                        "avs_action": {"type": "string"},
                        "funding": {"type": "string"},
                        "provider": {"type": "object"},
                    }
                ),
            },
            ["result"],
        ),
        "action": _closed(
            {
                "id": {"type": "string", "pattern": "^ACT_"},
                "type": {"type": "string"},
                "time_created": {"type": "string"},
                "result_code": {"type": "string"},
                "app_id": {"type": "string"},
                "app_name": {"type": "string"},
            },
            ["id", "type", "result_code"],
        ),
    },
    ["id", "type", "status", "amount", "currency", "reference", "action"],
)
#: A stored payment method as POST /payment-methods answers it (the members
#: GpApiMapping::mapResponse reads for a PMT_ answer: id, reference, time_created, status,
#: usage_mode, card via mapCardDetails, action.result_code), closed.
STORED_METHOD: dict[str, Any] = _closed(
    {
        "id": {"type": "string", "pattern": "^PMT_"},
        "time_created": {"type": "string"},
        "status": {"type": "string"},
        "usage_mode": {"enum": ["SINGLE", "MULTIPLE"]},
        "merchant_id": {"type": "string", "pattern": "^MER_"},
        "merchant_name": {"type": "string"},
        "account_id": {"type": "string", "pattern": "^TKA_"},
        "account_name": {"type": "string"},
        "reference": {"type": "string"},
        "card": _closed(
            {
                "masked_number_last4": {"type": "string", "pattern": "^X*[0-9]{4}$"},
                "brand": {"type": "string"},
                "expiry_month": {"type": "string", "pattern": "^(0[1-9]|1[0-2])$"},
                "expiry_year": {"type": "string", "pattern": "^[0-9]{2}$"},
                "funding": {"type": "string"},
            }
        ),
        "action": TRANSACTION["properties"]["action"],
    },
    ["id", "status", "reference", "card", "action"],
)
ERROR = _closed(
    {
        "error_code": {"type": "string"},
        "detailed_error_code": {"type": "string"},
        "detailed_error_description": {"type": "string"},
        "time_created": {"type": "string"},
    },
    ["error_code", "detailed_error_code", "detailed_error_description"],
)


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("global_payments").build_request(
        data["flow"], data["request"], CREDENTIALS, access_token="gp-access-token"
    )


# --- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_gp_api_endpoints_with_documented_bodies(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == HOST
    key, params = ENDPOINT_INDEX.match(built.method, split.path)
    for value in params.values():
        assert value.startswith("TRN_"), value
    assert built.headers["Authorization"] == "Bearer gp-access-token"
    assert built.headers["X-GP-Version"] == "2021-03-22"
    schema = ENDPOINTS[key]["body"]
    if schema is None:
        assert not built.body and "x-gp-idempotency" not in built.headers
        return
    assert built.headers["x-gp-idempotency"] == SCENARIOS[name]["request"]["idempotency_key"]
    problems = _problems(schema, json.loads(built.body or b"{}"))
    assert not problems, f"{name}: {key} body breaks the documented request: {problems}"


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered((_built(name) for name in BUILDABLE), ENDPOINTS)


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name).body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("amount as a number", lambda b: b.update(amount=1999)),
        ("amount in major units", lambda b: b.update(amount="19.99")),
        ("a four-digit year", lambda b: b["payment_method"]["card"].update(expiry_year="2030")),
        ("no reference", lambda b: b.pop("reference")),
        ("an unknown capture mode", lambda b: b.update(capture_mode="MANUAL")),
        ("a misspelt field", lambda b: b.update(captureMode="AUTO")),
        ("no entry mode", lambda b: b["payment_method"].pop("entry_mode")),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, edit: Any) -> None:
    body = _body("authorize_sale_captured")
    assert _problems(TRANSACTION_REQUEST, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(TRANSACTION_REQUEST, broken), label


def test_the_card_and_modes_are_written_as_the_sdk_writes_them() -> None:
    body = _body("authorize_sale_captured")
    assert body["payment_method"]["card"] == {
        "number": "4263970000005262",
        "expiry_month": "12",
        "expiry_year": "30",
        "cvv": "123",
        "cvv_indicator": "PRESENT",
    }
    assert (body["capture_mode"], body["amount"], body["channel"]) == ("AUTO", "1999", "CNP")
    assert _body("authorize_later_preauthorized")["capture_mode"] == "LATER"
    assert _body("authorize_jpy")["amount"] == "500"
    assert _body("capture_partial") == {"amount": "10050"}
    assert _body("refund_full_without_amount") == {}
    saved = _body("authorize_save_card")
    assert saved["payment_method"]["storage_mode"] == "ON_SUCCESS"
    assert (saved["initiator"], saved["stored_credential"]) == (
        "PAYER",
        {"model": "UNSCHEDULED", "sequence": "FIRST"},
    )
    mit = _body("charge_recurring_mit")
    assert mit["payment_method"]["id"].startswith("PMT_") and mit["initiator"] == "MERCHANT"
    assert mit["stored_credential"] == {"model": "RECURRING", "sequence": "SUBSEQUENT"}


# --- the access token -------------------------------------------------------------------------


def test_the_access_token_request_is_gp_apis() -> None:
    built = build_token_request(load_connector("global_payments").plan, CREDENTIALS)
    assert built.method == "POST"
    assert built.url == "https://apis.sandbox.globalpay.com/ucp/accesstoken"
    assert built.headers["X-GP-Version"] == "2021-03-22"
    body = json.loads(built.body or b"")
    assert set(body) == {"app_id", "nonce", "secret", "grant_type"}
    assert body["app_id"] == CREDENTIALS["app_id"] and body["grant_type"] == "client_credentials"
    # GpApiSessionInfo::generateSecret: hash('SHA512', nonce . app_key).
    expected = hashlib.sha512((body["nonce"] + CREDENTIALS["app_key"]).encode()).hexdigest()
    assert body["secret"] == expected
    assert body["nonce"] and body["nonce"] != build_token_request(
        load_connector("global_payments").plan, CREDENTIALS
    ).redacted().get("body")
    shown = json.dumps(built.redacted())
    assert CREDENTIALS["app_key"] not in shown and expected not in shown


def test_the_token_answer_gives_the_token_and_its_lifetime() -> None:
    answer = HttpResponse(200, {}, json.dumps(TOKEN_ANSWER["body"]).encode())
    plan = load_connector("global_payments").plan
    token = parse_token_response(plan, answer, now=1_767_225_600.0)
    assert token.token.reveal() == TOKEN_ANSWER["body"]["token"]
    assert token.expires_at == 1_767_225_600.0 + 86399
    assert TOKEN_ANSWER["body"]["token"] not in repr(token)


# --- answers ----------------------------------------------------------------------------------


def _answers() -> list[tuple[str, dict[str, Any]]]:
    return [(n, d["response"]) for n, d in SCENARIOS.items() if "body" in d.get("response", {})]


@pytest.mark.parametrize(("name", "answer"), _answers(), ids=lambda v: str(v)[:40])
def test_fixture_answers_have_documented_shapes(name: str, answer: Any) -> None:
    if answer["status"] >= 400:
        schema = ERROR
    else:
        schema = STORED_METHOD if SCENARIOS[name]["flow"] == "setup_recurring" else TRANSACTION
    assert _problems(schema, answer["body"]) == [], name


def test_setup_stores_the_card_under_the_tokenization_account() -> None:
    body = _body("setup_recurring_card_stored")
    assert body["account_name"] == "tokenization"  # the setting's default, not the TRA_ account
    assert body["usage_mode"] == "MULTIPLE" and body["reference"] == "sub-1001"
    assert body["card"]["expiry_year"] == "30" and body["card"]["expiry_month"] == "12"
    assert body["payer"] == {"id": "cust-77"}
    assert _problems(PAYMENT_METHOD_REQUEST, {**body, "type": "SALE"})
    assert _problems(PAYMENT_METHOD_REQUEST, {**body, "usage_mode": "MANY"})
    assert _problems(
        PAYMENT_METHOD_REQUEST, {**body, "card": {**body["card"], "expiry_year": "2030"}}
    )
    stored = SCENARIOS["setup_recurring_card_stored"]["response"]["body"]
    assert _problems(STORED_METHOD, {**stored, "id": "TRN_1"})


def test_the_answer_schema_is_closed() -> None:
    answer = copy.deepcopy(SCENARIOS["authorize_sale_captured"]["response"]["body"])
    answer["payment_method"]["card"]["last4"] = "5262"
    assert _problems(TRANSACTION, answer)


# --- notifications ----------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_key", "tampered_body"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_notification_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    signature = data["headers"].get("X-GP-Signature")
    if signature is None:
        assert data["expect"] == {"rejected": "missing_signature"}
        return
    expected = hashlib.sha512((data["body_text"] + data["secret"]).encode()).hexdigest()
    assert (expected == signature) == (name not in SIGNED_ELSEWHERE), name
    assert _problems(TRANSACTION, json.loads(data["body_text"])) == []


def test_notification_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {("payment.captured",), ("payment.authorized",), ("refund.succeeded",)} <= outcomes
    assert rejections == {"bad_signature", "missing_signature"}
