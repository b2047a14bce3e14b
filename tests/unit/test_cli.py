"""The `connector` CLI: machine-readable output and exit codes are part of the contract."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import yaml

from engine import lint_file
from engine.cli import main

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "737"}
REQUEST = {
    "amount": 1099,
    "currency": "EUR",
    "capture_method": "manual",
    "idempotency_key": "idem-cli-1",
    "payment_method": {"type": "card", "card": CARD},
}


def _write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value) if not isinstance(value, str) else value)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_lint_clean_bundled_specs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint")
    assert code == 0, out
    assert out == ""
    assert re.search(r"\d+ spec\(s\) checked, 0 problem\(s\)", err)


def test_lint_reports_file_line_col_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = (
        Path("specs/connectors/stripe.yaml")
        .read_text()
        .replace(
            "    method: POST\n      path: /v1/refunds", "    methd: POST\n      path: /v1/refunds"
        )
    )
    spec = spec.replace("id: stripe", "id: broken")
    path = _write(tmp_path, "broken.yaml", spec)
    code, out, _ = run(capsys, "lint", path)
    assert code == 1
    line = next(i for i, text in enumerate(spec.splitlines(), 1) if "methd" in text)
    assert f"{path}:{line}:7: unknown key 'methd'; did you mean 'method'?" in out
    assert "(/flows/refund/request/methd)" in out


def test_render_json_is_exact_and_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _write(tmp_path, "req.json", REQUEST)
    creds = _write(tmp_path, "creds.json", {"api_key": "sk_test_cliSecret123"})
    code, out, _ = run(
        capsys, "render", "stripe", "authorize", request, "--credentials", creds, "--json"
    )
    assert code == 0
    [shown] = json.loads(out)["requests"]
    assert set(shown) == {"step", "method", "url", "headers", "body", "idempotency_key"}
    assert shown["idempotency_key"] == "idem-cli-1"
    assert shown["method"] == "POST" and shown["url"] == "https://api.stripe.com/v1/payment_intents"
    assert shown["headers"]["Authorization"] == "[REDACTED]"
    assert shown["headers"]["Idempotency-Key"] == "idem-cli-1"
    assert "amount=1099&currency=eur&capture_method=manual&confirm=true" in shown["body"]
    for secret in ("sk_test_cliSecret123", CARD["number"], CARD["cvc"]):
        assert secret not in out


def test_render_without_credentials_uses_placeholders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _write(tmp_path, "req.json", REQUEST)
    code, out, _ = run(capsys, "render", "stripe", "authorize", request)
    assert code == 0
    assert "\nPOST https://api.stripe.com/v1/payment_intents\n" in out
    assert "Authorization: [REDACTED]\n" in out


def test_render_refuses_bad_input_naming_the_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _write(tmp_path, "req.json", {**REQUEST, "currency": "EURO"})
    code, _, err = run(capsys, "render", "stripe", "authorize", request)
    assert code == 2
    assert "InputError: /currency:" in err


def test_parse_json_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = _write(tmp_path, "req.json", REQUEST)
    body = _write(
        tmp_path,
        "resp.json",
        {
            "id": "pi_1",
            "object": "payment_intent",
            "status": "requires_capture",
            "amount": 1099,
            "currency": "eur",
        },
    )
    code, out, _ = run(
        capsys, "parse", "stripe", "authorize", request, body, "--status", "200", "--json"
    )
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "authorized"
    assert result["connector_transaction_id"] == "pi_1"
    assert result["currency"] == "EUR"


def test_event_verifies_and_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    payload = json.dumps(
        {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": "pi_1",
                    "object": "payment_intent",
                    "amount": 1099,
                    "currency": "eur",
                }
            },
        }
    )
    body = _write(tmp_path, "event.json", payload)
    secret = "whsec_cliTestSecret"
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    header = f"Stripe-Signature: t={stamp},v1={signature}"
    code, out, _ = run(
        capsys, "event", "stripe", "--body", body, "--header", header, "--secret", secret, "--json"
    )
    assert code == 0
    events = json.loads(out)["events"]
    assert (
        events[0]["type"] == "payment.captured" and events[0]["connector_transaction_id"] == "pi_1"
    )
    code, out, _ = run(
        capsys,
        "event",
        "stripe",
        "--body",
        body,
        "--header",
        header,
        "--secret",
        "whsec_wrong",
        "--json",
    )
    assert code == 1
    assert json.loads(out)["reason"] == "bad_signature"


def test_list_and_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert "capture" in rows["stripe"]["flows"] and rows["stripe"]["webhooks"] is True
    code, out, _ = run(capsys, "matrix")
    assert code == 0 and out.startswith("| processor |")
    assert "| Stripe |" in out


def test_new_scaffolds_a_spec_that_lints_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "specs" / "connectors").mkdir(parents=True)
    (tmp_path / "tests" / "connectors").mkdir(parents=True)
    code, out, _ = run(capsys, "new", "acme_pay", "--root", str(tmp_path))
    assert code == 0
    spec = tmp_path / "specs" / "connectors" / "acme_pay.yaml"
    assert f"created {spec}" in out
    assert lint_file(spec) == []
    assert (
        tmp_path / "tests" / "connectors" / "acme_pay" / "scenarios" / "authorize_approved.yaml"
    ).exists()
    with pytest.raises(SystemExit):
        main(["new", "acme_pay", "--root", str(tmp_path)])


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in (
        "lint",
        "list",
        "matrix",
        "render",
        "parse",
        "event",
        "call",
        "record",
        "new",
        "docs",
    ):
        assert command in out


# --- event: the non-secret settings a signature covers ---------------------------------------

DELIVERIES = Path(__file__).resolve().parents[1] / "connectors"


def _delivery(connector: str, name: str) -> dict[str, Any]:
    path = DELIVERIES / connector / "webhook_deliveries" / f"{name}.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def test_event_verifies_a_square_delivery_with_its_notification_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Signed as the squareup SDK's WebhooksHelper checks: base64(HMAC-SHA256(signature key,
    # notification URL + body)), with our own key and URL.
    body_text = _delivery("square", "payment_updated_completed")["body_text"]
    key, url = "sq0wss-cliSignatureKey-7Hd2", "https://shop.example.com/hooks/square?shop=7"
    mac = hmac.new(key.encode(), (url + body_text).encode(), hashlib.sha256).digest()
    header = f"x-square-hmacsha256-signature: {base64.b64encode(mac).decode()}"
    body = _write(tmp_path, "square.json", body_text)
    event = ["event", "square", "--body", body, "--header", header, "--secret", key]

    code, out, err = run(capsys, *event, "--json")
    assert code == 1
    assert json.loads(out)["reason"] == "missing_setting"
    assert json.loads(out)["missing_settings"] == ["webhook_notification_url"]
    code, out, err = run(capsys, *event)
    assert code == 1 and "--setting webhook_notification_url=VALUE" in err

    code, out, _ = run(capsys, *event, "--setting", f"webhook_notification_url={url}", "--json")
    assert code == 0
    [verified] = json.loads(out)["events"]
    assert verified["verified"] is True and verified["type"] == "payment.captured"
    assert verified["connector_transaction_id"] == json.loads(body_text)["data"]["id"]

    wrong = f"webhook_notification_url={url}&shop=8"
    code, out, _ = run(capsys, *event, "--setting", wrong, "--json")
    assert code == 1 and json.loads(out)["reason"] == "bad_signature"


def test_event_checks_the_signature_of_a_spec_that_also_confirms_by_a_fetch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Mercado Pago signs a manifest (id:<data.id>;request-id:<x-request-id>;ts:<ts>;) and its
    # events are confirmed by `get`: the CLI checks the signature and shows the events
    # unverified; mollie, which only confirms, is still refused.
    body_text = '{"action":"payment.updated","data":{"id":"1325563301"},"id":7,"type":"payment"}'
    secret, request_id, ts = "cli-webhook-secret-0f3c", "cli-request-1", "1767268801"
    manifest = f"id:1325563301;request-id:{request_id};ts:{ts};"
    v1 = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    body = _write(tmp_path, "mp.json", body_text)
    headers = [
        "--header",
        f"x-request-id: {request_id}",
        "--header",
        f"x-signature: ts={ts},v1={v1}",
    ]
    event = ["event", "mercado_pago", "--body", body, *headers]

    code, out, err = run(capsys, *event, "--secret", secret, "--json")
    assert code == 0, err
    [shown] = json.loads(out)["events"]
    assert shown["verified"] is False and shown["connector_transaction_id"] == "1325563301"
    code, out, err = run(capsys, *event, "--secret", secret)
    assert code == 0 and "signature verified" in err
    code, out, _ = run(capsys, *event, "--secret", secret[::-1], "--json")
    assert code == 1 and json.loads(out)["reason"] == "bad_signature"

    form = _write(tmp_path, "mollie.txt", "id=tr_WDqYK6vllg")
    code, out, _ = run(capsys, "event", "mollie", "--body", form, "--secret", "x", "--json")
    assert code == 1 and json.loads(out)["reason"] == "unconfirmed"


def test_event_verifies_a_braintree_delivery_with_its_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Signed as the braintree SDKs' WebhookTestingGateway does: "public_key|hex(HMAC-SHA1(
    # SHA-1(private key), bt_payload))", one pair per API key, joined by "&".
    form = dict(parse_qsl(_delivery("braintree", "transaction_settled")["body_text"]))
    payload = form["bt_payload"]
    private_key, public_key = "c1ipr1vateKey0000000000000000042", "c1ipub1ickey0042"
    digest = hashlib.sha1(private_key.encode()).digest()  # noqa: S324 (Braintree's scheme)
    ours = hmac.new(digest, payload.encode(), hashlib.sha1).hexdigest()
    signature = f"otherpublickey01|{'0' * 40}&{public_key}|{ours}"
    body = _write(
        tmp_path, "braintree.txt", urlencode({"bt_signature": signature, "bt_payload": payload})
    )
    event = ["event", "braintree", "--body", body, "--secret", private_key, "--json"]
    header = ["--header", "Content-Type: application/x-www-form-urlencoded"]

    code, out, _ = run(capsys, *event, *header)
    assert code == 1
    assert json.loads(out)["reason"] == "missing_setting"
    assert json.loads(out)["missing_settings"] == ["public_key"]
    code, out, _ = run(capsys, *event, *header, "--setting", f"public_key={public_key}")
    assert code == 0
    [verified] = json.loads(out)["events"]
    assert verified["type"] == "payment.captured" and verified["verified"] is True
    code, out, _ = run(capsys, *event, *header, "--setting", "public_key=otherpublickey01")
    assert code == 1 and json.loads(out)["reason"] == "bad_signature"


def test_event_settings_must_be_the_connectors_non_secret_ones(tmp_path: Path) -> None:
    body = _write(tmp_path, "event.json", "{}")
    for wrong in ("access_token=EAAA-not-a-setting", "notification_url=https://x", "no_equals"):
        with pytest.raises(SystemExit, match="NAME one of location_id, webhook_notification_url"):
            main(["event", "square", "--body", body, "--secret", "k", "--setting", wrong])


# --- every command: its --help, and a reader that stops early -------------------------------


def test_every_command_help_shows_its_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import build_parser

    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    summaries = {choice.dest: choice.help for choice in commands._choices_actions}
    assert set(summaries) == set(commands.choices) and len(summaries) == 12
    for name, summary in summaries.items():
        with pytest.raises(SystemExit):
            main([name, "--help"])
        out = " ".join(capsys.readouterr().out.split())  # argparse wraps the text
        assert summary and " ".join(summary.split()) in out, name


@pytest.mark.parametrize("argv", [["matrix", "--json"], ["list"]])
def test_a_reader_that_stops_early_ends_the_command_quietly(argv: list[str]) -> None:
    # The reader is gone before the first write (`connector matrix --json | head -0`): every
    # write, and the final flush, meets a broken pipe.
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "engine", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
            check=False,
            timeout=120,
        )
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == 0
