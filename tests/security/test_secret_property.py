"""Property: whatever a merchant's secrets are — printable ASCII with regex metacharacters,
quotes and backslashes, long ones; or, where the spec gives a credential a pattern, any value
of that pattern — and whatever a processor echoes of what it was sent (every auth header and
the whole body, in its error message), nothing the engine prints carries a secret or its
base64: not the Result (repr, str, to_dict), not an exception (str, repr, args, attributes),
not the HttpRequests sent (repr, redacted()), not a log record of `httpx`, `httpcore` or the
engine at DEBUG. And no exception other than the engine's leaves the call.

Each bundled connector's refusal scenario (test_secret_echo's choice) is replayed through
Client over httpx.MockTransport, with its refusal's messages replaced by the echo; an OAuth2
spec's token request is answered with a token generated per example, watched too."""

from __future__ import annotations

import base64
import json
import logging
import re
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import ConnectorServiceError, HttpRequest, load_connector

from ..connectors.scenarios import Scenario, credentials_for, response_body
from ..connectors.test_scenarios import CLOCK
from .echo import ECHOED
from .replay import RecordingClient
from .test_secret_echo import SCENARIOS, _answers, _echoing_body

PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
#: Heavy on what breaks naive scrubbing: regex metacharacters, quotes, escapes, separators.
METACHARS = st.sampled_from(list(".^$*+?{}[]\\|()\"'%&=:;,/<>#@! ~`"))
FREE_TEXT = st.text(st.one_of(PRINTABLE, METACHARS), min_size=10, max_size=400)


def _secret(pattern: str | None) -> st.SearchStrategy[str]:
    if pattern is None:
        values = FREE_TEXT
    else:
        values = st.from_regex(pattern, fullmatch=True, alphabet=PRINTABLE)
    # Enough letters or digits that the value cannot occur by chance in other output.
    return values.filter(lambda s: len(s) >= 10 and sum(c.isalnum() for c in s) >= 6)


def _credentials(connector: str) -> st.SearchStrategy[dict[str, str]]:
    plan = load_connector(connector).plan
    fixture = credentials_for(connector)
    drawn = {c.name: _secret(c.pattern) for c in plan.credentials if c.secret}
    return st.fixed_dictionaries(drawn).map(
        lambda secrets: {**{k: v for k, v in fixture.items() if k not in secrets}, **secrets}
    )


def _forms(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        value.upper(),
        value.lower(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    ]


class _Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_LOGGERS = ("httpx", "httpcore", "engine")


def _capture() -> tuple[_Logs, list[tuple[logging.Logger, int]]]:
    handler = _Logs()
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    return handler, saved


def _release(handler: _Logs, saved: list[tuple[logging.Logger, int]]) -> None:
    for logger, level in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _exception_texts(exc: BaseException) -> Iterator[str]:
    seen: BaseException | None = exc
    while seen is not None:
        yield from (str(seen), repr(seen), repr(seen.args))
        yield from (repr(v) for v in vars(seen).values())
        seen = seen.__cause__ or seen.__context__


def _printed(outcome: Any, built: list[HttpRequest], logs: _Logs) -> Iterator[tuple[str, str]]:
    if isinstance(outcome, BaseException):
        for text in _exception_texts(outcome):
            yield "the exception", text
    else:
        yield "repr(result)", repr(outcome)
        yield "str(result)", str(outcome)
        yield "result.to_dict()", json.dumps(outcome.to_dict(), default=str)
    for index, request in enumerate(built):
        yield f"repr(request {index})", repr(request)
        yield f"request {index}.redacted()", json.dumps(request.redacted())
    for record in logs.records:
        yield f"log record {record.name}", record.getMessage()
        yield f"log record args {record.name}", repr(record.args)


def _fixture_text(scenario: Scenario) -> str:
    answers = "\n".join(response_body(a).decode() for a in _answers(scenario))
    return json.dumps(scenario.data["request"]) + answers


_VOCABULARY: dict[str, str] = {}


def _vocabulary(scenario: Scenario) -> str:
    """What the engine prints for the scenario whatever the secrets are (the Result's field
    names, its status, the unified error codes), as printed with the fixture's credentials: a
    drawn secret that is one of those words (a password `AUTHORIZED`, printed as the status
    `authorized`) would be found there without having leaked."""
    if scenario.connector not in _VOCABULARY:
        outcome, built, logs, _ = _run(scenario, credentials_for(scenario.connector), "t" * 20)
        printed = "\n".join(text for _, text in _printed(outcome, built, logs))
        _VOCABULARY[scenario.connector] = printed
    return _VOCABULARY[scenario.connector]


def _check(scenario: Scenario, credentials: dict[str, str], token: str) -> None:
    plan = load_connector(scenario.connector).plan
    secrets = [credentials[c.name] for c in plan.credentials if c.secret]
    watched = [form for secret in secrets for form in _forms(secret)] + [token]
    fixture = _fixture_text(scenario) + _vocabulary(scenario)
    assume(not any(form in fixture for form in watched))
    outcome, built, logs, sent = _run(scenario, credentials, token)
    watched += [value for value in sent if len(value) >= 8]
    for where, text in _printed(outcome, built, logs):
        leaked = [i for i, value in enumerate(watched) if value in text]
        assert not leaked, f"watched values #{leaked} leaked into {where}"


def _run(
    scenario: Scenario, credentials: dict[str, str], token: str
) -> tuple[Any, list[HttpRequest], _Logs, list[str]]:
    """The scenario's call with these credentials, its refusal echoing what was sent: the
    outcome, the requests built, the log records, and the auth header values sent."""
    connector = scenario.connector
    plan = load_connector(connector).plan
    answers = _answers(scenario)
    token_path = plan.auth.token.path if plan.auth.token else None
    sent: list[str] = []
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        for name, value in request.headers.items():
            if name.lower() in ECHOED:
                sent.append(value)
                sent.extend(p for p in re.split(r"[\s,\"=]", value) if len(p) >= 16)
        echo = "Invalid API Key provided: " + " / ".join(
            f"{k}={v}" for k, v in request.headers.items()
        )
        echo += " body: " + request.content.decode("latin-1")
        if token_path is not None and urlsplit(str(request.url)).path == token_path:
            grant = {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
            return httpx.Response(200, json=grant)
        count += 1
        index = min(count, len(answers)) - 1
        answer = answers[index]
        headers = dict(answer.get("headers") or {"Content-Type": "application/json"})
        last = index == len(answers) - 1
        body = _echoing_body(answer, echo) if last else response_body(answer)
        return httpx.Response(answer.get("status", 200), headers=headers, content=body)

    client = RecordingClient(
        connector,
        credentials,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=lambda: CLOCK,
        token_cache=_NoCache(),
    )
    logs, saved = _capture()
    try:
        outcome: Any = client.call(scenario.data["flow"], scenario.data["request"])
    except ConnectorServiceError as exc:
        # The base class itself is what the boundary makes of a foreign exception raised inside.
        assert type(exc) is not ConnectorServiceError, f"a foreign exception inside: {exc}"
        outcome = exc
    except Exception as exc:  # the property: nothing but the engine's exceptions leaves
        pytest.fail(f"a foreign {type(exc).__name__} left a public call")
    finally:
        _release(logs, saved)
    return outcome, client.built, logs, sent


class _NoCache:
    """A token cache that keeps nothing: every example fetches its own token."""

    def get(self, key: str) -> None:
        return None

    def set(self, key: str, token: Any) -> None:
        return None


TOKENS = st.text(string.ascii_letters + string.digits + "-_.", min_size=20, max_size=80)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.connector for s in SCENARIOS])
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_no_generated_secret_is_printed(scenario: Scenario, data: st.DataObject) -> None:
    credentials = data.draw(_credentials(scenario.connector), label="credentials")
    token = data.draw(TOKENS, label="access token")
    _check(scenario, credentials, token)
