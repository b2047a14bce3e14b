"""A compiled connector → how an unresolved call on it is resolved: the recovery table that
docs/matrix.md and `connector matrix --json` show. Derived from the spec's declarations only."""

from __future__ import annotations

from collections.abc import Mapping

from ._connector import Connector

#: Each way back from `unresolved`, and when it applies. The derivation below uses exactly these.
WAYS: Mapping[str, str] = {
    "get": "read the payment's status with `get`: the unresolved result names the payment "
    "(capture, void: the request's own id)",
    "find": "look the payment up by the merchant's `reference` with `find` (when the request "
    "gave one): the result lists every payment found, and names one only when there is one",
    "resend": "send the same request again with the result's `idempotency_key`: the processor "
    "answers the first request's outcome instead of acting twice "
    "(`capabilities.idempotency_key`)",
    "webhook": "wait for the processor's webhook about the payment (`webhooks`)",
}

#: The money-moving flows the table covers, and whether the payment's id is known before
#: the call (then `get` can read it whatever the answer was).
RECOVERED_FLOWS: Mapping[str, bool] = {
    "authorize": False,
    "charge_recurring": False,
    "capture": True,
    "void": True,
    "refund": False,
}

NONE = "none"


def recovery_ways(connector: Connector, flow: str) -> tuple[str, ...]:
    """The ways an unresolved `flow` on `connector` can be resolved, in the order to try them;
    `("none",)` when the spec declares none (the caller can only ask the processor's staff)."""
    flows = set(connector.flows)
    ways = []
    if RECOVERED_FLOWS[flow] and "get" in flows:
        ways.append("get")
    if connector.capabilities.idempotency_key:
        ways.append("resend")  # the processor's own answer to that very request: first
    if "find" in flows and not RECOVERED_FLOWS[flow] and flow != "refund":
        ways.append("find")  # a payment whose id the caller never learned
    if connector.has_webhooks:
        ways.append("webhook")
    return tuple(ways) or (NONE,)


def recovery_table(connector: Connector) -> dict[str, tuple[str, ...]]:
    """Flow → ways, for the money-moving flows the connector declares."""
    return {
        flow: recovery_ways(connector, flow) for flow in RECOVERED_FLOWS if flow in connector.flows
    }
