"""Cashfree-specific checks, against Cashfree's own published OpenAPI description.

cashfree-openapi.yaml here is a verbatim copy of Cashfree's description (cashfree/cashfree-pg :
api/openapi.yaml @ 628e913fd0162ef80c2ad9bea66f72747ae9b378, 2026-02-12, info.version 2025-01-01;
processor-apis/cashfree/openapi.2026-02-12.yaml), its sha256 recorded below.

- every request the spec builds for a scenario (each step of authorize included) is an
  operation of that file, method and path, and its body validates against the operation's own
  request schema (CreateOrderRequest, PayOrderRequest, AuthorizeOrderRequest,
  OrderCreateRefundRequest), resolved from the file's components. The published schemas leave
  objects open; they are checked both as published and closed (every object that lists its
  properties refuses others), so a misspelt field fails too. Negative tests show both can fail;
- headers: the operation's required x-api-version, the security scheme's x-client-id and
  x-client-secret, and on every POST an x-idempotency-key in the UUID format the file gives;
- amounts are JSON numbers in major units with the currency's exact digits (never floats);
- the processor answers in the fixtures validate against the operation's response schema for
  their HTTP status (OrderEntity, PayOrderEntity, PaymentEntity, RefundEntity, the error
  schemas), so a fixture cannot drift into a shape only the spec agrees with;
- webhook fixture signatures are recomputed here with hmac/hashlib, independently of the
  engine: base64(HMAC-SHA256(client secret, x-webhook-timestamp + raw body)) (Cashfree's
  "Webhook Signature Verification").
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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft4Validator

from engine import HttpResponse, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
OPENAPI_PATH = HERE / "cashfree-openapi.yaml"
OPENAPI_SHA256 = "ebfcc29e97873ee0a26158eeba365c6cc68701a57975039c1754aa1ea71cb952"
CREDENTIALS = credentials_for("cashfree")
SCENARIOS = fixtures_of("cashfree", "scenarios")
WEBHOOKS = fixtures_of("cashfree", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
#: Scenarios whose request Cashfree refuses on purpose, and the one schema error each must have.
REFUSED_BY_CASHFREE = {
    # A nine-digit phone: CustomerDetails.customer_phone has minLength/maxLength 10.
    "authorize_order_400_phone_invalid": ("customer_details/customer_phone", "is too short"),
}


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: the file's examples keep their text."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DOCUMENT: dict[str, Any] = yaml.load(OPENAPI_PATH.read_text("utf-8"), Loader=_Loader)  # noqa: S506
#: The operations this spec uses, "METHOD /path" as the file writes them (paths are below /pg).
USED = {
    "POST /orders",
    "POST /orders/sessions",
    "POST /orders/{order_id}/authorization",
    "POST /orders/{order_id}/refunds",
    "GET /orders/{order_id}/payments",
    "GET /orders/{order_id}/refunds/{refund_id}",
}
ENDPOINT_INDEX = Endpoints(f"{key.split()[0]} /pg{key.split()[1]}" for key in USED)


def _operation(key: str) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    operation: dict[str, Any] = DOCUMENT["paths"][path][method.lower()]
    return operation


def _closed(value: Any) -> Any:
    """The schema with every object that lists properties closed (additionalProperties false)."""
    if isinstance(value, dict):
        out = {k: _closed(v) for k, v in value.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(value, list):
        return [_closed(v) for v in value]
    return value


def _any_of(value: Any) -> Any:
    """oneOf read as anyOf (responses only): PaymentEntity_payment_method's members require no
    key, so an answer with a card matches the netbanking member as well; as published no
    answer could validate."""
    if isinstance(value, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_any_of(v) for v in value]
    return value


COMPONENTS = DOCUMENT["components"]
CLOSED_COMPONENTS = _closed(COMPONENTS)
RESPONSE_COMPONENTS = _any_of(COMPONENTS)


def _without_nulls(value: Any) -> Any:
    """An answer with its null members left out: Cashfree answers null for what is absent
    (error_details and authorization are null in its own payments_entity_list_example), and
    the 3.0 file marks nothing nullable."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _validator(schema: dict[str, Any], components: dict[str, Any]) -> Draft4Validator:
    # OpenAPI 3.0 schemas are a JSON Schema draft-4 dialect; refs resolve in the file itself.
    return Draft4Validator({**schema, "components": components})


def _request_schema(key: str) -> dict[str, Any] | None:
    body = _operation(key).get("requestBody")
    if body is None:
        return None
    ref = body["$ref"].split("/")[-1]
    schema: dict[str, Any] = DOCUMENT["components"]["requestBodies"][ref]["content"][
        "application/json"
    ]["schema"]
    return schema


def _problems(key: str, body: Any, *, closed: bool) -> list[str]:
    schema = _request_schema(key)
    assert schema is not None, f"{key} takes no body"
    validator = _validator(schema, CLOSED_COMPONENTS if closed else COMPONENTS)
    return sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(body)
    )


def _built(name: str) -> list[Any]:
    """Every request the scenario's flow sends, each step fed the scenario's earlier answers."""
    data = SCENARIOS[name]
    connector = load_connector("cashfree")
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


def _key_of(request: Any) -> str:
    split = urlsplit(request.url)
    assert split.scheme == "https" and split.netloc == "sandbox.cashfree.com"
    key, _ = ENDPOINT_INDEX.match(request.method, split.path)
    method, path = key.split(" ", 1)
    return f"{method} {path.removeprefix('/pg')}"


# --- the file --------------------------------------------------------------------------------


def test_the_openapi_file_is_the_recorded_copy() -> None:
    assert hashlib.sha256(OPENAPI_PATH.read_bytes()).hexdigest() == OPENAPI_SHA256
    assert DOCUMENT["info"]["version"] == "2025-01-01"
    assert [s["url"] for s in DOCUMENT["servers"]] == [
        "https://sandbox.cashfree.com/pg",
        "https://api.cashfree.com/pg",
    ]


def test_the_spec_follows_the_files_servers_and_version() -> None:
    spec = yaml.safe_load((HERE.parents[2] / "specs/connectors/cashfree.yaml").read_text("utf-8"))
    assert spec["environments"] == {
        "sandbox": "https://sandbox.cashfree.com/pg",
        "production": "https://api.cashfree.com/pg",
    }
    for key in USED:
        version = next(p for p in _operation(key)["parameters"] if p["name"] == "x-api-version")
        assert version["required"] is True and version["schema"]["default"] == "2025-01-01"


# --- requests --------------------------------------------------------------------------------

UUID_FORMAT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_cashfree_operations_with_valid_bodies(name: str) -> None:
    for built in _built(name):
        key = _key_of(built)
        assert key in USED
        # x-client-id + x-client-secret (security XClientID + XClientSecret), x-api-version.
        assert built.headers["x-client-id"] == CREDENTIALS["client_id"]
        assert built.headers["x-client-secret"] == CREDENTIALS["client_secret"]
        assert built.headers["x-api-version"] == "2025-01-01"
        if built.method == "POST":
            assert UUID_FORMAT.match(built.headers["x-idempotency-key"]), key
        else:
            assert "x-idempotency-key" not in built.headers, f"{key}: a read takes no key"
        schema = _request_schema(key)
        if schema is None:
            assert not built.body, f"{key} takes no body"
            continue
        body = json.loads(built.body or b"null")
        published = _problems(key, body, closed=False)
        closed = _problems(key, body, closed=True)
        if name in REFUSED_BY_CASHFREE and key == "POST /orders":
            field, message = REFUSED_BY_CASHFREE[name]
            assert len(published) == 1, published
            assert published[0].startswith(f"{field}:") and message in published[0], published
            continue
        assert not published, f"{name}: {key} breaks Cashfree's schema: {published}"
        assert not closed, f"{name}: {key} sends fields Cashfree's schema lacks: {closed}"


def test_every_operation_is_checked() -> None:
    """The test above is not vacuous: each operation is reached, and each body checked."""
    entries = {
        f"{k.split()[0]} /pg{k.split()[1]}": {"body": _request_schema(k) and {}} for k in USED
    }
    ENDPOINT_INDEX.assert_covered(
        (request for name in BUILDABLE for request in _built(name)), entries
    )


def _body(name: str, index: int) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name)[index].body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "key", "scenario", "index", "edit", "closed_only"),
    [
        (
            "amount as text",
            "POST /orders",
            "authorize_card_redirect",
            0,
            lambda b: b.update(order_amount="1250.50"),
            False,
        ),
        (
            "no customer_details",
            "POST /orders",
            "authorize_card_redirect",
            0,
            lambda b: b.pop("customer_details"),
            False,
        ),
        (
            "no customer_phone",
            "POST /orders",
            "authorize_card_redirect",
            0,
            lambda b: b["customer_details"].pop("customer_phone"),
            False,
        ),
        (
            "a phone with its country code",
            "POST /orders",
            "authorize_card_redirect",
            0,
            lambda b: b["customer_details"].update(customer_phone="+919908734801"),
            False,
        ),
        (
            "an order_id of two characters",
            "POST /orders",
            "authorize_card_redirect",
            0,
            lambda b: b.update(order_id="OR"),
            False,
        ),
        (
            "a misspelt field",
            "POST /orders",
            "authorize_card_redirect",
            0,
            lambda b: b.update(order_amout=b["order_amount"]),
            True,
        ),
        (
            "no payment_session_id",
            "POST /orders/sessions",
            "authorize_card_redirect",
            1,
            lambda b: b.pop("payment_session_id"),
            False,
        ),
        (
            "a card without its channel",
            "POST /orders/sessions",
            "authorize_card_redirect",
            1,
            lambda b: b["payment_method"]["card"].pop("channel"),
            False,
        ),
        (
            "the expiry month as a number",
            "POST /orders/sessions",
            "authorize_card_redirect",
            1,
            lambda b: b["payment_method"]["card"].update(card_expiry_mm=6),
            False,
        ),
        (
            "an unknown UPI channel",
            "POST /orders/sessions",
            "authorize_upi_intent_deeplink",
            1,
            lambda b: b["payment_method"]["upi"].update(channel="intent"),
            False,
        ),
        (
            "a card and UPI at once",
            "POST /orders/sessions",
            "authorize_upi_collect_pending",
            1,
            lambda b: b["payment_method"].update(card={"channel": "link"}),
            False,
        ),
        (
            "a misspelt VPA field",
            "POST /orders/sessions",
            "authorize_upi_collect_pending",
            1,
            lambda b: b["payment_method"]["upi"].update(vpa=b["payment_method"]["upi"]["upi_id"]),
            True,
        ),
    ],
)
def test_the_schemas_reject_broken_bodies(
    label: str, key: str, scenario: str, index: int, edit: Any, closed_only: bool
) -> None:
    body = _body(scenario, index)
    assert _problems(key, body, closed=True) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(key, broken, closed=True), label
    assert bool(_problems(key, broken, closed=False)) is not closed_only, label


@pytest.mark.parametrize(
    ("edit", "closed_only"),
    [
        (lambda b: b.update(action="REFUND"), False),
        (lambda b: b.update(amount="1000.00"), False),
        (lambda b: b.update(captured_amount=b.get("amount")), True),
    ],
)
def test_the_authorization_schema_rejects_broken_bodies(edit: Any, closed_only: bool) -> None:
    body = _body("capture_partial", 0)
    assert body == {"action": "CAPTURE", "amount": 1000.0}
    broken = copy.deepcopy(body)
    edit(broken)
    key = "POST /orders/{order_id}/authorization"
    assert _problems(key, broken, closed=True)
    assert bool(_problems(key, broken, closed=False)) is not closed_only


def test_the_refund_schema_rejects_broken_bodies() -> None:
    key = "POST /orders/{order_id}/refunds"
    body = _body("refund_partial_pending", 0)
    assert body == {
        "refund_amount": 500.0,
        "refund_id": "rfnd-2001",
        "refund_note": "requested_by_customer",
    }
    for edit in (
        lambda b: b.pop("refund_id"),
        lambda b: b.pop("refund_amount"),
        lambda b: b.update(refund_speed="FAST"),
        lambda b: b.update(refund_id="r1"),
    ):
        broken = copy.deepcopy(body)
        edit(broken)
        assert _problems(key, broken, closed=False)


@pytest.mark.parametrize(
    ("name", "index", "field", "written"),
    [
        ("authorize_card_redirect", 0, "order_amount", "1250.50"),
        ("authorize_card_manual_without_reference", 0, "order_amount", "999.00"),
        ("capture_partial", 0, "amount", "1000.00"),
        ("refund_partial_pending", 0, "refund_amount", "500.00"),
    ],
)
def test_amounts_are_exact_major_unit_numbers(
    name: str, index: int, field: str, written: str
) -> None:
    body = _built(name)[index].body or b""
    assert f'"{field}":{written}'.encode() in body  # a JSON number, not a string
    assert json.loads(body, parse_float=Decimal)[field] == Decimal(written)


def test_each_request_of_a_call_has_its_own_idempotency_key() -> None:
    order, pay = _built("authorize_card_redirect")
    keys = [order.headers["x-idempotency-key"], pay.headers["x-idempotency-key"]]
    assert keys[0] != keys[1] and all(str(uuid.UUID(k)) == k for k in keys)
    again = _built("authorize_card_redirect")
    assert [r.headers["x-idempotency-key"] for r in again] == keys  # a retry resends them
    assert order.carries_key and pay.carries_key


def test_upi_channels_and_the_one_time_mandate() -> None:
    def upi(name: str) -> dict[str, Any]:
        method: dict[str, Any] = _body(name, 1)["payment_method"]
        assert set(method) == {"upi"}
        upi_object: dict[str, Any] = method["upi"]
        return upi_object

    assert upi("authorize_upi_collect_pending") == {"channel": "collect", "upi_id": "rohit@okicici"}
    assert upi("authorize_upi_collect_manual_authorize_only") == {
        "channel": "collect",
        "upi_id": "rohit@okicici",
        "authorize_only": True,
    }
    assert upi("authorize_upi_intent_deeplink") == {"channel": "link"}
    assert upi("authorize_upi_qr") == {"channel": "link"}
    banking = _body("authorize_netbanking_redirect", 1)["payment_method"]
    assert banking == {"netbanking": {"channel": "link", "netbanking_bank_code": 3003}}


def test_the_customer_phone_is_ten_digits_and_the_derived_ids_are_cashfrees() -> None:
    order = _body("authorize_card_manual_without_reference", 0)
    assert order["customer_details"]["customer_phone"] == "9908734801"  # +91 dropped
    # Without a reference the order_id is derived from the key: alphanumeric, 3-45 long.
    assert re.fullmatch(r"[0-9a-f]{32}", order["order_id"])
    assert order["order_id"] == _body("authorize_card_manual_without_reference", 0)["order_id"]


# --- answers ---------------------------------------------------------------------------------


def _answers() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        if "raises" in data["expect"]:
            continue
        answers = data["responses"] if "responses" in data else [data["response"]]
        built = _built(name)
        for request, answer in zip(built, answers, strict=False):
            if "body" in answer:
                found.append((name, _key_of(request), answer))
    return found


@pytest.mark.parametrize(("name", "key", "answer"), _answers(), ids=lambda v: str(v)[:50])
def test_fixture_answers_match_the_published_response_schemas(
    name: str, key: str, answer: dict[str, Any]
) -> None:
    responses = _operation(key)["responses"]
    assert str(answer["status"]) in responses, f"{name}: {key} documents no {answer['status']}"
    schema = responses[str(answer["status"])]["content"]["application/json"]["schema"]
    validator = _validator(schema, RESPONSE_COMPONENTS)
    errors = [e.message for e in validator.iter_errors(_without_nulls(answer["body"]))]
    assert errors == [], name
    if answer["status"] == 200 and key == "POST /orders":
        assert answer["body"]["payment_session_id"].startswith("session_")


def test_cashfrees_own_examples_pass_the_same_response_check() -> None:
    """The relaxations above (nulls as absent, oneOf as anyOf) are what Cashfree's own examples
    need, so the fixtures are held to exactly the file's standard."""
    examples = DOCUMENT["components"]["examples"]
    payments = examples["payments_entity_list_example"]["value"]
    refunds = examples["refunds_entity_example"]["value"]
    listed = _operation("GET /orders/{order_id}/payments")["responses"]["200"]["content"]
    validator = _validator(listed["application/json"]["schema"], RESPONSE_COMPONENTS)
    assert not list(validator.iter_errors(_without_nulls(payments)))
    assert list(_validator(listed["application/json"]["schema"], COMPONENTS).iter_errors(payments))
    refund_schema = _validator({"$ref": "#/components/schemas/RefundEntity"}, RESPONSE_COMPONENTS)
    for refund in refunds:
        assert not list(refund_schema.iter_errors(_without_nulls(refund)))


def test_the_response_schemas_can_fail() -> None:
    payment = SCENARIOS["get_captured_card"]["response"]["body"][0]
    schema = _operation("GET /orders/{order_id}/payments")["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    validator = _validator(schema, RESPONSE_COMPONENTS)
    payment = _without_nulls(payment)
    assert not list(validator.iter_errors([payment]))
    for edit in (
        lambda p: p.update(payment_status="CAPTURED"),
        lambda p: p.update(payment_amount="1250.50"),
        lambda p: p.update(is_captured="true"),
    ):
        broken = copy.deepcopy(payment)
        edit(broken)
        assert list(validator.iter_errors([broken]))


# --- webhooks --------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_body"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    data = WEBHOOKS[name]
    headers = {k.lower(): v for k, v in data["headers"].items()}
    if "x-webhook-signature" not in headers:
        assert name == "missing_signature"
        return
    message = (headers["x-webhook-timestamp"] + data["body_text"]).encode()
    digest = hmac.new(data["secret"].encode(), message, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    matches = hmac.compare_digest(expected, headers["x-webhook-signature"])
    assert matches == (name not in SIGNED_ELSEWHERE), name


def test_webhook_bodies_keep_cashfrees_decimals_and_timestamps_are_milliseconds() -> None:
    for name, data in WEBHOOKS.items():
        body = data["body_text"]
        assert re.search(r'"(payment|refund)_amount":\d+\.\d{2}[,}]', body), name
        stamp = data["headers"]["x-webhook-timestamp"]
        if name != "timestamp_in_seconds_is_refused":
            assert len(stamp) == 13, name


def test_payment_webhook_bodies_match_the_published_callback() -> None:
    """components.callbacks.PaymentWebhook: the payment webhook's body (data.order,
    data.payment as a PaymentEntity, customer_details…; event_time, type)."""
    callback = DOCUMENT["components"]["callbacks"]["PaymentWebhook"]["object Object"]
    schema = callback["post"]["requestBody"]["content"]["application/json"]["schema"]
    validator = _validator(schema, RESPONSE_COMPONENTS)
    checked = 0
    for name, data in WEBHOOKS.items():
        body = json.loads(data["body_text"])
        if not body["type"].startswith("PAYMENT_"):
            continue
        assert not [e.message for e in validator.iter_errors(_without_nulls(body))], name
        checked += 1
    assert checked >= 4
    broken = json.loads(WEBHOOKS["payment_success_card"]["body_text"])
    broken["data"]["payment"]["payment_amount"] = "1250.50"
    assert list(validator.iter_errors(_without_nulls(broken)))


def test_webhook_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {
        ("payment.captured",),
        ("payment.authorized",),
        ("payment.failed",),
        ("refund.succeeded",),
        ("refund.failed",),
    } <= outcomes
    assert rejections == {"bad_signature", "stale_timestamp", "missing_signature"}
