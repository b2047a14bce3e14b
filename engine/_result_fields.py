"""The Result's fields a spec reads from an answer (`response.fields`): one table of each
field's kind, where it lands in the Result, and what it means. The spec schema's `fields`, the
parser and the reference docs all follow it (tests/unit/test_result_fields.py holds them to it).

Flat names in the spec (`card_brand`), nested in the Result (`payment_method_details.brand`):
a spec author writes one extraction per fact; a reader of the Result finds them grouped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ResultField:
    kind: str  # text, amount, integer, boolean, timestamp, country, lower, upper
    description: str
    group: str | None = None  # the Result member it is nested in
    key: str | None = None  # its name there


FIELDS: Mapping[str, ResultField] = {
    # ids and echoes
    "connector_transaction_id": ResultField("text", "The processor's id of the payment."),
    "connector_refund_id": ResultField("text", "The processor's id of the refund."),
    "connector_reference": ResultField(
        "text", "A second processor id where it has one (an order id beside the payment id)."
    ),
    "reference": ResultField("text", "The merchant's reference, as the processor echoes it."),
    "amount": ResultField(
        "amount",
        "The amount of what this flow did: authorized (authorize), captured (capture), refunded "
        "(refund), the payment's amount (get).",
    ),
    "currency": ResultField("text", "The currency of the amounts (ISO 4217, upper-cased)."),
    "network_transaction_id": ResultField(
        "text", "The card network's transaction id (chains merchant-initiated payments)."
    ),
    "mandate_id": ResultField("text", "The stored payment method or mandate for later charges."),
    # one meaning per amount, on every processor
    "authorized_amount": ResultField(
        "amount", "How much the issuer authorized (less than asked: a partial authorization)."
    ),
    "captured_amount": ResultField("amount", "How much has been captured so far, in all."),
    "refunded_amount": ResultField("amount", "How much has been refunded so far, in all."),
    "capturable_amount": ResultField("amount", "How much can still be captured."),
    # the payment and its method
    "authorization_code": ResultField("text", "The issuer's authorization (approval) code."),
    "connector_customer_id": ResultField(
        "text", "The processor's id of the customer the payment method is saved to."
    ),
    "payment_method_id": ResultField(
        "text", "The processor's id of the payment method used (to charge it again)."
    ),
    "capture_before": ResultField(
        "timestamp", "When the authorization expires: capture before then (RFC 3339)."
    ),
    "created_at": ResultField("timestamp", "When the processor created the payment (RFC 3339)."),
    "card_brand": ResultField(
        "lower",
        "The card network (visa, mastercard, amex, ...).",
        "payment_method_details",
        "brand",
    ),
    "card_last4": ResultField(
        "text", "The card number's last four digits.", "payment_method_details", "last4"
    ),
    "card_bin": ResultField(
        "text", "The card number's issuer prefix (6 or 8 digits).", "payment_method_details", "bin"
    ),
    "card_funding": ResultField(
        "lower", "credit, debit or prepaid.", "payment_method_details", "funding"
    ),
    "card_issuing_country": ResultField(
        "country",
        "The issuer's country (ISO 3166-1 alpha-2).",
        "payment_method_details",
        "issuing_country",
    ),
    "card_exp_month": ResultField(
        "integer", "The card's expiry month.", "payment_method_details", "exp_month"
    ),
    "card_exp_year": ResultField(
        "integer", "The card's expiry year (four digits).", "payment_method_details", "exp_year"
    ),
    "wallet": ResultField(
        "lower",
        "The wallet the card came from (apple_pay, google_pay).",
        "payment_method_details",
        "wallet",
    ),
    # checks and authentication
    "avs_result": ResultField(
        "text", "The address check's result as the processor gives it.", "avs", "raw"
    ),
    "avs_code": ResultField(
        "lower",
        "The address check, normalised: match, address_only, postal_only, no_match, unavailable, "
        "unchecked. When a spec gives only `avs_result` and it is a one-letter network code, the "
        "engine normalises it (engine._result_fields.AVS_CODES).",
        "avs",
        "code",
    ),
    "cvc_result": ResultField(
        "text", "The CVC check's result as the processor gives it.", "cvc", "raw"
    ),
    "cvc_code": ResultField(
        "lower",
        "The CVC check, normalised: match, no_match, unavailable, unchecked (one-letter network "
        "codes are normalised by the engine: CVC_CODES).",
        "cvc",
        "code",
    ),
    "three_ds_eci": ResultField(
        "text", "The ECI of the 3-D Secure authentication.", "three_ds", "eci"
    ),
    "three_ds_version": ResultField(
        "text", "The 3-D Secure version used (2.2.0).", "three_ds", "version"
    ),
    "three_ds_status": ResultField(
        "lower",
        "The authentication's outcome: authenticated, attempted, failed, rejected, "
        "not_performed, unavailable.",
        "three_ds",
        "status",
    ),
    "three_ds_liability_shift": ResultField(
        "boolean",
        "Whether liability for fraud shifted to the issuer.",
        "three_ds",
        "liability_shift",
    ),
    # disputes (the dispute flows' results and dispute events)
    "dispute_id": ResultField(
        "text", "The processor's id of the dispute.", "dispute", "connector_dispute_id"
    ),
    "dispute_amount": ResultField("amount", "The disputed amount.", "dispute", "amount"),
    "dispute_currency": ResultField(
        "upper", "The disputed amount's currency (ISO 4217).", "dispute", "currency"
    ),
    "dispute_reason": ResultField(
        "lower",
        "Why the customer disputes, normalised: fraudulent, unrecognized, duplicate, "
        "product_not_received, product_unacceptable, credit_not_processed, "
        "subscription_canceled, incorrect_amount, general.",
        "dispute",
        "reason",
    ),
    "dispute_reason_code": ResultField(
        "text",
        "The processor's or card network's own reason (code), unchanged.",
        "dispute",
        "reason_code",
    ),
    "dispute_stage": ResultField(
        "lower",
        "Where the dispute is: inquiry, chargeback, pre_arbitration, arbitration.",
        "dispute",
        "stage",
    ),
    "dispute_due_at": ResultField(
        "timestamp", "The deadline to respond (RFC 3339).", "dispute", "due_at"
    ),
    "dispute_status": ResultField(
        "text", "The dispute's status as the processor gives it.", "dispute", "connector_status"
    ),
}

#: The Result members that group nested fields.
GROUPS = ("payment_method_details", "avs", "cvc", "three_ds", "dispute")

#: One-letter AVS codes (Visa, Mastercard; as acquirers pass them) → the normalised code.
AVS_CODES: Mapping[str, str] = {
    **dict.fromkeys("YXDMF", "match"),
    **dict.fromkeys("AB", "address_only"),
    **dict.fromkeys("ZWP", "postal_only"),
    **dict.fromkeys("NC", "no_match"),
    **dict.fromkeys("URSGI", "unavailable"),
    "E": "unchecked",
}
#: One-letter CVC (CVV2/CVC2) codes → the normalised code.
CVC_CODES: Mapping[str, str] = {
    "M": "match",
    "N": "no_match",
    "P": "unchecked",
    "S": "unavailable",
    "U": "unavailable",
}
_NORMALISED = {"avs": AVS_CODES, "cvc": CVC_CODES}


_BOOLEANS = {"true": True, "yes": True, "y": True, "false": False, "no": False, "n": False}


def _kind(value: Any, kind: str, parse_amount: Any, currency: str | None) -> Any:
    if value is None:
        return None
    if kind in ("text", "lower", "upper"):  # ids and codes: a scalar as text, else unknown
        if type(value) is str:  # the common case, without the ABC check
            return value.lower() if kind == "lower" else value.upper() if kind == "upper" else value
        if isinstance(value, Mapping | list | bool):
            return None
        text = value if isinstance(value, str) else str(value)
        return text.lower() if kind == "lower" else text.upper() if kind == "upper" else text
    if value == "" or (isinstance(value, bool) and kind != "boolean"):
        return None  # JMESPath's `a && b` gives false where a does not hold: not a value
    if kind == "amount":
        amount = parse_amount(value, currency)
        return amount if isinstance(amount, int) and amount >= 0 else None  # a total is >= 0
    if kind == "integer":
        if type(value) is int and -(10**18) < value < 10**18:
            return value  # int(str(value)), without the text (which is refused past 4300 digits)
        try:
            return int(str(value))
        except ValueError:
            return None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return _BOOLEANS.get(text)
    if kind == "timestamp":
        from ._webhooks import rfc3339

        return rfc3339(value)
    if kind == "country":
        text = str(value).strip().upper()
        return text if len(text) == 2 and text.isalpha() else None
    raise ValueError(f"unknown field kind {kind!r}")


#: name → (kind, group, key), the FIELDS table as shape reads it.
_SHAPES: dict[str, tuple[str, str | None, str | None]] = {
    name: (field.kind, field.group, field.key) for name, field in FIELDS.items()
}


def shape(
    read: Mapping[str, Any], parse_amount: Any, request_currency: str | None
) -> dict[str, Any]:
    """The Result's members from a spec's flat `fields` as read: typed, normalised, grouped."""
    currency = read.get("currency")
    if isinstance(currency, str):
        currency = currency.upper()
    currency = currency if isinstance(currency, str) else None
    disputed = read.get("dispute_currency")
    disputed = disputed.upper() if isinstance(disputed, str) else None
    out: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    default_currency = currency or request_currency
    for name, value in read.items():
        kind, group, key = _SHAPES[name]
        if value is None:
            typed = None
        elif type(value) is str and kind == "text":
            typed = value
        else:
            own = disputed if group == "dispute" else None
            typed = _kind(value, kind, parse_amount, own or default_currency)
        if name == "currency":
            typed = currency
        if group is None:
            out[name] = typed
        elif typed is not None:
            assert key is not None
            groups.setdefault(group, {})[key] = typed
    for group, table in _NORMALISED.items():
        found = groups.get(group)
        if found and "code" not in found:
            raw = str(found.get("raw", "")).strip().upper()
            found["code"] = table.get(raw) if len(raw) == 1 else None
    from ._unified import NESTED

    for group, values in groups.items():
        out[group] = NESTED[group](**values)
    return out
