"""A client's OAuth2 access token: reused (its own, one a concurrent call just fetched, the
cache's) or fetched once per key however many threads or tasks want it, sync and async — and,
with a SharedTokenCache, however many processes share the cache."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from functools import partial

from ._connector import Connector
from ._credentials import Credentials, ResolvedCredentials, Secret, resolve_credentials
from ._errors import NotSentError
from ._http import HttpRequest, HttpResponse
from ._plan import ConnectorPlan
from ._sending import remaining
from ._tokens import (
    AccessToken,
    Flight,
    SharedTokenCache,
    TokenCache,
    TokenWaitExpired,
    TokenWanted,
    build_token_request,
    flight,
    hide_body,
    parse_token_answer,
    token_cache_key,
    token_cache_seal,
    token_url,
)
from ._unified import Result

#: Sends one request before the call's deadline: the client's `_send`.
Send = Callable[[HttpRequest, float | None], HttpResponse | Exception]
AsyncSend = Callable[[HttpRequest, float | None], Awaitable[HttpResponse | Exception]]


class TokenHolder:
    """What a client knows about tokens: the token it holds, the shared cache, and how to ask
    the token endpoint. Client and AsyncClient set these attributes."""

    connector: Connector
    _credentials: Credentials
    environment: str
    base_url: str | None
    allow_undeclared_host: bool
    _access_token: AccessToken | None
    token_cache: TokenCache

    def _token_key(self) -> str:
        """The token cache key for this Client's credentials, environment and host."""
        plan, resolved, url = self._token_where()
        return token_cache_key(plan, resolved, environment=self.environment, url=url)

    def _token_seal(self) -> Secret:
        """The key a shared cache encrypts this Client's token with (see token_cache_seal)."""
        plan, resolved, url = self._token_where()
        return token_cache_seal(plan, resolved, environment=self.environment, url=url)

    def _token_where(self) -> tuple[ConnectorPlan, ResolvedCredentials, str]:
        plan = self.connector.plan
        resolved = resolve_credentials(plan, self._credentials)
        url = token_url(
            plan,
            resolved,
            environment=self.environment,
            base_url=self.base_url,
            allow_undeclared_host=self.allow_undeclared_host,
        )
        return plan, resolved, url

    @staticmethod
    def _acceptable(want: TokenWanted, candidate: AccessToken) -> bool:
        """Whether `candidate` may be sent for `want`: it fits the key, is usable, and is not
        the one the processor just refused."""
        return (
            candidate.fits(want.key)
            and candidate.usable()
            and (want.rejected is None or candidate.token != want.rejected.token)
        )

    def _reusable_token(
        self, want: TokenWanted, flight: Flight | None = None
    ) -> AccessToken | None:
        """A token this Client may send without fetching: its own (the caller's or the last
        one), the one a concurrent call just fetched, or the cache's — each only when it fits
        the key, is usable, and is not the one the processor just refused."""
        for candidate in self._token_candidates(want.key, flight):
            if candidate is not None and self._acceptable(want, candidate):
                self._access_token = candidate
                return candidate
        return None

    def _token_candidates(self, key: str, flight: Flight | None) -> Iterator[AccessToken | None]:
        yield self._access_token
        yield flight.token if flight is not None else None
        yield self.token_cache.get(key)  # last: a shared cache may be a network round trip

    def _token_request(self) -> HttpRequest:
        return build_token_request(
            self.connector.plan,
            self._credentials,
            environment=self.environment,
            base_url=self.base_url,
            allow_undeclared_host=self.allow_undeclared_host,
        )

    def _took_token(
        self, want: TokenWanted, flight: Flight, outcome: HttpResponse | Exception
    ) -> AccessToken:
        """The token endpoint's answer → a token bound to `want.key`, cached and shared with the
        calls waiting on `flight`; or NotSentError/CredentialsError (nothing else was sent)."""
        plan = self.connector.plan
        if isinstance(outcome, Exception):
            raise NotSentError(
                f"{plan.id}: no access token ({type(outcome).__name__}); the payment request "
                "was not sent"
            ) from None
        status, body = outcome.status_code, hide_body(outcome)
        del outcome  # the answer holds the token: not left in a traceback's frame locals
        token = replace(parse_token_answer(plan, status, body), bound_to=want.key)
        self.token_cache.set(want.key, token)
        flight.token = self._access_token = token
        return token

    @staticmethod
    def _no_time_for_token(plan_id: str) -> NotSentError:
        return NotSentError(
            f"{plan_id}: the call's total time limit ran out waiting for an access token; "
            "nothing was sent"
        )

    @staticmethod
    def _with_token(result: Result, token: AccessToken | None) -> Result:
        return replace(result, access_token=token) if token is not None else result


def token_for(
    holder: TokenHolder, want: TokenWanted, deadline: float | None, send: Send
) -> tuple[AccessToken, bool]:
    """A token for `want.key` (and whether it was fetched now): one token request per key,
    however many threads wait."""
    reusable = holder._reusable_token(want)
    if reusable is not None:
        return reusable, False
    shared = flight(want.key)
    left = remaining(deadline)
    if not shared.lock.acquire(timeout=-1 if left is None else max(left, 0.0)):
        raise holder._no_time_for_token(holder.connector.id)
    try:
        reusable = holder._reusable_token(want, shared)
        if reusable is not None:
            return reusable, False
        cache = holder.token_cache
        if isinstance(cache, SharedTokenCache):

            def fetch() -> AccessToken:
                return holder._took_token(want, shared, send(holder._token_request(), deadline))

            try:
                answer = cache.get_or_fetch(
                    want.key,
                    holder._token_seal(),
                    partial(holder._acceptable, want),
                    fetch,
                    deadline,
                )
            except TokenWaitExpired:
                raise holder._no_time_for_token(holder.connector.id) from None
            shared.token = holder._access_token = answer[0]
            return answer
        # Passed on, never a local: the answer holds the token.
        return holder._took_token(want, shared, send(holder._token_request(), deadline)), True
    finally:
        shared.lock.release()


async def token_for_async(
    holder: TokenHolder, want: TokenWanted, deadline: float | None, send: AsyncSend
) -> tuple[AccessToken, bool]:
    """The asyncio twin of token_for: one token request per key, however many tasks wait."""
    reusable = holder._reusable_token(want)
    if reusable is not None:
        return reusable, False
    import asyncio

    shared = flight(want.key)
    lock = shared.task_lock()
    try:
        async with asyncio.timeout(remaining(deadline)):
            await lock.acquire()
    except TimeoutError:
        raise holder._no_time_for_token(holder.connector.id) from None
    try:
        reusable = holder._reusable_token(want, shared)
        if reusable is not None:
            return reusable, False
        cache = holder.token_cache
        if isinstance(cache, SharedTokenCache):

            async def fetch() -> AccessToken:
                return holder._took_token(
                    want, shared, await send(holder._token_request(), deadline)
                )

            try:
                shared_answer = await cache.get_or_fetch_async(
                    want.key,
                    holder._token_seal(),
                    partial(holder._acceptable, want),
                    fetch,
                    deadline,
                )
            except TokenWaitExpired:
                raise holder._no_time_for_token(holder.connector.id) from None
            shared.token = holder._access_token = shared_answer[0]
            return shared_answer
        answer = holder._took_token(want, shared, await send(holder._token_request(), deadline))
        return answer, True
    finally:
        lock.release()
