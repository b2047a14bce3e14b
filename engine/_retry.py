"""A Result + what is known about the request that gave it → the Result with `error.retryable`
decided ("sending this same request again is safe now"), and what one call keeps across its
attempts (the steps that succeeded, whether an earlier attempt's outcome is unknown)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ._build import flow_plan
from ._plan import ConnectorPlan
from ._unified import READ_FLOWS, ErrorCode, PaymentStatus, Result

#: When `error.retryable` is true, in the order `settle` decides it; docs/outcomes.md shows it.
RETRYABLE_RULES: tuple[tuple[str, str], ...] = (
    (
        "the error code says trying again cannot help (a decline, `invalid_request`, "
        "`idempotency_conflict`, ...: not in the retryable codes below), or the processor's "
        "final word was an unexplained 2xx refusal",
        "false",
    ),
    (
        "`failed`: the processor refused without acting (`rate_limited`, a 5xx-like code a "
        "spec maps on a refusal, a step before the flow's own request)",
        "true",
    ),
    ("`unresolved` on get / get_refund (a read moves no money)", "true"),
    (
        "`unresolved` on a flow that may move money, when the spec declares that the processor "
        "honours idempotency keys (`capabilities.idempotency_key`) and the request carried the "
        "key (a template of the request reads `request.idempotency_key` and rendered a value)",
        "true",
    ),
    (
        "`unresolved` on a flow that may move money otherwise (the processor would act twice)",
        "false",
    ),
)

#: Refusals about the idempotency key itself: (the outcome, what the caller does next). The
#: key in use by a request still in flight says nothing of what that request did; the key
#: first used with other parameters refuses this request for good, while the earlier request
#: with that key may have succeeded. docs/outcomes.md shows this table.
KEY_REFUSALS: Mapping[str, tuple[str, str]] = {
    ErrorCode.DUPLICATE_REQUEST: (
        PaymentStatus.UNRESOLVED,
        "a request with this key is still in progress: send the same request again later with "
        "the same key (where the processor honours keys), or look the payment up",
    ),
    ErrorCode.IDEMPOTENCY_CONFLICT: (
        PaymentStatus.FAILED,
        "this key was first used for a request with other parameters, which may have "
        "succeeded: look that payment up (`get` with its id, `find` by its reference); "
        "never send again with this key (`retryable` is false)",
    ),
}

#: Refusals that say the processor already has a request with this key: what it did with that
#: request is not known from this answer.
KEY_IN_USE = frozenset(c for c, (status, _) in KEY_REFUSALS.items() if status == "unresolved")

#: Said in the message of every `idempotency_conflict`, so a caller reading only the message
#: still learns that the earlier payment must be looked up.
CONFLICT_HINT = (
    "the idempotency key was first used for another request, which may have succeeded: look "
    "that payment up (get, or find by reference); do not send again with this key"
)


def key_placed(plan: ConnectorPlan, flow: str, request: Mapping[str, Any], step: int = -1) -> bool:
    """Whether request `step` of `flow` (-1: the flow's own) sends the key, as far as the plan
    alone can tell: a template reads it and the request has one. `HttpRequest.carries_key`, set
    by build, also knows whether that template rendered a value: prefer it where there is one."""
    compiled = flow_plan(plan, flow)
    http = [*(s.request for s in compiled.steps), compiled.request][step]
    return bool(http.key_placements) and request.get("idempotency_key") not in (None, "")


def resend_safe(plan: ConnectorPlan, flow: str, status: str, key_sent: bool) -> bool:
    """Whether sending the same request again cannot make the processor act twice."""
    if status != PaymentStatus.UNRESOLVED:
        return True  # a refusal: nothing was acted on
    if flow in READ_FLOWS:
        return True
    return plan.capabilities.idempotency_key and key_sent


def settle(
    plan: ConnectorPlan,
    flow: str,
    result: Result,
    *,
    key_sent: bool,
    after_unknown: bool = False,
    reference: str | None = None,
) -> Result:
    """`result` with its outcome and `error.retryable` decided. The one place both are: the
    error's own `retryable` is only whether its code is worth trying again (RETRYABLE_CODES),
    and is kept only where sending again is safe (`resend_safe`). A refusal that says the key
    is already in use, or any refusal after an earlier attempt of the same call whose outcome
    was unknown (`after_unknown`), is `unresolved`: it says nothing about what that first
    request did. An outcome made `unresolved` here carries the request's `reference` (to
    `find` the payment by)."""
    error = result.error
    if error is None:
        return result
    status = result.status
    if status == PaymentStatus.FAILED and flow not in READ_FLOWS:
        if after_unknown:
            status = str(PaymentStatus.UNRESOLVED)
            error = replace(
                error,
                message=f"{error.message} (an earlier attempt of this call may have been acted "
                "on: its outcome is unknown)",
            )
        elif error.code in KEY_IN_USE:
            status = str(PaymentStatus.UNRESOLVED)
        elif error.code == ErrorCode.IDEMPOTENCY_CONFLICT and CONFLICT_HINT not in error.message:
            error = replace(error, message=f"{error.message} ({CONFLICT_HINT})")
    retryable = error.retryable and resend_safe(plan, flow, status, key_sent)
    if status == result.status and retryable == error.retryable and error is result.error:
        return result
    if status != result.status and result.reference is None and reference:
        result = replace(result, reference=reference)
    return replace(result, status=status, error=replace(error, retryable=retryable))


@dataclass(slots=True)
class Attempts:
    """What one call keeps across its attempts: the decoded answers of the steps that
    succeeded (a retry resumes after them and never sends them again), and the last outcome
    that was unknown (a later refusal says nothing about it)."""

    steps: dict[str, Any] = field(default_factory=dict)
    done: int = 0
    unknown: Result | None = None

    def settle(
        self,
        plan: ConnectorPlan,
        flow: str,
        result: Result,
        *,
        key_sent: bool,
        reference: str | None = None,
    ) -> Result:
        after_unknown = self.unknown is not None
        settled = settle(
            plan, flow, result, key_sent=key_sent, after_unknown=after_unknown, reference=reference
        )
        if settled.status == PaymentStatus.UNRESOLVED and flow not in READ_FLOWS:
            self.unknown = settled
        return settled
