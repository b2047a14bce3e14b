"""`connector render` and `connector parse` over a whole flow: every request of a multi-step flow
(the OAuth2 token request, each step fed by a recorded answer or --answer STEP=FILE) with the
idempotency key it sends, and a scenario file in place of separate arguments."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "connectors"
RAZORPAY = SCENARIOS / "razorpay" / "scenarios" / "authorize_card_manual_capture.yaml"
PAYPAL = SCENARIOS / "paypal" / "scenarios" / "authorize_card_manual_authorized.yaml"
PAYPAL_CREDENTIALS = json.loads((SCENARIOS / "paypal" / "credentials.json").read_text())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def scenario(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def test_render_a_scenario_shows_every_step_fed_by_its_recorded_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "render", str(RAZORPAY), "--json")
    assert code == 0, err
    shown = json.loads(out)
    order_id = scenario(RAZORPAY)["responses"][0]["body"]["id"]
    assert [r["step"] for r in shown["requests"]] == ["order", "authorize"]
    order, payment = shown["requests"]
    assert (order["method"], order["url"]) == ("POST", "https://api.razorpay.com/v1/orders")
    assert payment["url"] == "https://api.razorpay.com/v1/payments/create/json"
    # The second request is built from the first one's recorded answer.
    assert json.loads(payment["body"])["order_id"] == order_id
    assert payment["headers"]["Authorization"] == "[REDACTED]"
    assert shown["waiting_for"] is None and shown["stopped"] is None
    assert shown["idempotency_key"] == "idem-rzp-card-manual-0001"
    card = scenario(RAZORPAY)["request"]["payment_method"]["card"]
    assert card["number"] not in out and f'"{card["cvc"]}"' not in out


def test_render_text_numbers_the_requests_and_says_which_send_the_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "render", "razorpay", str(RAZORPAY))
    assert code == 0
    assert out.startswith("# idempotency key: idem-rzp-card-manual-0001\n")
    headings = re.findall(
        r"^# request (\d)/(\d): (\w+), sends (the|no) idempotency key$", out, re.M
    )
    assert [(n, total, step) for n, total, step, _ in headings] == [
        ("1", "2", "order"),
        ("2", "2", "authorize"),
    ]
    assert "POST https://api.razorpay.com/v1/payments/create/json\n" in out


def test_render_an_oauth_flow_shows_the_token_request_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps(PAYPAL_CREDENTIALS))
    code, out, _ = run(capsys, "render", str(PAYPAL), "--credentials", str(credentials), "--json")
    assert code == 0
    token, order = json.loads(out)["requests"]
    assert token["step"] == "token" and token["method"] == "POST"
    assert token["url"] == "https://api-m.sandbox.paypal.com/v1/oauth2/token"
    assert token["headers"]["Authorization"] == "[REDACTED]"
    assert token["body"] == "grant_type=client_credentials"
    assert token["idempotency_key"] is None
    # The order request sends PayPal-Request-Id: the call's key.
    assert order["headers"]["PayPal-Request-Id"] == "idem-pp-auth-manual-1"
    assert order["idempotency_key"] == "idem-pp-auth-manual-1"
    assert order["headers"]["Authorization"] == "[REDACTED]"
    for secret in PAYPAL_CREDENTIALS.values():
        assert secret not in out


def test_answer_feeds_the_later_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = scenario(RAZORPAY)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(data["request"]))
    # Without the step's answer only the first request can be built: the note names the step.
    code, out, err = run(capsys, "render", "razorpay", "authorize", str(request), "--json")
    assert code == 0
    shown = json.loads(out)
    assert [r["step"] for r in shown["requests"]] == ["order"]
    assert shown["waiting_for"] == "order"
    assert "--answer order=FILE" in err
    answer = tmp_path / "order.json"
    answer.write_text(json.dumps({**data["responses"][0]["body"], "id": "order_FromTheFile01"}))
    code, out, _ = run(
        capsys, "render", "razorpay", "authorize", str(request), "--answer", f"order={answer}"
    )
    assert code == 0
    assert '"order_id":"order_FromTheFile01"' in out


def test_answer_names_a_step_of_the_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = tmp_path / "order.json"
    answer.write_text("{}")
    with pytest.raises(SystemExit, match="STEP one of order"):
        main(["render", str(RAZORPAY), "--answer", f"ordr={answer}"])


def test_a_failed_step_answer_stops_the_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = SCENARIOS / "razorpay" / "scenarios" / "authorize_order_400_amount.yaml"
    code, out, _ = run(capsys, "render", str(refused), "--json")
    assert code == 0
    shown = json.loads(out)
    assert [r["step"] for r in shown["requests"]] == ["order"]
    assert shown["stopped"]["status"] == scenario(refused)["expect"]["status"]


def test_a_step_that_timed_out_stops_the_flow(capsys: pytest.CaptureFixture[str]) -> None:
    timed_out = SCENARIOS / "razorpay" / "scenarios" / "authorize_order_read_timeout.yaml"
    assert scenario(timed_out)["responses"][0] == {"transport": "read_timeout"}
    code, out, err = run(capsys, "render", str(timed_out))
    assert code == 0 and err == ""
    assert out.count("# request ") == 1
    assert out.endswith("# the flow stops here: the answer was ReadTimeout\n")


def test_render_shows_the_key_the_client_would_generate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "amount": 1099,
                "currency": "EUR",
                "payment_method": {"type": "token", "token": "pm_card_visa"},
            }
        )
    )
    code, out, _ = run(capsys, "render", "stripe", "authorize", str(request), "--json")
    assert code == 0
    shown = json.loads(out)
    key = shown["idempotency_key"]
    assert re.fullmatch(r"[0-9a-f]{32}", key) and shown["idempotency_key_generated"] is True
    [payment] = shown["requests"]
    assert payment["headers"]["Idempotency-Key"] == key == payment["idempotency_key"]
    code, out, _ = run(capsys, "render", "stripe", "authorize", str(request))
    assert "(generated, as the Client would" in out.splitlines()[0]


def test_a_key_in_the_body_is_shown_as_sent(capsys: pytest.CaptureFixture[str]) -> None:
    path = SCENARIOS / "square" / "scenarios" / "authorize_manual_approved.yaml"
    code, out, _ = run(capsys, "render", str(path), "--json")
    assert code == 0
    [payment] = json.loads(out)["requests"]
    key = scenario(path)["request"]["idempotency_key"]
    assert json.loads(payment["body"])["idempotency_key"] == key == payment["idempotency_key"]


def test_a_scenario_outside_the_tests_names_its_connector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "mine.yaml"
    copy.write_text(RAZORPAY.read_text())
    with pytest.raises(SystemExit, match="name the connector"):
        main(["render", str(copy)])
    code, out, _ = run(capsys, "render", "razorpay", str(copy), "--json")
    assert code == 0 and len(json.loads(out)["requests"]) == 2


def test_render_and_parse_refuse_a_wrong_number_of_arguments() -> None:
    with pytest.raises(SystemExit, match=r"CONNECTOR FLOW REQUEST\.json"):
        main(["render", "stripe", "authorize"])
    with pytest.raises(SystemExit, match="RESPONSE_FILE"):
        main(["parse", "stripe", "authorize", "request.json"])


@pytest.mark.parametrize(
    "path",
    [
        RAZORPAY,
        SCENARIOS / "razorpay" / "scenarios" / "authorize_payment_read_timeout.yaml",
        SCENARIOS / "razorpay" / "scenarios" / "authorize_order_400_amount.yaml",
        PAYPAL,
        SCENARIOS / "stripe" / "scenarios" / "authorize_card_manual_authorized.yaml",
    ],
    ids=lambda p: f"{p.parent.parent.name}-{p.stem}",
)
def test_parse_a_scenario_gives_its_expected_result(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "parse", str(path), "--json")
    assert code == 0
    result = json.loads(out)
    for dotted, expected in scenario(path)["expect"].items():
        value: Any = result
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        assert value == expected, dotted


def test_parse_of_a_response_file_still_needs_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"connector_transaction_id": "pi_1"}))
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"id": "pi_1", "object": "payment_intent", "status": "canceled"}))
    with pytest.raises(SystemExit, match="--status"):
        main(["parse", "stripe", "get", str(request), str(body)])
    code, out, _ = run(capsys, "parse", "stripe", "get", str(request), str(body), "--status", "200")
    assert code == 0 and "status: voided" in out


def test_a_step_with_its_own_derived_key_shows_that_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib
    import uuid

    text = (ROOT / "specs" / "connectors" / "razorpay.yaml").read_text()
    text = text.replace("id: razorpay\n", "id: razorpay_keyed\n", 1)
    order = "          method: POST\n          path: /v1/orders\n"
    assert text.count(order) == 1
    text = text.replace(
        order,
        order + "          headers:\n"
        "            X-Order-Key: \"{{ request.idempotency_key | derive_key('order') }}\"\n",
    )
    spec = tmp_path / "razorpay_keyed.yaml"
    spec.write_text(text)
    code, out, err = run(capsys, "render", str(spec), str(RAZORPAY), "--json")
    assert code == 0, err
    key = scenario(RAZORPAY)["request"]["idempotency_key"]
    digest = hashlib.sha256(f"{key}\x00order".encode()).digest()[:16]
    derived = str(uuid.UUID(bytes=digest, version=4))
    order_request, payment = json.loads(out)["requests"]
    assert order_request["headers"]["X-Order-Key"] == derived == order_request["idempotency_key"]
    assert payment["idempotency_key"] is None
    code, out, _ = run(capsys, "render", str(spec), str(RAZORPAY))
    assert f"# request 1/2: order, sends the idempotency key {derived} (derived" in out
