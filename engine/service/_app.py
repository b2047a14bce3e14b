"""The ASGI app: `POST /v1/{connector}/{flow}` and the rest of the service's routes.

Each call runs on a fresh AsyncClient built for that request's tenant (its profile or its own
credentials) over one shared connection pool and one shared token cache, whose keys hash the
tenant's credentials: two tenants never share a client, a token or a secret. A Result is HTTP
200 whatever its status; an engine exception (nothing was sent) is a problem document. A caller
who sends `X-Connector-Raw-Response: true` gets the processor's own answer in the Result's `raw`
(scrubbed and bounded as the embedded Client's raw_response=True has it); never otherwise."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter as Tally
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import _transport
from .._client import AsyncClient
from .._connector import Connector, bundled_connectors
from .._credentials import Secret
from .._docs import feature_matrix
from .._errors import ConnectorServiceError
from .._tokens import DEFAULT_TOKEN_CACHE, TokenCache
from .._unified import FLOWS, READ_FLOWS, ErrorInfo, Result
from ..routing import AsyncRouter, RedisHealth, load_rules
from . import _problems
from ._config import ApiKey, ServiceConfig
from ._docs_page import INIT_SCRIPT, STATIC_ROUTE, docs_page, static_dir
from ._logs import logger
from ._metrics import CountingTokenCache, Metrics
from ._openapi import openapi_document

PROBLEM_JSON = "application/problem+json"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

#: Whether the routed call being run asked for the processor's raw answer: the router's
#: clients are made per call (_ProfileClients), inside the call's task, which copies it.
_ROUTED_RAW: ContextVar[bool] = ContextVar("routed_raw_response", default=False)


class Refusal(Exception):
    """A refusal by the service itself, before anything was sent: a problem document."""

    def __init__(
        self, slug: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.slug, self.detail, self.headers, self.extra = slug, detail, dict(headers or {}), extra


@dataclass(frozen=True, slots=True)
class Tenant:
    """Whose call this is: a profile's account, or the caller's own credentials."""

    credentials: Mapping[str, Secret | str]
    environment: str
    profile: str | None
    base_url: str | None = None
    webhook_secret: Secret | None = None


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status, headers=dict(headers or {}), media_type="application/json")


class Service:
    """What the routes share: the config, the loaded connectors, the connection pool, the token
    cache, the metrics, and the calls in flight (for limits and graceful shutdown)."""

    def __init__(self, config: ServiceConfig, token_cache: TokenCache | None = None) -> None:
        self.config = config
        self.metrics = Metrics()
        self.connectors: dict[str, Connector] = {c.id: c for c in bundled_connectors()}
        self._cache = token_cache or _token_cache(config)
        self.tokens: TokenCache = CountingTokenCache(self._cache, self.metrics)
        self.http: httpx.AsyncClient | None = None
        self.in_flight: Tally[str] = Tally()
        self.calls: set[asyncio.Task[Result]] = set()
        self.draining = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self._grace_over: asyncio.Event | None = None
        self._drain_task: asyncio.Task[None] | None = None
        self.router: AsyncRouter | None = None
        if config.routing is not None:
            rules = load_rules(config.routing)
            health = (  # replicas sharing a Redis share their circuits too
                RedisHealth(config.redis_url, rules.health)
                if config.cache_backend == "redis" and config.redis_url
                else None
            )
            self.router = AsyncRouter(rules, _ProfileClients(self), health=health)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.http = _transport.new_async_client(
            limits=httpx.Limits(
                max_connections=self.config.max_connections,
                max_keepalive_connections=self.config.max_connections,
            )
        )
        self._grace_over = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        await (self._drain_task or self.drain())
        if self.http is not None:
            await self.http.aclose()
        aclose = getattr(self._cache, "aclose", None)
        if aclose is not None:  # a shared cache's connections, closed on this event loop
            await aclose()
            self._cache.close()  # type: ignore[attr-defined]

    def start_drain(self) -> None:
        """Begin draining now, on the event loop (the signal handler's way in)."""
        if self._drain_task is None:
            self._drain_task = asyncio.ensure_future(self.drain())

    def begin_drain(self) -> None:
        """Take no new calls (503 shutting-down); readiness fails so a balancer moves away."""
        self.draining = True

    async def drain(self) -> None:
        """Let the calls in flight finish within `shutdown_grace`; answer those still running
        then as `unresolved` (the processor may have acted: never a lost or a failed call)."""
        self.begin_drain()
        if self.calls:
            await asyncio.wait(set(self.calls), timeout=self.config.shutdown_grace)
        if self._grace_over is not None:
            self._grace_over.set()
        if self.calls:  # the handlers answer unresolved; give them a moment to write it
            await asyncio.wait(set(self.calls), timeout=1.0)

    # --- a call ----------------------------------------------------------------------------

    def client(
        self, connector: Connector, tenant: Tenant, *, raw_response: bool = False
    ) -> AsyncClient:
        """A fresh engine client for this tenant, over the shared pool and token cache
        (`raw_response`: its Results carry the processor's scrubbed answer, when asked)."""
        return AsyncClient(
            connector,
            tenant.credentials,
            environment=tenant.environment,
            base_url=tenant.base_url,
            allow_undeclared_host=tenant.base_url is not None,
            limits=self.config.limits,
            http_client=self.http,
            token_cache=self.tokens,
            raw_response=raw_response,
        )

    async def run(
        self,
        connector: Connector,
        flow: str,
        body: dict[str, Any],
        tenant: Tenant,
        *,
        raw_response: bool = False,
    ) -> Result:
        client = self.client(connector, tenant, raw_response=raw_response)
        return await self.guarded(connector.id, flow, body, lambda: client.call(flow, body))

    async def guarded(
        self,
        slot: str,
        flow: str,
        body: dict[str, Any],
        call: Callable[[], Coroutine[Any, Any, Result]],
    ) -> Result:
        """Run an engine call within the limits: refused (nothing sent) while draining or past
        the slot's concurrency limit; answered `unresolved` if the replica stops before it
        ends."""
        if self.draining:
            raise Refusal("shutting-down", "this replica is shutting down; nothing was sent")
        if self.in_flight[slot] >= self.config.concurrency_per_connector:
            raise Refusal(
                "overloaded",
                f"{self.config.concurrency_per_connector} calls to {slot} are in flight; "
                "nothing was sent",
                headers={"Retry-After": "1"},
            )
        self.in_flight[slot] += 1
        gauge = self.metrics.in_flight.labels(slot)
        gauge.inc()
        started = time.perf_counter()
        task = asyncio.ensure_future(call())
        self.calls.add(task)
        try:
            return await self._outcome(task, slot, flow, body)
        finally:
            self.calls.discard(task)
            self.in_flight[slot] -= 1
            gauge.dec()
            self.metrics.call_latency.labels(slot, flow).observe(time.perf_counter() - started)

    async def _outcome(
        self, task: asyncio.Task[Result], connector: str, flow: str, body: dict[str, Any]
    ) -> Result:
        assert self._grace_over is not None
        grace = asyncio.ensure_future(self._grace_over.wait())
        try:
            await asyncio.wait({task, grace}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            grace.cancel()
        if task.done():
            return task.result()  # an engine exception propagates: nothing was sent
        task.cancel()  # the replica is stopping and the processor has not answered
        return Result(
            flow=flow,
            connector=connector,
            status="unresolved",
            idempotency_key=body.get("idempotency_key"),
            error=ErrorInfo(
                code="timeout",
                message="the service stopped before the processor answered; the processor may "
                "have acted: look the payment up (get, find) or resend with the same key where "
                "the processor honours it",
                retryable=False,
            ),
        )

    # --- who is calling, for whom ----------------------------------------------------------

    def authenticate(self, request: Request) -> ApiKey:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        key = self.config.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise Refusal(
                "unauthenticated",
                "a valid service API key is required (Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": 'Bearer realm="connector-service"'},
            )
        return key

    def connector(self, connector_id: str) -> Connector:
        found = self.connectors.get(connector_id)
        if found is None:
            raise Refusal(
                "unknown-connector",
                f"no bundled connector {connector_id[:64]!r}",
                allowed=sorted(self.connectors),
            )
        return found

    def tenant(self, request: Request, key: ApiKey, connector: Connector) -> Tenant:
        headers = request.headers
        base_url = headers.get("x-connector-base-url")
        if base_url is not None and not self.config.allow_base_url:
            raise Refusal(
                "bad-request",
                "X-Connector-Base-Url is honoured only in test mode (serve --allow-base-url)",
            )
        profile_name = headers.get("x-connector-profile")
        raw = headers.get("x-connector-credentials")
        if (profile_name is None) == (raw is None):
            raise Refusal(
                "bad-request",
                "give exactly one of X-Connector-Profile and X-Connector-Credentials",
            )
        if profile_name is not None:
            profile = self.config.profiles.get(profile_name)
            if (
                profile is None
                or not key.may_use(profile_name)
                or profile.connector != connector.id
            ):
                raise Refusal(
                    "profile-not-allowed",
                    f"this API key may not use a profile {profile_name[:64]!r} for {connector.id}",
                )
            return Tenant(
                profile.credentials,
                profile.environment,
                profile_name,
                base_url,
                profile.webhook_secret,
            )
        if not key.credentials:
            raise Refusal(
                "profile-not-allowed", "this API key may only use its profiles, not credentials"
            )
        assert raw is not None
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise Refusal("bad-request", "X-Connector-Credentials must be a JSON object")
        if not all(isinstance(v, str) for v in parsed.values()):
            raise Refusal("bad-request", "X-Connector-Credentials must map names to strings")
        environment = headers.get("x-connector-environment", "sandbox")
        credentials = {name: Secret(value) for name, value in parsed.items()}
        del parsed, raw
        return Tenant(credentials, environment, None, base_url)


class _ProfileClients(Mapping[str, AsyncClient]):
    """The router's clients: a fresh engine client per call, for each config profile."""

    def __init__(self, service: Service) -> None:
        self._service = service

    def __getitem__(self, name: str) -> AsyncClient:
        profile = self._service.config.profiles[name]
        connector = self._service.connector(profile.connector)
        tenant = Tenant(profile.credentials, profile.environment, name)
        return self._service.client(connector, tenant, raw_response=_ROUTED_RAW.get())

    def __iter__(self) -> Iterator[str]:
        return iter(self._service.config.profiles)

    def __len__(self) -> int:
        return len(self._service.config.profiles)


def _token_cache(config: ServiceConfig) -> TokenCache:
    if config.cache_backend == "redis" and config.redis_url:
        from .._redis_tokens import RedisTokenCache  # type: ignore[import-untyped,unused-ignore]

        cache: TokenCache = RedisTokenCache(config.redis_url)
        return cache
    return DEFAULT_TOKEN_CACHE


# --- request reading ---------------------------------------------------------------------------


def request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal("payload-too-large", f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal("payload-too-large", f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def wants_raw(request: Request) -> bool:
    """X-Connector-Raw-Response: `true` asks for the processor's raw answer in the Result, `false`
    (or no header) does not; any other value is refused (nothing sent), never guessed."""
    value = request.headers.get("x-connector-raw-response")
    if value is None or value.strip().lower() == "false":
        return False
    if value.strip().lower() == "true":
        return True
    raise Refusal("bad-request", "X-Connector-Raw-Response must be true or false")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise Refusal("bad-request", f"the body is not JSON{where}") from None


def keyed(flow: str, body: Any, header: str | None) -> dict[str, Any]:
    """The request with its idempotency key: the body's, the header's (they must agree), or a
    new one for a flow that changes money; the Result and the response header carry it."""
    if not isinstance(body, dict):
        raise Refusal("bad-request", "the body must be a JSON object")
    if flow in READ_FLOWS:
        return dict(body)
    if header is not None:
        if not _IDEMPOTENCY_KEY.fullmatch(header):
            raise Refusal(
                "bad-request", "Idempotency-Key must be 1 to 255 visible ASCII characters"
            )
        given = body.get("idempotency_key")
        if given is not None and given != header:
            raise Refusal(
                "bad-request",
                "Idempotency-Key and the body's idempotency_key differ",
                pointer="/idempotency_key",
            )
        body = {**body, "idempotency_key": header}
    if body.get("idempotency_key") is None:
        body = {**body, "idempotency_key": uuid.uuid4().hex}
    return dict(body)


# --- responses -------------------------------------------------------------------------------


def problem_response(
    document: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, document["status"], headers=dict(headers or {}), media_type=PROBLEM_JSON)


def refusal_response(refusal: Refusal, rid: str) -> Response:
    document = _problems.document(refusal.slug, refusal.detail, request_id=rid, **refusal.extra)
    return problem_response(document, {**refusal.headers, "X-Request-Id": rid})


def _result_response(result: Result) -> Response:
    """A Result as HTTP 200. The request was sent: should the Result not serialise (a bug),
    the answer is still a Result — `unresolved` with the call's key — never a problem
    document, which would say that nothing was sent."""
    headers = {"Idempotency-Key": result.idempotency_key} if result.idempotency_key else {}
    try:
        return _json(result.to_dict(), headers=headers)
    except Exception as exc:  # a bug after sending: the outcome is not known to the caller
        logger.error("a result did not serialise: %s", type(exc).__name__)
        fallback = {
            "flow": result.flow,
            "connector": result.connector,
            "status": "unresolved",
            "idempotency_key": result.idempotency_key,
            "error": {
                "code": "invalid_response",
                "message": "the service could not write the processor's outcome: look the "
                "payment up (get, find) before sending again",
                "retryable": False,
            },
        }
        return _json(fallback, headers=headers)


# --- routes ------------------------------------------------------------------------------------


def _refused(
    request: Request,
    rid: str,
    route: str,
    started: float,
    fields: dict[str, Any],
    exc: Refusal | ConnectorServiceError,
) -> Response:
    """The problem document of a refusal (the service's or the engine's: nothing was sent),
    counted by connector and type, and logged."""
    if isinstance(exc, Refusal):
        slug, response = exc.slug, refusal_response(exc, rid)
    else:
        document = _problems.exception_document(exc, rid)
        slug, response = (
            document["type"].removeprefix(_problems.TYPE_BASE),
            problem_response(document),
        )
    _service(request).metrics.problems.labels(fields.get("connector", ""), slug).inc()
    return _done(request, rid, route, response, started, problem=slug, **fields)


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _done(
    request: Request, rid: str, route: str, response: Response, started: float, **fields: Any
) -> Response:
    service = _service(request)
    elapsed = time.perf_counter() - started
    service.metrics.requests.labels(route, request.method, str(response.status_code)).inc()
    service.metrics.latency.labels(route).observe(elapsed)
    response.headers["X-Request-Id"] = rid
    logger.info(
        "%s %s %d",
        request.method,
        route,
        response.status_code,
        extra={
            "request_id": rid,
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 3),
            **fields,
        },
    )
    return response


async def call_flow(request: Request) -> Response:
    started = time.perf_counter()
    rid = request_id(request)
    service = _service(request)
    connector_id = request.path_params["connector"]
    flow = request.path_params["flow"]
    route = "/v1/{connector}/{flow}"
    fields: dict[str, Any] = {}
    try:
        key = service.authenticate(request)
        fields["api_key"] = key.id
        connector = service.connector(connector_id)
        fields["connector"] = connector.id
        if flow not in connector.flows:
            raise Refusal(
                "unknown-flow",
                f"{connector.id} declares no flow {flow[:64]!r}",
                allowed=list(connector.flows),
            )
        fields["flow"] = flow
        tenant = service.tenant(request, key, connector)
        fields["profile"] = tenant.profile
        raw_response = wants_raw(request)
        body = keyed(
            flow,
            parse_json(await read_body(request, service.config.max_body_bytes)),
            request.headers.get("idempotency-key"),
        )
        result = await service.run(connector, flow, body, tenant, raw_response=raw_response)
    except (Refusal, ConnectorServiceError) as exc:
        return _refused(request, rid, route, started, fields, exc)
    service.metrics.outcomes.labels(connector.id, flow, result.status).inc()
    return _done(
        request, rid, route, _result_response(result), started, outcome=result.status, **fields
    )


async def route_flow(request: Request) -> Response:
    """POST /v1/route/{flow}: the config's routing rules choose the profile (follow-ups:
    X-Connector-Profile names the profile that holds the payment, from routing.profile)."""
    started = time.perf_counter()
    rid = request_id(request)
    service = _service(request)
    flow = request.path_params["flow"]
    route = "/v1/route/{flow}"
    fields: dict[str, Any] = {"connector": "route", "flow": flow}
    try:
        key = service.authenticate(request)
        fields["api_key"] = key.id
        router = service.router
        if router is None:
            raise Refusal("unknown-flow", "this service has no routing rules", allowed=[])
        if flow not in FLOWS:
            raise Refusal("unknown-flow", f"no flow {flow[:64]!r}", allowed=list(FLOWS))
        if key.profiles is not None and not set(router.rules.profiles) <= key.profiles:
            raise Refusal("profile-not-allowed", "this API key may not use every routed profile")
        holder = request.headers.get("x-connector-profile")
        if holder is not None and holder not in router.rules.profiles:
            raise Refusal("profile-not-allowed", f"no routed profile {holder[:64]!r}")
        fields["profile"] = holder
        raw_response = wants_raw(request)
        body = keyed(
            flow,
            parse_json(await read_body(request, service.config.max_body_bytes)),
            request.headers.get("idempotency-key"),
        )
        asked = _ROUTED_RAW.set(raw_response)  # the call's task copies it (contextvars)
        try:
            result = await service.guarded(
                "route", flow, body, lambda: router.call(flow, body, profile=holder)
            )
        finally:
            _ROUTED_RAW.reset(asked)
    except (Refusal, ConnectorServiceError) as exc:
        return _refused(request, rid, route, started, fields, exc)
    service.metrics.outcomes.labels(result.connector, flow, result.status).inc()
    fields["profile"] = result.routing.profile if result.routing is not None else holder
    return _done(
        request, rid, route, _result_response(result), started, outcome=result.status, **fields
    )


#: Headers that are the service's, not the processor's: never passed on as the delivery's.
_OWN_HEADERS = frozenset(
    {"authorization", "x-connector-profile", "x-connector-credentials", "x-request-id", "host"}
)


async def handle_event(request: Request) -> Response:
    started = time.perf_counter()
    rid = request_id(request)
    service = _service(request)
    route = "/v1/{connector}/events"
    fields: dict[str, Any] = {"flow": "events"}
    try:
        key = service.authenticate(request)
        fields["api_key"] = key.id
        connector = service.connector(request.path_params["connector"])
        fields["connector"] = connector.id
        if not connector.has_webhooks:
            raise Refusal("unknown-flow", f"{connector.id} declares no webhooks", allowed=[])
        if request.headers.get("x-connector-profile") is None:
            raise Refusal("bad-request", "X-Connector-Profile is required: its webhook secret")
        tenant = service.tenant(request, key, connector)
        fields["profile"] = tenant.profile
        body = await read_body(request, service.config.max_body_bytes)
        headers = {k: v for k, v in request.headers.items() if k not in _OWN_HEADERS}
        secret = tenant.webhook_secret.reveal() if tenant.webhook_secret is not None else None
        async with service.client(connector, tenant) as client:
            found = await client.handle_event(body, headers, secret)
        del secret
    except (Refusal, ConnectorServiceError) as exc:
        return _refused(request, rid, route, started, fields, exc)
    return _done(request, rid, route, _json(found.to_dict()), started, **fields)


async def list_connectors(request: Request) -> Response:
    started, rid = time.perf_counter(), request_id(request)
    try:
        _service(request).authenticate(request)
    except Refusal as refusal:
        return _done(request, rid, "/v1/connectors", refusal_response(refusal, rid), started)
    rows = request.app.state.matrix
    return _done(request, rid, "/v1/connectors", _json(rows), started)


async def openapi(request: Request) -> Response:
    return _json(request.app.state.openapi)


#: /docs loads nothing from elsewhere (Swagger UI's inline styles need 'unsafe-inline').
_DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)


async def docs(request: Request) -> Response:
    return HTMLResponse(docs_page(), headers={"Content-Security-Policy": _DOCS_POLICY})


async def docs_script(request: Request) -> Response:
    return Response(INIT_SCRIPT, media_type="text/javascript")


async def healthz(request: Request) -> Response:
    return _json({"status": "ok"})


async def readyz(request: Request) -> Response:
    service = _service(request)
    if service.draining:
        return _json({"status": "draining"}, 503)
    ping = getattr(service.tokens, "ping", None)
    if ping is not None and not await asyncio.to_thread(ping):
        return _json({"status": "token cache unreachable"}, 503)
    return _json({"status": "ready", "connectors": len(service.connectors)})


async def metrics(request: Request) -> Response:
    return Response(
        _service(request).metrics.render(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "bad-request")
    rid = request_id(request)
    return problem_response(
        _problems.document(slug, "see GET /openapi.json for the routes", request_id=rid),
        {"X-Request-Id": rid},
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    rid = request_id(request)
    logger.error("unexpected %s", type(exc).__name__, extra={"request_id": rid})
    return problem_response(
        _problems.document("internal", "unexpected error; see the service log", request_id=rid),
        {"X-Request-Id": rid},
    )


def create_app(config: ServiceConfig, *, token_cache: TokenCache | None = None) -> Starlette:
    """The service as an ASGI app (run it with `connector serve`, or any ASGI server)."""
    service = Service(config, token_cache)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    routes = [
        Route("/v1/connectors", list_connectors, methods=["GET"]),
        Route("/v1/route/{flow}", route_flow, methods=["POST"]),
        Route("/v1/{connector}/events", handle_event, methods=["POST"]),
        Route("/v1/{connector}/{flow}", call_flow, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route(f"{STATIC_ROUTE}/docs-init.js", docs_script, methods=["GET"]),
        Mount(STATIC_ROUTE, StaticFiles(directory=static_dir())),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_problem, Exception: _unexpected},
    )
    app.state.service = service
    app.state.openapi = openapi_document()
    app.state.matrix = feature_matrix(list(service.connectors.values()))
    return app
