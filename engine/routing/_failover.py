"""When the router may try the next candidate: the one table. Only an outcome that proves
nothing was charged moves on — nothing was sent, or a definite refusal the rules opt into. Never
after `unresolved` (the processor may have acted), `requires_action` (the customer is on their
way), a success, or a hard decline (another processor would only try a card that must not be
charged)."""

from __future__ import annotations

from dataclasses import dataclass

from .._unified import Result

#: Outcomes where nothing was sent: always move on (an exception from the engine's call).
NOT_SENT = "not_sent"
UNSUPPORTED = "unsupported"
CREDENTIALS = "credentials"
CIRCUIT_OPEN = "circuit_open"

#: Error codes of a `failed` Result that rules may opt into, with why each proves nothing was
#: charged. Anything else (a hard decline, idempotency_conflict, duplicate_request, ...) stops.
OPT_IN: dict[str, str] = {
    "rate_limited": "the processor refused without acting (HTTP 429)",
    "processor_unavailable": "the processor answered, definitely, that it did not process it",
    "invalid_credentials": "the processor refused this profile's credentials before acting",
    "do_not_honor": "a soft decline: the issuer refused this attempt",
    "card_declined": "a soft decline (generic): the issuer refused this attempt",
    "insufficient_funds": "a soft decline: another acquirer may not succeed, but cannot charge",
    "limit_exceeded": "a soft decline: the card's limit for this attempt",
    "processor_error": "a definite processor error answer (a failed Result, never a 5xx)",
}

#: Statuses after which the router always stops, and why.
STOP_STATUSES: dict[str, str] = {
    "unresolved": "the outcome is uncertain: the processor may have acted",
    "requires_action": "the customer must act (3-D Secure, a redirect) at this processor",
    "pending": "the processor took the payment and is still processing it",
    "authorized": "authorized",
    "captured": "captured",
    "partially_captured": "partially captured",
    "voided": "voided",
    "succeeded": "succeeded",
}


@dataclass(frozen=True, slots=True)
class Decision:
    next: bool
    why: str


def after_result(result: Result, opted_in: frozenset[str]) -> Decision:
    """Whether to try the next candidate after this Result."""
    if result.status in STOP_STATUSES:
        return Decision(False, STOP_STATUSES[result.status])
    code = result.error.code if result.error is not None else None
    if result.status == "failed" and code in opted_in and code in OPT_IN:
        return Decision(True, f"{code}: {OPT_IN[code]}")
    if result.status == "failed":
        return Decision(False, f"a definite refusal ({code or 'no code'}) not marked for failover")
    return Decision(False, f"status {result.status}: not proof that nothing was charged")


def after_exception(kind: str) -> Decision:
    """The engine raised: nothing was sent to this candidate, so the next may be tried."""
    return Decision(
        True,
        {
            NOT_SENT: "nothing was sent (connection refused, DNS, connect timeout)",
            UNSUPPORTED: "this processor cannot take the request (nothing sent)",
            CREDENTIALS: "this profile's credentials are missing or invalid (nothing sent)",
            CIRCUIT_OPEN: "this profile's circuit is open (not tried)",
        }[kind],
    )
