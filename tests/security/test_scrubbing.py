"""Scrubbing proof: for every flow scenario of every processor, with every logger at DEBUG, the
card number, the CVC, every secret credential and the access token appear nowhere the engine
prints: log records, the Result (repr, str, to_dict), each HttpRequest (repr, redacted()),
exceptions (str, repr, args, chained causes), the access token's repr, and the output of
`connector render`, `connector parse` and `connector call` (against a local replay server).

The detector is proved able to fail by planting each kind of secret where it must be caught.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from engine import ConnectorServiceError, Result, load_connector
from engine.cli import main

from ..connectors.scenarios import Scenario, credentials_for, flow_scenarios, token_answer_for
from ..connectors.test_scenarios import ACCESS_TOKEN
from .leaks import (
    Watched,
    card_of,
    cvc_is_unambiguous,
    exception_texts,
    secret_credentials,
    watched_for,
)
from .replay import Replay, answers_of, canned, replay, replay_server

SCENARIOS = flow_scenarios()


def _uses_token(connector: str) -> bool:
    return load_connector(connector).plan.auth.token is not None


def printed(done: Replay, records: list[logging.LogRecord]) -> Iterator[tuple[str, str]]:
    """(where, text) for everything a caller or an operator could see of one exchange."""
    for record in records:
        yield f"log record {record.name}:{record.levelname}", record.getMessage()
        yield f"log record args {record.name}", repr(record.args)
        if record.exc_info and record.exc_info[1] is not None:
            yield from exception_texts(record.exc_info[1])
    for index, built in enumerate(done.built):
        yield f"repr(request {index})", repr(built)
        yield f"str(request {index})", str(built)
        yield f"request {index}.redacted()", json.dumps(built.redacted())
    outcome = done.outcome
    if isinstance(outcome, Result):
        yield "repr(result)", repr(outcome)
        yield "str(result)", str(outcome)
        yield "result.to_dict()", json.dumps(outcome.to_dict(), default=str)
        yield "repr(result.error)", repr(outcome.error)
        yield "repr(result.access_token)", repr(outcome.access_token)
    elif isinstance(outcome, ConnectorServiceError):
        yield from exception_texts(outcome)


def assert_nothing_printed(watched: Watched, texts: Iterator[tuple[str, str]]) -> None:
    for where, text in texts:
        watched.assert_absent(where, text)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger (the engine's and httpx's) captured from DEBUG up."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="engine")
    return caplog


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario_prints_no_secret(
    scenario: Scenario, debug_logs: pytest.LogCaptureFixture
) -> None:
    # A CVC that also stands alone elsewhere in the fixture would make a hit ambiguous: the
    # fixture must then use another CVC, so that this check keeps its power.
    assert cvc_is_unambiguous(scenario), "the fixture's CVC appears outside the card: change it"
    done = replay(scenario)
    assert done.outcome is not None
    if done.built:
        # The proof needs the engine's DEBUG lines: without them it would pass vacuously.
        assert any(r.name == "engine" for r in debug_logs.records), "the engine logged nothing"
    token = ACCESS_TOKEN.token.reveal() if _uses_token(scenario.connector) else None
    watched = watched_for(scenario, access_token=token)
    assert_nothing_printed(watched, printed(done, debug_logs.records))


# --- the proof can fail --------------------------------------------------------------------------

CARD_SCENARIO = next(s for s in SCENARIOS if card_of(s.data["request"]).get("cvc"))


@pytest.mark.parametrize(
    "plant",
    [
        lambda card, creds: f"card {card['number']}",
        lambda card, creds: f"cvc={card['cvc']}",
        lambda card, creds: f'{{"security_code": "{card["cvc"]}"}}',
        lambda card, creds: f"key {next(iter(creds.values()))}",
        lambda card, creds: "url-encoded " + quote(next(iter(creds.values())), safe=""),
    ],
    ids=["card-number", "cvc-query", "cvc-json", "credential", "credential-url-encoded"],
)
def test_a_planted_secret_in_a_log_line_is_caught(
    plant: Any, debug_logs: pytest.LogCaptureFixture
) -> None:
    scenario = CARD_SCENARIO
    done = replay(scenario)
    card = card_of(scenario.data["request"])
    creds = secret_credentials(scenario.connector)
    logging.getLogger("engine").debug("planted: %s", plant(card, creds))
    watched = watched_for(scenario)
    with pytest.raises(AssertionError, match="leaked into log record engine:DEBUG"):
        assert_nothing_printed(watched, printed(done, debug_logs.records))


def test_the_cvc_check_is_a_token_check() -> None:
    watched = Watched({}, {"CVC": "123"})
    assert watched.leaks("order 41234, amount 1230") == []
    assert watched.leaks("cvc=123&x=1") == ["CVC"]
    assert watched.leaks('{"cvv":"123"}') == ["CVC"]
    assert watched.leaks("<cvc>123</cvc>") == ["CVC"]


def test_a_secret_in_an_exception_is_caught() -> None:
    watched = Watched({"card number": "4111111111111111"}, {})
    try:
        try:
            raise KeyError("4111111111111111")
        except KeyError as inner:
            raise ConnectorServiceError("nothing here") from inner
    except ConnectorServiceError as outer:
        texts = dict(exception_texts(outer))
    assert "card number" in watched.leaks("\n".join(texts.values()))


# --- the CLI --------------------------------------------------------------------------------------


def _representative(connector: str) -> Scenario:
    """A scenario that reaches the processor, paying by card when the connector takes cards."""
    usable = [
        s
        for s in SCENARIOS
        if s.connector == connector
        and "raises" not in s.data["expect"]
        and all("transport" not in a for a in answers_of(s))
    ]
    with_card = [s for s in usable if card_of(s.data["request"]).get("number")]
    return (with_card or usable)[0]


CONNECTORS = sorted({s.connector for s in SCENARIOS})
CLI_SCENARIOS = [_representative(c) for c in CONNECTORS]
#: The token the replay server hands out to OAuth2 specs called through the CLI.
CLI_ACCESS_TOKEN = "cli-access-token-7f3a9c21e5d04b68"


def _files(tmp_path: Path, scenario: Scenario) -> tuple[str, str]:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(scenario.data["request"]), encoding="utf-8")
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps(credentials_for(scenario.connector)), encoding="utf-8")
    return str(request), str(credentials)


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("scenario", CLI_SCENARIOS, ids=[s.id for s in CLI_SCENARIOS])
def test_cli_render_prints_no_secret(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request, credentials = _files(tmp_path, scenario)
    watched = watched_for(scenario)
    for extra in ([], ["--json"]):
        code, output = _run_cli(
            capsys,
            "render",
            scenario.connector,
            scenario.data["flow"],
            request,
            "--credentials",
            credentials,
            *extra,
        )
        assert code == 0, output
        assert scenario.data["flow"] and output.strip()
        watched.assert_absent(f"connector render {' '.join(extra)}", output)


@pytest.mark.parametrize("scenario", CLI_SCENARIOS, ids=[s.id for s in CLI_SCENARIOS])
def test_cli_parse_prints_no_secret(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request, _ = _files(tmp_path, scenario)
    answer = canned(answers_of(scenario)[-1])
    body = tmp_path / "response.body"
    body.write_bytes(answer.body)
    headers = [
        item for name, value in answer.headers.items() for item in ("--header", f"{name}: {value}")
    ]
    watched = watched_for(scenario)
    for extra in ([], ["--json"]):
        code, output = _run_cli(
            capsys,
            "parse",
            scenario.connector,
            scenario.data["flow"],
            request,
            str(body),
            "--status",
            str(answer.status),
            *headers,
            *extra,
        )
        assert code == 0, output
        assert "status" in output
        watched.assert_absent(f"connector parse {' '.join(extra)}", output)


@pytest.mark.parametrize("scenario", CLI_SCENARIOS, ids=[s.id for s in CLI_SCENARIOS])
def test_cli_call_prints_no_secret(
    scenario: Scenario,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    request, credentials = _files(tmp_path, scenario)
    answers = [canned(a) for a in answers_of(scenario)]
    token = None
    if _uses_token(scenario.connector):
        token = CLI_ACCESS_TOKEN
        answers.insert(0, canned(token_answer_for(scenario.connector, token)))
    watched = watched_for(scenario, access_token=token)
    with replay_server() as server:
        server.load(answers)
        code, output = _run_cli(
            capsys,
            "call",
            scenario.connector,
            scenario.data["flow"],
            request,
            "--credentials",
            credentials,
            "--base-url",
            server.url,
            "--allow-undeclared-host",
            "--json",
        )
        left = len(server.queue)
    assert code == 0, output
    assert left == 0, f"{left} canned answer(s) were never asked for"
    assert json.loads(output)["status"] == scenario.data["expect"].get("status")
    watched.assert_absent("connector call", output)
    for where, text in printed(Replay(), debug_logs.records):
        watched.assert_absent(where, text)
