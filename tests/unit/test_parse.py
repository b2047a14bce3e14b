"""engine._parse: processor HttpResponse → unified Result, row by row of the outcome table.
Pure and total: any bytes give a Result, never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine._errors import UnsupportedError
from engine._http import HttpResponse
from engine._outcomes import HTTP_ERROR_CODES, OUTCOMES, UNCERTAIN_HTTP
from engine._parse import parse_response
from engine._plan import ConnectorPlan
from engine._unified import RETRYABLE_CODES, NextAction, PaymentStatus, RefundStatus, Result

from .conftest import CARD_NUMBER, acme_variant, card_request

REQUEST = card_request(idempotency_key="idem-1")


def _honours_keys(spec: dict[str, Any]) -> None:
    spec["capabilities"]["idempotency_key"] = True


def parse(
    plan: ConnectorPlan,
    status: int,
    body: Any,
    *,
    flow: str = "authorize",
    request: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = HttpResponse(status, headers or {"Content-Type": "application/json"}, raw)
    return parse_response(plan, flow, REQUEST if request is None else request, response)


def test_the_outcome_table_has_the_rows_tested_here() -> None:
    assert [status for _, status, _ in OUTCOMES] == [
        "exception",
        "exception (NotSentError)",
        "unresolved",
        "unresolved",
        "unresolved",
        "unresolved",
        "unresolved",
        "unresolved",
        "unresolved",
        "unresolved",
        "failed",
        "failed",
        "that status",
    ]
    assert frozenset({408, 409, 500, 502, 503, 504, 599}) <= UNCERTAIN_HTTP
    assert 404 not in UNCERTAIN_HTTP


def test_a_refused_read_leaves_the_payment_unresolved(acme: ConnectorPlan) -> None:
    result = parse_response(
        acme, "get", {"connector_transaction_id": "p"}, HttpResponse(404, {}, b'{"error": {}}')
    )
    assert result.status == "unresolved"
    assert result.error is not None and result.error.code == "not_found"


# --- 2xx whose status maps to anything else: that status ---------------------------------------


def test_a_mapped_2xx_status(acme: ConnectorPlan) -> None:
    result = parse(
        acme, 200, {"id": "pay_1", "status": "approved", "amount": 1099, "currency": "USD"}
    )
    assert result == Result(
        flow="authorize",
        connector="acme",
        status="captured",
        connector_status="approved",
        connector_transaction_id="pay_1",
        amount=1099,
        currency="USD",
        http_status=200,
        idempotency_key="idem-1",
    )


def test_a_status_condition_reads_the_request(acme: ConnectorPlan) -> None:
    request = card_request(capture_method="manual")
    result = parse(acme, 201, {"id": "pay_1", "status": "approved"}, request=request)
    assert (result.status, result.http_status) == ("authorized", 201)


def test_a_refund_flow_gives_refund_statuses(acme: ConnectorPlan) -> None:
    request = {"connector_transaction_id": "pay_1"}
    result = parse(acme, 200, {"id": "re_1", "status": "succeeded"}, flow="refund", request=request)
    assert (result.status, result.connector_refund_id) == (RefundStatus.SUCCEEDED, "re_1")


def test_ids_are_text(acme: ConnectorPlan) -> None:
    result = parse(acme, 200, {"id": 12345, "status": "approved"})
    assert result.connector_transaction_id == "12345"
    result = parse(acme, 200, {"id": {"nested": 1}, "status": "approved"})
    assert result.connector_transaction_id is None


def test_the_caller_idempotency_key_wins(acme: ConnectorPlan) -> None:
    response = HttpResponse(200, {}, b'{"id": "p", "status": "approved"}')
    result = parse_response(acme, "authorize", REQUEST, response, idempotency_key="given")
    assert result.idempotency_key == "given"


def test_next_action_get(acme: ConnectorPlan) -> None:
    body = {"id": "pay_1", "status": "challenge", "action": {"url": "https://acs.example/3ds"}}
    result = parse(acme, 200, body)
    assert result.status == PaymentStatus.REQUIRES_ACTION
    assert result.next_action == NextAction(type="redirect", url="https://acs.example/3ds")
    assert result.next_action.method == "GET"


def test_next_action_post_with_data(acme: ConnectorPlan) -> None:
    body = {
        "id": "pay_1",
        "status": "challenge",
        "action": {
            "url": "https://acs.example/3ds",
            "method": "post",
            "data": {"PaReq": "abc", "MD": 7},
        },
    }
    result = parse(acme, 200, body)
    assert result.next_action == NextAction(
        type="redirect",
        url="https://acs.example/3ds",
        method="POST",
        data={"PaReq": "abc", "MD": "7"},
    )


def test_next_action_with_an_unknown_method_is_get(acme: ConnectorPlan) -> None:
    body = {
        "id": "p",
        "status": "challenge",
        "action": {"url": "https://a.example", "method": "PUT"},
    }
    assert parse(acme, 200, body).next_action == NextAction(
        type="redirect", url="https://a.example"
    )


def test_no_next_action_without_a_url(acme: ConnectorPlan) -> None:
    assert parse(acme, 200, {"id": "p", "status": "challenge"}).next_action is None


# --- 2xx whose status maps to failed: a decline ------------------------------------------------


def test_a_decline_on_200_is_failed_with_the_mapped_code(acme: ConnectorPlan) -> None:
    body = {
        "id": "pay_1",
        "status": "declined",
        "error": {"code": "do_not_honor", "message": "Do not honor", "decline_code": "05"},
    }
    # error_when is "error": a body with an error object is an error whatever its status.
    result = parse(acme, 200, body)
    assert result.status == "failed"
    assert result.error is not None
    assert (result.error.code, result.error.retryable) == ("do_not_honor", False)
    assert (result.error.connector_code, result.error.decline_code) == ("do_not_honor", "05")
    assert result.error.message == "Do not honor"
    assert result.error.http_status == 200


def test_a_status_mapped_to_failed_reads_the_error(acme: ConnectorPlan) -> None:
    def edit(spec: dict[str, Any]) -> None:
        del spec["flows"]["authorize"]["response"]["error_when"]

    plan = acme_variant(edit)
    body = {
        "id": "pay_1",
        "status": "declined",
        "error": {"code": "expired_card", "message": "Expired"},
    }
    result = parse(plan, 200, body)
    assert (result.status, result.connector_status) == ("failed", "declined")
    assert result.error is not None
    assert (result.error.code, result.error.connector_code) == ("expired_card", "expired_card")
    assert result.connector_transaction_id == "pay_1"


# --- error_when on a 2xx: failed -----------------------------------------------------------------


def test_error_when_on_200_is_failed(acme: ConnectorPlan) -> None:
    body = {"error": {"code": "insufficient_funds", "message": "Not enough money"}}
    result = parse(acme, 200, body)
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.code == "insufficient_funds"
    assert result.error.connector_message == "Not enough money"


# --- HTTP 4xx: failed, with the mapped code or the HTTP status's code ---------------------------


def test_4xx_with_a_mapped_code(acme: ConnectorPlan) -> None:
    body = {"error": {"code": "expired_card", "message": f"Card {CARD_NUMBER} has expired"}}
    result = parse(acme, 402, body)
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.code == "expired_card"
    assert result.error.http_status == 402
    # A processor echoing the card number does not put it in the result.
    assert result.error.message == "Card [REDACTED] has expired"
    assert CARD_NUMBER not in repr(result)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_request"),
        (401, "invalid_credentials"),
        (402, "card_declined"),
        (403, "invalid_credentials"),
        (404, "not_found"),
        (422, "invalid_request"),
        (429, "rate_limited"),
    ],
)
def test_4xx_default_codes_by_http_status(acme: ConnectorPlan, status: int, code: str) -> None:
    assert HTTP_ERROR_CODES[status] == code
    for body in ({"error": {"code": "unmapped_code", "message": "m"}}, {}, b""):
        result = parse(acme, status, body)
        assert result.status == "failed", body
        assert result.error is not None
        assert result.error.code == code
        assert result.error.http_status == status


def test_an_unlisted_4xx_without_a_code_is_an_unresolved_processor_error(
    acme: ConnectorPlan,
) -> None:
    result = parse(acme, 418, {})
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == "processor_error"


def test_the_spec_default_code_applies_where_http_says_nothing() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["default"] = "card_declined"

    plan = acme_variant(edit)
    assert parse(plan, 402, {"error": {"code": "xyz"}}).error.code == "card_declined"  # type: ignore[union-attr]
    # ...but never makes a decline of a status nobody explains.
    unexplained = parse(plan, 418, {})
    assert unexplained.status == "unresolved"
    assert unexplained.error is not None and unexplained.error.code == "processor_error"
    # The HTTP status's own code wins over the default.
    assert parse(plan, 404, {}).error.code == "not_found"  # type: ignore[union-attr]


# --- HTTP 5xx and 408/409: unresolved ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "processor_error"),
        (502, "processor_unavailable"),
        (503, "processor_unavailable"),
        (504, "processor_unavailable"),
        (520, "processor_error"),
        (408, "timeout"),
        (409, "duplicate_request"),
    ],
)
@pytest.mark.parametrize(
    "body", [b"", b"<html>Bad gateway</html>", {}, {"error": {"code": "unmapped"}}]
)
def test_uncertain_http_is_unresolved(
    acme: ConnectorPlan, status: int, code: str, body: Any
) -> None:
    result = parse(acme, status, body)
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == code
    assert result.error.retryable is False  # acme does not honour keys: never resend
    honoured = parse(acme_variant(_honours_keys), status, body)
    assert honoured.error is not None and honoured.error.retryable is True
    assert result.http_status == status
    assert result.idempotency_key == "idem-1"


# --- undecodable, unexpected shape, unmapped status: unresolved invalid_response ----------------


@pytest.mark.parametrize("body", [b"", b"<html>OK</html>", b"\xff\xfe", b"{"])
def test_an_undecodable_2xx_body_is_unresolved(acme: ConnectorPlan, body: bytes) -> None:
    result = parse(acme, 200, body)
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == "invalid_response"
    assert result.error.retryable is False  # acme does not honour keys: never resend
    honoured = parse(acme_variant(_honours_keys), 200, body)
    assert honoured.error is not None and honoured.error.retryable is True
    assert result.error.message.startswith("the response could not be read (")


def test_an_undecodable_4xx_body_is_unresolved(acme: ConnectorPlan) -> None:
    result = parse(acme, 400, b"<html>Bad request</html>")
    assert (result.status, result.error.code) == ("unresolved", "invalid_response")  # type: ignore[union-attr]


def test_a_utf8_bom_is_tolerated(acme: ConnectorPlan) -> None:
    result = parse(acme, 200, b'\xef\xbb\xbf{"id": "pay_1", "status": "pending"}')
    assert (result.status, result.connector_transaction_id) == ("pending", "pay_1")


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"id": "p", "status": "weird"}, "'weird'"),
        ({"id": "p", "status": 7}, "'7'"),
        ({"id": "p"}, "no status"),
        ({"id": "p", "status": {"nested": True}}, "no status"),
        ({"id": "p", "status": ["approved"]}, "no status"),
        ({"id": "p", "status": True}, "no status"),
    ],
)
def test_an_unmapped_status_is_unresolved(acme: ConnectorPlan, body: Any, shown: str) -> None:
    result = parse(acme, 200, body)
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == "invalid_response"
    assert result.error.message == f"the processor answered {shown}, which the spec does not map"
    assert result.connector_transaction_id == "p"


def test_a_failing_status_rule_is_unresolved() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["flows"]["get"]["response"]["status"]["map"]["approved"] = {
            "if": "response.amount > 'x'",
            "then": "authorized",
            "else": "captured",
        }

    plan = acme_variant(edit)
    result = parse(
        plan,
        200,
        {"id": "p", "status": "approved", "amount": 5},
        flow="get",
        request={"connector_transaction_id": "p"},
    )
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == "invalid_response"
    assert result.error.message.startswith("the response had an unexpected shape (")


# --- amounts ------------------------------------------------------------------------------------


def major_string_plan() -> ConnectorPlan:
    def edit(spec: dict[str, Any]) -> None:
        spec["amounts"] = {"format": "major_string"}

    return acme_variant(edit)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("10.99", "USD", 1099),
        ("10.9", "USD", 1090),
        ("1099", "JPY", 1099),
        ("1.099", "KWD", 1099),
        ("10.999", "USD", None),
        ("ten", "USD", None),
    ],
)
def test_amounts_are_parsed_for_major_string(amount: str, currency: str, minor: int | None) -> None:
    body = {"id": "p", "status": "approved", "amount": amount, "currency": currency}
    result = parse(major_string_plan(), 200, body)
    assert result.amount == minor
    assert result.status == "captured"


def test_amount_currency_falls_back_to_the_request() -> None:
    body = {"id": "p", "status": "approved", "amount": "1.234"}
    request = card_request(currency="KWD")
    assert parse(major_string_plan(), 200, body, request=request).amount == 1234


def test_minor_integer_amounts(acme: ConnectorPlan) -> None:
    assert parse(acme, 200, {"id": "p", "status": "approved", "amount": 1099}).amount == 1099
    assert parse(acme, 200, {"id": "p", "status": "approved", "amount": "1099"}).amount == 1099
    assert parse(acme, 200, {"id": "p", "status": "approved", "amount": 10.5}).amount is None


# --- totality -------------------------------------------------------------------------------------

#: Bodies that hold no status the spec maps.
NASTY_BODIES = [
    b"",
    b" ",
    b"\xff\xfe",
    b"\x00\x00\x00",
    b"null",
    b"true",
    b"0",
    b"[]",
    b"[null]",
    b'"x"',
    b"{",
    b"{}",
    b'{"status": null}',
    b'{"status": {"approved": 1}}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b"1" * 10_000,
    b'{"amount": ' + b"9" * 5000 + b"}",
    b"\xef\xbb\xbf",
    '{"status": "\u00e9\u0000"}'.encode(),
]

#: Bodies with a mapped status, or an error (`error_when`), and surprising shapes elsewhere.
ODD_SHAPES = [
    b'{"error": {"code": {"a": 1}, "message": ["m"], "decline_code": 5}}',
    b'{"error": "boom"}',
    b'{"status": "approved", "id": [1], "amount": {"x": 1}, "currency": 5}',
    b'{"status": "approved", "amount": 1e999}',
    b'{"status": "approved", "amount": NaN, "currency": "XYZ"}',
    b'{"status": "challenge", "action": {"url": {"u": 1}, "method": [], "data": "x"}}',
    b'{"status": "challenge", "action": {"url": "https://a", "method": 5, "data": [1, 2]}}',
]


@pytest.mark.parametrize("status", [100, 200, 201, 302, 400, 402, 404, 409, 500, 503])
@pytest.mark.parametrize("flow", ["authorize", "get", "refund"])
def test_parse_response_never_raises(acme: ConnectorPlan, status: int, flow: str) -> None:
    request = REQUEST if flow == "authorize" else {"connector_transaction_id": "p"}
    statuses = set(PaymentStatus) | set(RefundStatus)
    for body in NASTY_BODIES + ODD_SHAPES:
        result = parse_response(acme, flow, request, HttpResponse(status, {"X": "y"}, body))
        assert isinstance(result, Result)
        assert result.status in statuses
        assert result.http_status == status
        if status in UNCERTAIN_HTTP or status < 200 or 300 <= status < 400:
            assert result.status == "unresolved", (body[:40], result)
        elif 200 <= status < 300 and body in NASTY_BODIES:
            assert result.status == "unresolved", (body[:40], result)
            assert result.error is not None
            assert result.error.code == "invalid_response"
        elif status >= 400:
            assert result.status in ("failed", "unresolved"), (body[:40], result)
        if result.status == "unresolved":
            assert result.error is not None
            # A read is safe to send again; acme's authorize and refund are not (it does not
            # honour keys).
            worth = result.error.code in RETRYABLE_CODES
            assert result.error.retryable is (worth and flow == "get")
            # A refused read (get 404) is unresolved too, but asking again may not help.
            if flow != "get":
                assert worth


@pytest.mark.parametrize("status", [100, 204, 301, 302, 304])
def test_a_response_outside_2xx_4xx_5xx_is_unresolved(acme: ConnectorPlan, status: int) -> None:
    result = parse(acme, status, {"id": "pay_1", "status": "approved"})
    assert result.status == ("captured" if status == 204 else "unresolved")
    if status != 204:
        assert result.error is not None
        assert (result.error.code, result.error.http_status) == ("invalid_response", status)


def test_an_unsupported_flow_raises(acme: ConnectorPlan) -> None:
    with pytest.raises(UnsupportedError):
        parse_response(acme, "complete_authorize", {}, HttpResponse(200, {}, b"{}"))


def test_the_specs_http_status_table_overrides_the_engines() -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["defaults"]["response"]["error"]["http_status"] = {"403": "invalid_request"}

    plan = acme_variant(edit)
    result = parse_response(
        plan, "capture", {"connector_transaction_id": "p"}, HttpResponse(403, {}, b"")
    )
    assert result.status == "failed"
    assert result.error is not None and result.error.code == "invalid_request"
    # Without the table a bodiless 403 means bad credentials.
    plain = parse_response(
        acme_variant(lambda spec: None),
        "capture",
        {"connector_transaction_id": "p"},
        HttpResponse(403, {}, b""),
    )
    assert plain.error is not None and plain.error.code == "invalid_credentials"


def test_a_5xx_never_reads_as_a_decline(acme: ConnectorPlan) -> None:
    body = json.dumps({"error": {"code": "insufficient_funds", "message": "no"}}).encode()
    result = parse_response(acme, "authorize", card_request(), HttpResponse(503, {}, body))
    assert result.status == "unresolved"
    assert result.error is not None
    assert result.error.code == "processor_unavailable"
    assert result.error.connector_code == "insufficient_funds"
    assert result.error.retryable is False  # acme does not honour keys: never resend


SUCCEEDED = {"id": "pay_1", "status": "captured"}


@pytest.mark.parametrize("status", [0, 99, 600, 700, 999, 1000, -1])
def test_a_status_outside_100_599_is_unresolved_whatever_the_body_says(
    acme: ConnectorPlan, status: int
) -> None:
    for body in (SUCCEEDED, {"error": {"code": "card_declined", "message": "no"}}):
        result = parse(acme, status, body)
        assert result.status == "unresolved"
        assert result.error is not None and result.error.code == "invalid_response"


@pytest.mark.parametrize("status", [405, 406, 410, 412, 418, 451, 460, 499])
def test_a_4xx_neither_the_engine_nor_the_spec_explains_is_unresolved(
    acme: ConnectorPlan, status: int
) -> None:
    for body in ({"error": {"code": "whatever_proxy", "message": "?"}}, b""):
        result = parse(acme, status, body)
        assert result.status == "unresolved", (status, body)


def test_a_4xx_is_a_refusal_when_the_spec_explains_it() -> None:
    mapped = parse(
        acme_variant(lambda d: None), 418, {"error": {"code": "do_not_honor", "message": "no"}}
    )
    assert mapped.status == "failed"
    assert mapped.error is not None and mapped.error.code == "do_not_honor"

    def by_status(data: dict[str, Any]) -> None:
        data["defaults"]["response"]["error"]["http_status"] = {451: "unsupported"}

    table = parse(acme_variant(by_status), 451, {"error": {"code": "?", "message": "no"}})
    assert table.status == "failed"
    assert table.error is not None and table.error.code == "unsupported"


@pytest.mark.parametrize("status", sorted({400, 401, 402, 403, 404, 422, 429}))
def test_a_definite_4xx_refusal_stays_failed(acme: ConnectorPlan, status: int) -> None:
    assert parse(acme, status, {"error": {"code": "?", "message": "no"}}).status == "failed"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "pay_1", "status": "failed", "status": "captured"}',
        b'{"id": "pay_1", "status": "captured", "meta": {"a": 1, "a": 2}}',
        b'[{"status": "captured", "status": "captured"}]',
    ],
)
def test_a_json_answer_that_repeats_a_key_is_unresolved(acme: ConnectorPlan, raw: bytes) -> None:
    result = parse(acme, 200, raw)
    assert result.status == "unresolved"
    assert result.error is not None and result.error.code == "invalid_response"
