"""Property tests over random rule sets and outcomes: failover never follows an outcome that
might have charged, and follow-up flows always reach the profile of the original payment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine import CredentialsError, NotSentError, UnsupportedError, load_connector
from engine._unified import ErrorInfo, Result
from engine.routing import OPT_IN, Router

PROFILES = ["p0", "p1", "p2", "p3"]
#: Outcomes a candidate may give: a Result status with a code, or an engine exception.
OUTCOMES = [
    ("captured", None),
    ("authorized", None),
    ("requires_action", None),
    ("pending", None),
    ("unresolved", "timeout"),
    ("unresolved", "processor_unavailable"),
    ("failed", "rate_limited"),
    ("failed", "processor_unavailable"),
    ("failed", "do_not_honor"),
    ("failed", "card_declined"),
    ("failed", "lost_or_stolen_card"),
    ("failed", "suspected_fraud"),
    ("failed", "idempotency_conflict"),
    ("failed", "invalid_request"),
    ("not_sent", None),
    ("unsupported", None),
    ("credentials", None),
]
MIGHT_HAVE_CHARGED = {"captured", "authorized", "requires_action", "pending", "unresolved"}


@dataclass
class Scripted:
    """A client whose calls give the scripted outcomes, in order, and are counted."""

    outcomes: list[tuple[str, str | None]]
    connector: Any = field(default_factory=lambda: load_connector("stripe"))
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def call(self, flow: str, request: dict[str, Any]) -> Result:
        self.calls.append((flow, request))
        status, code = self.outcomes.pop(0) if self.outcomes else ("captured", None)
        if status == "not_sent":
            raise NotSentError("refused")
        if status == "unsupported":
            raise UnsupportedError("no")
        if status == "credentials":
            raise CredentialsError("bad")
        error = ErrorInfo(code, "x", False) if code else None
        return Result(
            flow,
            "stripe",
            status,
            connector_transaction_id=f"pi_{len(self.calls)}_{id(self)}",
            error=error,
            idempotency_key=request.get("idempotency_key"),
        )


rule_sets = st.fixed_dictionaries(
    {
        "order": st.permutations(PROFILES).map(list),
        "count": st.integers(1, 4),
        "failover": st.lists(st.sampled_from(sorted(OPT_IN)), unique=True),
        "max_attempts": st.one_of(st.none(), st.integers(1, 4)),
    }
)


@settings(max_examples=300, deadline=None)
@given(
    rule_set=rule_sets,
    script=st.lists(st.sampled_from(OUTCOMES), min_size=4, max_size=4),
)
def test_failover_never_follows_an_outcome_that_might_have_charged(
    rule_set: dict[str, Any], script: list[tuple[str, str | None]]
) -> None:
    candidates = rule_set["order"][: rule_set["count"]]
    default: dict[str, Any] = {"candidates": candidates, "failover": rule_set["failover"]}
    if rule_set["max_attempts"]:
        default["max_attempts"] = rule_set["max_attempts"]
    rules = {
        "routing_version": 1,
        "profiles": {p: {"connector": "stripe"} for p in PROFILES},
        "default": default,
        "health": {"consecutive_failures": 100},
    }
    clients = {p: Scripted([script[i]]) for i, p in enumerate(PROFILES)}
    router = Router(rules, clients)
    request = {"amount": 100, "currency": "USD", "payment_method": {"type": "token", "token": "pm"}}
    try:
        result: Result | None = router.authorize(request)
    except NotSentError:
        result = None
    called = [p for p in candidates if clients[p].calls]
    # Calls happen in candidate order, and stop at the first that might have charged.
    assert called == candidates[: len(called)]
    for profile in called[:-1]:
        status, code = script[PROFILES.index(profile)]
        assert status not in MIGHT_HAVE_CHARGED, (profile, status)
        if status == "failed":
            assert code in rule_set["failover"], (profile, code)
    keys = {clients[p].calls[0][1]["idempotency_key"] for p in called}
    assert len(keys) <= 1  # one key for the one payment
    if result is None:  # NotSentError: no candidate was even possibly charged
        assert all(script[PROFILES.index(p)][0] not in MIGHT_HAVE_CHARGED for p in called)
        return
    assert result.routing is not None
    if result.routing.profile is not None and called:
        # Follow-ups reach the profile that answered, whoever is asked next.
        for flow in ("capture", "refund", "get", "void"):
            before = {p: len(c.calls) for p, c in clients.items()}
            follow = router.call(
                flow, {"connector_transaction_id": result.connector_transaction_id}
            )
            assert follow.routing is not None
            assert follow.routing.profile == result.routing.profile
            after = {p: len(c.calls) for p, c in clients.items()}
            grew = [p for p in PROFILES if after[p] > before[p]]
            assert grew == [result.routing.profile]
