"""Webhook body + headers + secret → verified unified Events (or WebhookError)."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from ._clock import clock_values
from ._credentials import resolve_credentials
from ._encoding import parse_xml
from ._errors import CredentialsError, RenderError, UnsupportedError, WebhookError
from ._plan import AcknowledgePlan, ConnectorPlan, SignaturePlan, WebhookPlan, bind
from ._result_fields import shape
from ._scrub import Scrubber
from ._signing import (
    KeyDecodeError,
    PublicKeyError,
    decode_key,
    digest_signature,
    hmac_signature,
    key_forms,
    rsa_public_key,
    rsa_signature_matches,
    signatures_match,
)
from ._timestamps import read_timestamp
from ._unified import EVENT_STATUS, Event, EventType

#: WebhookError.reason values.
REJECTIONS = (
    "missing_signature",
    "bad_signature",
    "stale_timestamp",
    "bad_secret",
    "unreadable_body",
    "unconfirmed",
    "missing_setting",
)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """The verified events of one webhook delivery, and what to answer the processor."""

    events: tuple[Event, ...]
    acknowledge_status: int = 200
    acknowledge_body: str = ""
    acknowledge_content_type: str = "text/plain"

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": [e.to_dict() for e in self.events],
            "acknowledge": {
                "status": self.acknowledge_status,
                "body": self.acknowledge_body,
                "content_type": self.acknowledge_content_type,
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebhookResult:
        """The WebhookResult `to_dict` gave (e.g. the service's answer): its inverse."""
        if not isinstance(data, Mapping):
            raise TypeError("the webhook result must be a JSON object")
        events, ack = data["events"], data["acknowledge"]
        if not isinstance(events, list | tuple) or not isinstance(ack, Mapping):
            raise TypeError("the webhook result: events must be a list, acknowledge an object")
        status, body, content_type = ack["status"], ack["body"], ack["content_type"]
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError("the webhook result: acknowledge.status must be an integer")
        if not isinstance(body, str) or not isinstance(content_type, str):
            raise TypeError("the webhook result: acknowledge body and content_type are strings")
        return cls(
            events=tuple(Event.from_dict(e) for e in events),
            acknowledge_status=status,
            acknowledge_body=body,
            acknowledge_content_type=content_type,
        )


def parse_event(
    plan: ConnectorPlan,
    body: bytes,
    headers: Mapping[str, str],
    secret: str | None = None,
    *,
    now: float | None = None,
    credentials: Mapping[str, object] | None = None,
    allow_unconfirmed: bool = False,
) -> WebhookResult:
    """Verify the signature (constant time, with the spec's timestamp tolerance) and read the
    events. Raises WebhookError when anything cannot be verified: unverified events are never
    returned. A spec whose events must be confirmed by a fetch (`webhooks.confirm`) gives them
    only with `allow_unconfirmed=True`, marked `verified=False`: Client.handle_event confirms
    them. `credentials` gives the signed-message template the non-secret settings it reads."""
    webhooks = plan.webhooks
    if webhooks is None:
        raise UnsupportedError(f"{plan.id} has no webhooks section")
    if webhooks.confirm_flow is not None and not allow_unconfirmed:
        raise WebhookError(
            "unconfirmed",
            f"{plan.id} webhooks must be confirmed by running {webhooks.confirm_flow!r}: "
            "use Client.handle_event",
        )
    signature = webhooks.signature
    settings = _settings(plan, credentials)
    if signature is not None:
        missing = [name for name in signature.settings if name not in settings]
        if missing:
            # The receiver's configuration, not the delivery, is at fault: say what to pass.
            names = ", ".join(missing)
            raise WebhookError(
                "missing_setting",
                f"{plan.id} webhook signatures cover the {names} setting: pass it in credentials",
            )
    lowered = {k.lower(): v for k, v in headers.items()}
    text, document = _decode(webhooks.decode, body)
    items = _items(webhooks, document, lowered)
    key = b""
    public_key: object | None = None
    if signature is not None:
        if not secret:
            raise WebhookError("bad_secret", "a webhook secret is required")
        try:
            key = decode_key(secret, signature.key_encoding)
            public_key = rsa_public_key(key) if signature.scheme == "rsa" else None
        except (KeyDecodeError, PublicKeyError) as exc:
            raise WebhookError("bad_secret", str(exc)) from None
    clock = time.time() if now is None else now
    events = []
    try:
        if signature is not None and signature.from_item is None:
            _verify(
                signature, key, text, None, lowered, clock, settings, document, secret, public_key
            )
        for item in items:
            if signature is not None and signature.from_item is not None:
                _verify(
                    signature, key, text, item, lowered, clock, settings, item, secret, public_key
                )
            events.append(_event(plan, webhooks, item, lowered, verified=signature is not None))
    except RenderError as exc:
        # A template failed on this delivery (a body too large to sign, an odd item shape):
        # it is rejected like any other unreadable delivery, never raised as something else.
        raise WebhookError("unreadable_body", f"the delivery could not be read ({exc})") from None
    if webhooks.confirm_flow is not None:
        events = [replace(event, verified=False) for event in events]
    hidden = webhook_secrets(plan, secret)
    status, answer, content_type = 200, "", "text/plain"
    if webhooks.acknowledge is not None:
        ack = webhooks.acknowledge
        status, content_type = ack.status, ack.content_type
        answer, revealed = _acknowledgement(
            plan, ack, document, lowered, events, credentials, clock
        )
        hidden += revealed
    result = WebhookResult(
        events=tuple(events),
        acknowledge_status=status,
        acknowledge_body=answer,
        acknowledge_content_type=content_type,
    )
    # A delivery quoting the signing secret (or the key it decodes to) back shows none of it,
    # nor of the credentials an acknowledgement was signed with.
    return Scrubber(hidden).result(result)


def _acknowledgement(
    plan: ConnectorPlan,
    ack: AcknowledgePlan,
    document: Any,
    headers: Mapping[str, str],
    events: list[Event],
    given: Mapping[str, object] | None,
    now: float,
) -> tuple[str, list[str]]:
    """The answer's body, rendered for this delivery, and the secret values its templates
    could read (the result is scrubbed of them; a render error shows none of them)."""
    values: Mapping[str, str] = {}
    revealed: list[str] = []
    if ack.credentials:
        missing = [name for name in ack.credentials if not (given or {}).get(name)]
        if missing:
            raise WebhookError(
                "missing_setting",
                f"{plan.id} webhook acknowledgements are signed with the {', '.join(missing)} "
                "credential: pass it in credentials",
            )
        try:
            resolved = resolve_credentials(plan, given, check_patterns=False)
        except CredentialsError as exc:
            raise WebhookError("missing_setting", str(exc)) from None
        values, revealed = resolved.values, list(resolved.secrets)
    context: dict[str, Any] = {
        "item": document,
        "headers": headers,
        "events": [event.to_dict() for event in events],
        "credentials": values,
    }
    if ack.clock:
        context.update(clock_values(now))
    try:
        bind(ack.bindings, context)
        rendered = ack.body(context)
    except RenderError as exc:
        # The spec's templates or the signing key are at fault, not the delivery's sender.
        message = Scrubber(revealed).text(str(exc))
        raise WebhookError(
            "unreadable_body", f"the acknowledgement could not be rendered ({message})"
        ) from None
    if rendered is None:
        return "", revealed
    if isinstance(rendered, Mapping | list):
        return json.dumps(rendered, separators=(",", ":"), ensure_ascii=False), revealed
    return str(rendered), revealed


def webhook_secrets(plan: ConnectorPlan, secret: str | None) -> list[str]:
    """The values a webhook's output is scrubbed of: the secret and its decoded key's forms."""
    if not secret:
        return []
    signature = plan.webhooks.signature if plan.webhooks is not None else None
    return key_forms(secret, signature.key_encoding) if signature is not None else [secret]


def _decode(kind: str, body: bytes) -> tuple[str, Any]:
    try:
        text = body.decode("utf-8-sig")
        if kind == "form":
            return text, dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        if kind == "xml":
            return text, parse_xml(text)
        return text, json.loads(text)
    # ValueError also covers an integer too long to convert (and DecodeError, bad XML);
    # RecursionError, deep nesting.
    except (ValueError, RecursionError):
        raise WebhookError("unreadable_body", f"the body is not UTF-8 {kind}") from None


def _settings(plan: ConnectorPlan, given: Mapping[str, object] | None) -> dict[str, str]:
    """The non-secret settings among `given`, with the spec's defaults."""
    settings: dict[str, str] = {}
    for credential in plan.credentials:
        if credential.secret:
            continue
        value = (given or {}).get(credential.name, credential.default)
        if value is not None:
            settings[credential.name] = str(value)
    return settings


def _items(webhooks: WebhookPlan, document: Any, headers: Mapping[str, str]) -> list[Any]:
    if webhooks.items is None:
        return [document]
    found = webhooks.items(document, {"item": document, "headers": headers})
    if not isinstance(found, list) or not found:
        raise WebhookError("unreadable_body", "the body holds no events")
    return found


def _verify(
    signature: SignaturePlan,
    key: bytes,
    text: str,
    item: Any,
    headers: Mapping[str, str],
    now: float,
    settings: Mapping[str, str],
    document: Any,
    secret: str | None = None,
    public_key: object | None = None,
) -> None:
    """`document` is what a body timestamp is read from: the event item, or the whole body
    when one signature covers it. `secret` is the caller's secret as given, for a message
    template that contains it (the message is never shown); `public_key`, the processor's
    RSA key of an `rsa` signature (the secret, read)."""
    timestamp: str | None = None
    if signature.header is not None:
        raw = headers.get(signature.header.lower())
        if not raw:
            raise WebhookError("missing_signature", f"no {signature.header} header")
        candidates, timestamp = _parse_header(signature, raw, settings)
    else:
        assert signature.from_item is not None
        found = signature.from_item(item, {"item": item, "headers": headers})
        if not isinstance(found, str) or not found:
            raise WebhookError("missing_signature", "the event carries no signature")
        if signature.pair_separator is None:
            candidates = [found]
        else:  # a structured value in the body (`pub1|sig1&pub2|sig2`)
            candidates, timestamp = _parse_header(signature, found, settings)
    if signature.timestamp_header is not None or signature.timestamp_from is not None:
        timestamp = _declared_timestamp(signature, headers, document)
    if signature.tolerance_seconds is not None:
        stamp = None if timestamp is None else read_timestamp(timestamp, signature.timestamp_format)
        if stamp is None:
            raise WebhookError("missing_signature", "the signature has no timestamp")
        if abs(now - stamp) > signature.tolerance_seconds:
            raise WebhookError(
                "stale_timestamp",
                f"the timestamp is more than {signature.tolerance_seconds}s from now",
            )
    if signature.scheme == "token":
        # A shared token, not a signature: the value must be the secret itself. The body is
        # not covered (the processor signs nothing), so this proves only who sent it.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(key, candidate.encode("utf-8", "replace"))
        if not matched:
            raise WebhookError("bad_signature", "the verification token does not match")
        return
    context = {
        "body": text,
        "item": item,
        "headers": headers,
        "timestamp": timestamp,
        "credentials": settings,
        "secret": secret,
    }
    if signature.scheme == "rsa":
        assert public_key is not None
        message = str(signature.message(context)).encode("utf-8")
        matched = False
        for candidate in candidates:
            matched |= rsa_signature_matches(
                public_key, signature.algorithm, message, candidate, signature.output or "base64"
            )
        if not matched:
            raise WebhookError("bad_signature", "the signature does not match")
        return
    if signature.scheme == "digest":
        # The secret is part of the hashed message (key_encoding utf8: its text, as given).
        context["secret"] = key.decode("utf-8")
        message = str(signature.message(context)).encode("utf-8")
        expected = digest_signature(signature.algorithm, message, signature.output)
    else:
        message = str(signature.message(context)).encode("utf-8")
        expected = hmac_signature(signature.algorithm, key, message, signature.output)
    # Compare against every candidate (no early exit) so timing says nothing of which matched.
    matched = False
    for candidate in candidates:
        matched |= signatures_match(expected, candidate, signature.output)
    if not matched:
        raise WebhookError("bad_signature", "the signature does not match")


def _declared_timestamp(signature: SignaturePlan, headers: Mapping[str, str], document: Any) -> str:
    """The timestamp from the spec's `timestamp` source, as received (the signed text): a
    delivery without it is rejected, since the signed message includes it."""
    if signature.timestamp_header is not None:
        found: Any = headers.get(signature.timestamp_header.lower())
        where = f"no {signature.timestamp_header} header"
    else:
        assert signature.timestamp_from is not None
        found = signature.timestamp_from(document)
        where = "the event carries no timestamp"
    if isinstance(found, bool) or not isinstance(found, str | int) or found == "":
        raise WebhookError("missing_signature", where)
    return str(found)


def _parse_header(
    signature: SignaturePlan, raw: str, settings: Mapping[str, str]
) -> tuple[list[str], str | None]:
    if signature.pair_separator is None:
        value = raw.strip()
        if signature.prefix:
            if not value.lower().startswith(signature.prefix.lower()):
                raise WebhookError("bad_signature", "the signature has an unexpected prefix")
            value = value[len(signature.prefix) :]
        return [value], None
    signatures: list[str] = []
    timestamp = None
    wanted = signature.signature_key({"credentials": settings}) if signature.signature_key else None
    for pair in raw.split(signature.pair_separator):
        name, sep, value = pair.strip().partition(signature.value_separator or "=")
        if not sep:
            continue
        if name == wanted:
            signatures.append(value)
        elif name == signature.timestamp_key:
            timestamp = value
    if not signatures:
        raise WebhookError("missing_signature", "the signature header holds no signature")
    return signatures, timestamp


#: A Unix time above this is in milliseconds (10^11 s is the year 5138).
_MILLISECONDS_FROM = 10**11


def rfc3339(value: Any) -> str | None:
    """A processor's time — Unix seconds or milliseconds (number or digits), or ISO 8601 with
    or without an offset (UTC assumed without) — as RFC 3339 UTC; None when unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            seconds = float(value)
            if seconds >= _MILLISECONDS_FROM:
                seconds /= 1000
            moment = datetime.fromtimestamp(seconds, UTC)
        else:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond // 1000:03d}Z" if moment.microsecond else "Z"
    )


def _event(
    plan: ConnectorPlan,
    webhooks: WebhookPlan,
    item: Any,
    headers: Mapping[str, str],
    *,
    verified: bool,
) -> Event:
    context = bind(webhooks.bindings, {"item": item, "headers": headers})
    connector_type = webhooks.event_type(item, context)
    connector_type = "" if connector_type is None else str(connector_type)
    rule = webhooks.event_map.get(connector_type)
    unified = rule(context) if rule is not None else EventType.UNKNOWN
    fields: dict[str, Any] = {}
    disputed: dict[str, Any] = {}
    for name, extract in webhooks.fields:
        value = extract(item, context)
        value = None if value is None or isinstance(value, Mapping | list) else value
        (disputed if name.startswith("dispute_") else fields)[name] = value
    for name in ("connector_transaction_id", "connector_refund_id", "reference", "currency"):
        if fields.get(name) is not None:
            fields[name] = str(fields[name])
    if fields.get("currency") is not None:
        fields["currency"] = fields["currency"].upper()  # ISO 4217, whatever the processor's case
    if "amount" in fields:
        fields["amount"] = plan.parse_amount(fields["amount"], fields.get("currency"))
    if "occurred_at" in fields:
        fields["occurred_at"] = rfc3339(fields["occurred_at"])
    event_id = webhooks.event_id(item, context) if webhooks.event_id else None
    status = EVENT_STATUS.get(EventType(unified))
    if disputed:  # the dispute's fields, typed as on a result (engine._result_fields)
        dispute = shape(disputed, plan.parse_amount, fields.get("currency")).get("dispute")
        if dispute is not None:
            fields["dispute"] = dispute
    return Event(
        connector=plan.id,
        type=str(unified),
        connector_event_type=connector_type,
        verified=verified,
        status=None if status is None else str(status),
        event_id=None if event_id is None else str(event_id),
        **fields,
    )
