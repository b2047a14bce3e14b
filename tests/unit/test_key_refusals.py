"""Refusals about the idempotency key: `duplicate_request` (a request with the key is still in
flight: unresolved, the same request may be sent again later) and `idempotency_conflict` (the
key was first used with other parameters: this request is refused for good, never retryable,
and the message says to look the earlier payment up)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from engine import Client, Connector, HttpResponse, RetryPolicy
from engine._retry import CONFLICT_HINT, KEY_REFUSALS

from .conftest import API_KEY, acme_variant, card_request


def _connector(idempotent: bool = True) -> Connector:
    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["idempotency_key"] = idempotent
        spec["defaults"]["response"]["error"]["map"].update(
            {"key_in_flight": "duplicate_request", "key_reused": "idempotency_conflict"}
        )

    return Connector(acme_variant(edit))


def _answer(code: str, status: int = 400) -> HttpResponse:
    body = b'{"error": {"code": "%s", "message": "refused"}}' % code.encode()
    return HttpResponse(status, {"Content-Type": "application/json"}, body)


def _parse(code: str, **request: Any) -> Any:
    prepared = card_request(idempotency_key="idem-1", **request)
    return _connector().parse_response("authorize", prepared, _answer(code))


def test_a_key_reused_with_other_parameters_is_a_definite_refusal_never_retryable() -> None:
    result = _parse("key_reused", reference="order-7")
    assert result.status == "failed"
    assert result.error.code == "idempotency_conflict"
    assert result.error.retryable is False
    assert result.error.message == f"refused ({CONFLICT_HINT})"
    assert result.idempotency_key == "idem-1"


def test_a_key_in_flight_is_unresolved_and_keeps_the_reference_to_find_it_by() -> None:
    result = _parse("key_in_flight", reference="order-7")
    assert result.status == "unresolved"
    assert result.error.code == "duplicate_request"
    assert result.error.retryable is True  # the processor honours the key: same key, later
    assert result.reference == "order-7"
    assert CONFLICT_HINT not in result.error.message


def test_the_two_codes_differ_in_outcome() -> None:
    assert {c: status for c, (status, _) in KEY_REFUSALS.items()} == {
        "duplicate_request": "unresolved",
        "idempotency_conflict": "failed",
    }


def test_a_conflict_after_an_unknown_attempt_is_unresolved() -> None:
    """The retry of a timed-out call refused as a conflict says nothing about the first."""
    sent: list[httpx.Request] = []
    answers: list[Any] = [
        httpx.ReadTimeout("late"),
        httpx.Response(400, json={"error": {"code": "key_reused", "message": "refused"}}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    client = Client(
        _connector(),
        {"api_key": API_KEY},
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        retry=RetryPolicy(attempts=2, backoff=0.0),
        sleep=lambda seconds: None,
    )
    result = client.authorize(card_request(reference="order-8"))
    assert len(sent) == 2
    assert result.status == "unresolved"
    assert result.error.code == "idempotency_conflict"
    assert result.error.retryable is False
    assert result.reference == "order-8"


@pytest.mark.parametrize("code", ["key_in_flight", "key_reused"])
def test_after_a_409_the_processor_code_does_not_decide(code: str) -> None:
    prepared = card_request(idempotency_key="idem-1")
    result = _connector().parse_response("authorize", prepared, _answer(code, 409))
    assert result.status == "unresolved"
    assert result.error.code == "duplicate_request"
