"""`connector new NAME` → a spec and a test folder that lint clean, ready to edit."""

from __future__ import annotations

import json
import re
from pathlib import Path

SPEC = """\
# {title}: replace every TODO with what the processor's API reference says.
spec_version: 1
id: {name}
name: {title}
docs: https://example.com/TODO-api-reference

credentials:
  api_key:
    secret: true
    description: "TODO: the secret API key, and where the merchant finds it."

environments:
  sandbox: https://api.sandbox.example.com
  production: https://api.example.com

auth:
  scheme: bearer
  token: "{{{{ credentials.api_key }}}}"

amounts:
  format: minor_integer

capabilities:
  payment_methods: [card]
  capture_methods: [automatic]
  currencies: any

defaults:
  encoding: json
  response:
    error:
      code: "error.code"
      message: "error.message"
      map:
        insufficient_funds: insufficient_funds
      default: card_declined

flows:
  authorize:
    request:
      method: POST
      path: /v1/payments
      headers:
        Idempotency-Key: "{{{{ request.idempotency_key }}}}"
      body:
        amount: "{{{{ amount }}}}"
        currency: "{{{{ request.currency }}}}"
        reference: "{{{{ request.reference }}}}"
        card:
          number: "{{{{ request.payment_method.card.number }}}}"
          exp_month: "{{{{ request.payment_method.card.exp_month }}}}"
          exp_year: "{{{{ request.payment_method.card.exp_year }}}}"
          cvc: "{{{{ request.payment_method.card.cvc }}}}"
    response:
      status:
        from: status
        map:
          succeeded: captured
          declined: failed
      fields:
        connector_transaction_id: id
        amount: amount
        currency: currency

  get:
    request:
      method: GET
      path: "/v1/payments/{{{{ request.connector_transaction_id }}}}"
    response:
      status:
        from: status
        map:
          succeeded: captured
          declined: failed
      fields:
        connector_transaction_id: id
"""

SCENARIO = """\
description: "TODO: an approved card payment, with the processor's documented response."
flow: authorize
request:
  amount: 1099
  currency: USD
  reference: order-1
  idempotency_key: idem-1
  payment_method:
    type: card
    card: {number: "4242424242424242", exp_month: 12, exp_year: 2030, cvc: "123"}
response:
  status: 200
  body: {id: pay_1, status: succeeded, amount: 1099, currency: USD}
expect:
  status: captured
  connector_transaction_id: pay_1
"""


def scaffold(name: str, root: Path) -> list[Path]:
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name):
        raise SystemExit("connector: NAME must be lower case letters, digits and underscores")
    spec = root / "specs" / "connectors" / f"{name}.yaml"
    tests = root / "tests" / "connectors" / name
    if spec.exists() or tests.exists():
        raise SystemExit(f"connector: {spec} or {tests} already exists")
    title = name.replace("_", " ").title()
    files = {
        spec: SPEC.format(name=name, title=title),
        tests / "__init__.py": "",
        tests / "credentials.json": json.dumps({"api_key": "test_key_not_real"}, indent=2) + "\n",
        tests / "scenarios" / "authorize_approved.yaml": SCENARIO,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
