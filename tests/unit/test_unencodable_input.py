"""A request value the processor's encoding cannot carry (XML 1.0 and most control characters)
is the caller's input error, with the request field's pointer: InputError, a 422 from the
service. Found by schemathesis (tests/service/test_schemathesis.py): it was a RenderError, which
the service answers 500 as a bug in the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine import InputError, load_connector
from engine._build import _refused_field

CREDENTIALS = json.loads(
    (Path(__file__).parents[1] / "connectors" / "worldpay" / "credentials.json").read_text()
)
AUTHORIZE: dict[str, Any] = {
    "amount": 2500,
    "currency": "GBP",
    "reference": "order-7392",
    "description": "Two books",
    "capture_method": "manual",
    "payment_method": {
        "type": "card",
        "card": {
            "number": "4444333322221111",
            "exp_month": 3,
            "exp_year": 2030,
            "cvc": "123",
            "holder_name": "Jane Doe",
        },
    },
}


def test_a_control_character_in_an_id_is_invalid_input() -> None:
    connector = load_connector("worldpay")
    with pytest.raises(InputError) as refused:
        connector.build_request("get", {"connector_transaction_id": "zq\x12zq"}, CREDENTIALS)
    assert refused.value.pointer == "/connector_transaction_id"
    assert refused.value.message.startswith("U+0012 cannot be written in XML 1.0")
    assert "zq" not in str(refused.value)  # the value is never echoed


def test_the_pointer_names_the_field_inside_a_larger_value() -> None:
    connector = load_connector("worldpay")
    request = {**AUTHORIZE, "description": "Two\x01books"}
    with pytest.raises(InputError) as refused:
        connector.build_request("authorize", request, CREDENTIALS)
    assert refused.value.pointer == "/description"


def test_a_request_that_holds_no_refused_text_leaves_it_to_the_spec() -> None:
    rendered = {"body": {"order": {"@code": "spec\x02text", "note": ["ok", "other\x03"]}}}
    assert _refused_field({"reference": "ok"}, rendered, "/body/order/@code") is None
    assert _refused_field({"note": "other\x03"}, rendered, "/body/order/note/1") == "/note"
    assert _refused_field({"a/b": {"c~": "\x02"}}, rendered, "/body/order/@code") == "/a~1b/c~0"
    assert _refused_field({"x": "\x02"}, rendered, "/body/missing") is None


@pytest.mark.asyncio
async def test_the_service_answers_422_with_the_pointer() -> None:
    import httpx

    from engine.service import create_app
    from engine.service._config import ApiKey, ServiceConfig, _digest

    config = ServiceConfig(api_keys=(ApiKey("test", _digest("svc_test_unencodable")),))
    app = create_app(config)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        answer = await client.post(
            "/v1/worldpay/get",
            json={"connector_transaction_id": "zq\x12zq"},
            headers={
                "Authorization": "Bearer svc_test_unencodable",
                "X-Connector-Credentials": json.dumps(CREDENTIALS),
            },
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/invalid-input")
    assert problem["pointer"] == "/connector_transaction_id"
