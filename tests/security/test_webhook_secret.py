"""The webhook signing secret, and the key it decodes to, never leave `parse_event` or
`Client.handle_event`: not in the events of a correctly signed delivery that quotes them back,
not in a raised error (str, repr, args, chain), not in a repr.

Deliveries are real fixtures of each signing processor, re-signed by the independent signers
of test_webhook_rejections after the payment id in the body was made to carry the secret."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

import engine._webhooks
from engine import Client, ConnectorServiceError, WebhookError, load_connector
from engine._signing import decode_key

from ..connectors.scenarios import credentials_for
from .leaks import exception_texts
from .test_webhook_rejections import CASES, Case, Delivery


def _key_forms(case: Case) -> list[str]:
    signature = load_connector(case.connector).plan.webhooks.signature  # type: ignore[union-attr]
    key = decode_key(case.base.secret, signature.key_encoding)  # type: ignore[union-attr]
    return [case.base.secret, key.hex(), base64.b64encode(key).decode()]


def _quoting(case: Case) -> tuple[Delivery, str] | None:
    """The base delivery with its payment id carrying the secret and its key forms, re-signed;
    and the id as it was. None when the id is not written verbatim in the body."""
    event = case.parse(case.base.delivery).events[0]
    payment = event.connector_transaction_id
    text = case.base.delivery.body.decode()
    if not payment or f'"{payment}"' not in text:
        return None
    quoted = "-".join([payment, *_key_forms(case)])
    body = text.replace(f'"{payment}"', json.dumps(quoted)).encode()
    unsigned = Delivery(body, case.base.delivery.headers)
    return case.signed(unsigned, case.base.secret), payment


QUOTING = [(c, q) for c in CASES if (q := _quoting(c)) is not None]


def test_most_signing_processors_are_covered() -> None:
    assert len(QUOTING) >= 5, [c.connector for c, _ in QUOTING]


def _printed(value: Any) -> str:
    return repr(value) + json.dumps(value.to_dict(), default=str)


@pytest.mark.parametrize(("case", "quoting"), QUOTING, ids=[c.connector for c, _ in QUOTING])
def test_a_signed_delivery_quoting_the_secret_shows_none_of_it(
    case: Case, quoting: tuple[Delivery, str]
) -> None:
    delivery, payment = quoting
    result = case.parse(delivery)
    [event] = [e for e in result.events if e.connector_transaction_id]
    assert event.connector_transaction_id.startswith(payment)  # it verified and was read
    printed = _printed(result)
    for index, form in enumerate(_key_forms(case)):
        assert form not in printed, f"key form #{index} is in the result"


@pytest.mark.parametrize("case", CASES, ids=[c.connector for c in CASES])
def test_an_error_quoting_the_secret_is_scrubbed(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    forms = _key_forms(case)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise WebhookError("unreadable_body", "could not read " + " ".join(forms))

    monkeypatch.setattr(engine._webhooks, "_items", refuse)
    with pytest.raises(WebhookError) as caught:
        case.parse(case.base.delivery)
    _assert_clean(caught.value, forms)


def _assert_clean(exc: BaseException, forms: list[str]) -> None:
    texts = [text for _, text in exception_texts(exc)] + [repr(v) for v in vars(exc).values()]
    for index, form in enumerate(forms):
        assert not any(form in text for text in texts), f"key form #{index} is in the error"
    assert exc.__context__ is None and exc.__cause__ is None


@pytest.mark.parametrize("case", CASES, ids=[c.connector for c in CASES])
def test_an_error_quoting_the_secret_is_scrubbed_through_the_client(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    forms = _key_forms(case)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise WebhookError("unreadable_body", "could not read " + " ".join(forms))

    monkeypatch.setattr(engine._webhooks, "_items", refuse)
    client = Client(
        case.connector,
        credentials_for(case.connector),
        http_client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
    )
    with pytest.raises(WebhookError) as caught:
        client.handle_event(case.base.delivery.body, case.base.delivery.headers, case.base.secret)
    _assert_clean(caught.value, forms)


def test_a_foreign_exception_inside_parse_event_names_only_its_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[0]
    forms = _key_forms(case)

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise KeyError(" ".join(forms))

    monkeypatch.setattr(engine._webhooks, "_items", explode)
    with pytest.raises(ConnectorServiceError) as caught:
        case.parse(case.base.delivery)
    assert "KeyError" in str(caught.value)
    _assert_clean(caught.value, forms)
