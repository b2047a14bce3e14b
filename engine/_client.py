"""Connector + credentials → Results over HTTP (httpx, sync and async). The clients: they
generate idempotency keys, drive each call (engine._sending moves its bytes, engine._client_tokens
gets its token), retry only where it is safe, and confirm unsigned webhooks by a fetch."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx

from . import _log_scrub, _transport
from ._boundary import client_event_secrets, client_secrets, public
from ._build import build_request, check_request, next_step, request_count
from ._client_tokens import TokenHolder, token_for, token_for_async
from ._connector import Connector, load_connector
from ._credentials import Credentials
from ._errors import InputError, NotSentError, WebhookError
from ._flow_methods import AsyncFlowMethods, FlowMethods
from ._hosts import override_url
from ._http import HttpRequest, HttpResponse
from ._parse import parse_step, with_step_ids
from ._raw import raw_response_of
from ._retry import Attempts
from ._sending import Limits, remaining, send, send_async, transport_failure
from ._tokens import DEFAULT_TOKEN_CACHE, AccessToken, TokenCache, TokenWanted
from ._unified import READ_FLOWS, STATUS_EVENT, Event, PaymentStatus, Result
from ._webhooks import WebhookResult

__all__ = ["AsyncClient", "Client", "Limits", "RetryPolicy"]

logger = logging.getLogger("engine")

#: The conversation a call is: requests out, responses (or transport exceptions) in, a Result.
#: A TokenWanted out is answered with (AccessToken, fetched_now): see TokenHolder._reusable_token.
Exchange = Generator[HttpRequest | TokenWanted, Any, Result]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a client sends a request again by itself. Never at the risk of a second charge: a
    retry happens only when nothing was sent (the connection was refused), when the processor
    refused without acting (HTTP 429), or when the outcome is unresolved and either the flow only
    reads or the spec declares that the processor honours the idempotency key and the request
    carried it (then the same key is sent again). Delays double from `backoff`; a
    `Retry-After` is honoured up to `max_delay`. The default, one attempt, never retries."""

    attempts: int = 1
    backoff: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        wait = self.backoff * 2 ** (attempt - 1) if retry_after is None else retry_after
        return max(0.0, min(wait, self.max_delay))


def retry_after_seconds(response: HttpResponse | None, now: float) -> float | None:
    """A `Retry-After` header as seconds: delta-seconds or an HTTP date."""
    value = response.header("retry-after") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):
        return None


class _Base(TokenHolder):
    retry: RetryPolicy

    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        allow_undeclared_host: bool = False,
        limits: Limits | None = None,
        access_token: AccessToken | None = None,
        token_cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
        raw_response: bool = False,
    ) -> None:
        self.connector = (
            connector if isinstance(connector, Connector) else load_connector(connector)
        )
        if base_url is not None:  # refused now, not at the first call (see engine._hosts)
            hosts = list(self.connector.plan.host_rules())
            override_url(
                self.connector.plan.id, hosts, base_url, allow_undeclared_host=allow_undeclared_host
            )
        self.allow_undeclared_host = allow_undeclared_host
        # Held wrapped (secret values as Secret) and resolved once, on first use.
        self._credentials = Credentials.for_plan(self.connector.plan, credentials)
        self.environment = environment
        self.base_url = base_url
        self.limits = limits or Limits()
        self._access_token = access_token
        self.token_cache: TokenCache = token_cache or DEFAULT_TOKEN_CACHE
        self._clock = clock
        #: Whether each Result carries the processor's scrubbed answer (`Result.raw`).
        self.raw_response = raw_response

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.connector.id!r}, environment={self.environment!r})"

    def _keyed(self, flow: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """The request with an idempotency key (generated when absent, for mutating flows), so
        every attempt of one call sends the same key."""
        if not isinstance(request, Mapping):
            raise InputError("/", "the request must be a JSON object")
        prepared = dict(request)
        # Only an absent key is generated: a bad one ("", {}) is refused by validation.
        if flow not in READ_FLOWS and prepared.get("idempotency_key") is None:
            prepared["idempotency_key"] = uuid.uuid4().hex
        return prepared

    def _retry_wait(
        self, attempt: int, retry_after: float | None, deadline: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None: no attempts left, or the wait
        would not end before the call's total time limit."""
        if attempt >= self.retry.attempts:
            return None
        wait: float = self.retry.delay(attempt, retry_after)
        left = remaining(deadline)
        if left is not None and wait >= left:
            return None
        return wait

    @staticmethod
    def _may_retry(result: Result) -> bool:
        """Whether to send the request again: exactly when the result says it is safe
        (`error.retryable`, decided by engine._retry.settle)."""
        return result.error is not None and result.error.retryable

    def _drive(
        self, flow: str, request: Mapping[str, Any], attempts: Attempts | None = None
    ) -> Exchange:
        """The whole call as a sans-I/O conversation: yields each HttpRequest to send, receives
        the HttpResponse (or the transport exception), returns the Result. Client and
        AsyncClient only move bytes; everything else happens here, once. `attempts` is what
        the call's earlier attempts left: an attempt resumes at the first step that did not
        succeed, and never sends a step that did again."""
        attempts = Attempts() if attempts is None else attempts
        prepared = self._keyed(flow, request)
        key = prepared.get("idempotency_key")
        plan = self.connector.plan
        count = request_count(plan, flow)
        check_request(plan, flow, prepared)  # refuse bad input before even fetching a token
        # The first request is built from the request just checked, unless the conversation
        # paused first (a token fetch: the caller's nested objects, shared by `prepared`, could
        # have changed meanwhile); any later one is checked again as it is built.
        unchanged = True
        reference = prepared.get("reference")
        token: AccessToken | None = None
        fresh = False
        if plan.auth.token is not None:
            token, fresh = yield TokenWanted(self._token_key())
            unchanged = False
        steps = attempts.steps
        index = attempts.done
        while index < count:
            # A step whose `if` does not hold is passed over (its answer None).
            index = attempts.done = next_step(plan, flow, index, prepared, self._credentials, steps)
            built = build_request(
                plan,
                flow,
                prepared,
                self._credentials,
                environment=self.environment,
                base_url=self.base_url,
                allow_undeclared_host=self.allow_undeclared_host,
                step=index,
                steps=steps,
                access_token=token.token.reveal() if token else None,
                now=self._clock(),
                checked=unchanged,
            )
            unchanged = False
            if logger.isEnabledFor(logging.DEBUG):
                with _log_scrub.sending(built.scrubber):
                    logger.debug("%s %s request: %s", plan.id, flow, built.redacted())
            outcome = yield built
            if isinstance(outcome, Exception):
                failure = transport_failure(plan, flow, prepared, outcome, self.limits)
                if index < count - 1:  # an earlier step moves no money: the flow failed
                    failure = replace(failure, status=str(PaymentStatus.FAILED))
                settled = attempts.settle(
                    plan, flow, failure, key_sent=built.carries_key, reference=reference
                )
                return with_step_ids(plan, flow, settled, prepared, steps)
            if logger.isEnabledFor(logging.DEBUG):
                text = outcome.body.decode("utf-8", "replace")
                with _log_scrub.sending(built.scrubber):
                    logger.debug(
                        "%s %s response: HTTP %s %s",
                        plan.id,
                        flow,
                        outcome.status_code,
                        built.scrubber.text(text),
                    )
            if outcome.status_code == 401 and token is not None and not fresh:
                # A cached token the processor no longer accepts: a 401 means nothing was done,
                # so ask for a new token once and send the same request again.
                token, _ = yield TokenWanted(self._token_key(), rejected=token)
                fresh = True  # refreshed once; a second 401 is the processor's answer
                continue
            sent = built.carries_key
            if index < count - 1:
                answer = parse_step(
                    plan,
                    flow,
                    index,
                    prepared,
                    outcome,
                    steps=steps,
                    idempotency_key=key,
                    key_sent=sent,
                    scrubber=built.scrubber,
                )
                if isinstance(answer, Result):
                    failed = attempts.settle(plan, flow, answer, key_sent=sent, reference=reference)
                    if self.raw_response:
                        failed = replace(failed, raw=raw_response_of(outcome, built.scrubber))
                    return self._with_token(failed, token)
                steps[plan.flows[flow].steps[index].name] = answer
                index = attempts.done = index + 1
                continue
            result = self.connector.parse_response(
                flow,
                prepared,
                outcome,
                idempotency_key=key,
                steps=steps or None,
                key_sent=sent,
                scrubber=built.scrubber,
            )
            settled = attempts.settle(plan, flow, result, key_sent=sent, reference=reference)
            settled = with_step_ids(plan, flow, settled, prepared, steps)
            if self.raw_response:
                settled = replace(settled, raw=raw_response_of(outcome, built.scrubber))
            return self._with_token(settled, token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _parse_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None
    ) -> WebhookResult:
        return self.connector.parse_event(
            body, headers, secret, credentials=self._credentials, allow_unconfirmed=True
        )

    @staticmethod
    def _confirm_request(event: Event) -> dict[str, Any]:
        if not event.connector_transaction_id:
            raise WebhookError("unreadable_body", "the event names no payment to confirm")
        return {"connector_transaction_id": event.connector_transaction_id}

    @staticmethod
    def _confirmed(event: Event, result: Result) -> Event:
        """The event as the processor's own answer about the payment states it."""
        if result.status not in STATUS_EVENT:
            raise WebhookError(
                "unconfirmed",
                f"the payment's status could not be read ({result.status}); let the processor "
                "deliver the event again",
            )
        return replace(
            event,
            type=str(STATUS_EVENT[result.status]),
            status=result.status,
            verified=True,
            # Only the fetched resource speaks: the unsigned body's values are never kept.
            connector_transaction_id=result.connector_transaction_id
            or event.connector_transaction_id,
            connector_refund_id=result.connector_refund_id,
            amount=result.amount,
            currency=result.currency,
            reference=result.reference,
            occurred_at=None,  # the delivery's claim of time is as unsigned as the rest
            dispute=None,
        )


class Client(_Base, FlowMethods):
    """Sends a connector's flows over HTTP. Exceptions mean nothing was sent; any outcome after
    sending is a Result (possibly `unresolved`). A `base_url` (a local server, a proxy) must
    name a host the spec declares unless `allow_undeclared_host=True` (see engine._hosts)."""

    @public("Client", client_secrets)
    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        allow_undeclared_host: bool = False,
        limits: Limits | None = None,
        http_client: httpx.Client | None = None,
        access_token: AccessToken | None = None,
        token_cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        raw_response: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            connector,
            credentials,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
            limits=limits,
            access_token=access_token,
            token_cache=token_cache,
            clock=clock,
            raw_response=raw_response,
        )
        self._owns_http = http_client is None
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._http = http_client or _transport.new_client()
        _transport.install(self._http)

    @public("Client", client_secrets)
    def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        """Run `flow`, retrying only as `self.retry` allows (see RetryPolicy). Every attempt
        sends the same key and resumes after the steps that already succeeded."""
        prepared = self._keyed(flow, request)
        deadline = self.limits.deadline()
        attempts = Attempts()
        attempt = 0
        while True:
            attempt += 1
            try:
                result, last = self._once(flow, prepared, deadline, attempts)
            except NotSentError:
                wait = self._retry_wait(attempt, None, deadline)
                if wait is None:
                    if attempts.unknown is not None:  # an earlier attempt was sent
                        return attempts.unknown
                    raise
                self._sleep(wait)
                continue
            if not self._may_retry(result):
                return result
            wait = self._retry_wait(attempt, retry_after_seconds(last, self._clock()), deadline)
            if wait is None:
                return result
            self._sleep(wait)

    def _once(
        self, flow: str, request: Mapping[str, Any], deadline: float | None, attempts: Attempts
    ) -> tuple[Result, HttpResponse | None]:
        exchange = self._drive(flow, request, attempts)
        outgoing = next(exchange)
        last: HttpResponse | None = None
        while True:
            if isinstance(outgoing, TokenWanted):
                answer: Any = self._token(outgoing, deadline)
            else:
                answer = self._send(outgoing, deadline)
            if isinstance(answer, HttpResponse):
                last = answer
            try:
                outgoing = exchange.send(answer)
            except StopIteration as done:
                return done.value, last

    def _token(self, want: TokenWanted, deadline: float | None) -> tuple[AccessToken, bool]:
        return token_for(self, want, deadline, self._send)

    def _send(self, built: HttpRequest, deadline: float | None) -> HttpResponse | Exception:
        return send(self._http, built, self.limits, deadline)

    @public("Client", client_event_secrets)
    def handle_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None = None
    ) -> WebhookResult:
        """Verify and read a webhook delivery; where the spec says events are confirmed by a
        fetch (unsigned webhooks), run that flow for each event and report what it found."""
        result = self._parse_event(body, headers, secret)
        flow = self.connector.plan.webhooks.confirm_flow if self.connector.plan.webhooks else None
        if flow is None:
            return result
        confirmed = [
            self._confirmed(event, self.call(flow, self._confirm_request(event)))
            for event in result.events
        ]
        return replace(result, events=tuple(confirmed))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Base, AsyncFlowMethods):
    """The asyncio twin of Client."""

    @public("Client", client_secrets)
    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        allow_undeclared_host: bool = False,
        limits: Limits | None = None,
        http_client: httpx.AsyncClient | None = None,
        access_token: AccessToken | None = None,
        token_cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        raw_response: bool = False,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(
            connector,
            credentials,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
            limits=limits,
            access_token=access_token,
            token_cache=token_cache,
            clock=clock,
            raw_response=raw_response,
        )
        self._owns_http = http_client is None
        self.retry = retry or RetryPolicy()
        if sleep is None:  # imported here: a sync caller never needs asyncio
            import asyncio

            sleep = asyncio.sleep
        self._sleep = sleep
        self._http = http_client or _transport.new_async_client()
        _transport.install(self._http)

    @public("Client", client_secrets)
    async def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        """Run `flow`, retrying only as `self.retry` allows (see RetryPolicy). Every attempt
        sends the same key and resumes after the steps that already succeeded."""
        prepared = self._keyed(flow, request)
        deadline = self.limits.deadline()
        attempts = Attempts()
        attempt = 0
        while True:
            attempt += 1
            try:
                result, last = await self._once(flow, prepared, deadline, attempts)
            except NotSentError:
                wait = self._retry_wait(attempt, None, deadline)
                if wait is None:
                    if attempts.unknown is not None:  # an earlier attempt was sent
                        return attempts.unknown
                    raise
                await self._sleep(wait)
                continue
            if not self._may_retry(result):
                return result
            wait = self._retry_wait(attempt, retry_after_seconds(last, self._clock()), deadline)
            if wait is None:
                return result
            await self._sleep(wait)

    async def _once(
        self, flow: str, request: Mapping[str, Any], deadline: float | None, attempts: Attempts
    ) -> tuple[Result, HttpResponse | None]:
        exchange = self._drive(flow, request, attempts)
        outgoing = next(exchange)
        last: HttpResponse | None = None
        while True:
            if isinstance(outgoing, TokenWanted):
                answer: Any = await self._token(outgoing, deadline)
            else:
                answer = await self._send(outgoing, deadline)
            if isinstance(answer, HttpResponse):
                last = answer
            try:
                outgoing = exchange.send(answer)
            except StopIteration as done:
                return done.value, last

    async def _token(self, want: TokenWanted, deadline: float | None) -> tuple[AccessToken, bool]:
        return await token_for_async(self, want, deadline, self._send)

    async def _send(self, built: HttpRequest, deadline: float | None) -> HttpResponse | Exception:
        return await send_async(self._http, built, self.limits, deadline)

    @public("Client", client_event_secrets)
    async def handle_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None = None
    ) -> WebhookResult:
        """The asyncio twin of Client.handle_event."""
        result = self._parse_event(body, headers, secret)
        flow = self.connector.plan.webhooks.confirm_flow if self.connector.plan.webhooks else None
        if flow is None:
            return result
        confirmed = [
            self._confirmed(event, await self.call(flow, self._confirm_request(event)))
            for event in result.events
        ]
        return replace(result, events=tuple(confirmed))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
