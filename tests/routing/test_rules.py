"""Routing rules are linted like specs: FILE:LINE:COL, every problem, and a plan that can never
work refused before any payment is routed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import SpecError
from engine.cli import main
from engine.routing import load_rules

RULES = """\
routing_version: 1
profiles:
  adyen-eu: {connector: adyen, cost: {EUR: {percent: 1.6, fixed: 10}}}
  stripe-us: {connector: stripe, cost: {USD: {percent: 2.9, fixed: 30}}}
  razorpay-in: {connector: razorpay}
rules:
  - name: eu-cards
    when: {currency: [EUR], card_brand: [visa, mastercard], billing_country: [DE, FR]}
    candidates: [adyen-eu, stripe-us]
    failover: [rate_limited]
  - name: usd-cheapest
    when: {currency: [USD]}
    candidates: [stripe-us, adyen-eu]
    order: cheapest
default:
  candidates: [stripe-us]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_rules_load(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, RULES))
    assert [r.name for r in rules.rules] == ["eu-cards", "usd-cheapest"]
    assert rules.profiles["adyen-eu"].cost("EUR").fee(10000) == 170  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("candidates: [adyen-eu, stripe-us]", "candidates: [adyen-eu, nosuch]", 9, "no profile"),
        ("{connector: razorpay}", "{connector: acme}", 5, "no bundled connector"),
        (
            "when: {currency: [USD]}",
            "when: {currency: [USD], payment_method: [upi]}",
            13,
            "can never take this",
        ),
        ("    order: cheapest", "    order: random", 14, "random"),
        ("failover: [rate_limited]", "failover: [lost_or_stolen_card]", 10, "lost_or_stolen"),
    ],
)
def test_problems_are_located(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in RULES
    path = _write(tmp_path, RULES.replace(old, new))
    with pytest.raises(SpecError) as raised:
        load_rules(path)
    problem = next(p for p in raised.value.problems if message in p.message)
    assert problem.file == str(path) and problem.line == line


def test_connector_route_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = _write(tmp_path, RULES)
    request = tmp_path / "request.json"
    card = {"number": "4000056655665556", "exp_month": 12, "exp_year": 2030}
    request.write_text(
        json.dumps(
            {
                "amount": 5000,
                "currency": "EUR",
                "payment_method": {"type": "card", "card": card},
                "billing_address": {"country": "DE"},
            }
        )
    )
    assert main(["route", str(rules), str(request)]) == 0
    out = capsys.readouterr().out
    assert "rule: eu-cards" in out
    assert out.index("adyen-eu") < out.index("stripe-us")
    assert "4000056655665556" not in out
    request.write_text(
        json.dumps(
            {
                "amount": 5000,
                "currency": "JPY",
                "payment_method": {"type": "token", "token": "pm_x"},
            }
        )
    )
    assert main(["route", str(rules), str(request), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rule"] == "default"
    assert main(["lint", str(rules)]) == 0
