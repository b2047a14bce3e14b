"""Limits.max_response_bytes and Limits.total_timeout are the caller's to set: the same answer
is refused under a small limit and read under a large one."""

from __future__ import annotations

import httpx

from engine import Limits

from .calls import Setup, call_sync, outcome_problems
from .cases import Expected, expected, flow_cases
from .fault_server import Drip, Fault, FaultServer, Misbehave

CASE = next(c for c in flow_cases() if (c.connector, c.flow) == ("stripe", "authorize"))
AS_ANSWERED = expected(CASE, Fault.WRONG_CONTENT_TYPE)
#: The recorded answer behind 64 KiB of leading whitespace: still valid JSON, so only the size
#: limit can refuse it.
PADDED = Misbehave(Fault.OVERSIZED_BODY, CASE.answers[0], oversize_to=64 * 1024)
#: The recorded answer in 30 pieces 50 ms apart: 1.5 s at least to arrive, then complete.
SLOW = Drip(CASE.answers[0], pieces=30)


def test_a_body_over_the_size_limit_is_unresolved(
    fault_server: FaultServer, http: httpx.Client
) -> None:
    call = call_sync(fault_server, http, CASE, [PADDED], Setup(Limits(max_response_bytes=32_768)))
    assert outcome_problems(CASE, expected(CASE, Fault.OVERSIZED_BODY), call, 1) == []


def test_the_same_body_is_read_under_a_larger_limit(
    fault_server: FaultServer, http: httpx.Client
) -> None:
    call = call_sync(fault_server, http, CASE, [PADDED], Setup(Limits(max_response_bytes=65_600)))
    assert outcome_problems(CASE, AS_ANSWERED, call, 1) == []


def test_a_slow_answer_past_the_total_limit_is_unresolved(
    fault_server: FaultServer, http: httpx.Client
) -> None:
    call = call_sync(fault_server, http, CASE, [SLOW], Setup(Limits(total_timeout=0.5)))
    want = expected(CASE, Fault.SLOW_DRIP)
    assert want == Expected("unresolved", "timeout")
    assert outcome_problems(CASE, want, call, 1) == []


def test_the_same_slow_answer_is_read_without_a_total_limit(
    fault_server: FaultServer, http: httpx.Client
) -> None:
    call = call_sync(fault_server, http, CASE, [SLOW], Setup(Limits(total_timeout=None)))
    assert outcome_problems(CASE, AS_ANSWERED, call, 1) == []
