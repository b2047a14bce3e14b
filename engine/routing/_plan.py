"""Which profiles a request may go to, in what order, and why: the first matching rule (or the
default), its order (as listed, cheapest first, or a weighted split decided by the payment's
idempotency key), then only the candidates whose spec can take this flow, payment method,
currency and capture method. Every candidate chosen or skipped carries its reason."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._connector import load_connector
from .._templates import _card_brand
from ._rules import Choice, RoutingRules, Rule


@dataclass(frozen=True, slots=True)
class Candidate:
    profile: str
    connector: str
    why: str


@dataclass(frozen=True, slots=True)
class Skipped:
    profile: str
    why: str


@dataclass(frozen=True, slots=True)
class RoutePlan:
    rule: str  # the matching rule's name, or "default"
    choice: Choice
    candidates: tuple[Candidate, ...]
    skipped: tuple[Skipped, ...]

    def explain(self) -> list[str]:
        lines = [f"rule: {self.rule}"]
        lines += [
            f"  {i}. {c.profile} ({c.connector}): {c.why}" for i, c in enumerate(self.candidates, 1)
        ]
        lines += [f"  skipped {s.profile}: {s.why}" for s in self.skipped]
        return lines


def _card(request: Mapping[str, Any]) -> Mapping[str, Any] | None:
    method = request.get("payment_method")
    if isinstance(method, Mapping) and method.get("type") == "card":
        card = method.get("card")
        return card if isinstance(card, Mapping) else None
    return None


def _in_bin(number: str, ranges: list[str]) -> bool:
    for entry in ranges:
        low, _, high = entry.partition("-")
        high = high or low
        prefix = number[: len(low)]
        if prefix.isdigit() and int(low) <= int(prefix) <= int(high):
            return True
    return False


def matches(when: Mapping[str, Any], flow: str, request: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether every condition holds, and the first that does not."""
    method = request.get("payment_method")
    method_type = method.get("type") if isinstance(method, Mapping) else None
    card = _card(request)
    number = str(card.get("number", "")) if card is not None else ""
    billing = request.get("billing_address")
    country = billing.get("country") if isinstance(billing, Mapping) else None
    checks: list[tuple[str, bool]] = []
    if "currency" in when:
        checks.append(("currency", request.get("currency") in when["currency"]))
    if "amount" in when:
        amount = request.get("amount")
        low, high = when["amount"].get("min"), when["amount"].get("max")
        fits = (
            isinstance(amount, int)
            and (low is None or amount >= low)
            and (high is None or amount <= high)
        )
        checks.append(("amount", fits))
    if "payment_method" in when:
        checks.append(("payment_method", method_type in when["payment_method"]))
    if "card_brand" in when:
        checks.append(("card_brand", bool(number) and _card_brand(number) in when["card_brand"]))
    if "bin" in when:
        checks.append(("bin", bool(number) and _in_bin(number, when["bin"])))
    if "issuing_country" in when:
        issuing = card.get("issuing_country") if card is not None else None
        checks.append(("issuing_country", issuing in when["issuing_country"]))
    if "billing_country" in when:
        checks.append(("billing_country", country in when["billing_country"]))
    if "metadata" in when:
        metadata = request.get("metadata")
        given = metadata if isinstance(metadata, Mapping) else {}
        checks.append(("metadata", all(given.get(k) == v for k, v in when["metadata"].items())))
    if "capture_method" in when:
        capture = request.get("capture_method", "automatic")
        checks.append(("capture_method", capture == when["capture_method"]))
    if "recurring" in when:
        recurring = flow in ("charge_recurring", "setup_recurring")
        checks.append(("recurring", recurring == when["recurring"]))
    for name, held in checks:
        if not held:
            return False, name
    return True, ""


def _cannot_take(connector_id: str, flow: str, request: Mapping[str, Any]) -> str | None:
    connector = load_connector(connector_id)
    if flow not in connector.flows:
        return f"its spec declares no {flow} flow"
    caps = connector.capabilities
    method = request.get("payment_method")
    kind = method.get("type") if isinstance(method, Mapping) else None
    if kind is not None and kind not in caps.payment_methods:
        return f"its spec takes no {kind} payments"
    currency = request.get("currency")
    if currency is not None and caps.currencies is not None and currency not in caps.currencies:
        return f"its spec takes no {currency}"
    capture = request.get("capture_method")
    if capture is not None and flow == "authorize" and capture not in caps.capture_methods:
        return f"its spec has no {capture} capture"
    return None


def _weighted(split: Mapping[str, int], key: str) -> list[str]:
    """A deterministic weighted order: the first by weight from the key's hash, then the rest
    by weight (heaviest first) — the same payment always gets the same order."""
    total = sum(split.values())
    point = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % total
    first = None
    for name, weight in split.items():
        if point < weight:
            first = name
            break
        point -= weight
    assert first is not None
    rest = sorted((n for n in split if n != first), key=lambda n: -split[n])
    return [first, *rest]


def plan(rules: RoutingRules, flow: str, request: Mapping[str, Any]) -> RoutePlan:
    chosen: Rule | None = None
    for rule in rules.rules:
        held, _ = matches(rule.when, flow, request)
        if held:
            chosen = rule
            break
    choice = chosen.choice if chosen is not None else rules.default
    name = chosen.name if chosen is not None else "default"
    key = str(request.get("idempotency_key") or request.get("reference") or "")
    if choice.split is not None:
        order = _weighted(choice.split, key)
        reasons = {
            p: f"split weight {choice.split[p]} of {sum(choice.split.values())}" for p in order
        }
        reasons[order[0]] = f"chosen by split (weight {choice.split[order[0]]})"
    elif choice.order == "cheapest":
        given = request.get("amount")
        amount = given if isinstance(given, int) else 0
        currency = request.get("currency")

        def fee(profile: str) -> tuple[int, float]:
            cost = rules.profiles[profile].cost(currency)
            return (1, 0.0) if cost is None else (0, cost.fee(amount))

        order = sorted(choice.candidates, key=fee)
        reasons = {
            p: (
                "cost unknown: last"
                if fee(p)[0]
                else f"fee {fee(p)[1]:.2f} {currency} (cheapest first)"
            )
            for p in order
        }
    else:
        order = list(choice.candidates)
        reasons = {p: f"listed #{i}" for i, p in enumerate(order, 1)}
    candidates, skipped = [], []
    for profile in order:
        connector = rules.profiles[profile].connector
        why_not = _cannot_take(connector, flow, request)
        if why_not is not None:
            skipped.append(Skipped(profile, why_not))
        else:
            candidates.append(Candidate(profile, connector, reasons[profile]))
    if choice.max_attempts is not None:
        for extra in candidates[choice.max_attempts :]:
            skipped.append(Skipped(extra.profile, f"beyond max_attempts {choice.max_attempts}"))
        candidates = candidates[: choice.max_attempts]
    return RoutePlan(name, choice, tuple(candidates), tuple(skipped))
