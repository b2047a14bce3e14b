"""A compiled connector spec as one object: the pure build / parse / parse_event API."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ._boundary import connector_secrets, public
from ._build import build_request, request_count
from ._http import HttpRequest, HttpResponse
from ._parse import parse_response, parse_step
from ._plan import Capabilities, ConnectorPlan
from ._resources import specs_dir
from ._scrub import Scrubber
from ._spec import bundled_spec_paths, compile_file, find_spec
from ._tokens import AccessToken, build_token_request, parse_token_response
from ._unified import Result
from ._webhooks import WebhookResult, parse_event


class Connector:
    """One processor, compiled. Pure: building and parsing never do I/O, so a caller can bring
    its own HTTP client (the sans-I/O split)."""

    __slots__ = ("plan",)

    def __init__(self, plan: ConnectorPlan) -> None:
        self.plan = plan

    @property
    def id(self) -> str:
        return self.plan.id

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
        """How many requests `flow` sends (its steps, then its own)."""
        return request_count(self.plan, flow)

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
        return build_token_request(
            self.plan,
            credentials,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
        )

    @public("Connector.parse_token_response", connector_secrets)
    def parse_token_response(self, response: HttpResponse) -> AccessToken:
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

    @public("Connector.parse_event", connector_secrets)
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
        """Compile every flow now (a server warming up before its first request)."""
        for flow in self.plan.flows:
            _ = self.plan.flows[flow]
        return self

    def __repr__(self) -> str:
        return f"Connector({self.id!r}, flows={list(self.flows)})"


@cache
def _load_bundled(path: Path) -> Connector:
    # The bundled specs are linted whole by CI, so their flows compile on first use; any other
    # spec file is compiled whole now, so that every problem in it is reported at once.
    return Connector(compile_file(path, lazy_flows=path.parent == specs_dir().resolve()))


def load_connector(name_or_path: str | Path) -> Connector:
    """A bundled connector by id (as `connector list` shows), or any spec file by path: a
    `Path`, or a string with a path separator or a .yaml/.yml ending. A bare id never reads a
    file outside the bundle (UnsupportedError lists the bundled ids). Raises SpecError with
    every problem when the spec is invalid. A bundled connector's flows are compiled the first
    time each is used (`Connector.compile_all` does them all now)."""
    path = find_spec(name_or_path).resolve()
    return _load_bundled(path)


def bundled_connectors() -> list[Connector]:
    return [_load_bundled(path.resolve()) for path in bundled_spec_paths()]
