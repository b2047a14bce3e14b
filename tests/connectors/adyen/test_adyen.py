"""Adyen-specific checks.

1. Every request body the spec builds for the scenarios is valid against Adyen's own published
   schema for that endpoint (processor_schema.json, extracted from Adyen/adyen-openapi
   CheckoutService-v71.json; its "source" key names the file and commit).
2. The webhook fixtures' signatures are re-verified here with an implementation of Adyen's
   standard-notification HMAC written apart from the engine, first proven against Adyen's own
   published test vectors; and every fixture body is valid against Adyen's Webhooks-v1 schema.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from engine import load_connector

HERE = Path(__file__).parent
SANDBOX = "https://checkout-test.adyen.com/v71"
DISPUTES = "https://ca-test.adyen.com/ca/services/DisputeService/v30"


@cache
def processor_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "processor_schema.json").read_text(encoding="utf-8"))
    return data


def validator(ref: dict[str, Any]) -> Draft202012Validator:
    schema = processor_schema()
    return Draft202012Validator({"$defs": schema["$defs"], **ref})


def endpoint_validators() -> list[tuple[str, re.Pattern[str], Draft202012Validator]]:
    found = []
    for key, ref in processor_schema()["endpoints"].items():
        method, template = key.split(" ", 1)
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        found.append((f"{method} {template}", pattern, validator(ref)))
    return found


def credentials() -> dict[str, str]:
    data: dict[str, str] = json.loads((HERE / "credentials.json").read_text(encoding="utf-8"))
    return data


def load_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def built_requests() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(scenario, method, path, body) for every scenario that sends a request."""
    connector = load_connector("adyen")
    built = []
    for path in sorted((HERE / "scenarios").glob("*.yaml")):
        scenario = load_yaml(path)
        if "raises" in scenario["expect"]:
            continue
        request = connector.build_request(scenario["flow"], scenario["request"], credentials())
        if request.url.startswith(DISPUTES + "/"):
            continue  # the Disputes API: test_every_dispute_request_matches_adyens_schema
        assert request.url.startswith(SANDBOX + "/")
        body = json.loads(request.body or b"{}")
        built.append((path.stem, request.method, request.url[len(SANDBOX) :], body))
    return built


def match(method: str, path: str) -> tuple[str, Draft202012Validator]:
    for key, pattern, check in endpoint_validators():
        if key.startswith(method + " ") and pattern.match(path):
            return key, check
    raise AssertionError(f"{method} {path} is not an endpoint of processor_schema.json")


def test_every_request_body_matches_adyens_schema() -> None:
    checked: dict[str, int] = {key: 0 for key, _, _ in endpoint_validators()}
    for name, method, path, body in built_requests():
        key, check = match(method, path)
        errors = sorted(check.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, f"{name}: {key}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )
        checked[key] += 1
    # Every endpoint the spec uses was checked at least once.
    assert all(count > 0 for count in checked.values()), checked


def test_a_broken_body_is_rejected() -> None:
    """The schema check can fail: bodies Adyen would refuse do not pass."""
    bodies = {(method, path): body for _, method, path, body in built_requests()}
    _, check = match("POST", "/payments")
    payment = next(body for (method, path), body in bodies.items() if path == "/payments")
    broken = {k: v for k, v in payment.items() if k != "merchantAccount"}
    assert list(check.iter_errors(broken)), "a payment without merchantAccount must be rejected"
    broken = {**payment, "amount": {"value": "1000", "currency": "USD"}}
    assert list(check.iter_errors(broken)), "a string amount value must be rejected"
    broken = {**payment, "paymentMethod": {**payment["paymentMethod"], "expiryMonth": 3}}
    assert list(check.iter_errors(broken)), "an integer expiryMonth must be rejected"
    broken = {**payment, "captureMethod": "manual"}
    assert list(check.iter_errors(broken)), "an unknown field must be rejected"
    _, capture = match("POST", "/payments/993617894903480A/captures")
    assert list(capture.iter_errors({"merchantAccount": "TestMerchantECOM"})), (
        "a capture without amount must be rejected"
    )


def test_card_fields_are_written_as_adyen_wants() -> None:
    connector = load_connector("adyen")
    scenario = load_yaml(HERE / "scenarios" / "authorize_manual_authorized.yaml")
    request = connector.build_request("authorize", scenario["request"], credentials())
    body = json.loads(request.body or b"{}")
    method = body["paymentMethod"]
    assert method["type"] == "scheme"
    assert (method["expiryMonth"], method["expiryYear"]) == ("03", "2030")
    assert body["additionalData"] == {"manualCapture": "true"}
    assert request.headers["Idempotency-Key"] == scenario["request"]["idempotency_key"]
    assert request.headers["X-API-Key"] == credentials()["api_key"]


# --- the Disputes API (its own host) ----------------------------------------------------------


def dispute_requests() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(scenario, method, path, body) of every request (each step) the dispute scenarios send."""
    connector = load_connector("adyen")
    built = []
    for path in sorted((HERE / "scenarios").glob("*_dispute_*.yaml")) + sorted(
        (HERE / "scenarios").glob("submit_evidence_*.yaml")
    ):
        scenario = load_yaml(path)
        if "raises" in scenario["expect"]:
            continue
        answers = scenario.get("responses") or [scenario["response"]]
        for step in range(len(answers)):
            request = connector.build_request(
                scenario["flow"], scenario["request"], credentials(), step=step, steps={}
            )
            assert request.url.startswith(DISPUTES + "/"), request.url
            assert request.headers["X-API-Key"] == credentials()["api_key"]
            body = json.loads(request.body or b"{}")
            built.append((path.stem, request.method, request.url[len(DISPUTES) :], body))
    return built


def dispute_validator(key: str) -> Draft202012Validator:
    schema = json.loads((HERE / "dispute_service_schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator({"$defs": schema["$defs"], **schema["endpoints"][key]})


def test_every_dispute_request_matches_adyens_schema() -> None:
    seen: dict[str, int] = {}
    for name, method, path, body in dispute_requests():
        key = f"{method} {path}"
        errors = list(dispute_validator(key).iter_errors(body))
        assert not errors, f"{name}: {key}: " + "; ".join(e.message for e in errors[:5])
        seen[key] = seen.get(key, 0) + 1
    assert set(seen) == {
        "POST /acceptDispute",
        "POST /supplyDefenseDocument",
        "POST /defendDispute",
    }


def test_a_broken_dispute_request_is_rejected() -> None:
    bodies = {f"{m} {p}": b for n, m, p, b in dispute_requests() if "refused" not in n}
    supply = bodies["POST /supplyDefenseDocument"]
    check = dispute_validator("POST /supplyDefenseDocument")
    document = supply["defenseDocuments"][0]
    assert {d["defenseDocumentTypeCode"] for d in supply["defenseDocuments"]} == {
        "TIDorInvoice",
        "DefenseMaterial",
    }
    no_type = {k: v for k, v in document.items() if k != "defenseDocumentTypeCode"}
    assert list(check.iter_errors({**supply, "defenseDocuments": [no_type]}))
    assert list(
        check.iter_errors({**supply, "defenseDocuments": [{**document, "content": "%PDF"}]})
    )
    defend = dispute_validator("POST /defendDispute")
    body = bodies["POST /defendDispute"]
    assert list(defend.iter_errors({k: v for k, v in body.items() if k != "defenseReasonCode"}))
    accept = dispute_validator("POST /acceptDispute")
    assert list(accept.iter_errors({**bodies["POST /acceptDispute"], "reason": "x"}))


# --- webhooks ---------------------------------------------------------------------------------

SIGNED_FIELDS = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference")


def adyen_hmac(hex_key: str, item: dict[str, Any]) -> str:
    """Adyen's standard-notification signature, written from Adyen's description:
    base64(HMAC-SHA256(hex-decoded key, "pspReference:originalReference:merchantAccountCode:
    merchantReference:value:currency:eventCode:success")), a missing field as an empty string."""
    amount = item.get("amount") or {}
    fields = [str(item.get(name, "")) for name in SIGNED_FIELDS]
    fields += [str(amount.get("value", "")), str(amount.get("currency", ""))]
    fields += [str(item.get("eventCode", "")), str(item.get("success", ""))]
    mac = hmac.new(binascii.unhexlify(hex_key), ":".join(fields).encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


#: Adyen's published test vectors (Adyen/adyen-php-api-library,
#: tests/Unit/Util/HmacSignatureTest.php): key, item, expected signature.
ADYEN_VECTORS = [
    (
        "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
        {
            "pspReference": "7914073381342284",
            "merchantAccountCode": "TestMerchant",
            "merchantReference": "TestPayment-1407325143704",
            "amount": {"value": 0, "currency": "EUR"},
            "eventCode": "REFUND",
            "success": "true",
        },
        "J7HhsgZo5KwqdB7LFZJV6rfQgp+RqC2kuYyw/3x3w+8=",
    ),
    (
        "DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00",
        {
            "pspReference": "7914073381342284",
            "merchantAccountCode": "TestMerchant",
            "merchantReference": "TestPayment-1407325143704",
            "amount": {"value": 1130, "currency": "EUR"},
            "eventCode": "AUTHORISATION",
            "success": "true",
        },
        "Ny9gS2veKo5E4w8/OL6xz1/wvT/hYkAXy1xNc/QvO4I=",
    ),
]


@pytest.mark.parametrize(("key", "item", "expected"), ADYEN_VECTORS)
def test_independent_hmac_matches_adyens_vectors(
    key: str, item: dict[str, Any], expected: str
) -> None:
    assert adyen_hmac(key, item) == expected


WEBHOOKS = sorted((HERE / "webhooks").glob("*.yaml"))


def items_of(fixture: dict[str, Any]) -> list[dict[str, Any]]:
    body = json.loads(fixture["body_text"])
    return [wrapper["NotificationRequestItem"] for wrapper in body["notificationItems"]]


@pytest.mark.parametrize("path", WEBHOOKS, ids=[p.stem for p in WEBHOOKS])
def test_webhook_fixture_signatures(path: Path) -> None:
    fixture = load_yaml(path)
    expect = fixture["expect"]
    verdicts = []
    for item in items_of(fixture):
        given = (item.get("additionalData") or {}).get("hmacSignature")
        verdicts.append(
            None
            if given is None
            else hmac.compare_digest(given, adyen_hmac(fixture["secret"], item))
        )
    if "events" in expect:
        assert verdicts and all(v is True for v in verdicts), verdicts
    elif expect["rejected"] == "bad_signature":
        assert False in verdicts, verdicts
    elif expect["rejected"] == "missing_signature":
        assert None in verdicts, verdicts
    else:  # pragma: no cover - a new kind of fixture needs a check here
        raise AssertionError(f"unchecked rejection {expect['rejected']!r}")


@pytest.mark.parametrize("path", WEBHOOKS, ids=[p.stem for p in WEBHOOKS])
def test_webhook_fixture_bodies_match_adyens_schema(path: Path) -> None:
    fixture = load_yaml(path)
    body = json.loads(fixture["body_text"])
    schemas = processor_schema()["webhooks"]
    for wrapper in body["notificationItems"]:
        event = wrapper["NotificationRequestItem"]["eventCode"]
        single = {"live": body["live"], "notificationItems": [wrapper]}
        errors = list(validator(schemas[event]).iter_errors(single))
        assert not errors, f"{event}: " + "; ".join(e.message for e in errors[:5])


def test_new_flow_requests_follow_adyens_operations() -> None:
    """amountUpdates takes the updated total; the stored-method DELETE carries the query
    parameters Adyen requires (and nothing else), and the check of them can fail."""
    from urllib.parse import parse_qsl, urlsplit

    connector = load_connector("adyen")

    def scenario(name: str) -> dict[str, Any]:
        return load_yaml(HERE / "scenarios" / f"{name}.yaml")

    data = scenario("incremental_authorize_received")
    built = connector.build_request(data["flow"], data["request"], credentials())
    body = json.loads(built.body or b"{}")
    assert body["amount"] == {"value": 2500, "currency": "EUR"}, (
        "the updated amount, not the increase"
    )
    assert body["industryUsage"] == "delayedCharge"
    _, check = match("POST", "/payments/993617894903480A/amountUpdates")
    assert list(check.iter_errors({**body, "industryUsage": "incremental"})), "not in Adyen's enum"
    data = scenario("revoke_recurring_deleted")
    built = connector.build_request(data["flow"], data["request"], credentials())
    split = urlsplit(built.url)
    assert built.method == "DELETE" and not built.body
    query = dict(parse_qsl(split.query))
    key = "DELETE /storedPaymentMethods/{storedPaymentMethodId}"
    schema = Draft202012Validator(processor_schema()["delete_query"][key])
    assert not list(schema.iter_errors(query))
    assert query["shopperReference"] == "shopper-4401"
    assert list(schema.iter_errors({"shopperReference": "shopper-4401"})), "merchantAccount missing"


# --- local payment methods --------------------------------------------------------------------

#: Each refusal scenario and the unified field it must name.
REFUSED_POINTERS = {
    "authorize_klarna_without_line_items_refused": "/line_items",
    "authorize_affirm_without_delivery_address_refused": "/shipping_address/country",
    "authorize_eps_without_issuer_refused": "/payment_method/bank_redirect/issuer",
    "authorize_blik_without_code_refused": "/payment_method/bank_redirect/blik_code",
    "authorize_konbini_without_phone_refused": "/customer/phone",
}


@pytest.mark.parametrize(("name", "pointer"), sorted(REFUSED_POINTERS.items()))
def test_method_specific_data_is_refused_before_sending(name: str, pointer: str) -> None:
    from engine import InputError

    scenario = load_yaml(HERE / "scenarios" / f"{name}.yaml")
    with pytest.raises(InputError) as caught:
        load_connector("adyen").build_request("authorize", scenario["request"], credentials())
    assert caught.value.pointer == pointer


#: The Adyen paymentMethod.type each local-method scenario must send.
METHOD_TYPES = {
    "authorize_klarna_redirect": "klarna",
    "authorize_clearpay_redirect": "clearpay",
    "authorize_affirm_redirect": "affirm",
    "authorize_paypal_redirect": "paypal",
    "authorize_bancontact_mobile_qr": "bcmc_mobile",
    "authorize_eps_redirect": "eps",
    "authorize_przelewy24_redirect": "onlineBanking_PL",
    "authorize_blik_code_await": "blik",
    "authorize_sepa_debit_received": "sepadirectdebit",
    "authorize_ach_debit_received": "ach",
    "authorize_bacs_debit_received": "directdebit_GB",
    "authorize_becs_debit_received": "directdebit_AU",
    "authorize_konbini_voucher": "econtext_stores",
}


def test_local_methods_send_adyens_types() -> None:
    bodies = {name: body for name, _, _, body in built_requests()}
    sent = {name: bodies[name]["paymentMethod"]["type"] for name in METHOD_TYPES}
    assert sent == METHOD_TYPES
    assert bodies["authorize_paypal_redirect"]["paymentMethod"]["subtype"] == "redirect"
    assert len(bodies["authorize_klarna_redirect"]["lineItems"]) == 2
    sepa = bodies["authorize_sepa_debit_received"]["paymentMethod"]
    assert set(sepa) == {"type", "iban", "ownerName"}
    bacs = bodies["authorize_bacs_debit_received"]["paymentMethod"]
    assert (bacs["bankLocationId"], bacs["holderName"]) == ("560036", "S. Hopper")


def test_broken_local_method_bodies_are_rejected() -> None:
    """Adyen's schema refuses what these methods must not send: the check can fail."""
    bodies = {name: body for name, _, _, body in built_requests()}
    _, check = match("POST", "/payments")
    sepa = bodies["authorize_sepa_debit_received"]
    method = {k: v for k, v in sepa["paymentMethod"].items() if k != "ownerName"}
    assert list(check.iter_errors({**sepa, "paymentMethod": method})), "SEPA needs ownerName"
    eps = bodies["authorize_eps_redirect"]
    method = {k: v for k, v in eps["paymentMethod"].items() if k != "issuer"}
    assert list(check.iter_errors({**eps, "paymentMethod": method})), "EPS needs its issuer"
    konbini = bodies["authorize_konbini_voucher"]
    method = {k: v for k, v in konbini["paymentMethod"].items() if k != "telephoneNumber"}
    assert list(check.iter_errors({**konbini, "paymentMethod": method})), "econtext needs a phone"
    klarna = bodies["authorize_klarna_redirect"]
    wrong = {**klarna, "paymentMethod": {"type": "klarna_later"}}
    assert list(check.iter_errors(wrong)), "an unknown Klarna type must be rejected"
