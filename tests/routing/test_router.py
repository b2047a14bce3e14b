"""Failover moves on only when nothing can have been charged; follow-ups reach the profile that
holds the payment; an open circuit is skipped without a call."""

from __future__ import annotations

from typing import Any

import pytest

from engine import InputError, NotSentError
from engine.routing import Router

from .conftest import PAYMENT, FakeProcessor, clients, closed_port, rules, scenario


def _router(processors: dict[str, FakeProcessor], **default: Any) -> Router:
    return Router(rules(**default), clients({n: f.url for n, f in processors.items()}))


def _received(processors: dict[str, FakeProcessor]) -> dict[str, int]:
    return {name: len(fake.received) for name, fake in processors.items()}


def test_nothing_sent_moves_to_the_next_candidate(processors: dict[str, FakeProcessor]) -> None:
    urls = {n: f.url for n, f in processors.items()}
    urls["a"] = closed_port()
    router = Router(rules(), clients(urls))
    result = router.authorize(PAYMENT)
    assert result.status == "captured"
    assert result.routing is not None
    assert result.routing.profile == "b"
    assert [(a.profile, a.outcome) for a in result.routing.attempts] == [
        ("a", "not_sent"),
        ("b", "captured"),
    ]
    assert _received(processors) == {"a": 0, "b": 1, "c": 0}
    # every candidate got the same idempotency key
    assert processors["b"].received[0].headers["Idempotency-Key"] == result.idempotency_key


@pytest.mark.parametrize(
    "name",
    ["authorize_500_api_error", "authorize_3ds_requires_action", "authorize_decline_expired_card"],
)
def test_an_outcome_that_may_have_charged_stops(
    processors: dict[str, FakeProcessor], name: str
) -> None:
    processors["a"].answer(scenario("stripe", name))
    result = _router(processors, failover=["card_declined", "do_not_honor"]).authorize(PAYMENT)
    assert result.routing is not None and result.routing.profile == "a"
    assert len(result.routing.attempts) == 1
    assert _received(processors) == {"a": 1, "b": 0, "c": 0}


def test_a_definite_refusal_moves_on_only_when_opted_in(
    processors: dict[str, FakeProcessor],
) -> None:
    processors["a"].answer(scenario("stripe", "authorize_429_rate_limit"))
    result = _router(processors).authorize(PAYMENT)
    assert result.status == "failed" and result.routing.profile == "a"  # type: ignore[union-attr]
    assert "not marked for failover" in result.routing.stopped  # type: ignore[union-attr]
    result = _router(processors, failover=["rate_limited"]).authorize(PAYMENT)
    assert result.status == "captured"
    assert result.routing is not None and result.routing.profile == "b"
    assert result.routing.attempts[0].error_code == "rate_limited"


def test_every_candidate_down_raises_not_sent() -> None:
    router = Router(rules(), clients({n: closed_port() for n in ("a", "b", "c")}))
    with pytest.raises(NotSentError, match="a: not_sent; b: not_sent; c: not_sent"):
        router.authorize(PAYMENT)


def test_follow_ups_go_to_the_holder(processors: dict[str, FakeProcessor]) -> None:
    urls = {n: f.url for n, f in processors.items()}
    urls["a"] = closed_port()
    router = Router(rules(), clients(urls))
    paid = router.authorize({**PAYMENT, "capture_method": "manual"})
    assert paid.routing is not None and paid.routing.profile == "b"
    processors["b"].answer(scenario("stripe", "capture_full"))
    captured = router.capture({"connector_transaction_id": paid.connector_transaction_id})
    assert captured.routing is not None and captured.routing.profile == "b"
    assert _received(processors) == {"a": 0, "b": 2, "c": 0}
    fresh = Router(rules(), clients(urls))  # knows nothing of that payment
    with pytest.raises(InputError, match="profile="):
        fresh.capture({"connector_transaction_id": paid.connector_transaction_id})
    again = fresh.capture({"connector_transaction_id": paid.connector_transaction_id}, profile="b")
    assert again.routing is not None and again.routing.profile == "b"


def test_an_open_circuit_is_skipped_without_a_call(processors: dict[str, FakeProcessor]) -> None:
    urls = {n: f.url for n, f in processors.items()}
    urls["a"] = closed_port()
    settings = rules()
    settings["health"] = {"consecutive_failures": 2, "open_seconds": 60}
    router = Router(settings, clients(urls))
    outcomes = [router.authorize(PAYMENT).routing.attempts[0].outcome for _ in range(4)]  # type: ignore[union-attr]
    assert outcomes == ["not_sent", "not_sent", "circuit_open", "circuit_open"]
    assert router.health.state("a") == "open"


def test_cheapest_first_and_a_deterministic_split(processors: dict[str, FakeProcessor]) -> None:
    settings = rules(order="cheapest")
    settings["profiles"]["a"]["cost"] = {"USD": {"percent": 2.9, "fixed": 30}}
    settings["profiles"]["b"]["cost"] = {"default": {"percent": 1.5, "fixed": 10}}
    router = Router(settings, clients({n: f.url for n, f in processors.items()}))
    order = [c.profile for c in router.explain("authorize", PAYMENT).candidates]
    assert order == ["b", "a", "c"]  # c's cost is unknown: last
    split = rules()
    split["default"] = {"split": {"a": 80, "b": 20}}
    router = Router(split, clients({n: f.url for n, f in processors.items()}))
    firsts = [
        router.explain("authorize", {**PAYMENT, "idempotency_key": f"k{i}"}).candidates[0].profile
        for i in range(400)
    ]
    assert 250 < firsts.count("a") < 350  # about 80%
    again = router.explain("authorize", {**PAYMENT, "idempotency_key": "k7"}).candidates[0]
    assert again.profile == firsts[7]


def test_a_routed_result_reads_back_from_its_json(processors: dict[str, FakeProcessor]) -> None:
    from engine import Result

    urls = {n: f.url for n, f in processors.items()}
    urls["a"] = closed_port()
    result = Router(rules(), clients(urls)).authorize(PAYMENT)
    again = Result.from_dict(result.to_dict())
    assert again.routing == result.routing
    assert again == result
