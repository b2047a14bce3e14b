"""Checkout.com-specific checks:

- every request the spec builds for a scenario is checked against Checkout.com's own published
  schema for that endpoint (processor_schema.json, extracted from the NAS OpenAPI description):
  the JSON body against the request-body schema, the path's {id} against the path parameter;
- the schema check can fail: broken bodies are rejected;
- webhook fixture signatures are recomputed here with hmac/hashlib, independently of the engine;
- auth and idempotency headers are what Checkout.com documents.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from engine import load_connector

from ..endpoints import Endpoints
from ..scenarios import credentials_for, fixtures_of, processor_schema

HERE = Path(__file__).parent
SCHEMA = processor_schema("checkout_com")
CREDENTIALS = credentials_for("checkout_com")
SCENARIOS = fixtures_of("checkout_com", "scenarios")
WEBHOOKS = fixtures_of("checkout_com", "webhooks")
BUILDABLE = {name: data for name, data in SCENARIOS.items() if "raises" not in data["expect"]}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(
        {**schema, "$defs": SCHEMA["$defs"]}, format_checker=FormatChecker()
    )


ENDPOINT_INDEX = Endpoints(SCHEMA["endpoints"])
_endpoint = ENDPOINT_INDEX.match


def _build(name: str) -> Any:
    data = SCENARIOS[name]
    return load_connector("checkout_com").build_request(data["flow"], data["request"], CREDENTIALS)


def _built_steps(name: str) -> list[Any]:
    """Every request a scenario's flow sends (its steps, then its own), built in order; the
    later ones here read only the unified request (submit_evidence: PUT, then POST)."""
    data = SCENARIOS[name]
    connector = load_connector("checkout_com")
    count = len(connector.plan.flows[data["flow"]].steps) + 1
    return [
        connector.build_request(data["flow"], data["request"], CREDENTIALS, step=i, steps={})
        for i in range(count)
    ]


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _validator(schema).iter_errors(instance)
    ]


def test_schema_source_is_recorded() -> None:
    assert "2fc946cd22e9a6b8e3a33db3c5f4be4d3fe7d74c" in SCHEMA["source"]
    for key, entry in SCHEMA["endpoints"].items():
        if entry["body"] is not None:
            Draft202012Validator.check_schema({**entry["body"], "$defs": SCHEMA["$defs"]})
        assert key.split(" ")[0] in {"GET", "POST", "PUT", "DELETE"}


STEPS = [(name, i) for name in sorted(BUILDABLE) for i in range(len(_built_steps(name)))]


@pytest.mark.parametrize(("name", "step"), STEPS)
def test_request_matches_checkout_schema(name: str, step: int) -> None:
    built = _built_steps(name)[step]
    split = urlsplit(built.url)
    assert split.scheme == "https" and split.netloc == "api.sandbox.checkout.com"
    key, params = _endpoint(built.method, split.path)
    entry = SCHEMA["endpoints"][key]
    for param, value in params.items():
        assert not _problems(entry["path_parameters"][param], value), f"path {param}={value!r}"
    if entry["body"] is None:
        assert not built.body, f"{key} takes no body"
        return
    body = json.loads(built.body) if built.body else {}
    problems = _problems(entry["body"], body)
    assert not problems, f"{name}: {key} body breaks Checkout.com's schema: {problems}"


def test_every_endpoint_is_checked() -> None:
    """The test above is not vacuous: each endpoint the spec uses gets checked, bodies too."""
    ENDPOINT_INDEX.assert_covered(
        (built for name in BUILDABLE for built in _built_steps(name)), SCHEMA["endpoints"]
    )


def _manual_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_build("authorize_card_manual").body)
    return body


@pytest.mark.parametrize(
    ("label", "breaks"),
    [
        ("card source without its number", lambda b: b["source"].pop("number")),
        ("expiry month as text", lambda b: b["source"].__setitem__("expiry_month", "03")),
        ("amount as a decimal string", lambda b: b.__setitem__("amount", "65.40")),
        ("currency of four letters", lambda b: b.__setitem__("currency", "GBPX")),
        ("payment_type not in its enum", lambda b: b.__setitem__("payment_type", "Ecommerce")),
        (
            "token source with a non-token",
            lambda b: b.__setitem__("source", {"type": "token", "token": "4242"}),
        ),
        (
            "stored source with a token id",
            lambda b: b.__setitem__("source", {"type": "id", "id": "tok_x"}),
        ),
        ("description over 100 characters", lambda b: b.__setitem__("description", "x" * 101)),
        ("an IP that is not IPv4", lambda b: b.__setitem__("payment_ip", "not-an-ip")),
    ],
)
def test_schema_rejects_broken_payment_bodies(label: str, breaks: Any) -> None:
    schema = SCHEMA["endpoints"]["POST /payments"]["body"]
    body = _manual_body()
    assert not _problems(schema, body)
    broken = copy.deepcopy(body)
    breaks(broken)
    assert _problems(schema, broken), f"a body with {label} was accepted"


def test_schema_rejects_broken_action_bodies_and_ids() -> None:
    capture = SCHEMA["endpoints"]["POST /payments/{id}/captures"]
    assert _problems(capture["body"], {"amount": "4000"})
    assert _problems(capture["body"], {"amount": -1})
    assert _problems(
        SCHEMA["endpoints"]["POST /payments/{id}/refunds"]["body"], {"reference": "x" * 51}
    )
    assert _problems(capture["path_parameters"]["id"], "ch_3MtwBwLkdIwHu7ix28a3tqPa")


def test_description_is_cut_to_checkouts_limit() -> None:
    data = copy.deepcopy(SCENARIOS["authorize_card_manual"])
    data["request"]["description"] = "d" * 300
    built = load_connector("checkout_com").build_request("authorize", data["request"], CREDENTIALS)
    body = json.loads(built.body or b"{}")
    assert body["description"] == "d" * 100
    assert not _problems(SCHEMA["endpoints"]["POST /payments"]["body"], body)


def test_sources_by_payment_method() -> None:
    card = json.loads(_build("authorize_card_manual").body)["source"]
    token = json.loads(_build("authorize_token_frames").body)["source"]
    stored = json.loads(_build("authorize_stored_source").body)["source"]
    assert card["type"] == "card" and card["expiry_month"] == 3 and card["expiry_year"] == 2030
    assert token == {
        "type": "token",
        "token": "tok_ubfj2q76miwundwlk72vxt2i7q",
        "billing_address": {
            "address_line1": "350 Fifth Avenue",
            "city": "New York",
            "state": "NY",
            "zip": "10118",
            "country": "US",
        },
    }
    assert stored == {"type": "id", "id": "src_wmlfc3zyhqzehihu7giusaaawu"}


def test_capture_flag_and_3ds() -> None:
    manual = json.loads(_build("authorize_card_manual").body)
    automatic = json.loads(_build("authorize_card_automatic_captured").body)
    three_ds = json.loads(_build("authorize_3ds_requires_action").body)
    assert manual["capture"] is False and automatic["capture"] is True
    assert "3ds" not in manual
    assert three_ds["3ds"] == {"enabled": True, "challenge_indicator": "challenge_requested"}
    assert (
        three_ds["success_url"]
        == three_ds["failure_url"]
        == "https://shop.example.com/checkout/return"
    )
    assert three_ds["payment_ip"] == "203.0.113.10"


def test_headers() -> None:
    for name in BUILDABLE:
        built = _build(name)
        headers = {k.lower(): v for k, v in built.headers.items()}
        assert headers["authorization"] == f"Bearer {CREDENTIALS['secret_key']}"
        if built.method == "POST":
            assert headers["cko-idempotency-key"] == SCENARIOS[name]["request"]["idempotency_key"]
            if built.body:
                assert headers["content-type"] == "application/json"
        else:
            assert "cko-idempotency-key" not in headers


def _signature(secret: str, body: str) -> str:
    return hmac.new(secret.encode("utf-8"), body.encode("utf-8"), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_webhook_fixture_signatures(name: str) -> None:
    """Recomputed with the standard library, not the engine: hex(HMAC-SHA256(key, raw body))."""
    data = WEBHOOKS[name]
    header = {k.lower(): v for k, v in data["headers"].items()}.get("cko-signature")
    expected = _signature(data["secret"], data["body_text"])
    rejected = data["expect"].get("rejected")
    if rejected == "missing_signature":
        assert header is None
    elif rejected == "bad_signature":
        assert header is not None and header != expected
    else:
        assert header == expected
        # Verified events come from a body that really is a Checkout.com event.
        event = json.loads(data["body_text"])
        assert event["id"].startswith("evt_") and event["type"] and event["data"]


def test_webhook_kinds_covered() -> None:
    outcomes = {data["expect"].get("rejected", "accepted") for data in WEBHOOKS.values()}
    assert {"accepted", "bad_signature", "missing_signature"} <= outcomes
    types = {json.loads(data["body_text"])["type"] for data in WEBHOOKS.values()}
    assert {"payment_captured", "payment_refunded", "payment_declined"} <= types


def test_clp_is_sent_in_hundredths() -> None:
    body = json.loads(_build("authorize_clp_amount_rescaled").body or b"{}")
    assert (body["amount"], body["currency"]) == (1599000, "CLP")


def test_stored_credentials_tokens_and_external_3ds() -> None:
    """The request-side v2 features land where NAS puts them (C:PaymentRequest, 3dsRequest)."""
    mit = json.loads(_build("charge_recurring_mit_authorized").body)
    assert mit["source"] == {"type": "id", "id": "src_nq6m3p2qk3dupnbtbqnsa6zb5i"}
    assert mit["merchant_initiated"] is True and mit["payment_type"] == "Recurring"
    assert mit["previous_payment_id"] == "683904217510325"
    unscheduled = json.loads(_build("charge_recurring_declined_merchant_advice").body)
    assert unscheduled["payment_type"] == "Regular"
    stored_card = json.loads(_build("authorize_mit_stored_card").body)
    assert stored_card["source"]["stored"] is True and "payment_type" not in stored_card
    first = json.loads(_build("authorize_card_saved_for_later").body)
    assert "stored" not in first["source"] and "merchant_initiated" not in first
    setup = json.loads(_build("setup_recurring_card_verified").body)
    assert "amount" not in setup and setup["capture"] is False
    assert setup["payment_type"] == "Recurring"
    network_token = json.loads(_build("authorize_network_token").body)["source"]
    assert (network_token["type"], network_token["token_type"]) == ("network_token", "vts")
    apple_pay = json.loads(_build("authorize_apple_pay_decrypted").body)["source"]
    assert (apple_pay["type"], apple_pay["token_type"], apple_pay["eci"]) == (
        "network_token",
        "applepay",
        "02",
    )
    external = json.loads(_build("authorize_external_3ds").body)["3ds"]
    assert external == {
        "enabled": True,
        "eci": "05",
        "cryptogram": "AAABBIIFmAAAAAAAAAAAAAAAAAA=",
        "xid": "f25084f0-5b16-4c0a-ae5d-b24808a95e4b",
        "version": "2.2.0",
    }
    assert json.loads(_build("authorize_moto_card").body)["payment_type"] == "MOTO"
    assert json.loads(_build("capture_partial_non_final").body)["capture_type"] == "NonFinal"
    assert "capture_type" not in json.loads(_build("capture_partial").body)


def test_schema_rejects_broken_dispute_and_increment_bodies() -> None:
    evidence = SCHEMA["endpoints"]["PUT /disputes/{dispute_id}/evidence"]["body"]
    body = json.loads(_built_steps("submit_evidence_submitted")[0].body)
    assert body["proof_of_delivery_or_service_text"].startswith("Delivered")
    assert not _problems(evidence, body)
    assert _problems(evidence, {**body, "invoice_or_receipt_text": 5})
    assert _problems(evidence, {**body, "customer_communication_file": ["file_x"]})
    increment = SCHEMA["endpoints"]["POST /payments/{id}/authorizations"]
    sent = json.loads(_build("incremental_authorize_authorized").body)
    assert sent == {"amount": 2500, "reference": "ORD-5023-4E89-INC1"}, "the increase, not a total"
    assert not _problems(increment["body"], sent)
    assert _problems(increment["body"], {**sent, "amount": -1})
    assert _problems(increment["body"], {**sent, "amount": "25.00"})
    dispute_id = SCHEMA["endpoints"]["GET /disputes/{dispute_id}"]["path_parameters"]["dispute_id"]
    assert _problems(dispute_id, "pay_ujzdegxdncf32epf3dhodzdoci")
    verify = json.loads(_build("verify_card_verified").body)
    assert verify["amount"] == 0 and verify["capture"] is False and "stored" not in verify["source"]


# --- bank redirects ---------------------------------------------------------------------------


def test_bank_redirect_sources() -> None:
    def source(name: str) -> Any:
        return json.loads(_build(name).body)["source"]

    assert source("authorize_ideal_redirect") == {
        "type": "ideal",
        "bic": "INGBNL2A",
        "description": "ORD50234E89",
        "language": "nl",
    }
    assert source("authorize_bancontact_redirect") == {
        "type": "bancontact",
        "payment_country": "BE",
        "account_holder_name": "Lotte Peeters",
        "language": "nl",
    }
    # The description cut to EPS's 27 characters.
    assert source("authorize_eps_redirect") == {
        "type": "eps",
        "purpose": "Mountain boots order ORD-EP",
    }
    assert source("authorize_przelewy24_redirect") == {
        "type": "p24",
        "payment_country": "PL",
        "account_holder_name": "Jan Kowalski",
        "account_holder_email": "jan.kowalski@example.com",
    }


@pytest.mark.parametrize(
    ("name", "pointer"),
    [
        ("authorize_ideal_without_issuer_refused", "/payment_method/bank_redirect/issuer"),
        ("authorize_p24_without_email_refused", "/customer/email"),
    ],
)
def test_bank_redirect_data_is_refused_before_sending(name: str, pointer: str) -> None:
    from engine import InputError

    with pytest.raises(InputError) as caught:
        _build(name)
    assert caught.value.pointer == pointer


def test_schema_rejects_broken_bank_redirect_sources() -> None:
    payment = SCHEMA["endpoints"]["POST /payments"]["body"]
    body = json.loads(_build("authorize_ideal_redirect").body)
    assert not _problems(payment, body)
    no_bic = {**body, "source": {k: v for k, v in body["source"].items() if k != "bic"}}
    assert _problems(payment, no_bic), "iDEAL needs its bic"
    p24 = json.loads(_build("authorize_przelewy24_redirect").body)
    wrong = {**p24, "source": {**p24["source"], "payment_country": "DE"}}
    assert _problems(payment, wrong), "P24 is Polish only"
    extra = {**p24, "source": {**p24["source"], "billing_address": {"country": "PL"}}}
    assert _problems(payment, extra), "an undocumented source field must be rejected"
