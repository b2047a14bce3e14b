"""The Python types of the unified contract agree with schemas/unified/ (the source of truth)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine import (
    Dispute,
    DisputeStatus,
    ErrorInfo,
    Event,
    EventType,
    MandateStatus,
    NextAction,
    PaymentStatus,
    RefundStatus,
    Result,
)
from engine._requests import request_schema, unified_registry
from engine._unified import FLOWS, ErrorCode

UNIFIED = Path(__file__).resolve().parents[2] / "schemas" / "unified"


def _schema(name: str) -> dict[str, Any]:
    return json.loads((UNIFIED / name).read_text())


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _object_branch(schema: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in schema["oneOf"] if b.get("type") == "object")


def test_result_fields_match_schema() -> None:
    schema = _schema("result.json")
    assert _fields(Result) == set(schema["properties"])
    assert _fields(ErrorInfo) == set(_object_branch(schema["properties"]["error"])["properties"])
    assert _fields(NextAction) == set(
        _object_branch(schema["properties"]["next_action"])["properties"]
    )


def test_event_fields_match_schema() -> None:
    schema = _schema("event.json")
    assert _fields(Event) == set(schema["properties"])
    assert [str(e) for e in EventType] == schema["properties"]["type"]["enum"]


def test_enums_match_schema() -> None:
    defs = _schema("common.json")["$defs"]
    assert [str(s) for s in PaymentStatus] == defs["payment_status"]["enum"]
    assert [str(s) for s in RefundStatus] == defs["refund_status"]["enum"]
    assert [str(s) for s in MandateStatus] == defs["mandate_status"]["enum"]
    assert [str(s) for s in DisputeStatus] == defs["dispute_status"]["enum"]
    assert [str(c) for c in ErrorCode] == defs["error_code"]["enum"]


def test_every_flow_has_a_request_schema_and_no_orphans() -> None:
    files = {p.name.removesuffix(".request.json") for p in UNIFIED.glob("*.request.json")}
    assert files == set(FLOWS)


@pytest.mark.parametrize("flow", list(FLOWS))
def test_request_schemas_are_valid_and_closed(flow: str) -> None:
    schema = request_schema(flow)
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    for name, prop in schema["properties"].items():
        assert "description" in prop or "$ref" in prop, f"{flow}.{name} has no description"


def test_results_serialise_to_the_result_schema() -> None:
    validator = Draft202012Validator(
        _schema("result.json"),
        registry=unified_registry(),
    )
    result = Result(
        flow="authorize",
        connector="acme",
        status="requires_action",
        next_action=NextAction(
            type="redirect", url="https://acs.example/3ds", method="POST", data={"a": "b"}
        ),
        error=ErrorInfo(code="authentication_required", message="3DS", retryable=False),
        amount=1099,
        currency="EUR",
    )
    assert list(validator.iter_errors(json.loads(json.dumps(result.to_dict())))) == []
    broken = {**result.to_dict(), "status": "paid"}
    assert list(validator.iter_errors(broken)) != []


def test_match_fields_and_find_statuses_match_schema() -> None:
    from engine import FindStatus, Match

    schema = _schema("result.json")
    assert _fields(Match) == set(schema["$defs"]["match"]["properties"])
    defs = _schema("common.json")["$defs"]
    assert [str(s) for s in FindStatus] == defs["find_status"]["enum"]


def test_every_flow_is_a_method_of_both_clients() -> None:
    import inspect

    from engine import AsyncClient, Client

    for flow in FLOWS:
        assert callable(getattr(Client, flow, None)), flow
        assert inspect.iscoroutinefunction(getattr(AsyncClient, flow, None)), flow


def test_a_find_result_serialises_to_the_result_schema() -> None:
    from engine import Match

    validator = Draft202012Validator(_schema("result.json"), registry=unified_registry())
    match = Match(status="captured", connector_transaction_id="pay_1", amount=1099)
    result = Result(flow="find", connector="acme", status="ambiguous", matches=(match, match))
    assert list(validator.iter_errors(json.loads(json.dumps(result.to_dict())))) == []


def test_dispute_fields_match_schema_and_round_trip() -> None:
    result_schema = _schema("result.json")
    branch = _object_branch(result_schema["properties"]["dispute"])
    assert _fields(Dispute) == set(branch["properties"])
    event_branch = _object_branch(_schema("event.json")["properties"]["dispute"])
    assert event_branch == branch
    validator = Draft202012Validator(result_schema, registry=unified_registry())
    dispute = Dispute(
        connector_dispute_id="dp_1",
        amount=1000,
        currency="USD",
        reason="fraudulent",
        stage="chargeback",
        due_at="2026-01-10T00:00:00Z",
    )
    result = Result(flow="get_dispute", connector="acme", status="needs_response", dispute=dispute)
    data = json.loads(json.dumps(result.to_dict()))
    assert list(validator.iter_errors(data)) == []
    assert Result.from_dict(data) == result
    assert list(validator.iter_errors({**data, "status": "chargeback"})) != []
    event = Event(
        connector="acme",
        type="dispute.opened",
        connector_event_type="x",
        verified=True,
        dispute=dispute,
    )
    assert Event.from_dict(json.loads(json.dumps(event.to_dict()))) == event


def test_each_flow_kind_has_its_statuses() -> None:
    from engine._unified import statuses_for

    assert statuses_for("revoke_recurring") == set(MandateStatus)
    assert statuses_for("accept_dispute") == set(DisputeStatus)
    assert statuses_for("reverse") == set(RefundStatus)
    assert statuses_for("verify") == set(PaymentStatus)
    for flow in FLOWS:  # the engine's own outcomes exist in every kind
        assert {"failed", "unresolved"} <= statuses_for(flow), flow
