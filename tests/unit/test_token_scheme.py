"""The `token` auth scheme: any login request (method, path, headers and body templates that
read secrets, JSON or form), the token and its expiry read from the answer by JMESPath (seconds
from now, or an absolute RFC 3339 / epoch timestamp), cached per credentials, single-flight,
and never printed. The OAuth2 preset's own behaviour is in test_oauth_and_steps and
test_tenant_isolation."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from engine import Client, Connector, CredentialsError, NotSentError
from engine._credentials import resolve_credentials
from engine._errors import SpecError
from engine._http import HttpResponse
from engine._spec import compile_text
from engine._tokens import (
    EXPIRY_MARGIN_SECONDS,
    MemoryTokenCache,
    build_token_request,
    parse_token_response,
    token_cache_key,
    token_url,
)

from .conftest import acme_dict, acme_variant, card_request

CREDS = {"client_id": "cid_login_1", "api_key": "key_SECRET_login_value"}
TOKEN = "eyJhbGciOiJIUzI1NiJ9.tok_SECRET_value"
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _login_spec(spec: dict[str, Any], auth: dict[str, Any] | None = None) -> None:
    spec["credentials"] = {
        "client_id": {"secret": False, "description": "Client id."},
        "api_key": {"secret": True, "description": "API key."},
    }
    spec["environments"] = {
        "sandbox": "https://api-demo.acme-pay.com",
        "production": "https://api.acme-pay.com",
    }
    spec["auth"] = auth or {
        "scheme": "token",
        "login": {
            "path": "/api/v1/authentication/login",
            "headers": {
                "x-client-id": "{{ credentials.client_id }}",
                "x-api-key": "{{ credentials.api_key }}",
            },
        },
        "answer": {"token": "token", "expires_at": {"from": "expires_at", "format": "rfc3339"}},
    }


def _plan(auth: dict[str, Any] | None = None) -> Any:
    return acme_variant(lambda spec: _login_spec(spec, auth))


def _answer(body: Any, status: int = 201) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json"}, json.dumps(body).encode())


# --- the login request -------------------------------------------------------------------------


def test_the_login_request_carries_the_templated_headers_and_no_body() -> None:
    built = build_token_request(_plan(), CREDS)
    assert (built.method, built.url) == (
        "POST",
        "https://api-demo.acme-pay.com/api/v1/authentication/login",
    )
    assert built.headers == {"x-client-id": "cid_login_1", "x-api-key": "key_SECRET_login_value"}
    assert built.body is None
    shown = repr(built) + json.dumps(built.redacted())
    assert "key_SECRET_login_value" not in shown and "cid_login_1" not in shown


def test_a_login_body_with_secrets_in_json_or_form() -> None:
    auth = {
        "scheme": "token",
        "login": {
            "method": "PUT",
            "path": "/auth/token",
            "encoding": "form",
            "body": {"user": "{{ credentials.client_id }}", "key": "{{ credentials.api_key }}"},
        },
        "answer": {"token": "data.jwt", "expires_in": "data.ttl"},
    }
    built = build_token_request(_plan(auth), CREDS)
    assert built.method == "PUT"
    assert built.body == b"user=cid_login_1&key=key_SECRET_login_value"
    assert built.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "key_SECRET_login_value" not in json.dumps(built.redacted())
    auth["login"]["encoding"] = "json"
    built = build_token_request(_plan(auth), CREDS)
    assert json.loads(built.body or b"") == {"user": "cid_login_1", "key": "key_SECRET_login_value"}
    assert built.headers["Content-Type"] == "application/json"


def test_the_login_templates_are_linted() -> None:
    import yaml

    data = acme_dict()
    _login_spec(data)
    data["auth"]["login"]["headers"]["x-api-key"] = "{{ credentials.api_kee }}"
    data["auth"]["answer"]["token"] = "token[["
    with pytest.raises(SpecError) as caught:
        compile_text(yaml.safe_dump(data, sort_keys=False))
    text = str(caught.value)
    assert "api_kee" in text and "/auth/login/headers/x-api-key" in text
    assert "invalid JMESPath" in text and "/auth/answer/token" in text


def test_expires_in_and_expires_at_are_exclusive() -> None:
    import yaml

    data = acme_dict()
    _login_spec(data)
    data["auth"]["answer"]["expires_in"] = "ttl"
    with pytest.raises(SpecError):
        compile_text(yaml.safe_dump(data, sort_keys=False))


# --- the answer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "body", "expires_at"),
    [
        (
            {"token": "token", "expires_at": {"from": "expires_at", "format": "rfc3339"}},
            {"token": TOKEN, "expires_at": "2026-01-01T00:30:00+0000"},
            NOW + 1800,
        ),
        (
            {"token": "token", "expires_at": {"from": "exp", "format": "unix_seconds"}},
            {"token": TOKEN, "exp": int(NOW) + 900},
            NOW + 900,
        ),
        (
            {"token": "token", "expires_at": {"from": "exp", "format": "unix_milliseconds"}},
            {"token": TOKEN, "exp": str(int(NOW) * 1000 + 600_000)},
            NOW + 600,
        ),
        (
            {"token": "data.jwt", "expires_in": "data.ttl"},
            {"data": {"jwt": TOKEN, "ttl": 60}},
            NOW + 60,
        ),
        ({"token": "token"}, {"token": TOKEN}, NOW),  # no expiry: this call only
        (
            {"token": "token", "expires_in": "ttl"},
            {"token": TOKEN},  # the field is absent: this call only
            NOW,
        ),
    ],
)
def test_the_token_and_its_expiry_are_read(answer: Any, body: Any, expires_at: float) -> None:
    plan = _plan(_auth_with(answer))
    token = parse_token_response(plan, _answer(body), now=NOW)
    assert token.token.reveal() == TOKEN
    assert token.expires_at == pytest.approx(expires_at)
    assert TOKEN not in repr(token)


LOGIN_HEADERS = {
    "x-client-id": "{{ credentials.client_id }}",
    "x-api-key": "{{ credentials.api_key }}",
}


def _auth_with(answer: dict[str, Any], path: str = "/login") -> dict[str, Any]:
    return {"scheme": "token", "login": {"path": path, "headers": LOGIN_HEADERS}, "answer": answer}


@pytest.mark.parametrize(
    "body",
    [
        {"expires_at": "2026-01-01T00:30:00Z"},  # no token
        {"token": None},
        {"token": ["a"]},
        {"token": True},
        {"token": TOKEN, "expires_at": "in half an hour"},  # an expiry that is no timestamp
        {"token": TOKEN, "expires_at": 1767227400},  # a number where RFC 3339 was promised
    ],
)
def test_an_unreadable_answer_sends_nothing_else(body: Any) -> None:
    with pytest.raises(NotSentError) as caught:
        parse_token_response(_plan(), _answer(body), now=NOW)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refused_credentials_raise(status: int) -> None:
    body = {"code": "credentials_invalid", "message": "Invalid client id or api key"}
    with pytest.raises(CredentialsError):
        parse_token_response(_plan(), _answer(body, status), now=NOW)


def test_a_server_error_answer_with_a_token_is_not_used() -> None:
    with pytest.raises(NotSentError):
        parse_token_response(_plan(), _answer({"token": TOKEN}, 500), now=NOW)


# --- the client: fetch once, reuse, refresh, send in the declared header -----------------------


class LoginProcessor:
    """Answers the login with a fresh token valid for `lifetime` seconds; pays with any token."""

    def __init__(self, lifetime: float = 1800, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.logins: list[httpx.Request] = []
        self.payments: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/authentication/login":
            assert request.headers["x-api-key"] == CREDS["api_key"]
            time.sleep(self.delay)
            with self.lock:
                self.logins.append(request)
                number = len(self.logins)
            expires = time.strftime(
                "%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() + self.lifetime)
            )
            return httpx.Response(201, json={"token": f"{TOKEN}{number}", "expires_at": expires})
        with self.lock:
            self.payments.append(request)
        return httpx.Response(
            200, json={"id": "pay_1", "status": "approved", "amount": 1099, "currency": "USD"}
        )


def _client(processor: LoginProcessor, cache: MemoryTokenCache, auth: Any = None) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(processor))
    return Client(Connector(_plan(auth)), CREDS, http_client=http, token_cache=cache)


def test_the_token_is_fetched_once_reused_and_sent_as_a_bearer_token() -> None:
    processor, cache = LoginProcessor(), MemoryTokenCache()
    first = _client(processor, cache).authorize(card_request())
    second = _client(processor, cache).authorize(card_request())
    assert first.status == second.status == "captured"
    assert len(processor.logins) == 1
    assert [p.headers["authorization"] for p in processor.payments] == [f"Bearer {TOKEN}1"] * 2
    assert TOKEN not in repr(first) and TOKEN not in json.dumps(first.to_dict())


def test_a_token_near_its_expiry_is_fetched_again() -> None:
    processor, cache = LoginProcessor(lifetime=EXPIRY_MARGIN_SECONDS - 1), MemoryTokenCache()
    _client(processor, cache).authorize(card_request())
    _client(processor, cache).authorize(card_request())
    assert len(processor.logins) == 2


def test_the_token_goes_in_the_declared_headers() -> None:
    auth = {
        "scheme": "token",
        "login": {"path": "/api/v1/authentication/login", "headers": LOGIN_HEADERS},
        "answer": {"token": "token", "expires_at": {"from": "expires_at", "format": "rfc3339"}},
        "headers": {
            "X-Auth-Token": "{{ access_token }}",
            "X-Client": "{{ credentials.client_id }}",
        },
    }
    processor = LoginProcessor()
    connector = Connector(_plan(auth))
    built = connector.build_request("authorize", card_request(), CREDS, access_token=TOKEN)
    assert built.headers["X-Auth-Token"] == TOKEN and "Authorization" not in built.headers
    assert TOKEN not in json.dumps(built.redacted())
    result = _client(processor, MemoryTokenCache(), auth).authorize(card_request())
    assert result.status == "captured"
    assert processor.payments[0].headers["x-auth-token"] == f"{TOKEN}1"


def test_thirty_threads_make_one_login() -> None:
    processor, cache = LoginProcessor(delay=0.2), MemoryTokenCache()
    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(
            pool.map(lambda _: _client(processor, cache).authorize(card_request()), range(30))
        )
    assert all(r.status == "captured" for r in results)
    assert len(processor.logins) == 1


def test_the_cache_key_covers_every_credential_the_environment_and_the_url() -> None:
    plan = _plan()

    def key(creds: dict[str, str], environment: str = "sandbox") -> str:
        resolved = resolve_credentials(plan, creds)
        url = token_url(plan, resolved, environment=environment)
        return token_cache_key(plan, resolved, environment=environment, url=url)

    base = key(CREDS)
    assert base == key(dict(CREDS))  # stable
    assert key({**CREDS, "api_key": "other"}) != base
    assert key({**CREDS, "client_id": "other"}) != base  # not only the secrets
    assert key(CREDS, "production") != base
    assert CREDS["api_key"] not in base and CREDS["client_id"] not in base
    other_path = _plan(_auth_with({"token": "token"}, "/api/v2/login"))
    resolved = resolve_credentials(other_path, CREDS)
    url = token_url(other_path, resolved, environment="sandbox")
    assert token_cache_key(other_path, resolved, environment="sandbox", url=url) != base


def test_a_login_header_whose_value_is_null_is_omitted() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _login_spec(spec)
        spec["credentials"]["account_id"] = {
            "secret": False,
            "required": False,
            "description": "Act on behalf of this connected account.",
        }
        spec["auth"]["login"]["headers"]["x-login-as"] = "{{ credentials.account_id }}"

    plan = acme_variant(edit)
    assert "x-login-as" not in build_token_request(plan, CREDS).headers
    with_account = build_token_request(plan, {**CREDS, "account_id": "acct_9"})
    assert with_account.headers["x-login-as"] == "acct_9"
