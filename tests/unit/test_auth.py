"""engine._auth: the spec's auth section → headers or body fields on every built request."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from engine._auth import AUTH_SCHEMES, apply_body_auth
from engine._build import build_request
from engine._http import HttpRequest
from engine._plan import AuthPlan, ConnectorPlan

from .conftest import API_KEY, CARD_NUMBER, acme_variant, card_request

USER_SETTING = {"secret": False, "description": "The merchant account name."}


def build(plan: ConnectorPlan, credentials: dict[str, str], flow: str = "authorize") -> HttpRequest:
    request = card_request() if flow == "authorize" else {"connector_transaction_id": "pay_1"}
    return build_request(plan, flow, request, credentials)


def with_auth(auth: dict[str, Any], *, user: bool = False) -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["auth"] = auth
        if user:
            spec["credentials"]["merchant"] = USER_SETTING

    return acme_variant(edit)


def test_every_scheme_is_documented() -> None:
    import json
    from pathlib import Path

    schema = json.loads(
        (Path(__file__).parents[2] / "schemas" / "connector-spec.schema.json").read_text()
    )
    assert set(AUTH_SCHEMES) == set(schema["properties"]["auth"]["properties"]["scheme"]["enum"])
    assert all(doc for _, doc in AUTH_SCHEMES.values())


def test_header_scheme(acme: ConnectorPlan) -> None:
    built = build(acme, {"api_key": API_KEY})
    assert built.headers["X-Api-Key"] == API_KEY
    assert "Authorization" not in built.headers
    assert acme.auth.header_names == frozenset({"x-api-key"})
    assert built.redacted()["headers"]["X-Api-Key"] == "[REDACTED]"


def test_header_scheme_with_several_templated_headers() -> None:
    plan = with_auth(
        {
            "scheme": "header",
            "headers": {
                "X-Api-Key": "{{ credentials.api_key }}",
                "X-Merchant": "acct-{{ credentials.merchant }}",
            },
        },
        user=True,
    )
    built = build(plan, {"api_key": API_KEY, "merchant": "m42"})
    assert built.headers["X-Api-Key"] == API_KEY
    assert built.headers["X-Merchant"] == "acct-m42"
    assert plan.auth.header_names == frozenset({"x-api-key", "x-merchant"})


def test_bearer_scheme() -> None:
    plan = with_auth({"scheme": "bearer", "token": "{{ credentials.api_key }}"})
    built = build(plan, {"api_key": API_KEY})
    assert built.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "X-Api-Key" not in built.headers
    assert built.redacted()["headers"]["Authorization"] == "[REDACTED]"


def test_basic_scheme_is_exact_base64() -> None:
    plan = with_auth(
        {
            "scheme": "basic",
            "username": "{{ credentials.merchant }}",
            "password": "{{ credentials.api_key }}",
        },
        user=True,
    )
    built = build(plan, {"api_key": API_KEY, "merchant": "acme_user"})
    expected = base64.b64encode(f"acme_user:{API_KEY}".encode()).decode("ascii")
    assert built.headers["Authorization"] == f"Basic {expected}"
    assert built.headers["Authorization"] == "Basic YWNtZV91c2VyOmFrX3Rlc3RfWnE4dlIzbkx3NVR4"


def test_basic_scheme_with_an_empty_password() -> None:
    plan = with_auth({"scheme": "basic", "username": "{{ credentials.api_key }}", "password": ""})
    built = build(plan, {"api_key": API_KEY})
    assert built.headers["Authorization"] == "Basic " + base64.b64encode(
        f"{API_KEY}:".encode()
    ).decode("ascii")


def test_body_scheme_places_fields_first_at_the_root() -> None:
    plan = with_auth(
        {
            "scheme": "body",
            "fields": {
                "merchant": "{{ credentials.merchant }}",
                "key": "{{ credentials.api_key }}",
            },
        },
        user=True,
    )
    built = build(plan, {"api_key": API_KEY, "merchant": "m42"})
    body = json.loads(built.body or b"")
    assert list(body)[:3] == ["merchant", "key", "amount"]
    assert body["merchant"] == "m42"
    assert body["key"] == API_KEY
    assert "Authorization" not in built.headers
    assert API_KEY not in (built.redacted()["body"] or "")


def test_body_scheme_places_fields_first_at_the_pointer() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["auth"] = {
            "scheme": "body",
            "fields": {"key": "{{ credentials.api_key }}"},
            "pointer": "/source",
        }

    plan = acme_variant(edit)
    body = json.loads(build(plan, {"api_key": API_KEY}).body or b"")
    assert list(body) == ["amount", "currency", "capture", "source"]
    assert list(body["source"]) == ["key", "number", "expiry_month", "expiry_year", "cvc"]
    assert body["source"]["key"] == API_KEY
    assert body["source"]["number"] == CARD_NUMBER


def test_body_scheme_creates_the_object_at_a_deep_pointer() -> None:
    plan = with_auth(
        {
            "scheme": "body",
            "fields": {"key": "{{ credentials.api_key }}"},
            "pointer": "/merchant/auth",
        }
    )
    body = json.loads(build(plan, {"api_key": API_KEY}).body or b"")
    assert body["merchant"] == {"auth": {"key": API_KEY}}


def test_body_scheme_sends_a_body_for_a_flow_without_one() -> None:
    plan = with_auth({"scheme": "body", "fields": {"key": "{{ credentials.api_key }}"}})
    built = build(plan, {"api_key": API_KEY}, flow="void")
    assert built.body == json.dumps({"key": API_KEY}, separators=(",", ":")).encode()
    assert built.headers["Content-Type"] == "application/json"


def test_apply_body_auth_does_not_modify_the_given_body() -> None:
    plan = AuthPlan("body", None, lambda context: {"k": "v"}, ("a", "b"), frozenset())
    original = {"a": {"b": {"x": 1}, "c": 2}}
    result = apply_body_auth(plan, {}, original)
    assert result == {"a": {"b": {"k": "v", "x": 1}, "c": 2}}
    assert list(result["a"]["b"]) == ["k", "x"]
    assert original == {"a": {"b": {"x": 1}, "c": 2}}


def test_apply_body_auth_without_fields_keeps_the_body() -> None:
    plan = AuthPlan("header", None, None, (), frozenset())
    body = {"a": 1}
    assert apply_body_auth(plan, {}, body) is body


def test_none_scheme() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["auth"] = {"scheme": "none"}
        del spec["credentials"]["api_key"]

    plan = acme_variant(edit)
    built = build_request(plan, "authorize", card_request(), {})
    assert "Authorization" not in built.headers
    assert "X-Api-Key" not in built.headers


@pytest.mark.parametrize("scheme", ["bearer", "basic"])
def test_auth_header_is_masked_in_repr(scheme: str) -> None:
    auth: dict[str, Any] = {"scheme": scheme}
    if scheme == "bearer":
        auth["token"] = "{{ credentials.api_key }}"
    else:
        auth |= {"username": "{{ credentials.api_key }}", "password": ""}
    built = build(with_auth(auth), {"api_key": API_KEY})
    assert API_KEY not in repr(built)
    assert base64.b64encode(f"{API_KEY}:".encode()).decode() not in repr(built)


def test_a_request_can_place_body_auth_elsewhere() -> None:
    import json as _json

    from engine._build import build_request as _build

    from .conftest import API_KEY as KEY
    from .conftest import acme_variant

    def edit(spec: dict[str, Any]) -> None:
        spec["auth"] = {
            "scheme": "body",
            "pointer": "/payment",
            "fields": {"auth": {"key": "{{ credentials.api_key }}"}},
        }
        spec["flows"]["authorize"]["request"]["body"] = {"payment": {"amount": "{{ amount }}"}}
        spec["flows"]["get"]["request"] = {
            "method": "POST",
            "path": "/v1/lookup",
            "auth_pointer": "/lookup",
            "headers": {"Idempotency-Key": None},
            "body": {"lookup": {"id": "{{ request.connector_transaction_id }}"}},
        }

    plan = acme_variant(edit)
    get = _json.loads(
        _build(plan, "get", {"connector_transaction_id": "p1"}, {"api_key": KEY}).body or b""
    )
    assert get == {"lookup": {"auth": {"key": KEY}, "id": "p1"}}
