"""engine._build: unified request + credentials → the exact HttpRequest, or an exception (nothing
sent) for bad input, an unsupported request, bad credentials or a template failure."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine._build import build_request
from engine._errors import CredentialsError, InputError, RenderError, SpecError, UnsupportedError
from engine._plan import ConnectorPlan

from .conftest import API_KEY, CARD_NUMBER, CVC, acme_variant, card_request

CREDENTIALS = {"api_key": API_KEY}


def card(**fields: Any) -> dict[str, Any]:
    return {
        "type": "card",
        "card": {"number": CARD_NUMBER, "exp_month": 3, "exp_year": 2030, **fields},
    }


def test_authorize_request(acme: ConnectorPlan) -> None:
    request = card_request(
        idempotency_key="idem-1",
        reference="order-1",
        metadata={"cart": "c9"},
        capture_method="manual",
    )
    built = build_request(acme, "authorize", request, CREDENTIALS)
    assert built.method == "POST"
    assert built.url == "https://eu-sandbox.acme-pay.com/v1/payments"
    assert dict(built.headers) == {
        "Idempotency-Key": "idem-1",
        "X-Api-Key": API_KEY,
        "Content-Type": "application/json",
    }
    assert json.loads(built.body or b"") == {
        "amount": 1099,
        "currency": "USD",
        "capture": False,
        "reference": "order-1",
        "source": {"number": CARD_NUMBER, "expiry_month": 3, "expiry_year": 2030, "cvc": CVC},
        "metadata": {"cart": "c9"},
    }


def test_get_request_has_no_body(acme: ConnectorPlan) -> None:
    built = build_request(acme, "get", {"connector_transaction_id": "pay_1"}, CREDENTIALS)
    assert (built.method, built.url, built.body) == (
        "GET",
        "https://eu-sandbox.acme-pay.com/v1/payments/pay_1",
        None,
    )
    assert dict(built.headers) == {"X-Api-Key": API_KEY}


def test_production_environment_and_a_setting_in_the_host(acme: ConnectorPlan) -> None:
    built = build_request(
        acme,
        "get",
        {"connector_transaction_id": "pay_1"},
        {**CREDENTIALS, "region": "us"},
        environment="production",
    )
    assert built.url == "https://us-api.acme-pay.com/v1/payments/pay_1"


def test_unknown_environment(acme: ConnectorPlan) -> None:
    with pytest.raises(UnsupportedError, match="acme has no environment 'staging'"):
        build_request(
            acme, "get", {"connector_transaction_id": "p"}, CREDENTIALS, environment="staging"
        )


# --- invalid input -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["4111x11111111111", "41111111111111111111111", "411111"])
def test_bad_card_number_points_at_the_field_and_hides_the_value(
    acme: ConnectorPlan, number: str
) -> None:
    with pytest.raises(InputError) as caught:
        build_request(
            acme, "authorize", card_request(payment_method=card(number=number)), CREDENTIALS
        )
    assert caught.value.pointer == "/payment_method/card/number"
    assert caught.value.message == "is not in the expected format"
    assert number not in str(caught.value)
    assert number not in repr(caught.value)
    assert caught.value.__cause__ is None


def test_bad_cvc_hides_the_value(acme: ConnectorPlan) -> None:
    with pytest.raises(InputError) as caught:
        build_request(
            acme, "authorize", card_request(payment_method=card(cvc="98765")), CREDENTIALS
        )
    assert caught.value.pointer == "/payment_method/card/cvc"
    assert "98765" not in str(caught.value)


@pytest.mark.parametrize(
    ("request_", "pointer", "message"),
    [
        (card_request(amont=5), "/amont", "is not a known field; did you mean 'amount'?"),
        (
            card_request(
                payment_method={
                    "type": "card",
                    "card": {"numbr": CARD_NUMBER, "exp_month": 3, "exp_year": 2030},
                }
            ),
            "/payment_method/card/numbr",
            "is not a known field; did you mean 'number'?",
        ),
        (card_request(amount=-1), "/amount", "must be at least 0"),
        (card_request(amount="10"), "/amount", "must be of type integer"),
        (
            card_request(payment_method=card(exp_month=13)),
            "/payment_method/card/exp_month",
            "must be at most 12",
        ),
        (
            card_request(capture_method="later"),
            "/capture_method",
            "must be one of 'automatic', 'manual'",
        ),
        (card_request(currency="usd"), "/currency", "is not in the expected format"),
        (card_request(currency="XYZ"), "/currency", "is not an ISO 4217 currency code"),
        ({"currency": "USD", "payment_method": card()}, "/amount", "is required"),
        (card_request(payment_method={"type": "card"}), "/payment_method/card", "is required"),
        (card_request(metadata={"k": 1}), "/metadata/k", "must be of type string"),
    ],
)
def test_invalid_input(
    acme: ConnectorPlan, request_: dict[str, Any], pointer: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        build_request(acme, "authorize", request_, CREDENTIALS)
    assert (caught.value.pointer, caught.value.message) == (pointer, message)


def test_a_request_must_be_a_mapping(acme: ConnectorPlan) -> None:
    with pytest.raises(InputError) as caught:
        build_request(acme, "authorize", ["x"], CREDENTIALS)  # type: ignore[arg-type]
    assert caught.value.pointer == "/"


# --- unsupported: refused before anything else ------------------------------------------------


def test_unsupported_flow_before_anything(acme: ConnectorPlan) -> None:
    with pytest.raises(UnsupportedError) as caught:
        build_request(acme, "complete_authorize", {"nonsense": True}, None)
    assert str(caught.value) == (
        "acme does not support the 'complete_authorize' flow; "
        "it supports: authorize, capture, void, refund, get, get_refund"
    )


def test_unsupported_payment_method_before_credentials(acme: ConnectorPlan) -> None:
    request = card_request(
        payment_method={"type": "wallet", "wallet": {"type": "apple_pay", "token": "t"}}
    )
    with pytest.raises(UnsupportedError) as caught:
        build_request(acme, "authorize", request, None)
    assert str(caught.value) == "acme does not accept payment method 'wallet'"
    assert caught.value.pointer == "/payment_method/type"


def test_unsupported_currency_before_credentials(acme: ConnectorPlan) -> None:
    with pytest.raises(UnsupportedError) as caught:
        build_request(acme, "authorize", card_request(currency="GBP"), None)
    assert str(caught.value) == "acme does not accept currency GBP"
    assert caught.value.pointer == "/currency"


def test_unsupported_capture_method_before_credentials() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["capture_methods"] = ["automatic"]
        del spec["capabilities"]["partial_capture"]
        del spec["flows"]["capture"]

    plan = acme_variant(edit)
    with pytest.raises(UnsupportedError) as caught:
        build_request(plan, "authorize", card_request(capture_method="manual"), None)
    assert str(caught.value) == "acme does not support manual capture"
    assert caught.value.pointer == "/capture_method"
    # Automatic capture (also the default when absent) is fine.
    built = build_request(plan, "authorize", card_request(), CREDENTIALS)
    assert json.loads(built.body or b"")["capture"] is True


def test_required_fields() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["required_fields"] = ["/reference", "/customer/email"]

    plan = acme_variant(edit)
    with pytest.raises(InputError) as caught:
        build_request(plan, "authorize", card_request(), CREDENTIALS)
    assert (caught.value.pointer, caught.value.message) == (
        "/reference",
        "is required by Acme Pay for authorize",
    )
    with pytest.raises(InputError) as caught:
        build_request(plan, "authorize", card_request(reference="r1"), CREDENTIALS)
    assert caught.value.pointer == "/customer/email"
    request = card_request(reference="r1", customer={"email": "a@example.com"})
    assert build_request(plan, "authorize", request, CREDENTIALS).method == "POST"


def test_required_fields_for_one_payment_method() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["payment_methods"] = ["card", "bnpl", "bank_debit.ach"]
        spec["flows"]["authorize"]["required_fields"] = [
            "bnpl: /line_items",
            "bank_debit.ach: /customer/email | /customer/phone",
        ]

    plan = acme_variant(edit)
    # A card needs neither.
    assert build_request(plan, "authorize", card_request(), CREDENTIALS).method == "POST"
    klarna = {"type": "bnpl", "bnpl": {"provider": "klarna"}}
    with pytest.raises(InputError) as caught:
        build_request(plan, "authorize", card_request(payment_method=klarna), CREDENTIALS)
    assert (caught.value.pointer, caught.value.message) == (
        "/line_items",
        "is required by Acme Pay for authorize with payment method 'bnpl'",
    )
    lines = [{"name": "Shoes", "quantity": 1, "unit_amount": 1099}]
    request = card_request(payment_method=klarna, line_items=lines)
    assert build_request(plan, "authorize", request, CREDENTIALS).method == "POST"
    ach = {
        "type": "bank_debit",
        "bank_debit": {
            "scheme": "ach",
            "account_holder_name": "A B",
            "account_number": "000123456789",
            "routing_number": "110000000",
        },
    }
    with pytest.raises(InputError) as caught:
        build_request(plan, "authorize", card_request(payment_method=ach), CREDENTIALS)
    assert (caught.value.pointer, caught.value.message) == (
        "/customer/email",
        "is required by Acme Pay for authorize with payment method 'bank_debit.ach'"
        " (or /customer/phone)",
    )


def test_required_fields_method_must_be_declared() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["required_fields"] = ["bnpl: /line_items"]

    with pytest.raises(SpecError, match="payment method 'bnpl' is not in capabilities"):
        acme_variant(edit)


# --- credentials and hosts --------------------------------------------------------------------


def test_missing_credentials(acme: ConnectorPlan) -> None:
    with pytest.raises(CredentialsError, match="credential 'api_key' is required"):
        build_request(acme, "authorize", card_request(), None)


@pytest.mark.parametrize(
    "region", ["evil.com/", "x.evil", "evil.com#", "evil.com?", "a@b", "x:1", "a_b"]
)
def test_a_host_label_cannot_leave_the_declared_domain(acme: ConnectorPlan, region: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        build_request(acme, "authorize", card_request(), {**CREDENTIALS, "region": region})
    assert (
        str(caught.value)
        == "acme: the sandbox base URL left the declared host *-sandbox.acme-pay.com"
    )
    assert API_KEY not in str(caught.value)


def test_a_literal_port_is_part_of_the_declared_host() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["environments"]["sandbox"] = "https://sandbox.acme-pay.com:8443"
        spec["environments"]["production"] = "https://{{ credentials.region }}.acme-pay.com:8443"

    plan = acme_variant(edit)
    built = build_request(plan, "get", {"connector_transaction_id": "p"}, CREDENTIALS)
    assert built.url == "https://sandbox.acme-pay.com:8443/v1/payments/p"
    built = build_request(
        plan, "get", {"connector_transaction_id": "p"}, CREDENTIALS, environment="production"
    )
    assert built.url == "https://eu.acme-pay.com:8443/v1/payments/p"


def test_a_secret_never_reaches_the_host() -> None:
    # `credentials.get(...)` is not a plain path, so name checks cannot see which key it reads;
    # the environment is rendered with the non-secret settings only.
    def edit(spec: dict[str, Any]) -> None:
        spec["environments"]["sandbox"] = "https://{{ credentials.get('api_key') }}.acme-pay.com"
        del spec["credentials"]["api_key"]["pattern"]

    plan = acme_variant(edit)
    built = build_request(plan, "get", {"connector_transaction_id": "p"}, {"api_key": "deadbeef42"})
    assert "deadbeef42" not in built.url
    assert built.headers["X-Api-Key"] == "deadbeef42"


def test_base_url_override_is_used_verbatim(acme: ConnectorPlan) -> None:
    built = build_request(
        acme,
        "get",
        {"connector_transaction_id": "pay_1"},
        {**CREDENTIALS, "region": "x.evil"},
        base_url="http://127.0.0.1:12111/prefix/",
        allow_undeclared_host=True,
    )
    assert built.url == "http://127.0.0.1:12111/prefix/v1/payments/pay_1"


# --- headers, query, path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference", ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb", "caf\u00e9", " lead"]
)
def test_cr_lf_in_a_header_value_is_refused(reference: str) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["headers"] = {
            "X-Reference": "{{ request.reference }}"
        }

    plan = acme_variant(edit)
    with pytest.raises(RenderError) as caught:
        build_request(plan, "authorize", card_request(reference=reference), CREDENTIALS)
    assert caught.value.pointer == "/headers/X-Reference"
    assert str(caught.value).startswith("/headers/X-Reference: a header may not contain CR or LF")
    assert reference not in str(caught.value)


@pytest.mark.parametrize("name", ["X Ref", "X-Ref:", "X\x00Ref", "", "X-R\u00e9f"])
def test_a_header_name_that_is_not_a_token_is_refused(name: str) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["headers"] = {name: "1"}

    plan = acme_variant(edit)
    with pytest.raises(RenderError) as caught:
        build_request(plan, "authorize", card_request(), CREDENTIALS)
    assert caught.value.pointer == f"/headers/{name}"


def test_header_values_are_text() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["headers"] = {
            "X-Amount": "{{ request.amount }}",
            "X-Manual": "{{ request.capture_method == 'manual' }}",
        }

    built = build_request(acme_variant(edit), "authorize", card_request(), CREDENTIALS)
    assert built.headers["X-Amount"] == "1099"
    assert built.headers["X-Manual"] == "false"


def test_query_parameters_are_encoded_and_nulls_dropped() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["get"]["request"]["query"] = {
            "expand": "charges & refunds",
            "id": "{{ request.connector_transaction_id }}",
            "mode": "{{ request.capture_method }}",
        }

    built = build_request(
        acme_variant(edit), "get", {"connector_transaction_id": "p/1"}, CREDENTIALS
    )
    assert (
        built.url
        == "https://eu-sandbox.acme-pay.com/v1/payments/p%2F1?expand=charges+%26+refunds&id=p%2F1"
    )


def test_path_parameters_are_one_segment(acme: ConnectorPlan) -> None:
    built = build_request(
        acme, "capture", {"connector_transaction_id": "../../admin?x=1#"}, CREDENTIALS
    )
    assert (
        built.url
        == "https://eu-sandbox.acme-pay.com/v1/payments/..%2F..%2Fadmin%3Fx%3D1%23/captures"
    )


def test_amount_root_is_the_processor_format(acme: ConnectorPlan) -> None:
    built = build_request(
        acme,
        "capture",
        {"connector_transaction_id": "p", "amount": 500, "currency": "USD"},
        CREDENTIALS,
    )
    assert json.loads(built.body or b"") == {"amount": 500}
    built = build_request(acme, "capture", {"connector_transaction_id": "p"}, CREDENTIALS)
    assert built.body == b"{}"


def test_the_built_request_prints_without_secrets_or_card_data(acme: ConnectorPlan) -> None:
    built = build_request(acme, "authorize", card_request(), CREDENTIALS)
    shown = repr(built) + json.dumps(built.redacted())
    for value in (API_KEY, CARD_NUMBER, f'"{CVC}"'):
        assert value not in shown
    assert built.redacted()["headers"]["X-Api-Key"] == "[REDACTED]"


def test_flow_templates_never_see_secrets_however_they_ask() -> None:
    from tests.unit.conftest import acme_variant

    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["headers"] = {
            "X-Probe": "{{ credentials.get('api_key') }}"
        }

    plan = acme_variant(edit)
    built = build_request(plan, "authorize", card_request(), {"api_key": API_KEY})
    assert "X-Probe" not in built.headers  # null: the secret is not in the flow's context
    assert API_KEY not in (built.body or b"").decode()


def test_three_ds_is_refused_where_the_spec_cannot_run_it() -> None:
    from engine import UnsupportedError
    from tests.unit.conftest import acme_variant

    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["three_ds"] = False
        del spec["flows"]["authorize"]["response"]["next_action"]

    plan = acme_variant(edit)
    with pytest.raises(UnsupportedError) as caught:
        build_request(
            plan, "authorize", card_request(three_ds={"request": "challenge"}), {"api_key": API_KEY}
        )
    assert caught.value.pointer == "/three_ds/request"
    build_request(
        plan, "authorize", card_request(three_ds={"request": "never"}), {"api_key": API_KEY}
    )


def test_required_fields_may_name_alternatives() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["flows"]["refund"]["required_fields"] = ["/reference | /metadata"]

    plan = acme_variant(edit)
    request = {"connector_transaction_id": "pay_1", "amount": 100, "currency": "USD"}
    with pytest.raises(InputError) as raised:
        build_request(plan, "refund", request, CREDENTIALS)
    assert raised.value.pointer == "/reference"
    assert "(or /metadata)" in raised.value.message
    for present in ({"reference": "r-1"}, {"metadata": {"k": "v"}}):
        build_request(plan, "refund", {**request, **present}, CREDENTIALS)


def test_validation_leaves_the_callers_request_unchanged(acme: ConnectorPlan) -> None:
    request = card_request()
    before = json.dumps(request, sort_keys=True)
    build_request(acme, "authorize", request, CREDENTIALS)
    assert json.dumps(request, sort_keys=True) == before  # no schema default written into it


def test_a_scheme_the_spec_does_not_declare_is_refused_by_its_pointer() -> None:
    from engine import load_connector

    mollie = load_connector("mollie")
    request = {
        "amount": 1000,
        "currency": "EUR",
        "description": "Order 1",
        "return_url": "https://shop.example/return",
        "payment_method": {"type": "bank_transfer", "bank_transfer": {"scheme": "pix"}},
    }
    with pytest.raises(UnsupportedError) as caught:
        mollie.build_request(
            "authorize", request, {"api_key": "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"}
        )
    assert str(caught.value) == "mollie does not accept payment method 'bank_transfer.pix'"
    assert caught.value.pointer == "/payment_method/bank_transfer/scheme"
    ideal = {
        **request,
        "payment_method": {"type": "bank_redirect", "bank_redirect": {"type": "ideal"}},
    }
    mollie.build_request("authorize", ideal, {"api_key": "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"})
