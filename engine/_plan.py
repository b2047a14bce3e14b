"""The compiled, frozen form of a spec: what build, parse and webhooks run. No YAML, template
text or JMESPath text is parsed after compile; everything here is a ready callable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ._amounts import AmountFormatter
from ._budget import shared_measures
from ._hosts import HostRule

#: A compiled value: context → rendered value (None means "omit").
Render = Callable[[Mapping[str, Any]], Any]
#: A compiled extraction: (document, context) → value.
Extract = Callable[[Any, Mapping[str, Any]], Any]
#: A compiled condition-or-value rule: context → a unified status / event type.
Rule = Callable[[Mapping[str, Any]], str]
_V = TypeVar("_V")


class LazyFlows(Mapping[str, "FlowPlan"]):
    """A spec's flows, each compiled the first time it is used (once, thread-safe). Used for
    the bundled specs, which CI lints whole: a process pays only for the flows it runs."""

    __slots__ = ("_compile", "_compiled", "_lock", "_names")

    def __init__(self, names: tuple[str, ...], compile_flow: Callable[[str], FlowPlan]) -> None:
        self._names = names
        self._compile = compile_flow
        self._compiled: dict[str, FlowPlan] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> FlowPlan:
        try:
            return self._compiled[name]
        except KeyError:
            if name not in self._names:
                raise
        with self._lock:
            if name not in self._compiled:
                self._compiled[name] = self._compile(name)
        return self._compiled[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class LazyValue(Generic[_V]):
    """A value made the first time it is asked for (once, thread-safe), as LazyFlows: the
    bundled specs' webhooks, which a process that sends payments may never parse."""

    __slots__ = ("_lock", "_made", "_make")

    def __init__(self, make: Callable[[], _V]) -> None:
        self._make: Callable[[], _V] | None = make
        self._made: list[_V] = []
        self._lock = threading.Lock()

    def __call__(self) -> _V:
        if not self._made:
            with self._lock:
                if not self._made:
                    assert self._make is not None
                    self._made.append(self._make())
                    self._make = None
        return self._made[0]


@dataclass(frozen=True, slots=True)
class CredentialPlan:
    name: str
    secret: bool
    required: bool
    default: str | None
    pattern: str | None
    description: str
    #: A secret that holds line breaks (a PEM key): allowed to, where other secrets are not.
    multiline: bool = False


#: (method, url, headers, body, context, now) → headers to add (request signing schemes).
Sign = Callable[
    [str, str, Mapping[str, str], bytes | None, Mapping[str, Any], float], dict[str, str]
]


#: (auth context, method, url, now) → None: fills the context in place.
Prepare = Callable[[dict[str, Any], str, str, float], None]


@dataclass(frozen=True, slots=True)
class TokenPlan:
    """How to obtain an access token: the login request (its templates see `credentials`),
    and where its JSON answer holds the token and when it expires. The OAuth2
    client-credentials scheme is one preset of it."""

    method: str
    path: str
    #: context → the login request's headers; their values are scrubbed (they carry secrets).
    headers: Render
    #: context → the login body, or None for a request without one.
    body: Render | None
    #: encoding name (json, form) of `body`.
    encoding: str | None
    #: decoded answer → the token.
    token: Callable[[Any], Any]
    #: decoded answer → seconds from now; or (decoded answer → timestamp, its format).
    expires_in: Callable[[Any], Any] | None
    expires_at: tuple[Callable[[Any], Any], str] | None
    #: Login header names redacted in echoes (those that carry credentials).
    sensitive_headers: frozenset[str]
    #: Top-level login body fields whose template reads a secret (a hash of a nonce and the key):
    #: their values are scrubbed like the secrets they come from.
    sensitive_fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AuthPlan:
    scheme: str
    headers: Render | None  # → {name: value}
    body_fields: Render | None  # → mapping placed first at body_pointer
    body_pointer: tuple[str, ...]
    header_names: frozenset[str]
    token: TokenPlan | None = None
    sign: Sign | None = None
    #: Adds the per-request values (engine._clock) and, for scheme `signed`, the request's
    #: method, path, host and url and the `let` names to the auth context: (context, method,
    #: url, now). None when no auth template reads them.
    prepare: Prepare | None = None
    #: Of `body_fields`, the keys derived from a secret (scrubbed from transcripts); None: all.
    secret_fields: frozenset[str] | None = None


#: `let` bindings (spec v2): (name, its Render), computed in order; each sees the ones before.
Bindings = tuple[tuple[str, "Render"], ...]


def bind(bindings: Bindings, context: dict[str, Any]) -> dict[str, Any]:
    """`context` with each binding's value added, in order (the context itself is updated).
    The bindings share what their evaluations measure (nothing changes the request or a bound
    value while they run)."""
    if len(bindings) > 1:
        return shared_measures(_bind, bindings, context)
    return _bind(bindings, context)


def _bind(bindings: Bindings, context: dict[str, Any]) -> dict[str, Any]:
    for name, render in bindings:
        context[name] = render(context)
    return context


@dataclass(frozen=True, slots=True)
class ErrorPlan:
    code: Extract | None
    message: Extract | None
    decline_code: Extract | None
    code_map: Mapping[str, str]
    default: str | None
    by_http_status: Mapping[int, str]
    #: Processor codes that mean the processor itself does not know the outcome yet.
    unresolved: frozenset[str] = frozenset()
    #: The card network's merchant advice code, where the processor passes it on.
    advice_code: Extract | None = None


@dataclass(frozen=True, slots=True)
class StatusRule:
    """One rule of a response's ordered status rules; the first that decides wins. A rule that
    reads a field (`read`) decides when the value is in its `table` (or in `unresolved`);
    any other decides when its condition (`when`, none: always) holds, giving `value`."""

    read: Extract | None = None
    table: Mapping[str, Rule] = field(default_factory=dict)
    unresolved: frozenset[str] = frozenset()
    when: Rule | None = None
    value: Rule | None = None


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    decode: Callable[[bytes], Any]
    error_when: Extract | None
    status_rules: tuple[StatusRule, ...]
    fields: tuple[tuple[str, Extract], ...]
    #: The next action's members (type, url, data, ...) → extraction (engine._next_actions).
    next_action: tuple[tuple[str, Extract], ...] | None
    error: ErrorPlan
    #: (request field, where the answer echoes it): an answer that names another payment,
    #: amount or currency than the request is about is not this request's answer.
    echo: tuple[tuple[str, Extract], ...] = ()
    #: Where the list of payments is (`find`): `status` and `fields` are then read per item.
    matches: Extract | None = None
    #: `let` names computed once from the answer, in order, before anything else reads it.
    bindings: Bindings = ()


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """One HTTP request of a flow."""

    method: str
    path: Render
    query: Render | None
    headers: Render | None
    body: Render | None
    encode: Callable[[Any], bytes] | None
    content_type: str | None
    auth_pointer: tuple[str, ...] | None = None
    #: Where a template reading `request.idempotency_key` sits: (section, keys inside it), the
    #: section one of "path", "query", "headers", "body" (`defaults` included). Known from the
    #: compiled templates, never from the bytes; build checks each rendered a value there.
    key_placements: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: The flow's `let` names (defaults' first), computed in order before the templates run.
    bindings: Bindings = ()
    #: The named host (`hosts.<name>`) this request goes to; None: the environment's URL.
    host: str | None = None


@dataclass(frozen=True, slots=True)
class StepPlan:
    """A request made before the flow's own (create an order, then pay it): its decoded answer
    is `steps.<name>` for every later template."""

    name: str
    request: RequestPlan
    response: ResponsePlan
    #: The step's `if`: sent only when it holds (else passed over, its answer None).
    condition: Render | None = None


@dataclass(frozen=True, slots=True)
class FlowPlan:
    name: str
    request: RequestPlan
    #: (as written, alternatives): each alternative is the parts of one JSON pointer.
    #: (as written, alternatives, the payment method kind or kind.scheme it applies to, or None)
    required_fields: tuple[tuple[str, tuple[tuple[str, ...], ...], str | None], ...]
    steps: tuple[StepPlan, ...]
    response: ResponsePlan
    #: Every request field path the flow's templates, `let`s and defaults mention (None: the
    #: request as a whole is read); a field marked `x-refused-unless-read` must be among them.
    request_reads: frozenset[tuple[str, ...]] | None = frozenset()
    #: The flow's `refuse` rules: (condition, the request field it names, why), checked as the
    #: request is built, before anything is sent.
    refusals: tuple[tuple[Render, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SignaturePlan:
    header: str | None
    from_item: Extract | None
    pair_separator: str | None
    value_separator: str | None
    signature_key: Render | None  # may read non-secret settings (a public key's name)
    timestamp_key: str | None
    prefix: str
    message: Render
    algorithm: str
    key_encoding: str
    output: str
    tolerance_seconds: int | None
    #: The non-secret settings the message and signature-key templates read (a notification
    #: URL, a public key): without one no delivery can be verified.
    settings: tuple[str, ...] = ()
    #: Where the timestamp is when not in a structured signature value (`timestamp_key`): a
    #: header, or a JMESPath over the event item (the decoded body); and how it is written.
    timestamp_header: str | None = None
    timestamp_from: Callable[[Any], Any] | None = None
    timestamp_format: str = "unix_seconds"
    #: `hmac` (an HMAC of `message`), `token` (the header is the webhook secret itself) or
    #: `digest` (the plain hash of a message that contains the secret: the template reads
    #: `secret`).
    scheme: str = "hmac"


@dataclass(frozen=True, slots=True)
class AcknowledgePlan:
    """What the receiver answers the processor: fixed, or rendered per delivery (`body` and
    `let` templates in the `acknowledgement` context, e.g. a signed JSON-RPC response)."""

    status: int
    content_type: str
    #: The body's Render: text, or data written as compact JSON.
    body: Render
    bindings: Bindings = ()
    #: Whether a template reads a credential (the delivery then needs the credentials), and
    #: the clock (a per-delivery time or nonce).
    credentials: tuple[str, ...] = ()
    clock: bool = False


@dataclass(frozen=True, slots=True)
class WebhookPlan:
    signature: SignaturePlan | None
    decode: str
    confirm_flow: str | None
    items: Extract | None
    event_type: Extract
    event_id: Extract | None
    event_map: Mapping[str, Rule]
    fields: tuple[tuple[str, Extract], ...]
    acknowledge: AcknowledgePlan | None
    #: `event.let`: names computed once per event item.
    bindings: Bindings = ()


@dataclass(frozen=True, slots=True)
class Capabilities:
    payment_methods: frozenset[str]
    capture_methods: frozenset[str]
    currencies: frozenset[str] | None  # None: any
    partial_capture: bool
    partial_refund: bool
    multiple_refunds: bool
    three_ds: bool
    idempotency_key: bool = False
    evidence_files: bool = False  # submit_evidence sends `file`s (else refused before sending)
    evidence_texts: bool = True  # submit_evidence sends `text`s (else refused before sending)


@dataclass(frozen=True, slots=True)
class ConnectorPlan:
    id: str
    name: str
    docs: str
    file: str
    credentials: tuple[CredentialPlan, ...]
    environments: Mapping[str, Render]
    environment_hosts: Mapping[str, HostRule]  # environment → the host its URL declares
    #: The auth plan, compiled on first use for the bundled specs (see LazyValue).
    auth_of: Callable[[], AuthPlan] = field(repr=False)
    format_amount: AmountFormatter
    parse_amount: Callable[[Any, str | None], int | None]
    capabilities: Capabilities
    flows: Mapping[str, FlowPlan]
    #: The webhooks plan, compiled on first use for the bundled specs (see LazyValue).
    webhooks_of: Callable[[], WebhookPlan | None] = field(repr=False)
    raw: Mapping[str, Any] = field(repr=False)
    #: `hosts`: host name → environment → its base URL template, and the host it declares.
    hosts: Mapping[str, Mapping[str, Render]] = field(default_factory=dict)
    named_host_rules: Mapping[str, Mapping[str, HostRule]] = field(default_factory=dict)

    def host_rules(self) -> tuple[HostRule, ...]:
        """Every host the spec declares (each environment's, each named host's), in order:
        a caller's `base_url` must name one of them (engine._hosts)."""
        rules = list(self.environment_hosts.values())
        for by_environment in self.named_host_rules.values():
            rules += by_environment.values()
        return tuple(rules)

    @property
    def auth(self) -> AuthPlan:
        return self.auth_of()

    @property
    def webhooks(self) -> WebhookPlan | None:
        return self.webhooks_of()
