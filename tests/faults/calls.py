"""One flow call against a scripted route, with the sync or the async client, and the one check
every fault test makes of its outcome against engine.FAULTS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from engine import (
    AsyncClient,
    Client,
    ConnectorServiceError,
    Limits,
    NotSentError,
    Result,
    RetryPolicy,
)
from engine._tokens import AccessToken, MemoryTokenCache
from engine._unified import READ_FLOWS

from ..connectors.scenarios import dotted
from .cases import ACCESS_TOKEN, NOTHING_SENT, Expected, FlowCase, describe
from .fault_server import Action, FaultServer, Route

Outcome = Result | ConnectorServiceError


@dataclass
class Call:
    """What a call gave, the route that served it (None: the refusing port) and the waits
    the retry policy asked for (recorded, never slept)."""

    outcome: Outcome
    route: Route | None
    slept: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Setup:
    """How to call: the client's limits and retry policy, whether the OAuth2 token is given
    (no token request) or fetched (the route answers the token request first), and whose
    idempotency key is used."""

    limits: Limits
    retry: RetryPolicy | None = None
    fetch_token: bool = False
    #: Leave the scenario's idempotency key out, so the client generates one.
    generate_key: bool = False


def _request(case: FlowCase, setup: Setup) -> dict[str, object]:
    request = case.request
    if setup.generate_key:
        request.pop("idempotency_key", None)
    return request


def _token(case: FlowCase, setup: Setup) -> AccessToken | None:
    return ACCESS_TOKEN if case.uses_token and not setup.fetch_token else None


def _url(server: FaultServer, route: Route | None) -> str:
    return server.refusing_url if route is None else route.base_url


def call_sync(
    server: FaultServer,
    http: httpx.Client,
    case: FlowCase,
    script: Sequence[Action] | None,
    setup: Setup,
) -> Call:
    """Run the case's flow once with Client; `script` None means the refusing port."""
    route = None if script is None else server.route(*script)
    slept: list[float] = []
    client = Client(
        case.connector,
        case.credentials,
        base_url=_url(server, route),
        allow_undeclared_host=True,  # the fault server, on 127.0.0.1
        http_client=http,
        sleep=slept.append,
        limits=setup.limits,
        retry=setup.retry,
        access_token=_token(case, setup),
        token_cache=MemoryTokenCache(),  # never a token left by another test
    )
    try:
        outcome: Outcome = client.call(case.flow, _request(case, setup))
    except ConnectorServiceError as exc:
        outcome = exc
    finally:
        if route is not None:
            route.close()
    return Call(outcome, route, slept)


async def call_async(
    server: FaultServer,
    http: httpx.AsyncClient,
    case: FlowCase,
    script: Sequence[Action] | None,
    setup: Setup,
) -> Call:
    """The asyncio twin of call_sync."""
    route = None if script is None else server.route(*script)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = AsyncClient(
        case.connector,
        case.credentials,
        base_url=_url(server, route),
        allow_undeclared_host=True,  # the fault server, on 127.0.0.1
        http_client=http,
        sleep=sleep,
        limits=setup.limits,
        retry=setup.retry,
        access_token=_token(case, setup),
        token_cache=MemoryTokenCache(),  # never a token left by another test
    )
    try:
        outcome: Outcome = await client.call(case.flow, _request(case, setup))
    except ConnectorServiceError as exc:
        outcome = exc
    finally:
        if route is not None:
            route.close()
    return Call(outcome, route, slept)


def outcome_problems(
    case: FlowCase, want: Expected, call: Call, requests: int, *, key_given: bool = True
) -> list[str]:
    """Every way `call` differs from `want` (empty: it matches). `requests` is how many of the
    scripted answers the call must have used: the fault must have hit the intended request."""
    outcome, problems = call.outcome, []
    if want.raises:
        if not isinstance(outcome, NotSentError):
            return [f"expected NotSentError, got {describe(outcome)}"]
        if not NOTHING_SENT.search(str(outcome)):
            problems.append(f"NotSentError does not say nothing was sent: {outcome}")
    elif not isinstance(outcome, Result):
        return [f"expected {want.status}, got {describe(outcome)}"]
    elif want.as_answered:  # the scenario's own expectations hold
        result = outcome.to_dict()
        for path, value in case.scenario.data["expect"].items():
            if dotted(result, path) != value:
                problems.append(f"{path}: {dotted(result, path)!r} != {value!r}")
    elif (outcome.status, outcome.error and outcome.error.code) != (want.status, want.code):
        problems.append(f"expected {want.status} ({want.code}), got {describe(outcome)}")
    if isinstance(outcome, Result):
        problems += _key_problems(case, outcome, key_given)
    route = call.route
    if route is not None and (route.connections, route.unscripted) != (requests, 0):
        problems.append(
            f"{route.connections} request(s) reached the server ({route.unscripted} unscripted); "
            f"the script expected {requests}"
        )
    return problems


def _key_problems(case: FlowCase, result: Result, key_given: bool) -> list[str]:
    """A result of a flow that may move money carries its idempotency key (the caller's, or
    the one generated and sent), so the caller can retry with it."""
    if case.flow in READ_FLOWS:
        return []
    given = case.request.get("idempotency_key") if key_given else None
    key = result.idempotency_key
    if not key or (given and key != given):
        return [f"the result carries idempotency key {key!r}, the request gave {given!r}"]
    return []
