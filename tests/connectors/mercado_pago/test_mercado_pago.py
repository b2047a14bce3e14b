"""Mercado Pago checks, against Mercado Pago's own published description rather than our spec.

- spec3.yaml here is a verbatim copy of the OFFICIAL OpenAPI file (mercadopago/openapi :
  spec3.yaml @ 4aec9b61fdaf4990abe4b83a7e5193e8ddaedf59, saved as
  processor-apis/mercado_pago/spec3.yaml), its sha256 recorded below;
- every request the spec builds for a scenario is an operation of that file (method and path),
  and its body is validated against the operation's own request schema (PaymentRequest,
  PaymentUpdateRequest, RefundRequest), closed here (additionalProperties false on every object)
  so that a misspelt field fails. The file's PaymentPayer and PaymentAdditionalInfo lack fields
  its own boleto example and the official sdk-nodejs send, and PaymentRequest the 3DS guide's
  three_d_secure_mode: recorded below as PATCHES. The
  file's own request examples pass the closed schemas; broken bodies fail them;
- amounts are exact major-unit JSON numbers (transaction_amount 100.50, never 10050 or "100.50");
- the fixture answers validate against the file's response schemas (Payment, the refund
  object, Error), with OpenAPI's `nullable` read as JSON Schema's null type;
- webhook signatures are recomputed here with hmac/hashlib from Mercado Pago's documented
  manifest `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` (devsite-docs, "Webhooks",
  Validate notification origin), independently of the engine; deliveries are confirmed by
  fetching the payment (Client.handle_event, answered by an httpx MockTransport).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import Client, WebhookError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, response_body

HERE = Path(__file__).parent
OPENAPI_PATH = HERE / "spec3.yaml"
OPENAPI_SHA256 = "310546c4a2312f1537a8861bb0a2de3e3b0d8fbd0da8223835490823775a8de3"
CREDENTIALS = credentials_for("mercado_pago")
SCENARIOS = fixtures_of("mercado_pago", "scenarios")
DELIVERIES = fixtures_of("mercado_pago", "deliveries")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
DOCUMENT: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text("utf-8"))

#: Fields Mercado Pago takes that the file's request schemas leave out, with where they are
#: documented: the payer's name is in the file's own boleto_brazil example; the payer's address
#: (Boleto) is sdk-nodejs PayerRequest / AddressRequest (src/clients/payment/create/types.ts),
#: as is additional_info.ip_address (AdditionalInfo); three_d_secure_mode (not_supported, the
#: default, or optional) is the Checkout API guide's "How to integrate 3DS".
PATCHES: dict[str, dict[str, Any]] = {
    "PaymentRequest": {
        "three_d_secure_mode": {"type": "string", "enum": ["not_supported", "optional"]}
    },
    "PaymentPayer": {
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "address": {
            "type": "object",
            "properties": {
                "zip_code": {"type": "string"},
                "street_name": {"type": "string"},
                "street_number": {"type": "string"},
                "neighborhood": {"type": "string"},
                "city": {"type": "string"},
                "federal_unit": {"type": "string"},
            },
        },
    },
    "PaymentAdditionalInfo": {"ip_address": {"type": "string"}},
}


def _json_schema(node: Any) -> Any:
    """OpenAPI 3 → JSON Schema: component refs to $defs, `nullable: true` to a null type."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if isinstance(out.get("$ref"), str):
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _closed(node: Any) -> Any:
    """Every object schema that lists its properties takes no others."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _closed(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


DEFS: dict[str, Any] = _json_schema(DOCUMENT["components"]["schemas"])
REQUEST_DEFS = copy.deepcopy(DEFS)
for _name, _extra in PATCHES.items():
    REQUEST_DEFS[_name]["properties"].update(_extra)
REQUEST_DEFS = _closed(REQUEST_DEFS)


def _operation(key: str) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    operation: dict[str, Any] = DOCUMENT["paths"][path][method.lower()]
    return operation


def _request_schema(key: str) -> dict[str, Any] | None:
    body = _operation(key).get("requestBody")
    if body is None:
        return None
    schema = _closed(_json_schema(body["content"]["application/json"]["schema"]))
    return {**schema, "$defs": REQUEST_DEFS}


def _response_schema(key: str, status: str) -> dict[str, Any]:
    schema = _operation(key)["responses"][status]["content"]["application/json"]["schema"]
    return {**_json_schema(schema), "$defs": DEFS}


#: The operations the spec uses (method and path as the file writes them).
ENDPOINTS: dict[str, dict[str, Any]] = {
    key: {"body": _request_schema(key)}
    for key in [
        "POST /v1/payments",
        "PUT /v1/payments/{id}",
        "POST /v1/payments/{id}/refunds",
        "GET /v1/payments/{id}",
        "GET /v1/payments/{id}/refunds/{refund_id}",
    ]
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)
PAYMENT = _response_schema("GET /v1/payments/{id}", "200")
REFUND = _response_schema("POST /v1/payments/{id}/refunds", "201")
ERROR = {"$ref": "#/$defs/Error", "$defs": DEFS}


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _built(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("mercado_pago").build_request(data["flow"], data["request"], CREDENTIALS)


# --- requests ------------------------------------------------------------------------------


def test_the_openapi_file_is_the_recorded_copy() -> None:
    assert hashlib.sha256(OPENAPI_PATH.read_bytes()).hexdigest() == OPENAPI_SHA256
    assert DOCUMENT["servers"][0]["url"] == "https://api.mercadopago.com"
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_patches_only_add_what_the_file_lacks() -> None:
    for name, extra in PATCHES.items():
        assert not set(extra) & set(DEFS[name]["properties"]), name


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_mercado_pago_operations_with_valid_bodies(name: str) -> None:
    built = _built(name)
    split = urlsplit(built.url)
    assert (split.scheme, split.netloc) == ("https", "api.mercadopago.com")
    key, params = ENDPOINT_INDEX.match(built.method, split.path)
    for value in params.values():
        assert value.isdigit(), f"{key}: ids are integers ({value!r})"  # `schema: integer`
    assert built.headers["Authorization"] == f"Bearer {CREDENTIALS['access_token']}"
    idempotency = built.headers.get("X-Idempotency-Key")
    if built.method == "GET":
        assert idempotency is None and not built.body
        return
    assert idempotency is not None and str(uuid.UUID(idempotency)) == idempotency  # format uuid
    assert built.carries_key
    problems = _problems(ENDPOINTS[key]["body"], json.loads(built.body or b"{}"))
    assert not problems, f"{name}: {key} body breaks the published request schema: {problems}"


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered((_built(name) for name in BUILDABLE), ENDPOINTS)


@pytest.mark.parametrize("example", ["card_brazil", "pix_brazil", "boleto_brazil", "oxxo_mexico"])
def test_the_files_own_examples_pass_the_closed_schema(example: str) -> None:
    body = _operation("POST /v1/payments")["requestBody"]["content"]["application/json"]
    value = body["examples"][example]["value"]
    assert _problems(ENDPOINTS["POST /v1/payments"]["body"], value) == []


def _card_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built("authorize_card_manual_authorized").body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("amount as a string", lambda b: b.update(transaction_amount="250.00")),
        ("no amount", lambda b: b.pop("transaction_amount")),
        ("no payer", lambda b: b.pop("payer")),
        ("a payer without email", lambda b: b["payer"].pop("email")),
        ("capture as a string", lambda b: b.update(capture="false")),
        ("zero installments", lambda b: b.update(installments=0)),
        ("a long statement descriptor", lambda b: b.update(statement_descriptor="X" * 23)),
        ("a misspelt field", lambda b: b.update(external_ref=b["external_reference"])),
        ("identification as text", lambda b: b["payer"].update(identification="19119119100")),
        ("an unknown 3DS mode", lambda b: b.update(three_d_secure_mode="always")),
    ],
)
def test_the_payment_schema_rejects_broken_bodies(label: str, edit: Any) -> None:
    schema = ENDPOINTS["POST /v1/payments"]["body"]
    body = _card_body()
    assert _problems(schema, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(schema, broken), label


def test_the_update_and_refund_schemas_reject_broken_bodies() -> None:
    update = ENDPOINTS["PUT /v1/payments/{id}"]["body"]
    void = json.loads(_built("void_cancelled").body or b"")
    capture = json.loads(_built("capture_partial").body or b"")
    assert _problems(update, void) == [] and _problems(update, capture) == []
    assert _problems(update, {"status": "canceled"})  # the enum is `cancelled`
    assert _problems(update, {**capture, "capture": "true"})
    assert _problems(update, {**capture, "amount": 150})  # not PaymentUpdateRequest's name
    refund = ENDPOINTS["POST /v1/payments/{id}/refunds"]["body"]
    partial = json.loads(_built("refund_partial_in_process").body or b"")
    assert _problems(refund, partial) == []
    assert _problems(refund, {"amount": "50.00"})
    assert _problems(refund, {"value": 50})


@pytest.mark.parametrize(
    ("name", "field", "written"),
    [
        ("authorize_card_approved", "transaction_amount", "100.50"),
        ("authorize_card_manual_authorized", "transaction_amount", "250.00"),
        ("authorize_pix_qr", "transaction_amount", "100.50"),
        ("capture_partial", "transaction_amount", "150.00"),
        ("refund_partial_in_process", "amount", "50.00"),
    ],
)
def test_amounts_are_exact_major_unit_numbers(name: str, field: str, written: str) -> None:
    body = _built(name).body or b""
    assert f'"{field}":{written}'.encode() in body
    assert json.loads(body, parse_float=Decimal)[field] == Decimal(written)


def test_line_items_are_payment_items_in_major_units() -> None:
    body = json.loads(_built("authorize_card_with_line_items").body or b"", parse_float=Decimal)
    assert body["additional_info"]["items"] == [
        {
            "id": "TSHIRT-M",
            "title": "Camiseta",
            "quantity": 2,
            "unit_price": Decimal("49.95"),
        },
        {"title": "Meias", "quantity": 1, "unit_price": Decimal("60.00")},
    ]
    schema = ENDPOINTS["POST /v1/payments"]["body"]
    broken = copy.deepcopy(body)
    broken["additional_info"]["items"][0]["unit_price"] = "49.95"
    assert _problems(schema, json.loads(json.dumps(broken, default=str))) != []
    assert "additional_info" not in json.loads(_built("authorize_card_approved").body or b"")


def test_three_ds_is_asked_for_only_when_the_request_asks() -> None:
    modes = {
        name: json.loads(_built(name).body or b"").get("three_d_secure_mode")
        for name in (
            "authorize_card_3ds_challenge",
            "authorize_card_3ds_frictionless",
            "authorize_card_3ds_never",
            "authorize_card_approved",
            "authorize_pix_qr",
        )
    }
    assert modes == {
        "authorize_card_3ds_challenge": "optional",
        "authorize_card_3ds_frictionless": "optional",
        "authorize_card_3ds_never": "not_supported",
        "authorize_card_approved": None,
        "authorize_pix_qr": None,
    }


def test_a_full_refund_and_a_full_capture_send_no_amount() -> None:
    assert json.loads(_built("refund_full").body or b"{}") == {}
    assert json.loads(_built("capture_full").body or b"") == {"capture": True}


def test_manual_capture_sends_capture_false_and_local_methods_no_card_fields() -> None:
    assert _card_body()["capture"] is False and _card_body()["installments"] == 1
    automatic = json.loads(_built("authorize_card_approved").body or b"")
    assert automatic["capture"] is True and "payment_method_id" not in automatic
    pix = json.loads(_built("authorize_pix_qr").body or b"")
    boleto = json.loads(_built("authorize_boleto_voucher").body or b"")
    assert pix["payment_method_id"] == "pix" and boleto["payment_method_id"] == "bolbradesco"
    for body in (pix, boleto):
        assert not {"token", "capture", "installments"} & set(body)
    # Boleto: the payer's CPF (unified tax id), name and address.
    assert boleto["payer"]["identification"] == {"type": "CPF", "number": "19119119100"}
    assert boleto["payer"]["address"]["federal_unit"] == "SP"


def test_the_idempotency_key_is_a_stable_uuid_per_call() -> None:
    first = _built("authorize_card_approved").headers["X-Idempotency-Key"]
    assert _built("authorize_card_approved").headers["X-Idempotency-Key"] == first
    assert _built("authorize_card_manual_authorized").headers["X-Idempotency-Key"] != first


# --- answers -------------------------------------------------------------------------------


def _answers() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, data["flow"], data["response"])
        for name, data in SCENARIOS.items()
        if "body" in data["response"] and "raises" not in data["expect"]
    ]


@pytest.mark.parametrize(("name", "flow", "answer"), _answers(), ids=lambda v: str(v)[:40])
def test_fixture_answers_have_the_published_shapes(name: str, flow: str, answer: Any) -> None:
    if answer["status"] >= 400:
        schema = ERROR
    elif flow in ("refund", "get_refund"):
        schema = REFUND
    else:
        schema = PAYMENT
    assert _problems(schema, answer["body"]) == [], name


def test_the_response_schemas_can_fail() -> None:
    payment = SCENARIOS["get_approved"]["response"]["body"]
    assert _problems(PAYMENT, {**payment, "status": "succeeded"})
    assert _problems(PAYMENT, {**payment, "transaction_amount": "100.50"})
    assert _problems(PAYMENT, {**payment, "id": "1325563301"})
    refund = SCENARIOS["get_refund_approved"]["response"]["body"]
    assert _problems(REFUND, {**refund, "status": "succeeded"})
    assert _problems(ERROR, {"message": "x", "status": 400})


# --- webhooks ------------------------------------------------------------------------------

SIGNATURE = re.compile(r"^ts=(?P<ts>[0-9]+),v1=(?P<v1>[0-9a-f]{64})$")


def _manifest(data: dict[str, Any]) -> str:
    """Mercado Pago's template, each value left out when the notification lacks it."""
    headers = {k.lower(): v for k, v in data["headers"].items()}
    ts = SIGNATURE.match(headers["x-signature"])["ts"]  # type: ignore[index]
    data_id = json.loads(data["body_text"]).get("data", {}).get("id")
    parts = [f"id:{str(data_id).lower()};"] if data_id is not None else []
    if headers.get("x-request-id"):
        parts.append(f"request-id:{headers['x-request-id']};")
    return "".join(parts) + f"ts:{ts};"


SIGNED_OTHERWISE = {"wrong_secret", "tampered_data_id"}


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_delivery_signatures(name: str) -> None:
    data = DELIVERIES[name]
    headers = {k.lower(): v for k, v in data["headers"].items()}
    if "x-signature" not in headers:
        assert data["expect"]["rejected"] == "missing_signature"
        return
    found = SIGNATURE.match(headers["x-signature"])
    assert found, headers["x-signature"]
    expected = hmac.new(
        data["secret"].encode(), _manifest(data).encode(), hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, found["v1"]) == (name not in SIGNED_OTHERWISE), name


def test_the_manifest_is_the_documented_one() -> None:
    data = DELIVERIES["payment_approved"]
    assert _manifest(data) == (
        "id:1325563301;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;ts:1767268801;"
    )


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_parse_event_alone_does_not_trust_the_body(name: str) -> None:
    """Verified or not, the body says only that something changed: `get` must confirm it."""
    data = DELIVERIES[name]
    with pytest.raises(WebhookError) as caught:
        load_connector("mercado_pago").parse_event(
            data["body_text"].encode(), data["headers"], data["secret"]
        )
    assert caught.value.reason == "unconfirmed"


def _client(data: dict[str, Any], seen: list[httpx.Request]) -> Client:
    def mercado_pago(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = data["get_response"]
        return httpx.Response(
            answer["status"], headers=answer["headers"], content=response_body(answer)
        )

    http = httpx.Client(transport=httpx.MockTransport(mercado_pago))
    return Client("mercado_pago", CREDENTIALS, http_client=http)


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_handle_event_verifies_then_confirms_by_fetching(name: str) -> None:
    data = DELIVERIES[name]
    expect = data["expect"]
    seen: list[httpx.Request] = []
    client = _client(data, seen)
    body = data["body_text"].encode()
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            client.handle_event(body, data["headers"], data["secret"])
        assert caught.value.reason == expect["rejected"]
        assert data["secret"] not in str(caught.value)
    else:
        result = client.handle_event(body, data["headers"], data["secret"])
        events = [event.to_dict() for event in result.events]
        assert len(events) == len(expect["events"])
        for event, wanted in zip(events, expect["events"], strict=True):
            for field, value in wanted.items():
                assert event[field] == value, f"{field}: {event[field]!r} != {value!r}"
        assert result.to_dict()["acknowledge"]["status"] == 200
    assert [f"{r.method} {r.url.path}" for r in seen] == expect["requests"]
    for request in seen:
        assert request.url.host == "api.mercadopago.com"
        assert request.headers["authorization"] == f"Bearer {CREDENTIALS['access_token']}"
        assert "x-idempotency-key" not in request.headers


def test_deliveries_cover_the_outcomes() -> None:
    outcomes = {d["expect"].get("rejected", "confirmed") for d in DELIVERIES.values()}
    assert {
        "confirmed",
        "bad_signature",
        "missing_signature",
        "unconfirmed",
        "unreadable_body",
    } <= outcomes
    types = {e["type"] for d in DELIVERIES.values() for e in d["expect"].get("events", [])}
    assert {"payment.captured", "payment.failed", "payment.voided", "payment.authorized"} <= types
    assert "payment.pending" in types
