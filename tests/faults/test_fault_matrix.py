"""Every fault, for every processor and every flow its spec declares: no uncaught exception,
and the outcome engine.FAULTS documents (docs/outcomes.md) — with the sync client case by case,
and with the async client for all flows of a fault at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from engine._outcomes import FAULTS

from .calls import Call, Setup, call_async, call_sync, outcome_problems
from .cases import (
    FlowCase,
    Where,
    applies,
    expected,
    flow_cases,
    limits_for,
    multi_step_cases,
    requests_made,
)
from .fault_server import Action, Fault, FaultServer

CASES = flow_cases()
MATRIX = [(case, fault) for case in CASES for fault in Fault if applies(case, fault)]
STEP_MATRIX = [
    (case, fault) for case in multi_step_cases() for fault in Fault if applies(case, fault, "step")
]
#: Async calls in flight at once on one event loop (with patient limits: the loop's lag under
#: load must not turn a slow connect into a refusal).
ASYNC_CONCURRENCY = 40


def _setup(case: FlowCase, fault: Fault, at: int, *, patient: bool = False) -> Setup:
    return Setup(limits_for(fault, answered_before=at % len(case.answers), patient=patient))


def _script(case: FlowCase, fault: Fault, at: int) -> list[Action] | None:
    """The refusal needs no script: the client is pointed at a port nobody listens on."""
    return None if fault == Fault.REFUSE else list(case.script(fault, at=at))


def _problems(case: FlowCase, fault: Fault, call: Call, at: int, where: Where) -> list[str]:
    want = expected(case, fault, where=where)
    return outcome_problems(case, want, call, requests_made(case, want, at))


def test_the_table_names_every_fault_the_server_acts_out() -> None:
    assert set(FAULTS) == {str(f) for f in Fault}


def test_every_flow_whose_answer_is_checked_for_the_id_meets_the_stale_answer() -> None:
    """The stale-answer fault runs wherever a spec checks that an answer echoes the id the
    request names; most processors' actions on a payment and reads do."""
    stale = {case.connector for case in CASES if applies(case, Fault.ANOTHER_ID)}
    assert len(stale) >= 8, stale


def test_some_flow_has_steps() -> None:
    # The earlier-step column of the table is only proven if some flow has steps.
    assert multi_step_cases(), "no processor flow has steps: the earlier-step column is untested"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_recorded_answers_replay_faithfully(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase
) -> None:
    """Without a fault each flow gives its scenario's outcome: the matrix differs from this
    only by the fault."""
    call = call_sync(fault_server, http, case, case.answers, Setup(limits_for(None)))
    want = expected(case, Fault.WRONG_CONTENT_TYPE)
    assert want.as_answered, "the table no longer says 'as answered' for a relabelled body"
    assert outcome_problems(case, want, call, len(case.answers)) == []


@pytest.mark.parametrize(("case", "fault"), MATRIX, ids=[f"{c.id}-{f}" for c, f in MATRIX])
def test_fault_on_the_flow_request(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase, fault: Fault
) -> None:
    call = call_sync(fault_server, http, case, _script(case, fault, -1), _setup(case, fault, -1))
    assert _problems(case, fault, call, -1, "last") == []


@pytest.mark.parametrize(
    ("case", "fault"), STEP_MATRIX, ids=[f"{c.id}-{f}" for c, f in STEP_MATRIX]
)
def test_fault_on_an_earlier_step(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase, fault: Fault
) -> None:
    call = call_sync(fault_server, http, case, _script(case, fault, 0), _setup(case, fault, 0))
    assert _problems(case, fault, call, 0, "step") == []


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", list(Fault), ids=str)
async def test_the_async_client_gives_the_same_outcomes(
    fault_server: FaultServer, fault: Fault
) -> None:
    """Every processor flow for one fault, on the flow's own request and (multi-step flows)
    on the first step, interleaved on one event loop."""
    jobs: list[tuple[FlowCase, int, Where]] = [
        (case, -1, "last") for case in CASES if applies(case, fault)
    ]
    jobs += [(case, 0, "step") for case in multi_step_cases() if applies(case, fault, "step")]
    gate = asyncio.Semaphore(ASYNC_CONCURRENCY)

    async def run(http: httpx.AsyncClient, case: FlowCase, at: int) -> Call:
        async with gate:
            script = _script(case, fault, at)
            setup = _setup(case, fault, at, patient=True)
            return await call_async(fault_server, http, case, script, setup)

    async with httpx.AsyncClient() as http:
        calls = await asyncio.gather(*(run(http, case, at) for case, at, _ in jobs))
    problems = {
        f"{case.id}@{where}": found
        for (case, at, where), call in zip(jobs, calls, strict=True)
        if (found := _problems(case, fault, call, at, where))
    }
    assert problems == {}
