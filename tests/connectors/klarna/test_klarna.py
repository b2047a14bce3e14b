"""Klarna-specific checks, against Klarna's published API descriptions rather than our spec.

- Order Management: ordermanagement.2020-10.json here is a verbatim copy of
  processor-apis/klarna/ordermanagement.2020-10.json (Klarna's own Swagger 2.0 "Klarna Order
  Managment API", from developers.klarna.com/api/specs/, kept by tuutti/php-klarna-ordermanagement
  @ cb905604589bd5a1081db484afb141170c4f8c9f): every capture and refund body is validated against
  its CaptureObject / RefundObject (order_line: name, quantity, tax_rate, total_amount,
  total_tax_amount, type and unit_price required), closed so that a misspelt field fails;
- Payments: klarna-payments-openapi.extract.json is a transcription of the constraints of
  Klarna's Payments API V1 OpenAPI (APIs-guru/openapi-directory :
  APIs/klarna.com/payments/1.0.0/openapi.yaml @ 80838777ad958f67a7f4978706364ec75e173ee5, Klarna's
  docs-portal export of 2023-03-03; the repository is too large to copy the file from, so it was
  read through the index and every constraint of the two operations used written out, without
  descriptions): session and order bodies are validated against session_create /
  create_order_request, closed, read-only members refused;
- the schemas can fail: broken bodies are rejected;
- the fixtures' answers have the documented shapes (merchant_session, order, Order, Refund,
  ErrorMessageDto), so they cannot drift into shapes that only agree with the spec;
- the order lines add up the way Klarna checks them (order_amount = Σ total_amount,
  total_amount = quantity * unit_price - total_discount_amount, order_tax_amount = Σ
  total_tax_amount), HTTP Basic auth, the regional hosts, the idempotency header on Order
  Management's POSTs only;
- pending-order notifications are unsigned: parse_event alone refuses them, and
  Client.handle_event confirms each by reading the order (an httpx MockTransport answers).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator

from engine import Client, CredentialsError, HttpResponse, WebhookError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, response_body

HERE = Path(__file__).parent
OM_PATH = HERE / "ordermanagement.2020-10.json"
OM_SHA256 = "d736576f37e3e371664fc80ad24b9115c47b59f6a9e8fba568a5175762c8e04b"
PAYMENTS_PATH = HERE / "klarna-payments-openapi.extract.json"
PAYMENTS_SHA256 = "37384499a14b5517cc741a4c6ed124e43e71d8103a562465d00f8c5715bd373d"
CREDENTIALS = credentials_for("klarna")
SCENARIOS = fixtures_of("klarna", "scenarios")
DELIVERIES = fixtures_of("klarna", "deliveries")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
OM = json.loads(OM_PATH.read_text("utf-8"))
PAYMENTS = json.loads(PAYMENTS_PATH.read_text("utf-8"))


def _closed(schema: Any, *, drop_read_only: bool) -> Any:
    """The schema with every object closed to its declared members (read-only ones removed:
    a request must not send them)."""
    if isinstance(schema, list):
        return [_closed(item, drop_read_only=drop_read_only) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v, drop_read_only=drop_read_only) for k, v in schema.items()}
    if isinstance(schema.get("properties"), dict):
        props = out["properties"]
        if drop_read_only:
            props = {k: v for k, v in props.items() if not v.get("readOnly")}
            out["properties"] = props
        out["additionalProperties"] = False
    return out


#: Request-side schemas: the documents' definitions, closed.
OM_DEFINITIONS = _closed(OM["definitions"], drop_read_only=False)
PAYMENTS_SCHEMAS = _closed(PAYMENTS["components"]["schemas"], drop_read_only=True)


def _om(name: str) -> dict[str, Any]:
    return {"$ref": f"#/definitions/{name}", "definitions": OM_DEFINITIONS}


def _payments(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": {"schemas": PAYMENTS_SCHEMAS}}


#: "METHOD /path" → the body schema (None: no body), from the document that declares it.
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /payments/v1/sessions": {"body": _payments("session_create"), "doc": "payments"},
    "POST /payments/v1/authorizations/{authorizationToken}/order": {
        "body": _payments("create_order_request"),
        "doc": "payments",
    },
    "GET /ordermanagement/v1/orders/{order_id}": {"body": None, "doc": "om"},
    "POST /ordermanagement/v1/orders/{order_id}/captures": {
        "body": _om("CaptureObject"),
        "doc": "om",
    },
    "POST /ordermanagement/v1/orders/{order_id}/cancel": {"body": None, "doc": "om"},
    "POST /ordermanagement/v1/orders/{order_id}/refunds": {
        "body": _om("RefundObject"),
        "doc": "om",
    },
    "GET /ordermanagement/v1/orders/{order_id}/refunds/{refund_id}": {"body": None, "doc": "om"},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)


def _operations() -> set[str]:
    found = set()
    for document in (OM, PAYMENTS):
        for path, item in document["paths"].items():
            for method in item:
                if method in ("get", "post", "patch", "delete", "put"):
                    found.add(f"{method.upper()} {path}")
    return found


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _answers(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data["responses"]) if "responses" in data else [data["response"]]


def _built(name: str, credentials: dict[str, str] | None = None) -> list[Any]:
    """Every request the scenario's flow sends, each step fed the scenario's earlier answers."""
    data = SCENARIOS[name]
    connector = load_connector("klarna")
    answers = _answers(data)
    steps: dict[str, Any] = {}
    built = []
    for index, answer in enumerate(answers):
        if "transport" in answer and index < len(answers) - 1:
            break
        built.append(
            connector.build_request(
                data["flow"], data["request"], credentials or CREDENTIALS, step=index, steps=steps
            )
        )
        if index < len(answers) - 1:
            response = HttpResponse(answer["status"], {}, response_body(answer))
            step = connector.plan.flows[data["flow"]].steps[index].name
            steps[step] = connector.parse_step(data["flow"], index, data["request"], response)
    return built


def _body(name: str, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name)[index].body or b"")
    return body


# --- the documents ----------------------------------------------------------------------------


def test_the_documents_are_the_recorded_copies() -> None:
    assert hashlib.sha256(OM_PATH.read_bytes()).hexdigest() == OM_SHA256
    assert hashlib.sha256(PAYMENTS_PATH.read_bytes()).hexdigest() == PAYMENTS_SHA256
    assert OM["info"]["title"].startswith("Klarna Order Man")
    assert PAYMENTS["x-extract-of"]["commit"] == "80838777ad958f67a7f4978706364ec75e173ee5"


def test_every_endpoint_the_spec_uses_is_a_documented_operation() -> None:
    assert set(ENDPOINTS) <= _operations(), set(ENDPOINTS) - _operations()


# --- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_klarna_operations_with_documented_bodies(name: str) -> None:
    expected_auth = "Basic " + base64.b64encode(
        f"{CREDENTIALS['username']}:{CREDENTIALS['password']}".encode()
    ).decode("ascii")
    for built in _built(name):
        split = urlsplit(built.url)
        assert split.scheme == "https" and split.netloc == "api.playground.klarna.com"
        key, params = ENDPOINT_INDEX.match(built.method, split.path)
        for value in params.values():
            assert len(value) == 36 and value.count("-") == 4, f"{key}: path id {value!r}"
        assert built.headers["Authorization"] == expected_auth
        # Order Management's POSTs carry the idempotency key; the Payments API and reads none.
        om_post = built.method == "POST" and ENDPOINTS[key]["doc"] == "om"
        assert ("Klarna-Idempotency-Key" in built.headers) == om_post, key
        if om_post:
            assert built.headers["Klarna-Idempotency-Key"] == SCENARIOS[name]["request"].get(
                "idempotency_key"
            )
        schema = ENDPOINTS[key]["body"]
        if schema is None:
            assert not built.body, f"{key} takes no body"
            continue
        problems = _problems(schema, json.loads(built.body or b"{}"))
        assert not problems, f"{name}: {key} body breaks Klarna's schema: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The test above is not vacuous: each endpoint gets checked, and every body too."""
    ENDPOINT_INDEX.assert_covered(
        (request for name in BUILDABLE for request in _built(name)), ENDPOINTS
    )


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("no order lines", lambda b: b.pop("order_lines")),
        ("empty order lines", lambda b: b.update(order_lines=[])),
        ("amount as a decimal string", lambda b: b.update(order_amount="108.00")),
        ("a negative order amount", lambda b: b.update(order_amount=-1)),
        ("a three-letter country", lambda b: b.update(purchase_country="SWE")),
        ("a line without a unit price", lambda b: b["order_lines"][0].pop("unit_price")),
        ("a line quantity as text", lambda b: b["order_lines"][0].update(quantity="10")),
        ("a tax rate over 100%", lambda b: b["order_lines"][0].update(tax_rate=10001)),
        ("a misspelt field", lambda b: b.update(merchant_reference=b["merchant_reference1"])),
        ("a read-only field", lambda b: b.update(status="complete")),
        ("a long postal code", lambda b: b["billing_address"].update(postal_code="12345678901")),
    ],
)
def test_the_payments_schemas_reject_broken_bodies(label: str, edit: Any) -> None:
    for name, schema in (
        ("authorize_session_created", _payments("session_create")),
        ("authorize_order_auto_capture", _payments("create_order_request")),
    ):
        body = _body(name)
        assert _problems(schema, body) == []
        broken = copy.deepcopy(body)
        edit(broken)
        assert _problems(schema, broken), f"{name}: {label}"


def test_auto_capture_is_an_order_field_only() -> None:
    session = _body("authorize_session_created")
    assert "auto_capture" not in session
    assert _problems(_payments("session_create"), {**session, "auto_capture": True})
    assert _body("authorize_order_auto_capture")["auto_capture"] is True
    assert _body("authorize_order_manual_capture")["auto_capture"] is False


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("no captured amount", lambda b: b.pop("captured_amount")),
        ("more than Klarna's maximum", lambda b: b.update(captured_amount=100000001)),
        ("a line without its tax", lambda b: b["order_lines"][0].pop("total_tax_amount")),
        ("a line of an unknown type", lambda b: b["order_lines"][0].update(type="service")),
        ("a misspelt field", lambda b: b.update(captured_amounts=b["captured_amount"])),
    ],
)
def test_the_order_management_schemas_reject_broken_bodies(label: str, edit: Any) -> None:
    body = _body("capture_partial")
    assert _problems(_om("CaptureObject"), body) == [] and body["order_lines"]
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(_om("CaptureObject"), broken), label
    refund = _body("refund_partial")
    assert _problems(_om("RefundObject"), refund) == []
    assert _problems(_om("RefundObject"), {**refund, "refunded_amount": "48.00"})


@pytest.mark.parametrize(
    "name",
    [
        "authorize_session_created",
        "authorize_session_us_discount_shipping",
        "authorize_session_vat_discount",
    ],
)
def test_order_lines_add_up_as_klarna_checks_them(name: str) -> None:
    body = _body(name)
    lines = body["order_lines"]
    assert sum(line["total_amount"] for line in lines) == body["order_amount"]
    assert sum(line["total_tax_amount"] for line in lines) == body["order_tax_amount"]
    for line in lines:
        discount = line.get("total_discount_amount", 0)
        assert line["quantity"] * line["unit_price"] - discount == line["total_amount"], line
        if line["tax_rate"]:
            # "Must be within ±1 of total_amount - total_amount * 10000 / (10000 + tax_rate)".
            implied = line["total_amount"] - line["total_amount"] * 10000 / (
                10000 + line["tax_rate"]
            )
            assert abs(line["total_tax_amount"] - implied) <= 1, line
        negative = line["type"] == "discount"
        assert (line["total_amount"] < 0) == negative, line


def test_the_unified_lines_map_to_klarnas() -> None:
    tomatoes, bananas = _body("authorize_session_created")["order_lines"]
    # 10 x 5.00 before tax, 10.00 tax on the line: 6.00 a unit with tax, 60.00 in all.
    assert tomatoes == {
        "type": "physical",
        "reference": "19-402-USA",
        "name": "Tomatoes",
        "quantity": 10,
        "unit_price": 600,
        "tax_rate": 2000,
        "total_amount": 6000,
        "total_tax_amount": 1000,
        "product_url": "https://shop.example.com/p/tomatoes",
        "image_url": "https://shop.example.com/i/tomatoes.png",
    }
    assert bananas["unit_price"] == 4800 and bananas["total_discount_amount"] == 0
    us = {
        line["name"]: line
        for line in _body("authorize_session_us_discount_shipping")["order_lines"]
    }
    assert us["Welcome discount"]["type"] == "discount"
    assert us["Welcome discount"]["unit_price"] == -500
    assert us["Gift card"]["type"] == "digital"
    assert us["Standard shipping"]["type"] == "shipping_fee"
    assert us["Running shoes"]["quantity_unit"] == "pairs"


def test_the_session_and_the_order_carry_the_same_order_data() -> None:
    """Klarna refuses an order that differs from what the customer authorized."""
    session = _body("authorize_session_created")
    order = _body("authorize_order_auto_capture")
    assert {k: v for k, v in order.items() if k != "auto_capture"} == session
    assert session["merchant_urls"] == {
        "confirmation": "https://shop.example.com/klarna/confirmation",
        "notification": "https://shop.example.com/klarna/notification",
    }


def test_paths_name_the_authorization_token_and_the_order() -> None:
    assert _built("authorize_session_created")[0].url.endswith("/payments/v1/sessions")
    assert _built("authorize_order_auto_capture")[0].url.endswith(
        "/payments/v1/authorizations/b4bd3423-24e3-4d1a-9f27-aa3a7e2f4e37/order"
    )
    read, capture = _built("capture_full")
    assert read.method == "GET" and read.url.endswith(
        "/orders/f3392f8b-6116-4073-ab96-e330819e2c07"
    )
    assert capture.url.endswith("/orders/f3392f8b-6116-4073-ab96-e330819e2c07/captures")


def test_a_capture_or_refund_without_amount_takes_what_remains() -> None:
    assert _body("capture_full") == {"captured_amount": 10800, "reference": "shipment-1"}
    assert _body("refund_full") == {
        "refunded_amount": 10800,
        "description": "Refund requested by the customer",
    }
    assert _body("capture_rest_after_partial")["captured_amount"] == 4800


@pytest.mark.parametrize(
    ("region", "environment", "host"),
    [
        ("eu", "sandbox", "api.playground.klarna.com"),
        ("na", "sandbox", "api-na.playground.klarna.com"),
        ("oc", "sandbox", "api-oc.playground.klarna.com"),
        ("eu", "production", "api.klarna.com"),
        ("na", "production", "api-na.klarna.com"),
        ("oc", "production", "api-oc.klarna.com"),
        (None, "production", "api.klarna.com"),
    ],
)
def test_regional_hosts(region: str | None, environment: str, host: str) -> None:
    credentials = dict(CREDENTIALS)
    if region is not None:
        credentials["region"] = region
    seen: list[httpx.Request] = []

    def klarna(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    http = httpx.Client(transport=httpx.MockTransport(klarna))
    client = Client("klarna", credentials, environment=environment, http_client=http)
    result = client.void({"connector_transaction_id": "f3392f8b-6116-4073-ab96-e330819e2c07"})
    assert result.status == "voided"
    assert [r.url.host for r in seen] == [host]


def test_an_unknown_region_is_refused_before_sending() -> None:
    with pytest.raises(CredentialsError, match="region"):
        Client("klarna", {**CREDENTIALS, "region": "evil.example.com#"}).void(
            {"connector_transaction_id": "f3392f8b-6116-4073-ab96-e330819e2c07"}
        )


def test_the_password_never_shows() -> None:
    for name in BUILDABLE:
        for built in _built(name):
            shown = json.dumps(built.redacted())
            assert CREDENTIALS["password"] not in shown
            assert base64.b64encode(CREDENTIALS["password"].encode()).decode() not in shown


# --- answers ----------------------------------------------------------------------------------

#: Order Management's Order / Refund and both APIs' error bodies (open: Klarna adds members).
OM_ORDER = {"$ref": "#/definitions/Order", "definitions": OM["definitions"]}
OM_REFUND = {"$ref": "#/definitions/Refund", "definitions": OM["definitions"]}
OM_ERROR = {"$ref": "#/definitions/ErrorMessageDto", "definitions": OM["definitions"]}
STRICT_ORDER = {**OM_ORDER, "required": ["order_id", "status", "order_amount", "purchase_currency"]}


def _payments_open(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}", "components": PAYMENTS["components"]}


def _answer_schema(flow: str, index: int, count: int, answer: dict[str, Any]) -> Any:
    if answer["status"] >= 400:
        return _payments_open("ErrorV2") if flow == "authorize" else OM_ERROR
    if flow == "authorize":
        return _payments_open("merchant_session" if "client_token" in answer["body"] else "order")
    if flow == "get" or index < count - 1:
        return STRICT_ORDER
    if flow == "get_refund":
        return {**OM_REFUND, "required": ["refund_id", "refunded_amount"]}
    return None


def _fixture_answers() -> list[tuple[str, str, int, int, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        answers = _answers(data)
        for index, answer in enumerate(answers):
            if "body" in answer:
                found.append((name, data["flow"], index, len(answers), answer))
    return found


@pytest.mark.parametrize(
    ("name", "flow", "index", "count", "answer"), _fixture_answers(), ids=lambda v: str(v)[:40]
)
def test_fixture_answers_have_documented_shapes(
    name: str, flow: str, index: int, count: int, answer: Any
) -> None:
    schema = _answer_schema(flow, index, count, answer)
    assert schema is not None, f"{name}: no documented body for this answer"
    assert _problems(schema, answer["body"]) == [], name


def test_answer_schemas_can_fail() -> None:
    order = SCENARIOS["get_authorized"]["response"]["body"]
    assert _problems(STRICT_ORDER, {**order, "status": "SETTLED"})
    assert _problems(STRICT_ORDER, {**order, "order_amount": "108.00"})
    assert _problems(_payments_open("merchant_session"), {"session_id": "x"})
    assert _problems(OM_ERROR, {"error_code": 403})


def test_empty_answers_say_so_by_their_status() -> None:
    """Captures and refunds answer 201 with no body (the id in a header), cancel 204."""
    paths = OM["paths"]
    assert set(
        paths["/ordermanagement/v1/orders/{order_id}/captures"]["post"]["responses"]["201"][
            "headers"
        ]
    ) == {
        "Capture-Id",
        "Location",
    }
    assert (
        "Refund-Id"
        in paths["/ordermanagement/v1/orders/{order_id}/refunds"]["post"]["responses"]["201"][
            "headers"
        ]
    )
    assert "204" in paths["/ordermanagement/v1/orders/{order_id}/cancel"]["post"]["responses"]
    for name in ("capture_full", "refund_full", "void_cancelled"):
        assert _answers(SCENARIOS[name])[-1]["body_text"] == ""


# --- webhooks ---------------------------------------------------------------------------------


def _get_answer(data: dict[str, Any]) -> dict[str, Any]:
    if "get_response_from" in data:
        answer: dict[str, Any] = SCENARIOS[data["get_response_from"]]["response"]
        return answer
    answer = data["get_response"]
    return answer


def _client(data: dict[str, Any], seen: list[httpx.Request]) -> Client:
    def klarna(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = _get_answer(data)
        return httpx.Response(
            answer.get("status", 200),
            headers=answer.get("headers", {"Content-Type": "application/json"}),
            content=response_body(answer),
        )

    return Client(
        "klarna", CREDENTIALS, http_client=httpx.Client(transport=httpx.MockTransport(klarna))
    )


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_parse_event_alone_refuses_unsigned_deliveries(name: str) -> None:
    data = DELIVERIES[name]
    with pytest.raises(WebhookError) as caught:
        load_connector("klarna").parse_event(data["body_text"].encode(), data["headers"])
    assert caught.value.reason in ("unconfirmed", "unreadable_body")


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_handle_event_confirms_by_reading_the_order(name: str) -> None:
    data = DELIVERIES[name]
    expect = data["expect"]
    seen: list[httpx.Request] = []
    client = _client(data, seen)
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            client.handle_event(data["body_text"].encode(), data["headers"])
        assert caught.value.reason == expect["rejected"]
    else:
        result = client.handle_event(data["body_text"].encode(), data["headers"])
        events = [event.to_dict() for event in result.events]
        assert len(events) == len(expect["events"])
        for event, wanted in zip(events, expect["events"], strict=True):
            for field, value in wanted.items():
                assert event[field] == value, f"{field}: {event[field]!r} != {value!r}"
    assert [f"{r.method} {r.url.path}" for r in seen] == expect["requests"]
    for request in seen:
        assert request.url.host == "api.playground.klarna.com"
        assert request.headers["authorization"].startswith("Basic ")


def test_deliveries_cover_the_outcomes() -> None:
    outcomes = {d["expect"].get("rejected", "confirmed") for d in DELIVERIES.values()}
    assert {"confirmed", "unconfirmed", "unreadable_body"} <= outcomes
    types = {e["type"] for d in DELIVERIES.values() for e in d["expect"].get("events", [])}
    assert {"payment.authorized", "payment.failed", "payment.voided", "payment.pending"} <= types
    for data in DELIVERIES.values():
        if "get_response_from" in data:
            assert data["get_response_from"] in SCENARIOS
            assert SCENARIOS[data["get_response_from"]]["flow"] == "get"
