"""engine.remote without a service (httpx.MockTransport): each row of the service's problem-type
table raises its exception, the request carries what the service reads, a Result comes back as
it left, and `import engine.remote` needs no service extra."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from engine import (
    AsyncRemoteClient,
    ConnectorServiceError,
    CredentialsError,
    ErrorInfo,
    InputError,
    Match,
    NextAction,
    RemoteClient,
    Result,
    ServiceError,
    UnsupportedError,
    WebhookError,
)
from engine._unified import TokenExpiry
from engine.service._problems import PROBLEM_TYPES, ProblemType, document

Handler = Callable[[httpx.Request], httpx.Response]
AUTHORIZE = {"amount": 100, "currency": "USD", "payment_method": {"type": "token", "token": "pm"}}


def client(handler: Handler, **options: Any) -> RemoteClient:
    credentials = options.pop("credentials", {"api_key": "sk_test_unit"})
    return RemoteClient(
        "stripe",
        credentials,
        service_url="http://service.test/base/",
        api_key="svc_unit",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        **options,
    )


def problem(problem_type: ProblemType, **extensions: Any) -> Handler:
    body = document(problem_type.slug, "what went wrong", request_id="rid-1", **extensions)
    headers = {"content-type": "application/problem+json", "retry-after": "3"}
    return lambda request: httpx.Response(problem_type.status, json=body, headers=headers)


#: What each problem type raises: its engine exception, UnsupportedError where the embedded
#: Client raises it, ServiceError for the service's own; `internal` proves nothing (unresolved).
def expected_outcome(problem_type: ProblemType) -> type[Exception] | None:
    if problem_type.slug == "internal":
        return None
    if problem_type.slug in ("unknown-connector", "unknown-flow"):
        return UnsupportedError
    return problem_type.exception or ServiceError


@pytest.mark.parametrize("problem_type", PROBLEM_TYPES, ids=lambda p: p.slug)
def test_every_problem_type_raises_its_exception(problem_type: ProblemType) -> None:
    wanted = expected_outcome(problem_type)
    answer = problem(problem_type, pointer="/amount", reason="bad_signature")
    with client(answer) as remote:
        if wanted is None:
            result = remote.authorize(AUTHORIZE)
            assert result.status == "unresolved" and result.idempotency_key
            return
        with pytest.raises(ConnectorServiceError) as caught:
            remote.authorize(AUTHORIZE)
    raised = caught.value
    assert type(raised) is wanted
    assert raised.request_id == "rid-1"
    assert raised.problem_type == problem_type.uri
    assert "what went wrong" in str(raised)
    if isinstance(raised, InputError):
        assert raised.pointer == "/amount" and str(raised) == "/amount: what went wrong"
    if isinstance(raised, WebhookError):
        assert raised.reason == "bad_signature"
    if isinstance(raised, ServiceError):
        assert (raised.slug, raised.status, raised.detail) == (
            problem_type.slug,
            problem_type.status,
            "what went wrong",
        )
        assert raised.retry_after == 3.0


def test_a_webhook_rejection_keeps_its_reason_once() -> None:
    rejected = next(p for p in PROBLEM_TYPES if p.slug == "webhook-rejected")
    body = document(
        rejected.slug, "bad_signature: the signature does not match", reason="bad_signature"
    )
    answer = httpx.Response(400, json=body, headers={"content-type": "application/problem+json"})
    remote = client(lambda r: answer, profile="p", credentials=None)
    with remote, pytest.raises(WebhookError) as caught:
        remote.handle_event(b"{}", {})
    assert str(caught.value) == "bad_signature: the signature does not match"


def test_an_unknown_problem_type_of_the_service_is_a_service_error() -> None:
    body = {
        "type": "https://connector-service.dev/problems/added-later",
        "status": 429,
        "detail": "d",
    }
    answer = httpx.Response(429, json=body, headers={"content-type": "application/problem+json"})
    with client(lambda r: answer) as remote, pytest.raises(ServiceError) as caught:
        remote.get({"connector_transaction_id": "pi_1"})
    assert (caught.value.slug, caught.value.status) == ("added-later", 429)


def test_the_request_carries_what_the_service_reads() -> None:
    seen: list[httpx.Request] = []
    result = Result(flow="authorize", connector="stripe", status="authorized")

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        return httpx.Response(
            200, json={**result.to_dict(), "idempotency_key": body["idempotency_key"]}
        )

    with client(answer, base_url="http://127.0.0.1:9") as remote:
        got = remote.authorize(AUTHORIZE)
    with client(answer, profile="stripe-test", credentials=None) as remote:
        remote.authorize({**AUTHORIZE, "idempotency_key": "mine"})
    sent, profiled = seen
    assert sent.url == "http://service.test/base/v1/stripe/authorize"
    assert sent.headers["authorization"] == "Bearer svc_unit"
    assert json.loads(sent.headers["x-connector-credentials"]) == {"api_key": "sk_test_unit"}
    assert sent.headers["x-connector-environment"] == "sandbox"
    assert sent.headers["x-connector-base-url"] == "http://127.0.0.1:9"
    assert sent.headers["x-request-id"]
    key = json.loads(sent.content)["idempotency_key"]
    assert key and got.idempotency_key == key  # generated here, before sending
    assert profiled.headers["x-connector-profile"] == "stripe-test"
    assert "x-connector-credentials" not in profiled.headers
    assert json.loads(profiled.content)["idempotency_key"] == "mine"


def test_a_result_comes_back_as_it_left() -> None:
    sent = Result(
        flow="find",
        connector="stripe",
        status="ambiguous",
        next_action=NextAction(
            type="redirect", url="https://acs.test", method="POST", data={"a": "b"}
        ),
        error=ErrorInfo(code="timeout", message="m", retryable=True, http_status=504),
        matches=(Match(status="captured", connector_transaction_id="pi_1", amount=5),),
        access_token=TokenExpiry(1_700_000_000.5),
    )
    with client(lambda r: httpx.Response(200, json=sent.to_dict())) as remote:
        assert remote.find({"reference": "r"}) == sent


def test_refusals_before_sending() -> None:
    never: Handler = lambda r: pytest.fail("nothing may be sent")  # noqa: E731
    with pytest.raises(CredentialsError):
        client(never, profile="p")  # credentials and a profile
    with pytest.raises(CredentialsError):
        client(never, credentials={"api_key": b"sk_bytes"})
    with pytest.raises(CredentialsError):
        RemoteClient("stripe", {}, service_url="ftp://x", api_key="k")
    with pytest.raises(CredentialsError):
        RemoteClient("stripe", {}, service_url="http://x", api_key="")
    with client(never) as remote:
        with pytest.raises(InputError):
            remote.authorize({**AUTHORIZE, "metadata": {"x": {1, 2}}})
        with pytest.raises(InputError):
            remote.authorize([])  # type: ignore[arg-type]
        with pytest.raises(UnsupportedError):
            remote.handle_event(b"{}", {}, "whsec_x")


@pytest.mark.asyncio
async def test_the_async_twin_maps_the_same() -> None:
    invalid = next(p for p in PROBLEM_TYPES if p.slug == "invalid-input")
    transport = httpx.MockTransport(problem(invalid, pointer="/currency"))
    async with AsyncRemoteClient(
        "stripe",
        {"api_key": "sk_test_unit"},
        service_url="http://service.test",
        api_key="svc_unit",
        http_client=httpx.AsyncClient(transport=transport),
    ) as remote:
        with pytest.raises(InputError) as caught:
            await remote.authorize(AUTHORIZE)
    assert caught.value.pointer == "/currency" and caught.value.request_id == "rid-1"


def test_import_engine_remote_needs_no_service_extra() -> None:
    script = textwrap.dedent(
        """
        import sys
        for name in ("starlette", "uvicorn", "prometheus_client"):
            sys.modules[name] = None  # importing it now raises ImportError
        import httpx
        from engine import InputError, RemoteClient
        from engine.service._problems import document
        body = document("invalid-input", "d", pointer="/amount")
        kind = {"content-type": "application/problem+json"}
        answer = httpx.Response(422, json=body, headers=kind)
        mock = httpx.Client(transport=httpx.MockTransport(lambda r: answer))
        client = RemoteClient("stripe", {}, service_url="http://s.test", api_key="k",
                              http_client=mock)
        try:
            client.authorize({})
        except InputError as exc:
            print(exc.pointer)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "/amount"
