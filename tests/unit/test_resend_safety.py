"""engine._retry and where the idempotency key goes: the key's placement is read from the compiled
templates (`RequestPlan.key_placements`), whether a built request carried it from what they
rendered (`HttpRequest.carries_key`), never from the bytes; `error.retryable` is true for an
unresolved money-moving call only when the key was sent and the processor honours keys; and a
retried multi-step flow resumes at the request that did not complete (sync and async)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from engine import AsyncClient, Client, Connector, ErrorInfo, HttpResponse, Result, RetryPolicy
from engine._build import flow_plan
from engine._plan import ConnectorPlan
from engine._retry import Attempts, key_placed, resend_safe, settle
from engine._tokens import MemoryTokenCache

from .conftest import API_KEY, acme_variant, card_request
from .test_oauth_and_steps import CREDS, _oauth_steps

POLICY = RetryPolicy(attempts=3, backoff=0.25, max_delay=5.0)
APPROVED = {"id": "pay_1", "status": "approved", "amount": 1099, "currency": "USD"}
KEY = "Idempotency-Key"
#: Sent only for a manual capture: the guard leaves the key out of every other request.
GUARDED = "{{ request.idempotency_key if request.capture_method == 'manual' else none }}"
#: Rendered, but as the empty string for anything but a manual capture.
EMPTIED = "{{ request.idempotency_key if request.capture_method == 'manual' else '' }}"


def _variant(*, honours: bool, header: str | None = None, **body: Any) -> ConnectorPlan:
    """The fixture processor, honouring keys or not, its key header templated by `header`
    (None: as in the fixture), with extra authorize `body` fields."""

    def edit(spec: dict[str, Any]) -> None:
        spec["capabilities"]["idempotency_key"] = honours
        if header is not None:
            spec["flows"]["authorize"]["request"]["headers"] = {KEY: header}
        spec["flows"]["authorize"]["request"]["body"].update(body)

    return acme_variant(edit)


class Script:
    """Answers each request with the next scripted answer (an exception is raised, as a
    transport would); records every request that was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def paths(self) -> list[str]:
        return [r.url.path for r in self.sent]


def _client(plan: ConnectorPlan, script: Script, slept: list[float]) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(script))
    return Client(
        Connector(plan), {"api_key": API_KEY}, http_client=http, retry=POLICY, sleep=slept.append
    )


# -- where the key is placed: from the compiled templates ---------------------------------------


def test_the_key_placement_is_read_from_the_templates_defaults_included() -> None:
    plan = _variant(honours=True)
    assert flow_plan(plan, "authorize").request.key_placements == (("headers", (KEY,)),)
    # `get` sets the default header to null: nothing there reads the key.
    assert flow_plan(plan, "get").request.key_placements == ()


def test_a_key_in_the_body_is_placed_at_its_keys() -> None:
    def edit(spec: dict[str, Any]) -> None:
        del spec["defaults"]["headers"][KEY]
        body = spec["flows"]["authorize"]["request"]["body"]
        body["options"] = {"dedupe": "{{ request.idempotency_key }}"}

    plan = acme_variant(edit)
    assert flow_plan(plan, "authorize").request.key_placements == (("body", ("options", "dedupe")),)
    assert flow_plan(plan, "capture").request.key_placements == ()


def test_a_template_reading_the_whole_request_or_a_list_item_is_no_placement() -> None:
    """What either sent cannot be pinned down: the whole request dumped, or a list whose null
    items are omitted (positions shift)."""

    def edit(spec: dict[str, Any]) -> None:
        del spec["defaults"]["headers"][KEY]
        body = spec["flows"]["authorize"]["request"]["body"]
        body["echo"] = "{{ request | tojson }}"
        body["tags"] = ["{{ request.idempotency_key }}"]

    assert flow_plan(acme_variant(edit), "authorize").request.key_placements == ()


# -- whether the built request carried it: from what the templates rendered ---------------------


@pytest.mark.parametrize("template", [GUARDED, EMPTIED], ids=["omitted", "empty"])
def test_a_key_the_template_leaves_out_is_not_carried_though_its_text_is_in_the_bytes(
    template: str,
) -> None:
    connector = Connector(_variant(honours=True, header=template))
    request = card_request(idempotency_key="a", reference="order-a")
    built = connector.build_request("authorize", request, {"api_key": API_KEY})
    raw = built.body or b""
    assert b"a" in raw  # a search of the bytes for the key would say "carried"
    assert built.headers.get(KEY, "") == ""
    assert not built.carries_key
    manual = connector.build_request(
        "authorize", {**request, "capture_method": "manual"}, {"api_key": API_KEY}
    )
    assert manual.headers[KEY] == "a" and manual.carries_key


def test_the_plan_alone_knows_a_placement_but_not_what_the_guard_decided() -> None:
    """key_placed (the plan and the request's key) is the fallback where no built request is
    at hand: it says "placed" for the guarded template, which only carries_key can refine."""
    plan = _variant(honours=True, header=GUARDED)
    assert key_placed(plan, "authorize", {"idempotency_key": "a"})
    assert not key_placed(plan, "authorize", {"idempotency_key": ""})
    assert not key_placed(plan, "authorize", {})
    assert not key_placed(plan, "get", {"idempotency_key": "a"})


def test_key_placed_reads_the_step_asked_for() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _oauth_steps(spec)
        step = spec["flows"]["authorize"]["steps"][0]["request"]
        step["headers"] = {KEY: None}  # the order is created without the key

    plan = acme_variant(edit)
    assert not key_placed(plan, "authorize", {"idempotency_key": "k"}, step=0)
    assert key_placed(plan, "authorize", {"idempotency_key": "k"}, step=1)
    assert key_placed(plan, "authorize", {"idempotency_key": "k"})  # -1: the flow's own


# -- retryable: the key was sent, and the processor honours keys ------------------------------


@pytest.mark.parametrize(
    ("honours", "capture_method", "retryable"),
    [
        (True, "manual", True),  # carried, honoured: the processor answers the first outcome
        (True, "automatic", False),  # honoured, but the guard left the key out
        (False, "manual", False),  # carried, but the processor would act twice
        (False, "automatic", False),
    ],
)
@pytest.mark.parametrize("template", [GUARDED, EMPTIED], ids=["omitted", "empty"])
@pytest.mark.parametrize("failure", ["http_503", "read_timeout"])
def test_an_unresolved_charge_is_retryable_only_with_a_sent_and_honoured_key(
    honours: bool, capture_method: str, retryable: bool, template: str, failure: str
) -> None:
    """An answer that leaves the outcome unknown (a 503) and a request that got no answer (a
    read timeout after sending) decide alike."""
    unknown: httpx.Response | Exception = (
        httpx.Response(503, text="busy") if failure == "http_503" else httpx.ReadTimeout("late")
    )
    script = Script(unknown, httpx.Response(200, json=APPROVED))
    slept: list[float] = []
    client = _client(_variant(honours=honours, header=template), script, slept)
    request = card_request(idempotency_key="a", capture_method=capture_method)
    result = client.authorize(request)
    if retryable:  # repeated once, with the same key, and the second answer is the outcome
        assert result.status == "authorized"
        assert [r.headers[KEY] for r in script.sent] == ["a", "a"]
        assert slept == [0.25]
    else:
        assert result.status == "unresolved"
        code = "processor_unavailable" if failure == "http_503" else "timeout"
        assert result.error is not None and result.error.code == code
        assert result.error.retryable is False
        assert len(script.sent) == 1 and slept == []


def test_the_sans_io_parse_decides_retryable_from_what_was_sent() -> None:
    """parse_response's `key_sent` (HttpRequest.carries_key) is what decides; without it the
    plan's placement and the request's key do."""
    connector = Connector(_variant(honours=True, header=GUARDED))
    request = card_request(idempotency_key="a")
    built = connector.build_request("authorize", request, {"api_key": API_KEY})
    busy = HttpResponse(503, {}, b"busy")
    sent = connector.parse_response("authorize", request, busy, key_sent=built.carries_key)
    assert sent.error is not None and sent.error.retryable is False
    guessed = connector.parse_response("authorize", request, busy)
    assert guessed.error is not None and guessed.error.retryable is True


def _result(status: str, code: str = "timeout", flow: str = "authorize") -> Result:
    error = ErrorInfo(code=code, message="m", retryable=True)
    return Result(flow=flow, connector="acme", status=status, error=error)


@pytest.mark.parametrize(
    ("status", "flow", "honours", "key_sent", "safe"),
    [
        ("unresolved", "authorize", True, True, True),
        ("unresolved", "authorize", True, False, False),
        ("unresolved", "authorize", False, True, False),
        ("unresolved", "refund", False, True, False),
        ("unresolved", "get", False, False, True),  # a read moves no money
        ("failed", "authorize", False, False, True),  # a refusal: nothing was acted on
    ],
)
def test_resend_safe_and_settle_agree(
    status: str, flow: str, honours: bool, key_sent: bool, safe: bool
) -> None:
    plan = _variant(honours=honours)
    assert resend_safe(plan, flow, status, key_sent) is safe
    settled = settle(plan, flow, _result(status, flow=flow), key_sent=key_sent)
    assert settled.status == status
    assert settled.error is not None and settled.error.retryable is safe


def test_a_code_not_worth_retrying_stays_not_retryable_even_when_safe() -> None:
    plan = _variant(honours=True)
    declined = Result(
        flow="authorize",
        connector="acme",
        status="failed",
        error=ErrorInfo(code="card_declined", message="m", retryable=False),
    )
    settled = settle(plan, "authorize", declined, key_sent=True)
    assert settled.error is not None and settled.error.retryable is False


def test_a_refusal_after_an_unknown_attempt_is_unresolved_and_not_retried() -> None:
    """Once an attempt's outcome was unknown, a later refusal says nothing about it."""
    plan = _variant(honours=False)
    attempts = Attempts()
    first = attempts.settle(plan, "authorize", _result("unresolved"), key_sent=True)
    assert first.error is not None and first.error.retryable is False
    later = attempts.settle(
        plan, "authorize", _result("failed", code="rate_limited"), key_sent=True
    )
    assert later.status == "unresolved"
    assert later.error is not None and "earlier attempt" in later.error.message
    assert later.error.retryable is False
    # A refusal with no unknown attempt before it stays a refusal.
    fresh = Attempts().settle(
        plan, "authorize", _result("failed", code="rate_limited"), key_sent=True
    )
    assert fresh.status == "failed" and fresh.error is not None and fresh.error.retryable


# -- a retried multi-step flow resumes at the request that did not complete --------------------


def token() -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": "tok1", "token_type": "Bearer", "expires_in": 3600}
    )


def order() -> httpx.Response:
    return httpx.Response(200, json={"id": "ord_1"})


def paid() -> httpx.Response:
    return httpx.Response(200, json=APPROVED)


TOKEN_PATH, ORDER_PATH, PAY_PATH = "/v1/oauth2/token", "/v1/orders", "/v1/orders/ord_1/pay"


def _two_steps(*, honours: bool) -> Connector:
    """OAuth2 token, then create an order (step), then pay it (the flow's own request)."""

    def edit(spec: dict[str, Any]) -> None:
        _oauth_steps(spec)
        spec["capabilities"]["idempotency_key"] = honours

    return Connector(acme_variant(edit))


def _sync_call(
    connector: Connector, script: Script, request: dict[str, Any]
) -> tuple[Result, list[float]]:
    slept: list[float] = []
    http = httpx.Client(transport=httpx.MockTransport(script))
    client = Client(
        connector,
        CREDS,
        http_client=http,
        token_cache=MemoryTokenCache(),
        retry=POLICY,
        sleep=slept.append,
    )
    return client.authorize(request), slept


async def _async_call(
    connector: Connector, script: Script, request: dict[str, Any]
) -> tuple[Result, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with httpx.AsyncClient(transport=httpx.MockTransport(script)) as http:
        client = AsyncClient(
            connector,
            CREDS,
            http_client=http,
            token_cache=MemoryTokenCache(),
            retry=POLICY,
            sleep=sleep,
        )
        return await client.authorize(request), slept


async def _call(
    mode: str, connector: Connector, script: Script, request: dict[str, Any]
) -> tuple[Result, list[float]]:
    if mode == "sync":
        return _sync_call(connector, script, request)
    return await _async_call(connector, script, request)


MODES = ["sync", "async"]


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", MODES)
async def test_a_timed_out_second_request_is_resent_alone(mode: str) -> None:
    script = Script(token(), order(), httpx.ReadTimeout("late"), paid())
    result, slept = await _call(mode, _two_steps(honours=True), script, card_request())
    assert result.status == "captured" and result.connector_transaction_id == "pay_1"
    # The order was created once; only the payment, whose outcome was unknown, went again.
    assert script.paths == [TOKEN_PATH, ORDER_PATH, PAY_PATH, PAY_PATH]
    keys = [r.headers[KEY] for r in script.sent[2:]]
    assert keys[0] and keys == [keys[0]] * 2  # the same key on both payments
    assert slept == [0.25]


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", MODES)
async def test_a_refusal_of_the_resent_request_leaves_the_payment_unresolved(mode: str) -> None:
    """The resumed payment is refused outright: what the first, timed-out payment did is
    still unknown, so the flow is unresolved (and not retried again), not failed."""
    refused = httpx.Response(400, json={"error": {"code": "bad_request", "message": "no"}})
    script = Script(token(), order(), httpx.ReadTimeout("late"), refused, paid())
    result, slept = await _call(mode, _two_steps(honours=True), script, card_request())
    assert result.status == "unresolved"
    assert result.error is not None and "earlier attempt" in result.error.message
    assert result.error.retryable is False
    assert script.paths == [TOKEN_PATH, ORDER_PATH, PAY_PATH, PAY_PATH] and slept == [0.25]


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", MODES)
async def test_a_timed_out_step_is_resent_from_that_step(mode: str) -> None:
    """A step moves no money: its timeout fails the flow, which a retry runs again from that
    step — the one that did not complete, not from the token."""
    script = Script(token(), httpx.ReadTimeout("late"), order(), paid())
    result, slept = await _call(mode, _two_steps(honours=False), script, card_request())
    assert result.status == "captured"
    assert script.paths == [TOKEN_PATH, ORDER_PATH, ORDER_PATH, PAY_PATH]
    assert slept == [0.25]


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", MODES)
async def test_a_second_request_the_processor_would_repeat_is_not_resent(mode: str) -> None:
    script = Script(token(), order(), httpx.ReadTimeout("late"), paid())
    result, slept = await _call(mode, _two_steps(honours=False), script, card_request())
    assert result.status == "unresolved"
    assert result.error is not None and result.error.retryable is False
    assert script.paths == [TOKEN_PATH, ORDER_PATH, PAY_PATH] and slept == []
