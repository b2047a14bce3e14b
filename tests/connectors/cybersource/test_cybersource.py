"""Cybersource-specific checks:

- every request the spec builds for a scenario is checked against Cybersource's own published
  schema for that endpoint (processor_schema.json, extracted from the REST API's Swagger
  description of 2020-02-17): the JSON body against the body parameter's schema, closed here
  (an unknown or misspelt field is an error), with the few fields Cybersource documented after
  2020 added explicitly; the path's {id} against the payment id's schema;
- the schema check can fail: broken bodies are rejected;
- the HTTP Signature of built requests is recomputed here with hmac/hashlib, as Cybersource
  documents it (a signing string of "name: value" lines, HMAC-SHA256 keyed with the
  base64-decoded shared secret), and a tampered request fails that verification;
- setup_recurring's mandate_id drives charge_recurring's request; absent flows are refused.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from collections import Counter
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import HttpResponse, InputError, UnsupportedError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, processor_schema

HERE = Path(__file__).parent
SCHEMA = processor_schema("cybersource")
CREDENTIALS = credentials_for("cybersource")
SCENARIOS = fixtures_of("cybersource", "scenarios")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
CLOCK = 1_767_225_600.0  # the scenario harness's clock: 2026-01-01T00:00:00Z
CONNECTOR = load_connector("cybersource")

#: Fields Cybersource documented after the 2020 description, which the spec sends. Each is
#: added to the closed schema at its place, so the rest of the body stays checked.
#: - actionList / actionTokenTypes: "Create a Customer Token with Validated Payment Details"
#:   (POST /pts/v2/payments, actionList ["TOKEN_CREATE"], actionTokenTypes [customer,
#:   paymentInstrument, shippingAddress, instrumentIdentifier]).
#: - paymentInformation.paymentInstrument.id: "Merchant-Initiated Unscheduled COF Payments
#:   with TMS" ("paymentInformation": {"paymentInstrument": {"id": "07CA24EF..."}}).
#: - merchantInitiatedTransaction.reason: the 2020 schema caps it at one character (values
#:   1-5); the later required-fields page for unscheduled COF MITs sets it to "10" for
#:   Mastercard, American Express and Discover.
#: - consumerAuthenticationInformation.ucafCollectionIndicator: Mastercard Identity Check's
#:   UCAF collection indicator sent with external 3-D Secure data (Cybersource REST API
#:   reference, "Payer Authentication": 0 not supported, 1 attempted, 2 authenticated).
#: (The incremental authorization's field is in INCREMENT_FIELDS below.)
LATER_FIELDS: dict[str, dict[str, Any]] = {
    "processingInformation.actionList": {
        "type": "array",
        "items": {"enum": ["TOKEN_CREATE", "DECISION_SKIP", "CONSUMER_AUTHENTICATION"]},
    },
    "processingInformation.actionTokenTypes": {
        "type": "array",
        "items": {
            "enum": ["customer", "paymentInstrument", "instrumentIdentifier", "shippingAddress"]
        },
    },
    "paymentInformation.paymentInstrument": {
        "type": "object",
        "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 32}},
        "required": ["id"],
    },
    "processingInformation.authorizationOptions.initiator.merchantInitiatedTransaction.reason": {
        "type": "string",
        "maxLength": 2,
    },
    "consumerAuthenticationInformation.ucafCollectionIndicator": {
        "type": "string",
        "enum": ["0", "1", "2"],
    },
}


#: PATCH /pts/v2/payments/{id}: the 2020 schema spells the increase "additonalAmount", while the
#: same description's own "Incremental Authorization" example (x-example example0) and the REST
#: API reference send "additionalAmount" (string, up to 19 characters, as the misspelt one).
INCREMENT_FIELDS: dict[str, dict[str, Any]] = {
    "orderInformation.amountDetails.additionalAmount": {"type": "string", "maxLength": 19},
}


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every object closed: Cybersource's description lists each field, so a
    field it does not list is a typo in the spec (the 2020 description never says so itself)."""
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {name: _closed(sub) for name, sub in out["properties"].items()}
        out["additionalProperties"] = False
    if "items" in out:
        out["items"] = _closed(out["items"])
    return out


def _with_later_fields(body: dict[str, Any], later: dict[str, dict[str, Any]]) -> dict[str, Any]:
    schema = copy.deepcopy(body)
    for dotted, sub in later.items():
        *parents, leaf = dotted.split(".")
        node = schema
        for part in parents:
            node = node["properties"][part]
        node["properties"][leaf] = _closed(sub) if sub.get("type") == "object" else sub
    return schema


def _body_schema(key: str) -> dict[str, Any]:
    body = _closed(SCHEMA["endpoints"][key]["body"])
    if key == "POST /pts/v2/payments":
        return _with_later_fields(body, LATER_FIELDS)
    if key == "PATCH /pts/v2/payments/{id}":
        return _with_later_fields(body, INCREMENT_FIELDS)
    return body


#: The endpoints that take a JSON body (Transaction Details is a GET).
BODIES = {key for key, entry in SCHEMA["endpoints"].items() if entry["body"] is not None}


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


_endpoint = Endpoints(SCHEMA["endpoints"]).match


def _build(name: str, **overrides: Any) -> Any:
    data = SCENARIOS[name]
    request = {**data["request"], **overrides}
    return CONNECTOR.build_request(data["flow"], request, CREDENTIALS, now=CLOCK)


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_build(name).body)
    return body


# --- the processor's schema -------------------------------------------------------------------


def test_schema_source_is_recorded() -> None:
    assert "968a29f5b1da9026b5ff5a9289674132d4742795" in SCHEMA["source"]
    assert set(SCHEMA["endpoints"]) == {
        "POST /pts/v2/payments",
        "POST /pts/v2/payments/{id}/captures",
        "POST /pts/v2/payments/{id}/reversals",
        "POST /pts/v2/payments/{id}/refunds",
        "POST /tss/v2/searches",
        "PATCH /pts/v2/payments/{id}",
        "GET /tss/v2/transactions/{id}",
    }
    assert set(SCHEMA["endpoints"]) - {"GET /tss/v2/transactions/{id}"} == BODIES
    for key, entry in SCHEMA["endpoints"].items():
        if key in BODIES:
            Draft202012Validator.check_schema(_body_schema(key))
        for param in entry["path_parameters"].values():
            Draft202012Validator.check_schema(param)


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_request_matches_cybersource_schema(name: str) -> None:
    built = _build(name)
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "apitest.cybersource.com"
    assert not split.query
    key, params = _endpoint(built.method, split.path)
    entry = SCHEMA["endpoints"][key]
    assert set(params) == set(entry["path_parameters"])
    for param, value in params.items():
        assert not _problems(entry["path_parameters"][param], value), f"path {param}={value!r}"
    if key not in BODIES:
        assert built.method == "GET" and not built.body, f"{key} takes no body"
        return
    assert built.body, f"{key} takes a body"
    problems = _problems(_body_schema(key), json.loads(built.body))
    assert not problems, f"{name}: {key} body breaks Cybersource's schema: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The test above is not vacuous: each endpoint the spec uses gets bodies checked."""
    bodies: Counter[str] = Counter()
    paths: Counter[str] = Counter()
    for name in BUILDABLE:
        built = _build(name)
        key, _ = _endpoint(built.method, urlsplit(built.url).path)
        paths[key] += 1
        if built.body:
            bodies[key] += 1
    assert set(bodies) == BODIES, f"unchecked: {BODIES - set(bodies)}"
    assert set(paths) == set(SCHEMA["endpoints"]), (
        f"unused: {set(SCHEMA['endpoints']) - set(paths)}"
    )
    assert all(count >= 1 for count in bodies.values())
    # Every flow with a request body is among them.
    assert {SCENARIOS[n]["flow"] for n in BUILDABLE} == {
        "authorize",
        "capture",
        "void",
        "refund",
        "setup_recurring",
        "charge_recurring",
        "find",
        "verify",
        "incremental_authorize",
        "get",
        "get_refund",
    }


@pytest.mark.parametrize(
    ("label", "breaks"),
    [
        (
            "a misspelt top-level object",
            lambda b: b.__setitem__("orderInfo", b.pop("orderInformation")),
        ),
        (
            "a misspelt card field",
            lambda b: b["paymentInformation"]["card"].__setitem__("cvv", "987"),
        ),
        (
            "the amount as a JSON number",
            lambda b: b["orderInformation"]["amountDetails"].__setitem__("totalAmount", 102.21),
        ),
        (
            "a card number over 20 digits",
            lambda b: b["paymentInformation"]["card"].__setitem__("number", "4" * 21),
        ),
        (
            "a three-character month",
            lambda b: b["paymentInformation"]["card"].__setitem__("expirationMonth", "012"),
        ),
        ("capture as text", lambda b: b["processingInformation"].__setitem__("capture", "false")),
        (
            "a 51-character reference",
            lambda b: b["clientReferenceInformation"].__setitem__("code", "x" * 51),
        ),
        (
            "a three-letter country",
            lambda b: b["orderInformation"]["billTo"].__setitem__("country", "USA"),
        ),
        (
            "an unknown token type",
            lambda b: b["processingInformation"].__setitem__("actionTokenTypes", ["card"]),
        ),
    ],
)
def test_schema_rejects_broken_payment_bodies(label: str, breaks: Any) -> None:
    schema = _body_schema("POST /pts/v2/payments")
    body = _body("authorize_manual_authorized")
    assert not _problems(schema, body)
    broken = copy.deepcopy(body)
    breaks(broken)
    assert _problems(schema, broken), f"a body with {label} was accepted"


def test_schema_rejects_broken_follow_on_bodies() -> None:
    capture = _body_schema("POST /pts/v2/payments/{id}/captures")
    reversal = _body_schema("POST /pts/v2/payments/{id}/reversals")
    refund = _body_schema("POST /pts/v2/payments/{id}/refunds")
    assert not _problems(reversal, _body("void_reversed"))
    # A capture's amount block is not where a reversal takes it, and vice versa.
    assert _problems(reversal, _body("capture_full_pending"))
    assert _problems(capture, _body("void_reversed"))
    assert _problems(refund, {"orderInformation": {"amountDetails": {"totalAmount": 10}}})
    assert _problems(refund, {"refundInformation": {"reason": "requested_by_customer"}})
    # A payment id longer than the 26 characters of the 201 answers' `id`.
    path_id = SCHEMA["endpoints"]["POST /pts/v2/payments/{id}/refunds"]["path_parameters"]["id"]
    assert _problems(path_id, "7" * 27)
    assert not _problems(path_id, "7672256000113456704951")


def test_later_fields_are_only_where_cybersource_documents_them() -> None:
    """The additions do not open the schema elsewhere: a payment instrument in a capture, or an
    actionList misplaced under authorizationOptions, is still rejected."""
    payments = _body_schema("POST /pts/v2/payments")
    body = _body("charge_recurring_mastercard_pending")
    assert not _problems(payments, body)
    assert body["processingInformation"]["authorizationOptions"]["initiator"] == {
        "type": "merchant",
        "storedCredentialUsed": True,
        "merchantInitiatedTransaction": {
            "reason": "10",
            "previousTransactionId": "016153570198501",
        },
    }
    misplaced = copy.deepcopy(body)
    misplaced["processingInformation"]["authorizationOptions"]["actionList"] = ["TOKEN_CREATE"]
    assert _problems(payments, misplaced)
    capture = _body_schema("POST /pts/v2/payments/{id}/captures")
    assert _problems(capture, {"paymentInformation": {"paymentInstrument": {"id": "07CA24EF"}}})


# --- the HTTP Signature, recomputed as Cybersource documents it --------------------------------


def _parse_signature(value: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


def _verify(method: str, url: str, headers: dict[str, str], body: bytes | None) -> bool:
    """Cybersource's check of a request, written from its "HTTP Signature Authentication" and
    "Generate the Signature Hash" pages: the Digest must be SHA-256 of the body, and the
    signature HMAC-SHA256 (key: the base64-decoded shared secret) of the listed headers."""
    lowered = {k.lower(): v for k, v in headers.items()}
    params = _parse_signature(lowered["signature"])
    if params.get("keyid") != CREDENTIALS["key_id"] or params.get("algorithm") != "HmacSHA256":
        return False
    if body:
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        if lowered.get("digest") != digest:
            return False
    split = urlsplit(url)
    values = {
        "host": split.netloc,
        "date": lowered["date"],
        "(request-target)": f"{method.lower()} {split.path}",
        "digest": lowered.get("digest", ""),
        "v-c-merchant-id": lowered["v-c-merchant-id"],
    }
    names = params["headers"].split(" ")
    signing = "\n".join(f"{name}: {values[name]}" for name in names)
    key = base64.b64decode(CREDENTIALS["shared_secret"])
    expected = base64.b64encode(hmac.new(key, signing.encode(), hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, params["signature"])


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_signature_verifies_as_cybersource_documents(name: str) -> None:
    built = _build(name)
    headers = dict(built.headers)
    params = _parse_signature(headers["Signature"])
    # POSTs and PATCHes sign "host date (request-target) digest v-c-merchant-id", in that order;
    # a GET has no body and no digest ("Do not include the digest with GET requests").
    if built.method == "GET":
        assert params["headers"] == "host date (request-target) v-c-merchant-id"
        assert "Digest" not in headers and not built.body
    else:
        assert params["headers"] == "host date (request-target) digest v-c-merchant-id"
    assert params["keyid"] == CREDENTIALS["key_id"]
    assert headers["v-c-merchant-id"] == CREDENTIALS["merchant_id"]
    assert headers["Host"] == "apitest.cybersource.com"
    assert headers["Date"] == formatdate(CLOCK, usegmt=True) == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert _verify(built.method, built.url, headers, built.body)


def test_tampered_requests_fail_verification() -> None:
    built = _build("authorize_manual_authorized")
    headers = dict(built.headers)
    assert _verify(built.method, built.url, headers, built.body)
    # The amount changed after signing: the digest no longer matches the body.
    tampered = built.body.replace(b'"102.21"', b'"902.21"')
    assert tampered != built.body
    assert not _verify(built.method, built.url, headers, tampered)
    # ... and recomputing the digest does not help: the signature covers the digest.
    forged = {
        **headers,
        "Digest": "SHA-256=" + base64.b64encode(hashlib.sha256(tampered).digest()).decode(),
    }
    assert not _verify(built.method, built.url, forged, tampered)
    # Another merchant, another day, another endpoint: each is signed.
    assert not _verify(
        built.method, built.url, {**headers, "v-c-merchant-id": "other_merchant"}, built.body
    )
    assert not _verify(
        built.method, built.url, {**headers, "Date": "Fri, 02 Jan 2026 00:00:00 GMT"}, built.body
    )
    refund_url = built.url.replace(
        "/pts/v2/payments", "/pts/v2/payments/7672256000212345604953/refunds"
    )
    assert not _verify(built.method, refund_url, headers, built.body)
    # A different secret does not produce the same signature.
    other = dict(CREDENTIALS, shared_secret=base64.b64encode(b"another-secret").decode())
    rebuilt = CONNECTOR.build_request(
        "authorize", SCENARIOS["authorize_manual_authorized"]["request"], other, now=CLOCK
    )
    assert rebuilt.headers["Signature"] != headers["Signature"]
    assert not _verify(rebuilt.method, rebuilt.url, dict(rebuilt.headers), rebuilt.body)


def test_secret_and_card_stay_out_of_transcripts() -> None:
    built = _build("authorize_manual_authorized")
    redacted = json.dumps(built.redacted())
    for secret in (CREDENTIALS["shared_secret"], "4111111111111111", '"987"'):
        assert secret not in redacted
    assert CREDENTIALS["shared_secret"] not in repr(built)
    assert built.redacted()["headers"]["Signature"] == "[REDACTED]"


# --- what the spec sends, flow by flow ---------------------------------------------------------


def test_authorize_bodies() -> None:
    manual = _body("authorize_manual_authorized")
    sale = _body("authorize_automatic_sale_pending")
    token = _body("authorize_token_payment_instrument")
    assert manual["processingInformation"] == {
        "capture": False,
        "commerceIndicator": "internet",
        "authorizationOptions": {"partialAuthIndicator": False},
    }
    assert manual["paymentInformation"]["card"] == {
        "number": "4111111111111111",
        "expirationMonth": "12",
        "expirationYear": "2031",
        "securityCode": "987",
        "type": "001",
    }
    assert manual["orderInformation"]["amountDetails"] == {
        "totalAmount": "102.21",
        "currency": "USD",
    }
    assert manual["orderInformation"]["billTo"]["firstName"] == "John"
    assert manual["orderInformation"]["billTo"]["lastName"] == "Doe"
    assert manual["merchantInformation"] == {"merchantDescriptor": {"name": "ACME ONLINE"}}
    assert sale["processingInformation"]["capture"] is True
    assert sale["paymentInformation"]["card"]["type"] == "002"
    # The customer's name fills the billing name when the address has none.
    assert sale["orderInformation"]["billTo"]["firstName"] == "Maria"
    assert sale["orderInformation"]["billTo"]["lastName"] == "Garcia"
    assert token["paymentInformation"] == {
        "paymentInstrument": {"id": "07CA24EF20F9E2C9E063A2598D0A8565"}
    }
    assert token["processingInformation"]["authorizationOptions"]["initiator"] == {
        "type": "customer",
        "storedCredentialUsed": True,
    }
    assert _body("authorize_jpy_zero_decimal")["orderInformation"]["amountDetails"] == {
        "totalAmount": "5000",
        "currency": "JPY",
    }


def test_follow_on_bodies_and_paths() -> None:
    capture = _build("capture_partial_pending")
    void = _build("void_reversed")
    refund = _build("refund_partial_pending")
    assert capture.url.endswith("/pts/v2/payments/7672256000113456704951/captures")
    assert json.loads(capture.body) == {
        "orderInformation": {"amountDetails": {"totalAmount": "60.00", "currency": "USD"}}
    }
    assert void.url.endswith("/pts/v2/payments/7672256000113456704951/reversals")
    assert json.loads(void.body) == {
        "clientReferenceInformation": {"code": "ORD-20260101-0001"},
        "reversalInformation": {"amountDetails": {"totalAmount": "102.21", "currency": "USD"}},
    }
    # A refund follows the capture's id (the capture result's connector_reference).
    assert refund.url.endswith("/pts/v2/payments/7672256360012345604951/refunds")


def test_mandate_from_setup_drives_charge_recurring() -> None:
    setup = SCENARIOS["setup_recurring_zero_amount_tokens_created"]
    body = _body("setup_recurring_zero_amount_tokens_created")
    assert body["processingInformation"]["actionList"] == ["TOKEN_CREATE"]
    assert body["processingInformation"]["actionTokenTypes"] == ["customer", "paymentInstrument"]
    assert body["processingInformation"]["capture"] is False
    assert body["processingInformation"]["authorizationOptions"]["initiator"] == {
        "type": "customer",
        "credentialStoredOnFile": True,
    }
    assert body["orderInformation"]["amountDetails"] == {"totalAmount": "0", "currency": "USD"}
    response = HttpResponse(201, {}, json.dumps(setup["response"]["body"]).encode())
    result = CONNECTOR.parse_response("setup_recurring", setup["request"], response)
    assert result.mandate_id == "07CA24EF20F9E2C9E063A2598D0A8565:mastercard"

    charge = {
        "amount": 1500,
        "currency": "USD",
        "mandate_id": result.mandate_id,
        "idempotency_key": "idem-cs-mit-roundtrip",
    }
    built = json.loads(
        CONNECTOR.build_request("charge_recurring", charge, CREDENTIALS, now=CLOCK).body
    )
    assert built["paymentInformation"] == {
        "paymentInstrument": {"id": "07CA24EF20F9E2C9E063A2598D0A8565"}
    }
    initiator = built["processingInformation"]["authorizationOptions"]["initiator"]
    assert initiator == {
        "type": "merchant",
        "storedCredentialUsed": True,
        "merchantInitiatedTransaction": {"reason": "10"},
    }
    # Visa, or a bare token of unknown brand: no reason code.
    for mandate in ("7500BB199B4270EFE05340588D0AFCAD:visa", "7500BB199B4270EFE05340588D0AFCAD"):
        visa = json.loads(
            CONNECTOR.build_request(
                "charge_recurring", {**charge, "mandate_id": mandate}, CREDENTIALS, now=CLOCK
            ).body
        )
        assert visa["processingInformation"]["authorizationOptions"]["initiator"] == {
            "type": "merchant",
            "storedCredentialUsed": True,
        }
        assert (
            visa["paymentInformation"]["paymentInstrument"]["id"]
            == "7500BB199B4270EFE05340588D0AFCAD"
        )


@pytest.mark.parametrize(
    ("flow", "request_"),
    [
        ("reverse", {"connector_transaction_id": "7672256000212345604953"}),
        ("revoke_recurring", {"mandate_id": "07CA24EF20F9E2C9E063A2598D0A8565:visa"}),
        ("complete_authorize", {"redirect_response": {"params": {"TransactionId": "x"}}}),
    ],
)
def test_absent_flows_are_refused(flow: str, request_: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedError):
        CONNECTOR.build_request(flow, request_, CREDENTIALS, now=CLOCK)


def test_no_webhooks_section() -> None:
    with pytest.raises(UnsupportedError):
        CONNECTOR.parse_event(b"{}", {"v-c-signature": "t=1;keyId=k;sig=s"}, "a2V5")


def test_setup_recurring_needs_a_card() -> None:
    """TMS tokens are created from card data here; a token payment method is refused unsent."""
    request = {
        "currency": "USD",
        "payment_method": {"type": "token", "token": "07CA24EF20F9E2C9E063A2598D0A8565"},
    }
    with pytest.raises(InputError):
        CONNECTOR.build_request("setup_recurring", request, CREDENTIALS, now=CLOCK)


# --- verify, incremental authorization, Transaction Details -------------------------------------


def test_verify_is_a_zero_amount_authorization() -> None:
    body = _body("verify_zero_amount_authorized")
    assert body["processingInformation"] == {"capture": False, "commerceIndicator": "internet"}
    assert body["orderInformation"]["amountDetails"] == {"totalAmount": "0", "currency": "USD"}
    assert body["paymentInformation"]["card"]["number"] == "4111111111111111"
    assert body["paymentInformation"]["card"]["type"] == "001"
    assert body["orderInformation"]["billTo"]["firstName"] == "John"
    # A TMS instrument is verified as a card on file.
    token = json.loads(
        CONNECTOR.build_request(
            "verify",
            {
                "currency": "USD",
                "payment_method": {
                    "type": "token",
                    "token": "07CA24EF20F9E2C9E063A2598D0A8565:visa",
                },
            },
            CREDENTIALS,
            now=CLOCK,
        ).body
    )
    assert token["paymentInformation"] == {
        "paymentInstrument": {"id": "07CA24EF20F9E2C9E063A2598D0A8565"}
    }
    assert token["processingInformation"]["authorizationOptions"]["initiator"] == {
        "type": "customer",
        "storedCredentialUsed": True,
    }
    assert not _problems(_body_schema("POST /pts/v2/payments"), token)


def test_verify_needs_a_payment_method() -> None:
    with pytest.raises(InputError, match="payment_method"):
        CONNECTOR.build_request("verify", {"currency": "USD"}, CREDENTIALS, now=CLOCK)


def test_incremental_authorization_body_and_its_schema() -> None:
    built = _build("incremental_authorize_authorized")
    assert built.method == "PATCH"
    assert built.url.endswith("/pts/v2/payments/7672256000113456704951")
    body = json.loads(built.body)
    # The increase, not the new total.
    assert body == {
        "clientReferenceInformation": {"code": "ORD-20260101-0001"},
        "processingInformation": {
            "authorizationOptions": {"initiator": {"storedCredentialUsed": True}}
        },
        "orderInformation": {"amountDetails": {"additionalAmount": "22.49", "currency": "USD"}},
    }
    schema = _body_schema("PATCH /pts/v2/payments/{id}")
    assert not _problems(schema, body)
    # The description's own example validates against the corrected schema.
    example = {
        "clientReferenceInformation": {"code": "TC50171_3"},
        "processingInformation": {
            "authorizationOptions": {"initiator": {"storedCredentialUsed": True}}
        },
        "orderInformation": {"amountDetails": {"additionalAmount": "22.49", "currency": "USD"}},
    }
    assert not _problems(schema, example)
    for broken in (
        {"orderInformation": {"amountDetails": {"totalAmount": "22.49", "currency": "USD"}}},
        {"orderInformation": {"amountDetails": {"additionalAmount": 22.49, "currency": "USD"}}},
        {"orderInformation": {"amountDetails": {"additionalAmount": "1" * 20, "currency": "USD"}}},
        {"paymentInformation": {"card": {"number": "4111111111111111"}}},
    ):
        assert _problems(schema, broken), broken
    with pytest.raises(InputError, match="amount"):
        CONNECTOR.build_request(
            "incremental_authorize",
            {
                "connector_transaction_id": "7672256000113456704951",
                "currency": "USD",
                "authorized_amount": 100,
            },
            CREDENTIALS,
            now=CLOCK,
        )


def test_transaction_details_reads_by_id_without_a_body() -> None:
    get = _build("get_authorization_authorized")
    refund = _build("get_refund_pending")
    assert get.method == refund.method == "GET"
    assert get.url == "https://apitest.cybersource.com/tss/v2/transactions/7672256000113456704951"
    assert (
        refund.url == "https://apitest.cybersource.com/tss/v2/transactions/7672260000012345604955"
    )
    assert not get.body and not refund.body
    path_id = SCHEMA["endpoints"]["GET /tss/v2/transactions/{id}"]["path_parameters"]["id"]
    assert _problems(path_id, "7" * 27)
    assert _verify(get.method, get.url, dict(get.headers), None)
    # The signature covers the path: another transaction's id does not verify.
    other = get.url.replace("7672256000113456704951", "7672256000212345604953")
    assert not _verify(get.method, other, dict(get.headers), None)


def _parse(name: str) -> Any:
    data = SCENARIOS[name]
    response = data["response"]
    raw = HttpResponse(
        response["status"], response.get("headers", {}), json.dumps(response["body"]).encode()
    )
    return CONNECTOR.parse_response(data["flow"], data["request"], raw)


def test_a_follow_on_request_makes_get_unresolved_not_authorized() -> None:
    """The same authorization record reads `authorized` alone, and `unresolved` once it lists a
    related transaction: the capture that followed decides the payment's state."""
    alone = _parse("get_authorization_authorized")
    followed = _parse("get_followed_by_capture_unresolved")
    assert alone.status == "authorized"
    assert followed.status == "unresolved"
    data = copy.deepcopy(SCENARIOS["get_authorization_authorized"])
    data["response"]["body"]["_links"]["relatedTransactions"] = [
        {
            "href": "https://apitest.cybersource.com/tss/v2/transactions/7672256420012345604953",
            "method": "GET",
        }
    ]
    raw = HttpResponse(200, {}, json.dumps(data["response"]["body"]).encode())
    assert CONNECTOR.parse_response("get", data["request"], raw).status == "unresolved"


def test_get_answer_about_another_transaction_is_unresolved() -> None:
    data = copy.deepcopy(SCENARIOS["get_authorization_authorized"])
    data["response"]["body"]["id"] = "7672256000212345604953"
    raw = HttpResponse(200, {}, json.dumps(data["response"]["body"]).encode())
    assert CONNECTOR.parse_response("get", data["request"], raw).status == "unresolved"


def test_recovery_table_has_get_for_capture_and_void() -> None:
    from engine._recovery import recovery_ways

    assert recovery_ways(CONNECTOR, "capture") == ("get",)
    assert recovery_ways(CONNECTOR, "void") == ("get",)
    assert recovery_ways(CONNECTOR, "authorize") == ("find",)
