"""Every (processor, flow) pair, with what a generated request needs to be one that processor
accepts (its declared payment methods, currencies and required fields), and a recording mock
transport for proving that nothing was sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import assume
from hypothesis import strategies as st
from iso4217 import Currency

from engine import Client, Connector, HttpRequest, InputError, bundled_connectors
from engine._build import SCHEME_KEYS, _read
from engine._card_data import needs_support
from engine._plan import FlowPlan, RequestPlan
from engine._tokens import AccessToken

from ..connectors.scenarios import credentials_for
from .documents import XML_UNWRITABLE
from .schema_values import Fit, request_schema, values

#: A standing OAuth2 token, so no token exchange is needed (nor sent) by a Client.
ACCESS_TOKEN = AccessToken("property-access-token", 4_102_444_800.0)
#: A fixed clock for specs that sign the request date.
CLOCK = 1_767_225_600.0

#: ISO 4217 currencies with minor units, as the iso4217 package lists them.
ISO_CURRENCIES = tuple(sorted(c.code for c in Currency if c.exponent is not None))


def _payment_kinds() -> tuple[str, ...]:
    """Every payment method kind the unified schema has (one key per kind)."""
    common = request_schema("authorize")[1].replace("authorize.request.json", "common.json")
    from .schema_values import _documents

    kinds: tuple[str, ...] = tuple(
        _documents()[common]["$defs"]["payment_method"]["properties"]["type"]["enum"]
    )
    return kinds


_PAYMENT_KINDS = _payment_kinds()

CONNECTORS: Mapping[str, Connector] = {c.id: c for c in bundled_connectors()}
#: (connector id, flow) for every flow of every bundled processor.
FLOW_PAIRS = tuple((cid, flow) for cid, c in sorted(CONNECTORS.items()) for flow in c.flows)


def fit_for(connector: Connector, flow: str) -> Fit:
    """The constraints a request must meet for `connector` to accept it for `flow`."""
    caps = connector.capabilities
    compiled = connector.plan.flows[flow]
    # An entry naming alternatives (`/a | /b`) is met by its last one; one required only with
    # a payment method (`bnpl: /line_items`) is always given (it is valid with any method).
    forced = frozenset(
        written.rpartition(": ")[2].split(" | ")[-1] for written, _, _ in compiled.required_fields
    )
    # A declared `kind.scheme` (bank_redirect.ideal) allows its kind with only those schemes.
    kinds = sorted({entry.split(".")[0] for entry in caps.payment_methods})
    schemes: dict[str, list[str]] = {}
    for entry in sorted(caps.payment_methods):
        kind, _, scheme = entry.partition(".")
        if scheme and kind not in caps.payment_methods:
            schemes.setdefault(kind, []).append(scheme)
    # A required field under one kind of payment method (`/payment_method/card/...`) needs
    # that kind.
    unconditional = {
        written.split(" | ")[-1] for written, _, method in compiled.required_fields if not method
    }
    needed = {p.split("/")[2] for p in unconditional if p.startswith("/payment_method/")}
    if needed:
        kinds = [k for k in kinds if k in needed]
    choices: dict[str, tuple[Any, ...]] = {
        "/payment_method/type": tuple(kinds),
        "/capture_method": tuple(sorted(caps.capture_methods)),
        "/currency": tuple(
            c for c in ISO_CURRENCIES if caps.currencies is None or c in caps.currencies
        ),
    }
    for kind, allowed in schemes.items():
        choices[f"/payment_method/{kind}/{SCHEME_KEYS[kind]}"] = tuple(allowed)
    if not caps.three_ds:
        choices["/three_ds/request"] = ("never",)
    omitted = {f"/payment_method/{k}" for k in _PAYMENT_KINDS if k not in kinds}
    if flow == "capture" and not caps.partial_capture:
        omitted.add("/amount")
    if flow == "submit_evidence" and not caps.evidence_files:  # text evidence only
        omitted.add("/evidence/0/file")
    if flow == "submit_evidence" and not caps.evidence_texts:  # documents only
        omitted.add("/evidence/0/text")
    # A field the spec must read to be given it (x-refused-unless-read), where it does not.
    for path, _ in needs_support(flow):
        if not _read(compiled.request_reads, path):
            omitted.add("/" + "/".join(path))
    xml = any("xml" in (r.content_type or "") for r in _requests(compiled))
    return Fit(
        forced=forced,
        omitted=frozenset(omitted),
        choices=choices,
        unwritable=XML_UNWRITABLE if xml else None,
    )


def _requests(compiled: FlowPlan) -> list[RequestPlan]:
    return [*(step.request for step in compiled.steps), compiled.request]


@st.composite
def accepted_requests(draw: st.DrawFn, connector: Connector, flow: str) -> dict[str, Any]:
    """Requests valid for the schema of `flow` that `connector` also accepts."""
    schema, base = request_schema(flow)
    request: dict[str, Any] = draw(values(schema, base, "", fit_for(connector, flow)))
    # A processor that writes a currency with fewer decimals than ISO 4217 takes whole
    # multiples only (refusing the rest is tested in test_amounts): every amount of the request
    # (incremental_authorize's total too).
    for name in ("amount", "authorized_amount"):
        if name in request and "currency" in request:
            try:
                connector.plan.format_amount(request[name], request["currency"])
            except ValueError:
                request[name] -= request[name] % 1000
    # The unified contract: at most one evidence item per type.
    if isinstance(request.get("evidence"), list):
        seen: set[Any] = set()
        request["evidence"] = [
            item
            for item in request["evidence"]
            if not (item["type"] in seen or seen.add(item["type"]))
        ]
    # What the spec itself declares it refuses (`refuse`: two documents for the one field a
    # processor has) is not a request it accepts: such draws are discarded.
    refused = {named for _, named, _ in connector.plan.flows[flow].refusals}
    if refused:
        try:
            build_first(connector, flow, request)
        except InputError as exc:
            assume(exc.pointer not in refused)
    return request


def build_first(connector: Connector, flow: str, request: Mapping[str, Any]) -> HttpRequest:
    """The first request `flow` sends (its first step the request wants, or its own), built
    without a network."""
    first = connector.next_step(flow, 0, request, credentials_for(connector.id), {})
    return connector.build_request(
        flow,
        request,
        credentials_for(connector.id),
        step=first,
        steps={},
        access_token=ACCESS_TOKEN.token.reveal() if connector.plan.auth.token else None,
        now=CLOCK,
    )


@dataclass
class RecordingTransport:
    """An httpx transport that records every request and answers HTTP 500 (so any request
    that does go out ends as a Result, and the record shows it went)."""

    sent: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(500, json={"error": "property test"})

    def client(self, connector: Connector) -> Client:
        http = httpx.Client(transport=httpx.MockTransport(self.handle))
        return Client(
            connector,
            credentials_for(connector.id),
            http_client=http,
            access_token=ACCESS_TOKEN,
            clock=lambda: CLOCK,
        )
