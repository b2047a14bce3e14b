"""The `find` flow: payments looked up by the merchant's reference. One match is `found`,
several `ambiguous`, none `not_found`; an answer that is not a list, or that names another
reference, is `unresolved` — the engine never picks a payment for the caller."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from engine import AsyncClient, Client, Connector, HttpResponse, InputError, SpecError
from engine._spec import compile_text
from engine._unified import FLOWS, READ_FLOWS

from .conftest import API_KEY, acme_dict, acme_variant

FIND = {
    "request": {
        "method": "GET",
        "path": "/v1/payments",
        "query": {"reference": "{{ request.reference }}", "limit": 10},
        "headers": {"Idempotency-Key": None},
    },
    "response": {
        "matches": "data",
        "status": {
            "from": "status",
            "map": {"approved": "authorized", "captured": "captured", "declined": "failed"},
        },
        "fields": {
            "connector_transaction_id": "id",
            "reference": "reference",
            "amount": "amount",
            "currency": "currency",
        },
    },
}


def _with_find(spec: dict[str, Any]) -> None:
    spec["flows"]["find"] = json.loads(json.dumps(FIND))


CONNECTOR = Connector(acme_variant(_with_find))


def _payment(pid: str, status: str = "captured", reference: str = "order-1") -> dict[str, Any]:
    return {"id": pid, "status": status, "reference": reference, "amount": 1099, "currency": "USD"}


def _parse(body: Any, status: int = 200) -> Any:
    response = HttpResponse(status, {"Content-Type": "application/json"}, json.dumps(body).encode())
    return CONNECTOR.parse_response("find", {"reference": "order-1"}, response)


def test_find_is_a_read_flow_of_payments() -> None:
    assert FLOWS["find"] == "payment" and "find" in READ_FLOWS


def test_the_request_carries_the_reference_and_no_key() -> None:
    built = CONNECTOR.build_request("find", {"reference": "order 1"}, {"api_key": API_KEY})
    assert built.method == "GET"
    assert built.url.endswith("/v1/payments?reference=order+1&limit=10")
    assert "idempotency-key" not in {k.lower() for k in built.headers}


def test_one_match_is_found_and_named() -> None:
    result = _parse({"data": [_payment("pay_1")]})
    assert result.status == "found"
    assert result.connector_transaction_id == "pay_1"
    assert result.reference == "order-1"
    assert result.amount == 1099 and result.currency == "USD"
    assert [m.connector_transaction_id for m in result.matches] == ["pay_1"]
    assert result.matches[0].status == "captured"
    assert result.matches[0].connector_status == "captured"
    assert result.error is None


def test_several_matches_are_ambiguous_and_none_is_picked() -> None:
    result = _parse({"data": [_payment("pay_1", "declined"), _payment("pay_2", "approved")]})
    assert result.status == "ambiguous"
    assert result.connector_transaction_id is None and result.amount is None
    assert [(m.connector_transaction_id, m.status) for m in result.matches] == [
        ("pay_1", "failed"),
        ("pay_2", "authorized"),
    ]


def test_no_match_is_not_found_with_an_empty_list() -> None:
    result = _parse({"data": []})
    assert result.status == "not_found"
    assert result.matches == ()
    assert result.to_dict()["matches"] == []


@pytest.mark.parametrize("body", [{}, {"data": None}, {"data": {"id": "pay_1"}}, {"data": "x"}])
def test_an_answer_without_a_list_is_unresolved_never_not_found(body: Any) -> None:
    result = _parse(body)
    assert result.status == "unresolved"
    assert result.error.code == "invalid_response"
    assert result.matches is None
    assert result.reference == "order-1"


def test_a_match_with_another_reference_makes_the_answer_unresolved() -> None:
    result = _parse({"data": [_payment("pay_1"), _payment("pay_9", reference="order-10")]})
    assert result.status == "unresolved"
    assert result.error.code == "invalid_response"
    assert "order-10" in result.error.message


def test_an_unmapped_status_leaves_that_match_unresolved_and_keeps_the_others() -> None:
    result = _parse({"data": [_payment("pay_1", "mystery"), _payment("pay_2")]})
    assert result.status == "ambiguous"
    assert [(m.status, m.connector_status) for m in result.matches] == [
        ("unresolved", "mystery"),
        ("captured", "captured"),
    ]


@pytest.mark.parametrize("status", [400, 404, 500])
def test_a_refused_lookup_is_unresolved_never_not_found(status: int) -> None:
    result = _parse({"error": {"code": "nope", "message": "no"}}, status)
    assert result.status == "unresolved"
    assert result.error.retryable is (status >= 500)  # as for get: by the error's code
    assert result.matches is None


def test_the_request_needs_a_reference_and_takes_a_created_range() -> None:
    with pytest.raises(InputError):
        CONNECTOR.build_request("find", {}, {"api_key": API_KEY})
    with pytest.raises(InputError):
        CONNECTOR.build_request(
            "find", {"reference": "order-1", "created_from": "yesterday"}, {"api_key": API_KEY}
        )
    with pytest.raises(InputError, match="/created_to"):
        CONNECTOR.build_request(
            "find", {"reference": "order-1", "created_to": "2026-02-31T00:00:00Z"}, {}
        )
    CONNECTOR.build_request(
        "find",
        {"reference": "order-1", "created_from": "2026-01-01T00:00:00Z"},
        {"api_key": API_KEY},
    )


def _client_answering(body: Any) -> tuple[Client, AsyncClient]:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["reference"] == "order-1"
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(handler)
    sync = Client(CONNECTOR, {"api_key": API_KEY}, http_client=httpx.Client(transport=transport))
    async_ = AsyncClient(
        CONNECTOR, {"api_key": API_KEY}, http_client=httpx.AsyncClient(transport=transport)
    )
    return sync, async_


def test_client_and_async_client_find() -> None:
    sync, async_ = _client_answering({"data": [_payment("pay_1")]})
    result = sync.find({"reference": "order-1"})
    assert result.status == "found" and result.idempotency_key is None
    again = asyncio.run(async_.find({"reference": "order-1"}))
    assert again.to_dict() == result.to_dict()


def _lint(edit: Any) -> str:
    data = acme_dict()
    edit(data)
    import yaml

    with pytest.raises(SpecError) as caught:
        compile_text(yaml.safe_dump(data, sort_keys=False), "acme.yaml")
    return str(caught.value)


def test_lint_a_find_flow_needs_matches_and_no_other_flow_has_them() -> None:
    def no_matches(spec: dict[str, Any]) -> None:
        _with_find(spec)
        del spec["flows"]["find"]["response"]["matches"]

    def matches_on_get(spec: dict[str, Any]) -> None:
        spec["flows"]["get"]["response"]["matches"] = "data"

    assert "the find flow needs `matches`" in _lint(no_matches)
    assert "only a list flow (find) has `matches`" in _lint(matches_on_get)
