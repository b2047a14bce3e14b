"""The unified contract in Python: statuses, error codes, flows and result types, mirroring
schemas/unified/ (the single source of truth; tests prove these types agree with it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, TypeVar

_D = TypeVar("_D")


class PaymentStatus(StrEnum):
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_CAPTURED = "partially_captured"
    CAPTURED = "captured"
    VOIDED = "voided"
    FAILED = "failed"
    UNRESOLVED = "unresolved"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNRESOLVED = "unresolved"


class MandateStatus(StrEnum):
    """What became of a stored payment method or mandate (revoke_recurring): `revoked` (it
    can no longer be charged), `pending` (the processor took the request and answers later),
    `failed` (refused: still chargeable), `unresolved` (unknown: read or revoke again)."""

    REVOKED = "revoked"
    PENDING = "pending"
    FAILED = "failed"
    UNRESOLVED = "unresolved"


class DisputeStatus(StrEnum):
    """Where a dispute stands (get_dispute, accept_dispute, submit_evidence): `needs_response`
    (evidence or acceptance is due), `under_review` (evidence sent, the issuer decides),
    `accepted` (the merchant conceded), `won`, `lost`, `expired` (the deadline passed without
    a response), `closed` (over without a winner, e.g. an inquiry closed or the claim
    withdrawn); `failed`: the processor refused the operation (the dispute is as it was);
    `unresolved`: unknown, read it again."""

    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    WON = "won"
    LOST = "lost"
    EXPIRED = "expired"
    CLOSED = "closed"
    FAILED = "failed"
    UNRESOLVED = "unresolved"


class FindStatus(StrEnum):
    """What a `find` found: exactly one payment, several (the caller must choose: never
    guessed), none (not proof there is none: a processor's search may lag), or unknown."""

    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"
    UNRESOLVED = "unresolved"


class ErrorCode(StrEnum):
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    INCORRECT_CVC = "incorrect_cvc"
    INCORRECT_NUMBER = "incorrect_number"
    INVALID_EXPIRY_DATE = "invalid_expiry_date"
    INCORRECT_ADDRESS = "incorrect_address"
    DO_NOT_HONOR = "do_not_honor"
    LOST_OR_STOLEN_CARD = "lost_or_stolen_card"
    SUSPECTED_FRAUD = "suspected_fraud"
    CALL_ISSUER = "call_issuer"
    LIMIT_EXCEEDED = "limit_exceeded"
    AUTHENTICATION_REQUIRED = "authentication_required"
    AUTHENTICATION_FAILED = "authentication_failed"
    INVALID_REQUEST = "invalid_request"
    INVALID_AMOUNT = "invalid_amount"
    UNSUPPORTED = "unsupported"
    DUPLICATE_REQUEST = "duplicate_request"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    INVALID_CREDENTIALS = "invalid_credentials"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    PROCESSOR_ERROR = "processor_error"
    PROCESSOR_UNAVAILABLE = "processor_unavailable"
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network_error"
    INVALID_RESPONSE = "invalid_response"


#: Codes for which the same request (same idempotency key) may succeed when tried again.
RETRYABLE_CODES = frozenset(
    {
        ErrorCode.RATE_LIMITED,
        ErrorCode.PROCESSOR_ERROR,
        ErrorCode.PROCESSOR_UNAVAILABLE,
        ErrorCode.TIMEOUT,
        ErrorCode.NETWORK_ERROR,
        ErrorCode.INVALID_RESPONSE,
        ErrorCode.DUPLICATE_REQUEST,
    }
)


class EventType(StrEnum):
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_CAPTURED = "payment.captured"
    PAYMENT_PARTIALLY_CAPTURED = "payment.partially_captured"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_VOIDED = "payment.voided"
    PAYMENT_PENDING = "payment.pending"
    PAYMENT_REQUIRES_ACTION = "payment.requires_action"
    PAYMENT_CAPTURE_FAILED = "payment.capture_failed"
    PAYMENT_VOID_FAILED = "payment.void_failed"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    REFUND_PENDING = "refund.pending"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_CLOSED = "dispute.closed"
    DISPUTE_UPDATED = "dispute.updated"
    DISPUTE_EVIDENCE_REQUIRED = "dispute.evidence_required"
    DISPUTE_EVIDENCE_SUBMITTED = "dispute.evidence_submitted"
    DISPUTE_WON = "dispute.won"
    DISPUTE_LOST = "dispute.lost"
    DISPUTE_FUNDS_WITHDRAWN = "dispute.funds_withdrawn"
    DISPUTE_FUNDS_REINSTATED = "dispute.funds_reinstated"
    UNKNOWN = "unknown"


#: The status an event type implies for the object it is about (None: the event says nothing
#: certain about it, e.g. a failed capture leaves the payment as it was).
EVENT_STATUS: Mapping[EventType, str | None] = {
    EventType.PAYMENT_AUTHORIZED: PaymentStatus.AUTHORIZED,
    EventType.PAYMENT_CAPTURED: PaymentStatus.CAPTURED,
    EventType.PAYMENT_PARTIALLY_CAPTURED: PaymentStatus.PARTIALLY_CAPTURED,
    EventType.PAYMENT_FAILED: PaymentStatus.FAILED,
    EventType.PAYMENT_VOIDED: PaymentStatus.VOIDED,
    EventType.PAYMENT_PENDING: PaymentStatus.PENDING,
    EventType.PAYMENT_REQUIRES_ACTION: PaymentStatus.REQUIRES_ACTION,
    EventType.PAYMENT_CAPTURE_FAILED: None,
    EventType.PAYMENT_VOID_FAILED: None,
    EventType.REFUND_SUCCEEDED: RefundStatus.SUCCEEDED,
    EventType.REFUND_FAILED: RefundStatus.FAILED,
    EventType.REFUND_PENDING: RefundStatus.PENDING,
    EventType.DISPUTE_OPENED: None,
    EventType.DISPUTE_CLOSED: None,
    # A dispute event's stage is its type; dispute.connector_status says the rest.
    EventType.DISPUTE_UPDATED: None,
    EventType.DISPUTE_EVIDENCE_REQUIRED: None,
    EventType.DISPUTE_EVIDENCE_SUBMITTED: None,
    EventType.DISPUTE_WON: None,
    EventType.DISPUTE_LOST: None,
    EventType.DISPUTE_FUNDS_WITHDRAWN: None,
    EventType.DISPUTE_FUNDS_REINSTATED: None,
    EventType.UNKNOWN: None,
}

#: The event a confirmed status stands for (webhooks confirmed by fetching the payment).
STATUS_EVENT: Mapping[str, EventType] = {
    PaymentStatus.AUTHORIZED: EventType.PAYMENT_AUTHORIZED,
    PaymentStatus.CAPTURED: EventType.PAYMENT_CAPTURED,
    PaymentStatus.PARTIALLY_CAPTURED: EventType.PAYMENT_PARTIALLY_CAPTURED,
    PaymentStatus.FAILED: EventType.PAYMENT_FAILED,
    PaymentStatus.VOIDED: EventType.PAYMENT_VOIDED,
    PaymentStatus.PENDING: EventType.PAYMENT_PENDING,
    PaymentStatus.REQUIRES_ACTION: EventType.PAYMENT_REQUIRES_ACTION,
}

FlowKind = Literal["payment", "refund", "mandate", "dispute"]

#: Every request flow: its result kind (which status set its status map targets; for `find`,
#: the status of each payment it found). Webhooks are `parse_event`. `verify` is a payment
#: flow (`authorized`: the method is valid, nothing to capture, like setup_recurring);
#: `reverse` a refund one (`succeeded`: voided or refunded, whichever the state needed).
FLOWS: Mapping[str, FlowKind] = {
    "authorize": "payment",
    "complete_authorize": "payment",
    "capture": "payment",
    "void": "payment",
    "refund": "refund",
    "get": "payment",
    "get_refund": "refund",
    "setup_recurring": "payment",
    "charge_recurring": "payment",
    "find": "payment",
    "verify": "payment",
    "incremental_authorize": "payment",
    "reverse": "refund",
    "revoke_recurring": "mandate",
    "get_dispute": "dispute",
    "accept_dispute": "dispute",
    "submit_evidence": "dispute",
}

#: The status set of each result kind.
KIND_STATUSES: Mapping[str, type[StrEnum]] = {
    "payment": PaymentStatus,
    "refund": RefundStatus,
    "mandate": MandateStatus,
    "dispute": DisputeStatus,
}


#: Flows that only read a status. An error answer to them says nothing about the payment.
READ_FLOWS = frozenset({"get", "get_refund", "find", "get_dispute"})

#: Flows whose answer is a list of payments (`response.matches`): the result's status is a
#: FindStatus and its `matches` lists what was found.
LIST_FLOWS = frozenset({"find"})


def result_statuses(flow: str) -> frozenset[str]:
    """The statuses a Result of `flow` may have."""
    return frozenset(FindStatus) if flow in LIST_FLOWS else statuses_for(flow)


def statuses_for(flow: str) -> frozenset[str]:
    return frozenset(KIND_STATUSES[FLOWS[flow]])


#: The scalar annotations `_built` checks a JSON value against (others are built or passed).
_SCALARS: Mapping[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "bool": bool,
    "float": (int, float),
}


def _is(value: Any, wanted: type | tuple[type, ...]) -> bool:
    """isinstance, except that a JSON boolean is no number."""
    return isinstance(value, wanted) and not (isinstance(value, bool) and wanted is not bool)


def _built(cls: type[_D], data: Any, where: str) -> _D:
    """An instance of the dataclass `cls` from the JSON object `data`: its known members only
    (a newer service may add some), each required one present, each scalar of its type.
    KeyError or TypeError (naming the member, never its value) otherwise."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a JSON object")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            if f.default is dataclasses.MISSING:
                raise KeyError(f"{where} lacks {f.name}")
            continue
        value = data[f.name]
        kinds = [part.strip() for part in str(f.type).split("|")]
        wanted = _SCALARS.get(kinds[0])
        absent = value is None and "None" in kinds
        if wanted is not None and not absent and not _is(value, wanted):
            raise TypeError(f"{where}: {f.name} must be {kinds[0]}")
        values[f.name] = value
    return cls(**values)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """Why an operation failed or could not be confirmed."""

    code: str
    message: str
    retryable: bool
    connector_code: str | None = None
    connector_message: str | None = None
    decline_code: str | None = None
    http_status: int | None = None
    #: A decline's class: `hard` (never retry this card for this payment) or `soft` (a later
    #: or different attempt may succeed); None when the failure is no decline.
    decline_class: str | None = None
    #: The card network's merchant advice code as the processor passed it (Mastercard MAC 03:
    #: do not try again; 24-30: retry after a while), where it gives one.
    advice_code: str | None = None
    #: Seconds to wait before trying again, where the processor says (Retry-After).
    retry_after: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErrorInfo:
        return _built(cls, data, "error")


#: The kinds of next action (schemas/unified/result.json#/$defs/next_action).
NEXT_ACTIONS = (
    "redirect",
    "html",
    "sdk",
    "three_ds_method",
    "qr",
    "deeplink",
    "voucher",
    "wait",
)


@dataclass(frozen=True, slots=True)
class NextAction:
    """The customer's next step (schemas/unified/result.json#/$defs/next_action): `redirect`
    (url, method, form `data`), `html` (a page to show), `sdk` (`data` for the processor's own
    client SDK), `three_ds_method` (device data collection: url + `data`), `qr` (`qr_code`
    data, `expires_at`), `deeplink` (url opening an app), `voucher` (`reference`, `barcode`,
    printable url, `expires_at`), `wait` (poll `get` after `wait_seconds`)."""

    type: str
    url: str | None = None
    method: Literal["GET", "POST"] = "GET"
    data: Mapping[str, Any] | None = None
    html: str | None = None
    qr_code: str | None = None
    reference: str | None = None
    barcode: str | None = None
    expires_at: str | None = None
    wait_seconds: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NextAction:
        return _built(cls, data, "next_action")


@dataclass(frozen=True, slots=True)
class PaymentMethodDetails:
    """What the processor says of the payment method used (never the full number)."""

    brand: str | None = None
    last4: str | None = None
    bin: str | None = None
    funding: str | None = None
    issuing_country: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    wallet: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaymentMethodDetails:
        return _built(cls, data, "payment_method_details")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """An address (AVS) or CVC check: the normalised `code` and the processor's `raw` value."""

    code: str | None = None
    raw: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return _built(cls, data, "a check result")


@dataclass(frozen=True, slots=True)
class Authentication:
    """The 3-D Secure outcome: ECI, version, status and whether liability shifted."""

    eci: str | None = None
    version: str | None = None
    status: str | None = None
    liability_shift: bool | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Authentication:
        return _built(cls, data, "three_ds")


@dataclass(frozen=True, slots=True)
class Dispute:
    """A dispute (chargeback, inquiry) as the processor describes it: on the results of the
    dispute flows and on dispute events. `reason` is normalised (fraudulent, unrecognized,
    duplicate, product_not_received, product_unacceptable, credit_not_processed,
    subscription_canceled, incorrect_amount, general), `reason_code` the processor's or card
    network's own; `stage` is inquiry, chargeback, pre_arbitration or arbitration; `due_at`
    the deadline to respond (RFC 3339); `connector_status` the processor's status."""

    connector_dispute_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    reason: str | None = None
    reason_code: str | None = None
    stage: str | None = None
    due_at: str | None = None
    connector_status: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dispute:
        return _built(cls, data, "dispute")


#: The Result's nested members and their types (engine._result_fields.GROUPS).
NESTED: Mapping[str, Any] = {
    "payment_method_details": PaymentMethodDetails,
    "avs": CheckResult,
    "cvc": CheckResult,
    "three_ds": Authentication,
    "dispute": Dispute,
}


@dataclass(frozen=True, slots=True)
class Match:
    """One payment a `find` found (schemas/unified/result.json#/$defs/match)."""

    status: str
    connector_transaction_id: str | None = None
    connector_status: str | None = None
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Match:
        return _built(cls, data, "a match")


@dataclass(frozen=True, slots=True)
class TokenExpiry:
    """When a Result's access token expires, without the token: what a Result read from JSON
    holds when the token's value was left out (`to_dict()` without `reveal_access_token`, as
    the service answers). It cannot be passed back to a Client: it has no token to send."""

    expires_at: float


@dataclass(frozen=True, slots=True)
class Attempt:
    """One candidate a router considered (schemas/unified/result.json#/$defs/attempt)."""

    profile: str
    connector: str
    outcome: str  # a Result status, or not_sent / unsupported / credentials / circuit_open
    error_code: str | None = None
    why: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attempt:
        return _built(cls, data, "an attempt")


@dataclass(frozen=True, slots=True)
class Routing:
    """How a router reached this result: the profile that answered (None when no candidate
    could be sent), the rule that chose, every attempt in order, and why it stopped."""

    profile: str | None
    rule: str
    attempts: tuple[Attempt, ...]
    stopped: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Routing:
        if not isinstance(data, Mapping) or not isinstance(data.get("attempts"), list | tuple):
            raise TypeError("the routing must be an object with a list of attempts")
        attempts = tuple(Attempt.from_dict(a) for a in data["attempts"])
        return _built(cls, {**data, "attempts": attempts}, "the routing")


@dataclass(frozen=True, slots=True)
class RawResponse:
    """The processor's own answer, for a caller who asked for it (Client(raw_response=True)):
    scrubbed like every transcript (secrets, card data), cookies left out, the body cut at
    RAW_BODY_LIMIT characters."""

    status_code: int
    headers: dict[str, str]
    body: str
    truncated: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RawResponse:
        return _built(cls, data, "the raw response")


#: The most of a processor's body a Result carries as `raw`.
RAW_BODY_LIMIT = 65_536


@dataclass(frozen=True, slots=True)
class Result:
    """The unified outcome of a payment or refund flow (schemas/unified/result.json)."""

    flow: str
    connector: str
    status: str
    connector_status: str | None = None
    connector_transaction_id: str | None = None
    connector_refund_id: str | None = None
    connector_reference: str | None = None
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    network_transaction_id: str | None = None
    mandate_id: str | None = None
    next_action: NextAction | None = None
    error: ErrorInfo | None = None
    http_status: int | None = None
    idempotency_key: str | None = None
    access_token: Any = None  # an AccessToken (token specs): pass it back to the next Client
    matches: tuple[Match, ...] | None = None  # `find` only: every payment found, in order
    routing: Routing | None = None  # a Router's result only: which profile, every attempt
    raw: RawResponse | None = None  # only when the client was asked for it (raw_response)
    authorized_amount: int | None = None
    captured_amount: int | None = None
    refunded_amount: int | None = None
    capturable_amount: int | None = None
    authorization_code: str | None = None
    connector_customer_id: str | None = None
    payment_method_id: str | None = None
    capture_before: str | None = None
    created_at: str | None = None
    payment_method_details: PaymentMethodDetails | None = None
    avs: CheckResult | None = None
    cvc: CheckResult | None = None
    three_ds: Authentication | None = None
    dispute: Dispute | None = None

    def to_dict(self, *, reveal_access_token: bool = False) -> dict[str, Any]:
        """The result as JSON-ready data. The access token's value is left out unless asked
        for (a stateless caller that keeps it); its expiry is always there. `matches` is there
        only in a find's result that has them (an unresolved find has none)."""
        data = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("access_token", "matches", "routing", "raw")
        }
        for name in ("next_action", "error", *NESTED):
            if data[name] is not None:
                data[name] = dataclasses.asdict(data[name])
        if self.matches is not None:  # a list flow's: other results leave the key out
            data["matches"] = [dataclasses.asdict(match) for match in self.matches]
        if self.routing is not None:  # a router's: other results leave the key out
            data["routing"] = dataclasses.asdict(self.routing)
        if self.raw is not None:  # asked for: other results leave the key out
            data["raw"] = dataclasses.asdict(self.raw)
        token = self.access_token
        secret = getattr(token, "token", None)  # a TokenExpiry has none
        data["access_token"] = (
            None
            if token is None
            else {
                "expires_at": token.expires_at,
                **({"token": secret.reveal()} if reveal_access_token and secret else {}),
            }
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The Result `to_dict` gave (e.g. the service's JSON answer): its inverse. An access
        token with its value comes back as an AccessToken, one without as a TokenExpiry.
        Members the Result does not know are ignored (a newer service may add some); a
        missing required member or a nested member that is not an object raises
        KeyError/TypeError."""
        if not isinstance(data, Mapping):
            raise TypeError("the result must be a JSON object")
        nested: dict[str, Any] = {}
        if data.get("next_action") is not None:
            nested["next_action"] = NextAction.from_dict(data["next_action"])
        if data.get("error") is not None:
            nested["error"] = ErrorInfo.from_dict(data["error"])
        if data.get("matches") is not None:
            if not isinstance(data["matches"], list | tuple):
                raise TypeError("the result: matches must be a list")
            nested["matches"] = tuple(Match.from_dict(m) for m in data["matches"])
        if data.get("access_token") is not None:
            nested["access_token"] = _access_token(data["access_token"])
        if data.get("routing") is not None:
            nested["routing"] = Routing.from_dict(data["routing"])
        if data.get("raw") is not None:
            nested["raw"] = RawResponse.from_dict(data["raw"])
        for name, kind in NESTED.items():
            if data.get(name) is not None:
                nested[name] = kind.from_dict(data[name])
        return _built(cls, {**data, **nested}, "the result")


@dataclass(frozen=True, slots=True)
class Event:
    """One verified webhook event (schemas/unified/event.json)."""

    connector: str
    type: str
    connector_event_type: str
    verified: bool
    status: str | None = None
    event_id: str | None = None
    connector_transaction_id: str | None = None
    connector_refund_id: str | None = None
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    occurred_at: str | None = None
    dispute: Dispute | None = None  # dispute events: the dispute's id, amount, reason, ...

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """The Event `to_dict` gave: its inverse (unknown members ignored)."""
        dispute = data.get("dispute") if isinstance(data, Mapping) else None
        if dispute is not None:
            data = {**data, "dispute": Dispute.from_dict(dispute)}
        return _built(cls, data, "an event")


def _access_token(data: Any) -> Any:
    """An AccessToken (with its value) or a TokenExpiry (without) from result JSON."""
    if not isinstance(data, Mapping) or not isinstance(data.get("expires_at"), int | float):
        raise TypeError("access_token must be an object with a numeric expires_at")
    token = data.get("token")
    if token is None:
        return TokenExpiry(data["expires_at"])
    from ._tokens import AccessToken  # the token layer sits above the contract types

    return AccessToken(str(token), data["expires_at"])
