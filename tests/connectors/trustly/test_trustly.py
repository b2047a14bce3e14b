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
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jsonschema import Draft202012Validator

from engine import load_connector

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
