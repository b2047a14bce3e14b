"""A processor that quotes the request back inside its answer ("Invalid API Key provided:
sk_test_…"): every recorded answer of every processor, with every header value that arrived
(Basic credentials decoded), and the request body, appended to each of its strings. Whatever
the call gives — a Result (its repr, its dict) or an exception (its text, args and chain) —
holds no credential secret, no auth header value the engine derived from one, no access
token and no card number; sync, and async for every flow at once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from engine import ConnectorServiceError, Result, load_connector

from ..connectors.scenarios import Scenario, flow_scenarios
from .calls import Call, Outcome, Setup, call_async, call_sync
from .cases import ACCESS_TOKEN, FlowCase, flow_cases, limits_for, token_answer
from .fault_server import Action, Answer, Echo, FaultServer, Route

#: Headers that carry credentials whatever the scheme. Not cookies: the shared httpx client
#: keeps those a processor set (Worldpay's `machine`), and they are the processor's, not ours.
AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key"})
#: Below this length a value may occur in an answer by chance (a CVC in an amount).
SHORTEST_SECRET = 8


def _replayable(scenario: Scenario) -> bool:
    data = scenario.data
    recorded = data.get("responses") or ([data["response"]] if "response" in data else [])
    sent = "raises" not in data["expect"]  # else refused before sending: nothing to quote
    return sent and bool(recorded) and all("transport" not in r for r in recorded)


#: Every scenario the processor answered (no transport failure), as a flow case.
CASES = [FlowCase(s.connector, s.data["flow"], s) for s in flow_scenarios() if _replayable(s)]


def _script(case: FlowCase) -> list[Action]:
    """The recorded answers, the flow's own one quoting the request back."""
    answers: list[Action] = list(case.answers)
    answers[-1] = Echo(case.answers[-1])
    return answers


def _secrets(case: FlowCase, route: Route) -> list[str]:
    """What must not be shown: the secret credentials, the access token, the card number, and
    each auth header value that arrived (and its credentials part, after the scheme)."""
    plan = load_connector(case.connector).plan
    secret_names = {c.name for c in plan.credentials if c.secret}
    found = [str(v) for k, v in case.credentials.items() if k in secret_names]
    if case.uses_token:
        found.append(ACCESS_TOKEN.token.reveal())
    card = (case.request.get("payment_method") or {}).get("card") or {}
    found += [str(card["number"])] if card.get("number") else []
    names = {n.lower() for n in plan.auth.header_names} | AUTH_HEADERS
    for arrival in route.arrivals:
        for name in names & set(arrival.headers):
            value = arrival.headers[name]
            found += [value, value.partition(" ")[2]]
        found += _secret_fields(plan.auth, arrival.body)
    return sorted({s for s in found if len(s) >= SHORTEST_SECRET})


def _secret_fields(auth: Any, body: bytes) -> list[str]:
    """The values of the body fields an auth scheme derived from a secret (a `signed` scheme's
    checksum over the body): what a request that carries no secret itself still carries."""
    if not auth.secret_fields or not body:
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return []
    for part in auth.body_pointer:
        document = document.get(part) if isinstance(document, dict) else None
    if not isinstance(document, dict):
        return []
    return [str(document[name]) for name in auth.secret_fields if name in document]


def _shown(outcome: Outcome) -> str:
    """Every text a caller (or a logger, an error tracker) can get from the outcome."""
    if isinstance(outcome, Result):
        return "\n".join([repr(outcome), str(outcome), json.dumps(outcome.to_dict(), default=str)])
    texts, seen = [], set()
    exc: BaseException | None = outcome
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts += [str(exc), repr(exc), repr(exc.args), repr(getattr(exc, "__dict__", {}))]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(texts)


def _leaks(case: FlowCase, call: Call) -> list[str]:
    route = call.route
    assert route is not None and route.unscripted == 0
    secrets = _secrets(case, route)
    # The answer quoted the request, so it carried every secret the request did.
    sent = b"".join(a.raw for a in route.arrivals)
    assert secrets and any(s.encode() in sent for s in secrets), case.id
    text = _shown(call.outcome)
    return [f"{case.id}: {s[:6]}… shown" for s in secrets if s in text]


@pytest.mark.parametrize("case", CASES, ids=[c.scenario.id for c in CASES])
def test_a_quoted_secret_is_never_shown(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase
) -> None:
    call = call_sync(fault_server, http, case, _script(case), Setup(limits_for(None)))
    assert _leaks(case, call) == []


@pytest.mark.asyncio
async def test_a_quoted_secret_is_never_shown_by_the_async_client(
    fault_server: FaultServer,
) -> None:
    jobs = flow_cases()  # every flow of every processor, at once on one event loop
    async with httpx.AsyncClient() as http:
        calls = await asyncio.gather(
            *(call_async(fault_server, http, c, _script(c), Setup(limits_for(None))) for c in jobs)
        )
    assert [leak for c, call in zip(jobs, calls, strict=True) for leak in _leaks(c, call)] == []


TOKEN_CASES = [c for c in flow_cases() if c.uses_token and c.flow == "authorize"]


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c.id for c in TOKEN_CASES])
def test_a_token_endpoint_quoting_the_client_credentials_shows_none(
    fault_server: FaultServer, http: httpx.Client, case: FlowCase, status: int
) -> None:
    """The token endpoint refuses (401) or fails (500) quoting the Basic credentials back: the
    exception (nothing else was sent) shows neither them nor the client secret."""
    refusal = Answer(status, {"Content-Type": "application/json"}, token_answer(case).body)
    setup = Setup(limits_for(None), fetch_token=True)
    call = call_sync(fault_server, http, case, [Echo(refusal), *case.answers], setup)
    assert isinstance(call.outcome, ConnectorServiceError), call.outcome
    assert call.route is not None and call.route.connections == 1
    assert _leaks(case, call) == []
