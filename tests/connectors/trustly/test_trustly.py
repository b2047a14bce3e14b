"""Trustly-specific checks, against Trustly's published API rather than our spec.

- every request is a JSON-RPC 1.1 envelope POSTed to /api/1, its Data matching a closed schema
  written from the official Java client's request models (trustly/trustly-client-java,
  domain/methods/{deposit,refund,charge,cancelcharge}/…RequestData(Attributes).java: field
  names, which are required);
- the Signature verifies with the merchant's public key over method + UUID + serialize(Data),
  serialize re-implemented here as the official Python client writes it
  (trustly/trustly-client-python, trustly/api/api.py serialize_data), independently of the
  engine; a tampered Data does not verify;
- Amount is decimal text with two decimals; the password and the signature never reach a
  transcript;
- the answers in the fixtures have the JSON-RPC shapes of the API documentation (result with
  signature, uuid, method, data; error with name, code, message and the signed inner error).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jsonschema import Draft202012Validator

from engine import Client, WebhookError, load_connector

from ..scenarios import credentials_for, fixtures_of

CREDENTIALS = credentials_for("trustly")
SCENARIOS = fixtures_of("trustly", "scenarios")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}

TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
AMOUNT: dict[str, Any] = {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}
CREDENTIAL_FIELDS: dict[str, Any] = {"Username": TEXT, "Password": TEXT}


def _data(
    properties: dict[str, Any], required: list[str], attributes: dict[str, Any] | None
) -> Any:
    props = {**CREDENTIAL_FIELDS, **properties}
    if attributes is not None:
        props["Attributes"] = attributes
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": props,
        "required": ["Username", "Password", *required],
    }


#: DepositRequestData + DepositRequestDataAttributes (and the attributes it inherits from
#: AbstractDepositAndWithdrawAndSelectAccountDataAttributes): the fields this spec sends.
DEPOSIT = _data(
    {
        "NotificationURL": {"type": "string", "pattern": "^https://"},
        "EndUserID": TEXT,
        "MessageID": TEXT,
    },
    ["NotificationURL", "EndUserID", "MessageID", "Attributes"],
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "Currency": CURRENCY,
            "Amount": AMOUNT,
            "Firstname": TEXT,
            "Lastname": TEXT,
            "Email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
            "MobilePhone": TEXT,
            "NationalIdentificationNumber": TEXT,
            "Country": {"type": "string", "pattern": "^[A-Z]{2}$"},
            "Locale": {"type": "string", "pattern": "^[a-z]{2}_[A-Z]{2}$"},
            "IP": TEXT,
            "SuccessURL": TEXT,
            "FailURL": TEXT,
            "ShopperStatement": TEXT,
            "Method": {"const": "deposit.bank.netherlands.ideal"},
        },
        # @JsonProperty(required = true) / @NotBlank on these (DepositValidationGroup).
        "required": ["Currency", "Firstname", "Lastname", "Country", "Locale", "ShopperStatement"],
    },
)
#: RefundRequestData (OrderID, Amount, Currency) + RefundRequestDataAttributes.
REFUND = _data(
    {"OrderID": {"type": "string", "pattern": "^[0-9]+$"}, "Amount": AMOUNT, "Currency": CURRENCY},
    ["OrderID", "Amount", "Currency"],
    {"type": "object", "additionalProperties": False, "properties": {"ExternalReference": TEXT}},
)
#: ChargeRequestData + ChargeRequestDataAttributes (ShopperStatement and Email required).
CHARGE = _data(
    {
        "AccountID": {"type": "string", "pattern": "^[0-9]+$"},
        "NotificationURL": {"type": "string", "pattern": "^https://"},
        "EndUserID": TEXT,
        "MessageID": TEXT,
        "Amount": AMOUNT,
        "Currency": CURRENCY,
    },
    ["AccountID", "NotificationURL", "EndUserID", "MessageID", "Amount", "Currency", "Attributes"],
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {"ShopperStatement": TEXT, "Email": TEXT, "ExternalReference": TEXT},
        "required": ["ShopperStatement", "Email"],
    },
)
#: CancelChargeRequestData: OrderID only.
CANCEL_CHARGE = _data({"OrderID": {"type": "string", "pattern": "^[0-9]+$"}}, ["OrderID"], None)
DATA = {"Deposit": DEPOSIT, "Refund": REFUND, "Charge": CHARGE, "CancelCharge": CANCEL_CHARGE}
ENVELOPE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "method": {"enum": list(DATA)},
        "params": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"Signature": TEXT, "UUID": TEXT, "Data": {"type": "object"}},
            "required": ["Signature", "UUID", "Data"],
        },
        "version": {"const": "1.1"},
    },
    "required": ["method", "params", "version"],
}
#: A JSON-RPC answer: result {signature, uuid, method, data} or error {name, code, message,
#: error {signature, uuid, method, data {code, message}}}.
ANSWER: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "result": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "signature": TEXT,
                "uuid": TEXT,
                "method": TEXT,
                "data": {"type": "object"},
            },
            "required": ["signature", "uuid", "method", "data"],
        },
        "error": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"const": "JSONRPCError"},
                "code": {"type": "integer"},
                "message": {"type": "string", "pattern": "^ERROR_[A-Z_]+$"},
                "error": {
                    "type": "object",
                    "required": ["signature", "uuid", "method", "data"],
                    "properties": {"data": {"type": "object", "required": ["code", "message"]}},
                },
            },
            "required": ["name", "code", "message", "error"],
        },
        "version": {"const": "1.1"},
    },
    "oneOf": [{"required": ["result"]}, {"required": ["error"]}],
}


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _derived(key: str) -> str:
    """The UUID a call's idempotency key gives (derive_key('uuid'), computed here)."""
    digest = hashlib.sha256(f"{key}\x00uuid".encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def _serialize(data: Any) -> str:
    """serialize_data of Trustly's Python client: keys sorted, each followed by its value."""
    if isinstance(data, list):
        return "".join(_serialize(item) for item in data)
    if isinstance(data, dict):
        return "".join(str(k) + _serialize(data[k]) for k in sorted(data))
    return "" if data is None else str(data)


def _public_key() -> rsa.RSAPublicKey:
    key = serialization.load_pem_private_key(CREDENTIALS["private_key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.public_key()


def _verify(envelope: dict[str, Any]) -> None:
    params = envelope["params"]
    text = envelope["method"] + params["UUID"] + _serialize(params["Data"])
    sha1 = hashes.SHA1()  # noqa: S303 (Trustly's signature scheme)
    _public_key().verify(
        base64.b64decode(params["Signature"]), text.encode(), padding.PKCS1v15(), sha1
    )


def _sent(name: str) -> Any:
    data = SCENARIOS[name]
    built = load_connector("trustly").build_request(data["flow"], data["request"], CREDENTIALS)
    assert built.method == "POST" and built.url == "https://test.trustly.com/api/1"
    return built


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_signed_json_rpc_calls_with_documented_data(name: str) -> None:
    envelope = json.loads(_sent(name).body)
    assert not _problems(ENVELOPE, envelope), _problems(ENVELOPE, envelope)
    key = SCENARIOS[name]["request"]["idempotency_key"]
    assert envelope["params"]["UUID"] == _derived(key)
    data = envelope["params"]["Data"]
    assert data["Username"] == CREDENTIALS["username"]
    assert data["Password"] == CREDENTIALS["password"]
    problems = _problems(DATA[envelope["method"]], data)
    assert not problems, (
        f"{name}: {envelope['method']} Data breaks the documented request: {problems}"
    )
    _verify(envelope)


def test_every_method_is_checked() -> None:
    methods = {json.loads(_sent(name).body)["method"] for name in BUILDABLE}
    assert methods == set(DATA)


def test_a_tampered_call_does_not_verify_and_the_schemas_can_fail() -> None:
    envelope = json.loads(_sent("authorize_deposit_redirect").body)
    envelope["params"]["Data"]["Attributes"]["Amount"] = "1000.00"
    with pytest.raises(InvalidSignature):
        _verify(envelope)
    data = envelope["params"]["Data"]
    assert _problems(DEPOSIT, {**data, "Amount": "10"})
    assert _problems(DEPOSIT, {k: v for k, v in data.items() if k != "MessageID"})
    assert _problems(DEPOSIT, {**data, "Attributes": {**data["Attributes"], "Locale": "sv-SE"}})
    assert _problems(ENVELOPE, {**envelope, "version": "2.0"})


def test_the_deposit_writes_the_payer_as_trustly_asks() -> None:
    attributes = json.loads(_sent("authorize_deposit_redirect").body)["params"]["Data"][
        "Attributes"
    ]
    assert attributes["Amount"] == "100.00" and attributes["Currency"] == "SEK"
    assert (attributes["Firstname"], attributes["Lastname"]) == ("Sam", "Larsson")
    assert attributes["Locale"] == "sv_SE" and attributes["Country"] == "SE"
    ideal = json.loads(_sent("authorize_ideal").body)["params"]["Data"]["Attributes"]
    assert ideal["Method"] == "deposit.bank.netherlands.ideal"


def test_the_password_key_and_signature_never_reach_a_transcript() -> None:
    built = _sent("authorize_deposit_redirect")
    shown = json.dumps(built.redacted())
    signature = json.loads(built.body)["params"]["Signature"]
    for value in (CREDENTIALS["password"], signature, CREDENTIALS["private_key"]):
        assert value not in shown and value not in repr(built)
    assert "100.00" in shown  # what the flow wrote stays readable


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_fixtures_have_the_documented_shapes(name: str) -> None:
    answer = SCENARIOS[name]["response"]
    if "body" not in answer:
        return
    assert not _problems(ANSWER, answer["body"]), _problems(ANSWER, answer["body"])


# --- notifications (webhooks) --------------------------------------------------------------

WEBHOOKS = fixtures_of("trustly", "webhooks")
#: The key the fixtures' notifications are signed with, standing in for Trustly's own (a test
#: key made for these fixtures: Trustly's private key is Trustly's alone).
TRUSTLY_TEST_KEY = (Path(__file__).parent / "trustly_test_key.pem").read_bytes()
ACCEPTED = {name: data for name, data in WEBHOOKS.items() if "events" in data["expect"]}

#: The merchant's answer to a notification (JSONRPCNotificationResponse of the Python client:
#: result {signature, uuid, method, data {status}}, version "1.1"), closed.
NOTIFICATION_RESPONSE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["result", "version"],
    "properties": {
        "version": {"const": "1.1"},
        "result": {
            "type": "object",
            "additionalProperties": False,
            "required": ["signature", "uuid", "method", "data"],
            "properties": {
                "signature": {"type": "string", "minLength": 1},
                "uuid": {"type": "string", "pattern": "^[0-9a-f-]{36}$"},
                "method": {"enum": ["credit", "debit", "pending", "cancel", "account"]},
                "data": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["status"],
                    "properties": {"status": {"enum": ["OK", "FAILURE"]}},
                },
            },
        },
    },
}


def _trustly_signature(method: str, call_uuid: str, data: Any) -> str:
    """What Trustly signs a notification with, computed here with the test key."""
    key = serialization.load_pem_private_key(TRUSTLY_TEST_KEY, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    text = (method + call_uuid + _serialize(data)).encode()
    sha1 = hashes.SHA1()  # noqa: S303 (Trustly's signature scheme)
    return base64.b64encode(key.sign(text, padding.PKCS1v15(), sha1)).decode()


def _trustly_public_pem() -> str:
    key = serialization.load_pem_private_key(TRUSTLY_TEST_KEY, password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _parse(data: dict[str, Any], credentials: dict[str, str] | None = None) -> Any:
    return load_connector("trustly").parse_event(
        data["body_text"].encode(),
        data["headers"],
        data["secret"],
        credentials=CREDENTIALS if credentials is None else credentials,
    )


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_notifications_are_signed_as_trustly_signs_them(name: str) -> None:
    """Each fixture's signature is the test key's over method + uuid + serialize(data) as it
    was sent (the tampered one: as it was before the change); the secret is that key's."""
    data = WEBHOOKS[name]
    assert data["secret"] == _trustly_public_pem()
    note = json.loads(data["body_text"])
    params = note["params"]
    assert note["version"] == "1.1" and set(params) <= {"signature", "uuid", "data"}
    if "signature" not in params:
        assert data["expect"] == {"rejected": "missing_signature"}
        return
    expected = _trustly_signature(note["method"], params["uuid"], params["data"])
    if name == "tampered_amount":
        assert params["signature"] != expected
        original = {**params["data"], "amount": "10.00"}
        assert params["signature"] == _trustly_signature(note["method"], params["uuid"], original)
    else:
        assert params["signature"] == expected


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_answer_is_a_json_rpc_response_signed_with_the_merchant_key(name: str) -> None:
    data = ACCEPTED[name]
    note = json.loads(data["body_text"])
    result = _parse(data)
    assert result.acknowledge_status == 200
    assert result.acknowledge_content_type == "application/json"
    answer = json.loads(result.acknowledge_body)
    assert not _problems(NOTIFICATION_RESPONSE, answer), _problems(NOTIFICATION_RESPONSE, answer)
    body = answer["result"]
    assert body["uuid"] == note["params"]["uuid"] and body["method"] == note["method"]
    assert body["data"] == {"status": "OK"}
    text = (body["method"] + body["uuid"] + _serialize(body["data"])).encode()
    sha1 = hashes.SHA1()  # noqa: S303 (Trustly's signature scheme)
    _public_key().verify(base64.b64decode(body["signature"]), text, padding.PKCS1v15(), sha1)
    with pytest.raises(InvalidSignature):  # the check can fail: another status does not verify
        tampered = (body["method"] + body["uuid"] + "statusFAILURE").encode()
        _public_key().verify(
            base64.b64decode(body["signature"]), tampered, padding.PKCS1v15(), sha1
        )
    shown = json.dumps(result.to_dict()) + repr(result)
    for secret in (CREDENTIALS["private_key"], CREDENTIALS["password"]):
        assert secret not in shown
        assert json.dumps(secret)[1:-1] not in shown


def test_client_handle_event_returns_the_signed_answer() -> None:
    data = ACCEPTED["credit"]
    with Client("trustly", CREDENTIALS) as client:
        result = client.handle_event(data["body_text"].encode(), data["headers"], data["secret"])
    assert [event.type for event in result.events] == ["payment.captured"]
    assert result.acknowledge_body == _parse(data).acknowledge_body  # RSA PKCS#1 v1.5: the same
    assert json.loads(result.acknowledge_body)["result"]["method"] == "credit"


def test_without_the_merchant_key_the_answer_cannot_be_signed() -> None:
    data = ACCEPTED["credit"]
    settings = {k: v for k, v in CREDENTIALS.items() if k != "private_key"}
    with pytest.raises(WebhookError) as caught:
        _parse(data, settings)
    assert caught.value.reason == "missing_setting"
    assert "private_key" in str(caught.value)


def test_a_broken_merchant_key_is_refused_without_showing_it() -> None:
    data = ACCEPTED["credit"]
    broken = {**CREDENTIALS, "private_key": CREDENTIALS["private_key"][:200]}
    with pytest.raises(WebhookError) as caught:
        _parse(data, broken)
    assert caught.value.reason == "unreadable_body"
    assert broken["private_key"][40:120] not in str(caught.value)
    assert CREDENTIALS["password"] not in str(caught.value)


def test_another_public_key_or_no_key_does_not_verify() -> None:
    data = ACCEPTED["credit"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(WebhookError) as caught:
        _parse({**data, "secret": pem})
    assert caught.value.reason == "bad_signature"
    with pytest.raises(WebhookError) as caught:
        _parse({**data, "secret": "not a PEM key"})
    assert caught.value.reason == "bad_secret"
