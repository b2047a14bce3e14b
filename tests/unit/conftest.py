"""A tiny fixture processor, "acme", compiled from inline YAML so the unit tests do not depend
on the bundled specs. `acme_variant` compiles a modified copy for tests that need another
auth scheme, amount format or webhook layout."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from engine._plan import ConnectorPlan
from engine._spec import compile_text

API_KEY = "ak_test_Zq8vR3nLw5Tx"
CARD_NUMBER = "4111111111111111"
CVC = "737"
WEBHOOK_SECRET = "whsec_acme_unit"

ACME_SPEC = """\
spec_version: 1
id: acme
name: Acme Pay
docs: https://docs.acme-pay.com/api
credentials:
  api_key:
    secret: true
    description: Secret API key (ak_test_... or ak_live_...).
    pattern: "^ak_(test|live)_[A-Za-z0-9]+$"
  region:
    secret: false
    description: The region label in the API host.
    default: eu
environments:
  sandbox: "https://{{ credentials.region }}-sandbox.acme-pay.com"
  production: "https://{{ credentials.region }}-api.acme-pay.com"
auth:
  scheme: header
  headers:
    X-Api-Key: "{{ credentials.api_key }}"
amounts:
  format: minor_integer
capabilities:
  payment_methods: [card, token]
  capture_methods: [automatic, manual]
  currencies: [USD, EUR, JPY, KWD]
  partial_capture: true
  partial_refund: true
  three_ds: true
defaults:
  encoding: json
  headers:
    Idempotency-Key: "{{ request.idempotency_key }}"
  response:
    error:
      code: "error.code"
      message: "error.message"
      decline_code: "error.decline_code"
      map:
        insufficient_funds: insufficient_funds
        expired_card: expired_card
        do_not_honor: do_not_honor
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
        source:
          number: "{{ request.payment_method.card.number }}"
          expiry_month: "{{ request.payment_method.card.exp_month }}"
          expiry_year: "{{ request.payment_method.card.exp_year }}"
          cvc: "{{ request.payment_method.card.cvc }}"
          token: "{{ request.payment_method.token }}"
        metadata: "{{ request.metadata }}"
    response:
      error_when: "error"
      status:
        from: status
        map:
          approved:
            if: "request.capture_method == 'manual'"
            then: authorized
            else: captured
          pending: pending
          challenge: requires_action
          declined: failed
      fields:
        connector_transaction_id: id
        amount: amount
        currency: currency
      next_action:
        url: action.url
        method: action.method
        data: action.data
  capture:
    request:
      method: POST
      path: "/v1/payments/{{ request.connector_transaction_id }}/captures"
      body:
        amount: "{{ amount }}"
    response:
      status:
        from: status
        map: {captured: captured, partially_captured: partially_captured, declined: failed}
      fields:
        connector_transaction_id: payment_id
  void:
    request:
      method: POST
      path: "/v1/payments/{{ request.connector_transaction_id }}/voids"
    response:
      status:
        from: status
        map: {voided: voided}
  refund:
    request:
      method: POST
      path: /v1/refunds
      body:
        payment_id: "{{ request.connector_transaction_id }}"
        amount: "{{ amount }}"
    response:
      status:
        from: status
        map: {succeeded: succeeded, pending: pending, failed: failed}
      fields:
        connector_refund_id: id
  get:
    request:
      method: GET
      path: "/v1/payments/{{ request.connector_transaction_id }}"
      headers:
        Idempotency-Key: null
    response:
      status:
        from: status
        map: {approved: authorized, captured: captured, declined: failed}
      fields:
        connector_transaction_id: id
  get_refund:
    request:
      method: GET
      path: "/v1/refunds/{{ request.connector_refund_id }}"
      headers:
        Idempotency-Key: null
    response:
      status:
        from: status
        map: {succeeded: succeeded, pending: pending, failed: failed}
webhooks:
  signature:
    header: Acme-Signature
    parse: {pair_separator: ",", value_separator: "=", signature_key: v1, timestamp_key: t}
    message: "{{ timestamp }}.{{ body }}"
    algorithm: sha256
    key_encoding: utf8
    output: hex
    tolerance_seconds: 300
  event:
    type: type
    id: id
    map:
      payment.captured: payment.captured
      refund.done: refund.succeeded
    fields:
      connector_transaction_id: data.payment_id
      amount: data.amount
      currency: data.currency
"""


def acme_dict() -> dict[str, Any]:
    """The fixture spec as plain data (a fresh copy to modify)."""
    return copy.deepcopy(yaml.safe_load(ACME_SPEC))


def acme_variant(edit: Callable[[dict[str, Any]], None]) -> ConnectorPlan:
    """Compile the fixture spec after `edit` changed its data in place."""
    data = acme_dict()
    edit(data)
    return compile_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def card_request(**overrides: Any) -> dict[str, Any]:
    """A valid unified authorize request paying by card."""
    request: dict[str, Any] = {
        "amount": 1099,
        "currency": "USD",
        "payment_method": {
            "type": "card",
            "card": {"number": CARD_NUMBER, "exp_month": 3, "exp_year": 2030, "cvc": CVC},
        },
    }
    request.update(overrides)
    return request


@pytest.fixture(scope="session")
def acme() -> ConnectorPlan:
    return compile_text(ACME_SPEC, "acme.yaml")


@pytest.fixture
def credentials() -> dict[str, str]:
    return {"api_key": API_KEY}
