"""Unified request + credentials → HttpRequest. Pure: no I/O, no clock, no randomness."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ._amounts import exponent, to_processor_minor
from ._auth import apply_body_auth
from ._card_data import card_data_values, needs_support
from ._credentials import resolve_credentials
from ._encoding import MULTIPART_TYPE, multipart_content_type
from ._errors import CredentialsError, InputError, RenderError, UnsupportedError
from ._hosts import HostRule, environment_url, override_url
from ._http import HttpRequest
from ._plan import ConnectorPlan, FlowPlan, RequestPlan, bind
from ._requests import validate_request
from ._signing import KeyDecodeError

#: RFC 9110 §5.1 field names (tokens) and §5.5 field values, restricted to ASCII: what h11
#: accepts and what every processor expects.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20\x09]*[\x21-\x7e])*)?")


def flow_plan(plan: ConnectorPlan, flow: str) -> FlowPlan:
    try:
        return plan.flows[flow]
    except KeyError:
        raise UnsupportedError(
            f"{plan.id} does not support the {flow!r} flow; it supports: {', '.join(plan.flows)}"
        ) from None


def check_request(plan: ConnectorPlan, flow: str, request: Mapping[str, Any]) -> FlowPlan:
    """Everything that must hold before a request may be built; raises, never sends."""
    compiled = flow_plan(plan, flow)
    validate_request(flow, request)
    method = request.get("payment_method")
    kind, scheme = method_scheme(method) if isinstance(method, Mapping) else (None, None)
    for written, alternatives, scope in compiled.required_fields:
        if scope is not None and scope not in (kind, f"{kind}.{scheme}"):
            continue  # required for another payment method
        if not any(_present(request, parts) for parts in alternatives):
            first, _, others = written.partition(" | ")
            either = f" (or {others.replace(' | ', ' or ')})" if others else ""
            where = f" with payment method {scope!r}" if scope else ""
            raise InputError(first, f"is required by {plan.name} for {flow}{where}{either}")
    caps = plan.capabilities
    if isinstance(method, Mapping):
        kind, scheme = method_scheme(method)
        if kind not in caps.payment_methods and f"{kind}.{scheme}" not in caps.payment_methods:
            # The kind is declared for some schemes: the scheme is what is refused.
            some = scheme is not None and any(
                str(m).startswith(f"{kind}.") for m in caps.payment_methods
            )
            named = f"{kind}.{scheme}" if some else kind
            raise UnsupportedError(
                f"{plan.id} does not accept payment method {named!r}",
                f"/payment_method/{kind}/{SCHEME_KEYS[kind]}" if some else "/payment_method/type",
            )
    for path, unasked in needs_support(flow):
        value = _value_at(request, path)
        if value is not None and value != unasked and not _read(compiled.request_reads, path):
            dotted = ".".join(path)
            raise UnsupportedError(
                f"{plan.id} does not support {dotted} on {flow}: its spec never sends it, and "
                "the payment would go without it",
                "/" + "/".join(path),
            )
    if flow == "submit_evidence" and not caps.evidence_files:
        for index, item in enumerate(request.get("evidence") or ()):
            if isinstance(item, Mapping) and item.get("file") is not None:
                raise UnsupportedError(
                    f"{plan.id} takes text evidence only here: its spec sends no files",
                    f"/evidence/{index}/file",
                )
    if flow == "submit_evidence" and not caps.evidence_texts:
        for index, item in enumerate(request.get("evidence") or ()):
            if isinstance(item, Mapping) and item.get("text") is not None:
                raise UnsupportedError(
                    f"{plan.id} takes evidence documents only here: give each item a file",
                    f"/evidence/{index}/text",
                )
    if flow in ("authorize", "charge_recurring"):
        capture = request.get("capture_method", "automatic")
        if capture not in caps.capture_methods:
            raise UnsupportedError(
                f"{plan.id} does not support {capture} capture", "/capture_method"
            )
    three_ds = (request.get("three_ds") or {}).get("request")
    if three_ds in ("automatic", "challenge") and not caps.three_ds:
        raise UnsupportedError(f"{plan.id} cannot run 3-D Secure here", "/three_ds/request")
    if flow == "capture" and request.get("amount") is not None and not caps.partial_capture:
        # The processor can only capture the whole authorization: an amount would be ignored,
        # and capturing more than the caller asked for is never acceptable.
        raise UnsupportedError(
            f"{plan.id} captures the whole authorization only: leave out the amount", "/amount"
        )
    currency = request.get("currency")
    if currency is not None and caps.currencies is not None and currency not in caps.currencies:
        raise UnsupportedError(f"{plan.id} does not accept currency {currency}", "/currency")
    return compiled


#: The key under each payment method kind that names its scheme (schemas/unified/common.json).
SCHEME_KEYS = {
    "wallet": "type",
    "bnpl": "provider",
    "bank_redirect": "type",
    "bank_debit": "scheme",
    "bank_transfer": "scheme",
    "voucher": "scheme",
    "upi": "mode",
    "mobile_money": "network",
}
#: A scheme's default where the unified schema gives one.
SCHEME_DEFAULTS = {"upi": "collect"}


def method_scheme(method: Mapping[str, Any]) -> tuple[Any, str | None]:
    """A payment method's kind and scheme: ("wallet", "apple_pay"), ("card", None)."""
    kind = method.get("type")
    if not isinstance(kind, str) or kind not in SCHEME_KEYS:
        return kind, None
    data = method.get(kind)
    scheme = data.get(SCHEME_KEYS[kind]) if isinstance(data, Mapping) else None
    return kind, str(scheme) if scheme is not None else SCHEME_DEFAULTS.get(kind)


def _value_at(request: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = request
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _read(reads: frozenset[tuple[str, ...]] | None, path: tuple[str, ...]) -> bool:
    """Whether the flow reads `path`: itself, a part of it, or a whole that holds it."""
    if reads is None:
        return True
    return any(r[: len(path)] == path or path[: len(r)] == r for r in reads)


def _present(request: Mapping[str, Any], parts: tuple[str, ...]) -> bool:
    value: Any = request
    for part in parts:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value is not None


def base_url_for(
    plan: ConnectorPlan, environment: str, context: Mapping[str, Any], host: str | None = None
) -> str:
    """The base URL of `environment` (of its named `host` when given: `hosts.<host>`), rendered
    from non-secret settings and checked against the host it declares."""
    if environment not in plan.environments:
        raise UnsupportedError(
            f"{plan.id} has no environment {environment!r}; it has: {', '.join(plan.environments)}"
        )
    # Only non-secret settings: a secret must never reach a hostname (DNS, TLS SNI), however
    # a template reads it (`credentials.get('api_key')` slips past name checks).
    secrets = {c.name for c in plan.credentials if c.secret}
    given = context.get("credentials") or {}
    settings = {name: value for name, value in given.items() if name not in secrets}
    if host is None:
        url = str(plan.environments[environment]({"credentials": settings}))
        return environment_url(plan.id, environment, url, plan.environment_hosts[environment])
    url = str(plan.hosts[host][environment]({"credentials": settings}))
    rule = plan.named_host_rules[host][environment]
    return environment_url(plan.id, f"{environment} {host}", url, rule)


def root_url(
    plan: ConnectorPlan,
    environment: str,
    context: Mapping[str, Any],
    base_url: str | None,
    allow_undeclared_host: bool,
    host: str | None = None,
) -> str:
    """Where a request goes: the caller's `base_url` when given (checked: see engine._hosts; it
    stands in for every host of the spec, a local server or a proxy), else the environment's
    URL (its named `host`'s when the request names one)."""
    if base_url is None:
        return base_url_for(plan, environment, context, host)
    rules = plan.host_rules()
    if not isinstance(base_url, str):  # refused (override_url names the problem)
        return override_url(plan.id, list(rules), base_url, allow_undeclared_host=False)
    key = (plan.id, rules, base_url, bool(allow_undeclared_host))
    if key in _ACCEPTED_OVERRIDES:  # the same caller's URL, checked before against these rules
        return base_url
    url = override_url(plan.id, list(rules), base_url, allow_undeclared_host=allow_undeclared_host)
    if len(_ACCEPTED_OVERRIDES) >= 256:
        _ACCEPTED_OVERRIDES.clear()
    _ACCEPTED_OVERRIDES.add(key)
    return url


#: (connector id, host rules, base_url, allow_undeclared_host) that override_url accepted: it
#: is a pure check of the caller's configuration (no secret), done once per client, not per
#: request. Refusals are not kept (they raise every time).
_ACCEPTED_OVERRIDES: set[tuple[str, tuple[HostRule, ...], str, bool]] = set()


def _flow_context(
    plan: ConnectorPlan,
    compiled: FlowPlan,
    request: Mapping[str, Any],
    settings: Mapping[str, Any],
    steps: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What a flow's request templates see: the request, the non-secret settings, the earlier
    steps' answers, the amount in the processor's words, and the flow's `let` names."""
    # Flow templates see non-secret settings only, however they read `credentials`: a secret
    # goes out through the auth scheme alone (which redaction knows about).
    context: dict[str, Any] = {"request": request, "credentials": settings}
    if compiled.steps:
        context["steps"] = dict(steps or {})
    overrides = plan.raw.get("amounts", {}).get("exponents", {})
    if isinstance(request.get("currency"), str) and "amount" not in request:
        # A flow with a currency and no amount (a zero-value verification) still writes amounts
        # in the currency's exponent.
        try:
            context["exponent"] = exponent(request["currency"], overrides)
        except ValueError as exc:
            raise InputError("/currency", str(exc)) from None
    if "amount" in request and "currency" in request:
        try:
            context["amount"] = plan.format_amount(request["amount"], request["currency"])
            context["exponent"] = exponent(request["currency"], overrides)
            context["minor_amount"] = to_processor_minor(
                request["amount"], request["currency"], overrides
            )
        except ValueError as exc:  # AmountError: not exactly representable for this processor
            raise InputError("/amount", str(exc)) from None
        if isinstance(request.get("authorized_amount"), int):
            try:
                context["total_amount"] = plan.format_amount(
                    request["authorized_amount"] + request["amount"], request["currency"]
                )
            except ValueError as exc:
                raise InputError("/authorized_amount", str(exc)) from None
    return bind(compiled.request.bindings, context)


def next_step(
    plan: ConnectorPlan,
    flow: str,
    index: int,
    request: Mapping[str, Any],
    credentials: Mapping[str, object] | None,
    steps: dict[str, Any],
    *,
    check_credential_patterns: bool = True,
) -> int:
    """The index of the next request `flow` sends from `index` on: a step whose `if` does not
    hold is passed over, its answer `steps[name]` None (`steps` is updated). The flow's own
    request (the last index) is always sent. The request is checked first (as build_request
    checks it) when a condition will read it: bad input is refused, naming the field."""
    compiled = flow_plan(plan, flow)
    if any(step.condition is not None for step in compiled.steps[index:]):
        check_request(plan, flow, request)
    while index < len(compiled.steps):
        condition = compiled.steps[index].condition
        if condition is None:
            break
        resolved = resolve_credentials(plan, credentials, check_patterns=check_credential_patterns)
        if condition(_flow_context(plan, compiled, request, resolved.settings, steps)):
            break
        steps[compiled.steps[index].name] = None
        index += 1
    return index


def build_request(
    plan: ConnectorPlan,
    flow: str,
    request: Mapping[str, Any],
    credentials: Mapping[str, object] | None = None,
    *,
    environment: str = "sandbox",
    base_url: str | None = None,
    allow_undeclared_host: bool = False,
    check_credential_patterns: bool = True,
    step: int = 0,
    steps: Mapping[str, Any] | None = None,
    access_token: str | None = None,
    now: float | None = None,
    checked: bool = False,
) -> HttpRequest:
    """The exact HTTP request for `flow`. Raises (nothing is sent) on bad input, an unsupported
    flow or method, missing credentials, or a template failure. `base_url` replaces the spec's
    environment URL (a local test server); it is the caller's choice, never the spec's, and must
    name a host the spec declares unless `allow_undeclared_host` (plain http: loopback only).

    A flow with `steps` sends several requests: `step` is the index in that sequence (0 first,
    `request_count(...) - 1` the flow's own), and `steps` maps each earlier step's name to its
    decoded answer. `access_token` is the access token for specs whose auth needs one (the
    token schemes), and `now` the clock (Unix seconds) for auth schemes that sign the date.
    `checked`: the caller ran `check_request` on this very request already (once per call)."""
    compiled = flow_plan(plan, flow) if checked else check_request(plan, flow, request)
    sequence = [*(s.request for s in compiled.steps), compiled.request]
    if not 0 <= step < len(sequence):
        raise UnsupportedError(f"{plan.id} {flow} has {len(sequence)} request(s), not {step + 1}")
    http = sequence[step]
    resolved = resolve_credentials(plan, credentials, check_patterns=check_credential_patterns)
    context = _flow_context(plan, compiled, request, resolved.settings, steps)
    for condition, named, reason in compiled.refusals:
        if condition(context):
            raise InputError(named, f"{reason} ({plan.name})")
    root = root_url(plan, environment, context, base_url, allow_undeclared_host, http.host)
    path = str(http.path(context))
    url = root.rstrip("/") + path
    query = http.query(context) if http.query is not None else None
    if query:
        url += "?" + urlencode({k: _text(v) for k, v in query.items()})
    headers: dict[str, str] = {}
    templated = http.headers(context) if http.headers is not None else None
    if templated:
        headers.update({k: _text(v) for k, v in templated.items()})
    auth_context = {**context, "credentials": resolved.values, "access_token": access_token}
    if plan.auth.token is not None and not access_token:
        raise CredentialsError(
            f"{plan.id} authenticates with an access token: pass access_token "
            "(Client obtains and caches one)"
        )
    clock = time.time() if now is None else now
    if plan.auth.prepare is not None:  # per-request values; a signing scheme's request parts
        plan.auth.prepare(auth_context, http.method, url, clock)
    derived: list[str] = []  # what the auth scheme made of the secrets: the scrubber learns it
    if plan.auth.headers is not None:
        added = plan.auth.headers(auth_context) or {}
        derived += [str(v) for v in added.values()]
        headers.update(added)
    body_bytes = None
    body = None
    if http.encode is not None:
        body = http.body(context) if http.body is not None else {}
        rendered = {"path": path, "query": query, "headers": templated, "body": body}
        if plan.auth.body_fields is not None:
            auth_context["data"] = body
            fields = plan.auth.body_fields(auth_context) or {}
            secret = plan.auth.secret_fields
            picked = {k: v for k, v in fields.items() if secret is None or k in secret}
            # What the flow wrote itself (an amount the auth fields repeat) is no secret.
            written = set(_leaves(body))
            derived += [leaf for leaf in _leaves(picked) if leaf not in written]
            body = apply_body_auth(plan.auth, auth_context, body, http.auth_pointer, fields)
        auth_context["data"] = body
        try:
            body_bytes = http.encode(body if body is not None else {})
        except RenderError as exc:  # the encoding cannot carry a value (XML: control characters)
            field = _refused_field(request, {"body": body}, exc.pointer)
            if field is None:  # the spec's own text: a bug in the spec
                raise
            reason = str(exc).removeprefix(f"{exc.pointer}: ")
            raise InputError(field, f"{reason} ({plan.name}'s request encoding)") from None
        except (TypeError, ValueError) as exc:  # a template gave something no body can carry
            reason = type(exc).__name__
            raise RenderError("/body", f"the body could not be encoded ({reason})") from None
        if http.content_type == MULTIPART_TYPE:
            _refuse_card_data(request)
            headers.setdefault("Content-Type", multipart_content_type(body_bytes))
        elif http.content_type:
            headers.setdefault("Content-Type", http.content_type)
    else:
        rendered = {"path": path, "query": query, "headers": templated, "body": None}
    if plan.auth.sign is not None:
        try:
            signed = plan.auth.sign(http.method, url, headers, body_bytes, auth_context, clock)
        except KeyDecodeError as exc:  # a secret the spec's pattern allows, not its encoding
            raise CredentialsError(f"{plan.id}: the signing secret: {exc}") from None
        # Only the scheme's secret headers (Signature): Host, Date and Digest are public.
        derived += [str(v) for k, v in signed.items() if k.lower() in plan.auth.header_names]
        headers.update(signed)
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise RenderError(f"/headers/{name}", "a header name must be an RFC 9110 token")
        if not _FIELD_VALUE.fullmatch(value):
            raise RenderError(
                f"/headers/{name}",
                "a header may not contain CR or LF, NUL, other control or non-ASCII characters",
            )
    token = (access_token,) if access_token else ()
    scrubber = resolved.scrubber(token, tuple(_secret_derived(derived, resolved.settings)))
    # Every payment credential the unified schemas mark x-card-data: card number and CVC,
    # cryptograms, wallet tokens, bank account numbers, 3DS authentication values.
    scrubber = scrubber.adding(card_data_values(request))
    sent = key_sent(http, request, rendered)
    return HttpRequest(
        method=http.method,
        url=url,
        headers=headers,
        body=body_bytes,
        scrubber=scrubber,
        sensitive_headers=plan.auth.header_names,
        carries_key=sent is not None,
        sent_key=sent,
    )


def _refuse_card_data(request: Mapping[str, Any]) -> None:
    """A multipart body (documents, uploads) never carries card data: a request that holds
    any (a card number, a CVC, a wallet token) is refused before anything is sent, whatever
    the spec's parts read (a CVC's three digits could occur in any document by chance)."""
    if card_data_values(request):
        raise RenderError("/body", "a request holding card data may not be sent as multipart")


def carries_key(http: RequestPlan, request: Mapping[str, Any], rendered: Mapping[str, Any]) -> bool:
    """Whether the built request sent the idempotency key: the request has one, and a template
    the spec placed to read it (`RequestPlan.key_placements`) rendered a value at its place in
    the `rendered` sections (before auth and encoding)."""
    return key_sent(http, request, rendered) is not None


def key_sent(
    http: RequestPlan, request: Mapping[str, Any], rendered: Mapping[str, Any]
) -> str | None:
    """The idempotency key the built request sends, as rendered at the first of its placements
    (the call's key, or what a step derived from it: `derive_key`); None when it sends none."""
    key = request.get("idempotency_key")
    if key is None or key == "":
        return None
    for section, parts in http.key_placements:
        value: Any = rendered.get(section)
        for part in parts:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and value not in ("", {}):
            return str(value) if isinstance(value, str | int) else str(key)
    return None


def request_count(plan: ConnectorPlan, flow: str) -> int:
    """How many HTTP requests `flow` sends: its steps, then its own."""
    return len(flow_plan(plan, flow).steps) + 1


def _refused_field(
    request: Mapping[str, Any], rendered: Mapping[str, Any], pointer: str
) -> str | None:
    """The JSON pointer of the request field whose text the encoder refused at `pointer` (in
    `rendered`): the request string that is the refused value (a file's base64 data), else the
    longest request string, with a character that is not printable, that the refused value
    holds. None when there is none (the refused text is the spec's own)."""
    value: Any = rendered
    for part in pointer.split("/")[1:]:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    refused = str(value)
    held = [
        (len(text), where)
        for where, text in _strings(request, "")
        if text and (text == refused or (not text.isprintable() and text in refused))
    ]
    return max(held)[1] if held else None


def _strings(value: Any, pointer: str) -> list[tuple[str, str]]:
    """Every string in a request, with its JSON pointer (RFC 6901)."""
    if isinstance(value, str):
        return [(pointer or "/", value)]
    if isinstance(value, Mapping):
        return [
            leaf
            for key, item in value.items()
            for leaf in _strings(
                item, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            )
        ]
    if isinstance(value, list | tuple):
        return [leaf for i, item in enumerate(value) for leaf in _strings(item, f"{pointer}/{i}")]
    return []


def _leaves(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def _secret_derived(values: list[str], settings: Mapping[str, Any]) -> list[str]:
    """The auth scheme's output values, less those that are plain non-secret settings (a
    merchant id in an auth header is not a secret) and the signing scheme's fixed words."""
    public = {str(v) for v in settings.values() if v is not None}
    return [v for v in values if v and v not in public]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
