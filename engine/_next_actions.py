"""A spec's `next_action` extractions → a typed NextAction, or None when the answer lacks what
its kind needs (a redirect without a URL, a QR code without data): an action the customer could
not take is no action."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._unified import NEXT_ACTIONS, NextAction

#: What each kind needs to be an action at all.
NEEDS: Mapping[str, tuple[str, ...]] = {
    "redirect": ("url",),
    "html": ("html",),
    "sdk": ("data",),
    "three_ds_method": ("url",),
    "qr": ("qr_code",),
    "deeplink": ("url",),
    "voucher": ("reference",),
    "wait": ("wait_seconds",),
}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list | bool) or value == "":
        return None
    return str(value)


def next_action_of(read_one: Callable[[str], Any]) -> NextAction | None:
    """The action, reading each member only when needed: its kind, then what the kind needs
    (none there: no action, and nothing else is read — a spec's extractions of the other
    members may assume the action is there), then the rest."""
    kind = _text(read_one("type")) or "redirect"
    if kind not in NEXT_ACTIONS:
        return None
    if any(read_one(need) in (None, "", {}, False) for need in NEEDS[kind]):
        return None
    names = (
        "url",
        "method",
        "data",
        "html",
        "qr_code",
        "reference",
        "barcode",
        "expires_at",
        "wait_seconds",
    )
    read = {name: read_one(name) for name in names}
    data = read.get("data")
    if kind in ("redirect", "three_ds_method"):  # form fields: a mapping of strings
        data = {str(k): str(v) for k, v in data.items()} if isinstance(data, Mapping) else None
    elif kind == "sdk":
        data = dict(data) if isinstance(data, Mapping) else None
    else:
        data = None
    method = str(read.get("method") or "GET").upper()
    wait = read.get("wait_seconds")
    try:
        seconds = int(str(wait)) if wait is not None and not isinstance(wait, bool) else None
    except ValueError:
        seconds = None
    from ._webhooks import rfc3339

    action = NextAction(
        type=kind,
        url=_text(read.get("url")),
        method="POST" if method == "POST" else "GET",
        data=data,
        html=_text(read.get("html")),
        qr_code=_text(read.get("qr_code")),
        reference=_text(read.get("reference")),
        barcode=_text(read.get("barcode")),
        expires_at=rfc3339(read["expires_at"]) if read.get("expires_at") is not None else None,
        wait_seconds=seconds,
    )
    if any(getattr(action, need) in (None, {}) for need in NEEDS[kind]):
        return None
    return action
