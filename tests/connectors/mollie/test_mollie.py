"""Mollie-specific checks, against Mollie's own published description rather than our spec:

- every request the spec builds for a scenario is valid for Mollie's request-body schema of that
  endpoint (processor_schema.json, extracted from Mollie's OpenAPI 3.1 description; its "source"
  key says from where), and its path ids match Mollie's id patterns;
- every processor response in the scenario fixtures is valid for Mollie's response schema of that
  endpoint and status (so the fixtures cannot drift into shapes that only agree with our spec);
- the schema check can fail: broken bodies are rejected;
- webhooks: Mollie's classic webhooks are unsigned form posts `id=tr_…`. parse_event alone
  refuses them; Client.handle_event confirms each by fetching the payment (GET answered here by
  an httpx MockTransport), and the deliveries/*.yaml fixtures say what must come out.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from engine import Client, WebhookError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, processor_schema, response_body

HERE = Path(__file__).parent
SCHEMA: dict[str, Any] = processor_schema("mollie")
ENDPOINTS: dict[str, Any] = SCHEMA["endpoints"]
CREDENTIALS = credentials_for("mollie")
SCENARIOS = fixtures_of("mollie", "scenarios")
DELIVERIES = fixtures_of("mollie", "deliveries")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}

#: Scenarios whose body knowingly breaks Mollie's schema, and where: SOFORT is not a Mollie
#: method any more (the spec cannot refuse one bank_redirect type before sending, so it sends it
#: and Mollie answers 422 on `method`).
KNOWN_INVALID = {"authorize_sofort_method_invalid": "method"}


# --- Mollie's schemas, as the test applies them ----------------------------------------------


def _resolve(schema: Any, defs: dict[str, Any]) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _read_only(schema: Any, defs: dict[str, Any]) -> bool:
    schema = _resolve(schema, defs)
    if not isinstance(schema, dict):
        return False
    if schema.get("readOnly") is True:
        return True
    return any(_read_only(part, defs) for part in schema.get("allOf", []))


def _request_view(node: Any, defs: dict[str, Any]) -> Any:
    """OpenAPI's rule for request bodies: a readOnly property listed in `required` is required
    in responses only (Mollie shares one entity schema between requests and responses)."""
    if isinstance(node, list):
        return [_request_view(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _request_view(value, defs) for key, value in node.items()}
    if "required" in out and "properties" in node:
        out["required"] = [
            name
            for name in out["required"]
            if not (name in node["properties"] and _read_only(node["properties"][name], defs))
        ]
    return out


def _request_defs(*, recurring: bool = False) -> dict[str, Any]:
    defs = SCHEMA["$defs"]
    view: dict[str, Any] = {name: _request_view(schema, defs) for name, schema in defs.items()}
    # Documented exceptions to Mollie's schemas, each quoted from Mollie's own description:
    # - payment-request requires redirectUrl, but its description says "The parameter is
    #   normally required, but can be omitted for recurring payments (`sequenceType:
    #   recurring`)".
    if recurring:
        for part in view["payment-request"]["allOf"]:
            if "required" in part:
                part["required"] = [name for name in part["required"] if name != "redirectUrl"]
    # - entity-refund (shared with refund responses) requires description and metadata; the
    #   create-refund code samples of the same description (python, php) send neither, and the
    #   older create-payment-refund reference lists both as optional.
    view["entity-refund"]["required"] = [
        name
        for name in view["entity-refund"]["required"]
        if name not in ("description", "metadata")
    ]
    # Mollie's objects are open (no additionalProperties), which would let a misspelt key
    # through. Close the nested objects the spec writes; the top level is closed below.
    view["amount"] = {**view["amount"], "additionalProperties": False}
    view["amount-nullable"] = {**view["amount-nullable"], "additionalProperties": False}
    view["payment-address"] = {**view["payment-address"], "unevaluatedProperties": False}
    return view


def _problems(
    schema: dict[str, Any], instance: Any, defs: dict[str, Any], *, closed: bool = False
) -> list[str]:
    root: dict[str, Any] = {"$defs": defs, "allOf": [schema]}
    if closed:
        root["unevaluatedProperties"] = False
    validator = Draft202012Validator(root, format_checker=FormatChecker())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


_endpoint = Endpoints(ENDPOINTS).match


def _build(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("mollie").build_request(data["flow"], data["request"], CREDENTIALS)


def _body_problems(key: str, body: dict[str, Any], *, closed: bool = True) -> list[str]:
    """Problems of a request body. Closed (the default), keys Mollie does not declare are
    problems too; when anything else is wrong, jsonschema then also reports every key as
    unevaluated (a failed allOf gives no annotations)."""
    defs = _request_defs(recurring=body.get("sequenceType") == "recurring")
    return _problems(ENDPOINTS[key]["body"], body, defs, closed=closed)


# --- requests ---------------------------------------------------------------------------------


def test_schema_source_is_recorded() -> None:
    assert "03a92ec1939c466109fc10615051755c69297ffa" in SCHEMA["source"]
    assert SCHEMA["openapi"].startswith("3.1")
    for entry in ENDPOINTS.values():
        if entry["body"] is not None:
            Draft202012Validator.check_schema({**entry["body"], "$defs": SCHEMA["$defs"]})


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_request_matches_mollies_schema(name: str) -> None:
    built = _build(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "api.mollie.com"
    assert not split.query
    key, params = _endpoint(built.method, split.path)
    entry = ENDPOINTS[key]
    for param, value in params.items():
        problems = _problems(entry["path_parameters"][param], value, SCHEMA["$defs"])
        assert not problems, f"path {param}={value!r}: {problems}"
    if not built.body:
        # GETs have no body; release-authorization is sent without one, like Mollie's own
        # curl sample for it.
        assert entry["body"] is None or key.endswith("/release-authorization"), key
        return
    assert entry["body"] is not None, f"{key} takes no body"
    body = json.loads(built.body)
    if name in KNOWN_INVALID:
        problems = _body_problems(key, body, closed=False)
        assert problems and all(p.startswith(KNOWN_INVALID[name]) for p in problems), problems
        return
    problems = _body_problems(key, body)
    assert not problems, f"{name}: {key} body breaks Mollie's schema: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The test above is not vacuous: each endpoint is used, and each body-taking one checked."""
    seen: dict[str, int] = {}
    bodies: dict[str, int] = {}
    for name in BUILDABLE:
        built = _build(name)
        key, _ = _endpoint(built.method, urlsplit(built.url).path)
        seen[key] = seen.get(key, 0) + 1
        if built.body and name not in KNOWN_INVALID:
            bodies[key] = bodies.get(key, 0) + 1
    assert set(seen) == set(ENDPOINTS), f"unchecked endpoints: {set(ENDPOINTS) - set(seen)}"
    for key in (
        "POST /v2/payments",
        "POST /v2/payments/{paymentId}/captures",
        "POST /v2/payments/{paymentId}/refunds",
    ):
        assert bodies.get(key, 0) >= 2, f"too few bodies checked for {key}"


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_build(name).body)
    return body


@pytest.mark.parametrize(
    ("label", "breaks"),
    [
        ("amount value as a number", lambda b: b["amount"].__setitem__("value", 10.0)),
        ("amount without currency", lambda b: b["amount"].pop("currency")),
        ("no description", lambda b: b.pop("description")),
        ("no redirectUrl on a one-off payment", lambda b: b.pop("redirectUrl")),
        ("description over 255 characters", lambda b: b.__setitem__("description", "x" * 256)),
        ("a method Mollie does not have", lambda b: b.__setitem__("method", "card")),
        ("captureMode not in its enum", lambda b: b.__setitem__("captureMode", "later")),
        ("sequenceType not in its enum", lambda b: b.__setitem__("sequenceType", "once")),
        ("a misspelt top-level key", lambda b: b.__setitem__("redirectURL", b["redirectUrl"])),
        ("a misspelt address key", lambda b: b["billingAddress"].__setitem__("street", "x")),
        ("a customerId that is not cst_", lambda b: b.__setitem__("customerId", "42")),
    ],
)
def test_schema_rejects_broken_payment_bodies(label: str, breaks: Any) -> None:
    body = _body("authorize_ideal_requires_action")
    assert not _body_problems("POST /v2/payments", body)
    broken = copy.deepcopy(body)
    breaks(broken)
    assert _body_problems("POST /v2/payments", broken), f"a body with {label} was accepted"


def test_schema_rejects_broken_refund_capture_bodies_and_ids() -> None:
    refunds = "POST /v2/payments/{paymentId}/refunds"
    captures = "POST /v2/payments/{paymentId}/captures"
    assert not _body_problems(refunds, _body("refund_full"))
    assert _body_problems(refunds, {"description": "x"})  # the amount is required
    assert _body_problems(refunds, {"amount": {"currency": "EUR", "value": 5.95}})
    assert not _body_problems(captures, _body("capture_partial"))
    assert _body_problems(captures, {"amount": {"value": "6.50"}})
    assert _body_problems(captures, {"amount": {"currency": "EUR", "value": "6.50", "x": 1}})
    payment_id = ENDPOINTS["GET /v2/payments/{paymentId}"]["path_parameters"]["paymentId"]
    assert _problems(payment_id, "pay_3MtwBwLkdIwHu7ix", SCHEMA["$defs"])
    refund_id = ENDPOINTS["GET /v2/payments/{paymentId}/refunds/{refundId}"]["path_parameters"][
        "refundId"
    ]
    assert _problems(refund_id, "tr_4qqhO89gsT", SCHEMA["$defs"])


def test_recurring_exception_is_narrow() -> None:
    """redirectUrl may be left out for sequenceType recurring only."""
    body = _body("charge_recurring_card_paid")
    assert "redirectUrl" not in body and body["sequenceType"] == "recurring"
    assert not _body_problems("POST /v2/payments", body)
    assert _body_problems("POST /v2/payments", {**body, "sequenceType": "first"})


# --- what the spec writes ---------------------------------------------------------------------


def test_methods_and_card_tokens() -> None:
    ideal = _body("authorize_ideal_requires_action")
    assert (ideal["method"], ideal["issuer"]) == ("ideal", "ideal_INGBNL2A")
    assert "cardToken" not in ideal and "captureMode" not in ideal
    bancontact = _body("authorize_bancontact_requires_action")
    assert bancontact["method"] == "bancontact" and "issuer" not in bancontact
    card = _body("authorize_card_token_3ds_requires_action")
    assert (card["method"], card["cardToken"]) == ("creditcard", "tkn_UqAvArS3gw")
    assert _body("authorize_card_manual_authorized")["captureMode"] == "manual"


def test_amounts_addresses_and_reference() -> None:
    ideal = _body("authorize_ideal_requires_action")
    assert ideal["amount"] == {"currency": "EUR", "value": "10.00"}
    assert ideal["billingAddress"] == {
        "givenName": "Piet",
        "familyName": "Mondriaan",
        "streetAndNumber": "Keizersgracht 126",
        "postalCode": "1015 CW",
        "city": "Amsterdam",
        "country": "NL",
        "email": "piet@example.org",
    }
    assert "shippingAddress" not in ideal
    assert ideal["metadata"] == {"reference": "order-12345"}
    assert ideal["webhookUrl"] == "https://webshop.example.org/payments/webhook/"
    card = _body("authorize_card_token_paid")
    assert card["metadata"] == {"cart_id": "cart-981", "reference": "order-12345"}
    assert _body("authorize_przelewy24_requires_action")["amount"] == {
        "currency": "PLN",
        "value": "49.99",
    }


def test_description_is_cut_to_mollies_limit() -> None:
    data = copy.deepcopy(SCENARIOS["authorize_ideal_requires_action"])
    data["request"]["description"] = "d" * 1000
    built = load_connector("mollie").build_request("authorize", data["request"], CREDENTIALS)
    body = json.loads(built.body or b"{}")
    assert body["description"] == "d" * 255
    assert not _body_problems("POST /v2/payments", body)


def test_mandate_ids() -> None:
    with_mandate = _body("charge_recurring_card_paid")
    assert (with_mandate["customerId"], with_mandate["mandateId"]) == (
        "cst_77Ffsgn3ny",
        "mdt_DPRgAhbMDG",
    )
    customer_only = _body("charge_recurring_directdebit_pending")
    assert customer_only["customerId"] == "cst_tKt44u85MM" and "mandateId" not in customer_only


def test_captures_and_releases() -> None:
    assert _body("capture_full") == {}  # no amount: Mollie captures the whole authorization
    assert _body("capture_partial")["amount"] == {"currency": "EUR", "value": "6.50"}
    release = _build("void_release_authorization")
    assert release.method == "POST" and not release.body


def test_headers() -> None:
    for name in BUILDABLE:
        built = _build(name)
        headers = {k.lower(): v for k, v in built.headers.items()}
        assert headers["authorization"] == f"Bearer {CREDENTIALS['api_key']}"
        if built.method == "POST":
            assert headers["idempotency-key"] == SCENARIOS[name]["request"]["idempotency_key"]
        else:
            assert "idempotency-key" not in headers
        assert ("content-type" in headers) == bool(built.body)


# --- responses --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_fixture_response_matches_mollies_schema(name: str) -> None:
    data = SCENARIOS[name]
    response = data["response"]
    if "transport" in response:
        return
    status = str(response.get("status", 200))
    body_text = response_body(response).decode("utf-8")
    built = _build(name)
    key, _ = _endpoint(built.method, urlsplit(built.url).path)
    schemas = ENDPOINTS[key]["responses"]
    content_type = {k.lower(): v for k, v in response.get("headers", {}).items()}.get(
        "content-type", ""
    )
    if not content_type.startswith("application/hal+json"):
        return  # a gateway's HTML page or an empty 202: not Mollie JSON
    try:
        body = json.loads(body_text)
    except ValueError:
        return  # deliberately unreadable fixtures
    # Statuses an operation does not list (401, 500) still use Mollie's error-response.
    schema = schemas.get(status) or (
        {"$ref": "#/$defs/error-response"} if int(status) >= 400 else None
    )
    assert schema is not None, f"{key} documents no {status} answer"
    problems = _problems(schema, body, SCHEMA["$defs"])
    assert not problems, f"{name}: the fixture is not a Mollie {key} {status} answer: {problems}"


# --- webhooks ---------------------------------------------------------------------------------


def _get_answer(data: dict[str, Any]) -> dict[str, Any]:
    if "get_response_from" in data:
        answer: dict[str, Any] = SCENARIOS[data["get_response_from"]]["response"]
        return answer
    answer = data["get_response"]
    return answer


def _client(data: dict[str, Any], seen: list[httpx.Request]) -> Client:
    def processor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = _get_answer(data)
        return httpx.Response(
            answer.get("status", 200),
            headers=answer.get("headers", {"Content-Type": "application/hal+json"}),
            content=response_body(answer),
        )

    http = httpx.Client(transport=httpx.MockTransport(processor))
    return Client("mollie", CREDENTIALS, http_client=http)


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_parse_event_alone_refuses_unsigned_deliveries(name: str) -> None:
    data = DELIVERIES[name]
    with pytest.raises(WebhookError) as caught:
        load_connector("mollie").parse_event(data["body_text"].encode(), data["headers"])
    assert caught.value.reason == "unconfirmed"


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_handle_event_confirms_by_fetching_the_payment(name: str) -> None:
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
        assert result.to_dict()["acknowledge"]["status"] == 200
    assert [f"{r.method} {r.url.path}" for r in seen] == expect["requests"]
    for request in seen:
        assert request.url.host == "api.mollie.com"
        assert request.headers["authorization"] == f"Bearer {CREDENTIALS['api_key']}"


def test_deliveries_cover_the_outcomes() -> None:
    outcomes = {d["expect"].get("rejected", "confirmed") for d in DELIVERIES.values()}
    assert {"confirmed", "unconfirmed", "unreadable_body"} <= outcomes
    types = {e["type"] for d in DELIVERIES.values() for e in d["expect"].get("events", [])}
    assert {"payment.captured", "payment.failed", "payment.voided", "payment.authorized"} <= types
    for data in DELIVERIES.values():
        if "get_response_from" in data:
            assert data["get_response_from"] in SCENARIOS


def test_response_schemas_can_fail() -> None:
    payment = SCENARIOS["get_paid"]["response"]["body"]
    schema = ENDPOINTS["GET /v2/payments/{paymentId}"]["responses"]["200"]
    assert not _problems(schema, payment, SCHEMA["$defs"])
    assert _problems(schema, {**payment, "status": "succeeded"}, SCHEMA["$defs"])
    assert _problems(
        schema, {**payment, "amount": {"value": 10, "currency": "EUR"}}, SCHEMA["$defs"]
    )
    assert _problems(schema, {k: v for k, v in payment.items() if k != "_links"}, SCHEMA["$defs"])
    refund = SCENARIOS["get_refund_refunded"]["response"]["body"]
    refund_schema = ENDPOINTS["GET /v2/payments/{paymentId}/refunds/{refundId}"]["responses"]["200"]
    assert not _problems(refund_schema, refund, SCHEMA["$defs"])
    assert _problems(refund_schema, {**refund, "status": "succeeded"}, SCHEMA["$defs"])
    error = SCENARIOS["authorize_401_unauthorized"]["response"]["body"]
    assert _problems(
        {"$ref": "#/$defs/error-response"}, {"error": error["detail"]}, SCHEMA["$defs"]
    )


# --- PayPal and Klarna ------------------------------------------------------------------------


def test_paypal_and_klarna_methods() -> None:
    assert _body("authorize_paypal_requires_action")["method"] == "paypal"
    klarna = _body("authorize_klarna_requires_action")
    assert klarna["method"] == "klarna"
    assert klarna["billingAddress"]["email"] == "piet@example.org"


def test_klarna_lines_follow_mollies_rules() -> None:
    """Mollie's own formulas, computed here from the unified lines: totalAmount = unitPrice *
    quantity - discountAmount, vatAmount = totalAmount * vatRate / (100 + vatRate), and the
    totals add up to the payment amount."""
    from decimal import Decimal

    body = _body("authorize_klarna_requires_action")
    lines = body["lines"]
    assert [line["type"] for line in lines] == ["physical", "shipping_fee", "discount"]
    total = Decimal(0)
    for line in lines:
        unit = Decimal(line["unitPrice"]["value"])
        discount = Decimal(line.get("discountAmount", {}).get("value", "0"))
        line_total = Decimal(line["totalAmount"]["value"])
        assert line_total == unit * line["quantity"] - discount
        if "vatRate" in line:
            rate = Decimal(line["vatRate"])
            expected = (line_total * rate / (100 + rate)).quantize(Decimal("0.01"))
            assert Decimal(line["vatAmount"]["value"]) == expected
        assert {a["currency"] for k, a in line.items() if k.endswith(("Price", "Amount"))} == {
            "EUR"
        }
        total += line_total
    assert total == Decimal(body["amount"]["value"])
    assert lines[2]["unitPrice"]["value"] == "-10.00"  # a discount line is negative


def test_klarna_without_lines_is_refused_before_sending() -> None:
    from engine import InputError

    with pytest.raises(InputError) as caught:
        _build("authorize_klarna_without_lines_refused")
    assert caught.value.pointer == "/line_items"


def test_schema_rejects_a_line_without_total() -> None:
    body = _body("authorize_klarna_requires_action")
    line = {k: v for k, v in body["lines"][0].items() if k != "totalAmount"}
    assert _body_problems("POST /v2/payments", {**body, "lines": [line]})
    wrong = {**body["lines"][0], "type": "service"}
    assert _body_problems("POST /v2/payments", {**body, "lines": [wrong]})
