"""Two webhook-signature primitives for schemes like Rapyd's: the `hex_base64` output (base64
of the lower-case hex text of the HMAC) and `secret` in the signed-message template (a scheme
whose signed text contains the key itself). Signatures are computed here with
hmac/hashlib/base64, independently of the engine."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from engine._errors import WebhookError
from engine._plan import ConnectorPlan
from engine._webhooks import parse_event

from .conftest import WEBHOOK_SECRET, acme_variant

EVENT = {"id": "evt_1", "type": "payment.captured", "data": {"payment_id": "pay_1"}}
BODY = json.dumps(EVENT, separators=(",", ":"))


def _plan(message: str, output: str) -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["webhooks"]["signature"] = {
            "header": "signature",
            "message": message,
            "algorithm": "sha256",
            "key_encoding": "utf8",
            "output": output,
        }

    return acme_variant(edit)


def _hex_base64(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def _reason(plan: ConnectorPlan, signature: str) -> str:
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, BODY.encode(), {"salt": "abc", "signature": signature}, WEBHOOK_SECRET)
    return caught.value.reason


def test_hex_base64_is_base64_of_the_hex_text() -> None:
    plan = _plan("{{ body }}", "hex_base64")
    good = _hex_base64(WEBHOOK_SECRET, BODY)
    assert len(parse_event(plan, BODY.encode(), {"signature": good}, WEBHOOK_SECRET).events) == 1
    raw = base64.b64encode(
        hmac.new(WEBHOOK_SECRET.encode(), BODY.encode(), hashlib.sha256).digest()
    ).decode()
    assert _reason(plan, raw) == "bad_signature"  # base64 of the digest is another scheme
    upper = base64.b64encode(base64.b64decode(good).upper()).decode()
    assert _reason(plan, upper) == "bad_signature"  # the hex text is lower case


def test_the_message_may_contain_the_secret_itself() -> None:
    plan = _plan("{{ headers.salt }}{{ secret }}{{ body }}", "hex_base64")
    good = _hex_base64(WEBHOOK_SECRET, f"abc{WEBHOOK_SECRET}{BODY}")
    headers = {"salt": "abc", "signature": good}
    result = parse_event(plan, BODY.encode(), headers, WEBHOOK_SECRET)
    assert len(result.events) == 1
    assert WEBHOOK_SECRET not in repr(result)
    # another secret changes the key and the message both
    assert _reason(plan, _hex_base64(WEBHOOK_SECRET, f"abc{BODY}")) == "bad_signature"
    with pytest.raises(WebhookError) as caught:
        parse_event(plan, BODY.encode(), headers, WEBHOOK_SECRET + "x")
    assert caught.value.reason == "bad_signature"
    assert WEBHOOK_SECRET not in str(caught.value)
