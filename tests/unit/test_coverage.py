"""engine._coverage: a declared flow that no scenario exercises is a lint warning (never an
error), and the feature matrix gives it no ✓."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine._connector import Connector
from engine._docs import render_matrix_markdown
from engine._spec import compile_file, lint_file
from engine.cli import main

from .conftest import ACME_SPEC

APPROVED = """\
description: A card authorization is approved.
flow: authorize
request:
  {amount: 1099, currency: USD, reference: order-1, payment_method: {type: token, token: tok_1}}
response:
  status: 200
  headers: {Content-Type: application/json}
  body: {id: pay_1, status: approved, amount: 1099, currency: USD}
expect: {status: captured, connector_transaction_id: pay_1}
"""

#: Refused before anything is sent: it exercises nothing of the spec's exchange.
CAPTURE_REFUSED = """\
description: A capture without a transaction id is refused before sending.
flow: capture
request: {amount: 1099, currency: USD}
expect: {raises: InputError}
"""

DELIVERY = """\
description: payment.captured, correctly signed.
headers: {Acme-Signature: "t=1700000000,v1=00"}
body_text: '{"id": "evt_1", "type": "payment.captured"}'
secret: whsec_test
now: 1700000000
expect:
  events:
    - {type: payment.captured}
"""


def project(root: Path, fixtures: dict[str, str]) -> Path:
    """`root` laid out as `connector new` does: the spec and its test folder."""
    spec = root / "specs" / "connectors" / "acme.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(ACME_SPEC, encoding="utf-8")
    tests = root / "tests" / "connectors" / "acme"
    for name, text in fixtures.items():
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text(text, encoding="utf-8")
    return spec


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line == needle:
            return number
    raise AssertionError(needle)


def test_a_flow_without_a_scenario_is_a_warning(tmp_path: Path) -> None:
    spec = project(
        tmp_path,
        {
            "scenarios/authorize_approved.yaml": APPROVED,
            "scenarios/capture_refused.yaml": CAPTURE_REFUSED,
        },
    )
    assert lint_file(spec) == []  # a warning never makes the spec invalid
    compile_file(spec)
    warnings = lint_file(spec, warnings=True)
    assert all(w.severity == "warning" for w in warnings)
    missing = ["capture", "void", "refund", "get", "get_refund"]
    assert [(w.pointer, w.line, w.col) for w in warnings] == [
        *((f"/flows/{f}", line_of(ACME_SPEC, f"  {f}:"), 3) for f in missing),
        ("/webhooks", line_of(ACME_SPEC, "webhooks:"), 1),
    ]
    assert warnings[0].message == (
        "no scenario exercises 'capture': add one under tests/connectors/acme/scenarios/"
    )
    assert warnings[0].format().startswith(f"{spec}:{warnings[0].line}:3: warning: no scenario")


def test_every_flow_exercised_gives_no_warning(tmp_path: Path) -> None:
    fixtures = {"webhooks/captured.yaml": DELIVERY}
    for flow in ("authorize", "capture", "void", "refund", "get", "get_refund"):
        fixtures[f"scenarios/{flow}.yaml"] = APPROVED.replace("flow: authorize", f"flow: {flow}")
    assert lint_file(project(tmp_path, fixtures), warnings=True) == []


def test_a_spec_outside_a_project_layout_gets_no_scenario_warning(tmp_path: Path) -> None:
    spec = tmp_path / "acme.yaml"
    spec.write_text(ACME_SPEC, encoding="utf-8")
    assert lint_file(spec, warnings=True) == []


def test_the_linter_prints_warnings_and_still_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = project(tmp_path, {"scenarios/authorize_approved.yaml": APPROVED})
    assert main(["lint", str(spec)]) == 0
    captured = capsys.readouterr()
    assert "warning: no scenario exercises 'void'" in captured.out
    assert "1 spec(s) checked, 0 problem(s), 6 warning(s)" in captured.err


def test_the_matrix_gives_no_tick_to_a_flow_no_scenario_exercises(tmp_path: Path) -> None:
    spec = project(tmp_path, {"scenarios/authorize_approved.yaml": APPROVED})
    table = render_matrix_markdown([Connector(compile_file(spec))])
    header, _, row = table.splitlines()[:3]
    cells = dict(zip(header.strip("|").split(" | "), row.strip("|").split(" | "), strict=True))
    cells = {k.strip(): v.strip() for k, v in cells.items()}
    assert cells["authorize"] == "✓"
    assert cells["capture"] == cells["refund"] == cells["parse_event"] == "○"
    assert cells["complete_authorize"] == "—"  # not declared
    assert "- ○ declared, but no scenario exercises it" in table
