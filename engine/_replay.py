"""A scenario (a unified request and the processor's recorded answers) → every request a flow
would send, or the Result it would give, with no network: what `connector render` and
`connector parse` show. The scenario format is the fixtures' (tests/connectors/README.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from ._build import build_request, next_step, request_count
from ._connector import Connector
from ._errors import InputError
from ._http import HttpRequest, HttpResponse
from ._parse import parse_step
from ._tokens import AccessToken, TokenWanted, build_token_request
from ._unified import READ_FLOWS, Result

#: What a scenario answer's `transport:` stands for: the failure the HTTP client would raise.
TRANSPORT_FAILURES: Mapping[str, type[Exception]] = {
    "connect_error": httpx.ConnectError,
    "connect_timeout": httpx.ConnectTimeout,
    "read_timeout": httpx.ReadTimeout,
    "write_timeout": httpx.WriteTimeout,
    "remote_protocol_error": httpx.RemoteProtocolError,
    "read_error": httpx.ReadError,
}
#: The access token shown in rendered requests of OAuth2 specs (never a real one).
PLACEHOLDER_TOKEN = "<access_token>"  # noqa: S105 (a placeholder, shown as such)
#: A far expiry for the placeholder token: the replay never asks for another.
_NEVER = 4_102_444_800.0

Answer = HttpResponse | Exception


class ScenarioError(ValueError):
    """A scenario file that cannot be read or replayed (the message says why and where)."""


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario fixture: the connector (named by its folder, tests/connectors/<id>/…, when
    the file does not say), the flow, the unified request and the recorded answers."""

    path: Path
    connector: str | None
    flow: str
    request: dict[str, Any]
    answers: tuple[Mapping[str, Any], ...]


def read_scenario(path: Path) -> ScenarioFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read the scenario {path}: {type(exc).__name__}") from None
    return scenario_of(path, data)


def scenario_of(path: Path, data: Any) -> ScenarioFile:
    """The scenario `data` (as read from `path`)."""
    if not isinstance(data, dict) or not isinstance(data.get("flow"), str):
        raise ScenarioError(f"{path} is not a scenario: it names no flow")
    if not isinstance(data.get("request"), dict):
        raise ScenarioError(f"{path} is not a scenario: it holds no request object")
    recorded = data["responses"] if "responses" in data else [data.get("response") or {}]
    connector = data.get("connector")
    if connector is None and path.parent.name == "scenarios":
        connector = path.parent.parent.name
    return ScenarioFile(
        path=path,
        connector=str(connector) if connector is not None else None,
        flow=data["flow"],
        request=data["request"],
        answers=tuple(a for a in recorded if isinstance(a, dict)),
    )


def answer_of(recorded: Mapping[str, Any]) -> Answer:
    """A scenario answer ({status, headers, body | body_text | transport}) as the client would
    receive it: an HttpResponse, or the transport failure."""
    if "transport" in recorded:
        kind = str(recorded["transport"])
        if kind not in TRANSPORT_FAILURES:
            raise ScenarioError(f"unknown transport failure {kind!r}")
        return TRANSPORT_FAILURES[kind](kind)
    if "body_text" in recorded:
        body = str(recorded["body_text"]).encode("utf-8")
    elif "body" in recorded:
        body = json.dumps(recorded["body"]).encode("utf-8")
    else:
        body = b""
    headers = recorded.get("headers", {"Content-Type": "application/json"})
    return HttpResponse(int(recorded.get("status", 200)), dict(headers), body)


@dataclass(frozen=True)
class Shown:
    """One request of a flow, as `render` shows it: its step name, and whether it sends the
    call's idempotency key."""

    step: str
    request: HttpRequest

    @property
    def sends_key(self) -> bool:
        return self.request.sent_key is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            **self.request.redacted(),
            "idempotency_key": self.request.sent_key,
        }


@dataclass(frozen=True)
class Rendering:
    """Every request of a flow that could be built. `waiting_for` names the step whose answer
    is needed to build the next one (none was given); `stopped` is the failed Result a step's
    answer gave (the flow sends nothing after it)."""

    flow: str
    idempotency_key: str | None
    key_generated: bool
    requests: tuple[Shown, ...]
    #: How many requests the flow sends in all (the token request included).
    total: int
    waiting_for: str | None = None
    stopped: Result | None = None
    #: The transport failure a step's recorded answer is (`read_timeout`): nothing follows it.
    failed_transport: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "idempotency_key": self.idempotency_key,
            "idempotency_key_generated": self.key_generated,
            "requests": [shown.to_dict() for shown in self.requests],
            "waiting_for": self.waiting_for,
            "stopped": self.stopped.to_dict() if self.stopped else None,
            "failed_transport": self.failed_transport,
        }

    def text(self) -> str:
        """As `connector render` prints it: a `#` line before each request, then the request
        as on the wire (redacted)."""
        lines = []
        if self.idempotency_key is not None:
            generated = " (generated, as the Client would: give idempotency_key to choose it)"
            shown_key = self.idempotency_key + (generated if self.key_generated else "")
            lines.append(f"# idempotency key: {shown_key}")
        for number, shown in enumerate(self.requests, 1):
            sent = shown.request.sent_key
            if sent is None:
                sends = "sends no idempotency key"
            elif sent == self.idempotency_key:
                sends = "sends the idempotency key"
            else:
                sends = f"sends the idempotency key {sent} (derived from the call's)"
            lines.append(f"# request {number}/{self.total}: {shown.step}, {sends}")
            wire = shown.request.redacted()
            lines.append(f"{wire['method']} {wire['url']}")
            lines += [f"{name}: {value}" for name, value in wire["headers"].items()]
            if wire["body"] is not None:
                lines += ["", wire["body"]]
            lines.append("")
        if self.stopped is not None:
            lines.append(f"# the flow stops here: the answer gave {self.stopped.status}")
        if self.failed_transport is not None:
            lines.append(f"# the flow stops here: the answer was {self.failed_transport}")
        return "\n".join(lines) + "\n"


def result_text(result: Mapping[str, Any]) -> str:
    """A Result's dict as `connector parse` prints it: `key: value`, nulls left out."""
    lines = []
    for key, value in result.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            lines.append(f"{key}:")
            lines += [f"  {k}: {v}" for k, v in value.items() if v is not None]
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def keyed(flow: str, request: Mapping[str, Any], generate: str) -> tuple[dict[str, Any], bool]:
    """The request with the idempotency key the Client would send: the caller's, or (for a
    mutating flow without one) `generate`. Also whether it was generated."""
    if not isinstance(request, Mapping):
        raise InputError("/", "the request must be a JSON object")
    prepared = dict(request)
    if flow not in READ_FLOWS and prepared.get("idempotency_key") is None:
        prepared["idempotency_key"] = generate
        return prepared, True
    return prepared, False


def render_flow(
    connector: Connector,
    flow: str,
    request: Mapping[str, Any],
    credentials: Mapping[str, object],
    answers: Mapping[int, Answer],
    *,
    generated_key: str,
    environment: str = "sandbox",
    base_url: str | None = None,
    allow_undeclared_host: bool = False,
    check_credential_patterns: bool = True,
    now: float | None = None,
) -> Rendering:
    """Build every request of `flow`: the token request (OAuth2 specs), then each step fed
    with `answers[index]` (the step's recorded answer), then the flow's own request."""
    plan = connector.plan
    prepared, generated = keyed(flow, request, generated_key)
    count = request_count(plan, flow)
    names = [step.name for step in plan.flows[flow].steps] + [flow]
    shown: list[Shown] = []
    token = PLACEHOLDER_TOKEN if plan.auth.token is not None else None
    total = count + (1 if token is not None else 0)
    if token is not None:
        built = build_token_request(
            plan,
            credentials,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
            check_credential_patterns=check_credential_patterns,
        )
        shown.append(Shown("token", built))
    steps: dict[str, Any] = {}
    key = prepared.get("idempotency_key")
    index = 0
    while index < count:
        # A step whose `if` does not hold is passed over (its answer None).
        index = next_step(
            plan,
            flow,
            index,
            prepared,
            credentials,
            steps,
            check_credential_patterns=check_credential_patterns,
        )
        built = build_request(
            plan,
            flow,
            prepared,
            credentials,
            environment=environment,
            base_url=base_url,
            allow_undeclared_host=allow_undeclared_host,
            check_credential_patterns=check_credential_patterns,
            step=index,
            steps=steps,
            access_token=token,
            now=now,
        )
        shown.append(Shown(names[index], built))
        if index == count - 1:
            break
        answer = answers.get(index)
        if answer is None:
            return Rendering(flow, key, generated, tuple(shown), total, waiting_for=names[index])
        if not isinstance(answer, HttpResponse):
            failure = type(answer).__name__
            return Rendering(flow, key, generated, tuple(shown), total, failed_transport=failure)
        decoded = parse_step(
            plan,
            flow,
            index,
            prepared,
            answer,
            steps=steps,
            idempotency_key=key,
            key_sent=built.carries_key,
            scrubber=built.scrubber,
        )
        if isinstance(decoded, Result):
            return Rendering(flow, key, generated, tuple(shown), total, stopped=decoded)
        steps[names[index]] = decoded
        index += 1
    return Rendering(flow, key, generated, tuple(shown), total)


def replay_flow(
    connector: Connector,
    flow: str,
    request: Mapping[str, Any],
    credentials: Mapping[str, object],
    answers: Sequence[Answer],
) -> tuple[Result, int]:
    """The Result the Client would give for `flow` when the processor answers `answers`, in
    order (one per request; a standing placeholder token, so no token request), and how many
    requests were sent. It runs the Client's own conversation (`_drive`), so steps, 401s,
    transport failures and settling are exactly the Client's."""
    from ._client import _Base

    base = _Base(
        connector,
        credentials,
        access_token=AccessToken(PLACEHOLDER_TOKEN, _NEVER),
    )
    exchange = base._drive(flow, request)
    sent = 0
    outgoing: Any = next(exchange)
    while True:
        answer: Any
        if isinstance(outgoing, TokenWanted):
            # fetched_now=True: a 401 is then the processor's answer, not a stale token.
            answer = (AccessToken(PLACEHOLDER_TOKEN, _NEVER), True)
        else:
            if sent >= len(answers):
                raise ScenarioError(f"request {sent + 1} of {flow} has no answer in the scenario")
            answer = answers[sent]
            sent += 1
        try:
            outgoing = exchange.send(answer)
        except StopIteration as done:
            result: Result = done.value
            return result, sent
