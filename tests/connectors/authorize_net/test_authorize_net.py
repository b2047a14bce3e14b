"""Authorize.net-specific checks:

- every request the spec builds for a scenario is checked against Authorize.net's own published
  schema, the XSD (processor_schema.json holds the content models of the request elements,
  extracted from AnetApiSchema.xsd): the JSON body is turned into XML elements (mappings →
  child elements in order, lists → repeated elements) and each element's children must follow
  its type's xs:sequence/xs:choice in order, with their occurrence bounds, and every value must
  satisfy its simple type's facets (lengths, patterns, decimals);
- the check can fail: out-of-order, unknown, missing, too long and ill-typed elements are
  rejected, and one scenario whose mandate is not Authorize.net's is expected to break the XSD
  (the processor answers it E00003);
- webhook fixture signatures are recomputed here with hmac/hashlib, independently of the engine;
- credentials sit first in the request object, as the XSD's ANetApiRequest wants: in
  createTransactionRequest and, for get/get_refund (request.auth_pointer), in
  getTransactionDetailsRequest {merchantAuthentication, transId}.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from engine import HttpResponse, load_connector

from ..scenarios import credentials_for, fixtures_of, processor_schema

HERE = Path(__file__).parent
SCHEMA = processor_schema("authorize_net")
TYPES: dict[str, Any] = copy.deepcopy(SCHEMA["types"])
#: Elements Authorize.net added to transactionRequestType after the 2016 XSD, which the spec
#: sends: the card-on-file flags and the merchant-initiated chaining of the API reference's
#: createTransactionRequest ("Charge a Credit Card" example; after userFields, in this order:
#: processingOptions {isFirstRecurringPayment, isFirstSubsequentAuth, isSubsequentAuth,
#: isStoredCredentials}, subsequentAuthInformation {originalNetworkTransId, originalAuthAmount,
#: reason}). Each is appended at its place, so the rest of the body stays checked.
LATER_TYPES: dict[str, Any] = {
    "processingOptionsType": {
        "kind": "complex",
        "content": {
            "sequence": [
                {"element": name, "type": "xs:boolean", "min": 0, "max": 1}
                for name in (
                    "isFirstRecurringPayment",
                    "isFirstSubsequentAuth",
                    "isSubsequentAuth",
                    "isStoredCredentials",
                )
            ],
            "min": 1,
            "max": 1,
        },
    },
    "subsequentAuthInformationType/originalNetworkTransId": {
        "kind": "simple",
        "base": "xs:string",
        "facets": {"minLength": 1, "maxLength": 255},
    },
    "subsequentAuthInformationType/reason": {
        "kind": "simple",
        "base": "xs:string",
        "facets": {"enumeration": ["resubmission", "delayedCharge", "reauthorization", "noShow"]},
    },
    "subsequentAuthInformationType": {
        "kind": "complex",
        "content": {
            "sequence": [
                {
                    "element": "originalNetworkTransId",
                    "type": "subsequentAuthInformationType/originalNetworkTransId",
                    "min": 0,
                    "max": 1,
                },
                {"element": "originalAuthAmount", "type": "xs:decimal", "min": 0, "max": 1},
                {
                    "element": "reason",
                    "type": "subsequentAuthInformationType/reason",
                    "min": 0,
                    "max": 1,
                },
            ],
            "min": 1,
            "max": 1,
        },
    },
}
TYPES.update(LATER_TYPES)
TYPES["transactionRequestType"]["content"]["sequence"] += [
    {"element": "processingOptions", "type": "processingOptionsType", "min": 0, "max": 1},
    {
        "element": "subsequentAuthInformation",
        "type": "subsequentAuthInformationType",
        "min": 0,
        "max": 1,
    },
]
CREDENTIALS = credentials_for("authorize_net")
SCENARIOS = fixtures_of("authorize_net", "scenarios")
WEBHOOKS = fixtures_of("authorize_net", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
#: Scenarios whose body is meant to break the XSD (the processor answers E00003), and the
#: element the check must name.
XSD_INVALID = {"charge_recurring_e00003_parse_error": "customerProfileId"}
ENDPOINT = "POST /xml/v1/request.api"


# --- JSON → XML ----------------------------------------------------------------------------------


def to_xml(name: str, value: Any) -> ET.Element:
    """The XML element Authorize.net reads for a JSON member: a mapping gives child elements in
    its key order, a list repeated elements of one name, a scalar the text."""
    element = ET.Element(name)
    if isinstance(value, dict):
        for key, item in value.items():
            for child in _members(key, item):
                element.append(child)
    elif isinstance(value, list):
        raise ValueError(f"{name}: a list must be a member of an object")
    else:
        element.text = _text(value)
    return element


def _members(key: str, value: Any) -> list[ET.Element]:
    if isinstance(value, list):
        return [to_xml(key, item) for item in value]
    return [to_xml(key, value)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        raise ValueError("null has no XML form")
    return str(value)


# --- the XSD content models ----------------------------------------------------------------------


class Mismatch(Exception):
    pass


def _first(particle: dict[str, Any]) -> set[str]:
    """Element names that can start a particle."""
    if "element" in particle:
        return {particle["element"]}
    if "choice" in particle:
        return set().union(*(_first(p) for p in particle["choice"]))
    names: set[str] = set()
    for part in particle["sequence"]:
        names |= _first(part)
        if _min(part) > 0:
            break
    return names


def _min(particle: dict[str, Any]) -> int:
    if particle["min"] == 0:
        return 0
    if "element" in particle:
        return int(particle["min"])
    if "choice" in particle:
        return int(particle["min"]) * min(_min(p) for p in particle["choice"])
    return int(particle["min"]) * sum(_min(p) for p in particle["sequence"])


class Validator:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def element(self, node: ET.Element, type_name: str, path: str) -> None:
        if type_name.startswith("xs:"):
            self._simple(node, type_name, {}, path)
            return
        declared = TYPES[type_name]
        if declared["kind"] == "simple":
            self._simple(node, declared["base"], declared["facets"], path)
            return
        if node.text and node.text.strip():
            self.problems.append(f"{path}: text where elements are expected")
            return
        children = list(node)
        try:
            position = self._match(declared["content"], children, 0, path)
        except Mismatch as exc:
            self.problems.append(str(exc))
            return
        if position < len(children):
            self.problems.append(
                f"{path}: unexpected element <{children[position].tag}> (unknown here, or out of "
                "the XSD's order)"
            )

    def _match(
        self, particle: dict[str, Any], children: list[ET.Element], i: int, path: str
    ) -> int:
        count = 0
        high = particle["max"]
        while high is None or count < high:
            j = self._once(particle, children, i, path)
            if j is None or j == i:
                break
            i, count = j, count + 1
        if count < particle["min"] and _min(particle) > 0:
            found = f"<{children[i].tag}>" if i < len(children) else "the end"
            want = sorted(_first(particle))
            raise Mismatch(f"{path}: expected {' or '.join(want)} but found {found}")
        return i

    def _once(
        self, particle: dict[str, Any], children: list[ET.Element], i: int, path: str
    ) -> int | None:
        if "element" in particle:
            if i < len(children) and children[i].tag == particle["element"]:
                self.element(children[i], particle["type"], f"{path}/{particle['element']}")
                return i + 1
            return None
        if "choice" in particle:
            if i >= len(children):
                return None
            for option in particle["choice"]:
                if children[i].tag in _first(option):
                    return self._match({**option, "min": 1, "max": 1}, children, i, path)
            return None
        if i < len(children) and children[i].tag not in _first(particle) and _min(particle) > 0:
            return None
        for part in particle["sequence"]:
            i = self._match(part, children, i, path)
        return i

    def _simple(self, node: ET.Element, base: str, facets: dict[str, Any], path: str) -> None:
        if len(node):
            self.problems.append(f"{path}: elements where a value is expected")
            return
        text = node.text or ""
        for facet, limit in facets.items():
            if facet == "maxLength" and len(text) > limit:
                self.problems.append(f"{path}: {text!r} is longer than {limit}")
            elif facet == "minLength" and len(text) < limit:
                self.problems.append(f"{path}: {text!r} is shorter than {limit}")
            elif facet == "length" and len(text) != limit:
                self.problems.append(f"{path}: {text!r} is not {limit} long")
            elif facet == "pattern" and not any(re.fullmatch(p, text) for p in limit):
                self.problems.append(f"{path}: {text!r} does not match {limit}")
            elif facet == "enumeration" and text not in limit:
                self.problems.append(f"{path}: {text!r} is not one of {limit}")
            elif facet in ("minInclusive", "maxInclusive", "fractionDigits", "totalDigits"):
                self._decimal_facet(text, facet, limit, path)
        if base.startswith("xs:"):
            self._builtin(text, base, path)
        else:
            declared = TYPES[base]
            self._simple(node, declared["base"], declared["facets"], path)

    def _decimal_facet(self, text: str, facet: str, limit: Any, path: str) -> None:
        try:
            value = Decimal(text)
        except InvalidOperation:
            return  # the builtin check reports it
        exponent = value.as_tuple().exponent
        if facet == "minInclusive" and value < Decimal(limit):
            self.problems.append(f"{path}: {text} is below {limit}")
        elif facet == "maxInclusive" and value > Decimal(limit):
            self.problems.append(f"{path}: {text} is above {limit}")
        elif facet == "fractionDigits" and isinstance(exponent, int) and -exponent > limit:
            self.problems.append(f"{path}: {text} has more than {limit} decimals")
        elif facet == "totalDigits" and len(value.as_tuple().digits) > limit:
            self.problems.append(f"{path}: {text} has more than {limit} digits")

    def _builtin(self, text: str, base: str, path: str) -> None:
        checks = {
            "xs:string": lambda t: True,
            "xs:anyType": lambda t: True,
            "xs:decimal": lambda t: re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", t) is not None,
            "xs:boolean": lambda t: t in ("true", "false", "1", "0"),
            "xs:int": lambda t: re.fullmatch(r"[+-]?\d+", t) is not None,
            "xs:long": lambda t: re.fullmatch(r"[+-]?\d+", t) is not None,
        }
        if base not in checks:
            self.problems.append(f"{path}: no check for the XSD type {base}")
        elif not checks[base](text):
            self.problems.append(f"{path}: {text!r} is not a valid {base}")


def xsd_problems(body: Any) -> list[str]:
    """Everything in a JSON request body that Authorize.net's XSD refuses."""
    if not isinstance(body, dict) or len(body) != 1:
        return ["<root>: the body must be one object with one member, the request element"]
    ((root, value),) = body.items()
    roots = SCHEMA["endpoints"][ENDPOINT]["root_elements"]
    if root not in roots:
        return [f"<root>: {root} is not a request element this spec may send"]
    validator = Validator()
    validator.element(to_xml(root, value), roots[root], root)
    return validator.problems


# --- building the scenarios' requests ------------------------------------------------------------


def _build(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("authorize_net").build_request(data["flow"], data["request"], CREDENTIALS)


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_build(name).body)
    return body


def test_schema_source_is_recorded() -> None:
    assert "9bed47fe0ccd1ee5b54d75b9e7c866eb5ad223e9" in SCHEMA["source"]
    assert SCHEMA["namespace"] == "AnetApi/xml/v1/schema/AnetApiSchema.xsd"
    for name, declared in TYPES.items():
        assert declared["kind"] in ("simple", "complex"), name


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_request_matches_authorize_net_xsd(name: str) -> None:
    built = _build(name)
    split = urlsplit(built.url)
    assert (built.method, split.scheme, split.netloc) == ("POST", "https", "apitest.authorize.net")
    assert f"{built.method} {split.path}" in SCHEMA["endpoints"]
    assert built.headers["Content-Type"] == "application/json"
    problems = xsd_problems(json.loads(built.body))
    if name in XSD_INVALID:
        assert problems and all(XSD_INVALID[name] in p for p in problems), problems
    else:
        assert not problems, f"{name}: the body breaks Authorize.net's XSD: {problems}"


def test_every_request_kind_is_checked() -> None:
    """The test above is not vacuous: each request element and each transactionType the spec
    sends is among the checked bodies."""
    roots: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for name in BUILDABLE:
        if name in XSD_INVALID:
            continue
        body = _body(name)
        ((root, value),) = body.items()
        roots[root] += 1
        if root == "createTransactionRequest":
            kinds[value["transactionRequest"]["transactionType"]] += 1
    assert (
        set(roots)
        == set(SCHEMA["endpoints"][ENDPOINT]["root_elements"])
        == {
            "createTransactionRequest",
            "getTransactionDetailsRequest",
            "deleteCustomerPaymentProfileRequest",
        }
    )
    assert roots["getTransactionDetailsRequest"] >= 2, roots
    assert set(kinds) == {
        "authCaptureTransaction",
        "authOnlyTransaction",
        "priorAuthCaptureTransaction",
        "voidTransaction",
        "refundTransaction",
    }
    assert all(count >= 2 for count in kinds.values()), kinds


def _swap(mapping: dict[str, Any], first: str, second: str) -> dict[str, Any]:
    keys = list(mapping)
    a, b = keys.index(first), keys.index(second)
    keys[a], keys[b] = keys[b], keys[a]
    return {key: mapping[key] for key in keys}


def _insert_after(mapping: dict[str, Any], after: str, key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, item in mapping.items():
        out[name] = item
        if name == after:
            out[key] = value
    return out


def _request(body: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = body["createTransactionRequest"]["transactionRequest"]
    return inner


def _with_request(body: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(body)
    broken["createTransactionRequest"]["transactionRequest"] = request
    return broken


BREAKS = [
    ("amount after payment", lambda r: _swap(r, "amount", "payment"), "transactionRequest"),
    ("billTo before customer", lambda r: _swap(r, "customer", "billTo"), "transactionRequest"),
    ("an element the XSD does not have", lambda r: {**r, "metadata": "x"}, "metadata"),
    (
        "no transactionType",
        lambda r: {k: v for k, v in r.items() if k != "transactionType"},
        "transactionType",
    ),
    (
        "a 21-character invoiceNumber",
        lambda r: {**r, "order": {"invoiceNumber": "x" * 21}},
        "invoiceNumber",
    ),
    ("an amount that is not a decimal", lambda r: {**r, "amount": "45,99"}, "amount"),
    (
        "a card code with letters",
        lambda r: {
            **r,
            "payment": {"creditCard": {**r["payment"]["creditCard"], "cardCode": "12a"}},
        },
        "cardCode",
    ),
    (
        "a 19-digit card number",
        lambda r: {
            **r,
            "payment": {"creditCard": {**r["payment"]["creditCard"], "cardNumber": "4" * 19}},
        },
        "cardNumber",
    ),
    (
        "both a card and opaque data",
        lambda r: {
            **r,
            "payment": {**r["payment"], "opaqueData": {"dataDescriptor": "d", "dataValue": "v"}},
        },
        "payment",
    ),
    (
        "expirationDate before cardNumber",
        lambda r: {
            **r,
            "payment": {
                "creditCard": _swap(r["payment"]["creditCard"], "cardNumber", "expirationDate")
            },
        },
        "creditCard",
    ),
    (
        "createProfile as text",
        lambda r: _insert_after(r, "payment", "profile", {"createProfile": "yes"}),
        "createProfile",
    ),
    (
        "profile before payment",
        lambda r: _insert_after(r, "amount", "profile", {"createProfile": True}),
        "transactionRequest",
    ),
]


@pytest.mark.parametrize(("label", "breaks", "where"), BREAKS, ids=[b[0] for b in BREAKS])
def test_xsd_check_rejects_broken_bodies(label: str, breaks: Any, where: str) -> None:
    body = _body("authorize_automatic_captured")
    assert not xsd_problems(body)
    problems = xsd_problems(_with_request(body, breaks(_request(body))))
    assert problems, f"a body with {label} was accepted"
    assert any(where in p for p in problems), problems


def _details(transaction: dict[str, Any]) -> dict[str, Any]:
    return {"getTransactionDetailsRequest": transaction}


DETAILS_BREAKS = [
    ("transId before the credentials", lambda r: _swap(r, "merchantAuthentication", "transId")),
    ("no transId", lambda r: {k: v for k, v in r.items() if k != "transId"}),
    ("no credentials", lambda r: {k: v for k, v in r.items() if k != "merchantAuthentication"}),
    ("a transId that is not numeric", lambda r: {**r, "transId": "tx-60219376102"}),
    ("two transIds", lambda r: {**r, "transId": ["60219376102", "60219412987"]}),
    ("an element the XSD does not have", lambda r: {**r, "includeStatistics": True}),
    ("refId after transId", lambda r: {**r, "refId": "GET-1"}),
]


@pytest.mark.parametrize(("label", "breaks"), DETAILS_BREAKS, ids=[b[0] for b in DETAILS_BREAKS])
def test_xsd_check_rejects_broken_details_requests(label: str, breaks: Any) -> None:
    body = _body("get_settled")
    inner = body["getTransactionDetailsRequest"]
    assert list(inner) == ["merchantAuthentication", "transId"]
    assert not xsd_problems(body)
    # refId (optional, from ANetApiRequest) belongs between the credentials and transId.
    assert not xsd_problems(_details(_insert_after(inner, "merchantAuthentication", "refId", "r")))
    problems = xsd_problems(_details(breaks(copy.deepcopy(inner))))
    assert problems, f"a getTransactionDetailsRequest with {label} was accepted"
    assert all(p.startswith("getTransactionDetailsRequest") for p in problems), problems


def test_xsd_check_rejects_misplaced_credentials_and_roots() -> None:
    body = _body("capture_partial")
    outer = body["createTransactionRequest"]
    assert next(iter(outer)) == "merchantAuthentication"
    assert xsd_problems(
        {"createTransactionRequest": _swap(outer, "merchantAuthentication", "refId")}
    )
    assert xsd_problems(
        {
            "createTransactionRequest": {
                k: v for k, v in outer.items() if k != "merchantAuthentication"
            }
        }
    )
    assert xsd_problems({"getTransactionDetailsRequest": {"transId": "60219376102"}})
    assert xsd_problems({**body, "refId": "x"})


def test_json_to_xml_keeps_order_and_repeats_lists() -> None:
    element = to_xml(
        "userFields", {"userField": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}
    )
    assert [child.tag for child in element] == ["userField", "userField"]
    assert [[g.tag for g in child] for child in element] == [["name", "value"]] * 2
    assert to_xml("createProfile", True).text == "true"
    assert (
        ET.tostring(to_xml("a", {"b": "1", "c": {"d": "2"}})) == b"<a><b>1</b><c><d>2</d></c></a>"
    )


# --- what the spec puts in the bodies -------------------------------------------------------------


def test_credentials_first_in_every_request() -> None:
    for name in BUILDABLE:
        ((root, outer),) = _body(name).items()
        assert root in (
            "createTransactionRequest",
            "getTransactionDetailsRequest",
            "deleteCustomerPaymentProfileRequest",
        ), name
        assert next(iter(outer)) == "merchantAuthentication"
        assert outer["merchantAuthentication"] == {
            "name": CREDENTIALS["api_login_id"],
            "transactionKey": CREDENTIALS["transaction_key"],
        }
        headers = {k.lower() for k in _build(name).headers}
        assert headers == {"content-type"}, headers  # no idempotency header: Authorize.net has none


def test_authorize_bodies() -> None:
    automatic = _request(_body("authorize_automatic_captured"))
    manual = _request(_body("authorize_manual_authorized"))
    token = _request(_body("authorize_accept_js_token"))
    assert automatic["transactionType"] == "authCaptureTransaction"
    assert manual["transactionType"] == "authOnlyTransaction"
    assert (automatic["amount"], automatic["currencyCode"]) == ("45.99", "USD")
    assert automatic["payment"]["creditCard"]["expirationDate"] == "2030-12"
    assert manual["payment"]["creditCard"]["expirationDate"] == "2029-04"
    # The reference is cut to the 20 characters invoiceNumber and refId allow.
    assert automatic["order"]["invoiceNumber"] == "ORDER-2024-05-14-000"
    assert automatic["billTo"]["address"] == "14 Main Street, Suite 200"
    nonce = SCENARIOS["authorize_accept_js_token"]["request"]["payment_method"]["token"]
    assert token["payment"] == {
        "opaqueData": {"dataDescriptor": "COMMON.ACCEPT.INAPP.PAYMENT", "dataValue": nonce}
    }


def test_capture_void_refund_bodies() -> None:
    full = _request(_body("capture_full"))
    partial = _request(_body("capture_partial"))
    void = _request(_body("void"))
    refund = _request(_body("refund_partial"))
    assert full == {"transactionType": "priorAuthCaptureTransaction", "refTransId": "60219380433"}
    assert partial["amount"] == "80.00"
    assert void == {"transactionType": "voidTransaction", "refTransId": "60219380433"}
    assert refund == {
        "transactionType": "refundTransaction",
        "amount": "20.00",
        "payment": {"creditCard": {"cardNumber": "1111", "expirationDate": "XXXX"}},
        "refTransId": "60219376102",
    }


def test_recurring_bodies() -> None:
    setup = _request(_body("setup_recurring_profile_created"))
    charge = _request(_body("charge_recurring_captured"))
    default = _request(_body("charge_recurring_manual_default_profile"))
    assert (setup["transactionType"], setup["amount"]) == ("authOnlyTransaction", "0.00")
    assert setup["profile"] == {"createProfile": True}
    assert _request(_body("setup_recurring_duplicate_profile"))["amount"] == "1.00"
    assert charge["profile"] == {
        "customerProfileId": "1929176981",
        "paymentProfile": {"paymentProfileId": "1841546735"},
    }
    assert "payment" not in charge and "customer" not in charge
    assert default["profile"] == {"customerProfileId": "1929176981"}


def test_get_bodies() -> None:
    """get reads the payment's transaction, get_refund the refund's own: only the id, after the
    credentials the request's auth_pointer placed there."""
    auth = {"name": CREDENTIALS["api_login_id"], "transactionKey": CREDENTIALS["transaction_key"]}
    for name, data in SCENARIOS.items():
        if data["flow"] not in ("get", "get_refund") or "raises" in data["expect"]:
            continue
        wanted = data["request"][
            "connector_transaction_id" if data["flow"] == "get" else "connector_refund_id"
        ]
        assert _body(name) == {
            "getTransactionDetailsRequest": {"merchantAuthentication": auth, "transId": wanted}
        }, name
    assert _body("get_refund_pending_settlement")["getTransactionDetailsRequest"]["transId"] == (
        "60219412987"
    )


# --- webhooks -------------------------------------------------------------------------------------


def _signature(key: bytes, body: str) -> str:
    return "sha512=" + hmac.new(key, body.encode("utf-8"), hashlib.sha512).hexdigest().upper()


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    """Recomputed with the standard library, not the engine: upper-case hex HMAC-SHA512 of the
    raw body, keyed with the Signature Key's text (see the spec's webhooks note)."""
    data = WEBHOOKS[name]
    header = {k.lower(): v for k, v in data["headers"].items()}.get("x-anet-signature")
    key = data["secret"]
    assert re.fullmatch(r"[0-9A-F]{128}", key), "a Signature Key is 128 hex characters"
    expected = _signature(key.encode("utf-8"), data["body_text"])
    rejected = data["expect"].get("rejected")
    if rejected == "missing_signature":
        assert header is None
    elif rejected == "bad_signature":
        assert header is not None and header.upper() != expected.upper()
    else:
        assert header is not None and header.upper() == expected.upper()
        # The hex-decoded key is another key: the fixtures pin the text-key reading.
        assert header.upper() != _signature(bytes.fromhex(key), data["body_text"])
        event = json.loads(data["body_text"])
        assert event["eventType"].startswith("net.authorize.") and event["payload"]["id"]


def test_webhook_kinds_covered() -> None:
    outcomes = {data["expect"].get("rejected", "accepted") for data in WEBHOOKS.values()}
    assert {"accepted", "bad_signature", "missing_signature"} <= outcomes
    types = {json.loads(data["body_text"])["eventType"] for data in WEBHOOKS.values()}
    assert {
        "net.authorize.payment.authcapture.created",
        "net.authorize.payment.authorization.created",
        "net.authorize.payment.refund.created",
        "net.authorize.payment.void.created",
        "net.authorize.payment.fraud.held",
    } <= types


def test_revoke_body_names_both_profiles() -> None:
    ((root, outer),) = _body("revoke_recurring_deleted").items()
    assert root == "deleteCustomerPaymentProfileRequest"
    assert (outer["customerProfileId"], outer["customerPaymentProfileId"]) == ("527262", "87")
    body = _body("revoke_recurring_deleted")
    assert not xsd_problems(body)
    swapped = {
        "merchantAuthentication": outer["merchantAuthentication"],
        "customerPaymentProfileId": "87",
        "customerProfileId": "527262",
    }
    assert xsd_problems({root: swapped}), "the ids out of the XSD's order were accepted"
    assert xsd_problems({root: {**outer, "customerPaymentProfileId": "eighty-seven"}})


def test_verify_is_a_zero_dollar_auth_only_that_saves_nothing() -> None:
    request = _body("verify_zero_dollar_approved")["createTransactionRequest"]["transactionRequest"]
    assert request["transactionType"] == "authOnlyTransaction"
    assert request["amount"] == "0.00"
    assert "profile" not in request  # a validation: nothing stored
    with_3ds = _body("verify_external_3ds_cavv_attempt")["createTransactionRequest"]
    auth = with_3ds["transactionRequest"]["cardholderAuthentication"]
    assert auth == {
        "authenticationIndicator": "06",
        "cardholderAuthenticationValue": "AAACBllleHchZTBWIGV4AAAAAAA=",
    }
    assert list(with_3ds["transactionRequest"])[-2:] == ["customerIP", "cardholderAuthentication"]


def test_the_cavv_result_is_read_only_when_3ds_was_sent() -> None:
    connector = load_connector("authorize_net")
    for name, status in (
        ("authorize_automatic_captured", None),
        ("authorize_external_3ds", "authenticated"),
    ):
        data = SCENARIOS[name]
        answer = data["response"]
        response = HttpResponse(200, {}, answer["body_text"].encode("utf-8"))
        result = connector.parse_response(data["flow"], data["request"], response)
        assert "cavvResultCode" in answer["body_text"]
        assert (result.three_ds.status if result.three_ds else None) == status, name
