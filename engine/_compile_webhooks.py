"""A spec's `webhooks` compiled: the signature check, the events read from a delivery, and
the acknowledgement (engine._webhooks runs them). Functions of the spec's Compiler."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._clock import reads_clock
from ._load import escape_pointer_token
from ._plan import AcknowledgePlan, SignaturePlan, WebhookPlan
from ._renders import _constant, settings_read

if TYPE_CHECKING:
    from ._compile import Compiler


def webhook_plan(compiler: Compiler, raw: Mapping[str, Any]) -> WebhookPlan:
    """`webhooks`: the signature check, how events are read, the acknowledgement."""
    base = "/webhooks"
    item_roots = compiler.roots("webhook_item")
    event = raw["event"]
    item_roots = dict(item_roots)
    bindings = compiler.bindings([(event.get("let"), f"{base}/event/let")], item_roots)
    return WebhookPlan(
        signature=_signature(compiler, raw["signature"]) if "signature" in raw else None,
        decode=raw.get("decode", "json"),
        confirm_flow=raw["confirm"]["flow"] if "confirm" in raw else None,
        items=(
            compiler.extract(raw["items"], f"{base}/items", item_roots) if "items" in raw else None
        ),
        event_type=compiler.extract(event["type"], f"{base}/event/type", item_roots),
        event_id=compiler.extract(event["id"], f"{base}/event/id", item_roots)
        if "id" in event
        else None,
        event_map={
            str(k): compiler.rule(v, f"{base}/event/map/{escape_pointer_token(k)}", item_roots)
            for k, v in event["map"].items()
        },
        fields=tuple(
            (name, compiler.extract(expr, f"{base}/event/fields/{name}", item_roots))
            for name, expr in event.get("fields", {}).items()
        ),
        acknowledge=_acknowledge(compiler, raw["acknowledge"]) if "acknowledge" in raw else None,
        bindings=bindings,
    )


def _acknowledge(compiler: Compiler, raw: Mapping[str, Any]) -> AcknowledgePlan:
    """`webhooks.acknowledge`: a fixed answer, or `let` + `body` templates rendered per
    delivery in the `acknowledgement` context (they may read secret credentials)."""
    base = "/webhooks/acknowledge"
    roots = dict(compiler.roots("acknowledgement"))
    bindings = compiler.bindings([(raw.get("let"), f"{base}/let")], roots)
    body = compiler.value(raw.get("body", ""), f"{base}/body", roots)
    text = repr({k: raw[k] for k in ("let", "body") if k in raw})
    read = tuple(
        name
        for name in compiler.credential_names
        if re.search(r"credentials\s*(?:\.\s*|\[\s*['\"])" + re.escape(name) + r"\b", text)
    )
    return AcknowledgePlan(
        status=int(raw.get("status", 200)),
        content_type=str(raw.get("content_type", "text/plain")),
        body=body,
        bindings=bindings,
        credentials=read,
        clock=reads_clock({k: raw[k] for k in ("let", "body") if k in raw}),
    )


def _signature(compiler: Compiler, signature: Mapping[str, Any]) -> SignaturePlan:
    base = "/webhooks/signature"
    item_roots = compiler.roots("webhook_item")
    parse = signature.get("parse", {})
    message_roots = compiler.roots("signed_message")
    message = (
        compiler.template(signature["message"], f"{base}/message", message_roots)
        if "message" in signature
        else None
    )
    scheme = str(signature.get("scheme", "hmac"))
    reads_secret = message is not None and any(path.root == "secret" for path in message.paths)
    if scheme == "digest" and message is not None and not reads_secret:
        # A hash of fields anyone can read is no signature: anyone could compute it.
        compiler.problem(f"{base}/message", "a digest signature's message must read `secret`")
    if scheme == "digest" and signature.get("key_encoding", "utf8") != "utf8":
        compiler.problem(
            f"{base}/key_encoding", "a digest signature takes the secret as text: utf8"
        )
    if scheme == "rsa" and signature.get("key_encoding", "utf8") != "utf8":
        compiler.problem(
            f"{base}/key_encoding", "an RSA signature takes the public key as PEM text: utf8"
        )
    if scheme == "rsa" and signature.get("output") not in (None, "base64", "hex"):
        compiler.problem(f"{base}/output", "an RSA signature is written base64 or hex")
    stamp = signature.get("timestamp", {})
    return SignaturePlan(
        header=signature.get("header"),
        from_item=compiler.extract(signature["from"], f"{base}/from", item_roots)
        if "from" in signature
        else None,
        pair_separator=parse.get("pair_separator"),
        value_separator=parse.get("value_separator"),
        signature_key=compiler.value(
            parse["signature_key"],
            f"{base}/parse/signature_key",
            compiler.roots("signature_key"),
        )
        if "signature_key" in parse
        else None,
        timestamp_key=parse.get("timestamp_key"),
        prefix=signature.get("prefix", ""),
        message=message.render if message else _constant(""),
        # A token scheme has none of these: the secret is compared as it is (utf8).
        algorithm=signature.get("algorithm", ""),
        key_encoding=signature.get("key_encoding", "utf8"),
        output=signature.get("output", ""),
        tolerance_seconds=signature.get("tolerance_seconds"),
        settings=settings_read(signature.get("message"), parse.get("signature_key")),
        timestamp_header=stamp.get("header"),
        timestamp_from=compiler.search(stamp["from"], f"{base}/timestamp/from")
        if "from" in stamp
        else None,
        timestamp_format=str(stamp.get("format", "unix_seconds")),
        scheme=scheme,
    )
