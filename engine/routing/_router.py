"""Router and AsyncRouter: the Client's call interface over several profiles, with failover
that never charges twice (engine.routing._failover) and follow-up flows sent to the profile
that holds the payment.

One conversation drives both: `_route` yields (profile, request) for each attempt and receives
its outcome (a Result, or the engine exception that says nothing was sent); the sync and async
routers only carry the calls."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import Any, Protocol

from .._errors import (
    ConnectorServiceError,
    CredentialsError,
    InputError,
    NotSentError,
    RenderError,
    SpecError,
    UnsupportedError,
)
from .._unified import FLOWS, READ_FLOWS, Attempt, Result, Routing
from ._failover import (
    CIRCUIT_OPEN,
    CREDENTIALS,
    NOT_SENT,
    UNSUPPORTED,
    after_exception,
    after_result,
)
from ._health import UNWELL_CODES, HealthStore, MemoryHealth
from ._plan import RoutePlan, plan
from ._rules import RoutingRules, load_rules

#: Flows about an existing payment: they go to the profile that holds it, never routed anew.
FOLLOW_UPS = frozenset(
    {
        "capture",
        "void",
        "refund",
        "get",
        "get_refund",
        "complete_authorize",
        "charge_recurring",
        "find",
        "incremental_authorize",
        "reverse",
        "revoke_recurring",
        "get_dispute",
        "accept_dispute",
        "submit_evidence",
    }
)
#: Flows the router chooses a processor for.
ROUTED = frozenset(FLOWS) - FOLLOW_UPS

Conversation = Generator[tuple[str, dict[str, Any]], Result | Exception, Result]


class _Caller(Protocol):
    """A Client or AsyncClient (what the router needs of one)."""

    @property
    def connector(self) -> Any: ...

    def call(self, flow: str, request: Mapping[str, Any]) -> Any: ...


def _kind(exc: Exception) -> str | None:
    """The failover kind of an engine exception (nothing was sent), or None: raise it."""
    if isinstance(exc, NotSentError):
        return NOT_SENT
    if isinstance(exc, UnsupportedError | RenderError):
        return UNSUPPORTED
    if isinstance(exc, CredentialsError):
        return CREDENTIALS
    return None


def _unwell(result: Result) -> bool:
    code = result.error.code if result.error is not None else None
    return result.status == "unresolved" and code in UNWELL_CODES


class _Holders:
    """Which profile holds each payment, mandate and refund this router produced (bounded)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._ids: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def remember(self, result: Result, profile: str) -> None:
        with self._lock:
            for value in (
                result.connector_transaction_id,
                result.mandate_id,
                result.connector_refund_id,
            ):
                if value:
                    self._ids[value] = profile
                    self._ids.move_to_end(value)
            while len(self._ids) > self._limit:
                self._ids.popitem(last=False)

    def holder(self, request: Mapping[str, Any]) -> str | None:
        with self._lock:
            for name in ("connector_transaction_id", "mandate_id", "connector_refund_id"):
                value = request.get(name)
                if isinstance(value, str) and value in self._ids:
                    return self._ids[value]
        return None


class _Core:
    def __init__(
        self,
        rules: RoutingRules | Mapping[str, Any] | str,
        clients: Mapping[str, _Caller],
        *,
        health: HealthStore | None = None,
    ) -> None:
        self.rules = rules if isinstance(rules, RoutingRules) else load_rules(rules)
        self.clients = clients
        self.health: HealthStore = health or MemoryHealth(self.rules.health)
        self._holders = _Holders()
        self._check_profiles()

    def _check_profiles(self) -> None:
        for name, profile in self.rules.profiles.items():
            if name not in self.clients:
                raise CredentialsError(f"routing profile {name!r} has no client (credentials)")
            if name in self.clients and self.clients[name].connector.id != profile.connector:
                raise CredentialsError(
                    f"routing profile {name!r} is a {profile.connector} profile, but its client "
                    f"is for {self.clients[name].connector.id}"
                )

    def explain(self, flow: str, request: Mapping[str, Any]) -> RoutePlan:
        return plan(self.rules, flow, request)

    def _route(self, flow: str, request: Mapping[str, Any], profile: str | None) -> Conversation:
        if flow not in FLOWS:
            raise UnsupportedError(f"unknown flow {flow!r}")
        if not isinstance(request, Mapping):
            raise InputError("/", "the request must be a JSON object")
        prepared = dict(request)
        if flow not in READ_FLOWS and prepared.get("idempotency_key") is None:
            prepared["idempotency_key"] = uuid.uuid4().hex  # one key for every candidate
        if flow in FOLLOW_UPS or profile is not None:
            return (yield from self._follow_up(flow, prepared, profile))
        route = plan(self.rules, flow, prepared)
        attempts: list[Attempt] = []
        last: Result | None = None
        for candidate in route.candidates:
            name, connector = candidate.profile, candidate.connector
            if not self.health.allow(name):
                attempts.append(
                    Attempt(name, connector, CIRCUIT_OPEN, None, after_exception(CIRCUIT_OPEN).why)
                )
                continue
            outcome = yield name, prepared
            if isinstance(outcome, Exception):
                kind = _kind(outcome)
                if kind is None or not isinstance(outcome, ConnectorServiceError):
                    self.health.record(name, failed=False)
                    raise outcome
                self.health.record(name, failed=kind == NOT_SENT)
                attempts.append(Attempt(name, connector, kind, None, after_exception(kind).why))
                continue
            self.health.record(name, failed=_unwell(outcome))
            decision = after_result(outcome, route.choice.failover)
            code = outcome.error.code if outcome.error is not None else None
            attempts.append(Attempt(name, connector, outcome.status, code, decision.why))
            if not decision.next:
                self._holders.remember(outcome, name)
                return replace(
                    outcome, routing=Routing(name, route.rule, tuple(attempts), decision.why)
                )
            last = outcome
        if last is not None:  # every candidate refused definitely: the last refusal stands
            held = next(a.profile for a in reversed(attempts) if a.outcome == last.status)
            self._holders.remember(last, held)
            return replace(
                last,
                routing=Routing(held, route.rule, tuple(attempts), "no candidate left"),
            )
        tried = "; ".join(f"{a.profile}: {a.outcome}" for a in attempts) or "no candidate"
        skipped = "; ".join(f"{s.profile}: {s.why}" for s in route.skipped)
        raise NotSentError(
            f"rule {route.rule}: no candidate could take the payment, nothing was sent ({tried}"
            + (f"; skipped {skipped}" if skipped else "")
            + ")"
        )

    def _follow_up(self, flow: str, request: dict[str, Any], profile: str | None) -> Conversation:
        name = profile or self._holders.holder(request)
        if name is None:
            raise InputError(
                "/connector_transaction_id",
                f"{flow} goes to the profile that holds the payment: pass profile= (the "
                "original result's routing.profile)",
            )
        if name not in self.rules.profiles:
            raise InputError("/", f"no routing profile {name!r}")
        outcome = yield name, request
        connector = self.rules.profiles[name].connector
        if isinstance(outcome, Exception):
            raise outcome
        self.health.record(name, failed=_unwell(outcome))
        self._holders.remember(outcome, name)
        code = outcome.error.code if outcome.error is not None else None
        why = "a follow-up goes to the profile that holds the payment"
        attempt = Attempt(name, connector, outcome.status, code, why)
        return replace(outcome, routing=Routing(name, "follow-up", (attempt,), why))


class Router(_Core):
    """Route payments over several profiles: `Router(rules, {"acme-us": Client(...), ...})`.
    The Client's interface; follow-ups accept `profile=` (else the router's memory of the
    payments it routed is asked)."""

    def call(self, flow: str, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        conversation = self._route(flow, request, profile)
        try:
            name, prepared = next(conversation)
            while True:
                try:
                    outcome: Result | Exception = self.clients[name].call(flow, prepared)
                except SpecError:
                    raise
                except ConnectorServiceError as exc:
                    outcome = exc
                name, prepared = conversation.send(outcome)
        except StopIteration as done:
            result: Result = done.value
            return result

    def authorize(self, request: Mapping[str, Any]) -> Result:
        return self.call("authorize", request)

    def setup_recurring(self, request: Mapping[str, Any]) -> Result:
        return self.call("setup_recurring", request)

    def capture(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("capture", request, profile=profile)

    def void(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("void", request, profile=profile)

    def refund(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("refund", request, profile=profile)

    def get(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("get", request, profile=profile)

    def get_refund(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("get_refund", request, profile=profile)

    def complete_authorize(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return self.call("complete_authorize", request, profile=profile)

    def charge_recurring(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("charge_recurring", request, profile=profile)

    def find(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("find", request, profile=profile)

    def verify(self, request: Mapping[str, Any]) -> Result:
        return self.call("verify", request)

    def incremental_authorize(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return self.call("incremental_authorize", request, profile=profile)

    def reverse(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("reverse", request, profile=profile)

    def revoke_recurring(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("revoke_recurring", request, profile=profile)

    def get_dispute(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("get_dispute", request, profile=profile)

    def accept_dispute(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("accept_dispute", request, profile=profile)

    def submit_evidence(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return self.call("submit_evidence", request, profile=profile)


class AsyncRouter(_Core):
    """The asyncio twin of Router, over AsyncClients."""

    async def call(
        self, flow: str, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        conversation = self._route(flow, request, profile)
        try:
            name, prepared = next(conversation)
            while True:
                try:
                    outcome: Result | Exception = await self.clients[name].call(flow, prepared)
                except SpecError:
                    raise
                except ConnectorServiceError as exc:
                    outcome = exc
                name, prepared = conversation.send(outcome)
        except StopIteration as done:
            result: Result = done.value
            return result

    async def authorize(self, request: Mapping[str, Any]) -> Result:
        return await self.call("authorize", request)

    async def setup_recurring(self, request: Mapping[str, Any]) -> Result:
        return await self.call("setup_recurring", request)

    async def capture(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return await self.call("capture", request, profile=profile)

    async def void(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return await self.call("void", request, profile=profile)

    async def refund(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return await self.call("refund", request, profile=profile)

    async def get(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return await self.call("get", request, profile=profile)

    async def get_refund(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return await self.call("get_refund", request, profile=profile)

    async def complete_authorize(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return await self.call("complete_authorize", request, profile=profile)

    async def charge_recurring(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return await self.call("charge_recurring", request, profile=profile)

    async def find(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return await self.call("find", request, profile=profile)

    async def verify(self, request: Mapping[str, Any]) -> Result:
        return await self.call("verify", request)

    async def incremental_authorize(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return await self.call("incremental_authorize", request, profile=profile)

    async def reverse(self, request: Mapping[str, Any], *, profile: str | None = None) -> Result:
        return await self.call("reverse", request, profile=profile)

    async def revoke_recurring(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return await self.call("revoke_recurring", request, profile=profile)

    async def get_dispute(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return await self.call("get_dispute", request, profile=profile)

    async def accept_dispute(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return await self.call("accept_dispute", request, profile=profile)

    async def submit_evidence(
        self, request: Mapping[str, Any], *, profile: str | None = None
    ) -> Result:
        return await self.call("submit_evidence", request, profile=profile)
