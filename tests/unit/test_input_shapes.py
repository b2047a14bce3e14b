"""Requests and credentials of the wrong shape (keys that are not strings, credential values
that are not strings, a list where a mapping belongs) raise InputError / CredentialsError naming
where, never a TypeError or a value, and nothing is sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import AsyncClient, Client, Credentials, CredentialsError, InputError, load_connector
from engine._connector import Connector
from engine._plan import ConnectorPlan
from engine.cli import main

from .conftest import API_KEY, card_request


def _with(path: tuple[str, ...], key: Any) -> dict[str, Any]:
    """card_request() with `key: "x"` added to the object at `path`."""
    request = card_request(metadata={"order": "1"})
    target: Any = request
    for part in path:
        target = target[part]
    target[key] = "x"
    return request


#: (where the bad key goes, the key, the pointer and position InputError names).
BAD_KEYS = [
    ((), 1, "/", "key #5 is an int"),
    ((), None, "/", "key #5 is None"),
    (("metadata",), (1, 2), "/metadata", "key #2 is a tuple"),
    (("metadata",), 3.5, "/metadata", "key #2 is a float"),
    (("payment_method",), b"type", "/payment_method", "key #3 is a bytes"),
    (("payment_method", "card"), 0, "/payment_method/card", "key #5 is an int"),
]


def _nothing_sent() -> tuple[httpx.Client, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    return httpx.Client(transport=httpx.MockTransport(handler)), sent


@pytest.mark.parametrize(("path", "key", "pointer", "message"), BAD_KEYS)
def test_a_request_key_that_is_not_a_string_is_an_input_error(
    acme: ConnectorPlan, path: tuple[str, ...], key: Any, pointer: str, message: str
) -> None:
    request = _with(path, key)
    with pytest.raises(InputError) as raised:
        Connector(acme).build_request("authorize", request, {"api_key": API_KEY})
    assert (raised.value.pointer, raised.value.message) == (pointer, f"{message}, not a string")
    http, sent = _nothing_sent()
    with (
        Client(Connector(acme), {"api_key": API_KEY}, http_client=http) as client,
        pytest.raises(InputError) as raised,
    ):
        client.authorize(request)
    assert raised.value.pointer == pointer and sent == []


def test_a_bad_key_inside_a_list_is_named_by_its_index(acme: ConnectorPlan) -> None:
    request = card_request(extra=[{"ok": 1}, {2: "x"}])
    with pytest.raises(InputError) as raised:
        Connector(acme).build_request("authorize", request, {"api_key": API_KEY})
    assert raised.value.pointer == "/extra/1"


def test_a_request_that_contains_itself_does_not_hang_the_key_check(acme: ConnectorPlan) -> None:
    from engine._requests import check_keys

    request: dict[Any, Any] = card_request()
    request["metadata"] = {"self": request}
    check_keys(request)  # returns: each object is visited once
    request["metadata"][7] = "x"
    with pytest.raises(InputError, match="key #2 is an int"):
        check_keys(request)


def test_the_async_client_refuses_a_bad_key_too(acme: ConnectorPlan) -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))

    async def run() -> None:
        async with AsyncClient(
            Connector(acme),
            {"api_key": API_KEY},
            http_client=httpx.AsyncClient(transport=transport),
        ) as client:
            await client.authorize(_with(("metadata",), (1,)))

    with pytest.raises(InputError, match="key #2 is a tuple"):
        asyncio.run(run())
    assert sent == []


#: credentials → the message CredentialsError gives (the value never appears in it).
BAD_CREDENTIALS: list[tuple[Any, str]] = [
    ({"api_key": API_KEY, 1: "x"}, "credential key #2 is an int, not a string"),
    ({None: API_KEY}, "credential key #1 is None, not a string"),
    ({("api", "key"): API_KEY}, "credential key #1 is a tuple, not a string"),
    ({"api_key": API_KEY.encode()}, "credential 'api_key' must be a string, not a bytes"),
    ({"api_key": 12345}, "credential 'api_key' must be a string, not an int"),
    ({"api_key": True}, "credential 'api_key' must be a string, not a bool"),
    ({"api_key": [API_KEY]}, "credential 'api_key' must be a string, not a list"),
    ({"api_key": API_KEY, "region": 7}, "credential 'region' must be a string, not an int"),
    ([("api_key", API_KEY)], "credentials must be a mapping of names to strings, not a list"),
    (API_KEY, "credentials must be a mapping of names to strings, not a str"),
]


@pytest.mark.parametrize(("credentials", "message"), BAD_CREDENTIALS)
def test_credentials_of_the_wrong_shape_are_a_credentials_error(
    acme: ConnectorPlan, credentials: Any, message: str
) -> None:
    connector = Connector(acme)
    with pytest.raises(CredentialsError) as raised:
        connector.build_request("authorize", card_request(), credentials)
    assert str(raised.value) == f"acme: {message}"
    http, sent = _nothing_sent()
    with pytest.raises(CredentialsError) as raised:
        Client(connector, credentials, http_client=http)  # refused before any call
    assert str(raised.value) == f"acme: {message}"
    assert sent == []
    assert API_KEY not in str(raised.value) and "Zq8v" not in repr(raised.value.args)


def test_a_token_request_checks_the_credentials_shape() -> None:
    paypal = load_connector("paypal")
    with pytest.raises(CredentialsError, match="'client_secret' must be a string, not a bytes"):
        paypal.build_token_request({"client_id": "AZ-client", "client_secret": b"EL-secret"})
    with pytest.raises(CredentialsError, match="credential key #1 is an int"):
        paypal.build_token_request({0: "AZ-client"})


def test_credentials_built_directly_check_their_shape() -> None:
    with pytest.raises(CredentialsError, match="'api_key' must be a string, not a bytes"):
        Credentials({"api_key": b"sk"})
    with pytest.raises(CredentialsError, match="key #1 is an int"):
        Credentials({1: "sk"})  # type: ignore[dict-item]
    with pytest.raises(CredentialsError, match="'region' must be a string, not an int"):
        Credentials({"api_key": "sk"}, region=3)


def test_none_means_not_given(acme: ConnectorPlan) -> None:
    connector = Connector(acme)
    with pytest.raises(CredentialsError, match="credential 'api_key' is required"):
        connector.build_request("authorize", card_request(), {"api_key": None})
    built = connector.build_request(
        "authorize", card_request(), {"api_key": API_KEY, "region": None}
    )
    assert built.url.startswith("https://eu-sandbox.acme-pay.com/")  # the default region


def _cli_files(tmp_path: Path, request: Any, credentials: Any) -> tuple[str, str]:
    (tmp_path / "request.json").write_text(json.dumps(request))
    (tmp_path / "credentials.json").write_text(json.dumps(credentials))
    return str(tmp_path / "request.json"), str(tmp_path / "credentials.json")


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"api_key": 4242}, "credential 'api_key' must be a string, not an int"),
        ({"api_key": None, "x": 1}, "credential 'x' must be a string, not an int"),
        (["sk_test_cli"], "credentials must be a mapping of names to strings, not a list"),
    ],
)
def test_cli_json_credentials_of_the_wrong_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], credentials: Any, message: str
) -> None:
    request, creds = _cli_files(tmp_path, card_request(), credentials)
    for command in ("render", "call"):
        code = main([command, "stripe", "authorize", request, "--credentials", creds])
        assert code == 2
        assert f"CredentialsError: stripe: {message}" in capsys.readouterr().err


def test_cli_json_request_that_is_not_an_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request, _ = _cli_files(tmp_path, [card_request()], {})
    assert main(["render", "stripe", "authorize", request]) == 2
    assert "InputError: /: the request must be a JSON object" in capsys.readouterr().err
