"""EBANX checks, against EBANX's published descriptions rather than our spec.

- openapi/ here is a verbatim copy of the part of the THIRD-PARTY Redocly draft
  (mrcsvg/EBANX-api-reference : openapi/** @ c5eb52e17e78b8c54861dc47cb788ad0e1e88ff4, saved as
  processor-apis/ebanx/openapi/) that the endpoints used here reach (and the "DebitCard 3DS 2"
  Card schema the 3DS erratum reads), relative $refs kept, its
  manifest hash recorded below; the test bundles it by resolving those $refs;
- every request the spec builds is an operation of the bundled file, its body validated against
  the operation's own request schema, closed (additionalProperties false) so that a misspelt field
  fails. Where the draft disagrees with EBANX's docs (docs.ebanx.com) and EBANX's own PHP SDK
  (ebanx/benjamin), ERRATA says what is changed and why; the Direct API's payment is checked
  against the draft's Brazil schema for the method (BR_CreditCard, Brazil_Boleto; Pix, which
  the 2020 draft predates, against Brazil_Boleto's fields with payment_type_code pix, as the
  docs' Pix guide lists them). Broken bodies fail the schemas;
- the integration key is in the body (never a header or the URL); amounts are exact major-unit
  JSON numbers;
- the answers in the fixtures have the documented shapes (payment objects with decimal-string
  amounts, the {status: ERROR, status_code, status_message} refusal), checked by a schema the
  draft's own response examples pass;
- notifications (a form POST with hash_codes, unsigned) are confirmed by /ws/query for each
  hash (Client.handle_event, answered by an httpx MockTransport).
"""

from __future__ import annotations

import copy
import hashlib
import json
import posixpath
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import Client, WebhookError, load_connector

from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
TREE = HERE / "openapi"
TREE_SHA256 = "f8ea1628397ad7c8e6e4e03e6514ca88a5d1c1a01b3b9f34fa8678acee3fec31"
CREDENTIALS = credentials_for("ebanx")
SCENARIOS = fixtures_of("ebanx", "scenarios")
DELIVERIES = fixtures_of("ebanx", "deliveries")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}


def _manifest_hash() -> str:
    files = sorted(str(p.relative_to(TREE)) for p in TREE.rglob("*.yaml"))
    lines = "".join(
        f"{name}\0{hashlib.sha256((TREE / name).read_bytes()).hexdigest()}\n" for name in files
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def _bundle(relative: str) -> Any:
    """The YAML file with every relative $ref replaced by the file (and pointer) it names."""

    def resolve(node: Any, base: str) -> Any:
        if isinstance(node, list):
            return [resolve(item, base) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            target, _, pointer = ref.partition("#")
            path = posixpath.normpath(posixpath.join(posixpath.dirname(base), target))
            if not path.endswith((".yaml", ".yml")):
                return {k: v for k, v in node.items() if k != "$ref"}  # a code sample
            found: Any = resolve(yaml.safe_load((TREE / path).read_text("utf-8")), path)
            for part in filter(None, pointer.split("/")):
                found = found[part]
            return found
        return {key: resolve(value, base) for key, value in node.items()}

    return resolve(yaml.safe_load((TREE / relative).read_text("utf-8")), relative)


ROOT_DOCUMENT: dict[str, Any] = yaml.safe_load((TREE / "openapi.yaml").read_text("utf-8"))
OPERATIONS = {
    f"POST {path}": _bundle(ROOT_DOCUMENT["paths"][path]["$ref"])["post"]
    for path in ["/ws/direct", "/ws/capture", "/ws/cancel", "/ws/refund", "/ws/query"]
}


def _closed(node: Any) -> Any:
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _closed(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _request_schema(key: str) -> dict[str, Any]:
    schema: dict[str, Any] = OPERATIONS[key]["requestBody"]["content"]["application/json"]["schema"]
    return copy.deepcopy(schema)


#: Fields EBANX's own SDK sends in payment (ebanx/benjamin PaymentAdapter and
#: BrazilPaymentAdapter) that the draft's Brazil schemas leave out.
SDK_FIELDS: dict[str, Any] = {
    "person_type": {"enum": ["personal", "business"]},
    "birth_date": {"type": "string", "pattern": "^[0-9]{2}/[0-9]{2}/[0-9]{4}$"},
    "street_complement": {"type": "string", "maxLength": 100},
    "order_number": {"type": "string", "minLength": 1, "maxLength": 40},
    "notification_url": {"type": "string"},
    "redirect_url": {"type": "string"},
    "customer_ip": {"type": "string"},
    "note": {"type": "string"},
}


def _direct_payment(method: str) -> dict[str, Any]:
    """The draft's Brazil schema for the method, with the errata applied."""
    name = {"card": "BR_CreditCard", "boleto": "Brazil_Boleto", "pix": "Brazil_Boleto"}[method]
    path = f"components/schemas/Requests/Transactional/DirectAPI/BR/{name}.yaml"
    schema: dict[str, Any] = _bundle(path)
    properties = schema["properties"]
    assert not set(SDK_FIELDS) & set(properties), "an SDK field the draft already has"
    properties.update(copy.deepcopy(SDK_FIELDS))
    # ERRATA: country — the draft's enum is [BR]; its _PaymentBody, the docs' examples and
    # EBANX's SDK (BaseAdapter country codes) write the code in lower case, "br".
    properties["country"] = {"enum": ["br", "BR"]}
    if method == "card":
        # ERRATA: an external 3DS authentication's result goes in creditcard (the draft's
        # "DebitCard 3DS 2" Card schema: threeds_eci, threeds_cryptogram, threeds_xid, there
        # required because that operation is the 3DS one, optional on any card payment here);
        # threeds_version and threeds_trxid are not in the draft (EBANX.js's authentication
        # result; TokenEx's EBANX mapping: ThreeDSecureVersion, DSTransId).
        three_ds = _bundle("components/schemas/Card.yaml")["properties"]
        card = properties["creditcard"]["properties"]
        for name in ("threeds_eci", "threeds_cryptogram", "threeds_xid"):
            assert name not in card, "a 3DS field the Brazil card schema already has"
            card[name] = three_ds[name]
        card["threeds_version"] = {"type": "string", "pattern": "^[12]\\.[0-9]+\\.[0-9]+$"}
        card["threeds_trxid"] = {"type": "string", "maxLength": 64}
    if method == "pix":
        # The Pix guide: payment_type_code pix, the payer's name, email, document and the
        # Brazil fields; no due date (the QR code's lifetime is EBANX's).
        properties["payment_type_code"] = {"enum": ["pix"]}
        del properties["due_date"]
        schema["required"] = [
            f
            for f in schema["required"]
            if f not in ("zipcode", "address", "street_number", "city", "state", "phone_number")
        ]
    return _closed(schema)


def _direct_schema(method: str) -> dict[str, Any]:
    schema = _request_schema("POST /ws/direct")
    # ERRATA: the draft's payment is a oneOf of every country's card schema (which no Brazil
    # body can satisfy uniquely, AR and BR overlapping); the method's own schema is used.
    schema["properties"]["payment"] = _direct_payment(method)
    return _closed(schema)


def _capture_schema() -> dict[str, Any]:
    schema = _request_schema("POST /ws/capture")
    # ERRATA: the draft requires both hash and merchant_payment_code, while each field says
    # "Required if merchant_payment_code [hash] not provided" (and the docs: either one).
    schema["required"] = ["integration_key"]
    schema["anyOf"] = [{"required": ["hash"]}, {"required": ["merchant_payment_code"]}]
    return _closed(schema)


def _query_schema() -> dict[str, Any]:
    # Utils/query.yaml is oneOf(queryWithHash, queryWithMerchantPaymentCode): by hash here.
    return _closed(_bundle("components/schemas/Utils/queryWithHash.yaml"))


SCHEMAS: dict[str, dict[str, Any]] = {
    "direct:card": _direct_schema("card"),
    "direct:pix": _direct_schema("pix"),
    "direct:boleto": _direct_schema("boleto"),
    "POST /ws/capture": _capture_schema(),
    "POST /ws/cancel": _closed(_request_schema("POST /ws/cancel")),
    "POST /ws/refund": _closed(_request_schema("POST /ws/refund")),
    "POST /ws/query": _query_schema(),
}


def _schema_for(key: str, body: dict[str, Any]) -> dict[str, Any]:
    if key != "POST /ws/direct":
        return SCHEMAS[key]
    kind = {"creditcard": "card", "pix": "pix", "boleto": "boleto"}[
        body["payment"]["payment_type_code"]
    ]
    return SCHEMAS[f"direct:{kind}"]


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("ebanx").build_request(data["flow"], data["request"], CREDENTIALS)


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name).body or b"", parse_float=Decimal)
    return body


# --- requests ------------------------------------------------------------------------------


def test_the_draft_is_the_recorded_copy() -> None:
    assert _manifest_hash() == TREE_SHA256
    assert {s["url"] for s in ROOT_DOCUMENT["servers"]} == {
        "https://api.ebanxpay.com/",
        "https://sandbox.ebanxpay.com/",
    }


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_ebanx_operations_with_valid_bodies(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert (split.scheme, split.netloc) == ("https", "sandbox.ebanxpay.com")
    key = f"{built.method} {split.path}"
    assert key in OPERATIONS, f"{key} is not an operation of the draft"
    assert not split.query  # the key never travels in the URL
    assert not any(CREDENTIALS["integration_key"] in v for v in built.headers.values())
    body = json.loads(built.body or b"")
    assert body["integration_key"] == CREDENTIALS["integration_key"]
    assert next(iter(body)) == "integration_key"  # the body scheme places it first
    problems = _problems(_schema_for(key, body), body)
    assert not problems, f"{name}: {key} body breaks the published request schema: {problems}"


def test_every_operation_and_method_is_checked() -> None:
    seen = set()
    for name in BUILDABLE:
        built = _built(name)
        key = f"{built.method} {urlsplit(built.url).path}"
        body = json.loads(built.body or b"")
        method = body["payment"]["payment_type_code"] if "payment" in body else None
        seen.add(key if key != "POST /ws/direct" else f"direct:{method}")
    assert seen == {
        "direct:creditcard",
        "direct:pix",
        "direct:boleto",
        "POST /ws/capture",
        "POST /ws/cancel",
        "POST /ws/refund",
        "POST /ws/query",
    }


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("the card as the draft's `card`", lambda p: p.update(card=p.pop("creditcard"))),
        ("amount as a string", lambda p: p.update(amount_total="250.00")),
        ("no document", lambda p: p.pop("document")),
        ("a formatted zipcode", lambda p: p.update(zipcode="61919-230")),
        ("a state that is not a UF", lambda p: p.update(state="Ceara")),
        ("a two-digit card year", lambda p: p["creditcard"].update(card_due_date="12/30")),
        ("auto_capture as text", lambda p: p["creditcard"].update(auto_capture="false")),
        ("a misspelt field", lambda p: p.update(merchant_payment_id=p["merchant_payment_code"])),
        ("a long card name", lambda p: p["creditcard"].update(card_name="X" * 51)),
        ("a three-digit ECI", lambda p: p["creditcard"].update(threeds_eci="105")),
        ("a misspelt 3DS field", lambda p: p["creditcard"].update(threeds_cavv="AAIBAkl0Nw==")),
    ],
)
def test_the_direct_schema_rejects_broken_bodies(label: str, edit: Any) -> None:
    body = json.loads(_built("authorize_card_manual_pre_approved").body or b"")
    schema = SCHEMAS["direct:card"]
    assert _problems(schema, body) == []
    broken = copy.deepcopy(body)
    edit(broken["payment"])
    assert _problems(schema, broken), label


def test_the_other_schemas_reject_broken_bodies() -> None:
    capture = json.loads(_built("capture_partial").body or b"")
    assert _problems(SCHEMAS["POST /ws/capture"], capture) == []
    assert _problems(SCHEMAS["POST /ws/capture"], {**capture, "hash": "abc"})  # 48 characters
    assert _problems(SCHEMAS["POST /ws/capture"], {"integration_key": "k", "amount": 1})
    refund = json.loads(_built("refund_requested").body or b"")
    assert _problems(SCHEMAS["POST /ws/refund"], refund) == []
    assert _problems(SCHEMAS["POST /ws/refund"], {**refund, "amount": "50.00"})
    assert _problems(SCHEMAS["POST /ws/refund"], {k: v for k, v in refund.items() if k != "hash"})
    cancel = json.loads(_built("void_cancelled").body or b"")
    assert _problems(SCHEMAS["POST /ws/cancel"], cancel) == []
    assert _problems(SCHEMAS["POST /ws/cancel"], {**cancel, "amount": 1})
    query = json.loads(_built("get_confirmed").body or b"")
    assert _problems(SCHEMAS["POST /ws/query"], query) == []
    assert _problems(SCHEMAS["POST /ws/query"], {"integration_key": "k"})


@pytest.mark.parametrize(
    ("name", "path", "written"),
    [
        ("authorize_card_confirmed", ("payment", "amount_total"), "100.50"),
        ("authorize_card_manual_pre_approved", ("payment", "amount_total"), "250.00"),
        ("capture_partial", ("amount",), "150.00"),
        ("refund_requested", ("amount",), "50.00"),
    ],
)
def test_amounts_are_exact_major_unit_numbers(
    name: str, path: tuple[str, ...], written: str
) -> None:
    raw = _built(name).body or b""
    assert f'"{path[-1]}":{written}'.encode() in raw
    value: Any = _body(name)
    for part in path:
        value = value[part]
    assert value == Decimal(written)


def test_methods_cards_and_brazil_fields() -> None:
    card = _body("authorize_card_manual_pre_approved")["payment"]
    assert card["payment_type_code"] == "creditcard" and card["instalments"] == 1
    assert card["creditcard"]["auto_capture"] is False
    assert card["creditcard"]["card_due_date"] == "12/2030"
    assert _body("authorize_card_confirmed")["payment"]["creditcard"]["auto_capture"] is True
    pix = _body("authorize_pix_qr")["payment"]
    boleto = _body("authorize_boleto_voucher")["payment"]
    assert pix["payment_type_code"] == "pix" and "creditcard" not in pix
    assert boleto["payment_type_code"] == "boleto"
    # 2026-01-05T02:59:59Z is 2026-01-04 23:59:59 in Brasília: the boleto's last day.
    assert boleto["due_date"] == "04/01/2026"
    for payment in (card, pix, boleto):
        assert payment["document"] == "853.513.468-93" and payment["country"] == "br"
    assert card["zipcode"] == "61919230" and card["state"] == "CE"


def test_merchant_payment_code_is_stable_per_call_and_unique_per_payment() -> None:
    first = _body("authorize_card_confirmed")["payment"]["merchant_payment_code"]
    assert _body("authorize_card_confirmed")["payment"]["merchant_payment_code"] == first
    assert _body("authorize_card_manual_pre_approved")["payment"]["merchant_payment_code"] != first
    assert len(first) <= 40
    assert _built("authorize_card_confirmed").carries_key


# --- answers -------------------------------------------------------------------------------

#: Amounts: decimal strings in the docs' examples, JSON numbers in EBANX's SDK test answer for
#: Pix (benjamin tests/Unit/Services/Gateways/PixTest.php).
DECIMAL = {
    "anyOf": [
        {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2,4}$"},
        {"type": "number", "minimum": 0},
    ]
}
DATETIME = {"type": ["string", "null"], "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}$"}
#: The payment object of the docs' answers (Direct, Query, Capture, Cancel, Refund examples).
PAYMENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "hash": {"type": "string", "pattern": "^[0-9a-f]{48}$"},
        "pin": {"type": "string"},
        "country": {"type": "string", "pattern": "^[a-z]{2}$"},
        "merchant_payment_code": {"type": "string", "minLength": 1, "maxLength": 40},
        "order_number": {"type": ["string", "null"]},
        "status": {"enum": ["OP", "PE", "CO", "CA"]},
        "status_date": DATETIME,
        "open_date": DATETIME,
        "confirm_date": DATETIME,
        "transfer_date": DATETIME,
        "amount_br": DECIMAL,
        "amount_ext": DECIMAL,
        "amount_iof": DECIMAL,
        "currency_rate": DECIMAL,
        "currency_ext": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "due_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{1,2}$"},
        "instalments": {"anyOf": [{"type": "string", "pattern": "^[0-9]+$"}, {"type": "integer"}]},
        "payment_type_code": {"type": "string"},
        "pre_approved": {"type": "boolean"},
        "capture_available": {"type": ["boolean", "null"]},
        "transaction_status": {
            "type": "object",
            "properties": {
                "acquirer": {"type": "string"},
                "code": {"enum": ["OK", "NOK", "RETRY"]},
                "description": {"type": "string"},
                "description_code": {"type": "string"},
                "authcode": {"type": "string"},
            },
            "required": ["code", "description"],
        },
        "refunds": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^[0-9]+$"},
                    "merchant_refund_code": {"type": ["string", "null"]},
                    "status": {"enum": ["RE", "PE", "CO", "CA"]},
                    "amount_ext": DECIMAL,
                },
                "required": ["id", "status", "amount_ext"],
            },
        },
        "pix": {
            "type": "object",
            "properties": {"qr_code_value": {"type": "string", "pattern": "^000201"}},
            "required": ["qr_code_value"],
        },
        "boleto_url": {"type": "string", "pattern": "^https://"},
        "boleto_barcode": {"type": "string", "pattern": "^[0-9]{47}$"},
    },
    "required": ["hash", "merchant_payment_code", "status", "amount_ext", "currency_ext"],
}
ANSWER: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "status": {"const": "SUCCESS"},
                "payment": PAYMENT,
                "refund": PAYMENT["properties"]["refunds"]["items"],
                "redirect_url": {"type": "string", "pattern": "^https://"},
                "operation": {"enum": ["cancel", "refund"]},
            },
            "required": ["status", "payment"],
        },
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "status": {"const": "ERROR"},
                "status_code": {"type": "string", "pattern": "^[A-Z]+(-[A-Z]+)*-[0-9]+$"},
                "status_message": {"type": "string"},
            },
            "required": ["status", "status_code", "status_message"],
        },
    ]
}


def _json_answers() -> list[tuple[str, Any]]:
    found = [
        (name, data["response"]["body"])
        for name, data in SCENARIOS.items()
        if "body" in data["response"] and "raises" not in data["expect"]
    ]
    for name, data in DELIVERIES.items():
        for answer in (data.get("query_responses") or {}).values():
            found.append((name, answer["body"]))
    return found


@pytest.mark.parametrize(("name", "body"), _json_answers(), ids=lambda v: str(v)[:30])
def test_fixture_answers_have_the_documented_shapes(name: str, body: Any) -> None:
    assert _problems(ANSWER, body) == [], name


def _draft_examples() -> list[tuple[str, Any]]:
    found = []
    for key, operation in OPERATIONS.items():
        content = operation["responses"]["200"]["content"]["application/json"]
        for label, example in (content.get("examples") or {}).items():
            found.append((f"{key} {label}", example["value"]))
    return found


@pytest.mark.parametrize(("label", "example"), _draft_examples(), ids=lambda v: str(v)[:30])
def test_the_answer_schema_takes_the_drafts_own_examples(label: str, example: Any) -> None:
    assert _problems(ANSWER, example) == [], label


def test_the_answer_schema_can_fail() -> None:
    body = SCENARIOS["get_confirmed"]["response"]["body"]
    assert _problems(ANSWER, {**body, "payment": {**body["payment"], "status": "XX"}})
    assert _problems(ANSWER, {**body, "payment": {**body["payment"], "amount_ext": "100,50"}})
    assert _problems(ANSWER, {"status": "ERROR", "status_message": "no code"})


# --- notifications -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_parse_event_alone_refuses_unsigned_notifications(name: str) -> None:
    data = DELIVERIES[name]
    with pytest.raises(WebhookError) as caught:
        load_connector("ebanx").parse_event(data["body_text"].encode(), data["headers"])
    assert caught.value.reason == "unconfirmed"


def _client(data: dict[str, Any], seen: list[httpx.Request]) -> Client:
    def ebanx(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        asked = json.loads(request.content)
        answer = data["query_responses"][asked["hash"]]
        return httpx.Response(answer["status"], headers=answer["headers"], json=answer["body"])

    http = httpx.Client(transport=httpx.MockTransport(ebanx))
    return Client("ebanx", CREDENTIALS, http_client=http)


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_handle_event_confirms_each_hash_by_query(name: str) -> None:
    data = DELIVERIES[name]
    expect = data["expect"]
    seen: list[httpx.Request] = []
    client = _client(data, seen)
    body = data["body_text"].encode()
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            client.handle_event(body, data["headers"])
        assert caught.value.reason == expect["rejected"]
    else:
        result = client.handle_event(body, data["headers"])
        events = [event.to_dict() for event in result.events]
        assert len(events) == len(expect["events"])
        for event, wanted in zip(events, expect["events"], strict=True):
            for field, value in wanted.items():
                assert event[field] == value, f"{field}: {event[field]!r} != {value!r}"
        assert result.to_dict()["acknowledge"]["status"] == 200
    assert [f"{r.method} {r.url.path}" for r in seen] == expect["requests"]
    for request in seen:
        assert request.url.host == "sandbox.ebanxpay.com"
        sent = json.loads(request.content)
        assert sent["integration_key"] == CREDENTIALS["integration_key"]
        assert _problems(SCHEMAS["POST /ws/query"], sent) == []


def test_notifications_cover_the_outcomes() -> None:
    outcomes = {d["expect"].get("rejected", "confirmed") for d in DELIVERIES.values()}
    assert {"confirmed", "unconfirmed", "unreadable_body"} <= outcomes
    types = {e["type"] for d in DELIVERIES.values() for e in d["expect"].get("events", [])}
    assert {"payment.captured", "payment.failed", "payment.voided", "payment.authorized"} <= types
