"""A compiled connector spec as one object: the pure build / parse / parse_event API."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._boundary import connector_secrets, event_secrets, public
from ._build import build_request, next_step, request_count
from ._http import HttpRequest, HttpResponse
from ._parse import parse_response, parse_step
from ._plan import Capabilities, ConnectorPlan
from ._resources import specs_dir
from ._scrub import Scrubber
from ._spec import bundled_spec_paths, compile_file, find_spec
from ._unified import Result
from ._webhooks import WebhookResult, parse_event

if TYPE_CHECKING:
    from ._tokens import AccessToken


class Connector:
    """One processor, compiled. Pure: building and parsing never do I/O, so a caller can bring
    its own HTTP client (the sans-I/O split)."""

    __slots__ = ("_id", "_lock", "_plan", "_source")

    def __init__(self, plan: ConnectorPlan) -> None:
        self._plan: ConnectorPlan | None = plan
        self._id = plan.id
        self._source: Path | None = None
        self._lock: threading.Lock | None = None

    @classmethod
    def _bundled(cls, path: Path) -> Connector:
        """A bundled spec, read and compiled on first use (`plan`): a process pays only for
        the connectors it uses, however many are bundled. CI lints the bundle whole, and its
        lint checks each id is its file's name, so the id is known without reading the file."""
        connector = cls.__new__(cls)
        connector._plan = None
        connector._id = path.stem
        connector._source = path
        connector._lock = threading.Lock()
        return connector

    @property
    def plan(self) -> ConnectorPlan:
        plan = self._plan
        if plan is None:
            assert self._lock is not None and self._source is not None
            with self._lock:  # concurrent first uses compile it once
                if self._plan is None:
                    self._plan = compile_file(self._source, lazy_flows=True)
                plan = self._plan
        return plan

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def flows(self) -> tuple[str, ...]:
        return tuple(self.plan.flows)

    @property
    def capabilities(self) -> Capabilities:
        return self.plan.capabilities

    @property
    def has_webhooks(self) -> bool:
        return self.plan.webhooks is not None

    @public("Connector.build_request", connector_secrets)
    def build_request(
        self,
        flow: str,
        request: Mapping[str, Any],
        credentials: Mapping[str, object] | None = None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        allow_undeclared_host: bool = False,
        step: int = 0,
        steps: Mapping[str, Any] | None = None,
        access_token: str | None = None,
        now: float | None = None,
    ) -> HttpRequest:
        """The exact request (step `step` of a multi-step flow); see engine._build. A
        `base_url` must name a host the spec declares, unless `allow_undeclared_host`."""
        return build_request(
            self.plan,
            flow,
            request,
            credentials,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
            step=step,
            steps=steps,
            access_token=access_token,
            now=now,
        )

    def request_count(self, flow: str) -> int:
        """How many requests `flow` sends at most (its steps, then its own)."""
        return request_count(self.plan, flow)

    def next_step(
        self,
        flow: str,
        index: int,
        request: Mapping[str, Any],
        credentials: Mapping[str, object] | None,
        steps: dict[str, Any],
    ) -> int:
        """The index of the next request `flow` sends from `index` on: steps whose `if` does
        not hold are passed over, their answers None in `steps` (see engine._build)."""
        return next_step(self.plan, flow, index, request, credentials, steps)

    @public("Connector.parse_step", connector_secrets)
    def parse_step(
        self,
        flow: str,
        index: int,
        request: Mapping[str, Any],
        response: HttpResponse,
        *,
        steps: Mapping[str, Any] | None = None,
        key_sent: bool | None = None,
        scrubber: Scrubber | None = None,
    ) -> Any:
        """A step's decoded answer (pass it on as `steps[name]`), or the flow's failed Result."""
        return parse_step(
            self.plan,
            flow,
            index,
            request,
            response,
            steps=steps,
            key_sent=key_sent,
            scrubber=scrubber,
        )

    @public("Connector.build_token_request", connector_secrets)
    def build_token_request(
        self,
        credentials: Mapping[str, object] | None,
        *,
        environment: str = "sandbox",
        base_url: str | None = None,
        allow_undeclared_host: bool = False,
    ) -> HttpRequest:
        """The token (login) request, for specs whose auth needs an access token."""
        from ._tokens import build_token_request  # with its locks (asyncio): on first use

        return build_token_request(
            self.plan,
            credentials,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
        )

    @public("Connector.parse_token_response", connector_secrets)
    def parse_token_response(self, response: HttpResponse) -> AccessToken:
        from ._tokens import parse_token_response

        return parse_token_response(self.plan, response)

    @public("Connector.parse_response", connector_secrets)
    def parse_response(
        self,
        flow: str,
        request: Mapping[str, Any],
        response: HttpResponse,
        *,
        idempotency_key: str | None = None,
        steps: Mapping[str, Any] | None = None,
        key_sent: bool | None = None,
        scrubber: Scrubber | None = None,
    ) -> Result:
        """The flow's Result. `key_sent`: the sent request's `carries_key` (see engine._retry);
        `scrubber`: the sent request's (`built.scrubber`), so that no secret it carried comes
        back in the Result."""
        return parse_response(
            self.plan,
            flow,
            request,
            response,
            idempotency_key=idempotency_key,
            steps=steps,
            key_sent=key_sent,
            scrubber=scrubber,
        )

    @public("Connector.parse_event", event_secrets)
    def parse_event(
        self,
        body: bytes,
        headers: Mapping[str, str],
        secret: str | None = None,
        *,
        now: float | None = None,
        credentials: Mapping[str, object] | None = None,
        allow_unconfirmed: bool = False,
    ) -> WebhookResult:
        return parse_event(
            self.plan,
            body,
            headers,
            secret,
            now=now,
            credentials=credentials,
            allow_unconfirmed=allow_unconfirmed,
        )

    def compile_all(self) -> Connector:
        """Compile the auth, the webhooks and every flow now (a server warming up before its
        first request)."""
        _ = self.plan.auth, self.plan.webhooks
        for flow in self.plan.flows:
            _ = self.plan.flows[flow]
        return self

    def __repr__(self) -> str:
        return f"Connector({self.id!r}, flows={list(self.flows)})"


@cache
def _load_bundled(path: Path) -> Connector:
    # The bundled specs are linted whole by CI, so they are read on first use and their flows
    # compiled on first use each; any other spec file is compiled whole now, so that every
    # problem in it is reported at once.
    if path.parent == specs_dir().resolve():
        return Connector._bundled(path)
    return Connector(compile_file(path))


@public("load_connector")
def load_connector(name_or_path: str | Path) -> Connector:
    """A bundled connector by id (as `connector list` shows), or any spec file by path: a
    `Path`, or a string with a path separator or a .yaml/.yml ending. A bare id never reads a
    file outside the bundle (UnsupportedError lists the bundled ids). Raises SpecError with
    every problem when the spec is invalid. A bundled connector's flows are compiled the first
    time each is used (`Connector.compile_all` does them all now)."""
    path = find_spec(name_or_path).resolve()
    return _load_bundled(path)


@public("bundled_connectors")
def bundled_connectors() -> list[Connector]:
    return [_load_bundled(path.resolve()) for path in bundled_spec_paths()]
