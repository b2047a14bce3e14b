"""Tenant isolation: a token belongs to exactly the credentials, environment and host that fetched
it; concurrent calls share one token request; tokens and credentials never show through asdict,
pickle, copy, repr or a traceback's frame locals; a bad character in a credential names the
field, never the value."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import dataclasses
import pickle
import threading
import time
import traceback
from typing import Any

import httpx
import pytest

from engine import AsyncClient, Client, Connector, CredentialsError, InputError, NotSentError
from engine._credentials import Credentials, Secret
from engine._tokens import AccessToken, MemoryTokenCache

from .conftest import acme_variant, card_request
from .test_oauth_and_steps import _oauth_steps

VICTIM = {"client_id": "cid_shared_public", "client_secret": "victim_secret_1"}
ATTACKER = {"client_id": "cid_shared_public", "client_secret": "wrong_secret_2"}
TOKEN = "tok_victim_SECRET_VALUE"


class TokenEndpoint:
    """Issues a distinct token per client secret; pays only with a token it issued."""

    def __init__(self, *, token_status: int = 200, delay: float = 0.0) -> None:
        self.delay = delay  # a slow token endpoint: concurrent calls overlap while it answers
        self.token_requests: list[httpx.Request] = []
        self.issued: dict[str, str] = {}  # token → the secret it was issued for
        self.token_status = token_status
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth2/token":
            pair = base64.b64decode(request.headers["authorization"].split()[1]).decode()
            time.sleep(self.delay)
            with self.lock:
                self.token_requests.append(request)
                token = f"{TOKEN}{len(self.token_requests)}"
                self.issued[token] = pair.split(":", 1)[1]
            if self.token_status != 200:
                return httpx.Response(self.token_status, text="upstream trouble")
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        if request.url.path == "/v1/orders":
            return httpx.Response(200, json={"id": "ord_1"})
        bearer = request.headers["authorization"].removeprefix("Bearer ")
        assert bearer in self.issued
        return httpx.Response(
            200, json={"id": "pay_1", "status": "approved", "amount": 1099, "currency": "USD"}
        )


def _connector() -> Connector:
    return Connector(acme_variant(_oauth_steps))


def _client(
    endpoint: TokenEndpoint, cache: MemoryTokenCache, creds: dict[str, str], **kwargs: Any
) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(endpoint))
    return Client(_connector(), creds, http_client=http, token_cache=cache, **kwargs)


def test_a_wrong_secret_is_never_served_the_victims_token() -> None:
    endpoint, cache = TokenEndpoint(), MemoryTokenCache()
    victim = _client(endpoint, cache, VICTIM).authorize(card_request())
    attacker = _client(endpoint, cache, ATTACKER).authorize(card_request())
    assert len(endpoint.token_requests) == 2
    assert victim.access_token is not None and attacker.access_token is not None
    assert victim.access_token.token != attacker.access_token.token
    assert endpoint.issued[attacker.access_token.token.reveal()] == ATTACKER["client_secret"]


def test_a_token_bound_to_other_credentials_is_not_passed_through() -> None:
    endpoint, cache = TokenEndpoint(), MemoryTokenCache()
    stolen = _client(endpoint, cache, VICTIM).authorize(card_request()).access_token
    result = _client(endpoint, MemoryTokenCache(), ATTACKER, access_token=stolen).authorize(
        card_request()
    )
    assert len(endpoint.token_requests) == 2  # the attacker's own token was fetched
    assert result.access_token is not None and result.access_token.token != stolen.token  # type: ignore[union-attr]


def test_environment_and_host_separate_tokens() -> None:
    endpoint, cache = TokenEndpoint(), MemoryTokenCache()
    _client(endpoint, cache, VICTIM).authorize(card_request())
    _client(endpoint, cache, VICTIM, environment="production").authorize(card_request())
    _client(
        endpoint, cache, VICTIM, base_url="https://other.example", allow_undeclared_host=True
    ).authorize(card_request())
    _client(endpoint, cache, VICTIM).authorize(card_request())  # cached
    hosts = [r.url.host for r in endpoint.token_requests]
    assert hosts == ["api.sandbox.acme-pay.com", "api.acme-pay.com", "other.example"]


def test_the_cache_key_holds_no_credential_and_is_stable() -> None:
    endpoint = TokenEndpoint()
    key = _client(endpoint, MemoryTokenCache(), VICTIM)._token_key()
    assert key == _client(endpoint, MemoryTokenCache(), dict(VICTIM))._token_key()
    assert all(value not in key for value in VICTIM.values())
    assert key != _client(endpoint, MemoryTokenCache(), ATTACKER)._token_key()


def test_thirty_threads_make_one_token_request() -> None:
    endpoint, cache = TokenEndpoint(delay=0.05), MemoryTokenCache()
    barrier = threading.Barrier(30)
    results: list[str] = []

    def pay() -> None:
        client = _client(endpoint, cache, VICTIM)
        barrier.wait()
        results.append(client.authorize(card_request()).status)

    threads = [threading.Thread(target=pay) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["captured"] * 30
    assert len(endpoint.token_requests) == 1


def test_thirty_tasks_make_one_token_request() -> None:
    endpoint, cache = TokenEndpoint(), MemoryTokenCache()

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # let the other tasks reach the token
        return endpoint(request)

    async def main() -> list[str]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        clients = [
            AsyncClient(_connector(), VICTIM, http_client=http, token_cache=cache)
            for _ in range(30)
        ]
        results = await asyncio.gather(*(c.authorize(card_request()) for c in clients))
        await http.aclose()
        return [r.status for r in results]

    assert asyncio.run(main()) == ["captured"] * 30
    assert len(endpoint.token_requests) == 1


def _views(thing: object) -> list[str]:
    shown = [repr(thing), str(thing), repr(copy.copy(thing)), repr(copy.deepcopy(thing))]
    if dataclasses.is_dataclass(thing) and not isinstance(thing, type):
        shown.append(repr(dataclasses.asdict(thing)))
    with contextlib.suppress(TypeError):  # refused: nothing leaves
        shown.append(repr(pickle.dumps(thing)))
    return shown


def test_results_tokens_and_credentials_never_show_the_token() -> None:
    result = _client(TokenEndpoint(), MemoryTokenCache(), VICTIM).authorize(card_request())
    assert result.access_token is not None
    raw = result.access_token.token.reveal()
    held = Credentials.for_plan(_connector().plan, VICTIM)
    for thing in (result, result.access_token, held, Secret(raw)):
        for text in _views(thing):
            assert raw not in text and VICTIM["client_secret"] not in text
    assert dataclasses.asdict(result)["access_token"]["token"] is result.access_token.token


def _locals_of(exc: BaseException) -> str:
    """What a Sentry-style capture shows of the engine's frames (the test's own are skipped)."""
    shown = traceback.TracebackException.from_exception(exc, capture_locals=True)
    frames = [f for f in shown.stack if "/engine/" in f.filename]
    assert frames, "the exception carries no engine frame: the check would pass vacuously"
    return "".join(repr(f.locals) for f in frames)


def test_frame_locals_never_show_a_secret_or_token() -> None:
    secret = VICTIM["client_secret"]
    # NotSentError from a token endpoint failure
    with pytest.raises(NotSentError) as caught:
        _client(TokenEndpoint(token_status=502), MemoryTokenCache(), VICTIM).authorize(
            card_request()
        )
    assert secret not in _locals_of(caught.value) and TOKEN not in _locals_of(caught.value)
    # InputError on a Client that already holds a token
    client = _client(TokenEndpoint(), MemoryTokenCache(), VICTIM)
    client.authorize(card_request())
    with pytest.raises(InputError) as refused:
        client.authorize({**card_request(), "amount": "lots"})
    assert secret not in _locals_of(refused.value) and TOKEN not in _locals_of(refused.value)

    # CredentialsError from a bad pattern: the secret given alongside stays hidden
    def patterned(spec: dict[str, Any]) -> None:
        _oauth_steps(spec)
        spec["credentials"]["client_id"]["pattern"] = "^cid_[a-z_]+$"

    http = httpx.Client(transport=httpx.MockTransport(TokenEndpoint()))
    bad = Client(
        Connector(acme_variant(patterned)),
        {"client_id": "NOT-VALID", "client_secret": secret},
        http_client=http,
        token_cache=MemoryTokenCache(),
    )
    with pytest.raises(CredentialsError) as wrong:
        bad.authorize(card_request())
    assert secret not in _locals_of(wrong.value)


@pytest.mark.parametrize("bad", ["s\u00e9cret_value", "secret\x00value", "secret\r\nX: y", "\x7f"])
def test_a_bad_character_in_a_secret_names_the_field_not_the_value(bad: str) -> None:
    client = _client(TokenEndpoint(), MemoryTokenCache(), {**VICTIM, "client_secret": bad})
    with pytest.raises(CredentialsError) as caught:
        client.authorize(card_request())
    assert "'client_secret'" in str(caught.value)
    assert bad not in str(caught.value) and bad not in repr(caught.value)
    assert bad not in _locals_of(caught.value)


def test_a_control_character_in_a_setting_names_the_field() -> None:
    client = _client(TokenEndpoint(), MemoryTokenCache(), {**VICTIM, "client_id": "cid\tx"})
    with pytest.raises(CredentialsError, match="'client_id' holds a control character"):
        client.authorize(card_request())


def test_an_unbound_caller_token_is_still_accepted() -> None:
    endpoint = TokenEndpoint()
    endpoint.issued["tok_from_caller"] = VICTIM["client_secret"]
    token = AccessToken("tok_from_caller", 2e9)
    result = _client(endpoint, MemoryTokenCache(), VICTIM, access_token=token).authorize(
        card_request()
    )
    assert result.status == "captured" and endpoint.token_requests == []
