"""Square-specific checks, against Square's own published description rather than our spec:

- every request the spec builds for a scenario is valid for Square's request schema of that
  endpoint (CreatePaymentRequest, CompletePaymentRequest, RefundPaymentRequest,
  CreateCardRequest; CancelPayment and the GETs take no body), with read-only fields refused;
- every processor response in the fixtures is a valid Square response of that endpoint (so the
  fixtures cannot drift into shapes that only agree with our spec), and every error code in them
  and in the spec's error map is one of Square's ErrorCode values;
- the schema checks can fail: broken bodies are rejected;
- webhook deliveries (webhook_deliveries/*.yaml) are verified and parsed with the notification
  URL setting, and every fixture signature is recomputed here with hmac/hashlib, independently
  of the engine: base64(HMAC-SHA256(signature key, notification URL + raw body)).

The schemas come from processor_schema.json (extracted once from
processor-apis/square/api.json; its "source" key says exactly from where).

The webhook fixtures live in webhook_deliveries/, not webhooks/: Square signs the notification
URL, a setting the shared webhook harness (tests/connectors/test_webhooks.py) does not pass to
parse_event, so they are run here.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator, ValidationError, validators

from engine import (
    Client,
    HttpResponse,
    InputError,
    UnsupportedError,
    WebhookError,
    load_connector,
)
from engine._load import load_spec_file
from engine._tables import expand_tables

from ..endpoints import Endpoints
from ..scenarios import dotted

HERE = Path(__file__).parent
SPEC_PATH = HERE.parents[2] / "specs" / "connectors" / "square.yaml"
SCHEMA: dict[str, Any] = json.loads((HERE / "processor_schema.json").read_text("utf-8"))
ENDPOINTS: dict[str, Any] = SCHEMA["endpoints"]
CREDENTIALS: dict[str, str] = json.loads((HERE / "credentials.json").read_text("utf-8"))
SCENARIOS = {
    path.stem: yaml.safe_load(path.read_text("utf-8"))
    for path in sorted((HERE / "scenarios").glob("*.yaml"))
}
DELIVERIES = {
    path.stem: yaml.safe_load(path.read_text("utf-8"))
    for path in sorted((HERE / "webhook_deliveries").glob("*.yaml"))
}
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
#: Scenarios whose request Square refuses on purpose, and the one schema error each must have.
REFUSED_BY_SQUARE = {
    "authorize_400_reference_too_long": ("reference_id", "is too long"),
    "submit_evidence_text_too_long": ("evidence_text", "is too long"),
}
ERROR_CODES = frozenset(SCHEMA["$defs"]["ErrorCode"]["enum"])
SIGNATURE_HEADER = "x-square-hmacsha256-signature"


# --- Square's schemas, as the tests apply them ---------------------------------------------


def _read_only(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
    """A request must not set what Square marks readOnly (a card's id, brand, last_4 …)."""
    if value:
        yield ValidationError("is read-only: Square sets it, a request may not")


RequestValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"readOnly": _read_only}
)


def _problems(schema: dict[str, Any], instance: Any, *, request: bool = True) -> list[str]:
    cls = RequestValidator if request else Draft202012Validator
    validator = cls({**schema, "$defs": SCHEMA["$defs"]})
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


ENDPOINT_INDEX = Endpoints(ENDPOINTS)
_endpoint = ENDPOINT_INDEX.match


def _build(name: str, step: int = 0) -> Any:
    data = SCENARIOS[name]
    return load_connector("square").build_request(
        data["flow"], data["request"], CREDENTIALS, step=step, steps={}
    )


def _answers(data: dict[str, Any]) -> list[Any]:
    """One answer per request a flow sends (its steps, then its own)."""
    return list(data["responses"]) if "responses" in data else [data["response"]]


def _requests(name: str) -> int:
    flow = SCENARIOS[name]["flow"]
    return len(load_connector("square").plan.flows[flow].steps) + 1


def _body(name: str) -> dict[str, Any]:
    built = _build(name)
    body: dict[str, Any] = json.loads(built.body or b"{}")
    return body


# --- requests ------------------------------------------------------------------------------


def test_schema_source_is_recorded() -> None:
    assert "5733f6624e9a5b930a8426f0e02a6bf7e35c6c0f" in SCHEMA["source"]
    assert SCHEMA["api_version"] == "2025-08-20"
    for entry in ENDPOINTS.values():
        for part in ("body", "response"):
            if entry[part] is not None:
                Draft202012Validator.check_schema({**entry[part], "$defs": SCHEMA["$defs"]})


STEPS = [(name, step) for name in sorted(BUILDABLE) for step in range(_requests(name))]


@pytest.mark.parametrize(("name", "step"), STEPS)
def test_request_matches_square_schema(name: str, step: int) -> None:
    built = _build(name, step)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "connect.squareupsandbox.com"
    key, params = _endpoint(built.method, split.path)
    entry = ENDPOINTS[key]
    for param, value in params.items():
        assert not _problems(entry["path_parameters"][param], value), f"path {param}={value!r}"
    if entry["body"] is None:
        assert not built.body, f"{key} takes no body"
        return
    problems = _problems(entry["body"], json.loads(built.body or b"{}"))
    if name in REFUSED_BY_SQUARE:
        field, message = REFUSED_BY_SQUARE[name]
        assert len(problems) == 1, problems
        assert problems[0].startswith(f"{field}:") and message in problems[0], problems
        return
    assert not problems, f"{name}: {key} body breaks Square's schema: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The test above is not vacuous: each endpoint gets checked, and every body too."""
    ENDPOINT_INDEX.assert_covered((_build(name, step) for name, step in STEPS), ENDPOINTS)


def _set(path: str, value: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = body
        for part in parents:
            node = node.setdefault(part, {})
        if value is _DROP:
            node.pop(last)
        else:
            node[last] = value

    return change


_DROP = object()


@pytest.mark.parametrize(
    ("label", "breaks"),
    [
        ("no source_id", _set("source_id", _DROP)),
        ("no idempotency_key", _set("idempotency_key", _DROP)),
        ("an idempotency key over 45 characters", _set("idempotency_key", "k" * 46)),
        ("the amount as a decimal string", _set("amount_money/amount", "10.00")),
        ("a currency that is not ISO 4217", _set("amount_money/currency", "USDX")),
        ("autocomplete as text", _set("autocomplete", "false")),
        ("a note over 500 characters", _set("note", "n" * 501)),
        ("a statement identifier over 20", _set("statement_description_identifier", "s" * 21)),
        ("a reference over 40 characters", _set("reference_id", "r" * 41)),
        ("a country that is not ISO 3166", _set("billing_address/country", "USA")),
        ("customer_details flag as text", _set("customer_details/customer_initiated", "no")),
    ],
)
def test_schema_rejects_broken_payment_bodies(label: str, breaks: Any) -> None:
    schema = ENDPOINTS["POST /v2/payments"]["body"]
    body = _body("authorize_automatic_completed")
    assert not _problems(schema, body)
    broken = copy.deepcopy(body)
    breaks(broken)
    assert _problems(schema, broken), f"a body with {label} was accepted"


def test_schema_rejects_broken_refund_and_card_bodies() -> None:
    refund = ENDPOINTS["POST /v2/refunds"]["body"]
    good = _body("refund_full")
    assert not _problems(refund, good)
    assert _problems(refund, {k: v for k, v in good.items() if k != "amount_money"})
    assert _problems(refund, {**good, "reason": "x" * 193})
    cards = ENDPOINTS["POST /v2/cards"]["body"]
    card = _body("setup_recurring_card_stored")
    assert not _problems(cards, card)
    assert _problems(cards, {k: v for k, v in card.items() if k != "card"})
    # Read-only fields of a Card may not be sent.
    assert _problems(cards, {**card, "card": {**card["card"], "id": "ccof:x"}})
    assert _problems(cards, {**card, "card": {**card["card"], "last_4": "1111"}})


def test_bodies_by_flow() -> None:
    manual = _body("authorize_manual_approved")
    automatic = _body("authorize_automatic_completed")
    assert manual["autocomplete"] is False and automatic["autocomplete"] is True
    assert automatic["amount_money"] == {"amount": 1000, "currency": "USD"}
    assert automatic["location_id"] == CREDENTIALS["location_id"]
    assert automatic["billing_address"]["locality"] == "New York"
    assert "shipping_address" not in automatic and "customer_id" not in automatic
    on_file = _body("authorize_card_on_file")
    assert on_file["source_id"].startswith("ccof:")
    assert on_file["customer_id"] == "W92WH6P11H4Z77CTET0RNTGFW8"
    assert _body("authorize_jpy_zero_decimal")["amount_money"] == {"amount": 500, "currency": "JPY"}
    assert _body("capture_complete") == {}
    assert _build("void_cancel").body is None
    refund = _body("refund_full")
    assert refund == {
        "idempotency_key": "9b7f2dcf-49da-4411-b23e-a2d6af21333a",
        "payment_id": "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY",
        "amount_money": {"amount": 1000, "currency": "USD"},
        "reason": "Requested by customer",
    }
    assert "reason" not in _body("refund_partial")  # "other" has no text of its own
    mit = _body("charge_recurring_completed")
    assert mit["source_id"] == "ccof:uIbfJXhXETSP197M3GB"
    assert mit["customer_id"] == "VDKXEEKPJN48QDG3BGGFAK05P8"
    assert mit["customer_details"] == {"customer_initiated": False, "seller_keyed_in": False}
    card = _body("setup_recurring_card_stored")
    assert card["card"]["customer_id"] == "VDKXEEKPJN48QDG3BGGFAK05P8"
    assert card["source_id"] == "cnon:uIbfJXhXETSP197M3GB"


def test_text_fields_are_cut_to_squares_limits() -> None:
    data = copy.deepcopy(SCENARIOS["authorize_automatic_completed"]["request"])
    data["description"] = "d" * 900
    data["statement_descriptor"] = "S" * 22
    built = load_connector("square").build_request("authorize", data, CREDENTIALS)
    body = json.loads(built.body or b"{}")
    assert body["note"] == "d" * 500
    assert body["statement_description_identifier"] == "S" * 20
    assert not _problems(ENDPOINTS["POST /v2/payments"]["body"], body)


def test_headers() -> None:
    for name in BUILDABLE:
        built = _build(name)
        headers = {k.lower(): v for k, v in built.headers.items()}
        assert headers["authorization"] == f"Bearer {CREDENTIALS['access_token']}"
        assert headers["square-version"] == SCHEMA["api_version"]
        assert "idempotency-key" not in headers  # Square's key travels in the body
        if built.body:
            assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("flow", "name"),
    [
        ("authorize", "authorize_automatic_completed"),
        ("refund", "refund_full"),
        ("setup_recurring", "setup_recurring_card_stored"),
        ("charge_recurring", "charge_recurring_completed"),
    ],
)
def test_idempotency_key_is_required(flow: str, name: str) -> None:
    """Square requires idempotency_key in these bodies: a direct build without one is refused
    (Client always generates one)."""
    request = {k: v for k, v in SCENARIOS[name]["request"].items() if k != "idempotency_key"}
    with pytest.raises(InputError) as caught:
        load_connector("square").build_request(flow, request, CREDENTIALS)
    assert caught.value.pointer == "/idempotency_key"


def test_client_generates_a_key_that_fits_square() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, json=SCENARIOS["authorize_automatic_completed"]["response"]["body"]
        )

    request = {k: v for k, v in SCENARIOS["authorize_automatic_completed"]["request"].items()}
    request.pop("idempotency_key")
    with Client(
        "square", CREDENTIALS, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as client:
        result = client.authorize(request)
    body = json.loads(sent[0].content)
    assert body["idempotency_key"] == result.idempotency_key
    assert not _problems(ENDPOINTS["POST /v2/payments"]["body"], body)


def test_card_and_wallet_are_refused() -> None:
    square = load_connector("square")
    assert list(square.capabilities.payment_methods) == ["token"]
    with pytest.raises(UnsupportedError):
        square.build_request(
            "authorize",
            {
                "amount": 1000,
                "currency": "USD",
                "idempotency_key": "k",
                "payment_method": {
                    "type": "wallet",
                    "wallet": {"type": "google_pay", "token": "{}"},
                },
            },
            CREDENTIALS,
        )


def test_location_id_is_optional() -> None:
    credentials = {k: v for k, v in CREDENTIALS.items() if k != "location_id"}
    data = SCENARIOS["authorize_automatic_completed"]["request"]
    built = load_connector("square").build_request("authorize", data, credentials)
    assert "location_id" not in json.loads(built.body or b"{}")


def test_partial_capture_is_refused() -> None:
    # partial_capture: false — an amount would be ignored by CompletePayment, so it is refused.
    with pytest.raises(UnsupportedError):
        load_connector("square").build_request(
            "capture",
            {
                "connector_transaction_id": "GQTFp1ZlXdpoW4o6eGiZhbjosiDFf",
                "amount": 400,
                "currency": "USD",
            },
            CREDENTIALS,
        )


# --- responses -----------------------------------------------------------------------------


RESPONDED = [
    (name, step)
    for name, data in sorted(BUILDABLE.items())
    for step, answer in enumerate(_answers(data))
    if answer.get("body")
]


@pytest.mark.parametrize(("name", "step"), RESPONDED)
def test_fixture_response_is_a_square_response(name: str, step: int) -> None:
    answer = _answers(SCENARIOS[name])[step]
    built = _build(name, step)
    key, _ = _endpoint(built.method, urlsplit(built.url).path)
    body = answer["body"]
    problems = _problems(ENDPOINTS[key]["response"], body, request=False)
    assert not problems, f"{name}: not a {ENDPOINTS[key]['operationId']} response: {problems}"
    status = answer.get("status", 200)
    if status >= 400:
        assert body.get("errors"), "a Square error answer has errors[]"
    else:
        assert not body.get("errors")


def test_spec_error_codes_are_square_codes() -> None:
    spec = expand_tables(load_spec_file(SPEC_PATH))[0].data  # table names → their entries
    mapped = set(spec["defaults"]["response"]["error"]["map"])
    documented = {code for entry in ENDPOINTS.values() for code in entry["endpoint_errors"]}
    # ISSUER_INSTALLMENT_ERROR and VERSION_MISMATCH are listed among endpoints' errors but are
    # missing from Square's ErrorCode enum.
    unknown = mapped - ERROR_CODES - documented
    assert not unknown, f"not Square error codes: {sorted(unknown)}"
    # Every error code the payment, refund and card endpoints document is mapped.
    assert not documented - mapped, sorted(documented - mapped)
    # The refund flows read a refund's own status when it carries no error.
    refund_map = spec["flows"]["refund"]["response"]["error"]["map"]
    assert set(refund_map) == {"REJECTED", "FAILED"}


def test_decline_mapping_does_not_depend_on_400_or_402() -> None:
    """Square's sandbox answers declines with HTTP 400; the code decides either way."""
    square = load_connector("square")
    data = SCENARIOS["authorize_declined_cvv_failure"]
    body = json.dumps(data["response"]["body"]).encode()
    for status in (400, 402):
        result = square.parse_response(
            "authorize",
            data["request"],
            HttpResponse(status, {"content-type": "application/json"}, body),
        )
        assert result.error is not None
        assert (result.status, result.error.code) == ("failed", "incorrect_cvc")


# --- webhooks ------------------------------------------------------------------------------


def _signature(key: str, url: str, body: str) -> str:
    mac = hmac.new(key.encode("utf-8"), (url + body).encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def _settings(data: dict[str, Any]) -> dict[str, str]:
    return {**CREDENTIALS, **data.get("credentials", {})}


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_webhook_fixture_signatures(name: str) -> None:
    """Recomputed with the standard library, not the engine."""
    data = DELIVERIES[name]
    header = {k.lower(): v for k, v in data["headers"].items()}.get(SIGNATURE_HEADER)
    expected = _signature(
        data["secret"], _settings(data)["webhook_notification_url"], data["body_text"]
    )
    rejected = data["expect"].get("rejected")
    if rejected == "missing_signature":
        assert header is None
    elif rejected == "bad_signature":
        assert header is not None and header != expected
    else:
        assert header == expected
    event = json.loads(data["body_text"])
    if rejected is None:
        schema = SCHEMA["webhook_events"][event["type"]]
        assert not _problems(schema, event, request=False), event["type"]


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_webhook_delivery(name: str) -> None:
    data = DELIVERIES[name]
    square = load_connector("square")
    body = data["body_text"].encode("utf-8")
    expect = data["expect"]
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            square.parse_event(body, data["headers"], data["secret"], credentials=_settings(data))
        assert caught.value.reason == expect["rejected"]
        assert data["secret"] not in str(caught.value)
        return
    result = square.parse_event(body, data["headers"], data["secret"], credentials=_settings(data))
    events = [event.to_dict() for event in result.events]
    assert len(events) == len(expect["events"])
    for event, wanted in zip(events, expect["events"], strict=True):
        assert event["verified"] is True
        for path, value in wanted.items():
            assert dotted(event, path) == value, f"{path}: {dotted(event, path)!r} != {value!r}"
    assert result.acknowledge_status == 200


def test_webhook_kinds_covered() -> None:
    outcomes = Counter(data["expect"].get("rejected", "accepted") for data in DELIVERIES.values())
    assert outcomes["accepted"] >= 5 and outcomes["missing_signature"] >= 1
    assert outcomes["bad_signature"] >= 3  # wrong key, wrong notification URL, tampered body
    types = {json.loads(d["body_text"])["type"] for d in DELIVERIES.values()}
    assert {"payment.updated", "refund.updated", "dispute.created"} <= types


def test_webhook_needs_the_notification_url() -> None:
    """Without the webhook_notification_url setting a delivery cannot be verified: refused."""
    data = DELIVERIES["payment_updated_completed"]
    settings = {k: v for k, v in CREDENTIALS.items() if k != "webhook_notification_url"}
    with pytest.raises(WebhookError) as caught:
        load_connector("square").parse_event(
            data["body_text"].encode(), data["headers"], data["secret"], credentials=settings
        )
    assert caught.value.reason == "missing_setting"  # named, not blamed on the delivery
    assert "webhook_notification_url" in str(caught.value)
