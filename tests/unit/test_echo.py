"""Response integrity (`response.echo`): an answer about another payment, refund, amount or
currency than the request is never that request's success or failure — it is unresolved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from engine import Client, load_connector
from engine._http import HttpResponse

SCENARIOS = Path(__file__).parents[1] / "connectors"


def scenario(processor: str, name: str) -> dict[str, Any]:
    path = SCENARIOS / processor / "scenarios" / f"{name}.yaml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return loaded


def answer(data: dict[str, Any], body: Any | None = None) -> HttpResponse:
    response = data["response"]
    raw = json.dumps(response["body"] if body is None else body).encode()
    return HttpResponse(response["status"], response.get("headers", {}), raw)


def parsed(processor: str, name: str, edit: Any = None) -> Any:
    data = scenario(processor, name)
    body = json.loads(json.dumps(data["response"]["body"]))
    if edit is not None:
        edit(body)
    connector = load_connector(processor)
    return connector.parse_response(data["flow"], data["request"], answer(data, body))


def unresolved_invalid(result: Any) -> bool:
    return bool(
        result.status == "unresolved"
        and result.error is not None
        and result.error.code == "invalid_response"
    )


@pytest.mark.parametrize(
    ("processor", "name", "field", "stale"),
    [
        ("stripe", "capture_full", "id", "pi_SOMEONE_ELSE"),
        ("stripe", "get_captured", "id", "pi_SOMEONE_ELSE"),
        ("stripe", "refund_partial_pending", "payment_intent", "pi_SOMEONE_ELSE"),
        ("stripe", "get_refund_succeeded", "id", "re_SOMEONE_ELSE"),
    ],
)
def test_an_answer_about_another_object_is_unresolved(
    processor: str, name: str, field: str, stale: str
) -> None:
    assert parsed(processor, name).status != "unresolved"  # the real answer reads as it says

    def edit(body: dict[str, Any]) -> None:
        body[field] = stale

    result = parsed(processor, name, edit)
    assert unresolved_invalid(result), result
    # The result names the payment the caller asked about, never the stale answer's.
    data = scenario(processor, name)
    for key in ("connector_transaction_id", "connector_refund_id"):
        if key in data["request"]:
            assert getattr(result, key) == data["request"][key]


def test_another_amount_or_currency_than_requested_is_unresolved() -> None:
    def amount(body: dict[str, Any]) -> None:
        body["amount"] = body["amount"] + 100

    def currency(body: dict[str, Any]) -> None:
        body["currency"] = "jpy"

    assert unresolved_invalid(parsed("stripe", "refund_partial_pending", amount))
    assert unresolved_invalid(parsed("stripe", "refund_partial_pending", currency))


def test_paypal_capture_echoes_the_authorization_it_captured() -> None:
    assert parsed("paypal", "capture_partial").status == "captured"

    def other(body: dict[str, Any]) -> None:
        body["supplementary_data"]["related_ids"]["authorization_id"] = "9XX00000000000000"

    def amount(body: dict[str, Any]) -> None:
        body["amount"]["value"] = "50.00"

    assert unresolved_invalid(parsed("paypal", "capture_partial", other))
    assert unresolved_invalid(parsed("paypal", "capture_partial", amount))


def test_an_echo_the_answer_leaves_out_is_not_checked() -> None:
    def drop(body: dict[str, Any]) -> None:
        del body["supplementary_data"]

    assert parsed("paypal", "capture_partial", drop).status == "captured"


def test_a_stale_answer_through_a_client_is_unresolved() -> None:
    data = scenario("stripe", "capture_full")
    body = dict(data["response"]["body"], id="pi_STALE_FROM_ANOTHER_CALL")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(data["response"]["status"], json=body)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with Client("stripe", {"api_key": "sk_test_echo"}, http_client=http) as client:
        result = client.capture(data["request"])
    assert unresolved_invalid(result)
    assert result.connector_transaction_id == data["request"]["connector_transaction_id"]
    assert result.error is not None and "pi_STALE_FROM_ANOTHER_CALL" in result.error.message
