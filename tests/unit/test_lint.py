"""engine._lint and the compile-time template checks: each rule triggered by a minimal bad spec,
reported at the right line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine._errors import Problem
from engine._lint import LINT_RULES
from engine._load import load_spec_text
from engine._spec import check_loaded, lint_file

from .conftest import ACME_SPEC


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line holding `needle` (a trailing newline: ending so)."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line + "\n":
            return number
    raise AssertionError(f"{needle!r} not in the text")


def lint(text: str, file: str = "acme.yaml") -> list[Problem]:
    plan, problems = check_loaded(load_spec_text(text, file))
    assert (plan is None) == bool(problems)
    return problems


def changed(old: str, new: str) -> str:
    assert ACME_SPEC.count(old) == 1, old
    return ACME_SPEC.replace(old, new)


def only_problem(text: str, file: str = "acme.yaml") -> Problem:
    problems = lint(text, file)
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


def test_the_fixture_spec_is_clean() -> None:
    assert lint(ACME_SPEC) == []


# A minimal bad spec per rule of LINT_RULES: (text, the bad line's text, column, pointer, message).
RULE_CASES: dict[str, tuple[str, str, int, str, str]] = {
    "status_targets": (
        changed("          pending: pending\n", "          pending: pendng\n"),
        "pending: pendng",
        20,
        "/flows/authorize/response/status/map/pending",
        "'pendng' is not a unified payment status (one of: authorized, captured, failed, "
        "partially_captured, pending, requires_action, unresolved, voided)",
    ),
    "error_targets": (
        changed("        do_not_honor: do_not_honor\n", "        do_not_honor: dont_honor\n"),
        "do_not_honor: dont_honor",
        23,
        "/defaults/response/error/map/do_not_honor",
        "'dont_honor' is not a unified error code",
    ),
    "flows_have_status": (
        changed(
            "      status:\n        from: status\n        map: {voided: voided}\n",
            "      status: {from: status}\n",
        ),
        "status: {from: status}",
        7,
        "/flows/void/response",
        "the flow has no status mapping (status.from + map, or status.value)",
    ),
    "capabilities_match_flows": (
        changed("  capture_methods: [automatic, manual]", "  capture_methods: [automatic]"),
        "  capture:\n",
        3,
        "/flows/capture",
        "a capture flow exists but manual capture is not declared",
    ),
    "fixed_hosts": (
        changed(
            '  production: "https://{{ credentials.region }}-api.acme-pay.com"',
            '  production: "https://api.{{ credentials.region }}"',
        ),
        "production:",
        15,
        "/environments/production",
        "a template in the host may only fill a label before a literal domain "
        "(e.g. '{{ x }}-api.example.com')",
    ),
    "secrets_only_in_auth": (
        changed(
            '        reference: "{{ request.reference }}"',
            '        reference: "{{ credentials.api_key }}"',
        ),
        "reference: ",
        20,
        "/flows/authorize/request/body/reference",
        "secret credential 'api_key' may only be used in /auth",
    ),
    "card_data_not_in_urls": (
        changed(
            "      path: /v1/payments\n",
            '      path: "/v1/payments/{{ request.payment_method.card.cvc }}"\n',
        ),
        'path: "/v1/payments/{{',
        13,
        "/flows/authorize/request/path",
        "card data (request.payment_method.card.cvc) may not be read in a URL: put it in the body",
    ),
    "event_targets": (
        changed("      refund.done: refund.succeeded", "      refund.done: refund.done"),
        "refund.done: refund.done",
        20,
        "/webhooks/event/map/refund.done",
        "'refund.done' is not a unified event type",
    ),
    "matches_only_in_list_flows": (
        changed(
            "        map: {approved: authorized, captured: captured, declined: failed}\n",
            "        map: {approved: authorized, captured: captured, declined: failed}\n"
            "      matches: data\n",
        ),
        "      matches: data",
        7,
        "/flows/get/response/matches",
        "only a list flow (find) has `matches`",
    ),
    "signature_source": (
        changed("    header: Acme-Signature\n", "    header: Acme-Signature\n    from: sig\n"),
        "header: Acme-Signature",
        5,
        "/webhooks/signature",
        "give exactly one of 'header' or 'from'",
    ),
    "timestamp_source": (
        changed(
            '    parse: {pair_separator: ",", value_separator: "=", signature_key: v1, '
            "timestamp_key: t}\n",
            "",
        ),
        "tolerance_seconds: 300",
        24,
        "/webhooks/signature/tolerance_seconds",
        "tolerance_seconds needs a timestamp source ('timestamp' or 'parse.timestamp_key'): "
        "without one every delivery is rejected",
    ),
    "tables_after_flows": (
        changed(
            "flows:\n  authorize:\n",
            "tables:\n  acme_events: {payment.captured: payment.captured, refund.done: "
            "refund.succeeded}\nflows:\n  authorize:\n",
        ).replace(
            "    map:\n      payment.captured: payment.captured\n"
            "      refund.done: refund.succeeded\n",
            "    map: acme_events\n",
        ),
        "tables:",
        1,
        "/tables",
        "`tables` belong after `flows`: move them below it",
    ),
}


def test_every_rule_has_a_case() -> None:
    assert {rule.__name__ for rule in LINT_RULES} == {*RULE_CASES, "id_matches_file"}


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_each_rule_reports_at_the_right_line(rule: str) -> None:
    text, needle, col, pointer, message = RULE_CASES[rule]
    problem = only_problem(text)
    assert (problem.line, problem.col) == (line_of(text, needle), col)
    assert problem.pointer == pointer
    assert problem.message == message
    assert problem.file == "acme.yaml"


def test_id_matches_file() -> None:
    problem = only_problem(ACME_SPEC, "specs/other.yaml")
    assert (problem.line, problem.col, problem.pointer) == (2, 5, "/id")
    assert problem.message == "id 'acme' does not match the file name 'other'"
    # Text that is not from a .yaml file is not checked.
    assert lint(ACME_SPEC, "<string>") == []


def test_a_refund_flow_targets_refund_statuses() -> None:
    text = changed(
        "        map: {succeeded: succeeded, pending: pending, failed: failed}\n"
        "      fields:\n        connector_refund_id: id",
        "        map: {succeeded: captured, pending: pending, failed: failed}\n"
        "      fields:\n        connector_refund_id: id",
    )
    problem = only_problem(text)
    assert problem.pointer == "/flows/refund/response/status/map/succeeded"
    assert problem.line == line_of(text, "succeeded: captured")
    assert problem.message == (
        "'captured' is not a unified refund status (one of: failed, pending, succeeded, unresolved)"
    )


def test_a_status_condition_checks_both_branches() -> None:
    text = changed("            else: captured\n", "            else: capturd\n")
    problem = only_problem(text)
    assert problem.pointer == "/flows/authorize/response/status/map/approved/else"
    assert problem.line == line_of(text, "else: capturd")


def test_a_declared_capability_without_its_flow() -> None:
    text = changed("  three_ds: true\n", "  three_ds: true\n  multiple_refunds: true\n")
    text = text.replace(
        text[text.index("  refund:\n") : text.index("  get:\n")], ""
    )  # drop the refund flow
    problems = lint(text)
    assert [(p.pointer, p.message) for p in problems] == [
        ("/capabilities/partial_refund", "partial_refund is declared but there is no refund flow"),
        (
            "/capabilities/multiple_refunds",
            "multiple_refunds is declared but there is no refund flow",
        ),
    ]
    assert [p.line for p in problems] == [
        line_of(text, "partial_refund:"),
        line_of(text, "multiple_refunds:"),
    ]


def test_misspelled_request_field_is_an_error_with_did_you_mean() -> None:
    text = changed(
        "{{ request.payment_method.card.number }}", "{{ request.payment_method.card.numbr }}"
    )
    problem = only_problem(text)
    assert problem.pointer == "/flows/authorize/request/body/source/number"
    assert (problem.line, problem.col) == (line_of(text, "card.numbr"), 19)
    assert problem.message == (
        "request.payment_method.card has no field 'numbr'; "
        "did you mean 'request.payment_method.card.number'?"
    )


def test_unknown_root_variable() -> None:
    text = changed('"{{ request.currency }}"', '"{{ reqest.currency }}"')
    problem = only_problem(text)
    assert problem.pointer == "/flows/authorize/request/body/currency"
    assert problem.line == line_of(text, "reqest.currency")
    assert problem.message == (
        "unknown variable 'reqest'; did you mean 'request'? "
        "(available: amount, credentials, exponent, minor_amount, request, total_amount)"
    )


def test_a_field_another_flow_does_not_have_is_an_error() -> None:
    # `get` requests have no idempotency_key: the inherited default header is flagged for it.
    text = changed(
        '      path: "/v1/payments/{{ request.connector_transaction_id }}"\n'
        "      headers:\n        Idempotency-Key: null\n",
        '      path: "/v1/payments/{{ request.connector_transaction_id }}"\n',
    )
    problem = only_problem(text)
    assert problem.pointer == "/defaults/headers/Idempotency-Key"
    assert problem.line == line_of(text, "Idempotency-Key:")
    assert problem.message == ("request has no field 'idempotency_key' (inherited by flow 'get')")


def test_unused_credential() -> None:
    text = changed(
        "  region:\n",
        "  unused:\n    secret: false\n    description: Not read anywhere.\n  region:\n",
    )
    problem = only_problem(text)
    assert (problem.line, problem.col) == (line_of(text, "unused:"), 3)
    assert problem.pointer == "/credentials/unused"
    assert problem.message == "credential 'unused' is never used"


@pytest.mark.parametrize(
    "where",
    [
        (
            '        reference: "{{ request.reference }}"',
            "        reference: \"{{ credentials['api_key'] }}\"",
        ),
        (
            '    Idempotency-Key: "{{ request.idempotency_key }}"',
            '    Idempotency-Key: "{{ request.idempotency_key }}"\n'
            '    X-Key: "k={{ credentials.api_key }}"',
        ),
    ],
)
def test_secret_credential_outside_auth(where: tuple[str, str]) -> None:
    text = changed(*where)
    problems = lint(text)
    assert [p.message for p in problems] == [
        "secret credential 'api_key' may only be used in /auth"
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://{{ credentials.region }}", "a template in the host may only fill a label"),
        (
            "https://{{ credentials.region }}acme-pay.com",
            "a template in the host may only fill a label",
        ),
        ("https://{{ credentials.region }}.com", "a template in the host may only fill a label"),
        (
            "https://acme-pay.com:{{ credentials.region }}",
            "a template in the host may only fill a label",
        ),
        (
            "https://api.acme-pay.com/{{ credentials.region }}",
            "the base URL's path must be literal",
        ),
        ("https://user@api.acme-pay.com", "a base URL may not hold a query, fragment or user info"),
        ("https://api.acme-pay.com?x=1", "a base URL may not hold a query, fragment or user info"),
        ("https://api.acme-pay.com#top", "a base URL may not hold a query, fragment or user info"),
    ],
)
def test_a_host_that_could_leave_the_declared_domain(url: str, message: str) -> None:
    text = changed(
        '  production: "https://{{ credentials.region }}-api.acme-pay.com"',
        f'  production: "{url}"',
    )
    problem = only_problem(text)
    assert problem.pointer == "/environments/production"
    assert problem.line == line_of(text, "production:")
    assert problem.message.startswith(message)


def test_problems_of_several_rules_are_sorted_by_line() -> None:
    text = (
        ACME_SPEC.replace(
            "        do_not_honor: do_not_honor\n", "        do_not_honor: dont_honor\n"
        )
        .replace("      refund.done: refund.succeeded", "      refund.done: refund.done")
        .replace(
            "{{ request.payment_method.card.number }}", "{{ request.payment_method.card.numbr }}"
        )
    )
    problems = lint(text, "acme.yaml")
    assert [p.pointer for p in problems] == [
        "/defaults/response/error/map/do_not_honor",
        "/flows/authorize/request/body/source/number",
        "/webhooks/event/map/refund.done",
    ]
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_lint_file(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(changed("          pending: pending\n", "          pending: pendng\n"))
    (problem,) = lint_file(path)
    assert problem.file == str(path)
    assert problem.line == line_of(path.read_text(), "pending: pendng")


def test_http_status_error_map_targets_unified_codes() -> None:
    text = ACME_SPEC.replace(
        "      map:\n        insufficient_funds: insufficient_funds",
        '      http_status: {"403": not_allowed}\n'
        "      map:\n        insufficient_funds: insufficient_funds",
        1,
    )
    problems = check_loaded(load_spec_text(text, "acme.yaml"))[1]
    assert [p.message for p in problems] == ["'not_allowed' is not a unified error code"]
    assert problems[0].pointer == "/defaults/response/error/http_status/403"


def test_card_data_is_what_the_unified_schema_marks() -> None:
    from engine._lint import card_data_paths

    assert card_data_paths() == {
        ("payment_method", "card", "number"),
        ("payment_method", "card", "cvc"),
        ("payment_method", "network_token", "number"),
        ("payment_method", "network_token", "cryptogram"),
        ("payment_method", "wallet", "token"),
        ("payment_method", "wallet", "decrypted", "number"),
        ("payment_method", "wallet", "decrypted", "cryptogram"),
        ("payment_method", "bank_debit", "iban"),
        ("payment_method", "bank_debit", "account_number"),
        ("three_ds", "external", "cavv"),
    }


def test_card_data_sliced_in_a_query_is_refused() -> None:
    text = changed(
        "      path: /v1/payments\n",
        "      path: /v1/payments\n"
        '      query: {bin: "{{ request.payment_method.card.number[:6] }}"}\n',
    )
    problem = only_problem(text)
    assert problem.pointer == "/flows/authorize/request/query/bin"
    assert "card data (request.payment_method.card.number)" in problem.message


def test_card_data_through_a_let_name_is_refused() -> None:
    text = changed(
        "  authorize:\n    request:\n      method: POST\n      path: /v1/payments\n",
        "  authorize:\n"
        "    let:\n"
        '      card: "{{ request.payment_method.card }}"\n'
        '      bin: "{{ card.number[:6] }}"\n'
        "    request:\n      method: POST\n      path: /v1/payments\n"
        '      query: {ref: "{{ bin }}-{{ request.reference }}"}\n',
    )
    problem = only_problem(text)
    assert problem.pointer == "/flows/authorize/request/query/ref"
    assert "card data (bin)" in problem.message
