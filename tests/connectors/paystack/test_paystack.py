"""Paystack-specific checks, against Paystack's official OpenAPI rather than our spec.

processor_schema.json holds the operations the spec uses, taken from PaystackOSS/openapi
dist/paystack.yaml @ 1b37aae7 (the file in processor-apis/paystack/, its sha256 recorded in
`source`): request bodies TransactionInitialize, TransactionChargeAuthorization, RefundCreate;
answers TransactionInitializeResponse, ChargeAuthorizationResponse, VerifyResponse,
RefundCreateResponse, RefundFetchResponse, Error. The test closes the request schemas
(additionalProperties: false) so an invented or misspelt field fails.

- every request the spec builds is one of those operations, its body valid against Paystack's
  schema; negative tests show the schemas can fail;
- `Authorization: Bearer sk_…`, integer amounts, a reference made of the characters Paystack
  allows ("Only -, ., = and alphanumeric characters");
- the fixtures' answers are valid against the documented answers;
- webhook signatures are recomputed with hmac/hashlib: hex(HMAC-SHA512(secret key, raw body)).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, processor_schema

SCHEMA: dict[str, Any] = processor_schema("paystack")
DEFS: dict[str, Any] = SCHEMA["$defs"]
ENDPOINTS: dict[str, Any] = SCHEMA["endpoints"]
ENDPOINT_INDEX = Endpoints(ENDPOINTS)
CREDENTIALS = credentials_for("paystack")
SCENARIOS = fixtures_of("paystack", "scenarios")
WEBHOOKS = fixtures_of("paystack", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
REFERENCE = re.compile(r"^[A-Za-z0-9.=-]+$")


def _closed(node: Any) -> Any:
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _closed(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


CLOSED_DEFS = _closed(DEFS)


def _request_schema(key: str) -> dict[str, Any]:
    return {**ENDPOINTS[key]["body"], "$defs": CLOSED_DEFS}


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("paystack").build_request(data["flow"], data["request"], CREDENTIALS)


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name).body or b"")
    return body


def test_schema_source_is_recorded() -> None:
    assert "1b37aae7dbf62343daf08933a7a5866ee9f94ca2" in SCHEMA["source"]
    assert SCHEMA["openapi"] == "3.0.1"
    assert {e["operationId"] for e in ENDPOINTS.values()} == {
        "transaction_initialize",
        "transaction_chargeAuthorization",
        "transaction_verify",
        "refund_create",
        "refund_fetch",
    }
    for entry in ENDPOINTS.values():
        if entry["body"] is not None:
            Draft202012Validator.check_schema({**entry["body"], "$defs": DEFS})


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_match_paystacks_schema(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "api.paystack.co"
    key, params = ENDPOINT_INDEX.match(built.method, split.path)
    assert built.headers["Authorization"] == f"Bearer {CREDENTIALS['secret_key']}"
    for value in params.values():
        assert REFERENCE.match(value) or value.isdigit(), f"{key}: path parameter {value!r}"
    if ENDPOINTS[key]["body"] is None:
        assert not built.body, f"{key} takes no body"
        return
    body = json.loads(built.body or b"{}")
    problems = _problems(_request_schema(key), body)
    assert not problems, f"{name}: {key} body breaks Paystack's schema: {problems}"
    if "reference" in body:
        assert REFERENCE.match(body["reference"]), body["reference"]


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered((_built(name) for name in BUILDABLE), ENDPOINTS)


@pytest.mark.parametrize(
    ("label", "scenario", "edit"),
    [
        ("no email", "authorize_bank_transfer_initialized", lambda b: b.pop("email")),
        (
            "amount in major units",
            "authorize_bank_transfer_initialized",
            lambda b: b.update(amount="5000.00"),
        ),
        (
            "a currency Paystack lacks",
            "authorize_bank_transfer_initialized",
            lambda b: b.update(currency="EUR"),
        ),
        (
            "an unknown channel",
            "authorize_bank_transfer_initialized",
            lambda b: b.update(channels=["paypal"]),
        ),
        (
            "a misspelt field",
            "authorize_bank_transfer_initialized",
            lambda b: b.update(callbackurl="x"),
        ),
        ("no authorization code", "authorize_token_success", lambda b: b.pop("authorization_code")),
        (
            "metadata as an object",
            "authorize_token_success",
            lambda b: b.update(metadata={"a": "b"}),
        ),
        ("no transaction", "refund_partial", lambda b: b.pop("transaction")),
        ("a refund amount as text", "refund_partial", lambda b: b.update(amount="200000")),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, scenario: str, edit: Any) -> None:
    key = ENDPOINT_INDEX.match(_built(scenario).method, urlsplit(_built(scenario).url).path)[0]
    body = _body(scenario)
    assert _problems(_request_schema(key), body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(_request_schema(key), broken), label


def test_initialize_and_charge_authorization_bodies() -> None:
    assert _body("authorize_bank_transfer_initialized") == {
        "email": "adaeze.okafor@example.ng",
        "amount": 500000,
        "currency": "NGN",
        "reference": "order-9001",
        "channels": ["bank_transfer"],
        "callback_url": "https://shop.example.ng/paystack/callback",
    }
    charge = _body("authorize_token_success")
    assert charge["authorization_code"] == "AUTH_8dfhjjdt1w"
    # charge_authorization's metadata is "Stringified JSON".
    assert json.loads(charge["metadata"]) == {"order": "9002"}
    assert "channels" not in charge and "callback_url" not in charge
    recurring = _body("charge_recurring_success")
    assert recurring["authorization_code"] == "AUTH_8dfhjjdt1w" and recurring["amount"] == 250000
    # No amount: Paystack refunds the whole transaction.
    assert _body("refund_full_pending") == {
        "transaction": "order-9001",
        "merchant_note": "requested_by_customer",
    }
    assert _body("refund_partial") == {
        "transaction": "order-9001",
        "amount": 200000,
        "currency": "NGN",
    }


def _answer_schema(flow: str, path_key: str, status: int) -> dict[str, Any] | None:
    responses = ENDPOINTS[path_key]["responses"]
    schema = responses.get(str(status))
    if schema is None and status >= 400:
        schema = {"$ref": "#/$defs/Error"}
    return None if schema is None else {**schema, "$defs": DEFS}


def _answers() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, data in BUILDABLE.items():
        answer = data["response"]
        if "body" in answer:
            built = _built(name)
            key, _ = ENDPOINT_INDEX.match(built.method, urlsplit(built.url).path)
            found.append((name, key, answer))
    return found


@pytest.mark.parametrize(("name", "key", "answer"), _answers(), ids=lambda v: str(v)[:40])
def test_fixture_answers_have_documented_shapes(name: str, key: str, answer: Any) -> None:
    schema = _answer_schema(SCENARIOS[name]["flow"], key, answer["status"])
    assert schema is not None, f"{name}: {key} documents no {answer['status']} answer"
    assert _problems(schema, answer["body"]) == [], name


def test_answer_schemas_can_fail() -> None:
    verify = SCENARIOS["get_success"]["response"]["body"]
    schema = _answer_schema("get", "GET /transaction/verify/{reference}", 200)
    assert schema is not None and _problems(schema, verify) == []
    assert _problems(schema, {**verify, "data": {**verify["data"], "amount": "5000.00"}})
    assert _problems(schema, {"status": True, "message": "ok"})


# --- webhooks ---------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = {k.lower(): v for k, v in data["headers"].items()}
    if "x-paystack-signature" not in headers:
        assert data["expect"] == {"rejected": "missing_signature"}
        return
    expected = hmac.new(
        data["secret"].encode(), data["body_text"].encode(), hashlib.sha512
    ).hexdigest()
    assert len(expected) == 128
    matches = hmac.compare_digest(expected, headers["x-paystack-signature"])
    assert matches == (name not in SIGNED_ELSEWHERE), name


def test_webhooks_are_signed_with_the_secret_key() -> None:
    for data in WEBHOOKS.values():
        assert data["secret"] == CREDENTIALS["secret_key"]
        assert set(json.loads(data["body_text"])) == {"event", "data"}
