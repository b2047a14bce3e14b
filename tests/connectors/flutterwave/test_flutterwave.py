"""Flutterwave-specific checks, against Flutterwave's published v3 API rather than our spec.

- every request the spec builds for a scenario is a v3 endpoint ("Charge cards", "Mobile money",
  "Preauthorization", "Verify transaction", "Refunds"), with a body matching a closed schema
  written from the official Node SDK's request models (Flutterwave/Node-v3,
  services/charge/types.ts CardChargePayload, services/mobile-money/types.ts
  MobileMoneyPayload, services/transactions/rave.refund.js) and the v3 reference pages; the
  schemas can fail: broken bodies are rejected;
- the card payload never travels in clear: the `client` field is decrypted here with 3DES-ECB
  and the merchant's encryption key (as lib/security.ts of the SDK encrypts it), independently of
  the engine, and the decrypted JSON is checked against CardChargePayload;
- amounts are JSON numbers in major units (card payloads: text), exact;
- the processor answers in the fixtures have the documented shapes (the charge object of
  ChargeCardType / TransactionType, the refund object, the error envelope).
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from jsonschema import Draft202012Validator

from engine import Client, HttpResponse, WebhookError, load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of

CREDENTIALS = credentials_for("flutterwave")
SCENARIOS = fixtures_of("flutterwave", "scenarios")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}

TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
AMOUNT: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}
#: CardChargePayload (services/charge/types.ts), the payload inside `client`.
CARD_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "card_number": {"type": "string", "pattern": "^[0-9]{12,19}$"},
        "cvv": {"type": "string", "pattern": "^[0-9]{3,4}$"},
        "expiry_month": {"type": "string", "pattern": "^(0[1-9]|1[0-2])$"},
        "expiry_year": {"type": "string", "pattern": "^[0-9]{2}$"},
        "currency": CURRENCY,
        # "amount: string" in the SDK's type; the reference's examples write "7500".
        "amount": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"},
        "fullname": TEXT,
        "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
        "tx_ref": TEXT,
        "redirect_url": TEXT,
        "preauthorize": {"type": "boolean"},
        "client_ip": TEXT,
        "device_fingerprint": TEXT,
        "phone_number": TEXT,
        "meta": {"type": "object"},
        "authorization": {"type": "object"},
    },
    "required": [
        "card_number",
        "cvv",
        "expiry_month",
        "expiry_year",
        "currency",
        "amount",
        "email",
        "tx_ref",
    ],
}
#: MobileMoneyPayload (services/mobile-money/types.ts); `country` for the francophone rail.
MOBILE_MONEY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "phone_number": {"type": "string", "pattern": "^[0-9]{7,15}$"},
        "amount": AMOUNT,
        "currency": CURRENCY,
        "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
        "tx_ref": TEXT,
        "network": {"enum": ["MTN", "VODAFONE", "TIGO", "AIRTEL", "ZAMTEL"]},
        "fullname": TEXT,
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "redirect_url": TEXT,
        "meta": {"type": "object"},
    },
    "required": ["phone_number", "amount", "currency", "email", "tx_ref"],
}
#: The `type` query parameter of POST /v3/charges: the rails of lib/rave.mobile_money.ts, and card.
RAILS = {
    "card",
    "mpesa",
    "mobile_money_ghana",
    "mobile_money_uganda",
    "mobile_money_rwanda",
    "mobile_money_zambia",
    "mobile_money_tanzania",
    "mobile_money_franco",
}
ENDPOINTS: dict[str, dict[str, Any]] = {
    "POST /v3/charges": {"body": "by rail"},
    # "Capture a preauthorized charge": amount (less than authorized allowed).
    "POST /v3/charges/{flw_ref}/capture": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"amount": AMOUNT},
            "required": ["amount"],
        }
    },
    # "Void a preauthorized charge": no parameters beyond the path.
    "POST /v3/charges/{flw_ref}/void": {
        "body": {"type": "object", "additionalProperties": False, "properties": {}}
    },
    # "Refund a transaction": amount (optional: the whole charge), comments.
    "POST /v3/transactions/{id}/refund": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"amount": AMOUNT, "comments": TEXT},
        }
    },
    # "Charge with token" (the Node SDK's tokenSchema, services/schema/create.js).
    "POST /v3/tokenized-charges": {
        "body": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "token": {"type": "string", "pattern": "^flw-t[0-9a-z]+-[0-9a-f]{32}-[a-z0-9]+$"},
                "currency": CURRENCY,
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "amount": AMOUNT,
                "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
                "full_name": TEXT,
                "ip": TEXT,
                "narration": TEXT,
                "device_fingerprint": TEXT,
                "tx_ref": {"type": "string", "minLength": 1, "maxLength": 100},
                "do_3ds": {"type": "boolean"},
                "preauthorize": {"type": "boolean"},
                "redirect_url": TEXT,
            },
            "required": ["token", "currency", "amount", "email", "narration", "tx_ref"],
        }
    },
    "GET /v3/transactions/{id}/verify": {"body": None},
    "GET /v3/refunds/{id}": {"body": None},
}
ENDPOINT_INDEX = Endpoints(ENDPOINTS)

#: The charge object (ChargeType / TransactionType of the SDK), the fields fixtures carry.
CHARGE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "tx_ref": {"type": "string"},
        "flw_ref": {"type": "string"},
        "amount": {"type": "number"},
        "charged_amount": {"type": "number"},
        "currency": CURRENCY,
        "status": {"enum": ["successful", "pending", "failed", "voided"]},
        "processor_response": {"type": "string"},
        "payment_type": {"type": "string"},
        "charge_type": {"enum": ["normal", "preauth", None]},
        "created_at": {"type": "string"},
        "customer": {"type": "object", "required": ["id", "email"]},
        "card": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "first_6digits": {"type": "string", "pattern": "^[0-9]{6}$"},
                "last_4digits": {"type": "string", "pattern": "^[0-9]{4}$"},
                "issuer": {"type": "string"},
                "country": {"type": "string"},
                "type": {"type": "string"},
                "expiry": {"type": "string", "pattern": "^[0-9]{2}/[0-9]{2}$"},
                # The card's token (Flutterwave/Node-v3 documentation/tokenization.md: the
                # charge's and the verify answer's card.token, "flw-t1nf-…"; a tokenized
                # charge's answer names it too).
                "token": {"type": "string", "pattern": "^flw-t"},
            },
        },
    },
    "required": ["id", "tx_ref", "flw_ref", "amount", "currency", "status"],
}
#: TransactionRefundResponse.data.
REFUND: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "amount_refunded": {"type": "number"},
        "status": {"enum": ["completed", "pending", "failed"]},
        "flw_ref": {"type": "string"},
        "transaction_id": {"type": "integer"},
        "created_at": {"type": "string"},
    },
    "required": ["id", "amount_refunded", "status", "transaction_id"],
}
ENVELOPE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "status": {"enum": ["success", "error"]},
        "message": {"type": "string"},
        "data": {},
        "meta": {
            "type": "object",
            "properties": {
                "authorization": {
                    "type": "object",
                    "properties": {
                        "mode": {"enum": ["redirect", "pin", "avs_noauth", "otp", "callback"]},
                        "redirect": {"type": "string"},
                        "fields": {"type": "array", "items": {"type": "string"}},
                        "endpoint": {"type": "string"},
                    },
                    "required": ["mode"],
                }
            },
        },
    },
    "required": ["status", "message"],
}


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def _decrypt(client: str) -> Any:
    """The SDK's encryption undone: 3DES-ECB with the 24-byte encryption key, PKCS#7."""
    key = CREDENTIALS["encryption_key"].encode()
    decryptor = Cipher(TripleDES(key), modes.ECB()).decryptor()  # noqa: S305 (Flutterwave's scheme)
    padded = decryptor.update(base64.b64decode(client)) + decryptor.finalize()
    unpadder = padding.PKCS7(64).unpadder()
    return json.loads(unpadder.update(padded) + unpadder.finalize(), parse_float=Decimal)


def _built(name: str) -> list[Any]:
    data = SCENARIOS[name]
    connector = load_connector("flutterwave")
    answers = data["responses"] if "responses" in data else [data["response"]]
    steps: dict[str, Any] = {}
    built = []
    for index, answer in enumerate(answers):
        built.append(
            connector.build_request(
                data["flow"], data["request"], CREDENTIALS, step=index, steps=steps
            )
        )
        if index < len(answers) - 1:
            response = HttpResponse(answer["status"], {}, json.dumps(answer["body"]).encode())
            step = connector.plan.flows[data["flow"]].steps[index].name
            steps[step] = connector.parse_step(data["flow"], index, data["request"], response)
    return built


def _charge_problems(built: Any) -> list[str]:
    rail = parse_qs(urlsplit(built.url).query)["type"]
    assert len(rail) == 1 and rail[0] in RAILS, rail
    body = json.loads(built.body, parse_float=Decimal)
    if rail[0] == "card":
        assert set(body) == {"client"}, "a card charge sends only the encrypted payload"
        return _problems(CARD_PAYLOAD, _decrypt(body["client"]))
    return _problems(MOBILE_MONEY, body)


@pytest.mark.parametrize("name", sorted(BUILDABLE))
def test_requests_are_v3_endpoints_with_documented_bodies(name: str) -> None:
    for built in _built(name):
        split = urlsplit(built.url)
        assert split.scheme == "https" and split.netloc == "api.flutterwave.com"
        key, _ = ENDPOINT_INDEX.match(built.method, split.path)
        assert built.headers["Authorization"] == f"Bearer {CREDENTIALS['secret_key']}"
        schema = ENDPOINTS[key]["body"]
        if schema is None:
            assert not built.body, f"{key} takes no body"
            continue
        problems = (
            _charge_problems(built)
            if key == "POST /v3/charges"
            else _problems(schema, json.loads(built.body or b"{}", parse_float=Decimal))
        )
        assert not problems, f"{name}: {key} body breaks the documented request: {problems}"


def test_every_endpoint_is_checked() -> None:
    ENDPOINT_INDEX.assert_covered(
        (request for name in BUILDABLE for request in _built(name)), ENDPOINTS
    )


def test_the_card_number_never_travels_in_clear() -> None:
    built = _built("authorize_card_successful")[0]
    card = SCENARIOS["authorize_card_successful"]["request"]["payment_method"]["card"]
    assert card["number"].encode() not in built.body and card["cvc"].encode() not in built.body
    payload = _decrypt(json.loads(built.body)["client"])
    assert payload["card_number"] == card["number"] and payload["cvv"] == card["cvc"]
    assert payload["expiry_month"] == "09" and payload["expiry_year"] == "32"
    assert payload["amount"] == "7500.00" and payload["tx_ref"] == "order-3001"
    assert "preauthorize" not in payload
    assert CREDENTIALS["encryption_key"] not in repr(built)


def test_manual_capture_asks_for_a_preauthorization() -> None:
    payload = _decrypt(json.loads(_built("authorize_manual_preauth")[0].body)["client"])
    assert payload["preauthorize"] is True


def test_mobile_money_rails_follow_the_country_and_currency() -> None:
    mpesa = _built("authorize_mpesa_pending")[0]
    assert parse_qs(urlsplit(mpesa.url).query)["type"] == ["mpesa"]
    body = json.loads(mpesa.body, parse_float=Decimal)
    assert body["amount"] == Decimal("1500") and "network" not in body
    ghana = _built("authorize_ghana_mobile_money_redirect")[0]
    assert parse_qs(urlsplit(ghana.url).query)["type"] == ["mobile_money_ghana"]
    assert json.loads(ghana.body)["network"] == "MTN"


def test_the_schemas_can_fail() -> None:
    built = _built("authorize_card_successful")[0]
    payload = _decrypt(json.loads(built.body)["client"])
    assert _problems(CARD_PAYLOAD, {**payload, "cardno": "1"})
    assert _problems(CARD_PAYLOAD, {k: v for k, v in payload.items() if k != "tx_ref"})
    assert _problems(CARD_PAYLOAD, {**payload, "expiry_year": "2032"})
    body = json.loads(_built("authorize_mpesa_pending")[0].body, parse_float=Decimal)
    assert _problems(MOBILE_MONEY, {**body, "network": "SAFARICOM"})
    assert _problems(ENDPOINTS["POST /v3/transactions/{id}/refund"]["body"], {"amount": "x"})
    tokenized = ENDPOINTS["POST /v3/tokenized-charges"]["body"]
    charge = json.loads(_built("charge_recurring_token_successful")[0].body, parse_float=Decimal)
    assert not _problems(tokenized, charge)
    assert _problems(tokenized, {k: v for k, v in charge.items() if k != "narration"})
    assert _problems(tokenized, {**charge, "token": "AUTH_abc"})
    assert _problems(tokenized, {**charge, "first_name": "Ada"})


def test_a_tokenized_charge_sends_the_token_and_preauthorizes_for_manual() -> None:
    charge = json.loads(_built("charge_recurring_token_successful")[0].body, parse_float=Decimal)
    request = SCENARIOS["charge_recurring_token_successful"]["request"]
    assert charge["token"] == request["mandate_id"] and charge["amount"] == Decimal("2000")
    assert charge["tx_ref"] == request["reference"] and "preauthorize" not in charge
    manual = json.loads(_built("charge_recurring_manual_preauth")[0].body)
    assert manual["preauthorize"] is True


# --- answers ---------------------------------------------------------------------------------


def _answers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, data in SCENARIOS.items():
        for answer in data.get("responses") or [data["response"]]:
            if "body" in answer:
                found.append((name, answer["body"]))
    return found


@pytest.mark.parametrize(("name", "body"), _answers(), ids=[n for n, _ in _answers()])
def test_fixtures_have_the_documented_shapes(name: str, body: Any) -> None:
    if name == "authorize_missing_email":  # never sent: its answer is not read
        return
    assert not _problems(ENVELOPE, body), _problems(ENVELOPE, body)
    data = body.get("data")
    if data is None:
        return
    schema = REFUND if "amount_refunded" in data else CHARGE
    assert not _problems(schema, data), f"{name}: {_problems(schema, data)}"


# --- webhooks --------------------------------------------------------------------------------

DELIVERIES = fixtures_of("flutterwave", "deliveries")


def _delivery_client(data: dict[str, Any], seen: list[httpx.Request]) -> Client:
    def processor(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = SCENARIOS[data["get_response_from"]]["response"]
        return httpx.Response(
            answer["status"], headers=answer["headers"], content=json.dumps(answer["body"])
        )

    http = httpx.Client(transport=httpx.MockTransport(processor))
    return Client("flutterwave", CREDENTIALS, http_client=http)


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_parse_event_alone_never_trusts_the_unsigned_body(name: str) -> None:
    data = DELIVERIES[name]
    with pytest.raises(WebhookError) as caught:
        load_connector("flutterwave").parse_event(
            data["body_text"].encode(), data["headers"], data["secret"]
        )
    assert caught.value.reason in ("unconfirmed", data["expect"].get("rejected"))


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_handle_event_checks_the_hash_then_confirms_by_verifying(name: str) -> None:
    data = DELIVERIES[name]
    expect = data["expect"]
    seen: list[httpx.Request] = []
    client = _delivery_client(data, seen)
    body = data["body_text"].encode()
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            client.handle_event(body, data["headers"], data["secret"])
        assert caught.value.reason == expect["rejected"]
        assert data["secret"] not in str(caught.value)
    else:
        result = client.handle_event(body, data["headers"], data["secret"])
        events = [event.to_dict() for event in result.events]
        assert len(events) == len(expect["events"])
        for event, wanted in zip(events, expect["events"], strict=True):
            for field, value in wanted.items():
                assert event[field] == value, f"{field}: {event[field]!r} != {value!r}"
    assert [f"{r.method} {r.url.path}" for r in seen] == expect["requests"]
    for request in seen:
        assert request.url.host == "api.flutterwave.com"
        assert request.headers["authorization"] == f"Bearer {CREDENTIALS['secret_key']}"
