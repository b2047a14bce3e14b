"""The fault cases: for every processor and every flow its spec declares, one realistic scenario
fixture (a success, so that a fault is the only thing that can go wrong), the recorded answers
it replays, and the outcome engine.FAULTS promises for each fault.

Shared by the sync and async matrices and the retry tests, so the expectations are derived in
one place, from the documented table only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any, Literal

from engine import Limits, load_connector
from engine._build import flow_plan
from engine._connector import bundled_connectors
from engine._encoding import DECODERS
from engine._outcomes import AS_ANSWERED, FAULTS, NOT_APPLICABLE, NOT_SENT, FaultOutcome
from engine._tokens import AccessToken
from engine._unified import READ_FLOWS

from ..connectors.scenarios import (
    Scenario,
    credentials_for,
    flow_scenarios,
    response_body,
    token_answer_for,
)
from .fault_server import Action, Answer, Fault, Misbehave

#: A standing token for OAuth2 specs, so no token request is made (token faults: test_token).
ACCESS_TOKEN = AccessToken("fault-matrix-access-token", 4_102_444_800.0)
#: The size limit in force for the matrix; the oversized body is padded to four times it.
SIZE_LIMIT = 16 * 1024
#: Generous limits for every fault but those that only a limit can end.
LIMITS = Limits(connect_timeout=5.0, read_timeout=10.0, total_timeout=30.0)
#: The timeout faults: a hold is ended by the read timeout, the drip by the total limit. A hold's
#: outcome does not depend on the value (the server never answers); the drip's total limit must
#: still leave time to connect on a loaded machine (else nothing was sent: NotSentError).
SHORT_LIMITS = {
    Fault.HOLD_BEFORE_READING: Limits(read_timeout=0.05, total_timeout=30.0),
    Fault.HOLD_AFTER_READING: Limits(read_timeout=0.05, total_timeout=30.0),
    Fault.SLOW_DRIP: Limits(read_timeout=10.0, total_timeout=0.5),
}
#: When answered requests come before the faulty one, or many calls share one event loop, the
#: answered requests and the connection must fit in the limits too: these leave ample time.
PATIENT_LIMITS = {
    Fault.HOLD_BEFORE_READING: Limits(read_timeout=1.0, total_timeout=30.0),
    Fault.HOLD_AFTER_READING: Limits(read_timeout=1.0, total_timeout=30.0),
    Fault.SLOW_DRIP: Limits(read_timeout=10.0, total_timeout=1.5),
}
#: What a NotSentError's message says, in one of its wordings.
NOTHING_SENT = re.compile(r"nothing (else )?was sent|was not sent")
SUCCESS = (
    frozenset(
        {"requires_action", "pending", "authorized", "partially_captured", "captured", "voided"}
    )
    | {"succeeded", "found", "revoked"}
    | {"needs_response", "under_review", "accepted", "won", "lost", "expired", "closed"}
)


def limits_for(fault: Fault | None, answered_before: int = 0, *, patient: bool = False) -> Limits:
    """The client limits for `fault` when `answered_before` requests precede the faulty one."""
    table = PATIENT_LIMITS if answered_before or patient else SHORT_LIMITS
    base = table.get(fault, LIMITS) if fault is not None else LIMITS
    return Limits(
        connect_timeout=base.connect_timeout,
        read_timeout=base.read_timeout,
        total_timeout=base.total_timeout,
        max_response_bytes=SIZE_LIMIT,
    )


#: Where the fault hits: the flow's own request, an earlier step, the OAuth2 token request.
Where = Literal["last", "step", "token"]


@dataclass(frozen=True)
class FlowCase:
    """One processor flow with the scenario fixture that stands for it."""

    connector: str
    flow: str
    scenario: Scenario

    @property
    def id(self) -> str:
        return f"{self.connector}-{self.flow}"

    @property
    def request(self) -> dict[str, Any]:
        return dict(self.scenario.data["request"])

    @property
    def credentials(self) -> dict[str, str]:
        return credentials_for(self.connector)

    @property
    def answers(self) -> list[Answer]:
        """The recorded answers, one per request the flow sends (steps, then its own)."""
        data = self.scenario.data
        recorded = data["responses"] if "responses" in data else [data["response"]]
        return [
            Answer(
                int(r.get("status", 200)),
                dict(r.get("headers", {"Content-Type": "application/json"})),
                response_body(r),
            )
            for r in recorded
        ]

    @property
    def expected_status(self) -> str:
        return str(self.scenario.data["expect"]["status"])

    @property
    def uses_token(self) -> bool:
        return load_connector(self.connector).plan.auth.token is not None

    @property
    def reads_no_body(self) -> bool:
        """The spec reads this flow's answer without decoding a body (any 2xx is the answer)."""
        decode = load_connector(self.connector).plan.flows[self.flow].response.decode
        return decode in (DECODERS["none"], DECODERS["text"])

    @cached_property
    def id_swap(self) -> tuple[bytes, bytes] | None:
        """(the request's id, another id) when the flow's spec checks that its own answer
        echoes that id (`response.echo`, by default the id the request names and `fields`
        reads) and the recorded answer does echo it where the check reads; else None."""
        response = flow_plan(load_connector(self.connector).plan, self.flow).response
        answer = self.answers[-1]
        for name, extract in response.echo:
            sent = self.request.get(name)
            if name not in ECHOED_IDS or not isinstance(sent, str) or not sent:
                continue
            swap = (sent.encode(), another_id(sent).encode())
            before = _echoed(response.decode, extract, answer, self.request)
            after = _echoed(response.decode, extract, _swapped(answer, swap), self.request)
            if before == sent and after == another_id(sent):
                return swap
        return None

    def script(self, fault: Fault, *, at: int = -1) -> list[Action]:
        """The recorded answers with the one at index `at` (of the flow's requests) replaced
        by `fault`, which distorts that very answer."""
        answers: list[Action] = list(self.answers)
        index = at % len(answers)
        swap = self.id_swap if fault == Fault.ANOTHER_ID else None
        answers[index] = Misbehave(fault, self.answers[index], swap=swap)
        return answers


#: The request's ids an answer can be checked to echo.
ECHOED_IDS = ("connector_transaction_id", "connector_refund_id")


def another_id(value: str) -> str:
    """An id of the same shape as `value` that is not `value`: its last letter or digit
    moved on by one (9 → 0, z → a)."""
    for index in range(len(value) - 1, -1, -1):
        char = value[index]
        for alphabet in ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
            if char in alphabet:
                moved = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
                return value[:index] + moved + value[index + 1 :]
    return value + "0"


def _swapped(answer: Answer, swap: tuple[bytes, bytes]) -> Answer:
    return Answer(answer.status, answer.headers, answer.body.replace(*swap))


def _echoed(decode: Any, extract: Any, answer: Answer, request: dict[str, Any]) -> str | None:
    """What the spec's echo check reads from `answer` (None: nothing, or it cannot read it)."""
    try:
        body = decode(answer.body)
        headers = {k.lower(): v for k, v in answer.headers.items()}
        context = {"request": request, "response": body, "headers": headers}
        value = extract(body, {**context, "http_status": answer.status})
    except Exception:
        return None
    return None if value is None else str(value)


#: The faults that distort an answer's body (not its status or the connection before it).
_BODY_FAULTS = frozenset(
    {
        Fault.RESET_MID_RESPONSE,
        Fault.OVERSIZED_BODY,
        Fault.HTML_200,
        Fault.TRUNCATED_BODY,
        Fault.EMPTY_BODY,
        Fault.WRONG_CONTENT_TYPE,
    }
)


def applies(case: FlowCase, fault: Fault, where: Where = "last") -> bool:
    """Whether `fault` can happen to this flow there: a fault about what an answer says (its
    id) only where the spec checks that, on the flow's own answer."""
    if fault == Fault.ANOTHER_ID:
        return where == "last" and case.id_swap is not None
    distorted = case.answers[-1 if where == "last" else 0]
    # A 204 has no body (RFC 9110 §15.3.5): a client reads none after its headers, so no body
    # can be cut, padded or replaced; its status line and headers are the answer.
    return not (fault in _BODY_FAULTS and where != "token" and distorted.status == 204)


def _is_clean_success(scenario: Scenario) -> bool:
    data = scenario.data
    recorded = data["responses"] if "responses" in data else [data["response"]]
    return str(data["expect"].get("status")) in SUCCESS and all(
        "transport" not in r and 200 <= int(r.get("status", 200)) < 300 for r in recorded
    )


def _has_bodies(scenario: Scenario) -> bool:
    """Whether every recorded answer has a body (one with a body can be truncated)."""
    data = scenario.data
    recorded = data["responses"] if "responses" in data else [data["response"]]
    return all(response_body(r).strip() for r in recorded)


@cache
def flow_cases() -> tuple[FlowCase, ...]:
    """Every declared flow of every bundled processor, each with its first clean success,
    preferring one whose answers have bodies (a body-less answer has nothing to truncate)."""
    by_flow: dict[tuple[str, str], list[Scenario]] = {}
    for scenario in flow_scenarios():
        by_flow.setdefault((scenario.connector, scenario.data["flow"]), []).append(scenario)
    cases = []
    for connector in bundled_connectors():
        for flow in sorted(connector.flows):
            found = [s for s in by_flow.get((connector.id, flow), []) if _is_clean_success(s)]
            assert found, f"{connector.id} {flow}: no success scenario to inject faults into"
            found.sort(key=lambda s: not _has_bodies(s))
            cases.append(FlowCase(connector.id, flow, found[0]))
    return tuple(cases)


def multi_step_cases() -> tuple[FlowCase, ...]:
    return tuple(c for c in flow_cases() if len(c.answers) > 1)


@dataclass(frozen=True)
class Expected:
    """The outcome FAULTS promises: an exception (NotSentError), or a status and error code
    (None: the outcome the recorded answer itself gives, with its own error)."""

    status: str
    code: str | None

    @property
    def raises(self) -> bool:
        return self.status == NOT_SENT

    @property
    def as_answered(self) -> bool:
        return not self.raises and self.code is None


def expected(case: FlowCase, fault: Fault, *, where: Where = "last") -> Expected:
    """What FAULTS says `fault` gives for this flow: on the flow's own request (`last`), on an
    earlier step (`step`) or on the OAuth2 token request (`token`)."""
    row: FaultOutcome = FAULTS[str(fault)]
    if where == "token":
        status = row.token_request
    elif where == "step":
        status = row.earlier_step
    elif case.flow in READ_FLOWS:
        status = row.read_status
    else:
        status = row.status
    if row.bodyless_status is not None and case.reads_no_body and where == "last":
        status = row.bodyless_status
    if status == NOT_APPLICABLE:
        raise ValueError(f"{fault} cannot happen to {case.id} there ({where})")
    if status == AS_ANSWERED:
        return Expected(case.expected_status, None)
    return Expected(status, None if status == NOT_SENT else row.code)


def requests_made(case: FlowCase, want: Expected, faulty: int, *, token: bool = False) -> int:
    """How many scripted answers a call uses when request number `faulty` (0-based, counting
    the token request when `token`) is the faulty one: all of them when the outcome is as
    answered (the flow went on), else up to the faulty one."""
    total = len(case.answers) + (1 if token else 0)
    return total if want.as_answered else faulty % total + 1


def describe(outcome: object) -> str:
    """A short account of an outcome for assertion messages."""
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {outcome}"
    status = getattr(outcome, "status", None)
    error = getattr(outcome, "error", None)
    return f"{status} ({getattr(error, 'code', None)}: {getattr(error, 'message', None)})"


def token_answer(case: FlowCase, token: str | None = None, status: int | None = None) -> Answer:
    """The processor's token endpoint answer, in its documented shape (with `token` in place of
    the recorded one, and another HTTP `status`, when given)."""
    answer = token_answer_for(case.connector, token)
    code = int(answer["status"]) if status is None else status
    return Answer(code, dict(answer["headers"]), response_body(answer))
