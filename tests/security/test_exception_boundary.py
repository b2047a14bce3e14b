"""The public-call boundary: an engine exception leaving a public call carries no secret or
card number in its message, attributes or `__context__`/`__cause__` chain, and no foreign
exception leaves at all (it becomes a ConnectorServiceError naming only its class)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import engine._build
from engine import (
    AsyncClient,
    Client,
    ConnectorServiceError,
    InputError,
    load_connector,
)
from engine.cli import main

from ..connectors.scenarios import credentials_for
from .leaks import exception_texts

BAD_CARD = "4111-1111-1111-1111"  # not digits only: refused by the schema before sending
SECRET = credentials_for("stripe")["api_key"]


def _request(number: str = BAD_CARD) -> dict[str, Any]:
    return {
        "amount": 1099,
        "currency": "USD",
        "reference": "order-1",
        "payment_method": {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        },
    }


def _chain(exc: BaseException) -> list[BaseException]:
    found = []
    seen: BaseException | None = exc
    while seen is not None and len(found) < 10:
        found.append(seen)
        seen = seen.__cause__ or seen.__context__
    return found


def _assert_clean(exc: BaseException, *values: str) -> None:
    texts = [text for _, text in exception_texts(exc)]
    for link in _chain(exc):
        texts += [repr(v) for v in vars(link).values()]
        texts += [str(n) for n in getattr(link, "__notes__", [])]
    for value in values:
        assert not any(value in text for text in texts), "a watched value is in the exception"
    assert exc.__context__ is None and exc.__cause__ is None


def _never(request: httpx.Request) -> httpx.Response:
    raise AssertionError("nothing may be sent")


def test_connector_build_input_error_keeps_no_card_number() -> None:
    stripe = load_connector("stripe")
    with pytest.raises(InputError) as caught:
        stripe.build_request("authorize", _request(), credentials_for("stripe"))
    _assert_clean(caught.value, BAD_CARD)


def test_client_input_error_keeps_no_card_number() -> None:
    client = Client(
        "stripe",
        credentials_for("stripe"),
        http_client=httpx.Client(transport=httpx.MockTransport(_never)),
    )
    with pytest.raises(InputError) as caught:
        client.authorize(_request())
    _assert_clean(caught.value, BAD_CARD)


def test_async_client_input_error_keeps_no_card_number() -> None:
    async def run() -> BaseException:
        client = AsyncClient(
            "stripe",
            credentials_for("stripe"),
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(_never)),
        )
        try:
            await client.authorize(_request())
        except InputError as exc:
            return exc
        raise AssertionError("no InputError")

    _assert_clean(asyncio.run(run()), BAD_CARD)


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise KeyError(f"internal state {SECRET} {BAD_CARD}")


def test_a_foreign_exception_before_sending_becomes_an_engine_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine._build, "resolve_credentials", _explode)
    client = Client(
        "stripe",
        credentials_for("stripe"),
        http_client=httpx.Client(transport=httpx.MockTransport(_never)),
    )
    with pytest.raises(ConnectorServiceError) as caught:
        client.authorize(_request("4242424242424242"))
    assert "KeyError" in str(caught.value)
    _assert_clean(caught.value, SECRET, BAD_CARD)


def test_an_engine_exception_message_naming_a_secret_is_scrubbed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise InputError("/x", f"not {SECRET} nor 4242424242424242")

    monkeypatch.setattr(engine._build, "resolve_credentials", refuse)
    stripe = load_connector("stripe")
    with pytest.raises(InputError) as caught:
        stripe.build_request("authorize", _request("4242424242424242"), credentials_for("stripe"))
    _assert_clean(caught.value, SECRET, "4242424242424242")


def test_cli_reports_a_foreign_exception_by_class_only(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    import json

    monkeypatch.setattr(engine._build, "resolve_credentials", _explode)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(_request("4242424242424242")), encoding="utf-8")
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps(credentials_for("stripe")), encoding="utf-8")
    code = main(["render", "stripe", "authorize", str(request), "--credentials", str(credentials)])
    out = capsys.readouterr()
    assert code != 0
    assert "KeyError" in out.err
    assert SECRET not in out.out + out.err and BAD_CARD not in out.out + out.err


def test_a_signing_secret_of_the_wrong_encoding_is_a_credentials_error() -> None:
    from engine import CredentialsError

    credentials = {**credentials_for("cybersource"), "shared_secret": "abcdefghijk"}  # not base64
    connector = load_connector("cybersource")
    with pytest.raises(CredentialsError) as caught:
        connector.build_request("authorize", _request("4242424242424242"), credentials)
    assert "signing secret" in str(caught.value)
    _assert_clean(caught.value, "abcdefghijk")
