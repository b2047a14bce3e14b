"""A connector id + credentials (or a profile) + the service's URL and API key → the embedded
Client's interface over HTTP: RemoteClient and AsyncRemoteClient. They only move bytes;
engine.remote._exchange builds each request and reads each answer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from .. import _log_scrub
from .._boundary import arg, public, request_secrets
from .._connector import Connector
from .._credentials import Secret, shape_problem
from .._errors import CredentialsError, NotSentError, UnsupportedError
from .._flow_methods import AsyncFlowMethods, FlowMethods
from .._scrub import Scrubber
from .._unified import Result
from .._webhooks import WebhookResult
from . import _exchange
from ._exchange import Call

__all__ = ["DEFAULT_TIMEOUT", "AsyncRemoteClient", "RemoteClient"]

#: Longer than the service's own call limit (Limits.total_timeout, 60 s by default) so that a
#: slow processor's answer arrives as the service's Result, not as an `unresolved` here.
DEFAULT_TIMEOUT = httpx.Timeout(75.0, connect=5.0, pool=5.0)

#: Idle connections are dropped before a server's keep-alive timeout (uvicorn's is 5 s): a
#: request written onto a connection the server is closing ends `unresolved`, never resent.
_POOL = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2.0)

#: Headers of a webhook delivery never forwarded: the HTTP exchange's own, and the service's.
_NOT_FORWARDED = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "authorization",
        "proxy-authorization",
        "x-request-id",
    }
)


def _init_secrets(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    """The constructor's: every credential value (which are secret is the spec's to say, so
    all are treated as secret) and the service API key."""
    credentials = arg(args, kwargs, 2, "credentials")
    found = [_revealed(v) for v in credentials.values()] if isinstance(credentials, Mapping) else []
    key = kwargs.get("api_key")
    return [v for v in (*found, _revealed(key)) if v]


def _call_secrets(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    """A call's: the client's secrets and the request's card data."""
    this = args[0]
    held = this._secrets() if isinstance(this, _Base) else []
    return held + request_secrets(arg(args, kwargs, 2, "request"))


def _revealed(value: object) -> str:
    if isinstance(value, Secret):
        return value.reveal()
    return value if isinstance(value, str) else ""


class _Base:
    """What both clients hold: where the service is, who calls it, for whom. Secret values
    (every credential, the API key) are held as Secret and revealed only into the headers of
    the request being sent."""

    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None,
        *,
        service_url: str,
        api_key: str,
        profile: str | None,
        environment: str,
        base_url: str | None,
        timeout: float | httpx.Timeout,
        raw_response: bool = False,
    ) -> None:
        self.connector_id = connector.id if isinstance(connector, Connector) else connector
        if not isinstance(self.connector_id, str) or not self.connector_id:
            raise UnsupportedError("the connector must be a bundled connector's id")
        wrong = shape_problem(credentials, self.connector_id)
        if wrong is not None:
            raise CredentialsError(wrong)
        if credentials is not None and profile is not None:
            raise CredentialsError(
                f"{self.connector_id}: give credentials or a profile of the service, not both"
            )
        if not isinstance(api_key, str | Secret) or not _revealed(api_key):
            raise CredentialsError("api_key (the connector service's bearer key) is required")
        self.service_url = _service_url(service_url)
        self.profile = profile
        self.environment = environment
        self.base_url = base_url
        if not isinstance(raw_response, bool):
            raise UnsupportedError("raw_response must be True or False")
        #: Whether each Result carries the processor's scrubbed answer (`Result.raw`): asked of
        #: the service per call (X-Connector-Raw-Response), as the embedded Client's option.
        self.raw_response = raw_response
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._api_key = Secret(api_key)
        self._credentials = {
            name: Secret(_revealed(value))
            for name, value in (credentials or {}).items()
            if value is not None
        }

    def __repr__(self) -> str:
        where = self.service_url.copy_with(username=None, password=None, query=None)
        tenant = (
            f"profile={self.profile!r}" if self.profile else f"environment={self.environment!r}"
        )
        return f"{type(self).__name__}({self.connector_id!r}, service_url={str(where)!r}, {tenant})"

    def _secrets(self) -> list[str]:
        return [self._api_key.reveal(), *(v.reveal() for v in self._credentials.values())]

    def _scrubber(self, request: Any = None) -> Scrubber:
        return Scrubber([*self._secrets(), *request_secrets(request)])

    def _headers(self, call: Call) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key.reveal()}",
            "X-Request-Id": call.request_id,
            "Accept": f"application/json, {_exchange.PROBLEM_JSON}",
        }
        if self.profile is not None:
            headers["X-Connector-Profile"] = self.profile
        else:
            revealed = {name: value.reveal() for name, value in self._credentials.items()}
            headers["X-Connector-Credentials"] = json.dumps(revealed, separators=(",", ":"))
            headers["X-Connector-Environment"] = self.environment
        if self.base_url is not None:
            headers["X-Connector-Base-Url"] = self.base_url
        if self.raw_response:
            headers["X-Connector-Raw-Response"] = "true"
        return headers

    def _url(self, flow: str) -> str:
        path = f"/v1/{quote(self.connector_id, safe='')}/{quote(flow, safe='')}"
        return str(self.service_url.join(self.service_url.path.rstrip("/") + path))

    def _flow_request(
        self, http: httpx.Client | httpx.AsyncClient, flow: str, request: Mapping[str, Any]
    ) -> tuple[Call, httpx.Request]:
        if not isinstance(flow, str) or not flow:
            raise UnsupportedError("the flow must be a flow's name")
        prepared = _exchange.keyed(flow, request)
        body = _exchange.body_of(prepared)
        call = Call(self.connector_id, flow, prepared, _exchange.new_request_id())
        headers = {**self._headers(call), "Content-Type": "application/json"}
        return call, self._built(http, call, "POST", self._url(flow), headers, body)

    def _event_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        body: bytes,
        headers: Mapping[str, str],
        secret: str | None,
    ) -> tuple[Call, httpx.Request]:
        if secret is not None:
            raise UnsupportedError(
                "the connector service verifies webhooks with its profile's webhook secret: "
                "call handle_event without a secret"
            )
        if self.profile is None:
            raise CredentialsError(
                f"{self.connector_id}: the connector service verifies webhooks with a "
                "profile's webhook secret: create the client with profile=..."
            )
        if not isinstance(body, bytes | bytearray):
            raise UnsupportedError("the webhook body must be the delivery's raw bytes")
        call = Call(self.connector_id, "events", {}, _exchange.new_request_id())
        sent = httpx.Headers(
            {
                name: value
                for name, value in headers.items()
                if name.lower() not in _NOT_FORWARDED
                and not name.lower().startswith("x-connector-")
            }
        )
        sent.update(self._headers(call))  # by name, whatever the delivery's letter case
        return call, self._built(http, call, "POST", self._url("events"), sent, bytes(body))

    def _built(
        self,
        http: httpx.Client | httpx.AsyncClient,
        call: Call,
        method: str,
        url: str,
        headers: Mapping[str, str] | httpx.Headers,
        body: bytes,
    ) -> httpx.Request:
        try:
            return http.build_request(
                method, url, headers=headers, content=body, timeout=self.timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, TypeError) as exc:
            raise NotSentError(
                f"{call.connector} {call.flow}: the request to the connector service could not "
                f"be built ({type(exc).__name__}); nothing was sent"
            ) from None


def _service_url(value: str) -> httpx.URL:
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise CredentialsError("service_url must be an http:// or https:// URL")
    return url


def _own_client(timeout: httpx.Timeout) -> httpx.Client:
    return httpx.Client(timeout=timeout, limits=_POOL, follow_redirects=False, trust_env=False)


def _own_async_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout, limits=_POOL, follow_redirects=False, trust_env=False)


class RemoteClient(_Base, FlowMethods):
    """The embedded Client's interface, served by a connector service over HTTP:
    `Client("acme", creds)` → `RemoteClient("acme", creds, service_url=..., api_key=...)`.

    Credentials travel per call in `X-Connector-Credentials` (or name a `profile` the service
    holds); `environment` and `base_url` are the service's to honour (`base_url` in its test
    mode only). An exception means nothing was sent to the processor; any outcome the client
    cannot know — no answer in time after sending, a broken connection, an answer that is not
    the service's — is an `unresolved` Result with the idempotency key generated here. The
    client never sends a request twice by itself. A call abandoned midway (a thread killed, an
    asyncio task cancelled) ends without a Result: a caller who may abandon calls passes its
    own `idempotency_key`, so it knows the key to look up or resend with. Webhooks are
    verified by the service with a profile's secret. `http_client` (an httpx.Client) is used
    as given and not closed. `raw_response=True` asks the service for the processor's own
    answer in each Result's `raw` (scrubbed and bounded by the service as the embedded
    Client does); without it a Result never carries one."""

    @public("RemoteClient", _init_secrets)
    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        service_url: str,
        api_key: str,
        profile: str | None = None,
        environment: str = "sandbox",
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        raw_response: bool = False,
    ) -> None:
        super().__init__(
            connector,
            credentials,
            service_url=service_url,
            api_key=api_key,
            profile=profile,
            environment=environment,
            base_url=base_url,
            timeout=timeout,
            raw_response=raw_response,
        )
        self._owns_http = http_client is None
        self._http = http_client or _own_client(self.timeout)

    @public("RemoteClient", _call_secrets)
    def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        """Run `flow` on the service: its Result, an exception (nothing was sent), or
        `unresolved` when the outcome cannot be known here."""
        call, outgoing = self._flow_request(self._http, flow, request)
        answer = self._send(call, outgoing, self._scrubber(request))
        if isinstance(answer, Exception):
            return _exchange.failed_transport(call, answer)
        return _exchange.read_result(call, answer, raw_response=self.raw_response)

    def _send(
        self, call: Call, outgoing: httpx.Request, scrubber: Scrubber
    ) -> httpx.Response | Exception:
        if self._http.is_closed:
            raise NotSentError(f"{call.connector} {call.flow}: the client is closed")
        with _log_scrub.sending(scrubber):
            try:
                return self._http.send(outgoing, auth=None, follow_redirects=False)
            except Exception as exc:  # anything once sending began: the outcome is unknown
                return exc

    @public("RemoteClient", _call_secrets)
    def handle_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None = None
    ) -> WebhookResult:
        """Forward a webhook delivery (raw body, the processor's headers) to the service,
        which verifies it with the profile's webhook secret (so `secret` must be None) and
        confirms it where the spec says so."""
        call, outgoing = self._event_request(self._http, body, headers, secret)
        answer = self._send(call, outgoing, self._scrubber())
        if isinstance(answer, Exception):
            return _exchange.failed_events(call, answer)
        return _exchange.read_events(call, answer)

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


class AsyncRemoteClient(_Base, AsyncFlowMethods):
    """The asyncio twin of RemoteClient (`http_client`: an httpx.AsyncClient)."""

    @public("RemoteClient", _init_secrets)
    def __init__(
        self,
        connector: Connector | str,
        credentials: Mapping[str, object] | None = None,
        *,
        service_url: str,
        api_key: str,
        profile: str | None = None,
        environment: str = "sandbox",
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
        raw_response: bool = False,
    ) -> None:
        super().__init__(
            connector,
            credentials,
            service_url=service_url,
            api_key=api_key,
            profile=profile,
            environment=environment,
            base_url=base_url,
            timeout=timeout,
            raw_response=raw_response,
        )
        self._owns_http = http_client is None
        self._http = http_client or _own_async_client(self.timeout)

    @public("RemoteClient", _call_secrets)
    async def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        """The asyncio twin of RemoteClient.call."""
        call, outgoing = self._flow_request(self._http, flow, request)
        answer = await self._send(call, outgoing, self._scrubber(request))
        if isinstance(answer, Exception):
            return _exchange.failed_transport(call, answer)
        return _exchange.read_result(call, answer, raw_response=self.raw_response)

    async def _send(
        self, call: Call, outgoing: httpx.Request, scrubber: Scrubber
    ) -> httpx.Response | Exception:
        if self._http.is_closed:
            raise NotSentError(f"{call.connector} {call.flow}: the client is closed")
        with _log_scrub.sending(scrubber):
            try:
                return await self._http.send(outgoing, auth=None, follow_redirects=False)
            except Exception as exc:  # anything once sending began: the outcome is unknown
                return exc

    @public("RemoteClient", _call_secrets)
    async def handle_event(
        self, body: bytes, headers: Mapping[str, str], secret: str | None = None
    ) -> WebhookResult:
        """The asyncio twin of RemoteClient.handle_event."""
        call, outgoing = self._event_request(self._http, body, headers, secret)
        answer = await self._send(call, outgoing, self._scrubber())
        if isinstance(answer, Exception):
            return _exchange.failed_events(call, answer)
        return _exchange.read_events(call, answer)

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
