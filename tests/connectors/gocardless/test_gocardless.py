"""GoCardless-specific checks, against GoCardless's published descriptions rather than our spec.

- every request the spec builds for a scenario (each step of authorize, setup_recurring and
  refund included) is an operation of gocardless-openapi.yml (a verbatim copy of the
  third-party path sketch in processor-apis/gocardless/), method and path;
- that file has no request bodies, so each body is checked against a closed schema written by
  hand from the request parameter structs of the official client gocardless/gocardless-pro-go
  @553b873 (customer_service.go CustomerCreateParams, customer_bank_account_service.go
  CustomerBankAccountCreateParams, mandate_service.go MandateCreateParams, payment_service.go
  PaymentCreateParams, refund_service.go RefundCreateParams), inside the resource envelope
  (`{"payments": {...}}`) the official gocardless-pro-python client puts every body in;
  negative tests show the schemas can fail;
- amounts are integers in minor units, and a refund's total_amount_confirmation is what was
  refunded before plus this refund (API reference, Refunds: "Create a refund");
- headers: `Authorization: Bearer <token>`, `GoCardless-Version: 2015-07-06` on every request,
  an `Idempotency-Key` on every create (each request of a call its own), none on a read;
- the processor answers in the fixtures have the shapes of the python client's response
  fixtures (tests/fixtures/*.json @d5c83f3) and of GoCardless's error envelope;
- webhook deliveries validate against gocardless-asyncapi.yml (a verbatim copy of the
  third-party event description), and their signatures are recomputed here with hmac/hashlib,
  independently of the engine: hex(HMAC-SHA256(endpoint secret, raw body)), as
  gocardless_pro/webhooks.py verifies them.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import HttpResponse, UnsupportedError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
#: Verbatim copies of processor-apis/gocardless/ (api-evangelist/gocardless :
#: openapi/_original/gocardless-openapi.yml @ 21c1799bba3a0b9609a8de535b771e4f65c71f9c and
#: asyncapi/gocardless-asyncapi.yml @ 7465f5141fbc9ad246a9c12e5271e9f642d0ee98).
OPENAPI_PATH = HERE / "gocardless-openapi.yml"
OPENAPI_SHA256 = "5f0f460059c8f024e626b4ea95678171b9fb1ad887bf82766d44ded6fbed4ea5"
ASYNCAPI_PATH = HERE / "gocardless-asyncapi.yml"
ASYNCAPI_SHA256 = "47916bdb4e6913863957e3d68f11c5e0ef1fff8782f56c12f51885ec468ab0fb"
CREDENTIALS = credentials_for("gocardless")
SCENARIOS = fixtures_of("gocardless", "scenarios")
WEBHOOKS = fixtures_of("gocardless", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}


def _openapi_operations() -> set[str]:
    document = yaml.safe_load(OPENAPI_PATH.read_text("utf-8"))
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete"}
    }


OPERATIONS = _openapi_operations()
METADATA: dict[str, Any] = {
    # "Key-value store of custom data. Up to 3 keys are permitted, with key names up to 50
    # characters and values up to 500 characters."
    "type": "object",
    "maxProperties": 3,
    "propertyNames": {"maxLength": 50},
    "additionalProperties": {"type": "string", "maxLength": 500},
}
ID = {"type": "string", "pattern": "^[A-Z]{2}[0-9A-Z]+$"}


def _envelope(name: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: inner},
        "required": [name],
    }


def _closed(properties: dict[str, Any], required: list[str], **more: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
        **more,
    }


CUSTOMER = _closed(
    {
        "address_line1": {"type": "string"},
        "address_line2": {"type": "string"},
        "address_line3": {"type": "string"},
        "city": {"type": "string"},
        "company_name": {"type": "string"},
        "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "danish_identity_number": {"type": "string"},
        "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
        "family_name": {"type": "string", "minLength": 1},
        "given_name": {"type": "string", "minLength": 1},
        # "ISO 639-1 code."
        "language": {"type": "string", "pattern": "^[a-z]{2}$"},
        "metadata": METADATA,
        "phone_number": {"type": "string"},
        "postal_code": {"type": "string"},
        "region": {"type": "string"},
        "swedish_identity_number": {"type": "string"},
    },
    ["email", "given_name", "family_name"],
)
BANK_ACCOUNT = _closed(
    {
        "account_holder_name": {"type": "string", "minLength": 1, "maxLength": 255},
        "account_number": {"type": "string", "pattern": "^[0-9]+$"},
        "account_type": {"enum": ["savings", "checking"]},
        "bank_code": {"type": "string", "pattern": "^[0-9]{9}$"},
        "branch_code": {"type": "string", "pattern": "^[0-9]{6}$"},
        "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "currency": {"enum": ["EUR", "GBP", "USD", "AUD"]},
        "iban": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]+$"},
        "links": _closed(
            {"customer": {"type": "string", "pattern": "^CU"}, "customer_bank_account_token": {}},
            ["customer"],
        ),
        "metadata": METADATA,
    },
    ["account_holder_name", "links"],
    # "Local bank details" per country, or an IBAN (Customer Bank Accounts: "Create").
    oneOf=[
        {"required": ["iban"], "not": {"anyOf": [{"required": ["account_number"]}]}},
        {
            "required": ["account_number", "branch_code", "country_code"],
            "properties": {"country_code": {"enum": ["GB", "AU"]}},
            "not": {"anyOf": [{"required": ["iban"]}, {"required": ["bank_code"]}]},
        },
        {
            "required": ["account_number", "bank_code", "account_type", "country_code"],
            "properties": {"country_code": {"const": "US"}},
            "not": {"anyOf": [{"required": ["iban"]}, {"required": ["branch_code"]}]},
        },
    ],
)
MANDATE = _closed(
    {
        "authorisation_source": {"enum": ["web", "telephone", "paper"]},
        "links": _closed(
            {
                "creditor": {"type": "string", "pattern": "^CR"},
                "customer_bank_account": {"type": "string", "pattern": "^BA"},
            },
            ["customer_bank_account"],
        ),
        "metadata": METADATA,
        "payer_ip_address": {"type": "string"},
        "reference": {"type": "string"},
        # The scheme names of "Mandates: scheme" for the four bank debits this spec takes.
        "scheme": {"enum": ["sepa_core", "bacs", "ach", "becs"]},
    },
    ["links", "scheme"],
    # "payer_ip_address: ... required for ACH and BECS mandates".
    allOf=[
        {
            "if": {"properties": {"scheme": {"enum": ["ach", "becs"]}}},
            "then": {"required": ["payer_ip_address"]},
        }
    ],
)
PAYMENT = _closed(
    {
        "amount": {"type": "integer", "minimum": 1},
        "app_fee": {"type": "integer"},
        "charge_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
        "currency": {"enum": ["EUR", "GBP", "USD", "AUD"]},
        "description": {"type": "string"},
        "faster_ach": {"type": "boolean"},
        "links": _closed({"mandate": {"type": "string", "pattern": "^MD"}}, ["mandate"]),
        "metadata": METADATA,
        "psu_interaction_type": {"type": "string"},
        # Bank statement text: at most 140 characters (SEPA), fewer for the other schemes.
        "reference": {"type": "string", "maxLength": 140},
        "retry_if_possible": {"type": "boolean"},
    },
    ["amount", "currency", "links"],
)
REFUND = _closed(
    {
        "amount": {"type": "integer", "minimum": 1},
        "links": _closed(
            {"mandate": {"type": "string"}, "payment": {"type": "string", "pattern": "^PM"}},
            ["payment"],
        ),
        "metadata": METADATA,
        "reference": {"type": "string"},
        "total_amount_confirmation": {"type": "integer", "minimum": 1},
    },
    ["amount", "links", "total_amount_confirmation"],
)
#: The endpoints the spec uses, each with its body schema (None: no body).
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /customers": {"body": _envelope("customers", CUSTOMER)},
    "POST /customer_bank_accounts": {"body": _envelope("customer_bank_accounts", BANK_ACCOUNT)},
    "POST /mandates": {"body": _envelope("mandates", MANDATE)},
    "POST /payments": {"body": _envelope("payments", PAYMENT)},
    # The python client sends no body when cancel is given no params (metadata only).
    "POST /payments/{id}/actions/cancel": {"body": None},
    "POST /refunds": {"body": _envelope("refunds", REFUND)},
    "GET /payments/{id}": {"body": None},
    "GET /refunds/{id}": {"body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> list[Any]:
    """Every request the scenario's flow sends, each step fed the scenario's earlier answers."""
    data = SCENARIOS[name]
    connector = load_connector("gocardless")
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


# --- requests ------------------------------------------------------------------------------


def test_the_saved_files_are_the_recorded_copies() -> None:
    assert hashlib.sha256(OPENAPI_PATH.read_bytes()).hexdigest() == OPENAPI_SHA256
    assert hashlib.sha256(ASYNCAPI_PATH.read_bytes()).hexdigest() == ASYNCAPI_SHA256


def test_the_openapi_file_lists_every_endpoint_the_spec_uses() -> None:
    assert set(ENDPOINTS) <= OPERATIONS, set(ENDPOINTS) - OPERATIONS


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_gocardless_operations_with_documented_bodies(name: str) -> None:
    for built in _built(name):
        split = urlsplit(built.url)
        assert split.scheme == "https" and split.netloc == "api-sandbox.gocardless.com"
        key, params = ENDPOINT_INDEX.match(built.method, split.path)
        assert key in OPERATIONS
        for value in params.values():
            assert value.startswith(("PM", "RF")), f"{key}: path id {value!r}"
        assert built.headers["Authorization"] == f"Bearer {CREDENTIALS['access_token']}"
        assert built.headers["GoCardless-Version"] == "2015-07-06"
        if built.method == "GET":
            assert "Idempotency-Key" not in built.headers, key
        else:
            assert built.headers["Idempotency-Key"], key
        schema = ENDPOINTS[key]["body"]
        if schema is None:
            assert not built.body, f"{key} takes no body"
            continue
        assert built.headers["Content-Type"] == "application/json"
        problems = _problems(schema, json.loads(built.body or b"{}"))
        assert not problems, f"{name}: {key} body breaks the documented request: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The test above is not vacuous: each endpoint gets checked, and every body too."""
    ENDPOINT_INDEX.assert_covered(
        (request for name in BUILDABLE for request in _built(name)), ENDPOINTS
    )


def _body(name: str, index: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name)[index].body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "endpoint", "scenario", "index", "edit"),
    [
        (
            "no envelope",
            "POST /payments",
            "charge_recurring_pending_submission",
            0,
            lambda b: b.update(b.pop("payments")),
        ),
        (
            "amount as a string",
            "POST /payments",
            "charge_recurring_pending_submission",
            0,
            lambda b: b["payments"].update(amount="20.00"),
        ),
        (
            "no mandate link",
            "POST /payments",
            "charge_recurring_pending_submission",
            0,
            lambda b: b["payments"].pop("links"),
        ),
        (
            "a fourth metadata key",
            "POST /payments",
            "charge_recurring_pending_submission",
            0,
            lambda b: b["payments"]["metadata"].update(a="1", b="2"),
        ),
        (
            "a misspelt field",
            "POST /payments",
            "charge_recurring_pending_submission",
            0,
            lambda b: b["payments"].update(ammount=1),
        ),
        (
            "an IBAN and local details",
            "POST /customer_bank_accounts",
            "authorize_sepa_pending_submission",
            1,
            lambda b: b["customer_bank_accounts"].update(account_number="12345678"),
        ),
        (
            "ACH without account type",
            "POST /customer_bank_accounts",
            "authorize_ach_pending_submission",
            1,
            lambda b: b["customer_bank_accounts"].pop("account_type"),
        ),
        (
            "ACH mandate without the payer's IP",
            "POST /mandates",
            "authorize_ach_pending_submission",
            2,
            lambda b: b["mandates"].pop("payer_ip_address"),
        ),
        (
            "SEPA scheme misnamed",
            "POST /mandates",
            "authorize_sepa_pending_submission",
            2,
            lambda b: b["mandates"].update(scheme="sepa"),
        ),
        (
            "no total confirmation",
            "POST /refunds",
            "refund_partial_created",
            1,
            lambda b: b["refunds"].pop("total_amount_confirmation"),
        ),
        (
            "no given name",
            "POST /customers",
            "authorize_bacs_pending_submission",
            0,
            lambda b: b["customers"].pop("given_name"),
        ),
    ],
)
def test_the_schemas_reject_broken_bodies(
    label: str, endpoint: str, scenario: str, index: int, edit: Any
) -> None:
    body = _body(scenario, index)
    schema = ENDPOINTS[endpoint]["body"]
    assert _problems(schema, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(schema, broken), label


@pytest.mark.parametrize(
    ("name", "scheme", "account"),
    [
        ("authorize_sepa_pending_submission", "sepa_core", {"iban": "DE89370400440532013000"}),
        (
            "authorize_bacs_pending_submission",
            "bacs",
            {"account_number": "55779911", "branch_code": "200000", "country_code": "GB"},
        ),
        (
            "authorize_ach_pending_submission",
            "ach",
            {
                "account_number": "2715500356",
                "bank_code": "026073150",
                "account_type": "savings",
                "country_code": "US",
            },
        ),
        (
            "authorize_becs_pending_customer_approval",
            "becs",
            {"account_number": "123456789", "branch_code": "082082", "country_code": "AU"},
        ),
    ],
)
def test_each_scheme_sends_its_bank_details_and_mandate_scheme(
    name: str, scheme: str, account: dict[str, str]
) -> None:
    customer, bank_account, mandate, payment = _built(name)
    sent = json.loads(bank_account.body or b"")["customer_bank_accounts"]
    assert {k: sent[k] for k in account} == account
    assert set(sent) - set(account) <= {"account_holder_name", "currency", "links"}
    assert json.loads(mandate.body or b"")["mandates"]["scheme"] == scheme
    # Each create of the call carries its own key; the payment the call's.
    keys = [r.headers["Idempotency-Key"] for r in (customer, bank_account, mandate, payment)]
    assert keys[3] == SCENARIOS[name]["request"]["idempotency_key"]
    assert len(set(keys)) == 4 and all(str(uuid.UUID(k)) == k for k in keys[:3])
    assert _built(name)[0].headers["Idempotency-Key"] == keys[0]  # stable for a retry


@pytest.mark.parametrize(
    ("name", "amount", "total"),
    [
        ("refund_partial_created", 500, 500),
        ("refund_second_partial_counts_the_first", 300, 800),
        ("refund_full_without_amount", 1000, 1500),
    ],
)
def test_refunds_confirm_the_running_total(name: str, amount: int, total: int) -> None:
    refund = _body(name, 1)["refunds"]
    assert refund["amount"] == amount and type(refund["amount"]) is int
    assert refund["total_amount_confirmation"] == total


def test_setup_recurring_sends_the_unified_mandate_terms() -> None:
    mandate = _body("setup_recurring_bacs_mandate_terms_offline", 2)["mandates"]
    assert mandate["reference"] == "ACME-SUB-1001"
    assert mandate["authorisation_source"] == "paper"  # offline: a signed paper mandate
    assert _problems(ENDPOINTS["POST /mandates"]["body"], {"mandates": mandate}) == []
    # Without terms, GoCardless chooses the reference (none sent).
    assert "reference" not in _body("setup_recurring_bacs_pending_submission", 2)["mandates"]


def test_setup_recurring_refuses_mandate_text_it_cannot_send() -> None:
    data = SCENARIOS["setup_recurring_bacs_mandate_terms_offline"]
    request = {**data["request"], "mandate": {**data["request"]["mandate"], "text": "I authorise"}}
    with pytest.raises(UnsupportedError) as caught:
        load_connector("gocardless").build_request("setup_recurring", request, CREDENTIALS)
    assert "mandate.text" in str(caught.value)


def test_amounts_are_minor_unit_integers() -> None:
    assert b'"amount":1500,' in (_built("authorize_bacs_pending_submission")[3].body or b"")
    assert b'"amount":2599,' in (_built("authorize_sepa_pending_submission")[3].body or b"")


def test_the_merchant_reference_goes_to_metadata_and_the_descriptor_to_the_statement() -> None:
    payment = _body("authorize_bacs_pending_submission", 3)["payments"]
    assert payment["metadata"] == {"reference": "order-1001"}
    assert payment["reference"] == "WINEBOX001"


def test_bank_account_numbers_never_reach_a_transcript() -> None:
    built = _built("authorize_ach_pending_submission")[1]
    shown = json.dumps(built.redacted())
    assert "2715500356" not in shown and "2715500356" in (built.body or b"").decode()


# --- answers -------------------------------------------------------------------------------

#: The shapes of the official python client's response fixtures (tests/fixtures/*.json), the
#: members the fixtures here carry.
RESOURCE: dict[str, dict[str, Any]] = {
    "customers": {"id": "^CU", "required": ["id", "created_at", "email", "given_name"]},
    "customer_bank_accounts": {
        "id": "^BA",
        "required": [
            "id",
            "account_holder_name",
            "account_number_ending",
            "country_code",
            "currency",
            "enabled",
            "links",
        ],
    },
    "mandates": {"id": "^MD", "required": ["id", "status", "scheme", "reference", "links"]},
    "payments": {
        "id": "^PM",
        "required": [
            "id",
            "amount",
            "amount_refunded",
            "currency",
            "status",
            "charge_date",
            "links",
            "metadata",
        ],
    },
    "refunds": {"id": "^RF", "required": ["id", "amount", "currency", "status", "links"]},
}
STATUSES = {
    "mandates": [
        "pending_customer_approval",
        "pending_submission",
        "submitted",
        "active",
        "failed",
        "cancelled",
        "expired",
        "consumed",
        "blocked",
        "suspended_by_payer",
    ],
    "payments": [
        "pending_customer_approval",
        "pending_submission",
        "submitted",
        "confirmed",
        "paid_out",
        "cancelled",
        "customer_approval_denied",
        "failed",
        "charged_back",
    ],
    "refunds": [
        "created",
        "pending_submission",
        "submitted",
        "paid",
        "cancelled",
        "bounced",
        "funds_returned",
    ],
}
ERROR = _envelope(
    "error",
    _closed(
        {
            "message": {"type": "string"},
            "documentation_url": {"type": "string"},
            "type": {
                "enum": ["validation_failed", "invalid_api_usage", "invalid_state", "gocardless"]
            },
            "request_id": {"type": "string"},
            "code": {"type": "integer"},
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": _closed(
                    {
                        "reason": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string"},
                        "request_pointer": {"type": "string"},
                        "links": {"type": "object"},
                    },
                    ["message"],
                ),
            },
        },
        ["message", "type", "code", "errors"],
    ),
)


def _resource_schema(name: str, known_status: bool) -> dict[str, Any]:
    shape = RESOURCE[name]
    inner: dict[str, Any] = {
        "type": "object",
        "properties": {"id": {"type": "string", "pattern": shape["id"]}},
        "required": shape["required"],
    }
    if name in STATUSES and known_status:
        inner["properties"]["status"] = {"enum": STATUSES[name]}
    return _envelope(name, inner)


def _answers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        for answer in data["responses"] if "responses" in data else [data["response"]]:
            if answer.get("body"):
                found.append((name, answer))
    return found


@pytest.mark.parametrize(("name", "answer"), _answers(), ids=lambda v: str(v)[:48])
def test_fixture_answers_have_documented_shapes(name: str, answer: dict[str, Any]) -> None:
    if answer["status"] >= 400:
        assert _problems(ERROR, answer["body"]) == [], name
        assert answer["body"]["error"]["code"] == answer["status"]
        return
    (resource,) = answer["body"]
    schema = _resource_schema(resource, known_status=name != "get_unknown_status")
    assert _problems(schema, answer["body"]) == [], name


# --- webhooks ------------------------------------------------------------------------------

ASYNCAPI = yaml.safe_load(ASYNCAPI_PATH.read_text("utf-8"))
ENVELOPES = {
    "payments": "PaymentEnvelope",
    "refunds": "RefundEnvelope",
    "mandates": "MandateEnvelope",
}


def _asyncapi_schema(name: str) -> dict[str, Any]:
    schemas = ASYNCAPI["components"]["schemas"]
    text = json.dumps(schemas).replace("#/components/schemas/", "#/$defs/")
    return {"$ref": f"#/$defs/{name}", "$defs": json.loads(text)}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_bodies_follow_the_asyncapi(name: str) -> None:
    body = json.loads(WEBHOOKS[name]["body_text"])
    assert 1 <= len(body["events"]) <= 250
    for event in body["events"]:
        schema = _asyncapi_schema(ENVELOPES[event["resource_type"]])
        assert _problems(schema, {"events": [event]}) == [], (name, event["id"])


def test_the_asyncapi_schemas_can_fail() -> None:
    event = json.loads(WEBHOOKS["payments_confirmed"]["body_text"])["events"][0]
    schema = _asyncapi_schema("PaymentEnvelope")
    assert _problems(schema, {"events": [{**event, "action": "captured"}]})
    assert _problems(schema, {"events": [{k: v for k, v in event.items() if k != "links"}]})


SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = {k.lower(): v for k, v in data["headers"].items()}
    if "webhook-signature" not in headers:
        assert name == "missing_signature"
        return
    expected = hmac.new(
        data["secret"].encode(), data["body_text"].encode(), hashlib.sha256
    ).hexdigest()
    matches = hmac.compare_digest(expected, headers["webhook-signature"])
    assert matches == (name not in SIGNED_ELSEWHERE), name


def test_webhook_kinds_covered() -> None:
    types = {e["type"] for d in WEBHOOKS.values() for e in d["expect"].get("events", [])}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {
        "payment.captured",
        "payment.failed",
        "payment.pending",
        "refund.succeeded",
        "refund.pending",
        "dispute.opened",
        "unknown",
    } <= types
    assert rejections == {"bad_signature", "missing_signature"}
    assert max(len(json.loads(d["body_text"])["events"]) for d in WEBHOOKS.values()) > 1
