"""The CLI prints, and `connector record` writes, no credential value: not the secrets (an
OAuth2 client_secret included), not what the auth scheme derived from them (Basic base64 of
id:secret, the token request's own header), not a token fetched, not the card data — when the
processor echoes what it was sent, and on the error paths (stderr) too.

`render` and `parse` of every processor's representative scenario, and `call`, are covered by
test_scrubbing; here: `record` against an echoing local processor, `parse --credentials` of an
echoing answer, `event` of a delivery quoting its secret, and the error paths."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from engine import load_connector
from engine.cli import main

from ..connectors.scenarios import Scenario, credentials_for, flow_scenarios
from .echo import ECHOED, Answer, echo_server
from .leaks import card_of, secret_credentials
from .test_webhook_rejections import CASES, Case
from .test_webhook_secret import QUOTING, _key_forms

TOKEN = "A21AAFfetchedAccessToken0123456789abcdefXYZ"
GRANT = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 32400, "scope": "x"}
ERROR = {"name": "INVALID_REQUEST", "message": "", "details": [{"description": ""}]}
ALL = flow_scenarios()


def _card_authorize(connector: str) -> Scenario:
    for scenario in ALL:
        data = scenario.data
        if (
            scenario.connector == connector
            and data["flow"] == "authorize"
            and card_of(data["request"]).get("number")
        ):
            return scenario
    raise AssertionError(connector)


def _variants(connector: str) -> list[str]:
    found = []
    for value in secret_credentials(connector).values():
        found += [value, value.upper(), value.lower(), base64.b64encode(value.encode()).decode()]
    return found


def _sent(headers: list[dict[str, str]]) -> list[str]:
    """The auth header values as sent, and their long parts (the Basic base64, a token)."""
    found = []
    for each in headers:
        for name, value in each.items():
            if name.lower() in ECHOED:
                found += [value, *(p for p in value.split(" ")[1:] if len(p) >= 8)]
    return found


def _assert_clean(where: str, text: str, watched: list[str]) -> None:
    leaked = [i for i, value in enumerate(watched) if value and value in text]
    assert not leaked, f"watched values #{leaked} are in {where}"


def misaligned(connector: str) -> dict[str, str]:
    """The fixture credentials with each non-secret value one letter longer where needed so
    that `user:` is not a multiple of 3 bytes: base64 of `user:secret` then shows no run of the
    secret's own base64 (which a scrubber knowing only the secret would find by chance)."""
    plan = load_connector(connector).plan
    secret = {c.name for c in plan.credentials if c.secret}
    return {
        name: value + "Q" if name not in secret and (len(value) + 1) % 3 == 0 else value
        for name, value in credentials_for(connector).items()
    }


def _files(tmp_path: Path, connector: str, request: Any) -> tuple[str, str]:
    req = tmp_path / "request.json"
    req.write_text(json.dumps(request), encoding="utf-8")
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps(misaligned(connector)), encoding="utf-8")
    return str(req), str(creds)


#: Basic auth (worldpay, razorpay), OAuth2 client credentials (paypal), bearer, body fields.
RECORDED = ("worldpay", "razorpay", "paypal", "stripe", "authorize_net", "adyen")


@pytest.mark.parametrize("connector", RECORDED)
def test_record_writes_and_prints_no_credential(
    connector: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _card_authorize(connector)
    # Not the fixture card record writes in place of the real one: this one must vanish.
    card = {**card_of(scenario.data["request"]), "number": "4000056655665556"}
    sent_request = {**scenario.data["request"], "payment_method": {"type": "card", "card": card}}
    request, credentials = _files(tmp_path, connector, sent_request)
    out = tmp_path / "recorded.yaml"
    oauth = load_connector(connector).plan.auth.token is not None
    answers = [Answer(200, GRANT, echo=False)] if oauth else []
    with echo_server(*answers, Answer(422, ERROR)) as server:
        code = main(
            [
                "record",
                connector,
                "authorize",
                request,
                "--credentials",
                credentials,
                "--base-url",
                server.url,
                "--allow-undeclared-host",
                "--out",
                str(out),
            ]
        )
        sent = [headers for headers, _ in server.seen.requests]
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert len(sent) >= 1 + oauth
    watched = [*_variants(connector), *_sent(sent), card["number"]]
    watched += [TOKEN] if oauth else []
    written = out.read_text(encoding="utf-8")
    assert "Invalid API Key provided" in written  # the echo was recorded, scrubbed
    _assert_clean("the recorded fixture", written, watched)
    _assert_clean("stdout/stderr", printed.out + printed.err, watched)


@pytest.mark.parametrize("connector", ("worldpay", "paypal", "stripe", "authorize_net"))
def test_parse_with_credentials_hides_an_echo_of_them(
    connector: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _card_authorize(connector)
    request, credentials = _files(tmp_path, connector, scenario.data["request"])
    plan = load_connector(connector).plan
    built = load_connector(connector).build_request(
        "authorize",
        scenario.data["request"],
        misaligned(connector),
        access_token="<access_token>" if plan.auth.token else None,
    )
    watched = [*_variants(connector), *_sent([dict(built.headers)])]
    echo = "Invalid API Key provided: " + " / ".join(watched)
    body = tmp_path / "response.json"
    body.write_text(json.dumps({"error": {"message": echo}, "message": echo}), encoding="utf-8")
    for extra in ([], ["--json"]):
        code = main(
            [
                "parse",
                connector,
                "authorize",
                request,
                str(body),
                "--status",
                "401",
                "--header",
                "Content-Type: application/json",
                "--credentials",
                credentials,
                *extra,
            ]
        )
        printed = capsys.readouterr()
        assert code == 0, printed.err
        _assert_clean(f"connector parse {extra}", printed.out + printed.err, watched)


def _event_argv(case: Case, body: Path, delivery: Any, *extra: str) -> list[str]:
    headers = [i for k, v in delivery.headers.items() for i in ("--header", f"{k}: {v}")]
    return ["event", case.connector, "--body", str(body), *headers, *extra]


@pytest.mark.parametrize(("case", "quoting"), QUOTING, ids=[c.connector for c, _ in QUOTING])
def test_event_prints_no_secret(
    case: Case,
    quoting: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if case.base.now is not None:
        monkeypatch.setattr("time.time", lambda: float(case.base.now))
    delivery, _ = quoting
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps(credentials_for(case.connector)), encoding="utf-8")
    body = tmp_path / "body"
    body.write_bytes(delivery.body)
    forms = _key_forms(case)
    for extra in ([], ["--json"]):
        argv = _event_argv(case, body, delivery, "--secret", case.base.secret, *extra)
        code = main([*argv, "--credentials", str(credentials)])
        printed = capsys.readouterr()
        assert code == 0, printed.err
        assert printed.out.strip()
        _assert_clean(f"connector event {extra}", printed.out + printed.err, forms)


@pytest.mark.parametrize("case", CASES, ids=[c.connector for c in CASES])
def test_a_rejected_event_prints_no_secret(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unsigned = case.scheme.remove(case.base.delivery)
    body = tmp_path / "body"
    body.write_bytes(unsigned.body)
    for extra in ([], ["--json"]):
        argv = _event_argv(case, body, unsigned, "--secret", case.base.secret, *extra)
        code = main(argv)
        printed = capsys.readouterr()
        assert code == 1
        _assert_clean("a rejection", printed.out + printed.err, _key_forms(case))


def test_a_refused_credential_is_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = _card_authorize("authorize_net")
    bad = "not a valid key \u00e9 Zq9XkP2mW4"  # refused: non-ASCII, and not the pattern
    request = tmp_path / "request.json"
    request.write_text(json.dumps(scenario.data["request"]), encoding="utf-8")
    credentials = tmp_path / "credentials.json"
    credentials.write_text(
        json.dumps({"api_login_id": "7zT4fakeLgn9", "transaction_key": bad}), encoding="utf-8"
    )
    code = main(
        ["render", "authorize_net", "authorize", str(request), "--credentials", str(credentials)]
    )
    printed = capsys.readouterr()
    assert code != 0
    assert "transaction_key" in printed.err
    _assert_clean("stderr", printed.out + printed.err, [bad, "Zq9XkP2mW4", "7zT4fakeLgn9"])
