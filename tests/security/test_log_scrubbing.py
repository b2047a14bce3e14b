"""With DEBUG logging on for `httpx`, `httpcore` and the engine, no record emitted during a call
carries a secret: not the credential values (nor their base64 or case variants), not the auth
header values as sent (Bearer token, Basic base64 of id:secret, API key), not the access
token, not the card number — even when the processor echoes the request's auth headers back as
response headers (which httpcore logs) and its body into the error message.

The calls go to a real local server, so httpcore's connection and HTTP/1.1 loggers speak."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging
from typing import Any

import pytest

from engine import AsyncClient, Client, ConnectorServiceError
from engine._log_scrub import FILTER, LOGGERS, install

from ..connectors.scenarios import Scenario, credentials_for, flow_scenarios
from ..connectors.test_scenarios import ACCESS_TOKEN, CLOCK
from .echo import ECHOED, Answer, echo_server
from .leaks import card_of, secret_credentials

#: One per kind of auth: bearer, Basic, an API-key header, credentials in the body, OAuth2.
CONNECTORS = ("stripe", "worldpay", "adyen", "authorize_net", "paypal")
_ALL = flow_scenarios()


@functools.cache
def _card_authorize(connector: str) -> Scenario:
    for scenario in _ALL:
        data = scenario.data
        if (
            scenario.connector == connector
            and data["flow"] == "authorize"
            and "responses" not in data
            and card_of(data["request"]).get("number")
        ):
            return scenario
    raise AssertionError(f"{connector} has no card authorize scenario")


def _watched(connector: str, request: dict[str, Any], sent: list[dict[str, str]]) -> list[str]:
    values = [ACCESS_TOKEN.token.reveal(), str(card_of(request)["number"])]
    for secret in secret_credentials(connector).values():
        values += [
            secret,
            secret.upper(),
            secret.lower(),
            base64.b64encode(secret.encode()).decode(),
        ]
    for headers in sent:
        for name, value in headers.items():
            if name.lower() in ECHOED:
                values.append(value)
                values += [part for part in value.split(" ")[1:] if len(part) >= 8]
    return values


def _texts(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        texts += [record.getMessage(), repr(record.args)]
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            texts.append(record.exc_text)
    return texts


def _assert_clean(records: list[logging.LogRecord], watched: list[str]) -> None:
    names = {r.name for r in records}
    assert "httpx" in names and any(n.startswith("httpcore.") for n in names), names
    texts = _texts(records)
    leaked = [i for i, value in enumerate(watched) if any(value in text for text in texts)]
    assert not leaked, f"watched values #{leaked} are in a log record"


@pytest.fixture
def debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("httpx", "httpcore", "engine"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _request(scenario: Scenario) -> dict[str, Any]:
    return dict(scenario.data["request"])


@pytest.mark.parametrize("connector", CONNECTORS)
def test_sync_debug_logs_carry_no_secret(connector: str, debug: pytest.LogCaptureFixture) -> None:
    scenario = _card_authorize(connector)
    error = {"error": {"message": "", "code": "invalid_api_key", "type": "invalid_request"}}
    with echo_server(Answer(401, error)) as server:
        client = Client(
            connector,
            credentials_for(connector),
            base_url=server.url,
            allow_undeclared_host=True,
            clock=lambda: CLOCK,
            access_token=ACCESS_TOKEN,
        )
        with client, contextlib.suppress(ConnectorServiceError):  # a refused OAuth2 token
            client.call("authorize", _request(scenario))
        sent = [headers for headers, _ in server.seen.requests]
    assert sent, "the processor was not reached"
    _assert_clean(debug.records, _watched(connector, _request(scenario), sent))


@pytest.mark.parametrize("connector", CONNECTORS)
def test_async_debug_logs_carry_no_secret(connector: str, debug: pytest.LogCaptureFixture) -> None:
    scenario = _card_authorize(connector)
    error = {"error": {"message": "", "code": "invalid_api_key", "type": "invalid_request"}}

    async def run(url: str) -> None:
        async with AsyncClient(
            connector,
            credentials_for(connector),
            base_url=url,
            allow_undeclared_host=True,
            clock=lambda: CLOCK,
            access_token=ACCESS_TOKEN,
        ) as client:
            with contextlib.suppress(ConnectorServiceError):  # a refused OAuth2 token
                await client.call("authorize", _request(scenario))

    with echo_server(Answer(401, error)) as server:
        asyncio.run(run(server.url))
        sent = [headers for headers, _ in server.seen.requests]
    assert sent, "the processor was not reached"
    _assert_clean(debug.records, _watched(connector, _request(scenario), sent))


def test_the_filter_is_installed_once_on_every_library_logger() -> None:
    install()
    install()
    for name in LOGGERS:
        assert logging.getLogger(name).filters.count(FILTER) == 1, name


def test_records_outside_an_engine_call_pass_unchanged(debug: pytest.LogCaptureFixture) -> None:
    install()
    logging.getLogger("httpx").debug("caller's own line %s", "4242424242424242")
    [record] = [r for r in debug.records if r.name == "httpx"]
    assert record.getMessage() == "caller's own line 4242424242424242"
