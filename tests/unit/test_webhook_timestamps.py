"""Webhook timestamps from any header or body field (`webhooks.signature.timestamp`), in Unix
seconds, milliseconds or RFC 3339: signed as received, checked against `tolerance_seconds`;
and engine._timestamps, the one reader of timestamps. Signatures are computed here with
hmac/hashlib, independently of the engine."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from engine._errors import SpecError, WebhookError
from engine._plan import ConnectorPlan
from engine._spec import compile_text
from engine._timestamps import TIMESTAMP_FORMATS, read_timestamp
from engine._webhooks import parse_event

from .conftest import WEBHOOK_SECRET, acme_dict, acme_variant

NOW = 1_700_000_000
EVENT = {"id": "evt_1", "type": "payment.captured", "data": {"payment_id": "pay_1"}}


def _hex(message: str) -> str:
    return hmac.new(WEBHOOK_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def _signed_by_header(fmt: str | None, tolerance: int | None = 300) -> ConnectorPlan:
    """Airwallex-style: the signature alone in one header, the timestamp in another."""

    def edit(spec: dict[str, Any]) -> None:
        signature: dict[str, Any] = {
            "header": "x-signature",
            "timestamp": {"header": "X-Timestamp"},
            "message": "{{ timestamp }}{{ body }}",
            "algorithm": "sha256",
            "key_encoding": "utf8",
            "output": "hex",
        }
        if fmt is not None:
            signature["timestamp"]["format"] = fmt
        if tolerance is not None:
            signature["tolerance_seconds"] = tolerance
        spec["webhooks"]["signature"] = signature

    return acme_variant(edit)


def _deliver(plan: ConnectorPlan, stamp: str | None, *, now: float = NOW, sign: str = "") -> int:
    body = json.dumps(EVENT)
    headers = {"x-signature": _hex(f"{sign or stamp}{body}")}
    if stamp is not None:
        headers["x-timestamp"] = stamp
    return len(parse_event(plan, body.encode(), headers, WEBHOOK_SECRET, now=now).events)


def _reason(plan: ConnectorPlan, stamp: str | None, **kw: Any) -> str:
    with pytest.raises(WebhookError) as caught:
        _deliver(plan, stamp, **kw)
    return caught.value.reason


def test_a_millisecond_header_timestamp_is_signed_as_received_and_checked() -> None:
    plan = _signed_by_header("unix_milliseconds")
    assert _deliver(plan, f"{NOW}123") == 1
    assert _deliver(plan, f"{NOW + 299}000") == 1
    assert _reason(plan, f"{NOW + 301}000") == "stale_timestamp"
    assert _reason(plan, f"{NOW - 301}000") == "stale_timestamp"
    # read as seconds, a millisecond stamp would be 50,000 years away: the format matters
    assert _reason(_signed_by_header("unix_seconds"), f"{NOW}123") == "stale_timestamp"


def test_seconds_is_the_default_format() -> None:
    plan = _signed_by_header(None)
    assert _deliver(plan, str(NOW + 10)) == 1
    assert _reason(plan, str(NOW + 400)) == "stale_timestamp"


def test_an_rfc3339_header_timestamp() -> None:
    plan = _signed_by_header("rfc3339")
    assert _deliver(plan, "2023-11-14T22:13:20Z") == 1  # NOW
    assert _deliver(plan, "2023-11-14T23:13:20+01:00") == 1
    assert _reason(plan, "2023-11-14T22:23:20Z") == "stale_timestamp"
    assert _reason(plan, "2023-11-14T22:13:20") == "missing_signature"  # no zone: no instant


def test_the_timestamp_is_signed_so_changing_it_breaks_the_signature() -> None:
    plan = _signed_by_header("unix_milliseconds")
    assert _reason(plan, f"{NOW}001", sign=f"{NOW}000") == "bad_signature"


@pytest.mark.parametrize("stamp", [None, "", "soon", " 1700000000000", "-1700000000000", "1e12"])
def test_a_missing_or_unreadable_timestamp_is_rejected(stamp: str | None) -> None:
    assert _reason(_signed_by_header("unix_milliseconds"), stamp) == "missing_signature"


def test_a_declared_timestamp_is_required_even_without_a_tolerance() -> None:
    plan = _signed_by_header("unix_milliseconds", tolerance=None)
    assert _deliver(plan, f"{NOW - 10**6}000") == 1  # no tolerance: any age
    assert _reason(plan, None) == "missing_signature"  # but it is part of the signed message


def _signed_in_body(path: str, fmt: str) -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "header": "x-signature",
            "timestamp": {"from": path, "format": fmt},
            "message": "{{ body }}",
            "algorithm": "sha256",
            "key_encoding": "utf8",
            "output": "hex",
            "tolerance_seconds": 300,
        }

    return acme_variant(edit)


@pytest.mark.parametrize(
    ("path", "fmt", "value"),
    [
        ("created", "unix_seconds", NOW),
        ("meta.sent_at", "unix_milliseconds", NOW * 1000 + 5),
        ("meta.sent_at", "unix_milliseconds", str(NOW * 1000)),
        ("created_at", "rfc3339", "2023-11-14T22:13:20.250+0000"),
    ],
)
def test_a_body_field_timestamp(path: str, fmt: str, value: Any) -> None:
    plan = _signed_in_body(path, fmt)

    def send(stamp: Any) -> Any:
        event: dict[str, Any] = json.loads(json.dumps(EVENT))
        node = event
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = stamp
        body = json.dumps(event)
        headers = {"x-signature": _hex(body)}
        return parse_event(plan, body.encode(), headers, WEBHOOK_SECRET, now=NOW)

    assert len(send(value).events) == 1
    with pytest.raises(WebhookError) as caught:
        send(None)
    assert caught.value.reason == "missing_signature"
    stale = {"unix_seconds": NOW + 900, "unix_milliseconds": (NOW + 900) * 1000}
    with pytest.raises(WebhookError) as caught:
        send(stale.get(fmt, "2023-11-14T22:28:20Z"))
    assert caught.value.reason == "stale_timestamp"


# --- lint ------------------------------------------------------------------------------------


def _lint_problems(edit: Any) -> str:
    import yaml

    data = acme_dict()
    edit(data["webhooks"]["signature"])
    with pytest.raises(SpecError) as caught:
        compile_text(yaml.safe_dump(data, sort_keys=False))
    return str(caught.value)


def test_a_tolerance_without_a_timestamp_source_is_a_lint_error() -> None:
    def edit(signature: dict[str, Any]) -> None:
        signature["header"] = "x-signature"
        del signature["parse"]

    assert "tolerance_seconds needs a timestamp source" in _lint_problems(edit)


def test_two_timestamp_sources_are_a_lint_error() -> None:
    def edit(signature: dict[str, Any]) -> None:
        signature["timestamp"] = {"header": "x-timestamp"}

    assert "give the timestamp in one place" in _lint_problems(edit)


def test_a_timestamp_source_names_a_header_or_a_field_not_both() -> None:
    def edit(signature: dict[str, Any]) -> None:
        del signature["parse"]["timestamp_key"]
        signature["timestamp"] = {"header": "x-timestamp", "from": "created"}

    assert "give exactly one of 'header' or 'from'" in _lint_problems(edit)

    def neither(signature: dict[str, Any]) -> None:
        del signature["parse"]["timestamp_key"]
        signature["timestamp"] = {"format": "rfc3339"}

    assert "give exactly one of 'header' or 'from'" in _lint_problems(neither)


# --- engine._timestamps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1767225600, "unix_seconds", 1767225600.0),
        ("1767225600", "unix_seconds", 1767225600.0),
        (1767225600123, "unix_milliseconds", 1767225600.123),
        ("1767225600000", "unix_milliseconds", 1767225600.0),
        ("2026-01-01T00:00:00Z", "rfc3339", 1767225600.0),
        ("2026-01-01T00:00:00z", "rfc3339", 1767225600.0),
        ("2026-01-01T01:00:00+01:00", "rfc3339", 1767225600.0),
        ("2025-12-31T19:00:00-0500", "rfc3339", 1767225600.0),
        ("2026-01-01 00:00:00.5+00:00", "rfc3339", 1767225600.5),
        ("2026-01-01T00:00:00.123456789Z", "rfc3339", 1767225600.123456),
    ],
)
def test_timestamps_are_read(value: Any, fmt: str, expected: float) -> None:
    assert read_timestamp(value, fmt) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        (True, "unix_seconds"),
        (-5, "unix_seconds"),
        (1.5, "unix_seconds"),
        ("+12", "unix_seconds"),
        ("1_000", "unix_milliseconds"),
        ("", "unix_milliseconds"),
        (None, "rfc3339"),
        (1767225600, "rfc3339"),
        ("2026-01-01", "rfc3339"),
        ("2026-01-01T00:00:00", "rfc3339"),
        ("2026-13-01T00:00:00Z", "rfc3339"),
        ("2026-01-01T00:00:00+0100x", "rfc3339"),
    ],
)
def test_what_is_no_timestamp_gives_none(value: Any, fmt: str) -> None:
    assert read_timestamp(value, fmt) is None


def test_every_timestamp_format_is_in_the_schema() -> None:
    from pathlib import Path

    schema = json.loads(
        (Path(__file__).parents[2] / "schemas" / "connector-spec.schema.json").read_text()
    )
    assert set(TIMESTAMP_FORMATS) == set(schema["$defs"]["timestamp_format"]["enum"])
    assert all(doc for _, doc in TIMESTAMP_FORMATS.values())
