"""engine._validate: loaded spec → every schema problem, at the key's line:col, with hints."""

from __future__ import annotations

import pytest

from engine._errors import Problem, SpecError
from engine._load import load_spec_text
from engine._spec import check_loaded, compile_text
from engine._validate import checkable_part, validate_spec

from .conftest import ACME_SPEC


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line holding `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def validate(text: str) -> list[Problem]:
    return validate_spec(load_spec_text(text, "acme.yaml"))


def test_the_fixture_spec_is_valid() -> None:
    assert validate(ACME_SPEC) == []


def test_unknown_key_is_reported_at_the_key_with_did_you_mean() -> None:
    text = ACME_SPEC.replace(
        "      method: POST\n      path: /v1/payments\n",
        "      methd: POST\n      path: /v1/payments\n",
        1,
    )
    problems = validate(text)
    unknown = [p for p in problems if p.pointer == "/flows/authorize/request/methd"]
    assert len(unknown) == 1
    (problem,) = unknown
    assert (problem.line, problem.col) == (line_of(text, "methd: POST"), 7)
    assert problem.message == "unknown key 'methd'; did you mean 'method'?"
    assert problem.source_line == "      methd: POST"
    # The misspelling also leaves `method` missing, reported at the parent key.
    missing = [p for p in problems if p.message == "missing required key 'method'"]
    assert [(p.pointer, p.line, p.col) for p in missing] == [
        ("/flows/authorize/request", line_of(text, "    request:"), 5)
    ]


def test_unknown_key_without_a_close_match_lists_the_known_keys() -> None:
    text = ACME_SPEC.replace(
        "amounts:\n  format: minor_integer\n", "amounts:\n  format: minor_integer\n  zzz: 1\n"
    )
    (problem,) = validate(text)
    assert problem.pointer == "/amounts/zzz"
    assert (problem.line, problem.col) == (line_of(text, "zzz: 1"), 3)
    assert problem.message == "unknown key 'zzz'; expected one of: format, exponents"


def test_unknown_top_level_key() -> None:
    text = ACME_SPEC.replace("name: Acme Pay\n", "name: Acme Pay\nwebhook:\n  x: 1\n")
    (problem,) = validate(text)
    assert (problem.pointer, problem.line, problem.col) == ("/webhook", 4, 1)
    assert problem.message == "unknown key 'webhook'; did you mean 'webhooks'?"


def test_missing_required_keys_are_each_reported() -> None:
    text = ACME_SPEC.replace("name: Acme Pay\n", "").replace(
        "docs: https://docs.acme-pay.com/api\n", ""
    )
    problems = validate(text)
    assert [(p.line, p.col, p.pointer, p.message) for p in problems] == [
        (1, 1, "", "missing required key 'name'"),
        (1, 1, "", "missing required key 'docs'"),
    ]


def test_a_bad_value_is_reported_at_the_value() -> None:
    text = ACME_SPEC.replace("  format: minor_integer", "  format: minor_int")
    (problem,) = validate(text)
    assert (problem.pointer, problem.line, problem.col) == (
        "/amounts/format",
        line_of(text, "minor_int"),
        11,
    )
    assert (
        problem.message == "'minor_int' is not one of "
        "['minor_integer', 'minor_string', 'major_string', 'major_number']"
    )


def test_a_oneof_reports_the_relevant_branch() -> None:
    text = ACME_SPEC.replace("  currencies: [USD, EUR, JPY, KWD]", "  currencies: [usd]")
    (problem,) = validate(text)
    assert problem.pointer == "/capabilities/currencies/0"
    assert problem.line == line_of(text, "currencies: [usd]")
    assert problem.message == "'usd' does not match '^[A-Z]{3}$'"


SEVERAL = (
    ACME_SPEC.replace("name: Acme Pay\n", "")
    .replace("  format: minor_integer", "  format: minor_int")
    .replace("  partial_capture: true", "  partial_captur: true")
    .replace(
        "      method: POST\n      path: /v1/refunds", "      methd: POST\n      path: /v1/refunds"
    )
)


def test_every_problem_of_a_file_is_collected() -> None:
    found = {(p.pointer, p.message) for p in validate(SEVERAL)}
    assert found == {
        ("", "missing required key 'name'"),
        (
            "/amounts/format",
            "'minor_int' is not one of "
            "['minor_integer', 'minor_string', 'major_string', 'major_number']",
        ),
        (
            "/capabilities/partial_captur",
            "unknown key 'partial_captur'; did you mean 'partial_capture'?",
        ),
        ("/flows/refund/request/methd", "unknown key 'methd'; did you mean 'method'?"),
        ("/flows/refund/request", "missing required key 'method'"),
    }


def test_problems_are_sorted_by_line() -> None:
    plan, problems = check_loaded(load_spec_text(SEVERAL, "acme.yaml"))
    assert plan is None
    assert [(p.line, p.pointer) for p in problems] == [
        (1, ""),
        (line_of(SEVERAL, "minor_int"), "/amounts/format"),
        (line_of(SEVERAL, "partial_captur"), "/capabilities/partial_captur"),
        (line_of(SEVERAL, "path: /v1/refunds") - 2, "/flows/refund/request"),
        (line_of(SEVERAL, "methd: POST"), "/flows/refund/request/methd"),
    ]
    with pytest.raises(SpecError) as caught:
        compile_text(SEVERAL, "acme.yaml")
    assert [p.line for p in caught.value.problems] == sorted(p.line for p in problems)
    assert str(caught.value).startswith("acme.yaml:1:1: missing required key 'name' (/)")


def test_an_invalid_credential_name_is_reported_at_the_key() -> None:
    text = ACME_SPEC.replace("  region:\n", "  Region:\n")
    (problem,) = validate(text)
    assert (problem.pointer, problem.line, problem.col) == (
        "/credentials/Region",
        line_of(text, "Region:"),
        3,
    )
    assert problem.message == (
        "'Region' is not an allowed name here; names must match '^[a-z][a-z0-9_]*$'"
    )


def test_a_misspelled_flow_name_gets_did_you_mean_at_the_key() -> None:
    text = ACME_SPEC.replace("  get_refund:\n", "  get_refnd:\n")
    (problem,) = validate(text)
    assert (problem.pointer, problem.line, problem.col) == (
        "/flows/get_refnd",
        line_of(text, "get_refnd:"),
        3,
    )
    assert problem.message == "'get_refnd' is not an allowed name here; did you mean 'get_refund'?"


def test_a_status_rule_missing_else_names_the_missing_key() -> None:
    text = ACME_SPEC.replace("            else: captured\n", "")
    (problem,) = validate(text)
    assert problem.pointer == "/flows/authorize/response/status/map/approved"
    assert (problem.line, problem.col) == (line_of(text, "approved:"), 11)
    assert problem.message == "missing required key 'else'"


# --- what a schema problem leaves checkable ------------------------------------------------------


def test_a_schema_problem_does_not_hide_a_template_problem_elsewhere() -> None:
    # The example: a misspelled top-level key used to hide `request.curency` until fixed.
    text = ACME_SPEC.replace("name: Acme Pay\n", "name: Acme Pay\nnmae: Acme\n", 1).replace(
        'currency: "{{ request.currency }}"', 'currency: "{{ request.curency }}"', 1
    )
    problems = check_loaded(load_spec_text(text, "acme.yaml"))[1]
    assert [(p.line, p.message) for p in problems] == [
        (line_of(text, "nmae:"), "unknown key 'nmae'; did you mean 'name'?"),
        (
            line_of(text, "request.curency"),
            "request has no field 'curency'; did you mean 'request.currency'?",
        ),
    ]


def test_the_cut_is_each_invalid_subtree_and_what_it_leaves_invalid() -> None:
    text = (
        ACME_SPEC.replace("name: Acme Pay\n", "name: Acme Pay\nnmae: Acme\n", 1)
        .replace(
            "      method: POST\n      path: /v1/payments\n",
            "      method: PUSH\n      path: /v1/payments\n",
            1,
        )
        .replace("  capture_methods: [automatic, manual]", "  capture_methods: [automatic, manul]")
    )
    problems, checkable = checkable_part(load_spec_text(text, "acme.yaml"))
    assert len(problems) == 3
    assert checkable is not None
    # An unknown key alone; a bad method makes the request, then the (required) request makes
    # the flow invalid; a bad list item cuts the list, then capabilities (which require it),
    # which the document then lacks.
    assert checkable.cut == {
        "/nmae",
        "/flows/authorize/request/method",
        "/flows/authorize/request",
        "/flows/authorize",
        "/capabilities/capture_methods",
        "/capabilities",
    }
    assert "authorize" not in checkable.data["flows"] and "capture" in checkable.data["flows"]
    assert "capabilities" not in checkable.data and "nmae" not in checkable.data
    assert checkable.complete("/flows/capture") and not checkable.complete("/flows")
    assert not checkable.complete("/flows/authorize/response")


def test_a_document_that_is_not_a_mapping_leaves_nothing_to_check() -> None:
    problems, checkable = checkable_part(load_spec_text("- a\n- b\n", "acme.yaml"))
    assert problems and checkable is None


def test_a_valid_spec_is_checked_as_it_is() -> None:
    spec = load_spec_text(ACME_SPEC, "acme.yaml")
    assert checkable_part(spec) == ([], spec)
