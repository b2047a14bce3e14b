"""engine._templates: template text → compiled renderers that keep native types, in a sandbox."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from engine._build import build_request
from engine._errors import RenderError, SpecError
from engine._plan import ConnectorPlan
from engine._templates import (
    PATH_ENVIRONMENT,
    TemplateCompileError,
    VariablePath,
    compile_template,
    is_template,
)

from .conftest import API_KEY, acme_variant, card_request

CONTEXT: dict[str, Any] = {
    "request": {
        "amount": 1099,
        "currency": "USD",
        "capture_method": "manual",
        "metadata": {"order": "A-1"},
        "items": ["first", "second"],
        "flag": False,
    },
    "credentials": {"api_key": API_KEY},
}


def render(source: str, context: dict[str, Any] = CONTEXT) -> Any:
    return compile_template(source).render(context)


def test_is_template() -> None:
    assert is_template("{{ x }}") is True
    assert is_template("{% if x %}y{% endif %}") is True
    assert is_template("plain") is False
    assert is_template(5) is False


def test_a_single_expression_keeps_its_native_type() -> None:
    value = render("{{ request.amount }}")
    assert value == 1099
    assert type(value) is int
    assert render("  {{ request.amount }}  ") == 1099
    assert render("{{ request.amount + 1 }}") == 1100
    assert render("{{ request.flag }}") is False
    assert render('{{ "05" }}') == "05"


def test_a_mapping_stays_a_mapping_and_a_list_a_list() -> None:
    assert render("{{ request.metadata }}") == {"order": "A-1"}
    assert render("{{ request.items }}") == ["first", "second"]
    assert render("{{ request.items[1] }}") == "second"
    assert render('{{ request["currency"] }}') == "USD"


def test_text_around_an_expression_gives_a_string() -> None:
    template = compile_template("amount={{ request.amount }}")
    assert template.native is False
    assert template.render(CONTEXT) == "amount=1099"
    assert render("{{ request.amount }}{{ request.amount }}") == "10991099"


def test_filters() -> None:
    assert render("{{ request.currency | lower }}") == "usd"
    assert render("{{ 'abc' | b64encode }}") == "YWJj"
    assert render("{{ '4111111111111111' | last4 }}") == "1111"
    assert render("{{ 3 | two_digits }}") == "03"
    assert render("{{ 11 | two_digits }}") == "11"


def test_unix_time_reads_rfc_3339_with_a_zone_only() -> None:
    assert render("{{ '2026-01-01T00:00:00Z' | unix_time }}") == 1_767_225_600
    assert render("{{ '2026-01-01T01:00:00.5+01:00' | unix_time }}") == 1_767_225_600
    with pytest.raises(ValueError, match="no time zone"):  # a build names it (RenderError)
        render("{{ '2026-01-01T00:00:00' | unix_time }}")


def test_a_missing_field_is_null_in_a_native_value() -> None:
    assert render("{{ request.missing }}") is None
    assert render("{{ request.customer.email }}") is None
    assert render("{{ request.items[5] }}") is None
    assert render("{{ request.customer.email | default('none given') }}") == "none given"


def test_is_none_holds_for_missing_fields() -> None:
    assert render("{{ request.missing is none }}") is True
    assert render("{{ request.customer.email is none }}") is True
    assert render("{{ request.amount is none }}") is False
    assert render("{{ 'a' if request.customer.email is none else 'b' }}") == "a"


@pytest.mark.parametrize(
    "source",
    [
        "x{{ request.missing }}",
        "x{{ request.customer.email }}",
        "{{ request.missing ~ 'x' }}",
    ],
)
def test_a_missing_field_inside_text_raises(source: str) -> None:
    with pytest.raises(UndefinedError):
        render(source)


def test_conditions() -> None:
    condition = compile_template("{{ request.capture_method == 'manual' }}")
    assert condition.render(CONTEXT) is True
    assert condition.render({"request": {}}) is False


def test_variable_paths_are_collected() -> None:
    template = compile_template(
        "{{ request.payment_method.card.number }}-{{ credentials['api_key'] }}"
        "-{{ request.items[0] }}"
    )
    assert set(template.paths) == {
        VariablePath("request", ("payment_method", "card", "number")),
        VariablePath("credentials", ("api_key",)),
        VariablePath("request", ("items", 0)),
    }
    assert VariablePath("request", ("items", 0)).dotted() == "request.items.0"


def test_local_names_are_not_variable_paths() -> None:
    template = compile_template("{% set k = request.metadata %}{{ k.upper() }}")
    assert template.paths == (VariablePath("request", ("metadata",)),)


@pytest.mark.parametrize(
    "source",
    [
        "{% for a in [0] * 99999 %}{% for b in [0] * 99999 %}x{% endfor %}{% endfor %}",
        "{% macro f() %}x{% endmacro %}{{ f() }}",
        "x{% include '/etc/passwd' %}",
        "{% import 'os' as os %}{{ os }}",
        "{% filter upper %}x{% endfilter %}",
    ],
)
def test_loops_macros_and_template_loading_are_refused(source: str) -> None:
    with pytest.raises(TemplateCompileError, match="is not allowed in a spec"):
        compile_template(source)


def test_a_syntax_error_is_a_compile_error() -> None:
    with pytest.raises(TemplateCompileError) as caught:
        compile_template("{{ request.amount ")
    assert str(caught.value).startswith("template error: ")


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "x{{ ''.__class__ }}",
    "{{ request.amount.__class__.__subclasses__() }}",
    "{{ request | attr('__class__') }}",
    "{{ '{0.__class__}'.format(request) }}",
    "{{ request.metadata.update({'a': 1}) }}",
    "{{ request.metadata.clear() }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_the_sandbox_blocks_escapes_at_render(source: str) -> None:
    # Private names are refused when the spec is compiled; the rest by the sandbox at render.
    with pytest.raises((SecurityError, TemplateCompileError)):
        render(source)


def test_a_sandbox_escape_in_a_spec_is_refused_at_compile_time() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["body"]["probe"] = "{{ ''.__class__.__mro__ }}"

    with pytest.raises(SpecError) as caught:
        acme_variant(edit)
    [problem] = caught.value.problems
    assert problem.pointer == "/flows/authorize/request/body/probe"
    assert "'__mro__' is not allowed" in problem.message


def test_a_sandbox_escape_past_compile_is_a_render_error_not_a_leak() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["body"]["probe"] = "{{ request | attr('__class__') }}"

    plan = acme_variant(edit)
    with pytest.raises(RenderError) as caught:
        build_request(plan, "authorize", card_request(), {"api_key": API_KEY})
    assert caught.value.pointer == "/flows/authorize/request/body/probe"
    assert "unsafe" in str(caught.value)
    assert "object'>" not in str(caught.value)


def test_unsafe_range_is_refused() -> None:
    # No globals exist in the sandbox (lint reports `range` as an unknown variable).
    with pytest.raises(SecurityError):
        render("{{ range(10 ** 9) | list | length }}")


def test_rendered_text_is_capped() -> None:
    with pytest.raises(SecurityError, match="a text over"):
        render("x{{ ('0123456789' * 100000) ~ 'overflow' }}")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [("../x", "..%2Fx"), ("a b", "a%20b"), ("a?b#c", "a%3Fb%23c"), ("%2F", "%252F"), (42, "42")],
)
def test_path_parameters_are_percent_encoded(value: Any, encoded: str) -> None:
    template = compile_template("/v1/payments/{{ request.id }}/capture", PATH_ENVIRONMENT)
    assert template.render({"request": {"id": value}}) == f"/v1/payments/{encoded}/capture"


def test_a_null_path_parameter_raises() -> None:
    template = compile_template("/v1/payments/{{ request.id }}", PATH_ENVIRONMENT)
    with pytest.raises(ValueError, match="a path parameter is null"):
        template.render({"request": {"id": None}})


def test_a_built_path_is_encoded_as_one_segment(acme: ConnectorPlan) -> None:
    built = build_request(
        acme, "get", {"connector_transaction_id": "../admin"}, {"api_key": API_KEY}
    )
    assert built.url == "https://eu-sandbox.acme-pay.com/v1/payments/..%2Fadmin"


def test_null_keys_and_empty_mappings_are_omitted(acme: ConnectorPlan) -> None:
    built = build_request(acme, "authorize", card_request(), {"api_key": API_KEY})
    body = json.loads(built.body or b"")
    # reference and metadata are absent (null → omitted); the token key of source is omitted.
    assert body == {
        "amount": 1099,
        "currency": "USD",
        "capture": True,
        "source": {
            "number": "4111111111111111",
            "expiry_month": 3,
            "expiry_year": 2030,
            "cvc": "737",
        },
    }


def test_a_mapping_whose_keys_are_all_null_is_omitted(acme: ConnectorPlan) -> None:
    request = {
        "amount": 1099,
        "currency": "USD",
        "payment_method": {"type": "token", "token": "tok_1"},
    }
    body = json.loads(build_request(acme, "authorize", request, {"api_key": API_KEY}).body or b"")
    assert body == {
        "amount": 1099,
        "currency": "USD",
        "capture": True,
        "source": {"token": "tok_1"},
    }

    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["authorize"]["request"]["body"]["customer"] = {
            "email": "{{ request.customer.email }}",
            "name": "{{ request.customer.name }}",
        }

    body = json.loads(
        build_request(acme_variant(edit), "authorize", request, {"api_key": API_KEY}).body or b""
    )
    assert "customer" not in body


@pytest.mark.parametrize(
    "source", ["{{ 'a' * 1000000000 }}", "x{{ [1] * 10**9 }}", "{{ 10 ** 100000 }}"]
)
def test_repetition_and_powers_are_bounded_before_allocating(source: str) -> None:
    with pytest.raises(SecurityError):
        render(source)


def test_jinja_reads_mapping_keys_before_methods() -> None:
    assert (
        render(
            "{% set x = request['metadata'].items %}{{ x }}",
            {"request": {"metadata": {"items": "K"}}},
        )
        == "K"
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ '%20000000s' | format('x') }}",
        "{{ '%(a)20000000s' | format(a='x') }}",
        "{{ '%*s' | format(100000000, 'x') }}",
        "{{ '%.20000000f' | format(1.0) }}",
        "{{ '%20000000s' % 'x' }}",
        "{{ ('a' * 999999) | replace('a', 'aaaaaaaaaa') }}",
        "{{ ('a' * 999999).replace('a', 'aa') }}",
        "{{ (['a' * 999999] * 3) | join('') }}",
        "{{ ''.join(['a' * 999999] * 3) }}",
        "{{ ('a' * 999999) ~ ('a' * 999999) }}",
        "{{ ('a' * 999999) + ('a' * 999999) }}",
        "{% set x = 'a' * 1000 %}" + "{% set x = x ~ x %}" * 12 + "{{ x }}",
        "{{ 'x' | center(10**9) }}",
        "{{ 'x'.ljust(10**9) }}",
        "{{ '7'.zfill(10**9) }}",
        "{{ '{:>100}'.format(1) }}",
        "{{ '{a}'.format_map({'a': 1}) }}",
        "{{ 10 ** 999 }}",
        "{{ (2 ** 600) * (2 ** 600) }}",
    ],
)
def test_growth_is_refused_before_it_allocates(source: str) -> None:
    """Each of these would build megabytes (or more) from a short template."""
    with pytest.raises(SecurityError):
        compile_template(source).render({})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ '%05.2f' | format(3.14159) }}", "03.14"),
        ("{{ '%s-%s' % ('a', 'b') }}", "a-b"),
        ("{{ ['a', 'b'] | join(',') }}", "a,b"),
        ("{{ 'a b' | replace(' ', '') }}", "ab"),
        ("{{ '7'.zfill(2) }}", "07"),
        ("{{ 'x' ~ 1 ~ 'y' }}", "x1y"),
        ("{{ 2 ** 10 * 3 }}", 3072),
        ("{{ [1] + [2] }}", [1, 2]),
    ],
)
def test_bounded_operations_still_work(source: str, expected: Any) -> None:
    assert compile_template(source).render({}) == expected


@pytest.mark.parametrize("name", ["indent", "wordwrap", "xmlattr", "urlize", "pprint"])
def test_filters_specs_cannot_use_are_compile_errors(name: str) -> None:
    with pytest.raises(TemplateCompileError, match=f"no filter named '{name}'"):
        compile_template("{{ request.x | " + name + " }}")


def test_a_deeply_nested_template_is_a_compile_error() -> None:
    with pytest.raises(TemplateCompileError, match="nests too deeply"):
        compile_template("{{ " + "[" * 3000 + "]" * 3000 + " }}")


@pytest.mark.parametrize(("value", "encoded"), [("..", "%2E%2E"), (".", "%2E"), ("...", "...")])
def test_dot_segments_cannot_climb_the_path(value: str, encoded: str) -> None:
    template = compile_template("/v1/payments/{{ request.id }}/capture", PATH_ENVIRONMENT)
    assert template.render({"request": {"id": value}}) == f"/v1/payments/{encoded}/capture"
