"""Worldpay-specific checks.

1. Every XML message the spec builds for the scenarios is well-formed, starts with Worldpay's
   DOCTYPE, and is valid against Worldpay's own DTD (paymentService_v1.dtd v1.4.2): element order
   by the content models, required and enumerated attributes, NMTOKEN values. The declarations
   come from processor_schema.json (extracted from the DTD; its "source" key names the file and
   commit), and the validator below is written here, apart from the engine.
2. Every Worldpay answer in the fixtures is valid against the same DTD (realistic shapes).
3. Amounts: value and exponent agree with ISO 4217 for every currency Worldpay can take.
4. Order notifications: unsigned, so parse_event alone refuses them and Client.handle_event
   confirms each one with an order inquiry (answered here by the get scenarios' fixtures).
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from iso4217 import Currency

from engine import Client, HttpResponse, InputError, WebhookError, load_connector

from ..scenarios import response_body

HERE = Path(__file__).parent
SANDBOX = "https://secure-test.worldpay.com"
ENDPOINT = "/jsp/merchant/xml/paymentService.jsp"


def load_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@cache
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "processor_schema.json").read_text(encoding="utf-8"))
    return data


def credentials() -> dict[str, str]:
    data: dict[str, str] = json.loads((HERE / "credentials.json").read_text(encoding="utf-8"))
    return data


SCENARIOS = {p.stem: load_yaml(p) for p in sorted((HERE / "scenarios").glob("*.yaml"))}
NOTIFICATIONS = {p.stem: load_yaml(p) for p in sorted((HERE / "notifications").glob("*.yaml"))}


# --- a DTD validator (content models, attributes) ---------------------------------------------

_TOKEN = re.compile(r"\s*(#PCDATA|[A-Za-z_][\w.:-]*|[(),|?*+])")
_NMTOKEN = re.compile(r"[\w.:-]+")


def _content_regex(model: str) -> re.Pattern[str]:
    """A DTD element-content model → a regex over the child names written as `<name>`."""
    out = []
    pos = 0
    model = model.strip()
    while pos < len(model):
        match = _TOKEN.match(model, pos)
        assert match, f"cannot read content model at {model[pos:]!r}"
        token = match.group(1)
        pos = match.end()
        if token == "(":
            out.append("(?:")
        elif token == ",":
            continue
        elif token in ")|?*+":
            out.append(token)
        else:
            out.append("(?:" + re.escape(f"<{token}>") + ")")
    return re.compile("".join(out))


@cache
def _models() -> dict[str, tuple[str, Any]]:
    """element → ("empty", None) | ("mixed", allowed names) | ("children", regex)."""
    models: dict[str, tuple[str, Any]] = {}
    for name, model in schema()["elements"].items():
        if model == "EMPTY":
            models[name] = ("empty", None)
        elif model.replace(" ", "").startswith("(#PCDATA"):
            names = set(re.findall(r"[A-Za-z_][\w.:-]*", model.replace("#PCDATA", "")))
            models[name] = ("mixed", names)
        else:
            models[name] = ("children", _content_regex(model))
    return models


def dtd_problems(element: ET.Element, path: str = "") -> list[str]:
    """Everything in this element tree that Worldpay's DTD does not allow."""
    where = f"{path}/{element.tag}"
    models = _models()
    if element.tag not in models:
        return [f"{where}: element not declared in the DTD (or not in processor_schema.json)"]
    problems = []
    kind, rule = models[element.tag]
    children = list(element)
    texts = [element.text or ""] + [child.tail or "" for child in children]
    has_text = any(t.strip() for t in texts)
    if kind == "empty" and (children or has_text):
        problems.append(f"{where}: declared EMPTY but has content")
    elif kind == "mixed":
        problems += [f"{where}: <{c.tag}> not allowed here" for c in children if c.tag not in rule]
    elif kind == "children":
        if has_text:
            problems.append(f"{where}: text where the DTD allows only elements")
        sequence = "".join(f"<{child.tag}>" for child in children)
        if not rule.fullmatch(sequence):
            problems.append(f"{where}: children {sequence or '(none)'} break the content model")
    declared = schema()["attributes"].get(element.tag, {})
    for name, value in element.attrib.items():
        spec = declared.get(name)
        if spec is None:
            problems.append(f"{where}/@{name}: attribute not declared")
            continue
        kind_of = spec["type"]
        if isinstance(kind_of, list) and value not in kind_of:
            problems.append(f"{where}/@{name}: {value!r} is not one of {kind_of}")
        elif kind_of == "NMTOKEN" and not _NMTOKEN.fullmatch(value):
            problems.append(f"{where}/@{name}: {value!r} is not an NMTOKEN")
        elif kind_of == "NMTOKENS" and not all(_NMTOKEN.fullmatch(v) for v in value.split()):
            problems.append(f"{where}/@{name}: {value!r} is not NMTOKENS")
    for name, spec in declared.items():
        if spec["required"] and name not in element.attrib:
            problems.append(f"{where}/@{name}: required attribute missing")
    for child in children:
        problems += dtd_problems(child, where)
    return problems


def parse(xml: bytes | str) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 (our own messages and fixtures, no entities)


# --- 1. the messages the spec builds ----------------------------------------------------------


def built_messages() -> list[tuple[str, Any]]:
    connector = load_connector("worldpay")
    built = []
    for name, scenario in SCENARIOS.items():
        if "raises" in scenario["expect"]:
            continue
        request = connector.build_request(scenario["flow"], scenario["request"], credentials())
        built.append((name, request))
    return built


def message_kind(root: ET.Element) -> str:
    """submit/order, modify/orderModification/capture, inquiry/orderInquiry, ..."""
    service = root[0]
    item = service[0]
    kind = f"{service.tag}/{item.tag}"
    if item.tag == "orderModification":
        kind += f"/{item[0].tag}"
    return kind


def test_every_message_is_valid_against_worldpays_dtd() -> None:
    checked = dict.fromkeys(
        [
            "submit/order",
            "modify/orderModification/capture",
            "modify/orderModification/cancel",
            "modify/orderModification/refund",
            "modify/orderModification/cancelOrRefund",
            "modify/paymentTokenDelete",
            "inquiry/orderInquiry",
        ],
        0,
    )
    endpoint_roots = schema()["endpoints"]
    for name, request in built_messages():
        assert request.method == "POST"
        assert request.url == SANDBOX + ENDPOINT, name
        assert f"POST {ENDPOINT}" in endpoint_roots
        assert request.headers["Content-Type"] == "text/xml"
        body = request.body.decode("utf-8")
        declaration, doctype, _ = body.split("\n", 2)
        assert declaration == '<?xml version="1.0" encoding="UTF-8"?>'
        assert doctype == schema()["doctype"], "the DOCTYPE Worldpay's documentation gives"
        root = parse(request.body)  # well-formed
        assert root.tag == endpoint_roots[f"POST {ENDPOINT}"]
        assert root.get("merchantCode") == credentials()["merchant_code"]
        problems = dtd_problems(root)
        assert not problems, f"{name}: " + "; ".join(problems)
        kind = message_kind(root)
        assert kind in checked, f"{name}: unexpected message {kind}"
        checked[kind] += 1
    assert all(count > 0 for count in checked.values()), checked


def _order_message() -> ET.Element:
    connector = load_connector("worldpay")
    scenario = SCENARIOS["authorize_automatic_captured"]
    request = connector.build_request("authorize", scenario["request"], credentials())
    return parse(request.body or b"")


def test_the_dtd_check_rejects_broken_messages() -> None:
    """The check can fail: misordered, missing, unknown and ill-typed parts are caught."""
    root = _order_message()
    assert not dtd_problems(root)
    order = root.find("submit/order")
    assert order is not None
    description, amount = order.find("description"), order.find("amount")
    assert description is not None and amount is not None

    misordered = _order_message()
    mis = misordered.find("submit/order")
    assert mis is not None
    first, second = mis[0], mis[1]
    mis.remove(first)
    mis.insert(1, first)  # amount before description
    assert [c.tag for c in mis][:2] == [second.tag, first.tag]
    assert any("content model" in p for p in dtd_problems(misordered))

    card = _order_message()
    card_ssl = card.find("submit/order/paymentDetails/CARD-SSL")
    assert card_ssl is not None
    cvc = card_ssl.find("cvc")
    holder = card_ssl.find("cardHolderName")
    assert cvc is not None and holder is not None
    card_ssl.remove(holder)  # CARD-SSL requires cardHolderName
    assert any("CARD-SSL" in p for p in dtd_problems(card))

    missing = _order_message()
    missing_order = missing.find("submit/order")
    assert missing_order is not None
    missing_amount = missing_order.find("amount")
    assert missing_amount is not None
    missing_order.remove(missing_amount)
    assert any("content model" in p for p in dtd_problems(missing))

    unknown = _order_message()
    unknown_order = unknown.find("submit/order")
    assert unknown_order is not None
    ET.SubElement(unknown_order, "captureMethod").text = "manual"
    assert any("not declared" in p for p in dtd_problems(unknown))

    exponent = _order_message()
    exponent_amount = exponent.find("submit/order/amount")
    assert exponent_amount is not None
    exponent_amount.set("exponent", "4")
    assert any("exponent" in p for p in dtd_problems(exponent))

    token = _order_message()
    session = token.find("submit/order/paymentDetails/session")
    assert session is not None
    session.set("shopperIPAddress", "203.0.113.7, 10.0.0.1")
    assert any("NMTOKEN" in p for p in dtd_problems(token))

    capture = parse(
        '<paymentService version="1.4" merchantCode="M"><modify><orderModification>'
        '<capture><amount value="1" currencyCode="EUR" exponent="2"/></capture>'
        "</orderModification></modify></paymentService>"
    )
    assert any("orderCode" in p for p in dtd_problems(capture))


def test_card_and_order_fields_are_written_as_worldpay_wants() -> None:
    connector = load_connector("worldpay")
    scenario = SCENARIOS["authorize_automatic_captured"]
    request = connector.build_request("authorize", scenario["request"], credentials())
    order = parse(request.body or b"").find("submit/order")
    assert order is not None
    assert order.get("orderCode") == scenario["request"]["reference"]
    assert order.get("captureDelay") == "0"
    date = order.find("paymentDetails/CARD-SSL/expiryDate/date")
    assert date is not None and (date.get("month"), date.get("year")) == ("03", "2030")
    assert order.findtext("paymentDetails/CARD-SSL/cardNumber") == "4444333322221111"
    assert order.findtext("paymentDetails/CARD-SSL/cardAddress/address/postalCode") == "CB4 0WE"
    assert order.findtext("shopper/shopperEmailAddress") == "jane.doe@example.com"
    assert order.findtext("statementNarrative") == "BOOKSHOP*ORDER7391"
    manual = SCENARIOS["authorize_manual_authorized"]
    request = connector.build_request("authorize", manual["request"], credentials())
    manual_order = parse(request.body or b"").find("submit/order")
    assert manual_order is not None and manual_order.get("captureDelay") == "OFF"
    # No address without the postal code and country the DTD requires of one.
    assert manual_order.find("paymentDetails/CARD-SSL/cardAddress") is None
    assert manual_order.find("shopper") is None


def _built_order(name: str) -> ET.Element:
    scenario = SCENARIOS[name]
    request = load_connector("worldpay").build_request(
        scenario["flow"], scenario["request"], credentials()
    )
    order = parse(request.body or b"").find("submit/order")
    assert order is not None
    return order


def test_stored_credentials_follow_the_request() -> None:
    """usage FIRST / USED, the merchant-initiated reason and the chained scheme id."""
    first = _built_order("authorize_stored_credential_first").find(
        "paymentDetails/storedCredentials"
    )
    assert first is not None and first.attrib == {"usage": "FIRST"} and not list(first)
    mit = _built_order("authorize_merchant_initiated_resubmission")
    stored = mit.find("paymentDetails/storedCredentials")
    assert stored is not None
    assert stored.attrib == {"usage": "USED", "merchantInitiatedReason": "RESUBMISSION"}
    assert stored.findtext("schemeTransactionIdentifier") == "MCC0U7XQ11211"
    assert mit.find("paymentDetails/CARD-SSL/cvc") is None
    recurring = _built_order("charge_recurring_recurring_reason")
    stored = recurring.find("paymentDetails/storedCredentials")
    assert stored is not None and stored.get("merchantInitiatedReason") == "RECURRING"
    assert stored.findtext("schemeTransactionIdentifier") == "060720116005062"
    unscheduled = _built_order("charge_recurring_captured").find("paymentDetails/storedCredentials")
    assert unscheduled is not None and unscheduled.get("merchantInitiatedReason") == "UNSCHEDULED"
    # A payment that says nothing of stored credentials sends none.
    assert (
        _built_order("authorize_automatic_captured").find("paymentDetails/storedCredentials")
        is None
    )


def test_external_3ds_moto_mcc_and_exemption() -> None:
    order = _built_order("authorize_external_3ds")
    info = order.find("paymentDetails/info3DSecure")
    assert info is not None
    assert [child.tag for child in info] == ["threeDSVersion", "dsTransactionId", "cavv", "eci"]
    external = SCENARIOS["authorize_external_3ds"]["request"]["three_ds"]["external"]
    assert info.findtext("cavv") == external["cavv"] and info.findtext("eci") == "05"
    assert order.find("dynamicInteractionType") is None and order.find("exemption") is None
    moto = _built_order("authorize_moto_mcc_exemption_out_of_scope")
    kind = moto.find("dynamicInteractionType")
    assert kind is not None and kind.get("type") == "MOTO"
    assert moto.findtext("dynamicMCC") == "5942"
    exemption = moto.find("exemption")
    assert exemption is not None
    assert exemption.attrib == {"type": "LV", "placement": "AUTHORISATION"}
    assert moto.find("paymentDetails/info3DSecure") is None


def test_basic_auth_and_idempotency_header() -> None:
    connector = load_connector("worldpay")
    scenario = SCENARIOS["capture_full"]
    creds = credentials()
    request = connector.build_request("capture", scenario["request"], creds)
    expected = base64.b64encode(f"{creds['merchant_code']}:{creds['password']}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert "Idempotency-Key" not in request.headers  # off unless Worldpay enabled it
    keyed = {**creds, "username": "XMLUSER1", "idempotency_keys": "on"}
    request = connector.build_request("capture", scenario["request"], keyed)
    expected = base64.b64encode(f"XMLUSER1:{creds['password']}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Idempotency-Key"] == scenario["request"]["idempotency_key"]
    assert creds["password"] not in request.redacted()["body"]


# --- 2. the answers in the fixtures -----------------------------------------------------------


def worldpay_answers() -> list[tuple[str, str]]:
    answers = []
    for name, scenario in SCENARIOS.items():
        text = scenario["response"].get("body_text")
        if text and "<paymentService" in text:
            answers.append((f"scenarios/{name}", text))
    for name, delivery in NOTIFICATIONS.items():
        if "<paymentService" in delivery["body_text"]:
            answers.append((f"notifications/{name}", delivery["body_text"]))
    return answers


ANSWERS = worldpay_answers()


@pytest.mark.parametrize(("name", "text"), ANSWERS, ids=[name for name, _ in ANSWERS])
def test_fixture_answers_are_valid_against_worldpays_dtd(name: str, text: str) -> None:
    root = parse(text.encode("utf-8"))
    assert root.tag == "paymentService" and root.get("version") == "1.4"
    problems = dtd_problems(root)
    assert not problems, f"{name}: " + "; ".join(problems)


def test_fixture_check_can_fail() -> None:
    text = SCENARIOS["refused_51_insufficient_funds"]["response"]["body_text"]
    swapped = text.replace("<lastEvent>REFUSED</lastEvent>\n", "").replace(
        "<riskScore", "<lastEvent>REFUSED</lastEvent>\n<riskScore"
    )
    assert dtd_problems(parse(swapped.encode("utf-8")))


# --- 3. amounts -------------------------------------------------------------------------------


def _iso_currencies() -> list[tuple[str, int]]:
    return sorted({(c.code, c.exponent) for c in Currency if c.exponent in (0, 2, 3)})


def test_value_and_exponent_follow_iso_4217_both_ways() -> None:
    connector = load_connector("worldpay")
    currencies = _iso_currencies()
    assert ("JPY", 0) in currencies and ("KWD", 3) in currencies and ("EUR", 2) in currencies
    for code, exponent in currencies:
        for minor in (0, 7, 1099, 123456):
            request = {
                "connector_transaction_id": "order-7391",
                "amount": minor,
                "currency": code,
            }
            built = connector.build_request("refund", request, credentials())
            amount = parse(built.body or b"").find("modify/orderModification/refund/amount")
            assert amount is not None
            assert (amount.get("value"), amount.get("exponent")) == (str(minor), str(exponent))
            answer = (
                '<paymentService version="1.4" merchantCode="MYMERCHANTECOM"><reply><ok>'
                f'<refundReceived orderCode="order-7391"><amount value="{minor}" '
                f'currencyCode="{code}" exponent="{exponent}" debitCreditIndicator="credit"/>'
                "</refundReceived></ok></reply></paymentService>"
            )
            result = connector.parse_response(
                "refund", request, httpx_response(200, answer.encode())
            )
            assert (result.status, result.amount, result.currency) == ("pending", minor, code)


def httpx_response(status: int, body: bytes) -> HttpResponse:
    return HttpResponse(status_code=status, headers={"Content-Type": "text/xml"}, body=body)


# --- 4. order notifications -------------------------------------------------------------------


def _inquiry_answer(delivery: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = SCENARIOS[delivery["get_response_from"]]["response"]
    return answer


@pytest.mark.parametrize("name", sorted(NOTIFICATIONS))
def test_parse_event_alone_refuses_unsigned_notifications(name: str) -> None:
    delivery = NOTIFICATIONS[name]
    with pytest.raises(WebhookError) as caught:
        load_connector("worldpay").parse_event(
            delivery["body_text"].encode("utf-8"), delivery["headers"]
        )
    assert caught.value.reason == "unconfirmed"


@pytest.mark.parametrize("name", sorted(NOTIFICATIONS))
def test_handle_event_confirms_by_order_inquiry(name: str) -> None:
    delivery = NOTIFICATIONS[name]
    expect = delivery["expect"]
    seen: list[httpx.Request] = []

    def worldpay(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = _inquiry_answer(delivery)
        return httpx.Response(
            answer.get("status", 200),
            headers=answer.get("headers", {"Content-Type": "text/xml"}),
            content=response_body(answer),
        )

    http = httpx.Client(transport=httpx.MockTransport(worldpay))
    client = Client("worldpay", credentials(), http_client=http)
    body = delivery["body_text"].encode("utf-8")
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            client.handle_event(body, delivery["headers"])
        assert caught.value.reason == expect["rejected"]
    else:
        result = client.handle_event(body, delivery["headers"])
        events = [event.to_dict() for event in result.events]
        assert len(events) == len(expect["events"])
        for event, wanted in zip(events, expect["events"], strict=True):
            for field, value in wanted.items():
                assert event[field] == value, f"{field}: {event[field]!r} != {value!r}"
        assert result.to_dict()["acknowledge"] == {
            "status": 200,
            "body": "[OK]",
            "content_type": "text/plain",
        }
    assert [f"{r.method} {r.url.path}" for r in seen] == expect["requests"]
    inquired = []
    for request in seen:
        assert request.url.host == "secure-test.worldpay.com"
        assert request.headers["authorization"].startswith("Basic ")
        inquiry = parse(request.content).find("inquiry/orderInquiry")
        assert inquiry is not None
        inquired.append(inquiry.get("orderCode"))
    assert inquired == expect["inquired"]


def test_notifications_cover_the_outcomes() -> None:
    outcomes = {d["expect"].get("rejected", "confirmed") for d in NOTIFICATIONS.values()}
    assert {"confirmed", "unconfirmed", "unreadable_body"} <= outcomes
    types = {e["type"] for d in NOTIFICATIONS.values() for e in d["expect"].get("events", [])}
    assert {"payment.authorized", "payment.captured", "payment.failed", "payment.voided"} <= types
    for delivery in NOTIFICATIONS.values():
        assert delivery["get_response_from"] in SCENARIOS


def test_stored_credentials_are_written_as_worldpay_wants() -> None:
    connector = load_connector("worldpay")
    setup = SCENARIOS["setup_recurring_token_created"]["request"]
    order = parse(connector.build_request("setup_recurring", setup, credentials()).body or b"")
    first = order.find("submit/order")
    assert first is not None and first.get("captureDelay") == "OFF"
    stored = first.find("paymentDetails/storedCredentials")
    assert stored is not None and stored.attrib == {"usage": "FIRST"}
    assert first.findtext("shopper/authenticatedShopperID") == setup["customer"]["id"]
    token = first.find("createToken")
    assert token is not None and token.get("tokenScope") == "shopper"
    charge = SCENARIOS["charge_recurring_captured"]["request"]
    order = parse(connector.build_request("charge_recurring", charge, credentials()).body or b"")
    later = order.find("submit/order")
    assert later is not None and later.get("captureDelay") == "0"
    assert later.find("paymentDetails/CARD-SSL") is None
    assert later.findtext("paymentDetails/TOKEN-SSL/paymentTokenID") == charge["mandate_id"]
    stored = later.find("paymentDetails/storedCredentials")
    assert stored is not None
    assert stored.attrib == {"usage": "USED", "merchantInitiatedReason": "UNSCHEDULED"}
    assert stored.findtext("schemeTransactionIdentifier") == charge["network_transaction_id"]
    assert later.findtext("shopper/authenticatedShopperID") == charge["customer"]["id"]


# --- verify, reverse, revoke_recurring, get_refund ---------------------------------------------


def _message(flow: str, request: dict[str, Any]) -> ET.Element:
    built = load_connector("worldpay").build_request(flow, request, credentials())
    root = parse(built.body or b"")
    assert not dtd_problems(root)
    return root


def test_verify_is_a_zero_value_order_in_the_currencys_exponent() -> None:
    scenario = SCENARIOS["verify_zero_value_authorised"]
    order = _message("verify", scenario["request"]).find("submit/order")
    assert order is not None
    assert order.get("captureDelay") == "OFF"
    amount = order.find("amount")
    assert amount is not None
    assert amount.attrib == {"value": "0", "currencyCode": "GBP", "exponent": "2"}
    # The exponent follows ISO 4217 without an amount in the request (JPY: 0, BHD: 3).
    for currency, digits in (("JPY", "0"), ("BHD", "3")):
        request = {**scenario["request"], "currency": currency}
        found = _message("verify", request).find("submit/order/amount")
        assert found is not None and found.get("exponent") == digits
    with pytest.raises(InputError, match="currency"):
        load_connector("worldpay").build_request(
            "verify", {**scenario["request"], "currency": "XYZ"}, credentials()
        )


def test_reverse_and_revoke_messages() -> None:
    reverse = _message("reverse", SCENARIOS["reverse_void_received"]["request"])
    modification = reverse.find("modify/orderModification")
    assert modification is not None and modification.get("orderCode") == "order-7393"
    assert [child.tag for child in modification] == ["cancelOrRefund"]
    revoke = _message("revoke_recurring", SCENARIOS["revoke_recurring_token_deleted"]["request"])
    delete = revoke.find("modify/paymentTokenDelete")
    assert delete is not None and delete.get("tokenScope") == "shopper"
    assert [(c.tag, c.text) for c in delete] == [
        ("paymentTokenID", "9914233438430054059"),
        ("authenticatedShopperID", "shopper-4412"),
    ]
    # The DTD check catches a misordered token deletion.
    delete.insert(0, delete[1])
    del delete[2]
    assert dtd_problems(revoke)


def test_get_refund_needs_the_order_and_names_the_latest_refund_only() -> None:
    connector = load_connector("worldpay")
    with pytest.raises(InputError, match="connector_transaction_id"):
        connector.build_request("get_refund", {"connector_refund_id": "r1"}, credentials())
    inquiry = _message("get_refund", SCENARIOS["get_refund_refunded"]["request"]).find(
        "inquiry/orderInquiry"
    )
    assert inquiry is not None and inquiry.get("orderCode") == "order-7391"
    scenario = SCENARIOS["get_refund_refunded"]
    text = scenario["response"]["body_text"]
    for asked, status in (
        ("refund-1-order-7391", "succeeded"),
        ("refund-2-order-7391", "unresolved"),
    ):
        result = connector.parse_response(
            "get_refund",
            {**scenario["request"], "connector_refund_id": asked},
            HttpResponse(200, {"Content-Type": "text/xml"}, text.encode()),
        )
        assert result.status == status, asked
