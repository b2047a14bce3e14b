"""engine._contexts: each template context declared once, and every template checked against
the variables of its own context (a webhook template cannot read `response`; a step's template
sees only the steps before it)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from engine._compile import Compiler
from engine._contexts import CONTEXTS, HOLDS
from engine._errors import Problem
from engine._load import load_spec_text
from engine._spec import check_loaded, compile_text

from .conftest import ACME_SPEC, WEBHOOK_SECRET

NOW = 1_700_000_000


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def changed(old: str, new: str, text: str = ACME_SPEC) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def lint(text: str) -> list[Problem]:
    plan, problems = check_loaded(load_spec_text(text, "acme.yaml"))
    assert (plan is None) == bool(problems)
    return problems


def test_the_compiler_checks_each_context_against_its_declared_variables() -> None:
    compiler = Compiler(load_spec_text(ACME_SPEC, "acme.yaml"))
    for name, context in CONTEXTS.items():
        with_steps = {v.name for v in context.variables}
        without_steps = {v.name for v in context.variables if not v.steps_only}
        assert set(compiler.roots(name, "authorize", ())) == with_steps, name
        assert set(compiler.roots(name, "authorize")) == without_steps, name
        assert all(v.holds in HOLDS for v in context.variables), name


WEBHOOK_FIELD = "      connector_transaction_id: data.payment_id\n"


@pytest.mark.parametrize("variable", ["response", "request", "http_status", "amount"])
def test_a_webhook_template_cannot_read_what_a_delivery_does_not_have(variable: str) -> None:
    # Before: `response`, `request` and `http_status` linted clean and rendered null.
    text = changed(
        WEBHOOK_FIELD, f'      connector_transaction_id: "{{{{ {variable}.data.payment_id }}}}"\n'
    )
    (problem,) = lint(text)
    assert (problem.line, problem.col) == (line_of(text, f"{{{{ {variable}.data.payment_id"), 33)
    assert problem.pointer == "/webhooks/event/fields/connector_transaction_id"
    assert problem.message.startswith(f"unknown variable {variable!r}")
    assert problem.message.endswith("(available: headers, item)")


def test_the_signature_source_is_a_webhook_item_template_too() -> None:
    text = changed(
        '    header: Acme-Signature\n    parse: {pair_separator: ",", value_separator: "=", '
        "signature_key: v1, timestamp_key: t}\n",
        '    from: "{{ response.signature }}"\n',
    )
    text = changed("    tolerance_seconds: 300\n", "", text)
    (problem,) = lint(text)
    assert problem.pointer == "/webhooks/signature/from"
    assert problem.message == "unknown variable 'response' (available: headers, item)"


def test_the_webhook_item_variables_are_there_when_an_event_is_read() -> None:
    text = changed(
        WEBHOOK_FIELD,
        '      connector_transaction_id: "{{ item.data.payment_id }}"\n'
        "      reference: \"{{ headers['x-acme-reference'] }}\"\n",
    )
    plan = compile_text(text, "acme.yaml")
    body = json.dumps({"id": "evt_1", "type": "payment.captured", "data": {"payment_id": "p_1"}})
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{NOW}.{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Acme-Signature": f"t={NOW},v1={mac}", "X-Acme-Reference": "order-7"}
    from engine._webhooks import parse_event

    (event,) = parse_event(plan, body.encode(), headers, WEBHOOK_SECRET, now=NOW).events
    assert (event.connector_transaction_id, event.reference) == ("p_1", "order-7")


# --- steps: each template sees the answers of the steps before it ------------------------------

AUTHORIZE = """  authorize:
    request:
      method: POST
      path: /v1/payments
      body:
"""


def with_steps(first: str, second: str, final: str, first_response: str = "id") -> str:
    steps = f"""  authorize:
    steps:
      - name: session
        request:
          method: POST
          path: /v1/sessions
          body: {{reference: "{{{{ request.reference }}}}", other: "{first}"}}
        response:
          fields: {{connector_transaction_id: "{first_response}"}}
      - name: customer
        request:
          method: POST
          path: /v1/customers
          body: {{session: "{second}"}}
    request:
      method: POST
      path: /v1/payments
      body:
        from_steps: "{final}"
"""
    return changed(AUTHORIZE, steps)


def test_templates_may_read_earlier_steps() -> None:
    assert lint(with_steps("x", "{{ steps.session.id }}", "{{ steps.customer.id }}")) == []


def test_a_step_reading_a_later_step_is_an_error() -> None:
    text = with_steps("{{ steps.customer.id }}", "x", "x")
    (problem,) = lint(text)
    assert problem.pointer == "/flows/authorize/steps/0/request/body/other"
    assert problem.line == line_of(text, "steps.customer.id")
    assert problem.message == (
        "step 'customer' has not answered yet here (a template sees only the answers of the "
        "steps before it: none)"
    )


def test_a_step_response_reading_its_own_step_is_an_error() -> None:
    # Its own answer is `response`; `steps` holds only the steps before it.
    text = with_steps("x", "x", "x", first_response="{{ steps.session.id }}")
    (problem,) = lint(text)
    assert problem.pointer == "/flows/authorize/steps/0/response/fields/connector_transaction_id"
    assert problem.message.startswith("step 'session' has not answered yet here")


def test_a_step_that_does_not_exist_is_an_error_with_did_you_mean() -> None:
    text = with_steps("x", "{{ steps.sesion.id }}", "x")
    (problem,) = lint(text)
    assert problem.pointer == "/flows/authorize/steps/1/request/body/session"
    assert problem.message == (
        "there is no step 'sesion'; did you mean 'session'? (steps: session, customer)"
    )


def test_a_flow_without_steps_has_no_steps_variable() -> None:
    text = changed(
        '        reference: "{{ request.reference }}"', '        reference: "{{ steps.a }}"'
    )
    (problem,) = lint(text)
    assert problem.message == (
        "unknown variable 'steps' (available: amount, credentials, exponent, minor_amount, "
        "request, total_amount)"
    )
