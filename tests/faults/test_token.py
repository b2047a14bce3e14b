"""Faults on the OAuth2 token request: the payment request is never sent, so the call raises
(NotSentError, or CredentialsError for refused client credentials) — nothing was paid."""

from __future__ import annotations

import traceback

import httpx
import pytest

from engine import CredentialsError, NotSentError

from .calls import Setup, call_sync, outcome_problems
from .cases import (
    FlowCase,
    applies,
    expected,
    flow_cases,
    limits_for,
    requests_made,
    token_answer,
)
from .fault_server import Action, Answer, Fault, FaultServer, Misbehave

#: One flow per processor that authenticates with OAuth2 tokens: its authorize.
TOKEN_CASES = [c for c in flow_cases() if c.uses_token and c.flow == "authorize"]
MATRIX = [(case, fault) for case in TOKEN_CASES for fault in Fault if applies(case, fault, "token")]


def test_some_processor_uses_tokens() -> None:
    assert TOKEN_CASES, "no bundled spec uses OAuth2 tokens: the token column is untested"


@pytest.mark.parametrize(("case", "fault"), MATRIX, ids=[f"{c.id}-{f}" for c, f in MATRIX])
def test_fault_on_the_token_request(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase, fault: Fault
) -> None:
    want = expected(case, fault, where="token")
    script: list[Action] | None = None
    if fault != Fault.REFUSE:
        script = [Misbehave(fault, token_answer(case)), *case.answers]
    setup = Setup(limits_for(fault), fetch_token=True)
    call = call_sync(fault_server, http, case, script, setup)
    assert outcome_problems(case, want, call, requests_made(case, want, 0, token=True)) == []


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c.id for c in TOKEN_CASES])
def test_refused_client_credentials_raise_and_send_nothing_else(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase
) -> None:
    refusal = Answer(
        401,
        {"Content-Type": "application/json"},
        b'{"error": "invalid_client", "error_description": "Client Authentication failed"}',
    )
    setup = Setup(limits_for(None), fetch_token=True)
    call = call_sync(fault_server, http, case, [refusal, *case.answers], setup)
    assert isinstance(call.outcome, CredentialsError), call.outcome
    assert "nothing else was sent" in str(call.outcome)
    assert call.route is not None and call.route.connections == 1


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c.id for c in TOKEN_CASES])
def test_a_token_failure_leaves_no_secret_in_frame_locals(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase
) -> None:
    # A Sentry-style capture of the exception's frames (repr of every local) shows no secret
    # and not the token an error answer carried.
    broken = token_answer(case, "tok_in_error_answer", status=502)
    setup = Setup(limits_for(None), fetch_token=True)
    call = call_sync(fault_server, http, case, [broken, *case.answers], setup)
    assert isinstance(call.outcome, NotSentError), call.outcome
    shown = traceback.TracebackException.from_exception(call.outcome, capture_locals=True)
    engine_frames = [f for f in shown.stack if "/engine/" in f.filename]
    assert engine_frames
    text = "".join(repr(f.locals) for f in engine_frames)
    secrets = [str(v) for k, v in case.credentials.items() if "secret" in k or "key" in k]
    leaked = [s for s in [*secrets, "tok_in_error_answer"] if s in text]
    assert secrets and not leaked, text[text.find(leaked[0]) - 300 :][:400] if leaked else ""
