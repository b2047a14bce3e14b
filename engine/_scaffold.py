"""`connector new NAME` → in a project root, a spec, a scenario for each of its flows and a
README row: they lint clean and pass every test once the snapshots and docs are written."""

from __future__ import annotations

import json
import re
from pathlib import Path

#: `__ID__` and `__TITLE__` are replaced (str.format would fight the templates' braces).
SPEC = """\
# __TITLE__: replace every TODO with what the processor's API reference says, and each scenario
# under tests/connectors/__ID__/scenarios/ with its documented responses.
spec_version: 2
id: __ID__
name: __TITLE__
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
  token: "{{ credentials.api_key }}"

amounts:
  format: minor_integer

capabilities:
  payment_methods: [card]
  capture_methods: [automatic, manual]
  currencies: any

defaults:
  encoding: json
  headers:
    Idempotency-Key: "{{ request.idempotency_key }}"
  response:
    error:
      code: "error.code"
      message: "error.message"
      # Codes that already are unified codes pass through; then the processor's own table.
      map: [passthrough, __ID___codes]
      default: card_declined

flows:
  authorize:
    request:
      method: POST
      path: /v1/payments
      body:
        amount: "{{ amount }}"
        currency: "{{ request.currency }}"
        capture: "{{ request.capture_method != 'manual' }}"
        reference: "{{ request.reference }}"
        card:
          number: "{{ request.payment_method.card.number }}"
          exp_month: "{{ request.payment_method.card.exp_month }}"
          exp_year: "{{ request.payment_method.card.exp_year }}"
          cvc: "{{ request.payment_method.card.cvc }}"
    response:
      status: &payment_status
        from: status
        map:
          authorized: authorized
          succeeded: captured
          canceled: voided
          declined: failed
      fields: &payment_fields
        connector_transaction_id: id
        reference: reference
        amount: amount
        currency: currency

  capture:
    request:
      method: POST
      path: "/v1/payments/{{ request.connector_transaction_id }}/capture"
      body:
        amount: "{{ amount }}"
    response:
      status: *payment_status
      fields: *payment_fields

  void:
    request:
      method: POST
      path: "/v1/payments/{{ request.connector_transaction_id }}/cancel"
    response:
      status: *payment_status
      fields: *payment_fields

  refund:
    request:
      method: POST
      path: /v1/refunds
      body:
        payment: "{{ request.connector_transaction_id }}"
        amount: "{{ amount }}"
    response:
      status:
        from: status
        map:
          pending: pending
          succeeded: succeeded
          failed: failed
      fields:
        connector_refund_id: id
        connector_transaction_id: payment
        amount: amount
        currency: currency

  get:
    request:
      method: GET
      path: "/v1/payments/{{ request.connector_transaction_id }}"
      headers:
        Idempotency-Key: null  # a read has no key: null leaves the inherited header out
    response:
      status: *payment_status
      fields: *payment_fields

tables:
  # TODO: the processor's own error codes, grouped under the unified code each means.
  __ID___codes:
    card_declined: [generic_decline, do_not_honour]
    incorrect_cvc: [invalid_cvc]
"""

CARD = '{number: "4242424242424242", exp_month: 12, exp_year: 2030, cvc: "123"}'
TODO = "TODO: the processor's documented response for this case"

#: name → (flow, request, answer status, answer body, expect), all YAML flow text.
SCENARIOS: dict[str, tuple[str, str, int, str, str]] = {
    "authorize_approved": (
        "authorize",
        "{amount: 1099, currency: USD, reference: order-1, idempotency_key: idem-auth-1, "
        f"payment_method: {{type: card, card: {CARD}}}}}",
        200,
        "{id: pay_1, status: succeeded, reference: order-1, amount: 1099, currency: USD}",
        "{status: captured, connector_transaction_id: pay_1, amount: 1099, error: null}",
    ),
    "authorize_manual_authorized": (
        "authorize",
        "{amount: 1099, currency: USD, capture_method: manual, reference: order-2, "
        f"idempotency_key: idem-auth-2, payment_method: {{type: card, card: {CARD}}}}}",
        200,
        "{id: pay_2, status: authorized, reference: order-2, amount: 1099, currency: USD}",
        "{status: authorized, connector_transaction_id: pay_2}",
    ),
    "authorize_declined_insufficient_funds": (
        "authorize",
        "{amount: 1099, currency: USD, reference: order-3, idempotency_key: idem-auth-3, "
        f"payment_method: {{type: card, card: {CARD}}}}}",
        402,
        "{error: {code: insufficient_funds, message: Insufficient funds.}}",
        "{status: failed, error.code: insufficient_funds, error.connector_code: "
        "insufficient_funds}",
    ),
    "authorize_declined_do_not_honour": (
        "authorize",
        "{amount: 1099, currency: USD, reference: order-4, idempotency_key: idem-auth-4, "
        f"payment_method: {{type: card, card: {CARD}}}}}",
        402,
        "{error: {code: do_not_honour, message: Do not honour.}}",
        "{status: failed, error.code: card_declined, error.connector_code: do_not_honour}",
    ),
    "capture_full": (
        "capture",
        # No amount: the whole authorization (declare partial_capture to capture a part).
        "{connector_transaction_id: pay_2, idempotency_key: idem-capture-1}",
        200,
        "{id: pay_2, status: succeeded, reference: order-2, amount: 1099, currency: USD}",
        "{status: captured, connector_transaction_id: pay_2}",
    ),
    "void_canceled": (
        "void",
        "{connector_transaction_id: pay_2, idempotency_key: idem-void-1}",
        200,
        "{id: pay_2, status: canceled, reference: order-2, amount: 1099, currency: USD}",
        "{status: voided, connector_transaction_id: pay_2}",
    ),
    "refund_succeeded": (
        "refund",
        "{connector_transaction_id: pay_1, amount: 1099, currency: USD, "
        "idempotency_key: idem-refund-1}",
        200,
        "{id: re_1, status: succeeded, payment: pay_1, amount: 1099, currency: USD}",
        "{status: succeeded, connector_refund_id: re_1, connector_transaction_id: pay_1}",
    ),
    "get_captured": (
        "get",
        "{connector_transaction_id: pay_1}",
        200,
        "{id: pay_1, status: succeeded, reference: order-1, amount: 1099, currency: USD}",
        "{status: captured, connector_transaction_id: pay_1}",
    ),
}

#: The README's processor table: `new` adds the connector's row after the last one.
_TABLE_ROW = re.compile(r"^\| `[a-z0-9_]+` \|.*\|$", re.M)


def scenario_text(name: str) -> str:
    flow, request, status, body, expect = SCENARIOS[name]
    return (
        f'description: "TODO: {name.replace("_", " ")}, as the processor documents it."\n'
        f"flow: {flow}\n"
        f"request: {request}\n"
        f"response:  # {TODO}\n"
        f"  status: {status}\n"
        f"  headers: {{Content-Type: application/json}}\n"
        f"  body: {body}\n"
        f"expect: {expect}\n"
    )


def planned_files(name: str) -> dict[Path, str]:
    """Each file `new` writes (relative to the project root) and its text."""
    title = name.replace("_", " ").title()
    tests = Path("tests") / "connectors" / name
    files = {
        Path("specs") / "connectors" / f"{name}.yaml": SPEC.replace("__ID__", name).replace(
            "__TITLE__", title
        ),
        tests / "__init__.py": "",
        tests / "credentials.json": json.dumps({"api_key": "test_key_not_real"}, indent=2) + "\n",
    }
    for scenario in SCENARIOS:
        files[tests / "scenarios" / f"{scenario}.yaml"] = scenario_text(scenario)
    return files


def is_project_root(root: Path) -> bool:
    """A checkout of this project: the bundled specs and the connector tests sit under it."""
    return (root / "specs" / "connectors").is_dir() and (root / "tests" / "connectors").is_dir()


def scaffold(name: str, root: Path) -> list[Path]:
    """Write the files (and the README row) and return the paths written."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", name):
        raise SystemExit("connector: NAME must be lower case letters, digits and underscores")
    if not is_project_root(root):
        raise SystemExit(
            f"connector: {root.resolve()} is not the project root (it has no specs/connectors/ "
            "and tests/connectors/): run `connector new` there, or give --root"
        )
    files = {root / relative: text for relative, text in planned_files(name).items()}
    spec = root / "specs" / "connectors" / f"{name}.yaml"
    tests = root / "tests" / "connectors" / name
    if spec.exists() or tests.exists():
        raise SystemExit(f"connector: {spec} or {tests} already exists")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    written = list(files)
    readme = root / "README.md"
    if readme.is_file() and _add_readme_row(readme, name, name.replace("_", " ").title()):
        written.append(readme)
    return written


def _add_readme_row(readme: Path, name: str, title: str) -> bool:
    """Add `name`'s row after the last row of the README's processor table (which a test keeps
    in step with the bundled specs); False when there is no such table."""
    text = readme.read_text(encoding="utf-8")
    rows = list(_TABLE_ROW.finditer(text))
    if not rows:
        return False
    row = f"| `{name}` | {title} | TODO: what it exercises |"
    end = rows[-1].end()
    readme.write_text(text[:end] + "\n" + row + text[end:], encoding="utf-8")
    return True
