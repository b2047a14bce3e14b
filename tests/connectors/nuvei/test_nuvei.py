"""Nuvei checks, against Nuvei's published models rather than our spec.

Nuvei publishes no OpenAPI description of REST API 1.0 (../shared/processor-apis/nuvei/ holds
THIRD-PARTY stubs, without closed request schemas). The official Java SDK
(Nuvei/nuvei-server-java 1.7.12, commit fcbbe0e) carries a class per request and response;
nuvei-sdk-models.json is a mechanical extraction of them (fields and declared types, closed), and:

- every request the spec builds for a scenario (each step of authorize included) is an endpoint
  of the SDK (util/APIConstants.java), on the sandbox host, and its body validates against the
  SDK's request class (GetSessionTokenRequest, PaymentRequest, SettleTransactionRequest,
  VoidTransactionRequest, RefundTransactionRequest), closed, with what Nuvei's reference requires
  on top (amounts as major-unit strings, yyyyMMddHHmmss timestamps, the mandatory fields); the
  getTransactionDetails request, which the SDK lacks, against a closed schema written from the
  REST 1.0 reference; the schemas can fail: broken bodies are rejected;
- every checksum is recomputed here from the field orders of the SDK's util/ChecksumUtils.java
  (hashlib, independently of the engine);
- the processor answers in the fixtures validate against the SDK's response classes, closed;
- DMN fixtures carry advanceResponseChecksum = hex(SHA-256(secret + totalAmount + currency +
  responseTimeStamp + PPP_TransactionID + Status + productId)), recomputed here.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import HttpResponse, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

HERE = Path(__file__).parent
MODELS_PATH = HERE / "nuvei-sdk-models.json"
MODELS_SHA256 = "dea8d903c06bb3b3125bcfc11041227fc0d3675df78ef9db14cc43f5c22fd94f"
MODELS: dict[str, Any] = json.loads(MODELS_PATH.read_text("utf-8"))
CREDENTIALS = credentials_for("nuvei")
SECRET = CREDENTIALS["merchant_secret_key"]
SCENARIOS = fixtures_of("nuvei", "scenarios")
WEBHOOKS = fixtures_of("nuvei", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}
HOST = "ppp-test.nuvei.com"
BASE = "/ppp/api/v1"
AMOUNT: dict[str, Any] = {"type": "string", "pattern": "^(0|[1-9][0-9]*)(\\.[0-9]{1,3})?$"}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}
#: Every body carries the merchant, the time (yyyyMMddHHmmss) and a SHA-256 checksum.
AUTH_FIELDS: dict[str, Any] = {
    "required": ["merchantId", "merchantSiteId", "timeStamp", "checksum"],
    "properties": {
        "merchantId": {"const": CREDENTIALS["merchant_id"]},
        "merchantSiteId": {"const": CREDENTIALS["merchant_site_id"]},
        "timeStamp": {"pattern": "^20[0-9]{2}(0[1-9]|1[0-2])[0-3][0-9][0-2][0-9][0-5][0-9]{3}$"},
        "checksum": {"pattern": "^[0-9a-f]{64}$"},
    },
}


def _model(name: str, *extra: dict[str, Any]) -> dict[str, Any]:
    """The SDK class `name` (closed), with the reference's constraints on top."""
    return {"$defs": MODELS["$defs"], "allOf": [{"$ref": f"#/$defs/{name}"}, *extra]}


OPERATION = {
    "required": ["clientRequestId", "amount", "currency", "relatedTransactionId"],
    "properties": {
        "amount": AMOUNT,
        "currency": CURRENCY,
        "relatedTransactionId": {"pattern": "^[0-9]{1,19}$"},
    },
}
#: "payment" input parameters: what REST 1.0 marks mandatory for a server-to-server payment.
PAYMENT = {
    "required": [
        "sessionToken",
        "clientRequestId",
        "amount",
        "currency",
        "transactionType",
        "paymentOption",
        "billingAddress",
    ],
    # The customer's IP address and billing country, unless a rebilling (MIT) on a stored
    # payment option: the customer is not there, and the UPO holds the billing details (not
    # confirmed against a sandbox: the unified charge_recurring request carries neither).
    "if": {"not": {"required": ["isRebilling"]}},
    "then": {
        "required": ["deviceDetails"],
        "properties": {"billingAddress": {"required": ["country"]}},
    },
    "properties": {
        "amount": AMOUNT,
        "currency": CURRENCY,
        "transactionType": {"enum": ["Auth", "Sale", "PreAuth"]},
        "isRebilling": {"enum": [0, 1]},
        "rebillingType": {"enum": ["RECURRING", "UNSCHEDULED"]},
        "billingAddress": {
            "required": ["email"],
            "properties": {"country": {"pattern": "^[A-Z]{2}$"}},
        },
        "deviceDetails": {"required": ["ipAddress"]},
        "paymentOption": {
            "properties": {
                "card": {
                    "required": ["cardNumber", "expirationMonth", "expirationYear", "CVV"],
                    "properties": {
                        "cardNumber": {"pattern": "^[0-9]{12,19}$"},
                        "expirationMonth": {"pattern": "^(0[1-9]|1[0-2])$"},
                        "expirationYear": {"pattern": "^20[0-9]{2}$"},
                        "CVV": {"pattern": "^[0-9]{3,4}$"},
                    },
                },
                "alternativePaymentMethod": {
                    "required": ["paymentMethod"],
                    "properties": {"paymentMethod": {"enum": ["apmgw_iDeal", "apmgw_EPS"]}},
                },
            },
            # One way to pay: a card, a stored card (UPO) or an APM.
            "oneOf": [
                {"required": ["card"]},
                {"required": ["userPaymentOptionId"], "not": {"required": ["card"]}},
                {"required": ["alternativePaymentMethod"]},
            ],
        },
    },
}
#: getTransactionDetails (REST 1.0 reference; not in the SDK): the transaction by its id.
TRANSACTION_DETAILS_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "merchantId": {"type": "string"},
        "merchantSiteId": {"type": "string"},
        "transactionId": {"type": "string", "pattern": "^[0-9]{1,19}$"},
        "clientUniqueId": {"type": "string"},
        "timeStamp": {"type": "string"},
        "checksum": {"type": "string"},
    },
    "required": ["merchantId", "merchantSiteId", "transactionId", "timeStamp", "checksum"],
}
ENDPOINTS: dict[str, dict[str, Any]] = {
    f"POST {BASE}/getSessionToken.do": {
        "body": _model("GetSessionTokenRequest", AUTH_FIELDS, {"required": ["clientRequestId"]})
    },
    f"POST {BASE}/payment.do": {"body": _model("PaymentRequest", AUTH_FIELDS, PAYMENT)},
    f"POST {BASE}/settleTransaction.do": {
        "body": _model("SettleTransactionRequest", AUTH_FIELDS, OPERATION)
    },
    f"POST {BASE}/voidTransaction.do": {
        "body": _model("VoidTransactionRequest", AUTH_FIELDS, OPERATION)
    },
    f"POST {BASE}/refundTransaction.do": {
        "body": _model("RefundTransactionRequest", AUTH_FIELDS, OPERATION)
    },
    f"POST {BASE}/getTransactionDetails.do": {
        "body": {"allOf": [TRANSACTION_DETAILS_REQUEST, AUTH_FIELDS]}
    },
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)

#: The checksum fields of each request, in Nuvei's order (util/ChecksumUtils.java:
#: API_GENERIC_CHECKSUM_MAPPING, SETTLE/VOID/REFUND_GW_TRANSACTION; getTransactionDetails from
#: the REST 1.0 reference), the secret key appended; fields absent from the body are skipped.
_GENERIC = ["merchantId", "merchantSiteId", "clientRequestId", "amount", "currency", "timeStamp"]
_OPERATION = ["merchantId", "merchantSiteId", "clientRequestId", "clientUniqueId", "amount"]
_OPERATION += ["currency", "relatedTransactionId", "authCode"]
_DESCRIPTOR = ["descriptorMerchantName", "descriptorMerchantPhone"]
CHECKSUM_ORDER = {
    "getSessionToken.do": _GENERIC,
    "payment.do": _GENERIC,
    "settleTransaction.do": [*_OPERATION, *_DESCRIPTOR, "comment", "urlDetails", "timeStamp"],
    "voidTransaction.do": [*_OPERATION, "comment", "urlDetails", "timeStamp"],
    "refundTransaction.do": [*_OPERATION, "comment", "urlDetails", "timeStamp"],
    "getTransactionDetails.do": [
        *("merchantId", "merchantSiteId", "transactionId", "clientUniqueId", "timeStamp")
    ],
}

#: getTransactionDetails answer (REST 1.0 reference), closed.
TRANSACTION_DETAILS: dict[str, Any] = {
    "$defs": MODELS["$defs"],
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "paymentOption": {"$ref": "#/$defs/PaymentOptionResponse"},
        "partialApproval": {"$ref": "#/$defs/AmountInfo"},
        "transactionDetails": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "gwErrorCode": {"type": "integer"},
                "gwErrorReason": {"type": "string"},
                "gwExtendedErrorCode": {"type": "integer"},
                "transactionId": {"type": "string"},
                "transactionStatus": {"enum": ["APPROVED", "DECLINED", "ERROR", "PENDING"]},
                "transactionType": {
                    "enum": ["Auth", "Sale", "Settle", "Void", "Credit", "PreAuth"]
                },
                "authCode": {"type": "string"},
                "processedAmount": AMOUNT,
                "processedCurrency": CURRENCY,
                "acquiringBankName": {"type": "string"},
            },
            "required": ["transactionId", "transactionStatus", "transactionType"],
        },
        "transactionLinkId": {"type": "string"},
        "clientUniqueId": {"type": "string"},
        "clientRequestId": {"type": "string"},
        "merchantAdviceCode": {"type": "string"},
        "internalRequestId": {"type": "integer"},
        "status": {"enum": ["SUCCESS", "ERROR"]},
        "errCode": {"type": "integer"},
        "reason": {"type": "string"},
        "merchantId": {"type": "string"},
        "merchantSiteId": {"type": "string"},
        "version": {"type": "string"},
    },
    "required": ["status", "errCode"],
}
#: The SDK's response class of each endpoint.
ANSWERS = {
    "getSessionToken.do": "GetSessionTokenResponse",
    "payment.do": "PaymentResponse",
    "settleTransaction.do": "SettleTransactionResponse",
    "voidTransaction.do": "VoidTransactionResponse",
    "refundTransaction.do": "RefundTransactionResponse",
}
STATUS: dict[str, Any] = {
    "required": ["status"],
    "properties": {
        "status": {"enum": ["SUCCESS", "ERROR"]},
        "transactionStatus": {"enum": ["APPROVED", "DECLINED", "ERROR", "REDIRECT", "PENDING"]},
    },
}


def _problems(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    assert schema is not None
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _answers(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data["responses"]) if "responses" in data else [data["response"]]


def _built(name: str) -> list[Any]:
    """Every request the scenario's flow sends, each step fed the scenario's earlier answers."""
    data = SCENARIOS[name]
    connector = load_connector("nuvei")
    answers = _answers(data)
    steps: dict[str, Any] = {}
    built = []
    for index, answer in enumerate(answers):
        if "body" not in answer and index < len(answers) - 1:
            break
        request = connector.build_request(
            data["flow"], data["request"], CREDENTIALS, step=index, steps=steps, now=1_767_225_600.0
        )
        built.append(request)
        if index < len(answers) - 1:
            response = HttpResponse(answer["status"], {}, json.dumps(answer["body"]).encode())
            step = connector.plan.flows[data["flow"]].steps[index].name
            steps[step] = connector.parse_step(data["flow"], index, data["request"], response)
    return built


def _endpoint(built: Any) -> str:
    return str(urlsplit(built.url).path).rsplit("/", 1)[-1]


def _expected_checksum(endpoint: str, body: dict[str, Any]) -> str:
    text = "".join(str(body[f]) for f in CHECKSUM_ORDER[endpoint] if body.get(f) is not None)
    return hashlib.sha256((text + SECRET).encode("utf-8")).hexdigest()


# --- the models file --------------------------------------------------------------------------


def test_the_models_file_is_the_recorded_extraction() -> None:
    assert hashlib.sha256(MODELS_PATH.read_bytes()).hexdigest() == MODELS_SHA256
    Draft202012Validator.check_schema(MODELS)
    assert MODELS["$defs"]["PaymentRequest"]["additionalProperties"] is False


# --- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_sdk_endpoints_with_documented_bodies(name: str) -> None:
    for built in _built(name):
        split = urlsplit(built.url)
        assert split.scheme == "https" and split.netloc == HOST
        key, _ = ENDPOINT_INDEX.match(built.method, split.path)
        assert built.headers["Content-Type"] == "application/json"
        body = json.loads(built.body or b"{}")
        problems = _problems(ENDPOINTS[key]["body"], body)
        assert not problems, f"{name}: {key} body breaks the SDK model: {problems}"


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_every_checksum_is_nuveis(name: str) -> None:
    for built in _built(name):
        body = json.loads(built.body or b"{}")
        assert body["timeStamp"] == "20260101000000"
        assert body["checksum"] == _expected_checksum(_endpoint(built), body), _endpoint(built)
        shown = json.dumps(built.redacted())
        assert SECRET not in shown and body["checksum"] not in shown


def test_the_checksum_covers_the_amount_and_the_key() -> None:
    built = _built("authorize_sale_approved")[1]
    body = json.loads(built.body or b"")
    assert body["checksum"] == _expected_checksum("payment.do", body)
    for change in ({"amount": "1.99"}, {"currency": "USD"}, {"clientRequestId": "other"}):
        assert _expected_checksum("payment.do", {**body, **change}) != body["checksum"], change
    settle = json.loads(_built("capture_full")[0].body or b"")
    assert (
        _expected_checksum("settleTransaction.do", {**settle, "relatedTransactionId": "1"})
        != (settle["checksum"])
    )


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered(
        (request for name in BUILDABLE for request in _built(name)), ENDPOINTS
    )


def _payment_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built("authorize_sale_approved")[1].body or b"")
    return body


@pytest.mark.parametrize(
    ("label", "edit"),
    [
        ("amount as a number", lambda b: b.update(amount=10.99)),
        ("amount in minor units with a comma", lambda b: b.update(amount="10,99")),
        ("no session token", lambda b: b.pop("sessionToken")),
        ("a misspelt field", lambda b: b.update(transactionTyp="Sale")),
        ("an unknown transaction type", lambda b: b.update(transactionType="Capture")),
        ("a two-digit year", lambda b: b["paymentOption"]["card"].update(expirationYear="30")),
        ("no billing email", lambda b: b["billingAddress"].pop("email")),
        ("no IP address", lambda b: b.pop("deviceDetails")),
        ("a numeric CVV", lambda b: b["paymentOption"]["card"].update(CVV=217)),
        ("an MD5 checksum", lambda b: b.update(checksum="7c0c7fd1d02ce8837804adedbedd3f77")),
    ],
)
def test_the_schemas_reject_broken_bodies(label: str, edit: Any) -> None:
    body = _payment_body()
    schema = ENDPOINTS[f"POST {BASE}/payment.do"]["body"]
    assert _problems(schema, body) == []
    broken = copy.deepcopy(body)
    edit(broken)
    assert _problems(schema, broken), label


def test_amounts_are_major_unit_strings() -> None:
    assert _payment_body()["amount"] == "10.99"
    jpy = json.loads(_built("authorize_jpy_zero_decimal")[1].body or b"")
    assert (jpy["amount"], jpy["currency"]) == ("500", "JPY")
    settle = json.loads(_built("capture_partial")[0].body or b"")
    assert (settle["amount"], settle["relatedTransactionId"]) == ("100.50", "2110000000001190995")


def test_each_request_of_a_call_has_its_own_client_request_id() -> None:
    session, payment = (json.loads(r.body or b"") for r in _built("authorize_sale_approved"))
    assert payment["clientRequestId"] == "idem-nv-sale-0001"
    assert session["clientRequestId"] not in ("idem-nv-sale-0001", "")
    assert payment["sessionToken"] == "f465cfcc-fcb5-41eb-b49d-6d3273fa29f7"


def test_payment_method_bodies() -> None:
    manual = json.loads(_built("authorize_auth_approved_manual")[1].body or b"")
    assert manual["transactionType"] == "Auth"
    ideal = json.loads(_built("authorize_ideal_redirect")[1].body or b"")
    assert ideal["paymentOption"] == {
        "alternativePaymentMethod": {"paymentMethod": "apmgw_iDeal", "BIC": "INGBNL2A"}
    }
    assert ideal["urlDetails"]["successUrl"] == "https://shop.example.com/return"
    saved = json.loads(_built("authorize_save_card")[1].body or b"")
    assert saved["paymentOption"]["savePm"] == "true" and saved["userTokenId"] == "user-4711"
    assert saved["paymentOption"]["card"]["storedCredentials"] == {"storedCredentialsMode": "0"}
    mit = json.loads(_built("charge_recurring_unscheduled_mit")[1].body or b"")
    assert mit["paymentOption"] == {"userPaymentOptionId": "1000188"}
    assert (mit["isRebilling"], mit["rebillingType"]) == (1, "UNSCHEDULED")
    external = json.loads(_built("authorize_external_3ds")[1].body or b"")
    assert external["paymentOption"]["card"]["threeD"]["externalMpi"]["eci"] == "05"


# --- answers ----------------------------------------------------------------------------------


def _fixture_answers() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        flow = data["flow"]
        endpoints = {
            "authorize": ["getSessionToken.do", "payment.do"],
            "charge_recurring": ["getSessionToken.do", "payment.do"],
            "capture": ["settleTransaction.do"],
            "void": ["voidTransaction.do"],
            "refund": ["refundTransaction.do"],
            "get": ["getTransactionDetails.do"],
            "get_refund": ["getTransactionDetails.do"],
        }[flow]
        for endpoint, answer in zip(endpoints, _answers(data), strict=False):
            if answer.get("headers", {}).get("Content-Type") == "application/json":
                found.append((name, endpoint, answer))
    return found


@pytest.mark.parametrize(("name", "endpoint", "answer"), _fixture_answers(), ids=str)
def test_fixture_answers_have_the_sdk_shapes(name: str, endpoint: str, answer: Any) -> None:
    if endpoint == "getTransactionDetails.do":
        schema = TRANSACTION_DETAILS
    else:
        schema = _model(ANSWERS[endpoint], STATUS)
    assert _problems(schema, answer["body"]) == [], name


def test_the_answer_models_are_closed() -> None:
    answer = copy.deepcopy(SCENARIOS["authorize_sale_approved"]["responses"][1]["body"])
    assert _problems(_model("PaymentResponse", STATUS), answer) == []
    answer["paymentOption"]["card"]["last4"] = "0961"  # not a CardResponse field
    assert _problems(_model("PaymentResponse", STATUS), answer)


# --- DMNs -------------------------------------------------------------------------------------

SIGNED_ELSEWHERE = {"wrong_secret", "tampered_amount"}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_dmn_checksums(name: str) -> None:
    data = WEBHOOKS[name]
    fields = dict(parse_qsl(data["body_text"], keep_blank_values=True))
    if "advanceResponseChecksum" not in fields:
        assert data["expect"] == {"rejected": "missing_signature"}
        return
    text = "".join(
        [data["secret"]]
        + [fields[f] for f in ("totalAmount", "currency", "responseTimeStamp", "PPP_TransactionID")]
        + [fields["Status"], fields.get("productId", "")]
    )
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert (expected == fields["advanceResponseChecksum"]) == (name not in SIGNED_ELSEWHERE), name


def test_dmn_kinds_covered() -> None:
    outcomes = {tuple(e["type"] for e in d["expect"].get("events", [])) for d in WEBHOOKS.values()}
    rejections = {d["expect"]["rejected"] for d in WEBHOOKS.values() if "rejected" in d["expect"]}
    assert {("payment.captured",), ("payment.authorized",), ("refund.succeeded",)} <= outcomes
    assert rejections == {"bad_signature", "missing_signature"}
