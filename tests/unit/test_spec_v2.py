"""Spec format v2 constructs, each on the acme fixture: named and shared tables, ordered status
rules with `unresolved` codes, `$if` subtrees, `let` names, `defaults.body`, steps inheriting
the defaults' error reading, and the money and key filters."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import yaml

from engine import Connector
from engine._build import build_request
from engine._errors import InputError, SpecError
from engine._http import HttpResponse
from engine._load import load_spec_text
from engine._parse import parse_response
from engine._plan import ConnectorPlan
from engine._spec import check_loaded, compile_text
from engine._tables import shared_tables
from engine._templates import FILTERS
from engine._unified import ErrorCode

from .conftest import API_KEY, acme_dict, card_request


def _compile(edit: Any) -> ConnectorPlan:
    data = acme_dict()
    data["spec_version"] = 2
    edit(data)
    return compile_text(yaml.safe_dump(data, sort_keys=False), "acme.yaml")


def _problems(edit: Any) -> list[str]:
    data = acme_dict()
    data["spec_version"] = 2
    edit(data)
    text = yaml.safe_dump(data, sort_keys=False)
    _, problems = check_loaded(load_spec_text(text, "acme.yaml"))
    return [f"{p.line}:{p.col} {p.message}" for p in problems]


def _parse(plan: ConnectorPlan, status: int, body: Any, flow: str = "authorize") -> Any:
    response = HttpResponse(status, {"Content-Type": "application/json"}, json.dumps(body).encode())
    return parse_response(plan, flow, card_request(idempotency_key="k-1"), response)


def _body(plan: ConnectorPlan, request: dict[str, Any], flow: str = "authorize") -> Any:
    built = build_request(plan, flow, request, {"api_key": API_KEY})
    return json.loads(built.body) if built.body else None


# --- tables ---------------------------------------------------------------------------------


def test_a_named_table_in_grouped_form_serves_every_flow() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["map"] = "acme_codes"
        spec["tables"] = {
            "acme_codes": {"insufficient_funds": ["nsf", "51"], "expired": "expired_card"}
        }

    plan = _compile(edit)
    result = _parse(plan, 402, {"error": {"code": "51"}})
    assert (result.status, result.error.code) == ("failed", "insufficient_funds")
    assert _parse(plan, 402, {"error": {"code": "expired"}}).error.code == "expired_card"


def test_a_list_merges_shared_tables_then_overrides_in_order() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["map"] = ["iso8583", {"05": "card_declined"}]

    plan = _compile(edit)
    assert _parse(plan, 402, {"error": {"code": "51"}}).error.code == "insufficient_funds"
    # The inline entry after the shared table wins.
    assert _parse(plan, 402, {"error": {"code": "05"}}).error.code == "card_declined"


def test_passthrough_takes_unified_codes_as_they_are() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["map"] = ["passthrough"]

    plan = _compile(edit)
    assert _parse(plan, 402, {"error": {"code": "suspected_fraud"}}).error.code == "suspected_fraud"
    assert set(shared_tables()["passthrough"][0]) == {str(code) for code in ErrorCode}


def test_shared_tables_target_only_unified_codes() -> None:
    codes = {str(code) for code in ErrorCode}
    for name, (entries, about) in shared_tables().items():
        assert about and entries, name
        assert set(entries.values()) <= codes, name


def test_an_unknown_or_unused_table_is_a_lint_error_at_its_line() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["map"] = "acme_codez"
        spec["tables"] = {"acme_codes": {"insufficient_funds": ["nsf"]}}

    problems = _problems(edit)
    assert any("no table 'acme_codez'" in p for p in problems), problems
    assert any("table 'acme_codes' is never used" in p for p in problems), problems
    assert all(not p.startswith("1:1 ") for p in problems), problems


def test_a_grouped_entry_keeps_the_line_of_the_code_for_lint() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["map"] = "acme_codes"
        spec["tables"] = {"acme_codes": {"not_a_code": ["x1"]}}

    problems = _problems(edit)
    text = yaml.safe_dump({**acme_dict(), "tables": {}}, sort_keys=False)
    assert any("'not_a_code' is not a unified error code" in p for p in problems), problems
    assert text  # the message's line is the table's, not the map's reference:
    (problem,) = [p for p in problems if "not_a_code" in p]
    assert int(problem.split(":")[0]) > 100


# --- status rules -----------------------------------------------------------------------------


def _status_rules(spec: dict[str, Any]) -> None:
    spec["flows"]["authorize"]["response"]["status"] = [
        {
            "if": "response.amount_received and response.amount_received < response.amount",
            "then": "partially_captured",
        },
        {"from": "payment.state", "map": {"DONE": "captured"}, "unresolved": ["UNKNOWN"]},
        {"from": "status", "map": {"approved": "captured", "declined": "failed"}},
    ]


def test_ordered_status_rules_first_decider_wins() -> None:
    plan = _compile(_status_rules)
    assert _parse(plan, 200, {"id": "p1", "amount": 10, "amount_received": 4}).status == (
        "partially_captured"
    )
    assert (
        _parse(plan, 200, {"id": "p1", "payment": {"state": "DONE"}, "status": "declined"}).status
        == "captured"
    )
    # The second rule does not decide (no value): the third reads its own field.
    assert _parse(plan, 200, {"id": "p1", "status": "approved"}).status == "captured"


def test_a_declared_unresolved_status_is_unresolved_not_unmapped() -> None:
    plan = _compile(_status_rules)
    result = _parse(plan, 200, {"id": "p1", "payment": {"state": "UNKNOWN"}})
    assert (result.status, result.error.code) == ("unresolved", "processor_error")
    assert result.connector_status == "UNKNOWN"
    unmapped = _parse(plan, 200, {"id": "p1", "status": "weird"})
    assert (unmapped.status, unmapped.error.code) == ("unresolved", "invalid_response")


def test_a_declared_unresolved_error_code_is_never_failed() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["unresolved"] = ["system_timeout"]

    plan = _compile(edit)
    result = _parse(plan, 402, {"error": {"code": "system_timeout"}})
    assert (result.status, result.error.code) == ("unresolved", "processor_error")
    assert _parse(plan, 402, {"error": {"code": "do_not_honor"}}).status == "failed"


def test_a_status_rule_target_is_linted() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["response"]["status"] = [{"if": "true", "then": "refunded"}]

    assert any("'refunded' is not a unified payment status" in p for p in _problems(edit))


# --- $if, let, defaults.body, steps ------------------------------------------------------------


def _guarded(spec: dict[str, Any]) -> None:
    body = spec["flows"]["authorize"]["request"]["body"]
    source = body.pop("source")
    source.pop("token")
    body["source"] = {"$if": "request.payment_method.type == 'card'", **source, "kind": "card"}
    body["token"] = "{{ request.payment_method.token }}"


def test_an_if_guard_omits_the_whole_subtree() -> None:
    plan = _compile(_guarded)
    card = _body(plan, card_request(idempotency_key="k"))
    assert card["source"]["kind"] == "card" and card["source"]["number"]
    token = _body(
        plan,
        {
            **card_request(idempotency_key="k"),
            "payment_method": {"type": "token", "token": "tok_1"},
        },
    )
    assert "source" not in token and token["token"] == "tok_1"


def test_an_if_guard_is_checked_like_any_template() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["body"]["source"]["$if"] = "request.paymnt_method"

    assert any("paymnt_method" in p for p in _problems(edit))


def test_let_names_are_computed_once_and_read_by_later_templates() -> None:
    def edit(spec: dict[str, Any]) -> None:
        flow = spec["flows"]["authorize"]
        flow["let"] = {
            "card": "{{ request.payment_method.card }}",
            "last": "{{ card.number[-4:] }}",
        }
        flow["request"]["body"]["hint"] = "{{ last }}"
        flow["response"]["let"] = {"money": "{{ response.amount }}"}
        flow["response"]["fields"]["amount"] = "{{ money }}"

    plan = _compile(edit)
    assert _body(plan, card_request(idempotency_key="k"))["hint"] == "1111"
    assert _parse(plan, 200, {"id": "p", "status": "approved", "amount": 1099}).amount == 1099


def test_a_let_name_may_not_shadow_a_root_nor_be_read_before_it_exists() -> None:
    def edit(spec: dict[str, Any]) -> None:
        flow = spec["flows"]["authorize"]
        flow["let"] = {"request": "{{ 1 }}", "early": "{{ later }}", "later": "{{ 2 }}"}

    problems = _problems(edit)
    assert any("'request' shadows" in p for p in problems), problems
    assert any("later" in p for p in problems if "shadows" not in p), problems


def test_a_webhook_let_serves_the_event_fields() -> None:
    def edit(spec: dict[str, Any]) -> None:
        event = spec["webhooks"]["event"]
        event["let"] = {"data": "{{ item.data }}"}
        event["fields"]["amount"] = "{{ data.amount }}"

    plan = _compile(edit)
    assert plan.webhooks is not None and plan.webhooks.bindings[0][0] == "data"


def test_defaults_body_reaches_every_mapping_body_and_a_null_removes_it() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["body"] = {"request_id": "{{ request.idempotency_key }}"}
        spec["flows"]["refund"]["request"]["body"]["request_id"] = None

    plan = _compile(edit)
    assert _body(plan, card_request(idempotency_key="k-7"))["request_id"] == "k-7"
    refund = {
        "connector_transaction_id": "p1",
        "amount": 5,
        "currency": "USD",
        "idempotency_key": "k-8",
    }
    assert "request_id" not in _body(plan, refund, "refund")
    # The key is placed in the body: the engine knows it was sent there.
    assert ("body", ("request_id",)) in plan.flows["authorize"].request.key_placements


def test_a_step_inherits_the_defaults_error_reading() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["steps"] = [
            {
                "name": "session",
                "request": {"method": "POST", "path": "/v1/sessions", "body": {"a": 1}},
            }
        ]

    plan = _compile(edit)
    step = plan.flows["authorize"].steps[0]
    assert step.response.error.code is not None
    assert step.response.error.code_map["insufficient_funds"] == "insufficient_funds"


# --- money and keys ------------------------------------------------------------------------------


def test_money_filters_are_exact() -> None:
    decimal, money, minor = FILTERS["decimal"][0], FILTERS["money"][0], FILTERS["minor"][0]
    assert str(decimal("10.10") * 3) == "30.30"
    assert money("1099", 2) == "10.99" and money(5, 0) == "5" and money("7", 3) == "0.007"
    assert minor("10.99", 2) == 1099 and minor(5, 3) == 5000
    with pytest.raises(ValueError):
        minor("10.999", 2)
    assert decimal(10.99) == decimal("10.99") and str(decimal(0.1) * 3) == "0.3"
    with pytest.raises(ValueError):
        minor("1e999999", 2)


def test_exponent_and_minor_amount_are_in_the_request_context() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["amounts"] = {"format": "major_string"}
        body = spec["flows"]["authorize"]["request"]["body"]
        body["money"] = {"value": "{{ minor_amount }}", "exponent": "{{ exponent }}"}

    plan = _compile(edit)
    body = _body(plan, card_request(idempotency_key="k", currency="KWD", amount=1234))
    assert body["amount"] == "1.234" and body["money"] == {"value": 1234, "exponent": 3}


def test_derive_key_is_stable_per_purpose() -> None:
    derive = FILTERS["derive_key"][0]
    assert derive("k-1", "order") == derive("k-1", "order")
    assert derive("k-1", "order") != derive("k-1", "pay") != derive("k-2", "pay")
    assert len(derive("k-1", "order")) == 36 and derive(None, "x") is None


def test_a_spec_using_v2_constructs_compiles_clean() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _guarded(spec)
        _status_rules(spec)

    assert _compile(edit).id == "acme"
    with pytest.raises(SpecError):
        _compile(lambda spec: spec.update(spec_version=3))


def _lookup_events(edit_map: Any) -> Any:
    """The acme spec whose `payment.updated` event is decided by the payment's status."""

    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "header": "X-Sig",
            "message": "{{ body }}",
            "algorithm": "sha256",
            "key_encoding": "utf8",
            "output": "hex",
        }
        spec["webhooks"]["event"]["map"]["payment.updated"] = edit_map

    return Connector(_compile(edit))


def _event_type(connector: Any, payload: dict[str, Any]) -> str:
    body = json.dumps(payload).encode()
    signature = hmac.new(b"whk", body, hashlib.sha256).hexdigest()
    [event] = connector.parse_event(body, {"X-Sig": signature}, "whk").events
    return str(event.type)


def test_an_event_rule_looks_up_a_value_of_the_item() -> None:
    connector = _lookup_events(
        {
            "from": "data.status",
            "map": {
                "COMPLETED": "payment.captured",
                "APPROVED": {
                    "if": "item.data.manual",
                    "then": "payment.authorized",
                    "else": "payment.pending",
                },
            },
        }
    )

    def typed(data: dict[str, Any]) -> str:
        return _event_type(connector, {"type": "payment.updated", "data": data})

    assert typed({"status": "COMPLETED"}) == "payment.captured"
    assert typed({"status": "APPROVED", "manual": True}) == "payment.authorized"
    assert typed({"status": "APPROVED"}) == "payment.pending"
    # A value not in the map, no value, or a mapping: `unknown` by default.
    assert typed({"status": "SOMETHING_NEW"}) == "unknown"
    assert typed({}) == "unknown"
    assert typed({"status": {"COMPLETED": 1}}) == "unknown"


def test_an_event_lookup_rule_has_an_else_and_reads_let_names_and_its_targets_are_linted() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["event"]["let"] = {"state": "{{ item.data.state | lower }}"}
        spec["webhooks"]["event"]["map"]["payment.updated"] = {
            "from": "{{ state }}",
            "map": {"won": "dispute.closed"},
            "else": "dispute.opened",
        }

    plan = _compile(edit)
    rule = plan.webhooks.event_map["payment.updated"] if plan.webhooks else None
    assert rule is not None
    assert rule({"item": {}, "state": "won"}) == "dispute.closed"
    assert rule({"item": {}, "state": "open"}) == "dispute.opened"

    def bad(spec: dict[str, Any]) -> None:
        spec["webhooks"]["event"]["map"]["payment.updated"] = {
            "from": "data.state",
            "map": {"won": "dispute.finished"},
        }

    assert any("dispute.finished" in p for p in _problems(bad)), _problems(bad)


def test_pick_reshapes_a_mapping_in_one_template() -> None:
    pick = FILTERS["pick"][0]
    address = {"line1": "1 Main St", "line2": None, "city": "Oslo", "country": "NO"}
    picked = pick(address, "street=line1", "street2=line2", "city", "zip=postal_code")
    assert picked == {"street": "1 Main St", "city": "Oslo"}
    assert list(picked) == ["street", "city"]  # the order written
    assert pick(None, "city") is None and pick({"line2": None}, "line2") is None

    def edit(spec: dict[str, Any]) -> None:
        body = spec["flows"]["authorize"]["request"]["body"]
        body["billing"] = "{{ request.billing_address | pick('city', 'zip=postal_code') }}"

    plan = _compile(edit)
    request = card_request(
        idempotency_key="k", billing_address={"city": "Oslo", "postal_code": "0150"}
    )
    assert _body(plan, request)["billing"] == {"city": "Oslo", "zip": "0150"}
    assert "billing" not in _body(plan, card_request(idempotency_key="k"))


def test_pick_keys_are_checked_like_field_paths() -> None:
    def edit(spec: dict[str, Any]) -> None:
        body = spec["flows"]["authorize"]["request"]["body"]
        body["billing"] = "{{ request.billing_address | pick('city', 'zip=postl_code') }}"

    assert any("postl_code" in p for p in _problems(edit))


def test_tables_before_the_flows_are_a_lint_error() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["map"] = "acme_codes"
        tables = {"acme_codes": {"insufficient_funds": ["nsf"]}}
        reordered = {k: v for k, v in spec.items() if k in ("spec_version", "id")}
        reordered["tables"] = tables
        reordered.update({k: v for k, v in spec.items() if k not in reordered})
        spec.clear()
        spec.update(reordered)

    assert any("`tables` belong after `flows`" in p for p in _problems(edit))
    assert not any("belong after" in p for p in _problems(lambda s: s.update(tables={})))


def test_float_near_an_amount_is_a_lint_warning() -> None:
    from engine._lint import lint_warnings

    data = acme_dict()
    data["spec_version"] = 2
    status = data["flows"]["capture"]["response"]["status"]
    status["map"]["captured"] = {
        "if": "response.amount | float < request.amount | float",
        "then": "partially_captured",
        "else": "captured",
    }
    spec = load_spec_text(yaml.safe_dump(data, sort_keys=False), "acme.yaml")
    warnings = [p.message for p in lint_warnings(spec)]
    assert any("`float` near an amount" in w for w in warnings), warnings
    data["flows"]["capture"]["response"]["status"]["map"]["captured"]["if"] = (
        "response.amount | decimal < request.amount"
    )
    spec = load_spec_text(yaml.safe_dump(data, sort_keys=False), "acme.yaml")
    assert not any("float" in p.message for p in lint_warnings(spec))


def test_a_step_answer_about_another_payment_ends_the_flow_before_money_moves() -> None:
    """A step's `response.echo` is checked like a flow's: a stale answer naming another payment
    never feeds the request that moves money."""
    from engine._parse import parse_step

    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["capture"]["steps"] = [
            {
                "name": "payment",
                "request": {
                    "method": "GET",
                    "path": "/v1/payments/{{ request.connector_transaction_id }}",
                },
                "response": {"echo": {"connector_transaction_id": "id"}},
            }
        ]

    plan = _compile(edit)
    request = {"connector_transaction_id": "pay_1", "idempotency_key": "k"}

    def step(body: dict[str, Any]) -> Any:
        answer = HttpResponse(200, {"Content-Type": "application/json"}, json.dumps(body).encode())
        return parse_step(plan, "capture", 0, request, answer)

    assert step({"id": "pay_1", "amount": 500}) == {"id": "pay_1", "amount": 500}
    stale = step({"id": "pay_2", "amount": 900})
    assert stale.status == "failed" and stale.error.code == "invalid_response"
    assert "pay_2" in stale.error.message


def test_a_required_field_scoped_to_a_payment_method_applies_to_it_alone() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["payment_methods"] = ["card", "token", "voucher.boleto"]
        spec["flows"]["authorize"]["required_fields"] = ["voucher.boleto: /customer/tax_id"]

    plan = _compile(edit)
    _body(plan, card_request())  # a card needs no tax id
    boleto = {
        **card_request(),
        "payment_method": {"type": "voucher", "voucher": {"scheme": "boleto"}},
    }
    with pytest.raises(InputError, match=r"with payment method 'voucher\.boleto'"):
        build_request(plan, "authorize", boleto, {"api_key": API_KEY})


def test_a_scope_the_spec_does_not_accept_is_a_lint_error() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["required_fields"] = ["voucher.oxxo: /customer/tax_id"]

    assert any("is not in capabilities" in p for p in _problems(edit))
