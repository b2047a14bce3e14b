"""Fiserv Commerce Hub checks, against Fiserv's own published OpenAPI description and docs.

- every request the spec builds for a scenario is checked against Fiserv's OFFICIAL OpenAPI file
  (processor_schema.json, extracted from Fiserv/Commerce-Hub reference/1.24.11/openapi.yaml):
  the JSON body against the operation's request-body schema, with the `source` discriminator
  (sourceType, no mapping) dispatched to its subtype (PaymentCard: card.cardData, ...);
- the published schemas are open, so a second check closes them: every field sent must be a
  property the file declares (for the source, its subtype's);
- negative tests show the schemas can fail;
- every request's Authorization is recomputed here from the bytes sent, with hmac/hashlib:
  BASE64(HMAC-SHA256(API secret, Api-Key + Client-Request-Id + Timestamp + body)), with
  Client-Request-Id a fresh UUID per request, Timestamp epoch milliseconds, Auth-Token-Type HMAC;
- amounts are JSON numbers in major units, exact;
- fixture answers have the shapes of the file's response schemas.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, processor_schema

SCHEMA = processor_schema("fiserv_commercehub")
DEFS = SCHEMA["$defs"]
CREDENTIALS = credentials_for("fiserv_commercehub")
SCENARIOS = fixtures_of("fiserv_commercehub", "scenarios")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
ENDPOINT_INDEX = Endpoints(SCHEMA["endpoints"])
RESPONSES = {
    "POST /ch/payments/v1/charges": "ChargesResponse",
    "POST /ch/payments/v1/cancels": "CancelResponse",
    "POST /ch/payments/v1/refunds": "RefundResponse",
    "POST /ch/payments/v1/transaction-inquiry": "TransactionInquiryResponse",
}
FLOW_ENDPOINT = {
    "authorize": "POST /ch/payments/v1/charges",
    "capture": "POST /ch/payments/v1/charges",
    "void": "POST /ch/payments/v1/cancels",
    "refund": "POST /ch/payments/v1/refunds",
    "get": "POST /ch/payments/v1/transaction-inquiry",
    "get_refund": "POST /ch/payments/v1/transaction-inquiry",
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DEFS[schema["$ref"].split("/")[-1]]
    return schema


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = Draft202012Validator({**schema, "$defs": DEFS})
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _properties(schema: dict[str, Any], instance: dict[str, Any]) -> dict[str, Any] | None:
    """The properties a (resolved) schema declares for this instance: its own, its allOf parts'
    and the `then` of every if/then whose `if` the instance satisfies. None: free-form."""
    schema = _resolve(schema)
    found: dict[str, Any] = {}
    free = True
    if "properties" in schema:
        found.update(schema["properties"])
        free = False
    for raw in schema.get("allOf", []):
        part = _resolve(raw)
        if "if" in part:
            if not _problems(part["if"], instance):
                nested = _properties(part["then"], instance)
                if nested is not None:
                    found.update(nested)
                    free = False
            continue
        nested = _properties(part, instance)
        if nested is not None:
            found.update(nested)
            free = False
    return None if free else found


def _undeclared(schema: dict[str, Any], instance: Any, where: str = "") -> list[str]:
    if not isinstance(instance, dict):
        if isinstance(instance, list):
            items = _resolve(schema).get("items")
            return [
                f
                for i, v in enumerate(instance)
                for f in _undeclared(items or {}, v, f"{where}/{i}")
            ]
        return []
    properties = _properties(schema, instance)
    if properties is None:
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
    connector = load_connector("fiserv_commercehub")
    return connector.build_request(data["flow"], data["request"], CREDENTIALS)


def _expected_authorization(client_request_id: str, stamp: str, body: bytes) -> str:
    message = (CREDENTIALS["api_key"] + client_request_id + stamp).encode() + body
    digest = hmac.new(CREDENTIALS["api_secret"].encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# --- the published schema ------------------------------------------------------------------


def test_schema_source_is_recorded() -> None:
    assert "1eb91c96fcff54a5271365ad738a3a0a9f82719d" in SCHEMA["source"]
    assert SCHEMA["api_version"] == "v1.24.11"
    for entry in SCHEMA["endpoints"].values():
        Draft202012Validator.check_schema({**entry["body"], "$defs": DEFS})
    # the discriminator dispatch: a PaymentCard source takes card, a bare Source does not
    dispatch = DEFS["Source"]["allOf"]
    assert {
        "if": {"properties": {"sourceType": {"const": "PaymentCard"}}, "required": ["sourceType"]},
        "then": {"$ref": "#/$defs/PaymentCard"},
    } in dispatch


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_match_fiservs_published_schema(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "connect-cert.fiservapis.com"
    key, _ = ENDPOINT_INDEX.match(built.method, split.path)
    assert key == FLOW_ENDPOINT[SCENARIOS[name]["flow"]]
    body = json.loads(built.body or b"")
    schema = SCHEMA["endpoints"][key]["body"]
    problems = _problems(schema, body)
    assert not problems, f"{name}: {key} body breaks Fiserv's schema: {problems}"
    assert _undeclared(schema, body) == [], f"{name}: {key}"
    assert body["merchantDetails"] == {
        "merchantId": CREDENTIALS["merchant_id"],
        "terminalId": CREDENTIALS["terminal_id"],
    }


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered((_built(name) for name in BUILDABLE), SCHEMA["endpoints"])


def _charge_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built("authorize_preauth_authorized").body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit", "undeclared"),
    [
        ("amount as a string", lambda b: b["amount"].update(total="12.04"), False),
        ("a one-digit month", lambda b: b["source"]["card"].update(expirationMonth="5"), False),
        ("a two-digit year", lambda b: b["source"]["card"].update(expirationYear="30"), False),
        (
            "captureFlag as a string",
            lambda b: b["transactionDetails"].update(captureFlag="false"),
            False,
        ),
        ("no sourceType", lambda b: b["source"].pop("sourceType"), False),
        ("a four-letter currency", lambda b: b["amount"].update(currency="USDD"), False),
        (
            "a misspelt card field",
            lambda b: b["source"]["card"].update(cardNumber=b["source"]["card"].pop("cardData")),
            True,
        ),
        ("a card on a check source", lambda b: b["source"].update(sourceType="PaymentCheck"), True),
        ("an unknown top-level field", lambda b: b.update(captureFlag=False), True),
        (
            "a misspelt 3DS field",
            lambda b: b.update(additionalData3DS={"mpiData": {"cavv": "x", "ECI": "05"}}),
            True,
        ),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, edit: Any, undeclared: bool) -> None:
    schema = SCHEMA["endpoints"]["POST /ch/payments/v1/charges"]["body"]
    body = _charge_body()
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
    assert headers["Api-Key"] == CREDENTIALS["api_key"]
    assert headers["Auth-Token-Type"] == "HMAC"
    assert str(uuid.UUID(headers["Client-Request-Id"])) == headers["Client-Request-Id"]
    assert re.match(r"^[0-9]{13}$", headers["Timestamp"])
    expected = _expected_authorization(
        headers["Client-Request-Id"], headers["Timestamp"], built.body or b""
    )
    assert headers["Authorization"] == expected
    shown = json.dumps(built.redacted())
    assert CREDENTIALS["api_secret"] not in shown and expected not in shown


def test_the_signature_check_can_fail() -> None:
    built = _built("authorize_sale_captured")
    h, body = built.headers, built.body or b""
    good = _expected_authorization(h["Client-Request-Id"], h["Timestamp"], body)
    assert good == h["Authorization"]
    assert _expected_authorization(str(uuid.uuid4()), h["Timestamp"], body) != good
    assert _expected_authorization(h["Client-Request-Id"], h["Timestamp"], body + b" ") != good
    hex_text = base64.b64decode(good).hex().encode()  # the docs' sample encodes the hex text
    assert base64.b64encode(hex_text).decode() != good


def test_each_request_has_its_own_client_request_id() -> None:
    ids = {_built("get_captured").headers["Client-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("name", "written"),
    [("authorize_sale_captured", "12.04"), ("capture_partial", "5.00"), ("refund_partial", "3.00")],
)
def test_amounts_are_exact_major_unit_numbers(name: str, written: str) -> None:
    body = _built(name).body or b""
    assert f'"total":{written}'.encode() in body
    assert json.loads(body, parse_float=Decimal)["amount"]["total"] == Decimal(written)


def test_capture_flags_and_references() -> None:
    assert _charge_body()["transactionDetails"]["captureFlag"] is False
    sale = json.loads(_built("authorize_sale_captured").body or b"")
    assert sale["transactionDetails"]["captureFlag"] is True
    capture = json.loads(_built("capture_full").body or b"")
    assert capture["transactionDetails"]["captureFlag"] is True
    assert capture["referenceTransactionDetails"] == {"referenceTransactionId": "84356531338"}
    assert "source" not in capture


# --- answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fixture_answers_have_documented_shapes(name: str) -> None:
    data = SCENARIOS[name]
    answer = data["response"]
    if "body" not in answer:
        return
    body = answer["body"]
    if answer["status"] >= 400:
        schema: dict[str, Any] = {"$ref": "#/$defs/ErrorResponse"}
    else:
        schema = {"$ref": f"#/$defs/{RESPONSES[FLOW_ENDPOINT[data['flow']]]}"}
        if data["flow"] in ("get", "get_refund"):  # the inquiry's 201 is a list of them
            schema = {"type": "array", "items": schema, "minItems": 1}
    assert _problems(schema, body) == [], name
    assert _undeclared(schema, body) == [], name


def test_an_external_3ds_result_goes_in_additional_data_3ds() -> None:
    body = json.loads(_built("authorize_external_3ds_sale").body or b"")
    assert body["additionalData3DS"] == {
        "dsTransactionId": "33f9f27f-a6fa-4546-a87f-5e718bc2f864",
        "authenticationStatus": "Y",
        "mpiData": {"cavv": "Y2FyZGluYWxjb21tZXJjZWF1dGg=", "eci": "05"},
        "versionData": {"recommendedVersion": "2.2.0"},
    }
    assert body["transactionInteraction"]["eciIndicator"] == "SECURE_ECOM"
    plain = json.loads(_built("authorize_sale_captured").body or b"")
    assert "additionalData3DS" not in plain
    assert plain["transactionInteraction"]["eciIndicator"] == "CHANNEL_ENCRYPTED"
