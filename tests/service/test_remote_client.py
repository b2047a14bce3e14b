"""engine.remote against the real service (tools/service_harness.py: `connector serve` in front of
localstripe): the same scenario through the embedded Client and the RemoteClient gives the same
Results; every problem type raises its exception; an outcome the client cannot know is
`unresolved` with the key it generated; secrets never show."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from engine import (
    AsyncRemoteClient,
    Client,
    ConnectorServiceError,
    CredentialsError,
    InputError,
    NotSentError,
    RemoteClient,
    Result,
    ServiceError,
    UnsupportedError,
    WebhookError,
)

from .fake_service import RESET, SLOW, fake_service, http_answer, refused_url

pytestmark = pytest.mark.e2e

Env = dict[str, str]
#: Values that are ids, keys or times: different on every run, compared by presence only.
ID_FIELDS = (
    "connector_transaction_id",
    "connector_refund_id",
    "connector_reference",
    "idempotency_key",
    "network_transaction_id",
    "mandate_id",
    "payment_method_id",  # a new pm_ per run
    "connector_customer_id",
    "created_at",  # the processor's clock
)
QUICK = httpx.Timeout(5.0, read=0.3)


@pytest.fixture
def env(remote_service: Env) -> Env:
    return remote_service


@pytest.fixture
def payment_method(env: Env) -> Callable[..., str]:
    def create(number: str = "4242424242424242") -> str:
        response = httpx.post(
            f"{env['CONNECTOR_STRIPE_BASE_URL']}/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
            auth=(env["CONNECTOR_STRIPE_KEY"], ""),
        )
        response.raise_for_status()
        pm_id: str = response.json()["id"]
        return pm_id

    return create


def embedded(env: Env) -> Client:
    return Client(
        "stripe",
        {"api_key": env["CONNECTOR_STRIPE_KEY"]},
        base_url=env["CONNECTOR_STRIPE_BASE_URL"],
        allow_undeclared_host=True,
    )


def remote(env: Env, **options: Any) -> RemoteClient:
    credentials = options.pop("credentials", {"api_key": env["CONNECTOR_STRIPE_KEY"]})
    options.setdefault("base_url", env["CONNECTOR_STRIPE_BASE_URL"])
    options.setdefault("api_key", env["CONNECTOR_SERVICE_API_KEY"])
    return RemoteClient(
        "stripe",
        None if options.get("profile") else credentials,
        service_url=env["CONNECTOR_SERVICE_URL"],
        **options,
    )


@pytest.fixture
def client(env: Env) -> Iterator[RemoteClient]:
    with remote(env) as c:
        yield c


def comparable(result: Result) -> dict[str, Any]:
    """The result as data, each id and key replaced by whether it is there."""
    data = result.to_dict()
    for name in ID_FIELDS:
        data[name] = data[name] is not None
    for match in data.get("matches") or []:
        match["connector_transaction_id"] = match["connector_transaction_id"] is not None
    action = data.get("next_action")
    if action and isinstance(action.get("data"), dict):  # an sdk action: per-run secrets
        action["data"] = sorted(action["data"])
    return data


def scenario(client: Any, pm: Callable[..., str]) -> list[Result]:
    """Every flow stripe declares, with declines, 3-D Secure and an unknown payment."""
    reference = f"order-{time.monotonic_ns()}"
    authorized = client.authorize(
        {
            "amount": 1099,
            "currency": "EUR",
            "capture_method": "manual",
            "payment_method": {"type": "token", "token": pm()},
            "reference": reference,
            "metadata": {"order": "A-1"},
        }
    )
    pid = authorized.connector_transaction_id
    captured = client.capture({"connector_transaction_id": pid, "amount": 500, "currency": "EUR"})
    refunded = client.refund({"connector_transaction_id": pid, "amount": 300, "currency": "EUR"})
    second = client.authorize(
        {
            "amount": 700,
            "currency": "USD",
            "capture_method": "manual",
            "payment_method": {"type": "token", "token": pm()},
        }
    )
    return [
        authorized,
        captured,
        refunded,
        client.get_refund({"connector_refund_id": refunded.connector_refund_id}),
        client.get({"connector_transaction_id": pid}),
        second,
        client.void({"connector_transaction_id": second.connector_transaction_id}),
        client.authorize(
            {
                "amount": 1099,
                "currency": "EUR",
                "payment_method": {"type": "token", "token": pm("4000000000000341")},
            }
        ),
        client.authorize(
            {
                "amount": 1099,
                "currency": "EUR",
                "payment_method": {"type": "token", "token": pm("4000002500003155")},
            }
        ),
        client.get({"connector_transaction_id": "pi_doesnotexist"}),
        client.find({"reference": reference}),
    ]


def test_the_same_scenario_embedded_and_remote_gives_the_same_results(
    env: Env, payment_method: Callable[..., str]
) -> None:
    with embedded(env) as local:
        expected = scenario(local, payment_method)
    with remote(env) as far:
        got = scenario(far, payment_method)
    with remote(env, profile=env["CONNECTOR_SERVICE_PROFILE"]) as profiled:
        by_profile = scenario(profiled, payment_method)
    statuses = [r.status for r in expected]
    # The scenario covers what it says: outcomes of every kind, not one repeated.
    assert {"authorized", "captured", "succeeded", "voided", "failed", "requires_action"} <= set(
        statuses
    ), statuses
    assert [comparable(r) for r in got] == [comparable(r) for r in expected]
    assert [comparable(r) for r in by_profile] == [comparable(r) for r in expected]
    assert all(isinstance(r, Result) for r in got)
    # localstripe gives no next_action URL and no search: tests/property/test_from_dict.py
    # round-trips both shapes.
    assert got[7].error is not None and got[7].error.code == "card_declined"


@pytest.mark.asyncio
async def test_the_async_twin_gives_the_same_results(
    env: Env, payment_method: Callable[..., str]
) -> None:
    request = {
        "amount": 2500,
        "currency": "USD",
        "capture_method": "manual",
        "payment_method": {"type": "token", "token": payment_method()},
    }
    with remote(env) as sync:
        expected = sync.authorize(request)
    async with AsyncRemoteClient(
        "stripe",
        {"api_key": env["CONNECTOR_STRIPE_KEY"]},
        service_url=env["CONNECTOR_SERVICE_URL"],
        api_key=env["CONNECTOR_SERVICE_API_KEY"],
        base_url=env["CONNECTOR_STRIPE_BASE_URL"],
    ) as client:
        fresh = {"type": "token", "token": payment_method()}
        got = await client.authorize({**request, "payment_method": fresh})
        assert comparable(got) == comparable(expected)
        captured = await client.capture({"connector_transaction_id": got.connector_transaction_id})
        assert captured.status == "captured"
        with pytest.raises(InputError) as caught:
            await client.authorize({"amount": 100})
        assert caught.value.pointer == "/currency"


def test_a_callers_key_is_the_one_the_service_used(
    client: RemoteClient, payment_method: Callable[..., str]
) -> None:
    mine = client.authorize(
        {
            "amount": 100,
            "currency": "USD",
            "payment_method": {"type": "token", "token": payment_method()},
            "idempotency_key": "caller-key-1",
        }
    )
    assert mine.idempotency_key == "caller-key-1"
    read = client.get({"connector_transaction_id": mine.connector_transaction_id})
    assert read.idempotency_key is None  # reads carry no key


# --- every problem the live service answers -------------------------------------------------------


def _both(env: Env, flow: str, request: dict[str, Any]) -> tuple[Exception, Exception]:
    """The exception the embedded Client and the RemoteClient raise for the same call."""
    raised = []
    for client in (embedded(env), remote(env)):
        with client, pytest.raises(ConnectorServiceError) as caught:
            client.call(flow, request)
        raised.append(caught.value)
    return raised[0], raised[1]


@pytest.mark.parametrize(
    ("flow", "request_", "cls"),
    [
        ("authorize", {"amount": 100}, InputError),
        (
            "authorize",
            {"amount": 100, "currency": "XXX", "payment_method": {"type": "token", "token": "pm"}},
            InputError,
        ),
        (
            "authorize",
            {
                "amount": 100,
                "currency": "USD",
                "payment_method": {"type": "wallet", "wallet": {"type": "apple_pay", "token": "x"}},
            },
            UnsupportedError,
        ),
        # Stripe offers every flow but complete_authorize (3DS finishes in Stripe.js).
        ("complete_authorize", {}, UnsupportedError),
    ],
)
def test_engine_exceptions_are_the_embedded_clients(
    env: Env, flow: str, request_: dict[str, Any], cls: type[Exception]
) -> None:
    local, far = _both(env, flow, request_)
    assert type(local) is cls and type(far) is cls
    assert getattr(far, "pointer", None) == getattr(local, "pointer", None)
    if isinstance(local, InputError):
        assert str(far) == str(local)
    assert far.request_id  # the service's log has the call under it


def test_missing_credentials_raise_credentials_error(env: Env) -> None:
    with remote(env, credentials={}) as client, pytest.raises(CredentialsError) as caught:
        client.get({"connector_transaction_id": "pi_1"})
    assert "api_key" in str(caught.value)
    assert caught.value.problem_type is not None
    assert caught.value.problem_type.endswith("/invalid-credentials")


def test_a_processor_that_cannot_be_reached_raises_not_sent(env: Env) -> None:
    with remote(env, base_url=refused_url()) as client, pytest.raises(NotSentError) as caught:
        client.authorize(
            {"amount": 100, "currency": "USD", "payment_method": {"type": "token", "token": "pm"}}
        )
    assert caught.value.problem_type is not None
    assert caught.value.problem_type.endswith("/not-sent")


@pytest.mark.parametrize(
    ("options", "slug", "status"),
    [
        ({"api_key": "svc_wrong_key_value"}, "unauthenticated", 401),
        ({"api_key": "LIMITED"}, "profile-not-allowed", 403),  # may not send credentials
        ({"profile": "nobody"}, "profile-not-allowed", 403),
    ],
)
def test_service_refusals_raise_service_error(
    env: Env, options: dict[str, Any], slug: str, status: int
) -> None:
    if options.get("api_key") == "LIMITED":
        options = {"api_key": env["CONNECTOR_SERVICE_LIMITED_KEY"]}
    with remote(env, **options) as client, pytest.raises(ServiceError) as caught:
        client.authorize(
            {"amount": 100, "currency": "USD", "payment_method": {"type": "token", "token": "pm"}}
        )
    error = caught.value
    assert (error.slug, error.status) == (slug, status)
    assert error.type == f"https://connector-service.dev/problems/{slug}"
    assert error.request_id and error.detail


def test_a_body_over_the_limit_is_payload_too_large(client: RemoteClient) -> None:
    big = {"amount": 100, "currency": "USD", "description": "x" * (1024 * 1024 + 1)}
    with pytest.raises(ServiceError) as caught:
        client.authorize(big)
    assert (caught.value.slug, caught.value.status) == ("payload-too-large", 413)


def test_an_unknown_connector_is_unsupported_as_embedded(env: Env) -> None:
    with pytest.raises(UnsupportedError):
        Client("nope")
    with (
        RemoteClient(
            "nope",
            {},
            service_url=env["CONNECTOR_SERVICE_URL"],
            api_key=env["CONNECTOR_SERVICE_API_KEY"],
        ) as client,
        pytest.raises(UnsupportedError) as caught,
    ):
        client.get({"connector_transaction_id": "x"})
    assert caught.value.problem_type is not None
    assert caught.value.problem_type.endswith("/unknown-connector")


# --- webhooks -----------------------------------------------------------------------------


def stripe_delivery(secret: str, *, tamper: bool = False) -> tuple[bytes, dict[str, str]]:
    event = {
        "id": "evt_remote_1",
        "type": "payment_intent.succeeded",
        "created": 1_700_000_000,
        "data": {"object": {"id": "pi_remote_1", "amount": 1099, "currency": "eur"}},
    }
    body = json.dumps(event).encode()
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    sent = body.replace(b"1099", b"9999") if tamper else body
    return sent, {
        "Stripe-Signature": f"t={stamp},v1={signature}",
        "Content-Type": "application/json",
    }


def test_webhooks_are_verified_by_the_service_as_embedded(env: Env) -> None:
    secret = env["CONNECTOR_STRIPE_WEBHOOK_SECRET"]
    body, headers = stripe_delivery(secret)
    with embedded(env) as local:
        expected = local.handle_event(body, headers, secret)
    with remote(env, profile=env["CONNECTOR_SERVICE_PROFILE"]) as far:
        got = far.handle_event(body, headers)
        assert got == expected
        assert got.events and got.events[0].verified and got.events[0].amount == 1099
        tampered, headers = stripe_delivery(secret, tamper=True)
        with pytest.raises(WebhookError) as caught:
            far.handle_event(tampered, headers)
        assert caught.value.reason == "bad_signature"
        assert str(caught.value).count("bad_signature") == 1
        with pytest.raises(UnsupportedError):
            far.handle_event(body, headers, secret)  # the profile's secret is the service's
    with remote(env) as by_credentials, pytest.raises(CredentialsError):
        by_credentials.handle_event(body, headers)


# --- outcomes the client cannot know -----------------------------------------------------------


def _fake(url: str, **options: Any) -> RemoteClient:
    return RemoteClient(
        "stripe", {"api_key": "sk_test_fake"}, service_url=url, api_key="svc_fake", **options
    )


AUTHORIZE = {"amount": 100, "currency": "USD", "payment_method": {"type": "token", "token": "pm"}}


def test_no_answer_in_time_after_sending_is_unresolved_with_the_generated_key() -> None:
    late = http_answer(
        200, json.dumps({"flow": "authorize", "connector": "stripe", "status": "captured"}).encode()
    )
    with fake_service(SLOW, late) as service, _fake(service.url, timeout=QUICK) as client:
        result = client.authorize({**AUTHORIZE, "reference": "order-7"})
        assert len(service.received) == 1  # it was sent: the service holds it
    assert result.status == "unresolved"
    assert result.error is not None and result.error.code == "timeout"
    assert result.error.retryable is False  # only the service knows if resending is safe
    assert result.reference == "order-7"
    assert result.idempotency_key is not None
    assert f'"idempotency_key":"{result.idempotency_key}"'.encode() in service.received[0]
    assert result.idempotency_key in result.error.message


def test_a_callers_key_is_kept_and_a_read_may_be_retried() -> None:
    with fake_service(SLOW) as service, _fake(service.url, timeout=QUICK) as client:
        result = client.capture({"connector_transaction_id": "pi_9", "idempotency_key": "k-1"})
        read = client.get({"connector_transaction_id": "pi_9"})
    assert (result.status, result.idempotency_key) == ("unresolved", "k-1")
    assert result.connector_transaction_id == "pi_9"
    assert read.status == "unresolved" and read.idempotency_key is None
    assert read.error is not None and read.error.retryable is True


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (RESET, "network_error"),
        (http_answer(502, b"<html>bad gateway</html>", "text/html"), "invalid_response"),
        (http_answer(200, b"{not json"), "invalid_response"),
        (http_answer(200, b'{"flow": "authorize"}'), "invalid_response"),
        (
            http_answer(200, b'{"flow":"get","connector":"stripe","status":"captured"}'),
            "invalid_response",
        ),
        (
            http_answer(200, b'{"flow":"authorize","connector":"stripe","status":"paid"}'),
            "invalid_response",
        ),
        (
            http_answer(
                500,
                json.dumps(
                    {
                        "type": "https://connector-service.dev/problems/internal",
                        "status": 500,
                        "title": "x",
                        "detail": "x",
                    }
                ).encode(),
                "application/problem+json",
            ),
            "invalid_response",
        ),
        (
            http_answer(
                503,
                json.dumps({"type": "https://proxy.example/overloaded", "status": 503}).encode(),
                "application/problem+json",
            ),
            "invalid_response",
        ),
    ],
    ids=[
        "reset",
        "proxy-502",
        "not-json",
        "not-a-result",
        "another-flow",
        "not-a-status",
        "internal",
        "foreign-problem",
    ],
)
def test_an_answer_that_proves_nothing_is_unresolved(answer: bytes | str, code: str) -> None:
    with fake_service(answer) as service, _fake(service.url) as client:
        result = client.authorize(AUTHORIZE)
    assert result.status == "unresolved", result
    assert result.error is not None and result.error.code == code
    assert result.idempotency_key is not None


def test_nothing_listening_is_not_sent() -> None:
    with _fake(refused_url()) as client, pytest.raises(NotSentError):
        client.authorize(AUTHORIZE)
    closed = _fake(refused_url())
    closed.close()
    with pytest.raises(NotSentError):
        closed.authorize(AUTHORIZE)


def test_a_webhook_without_an_answer_is_unconfirmed() -> None:
    with fake_service(SLOW) as service:
        client = RemoteClient(
            "stripe", service_url=service.url, api_key="svc_fake", profile="p", timeout=QUICK
        )
        with client, pytest.raises(WebhookError) as caught:
            client.handle_event(
                b"{}",
                {
                    "Stripe-Signature": "t=1,v1=x",
                    "Host": "evil",
                    "x-connector-base-url": "http://evil",
                    "x-connector-profile": "other",
                    "authorization": "Bearer evil",
                },
            )
    assert caught.value.reason == "unconfirmed"
    forwarded = service.received[0].lower()
    assert b"stripe-signature: t=1,v1=x" in forwarded
    assert b"evil" not in forwarded and b"other" not in forwarded
    assert forwarded.count(b"x-connector-profile: p\r\n") == 1


@pytest.mark.asyncio
async def test_async_no_answer_in_time_is_unresolved_and_refused_is_not_sent() -> None:
    with fake_service(SLOW) as service:
        async with AsyncRemoteClient(
            "stripe",
            {"api_key": "sk_test_fake"},
            service_url=service.url,
            api_key="svc_fake",
            timeout=QUICK,
        ) as client:
            result = await client.refund({"connector_transaction_id": "pi_1", "amount": 5})
    assert result.status == "unresolved" and result.error is not None
    assert result.error.code == "timeout" and result.idempotency_key
    async with AsyncRemoteClient(
        "stripe", {"api_key": "sk_test_fake"}, service_url=refused_url(), api_key="svc_fake"
    ) as client:
        with pytest.raises(NotSentError):
            await client.refund({"connector_transaction_id": "pi_1"})


# --- secrets ------------------------------------------------------------------------------------


def test_secrets_never_show(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    stripe_key = env["CONNECTOR_STRIPE_KEY"]
    api_key = env["CONNECTOR_SERVICE_API_KEY"]
    card = "4242424242424242"
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)
    with remote(env) as client:
        seen += [repr(client), str(vars(client))]
        for request in (
            {
                "amount": 100,
                "currency": "XXX",
                "payment_method": {
                    "type": "card",
                    "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                },
            },
            {"amount": 100, "currency": "USD", "description": stripe_key},
        ):
            try:
                seen.append(repr(client.authorize(request)))
            except ConnectorServiceError as exc:
                seen += [str(exc), repr(exc), repr(vars(exc))]
    with remote(env, api_key=api_key + "x") as wrong, pytest.raises(ServiceError) as caught:
        wrong.get({"connector_transaction_id": "pi_1"})
    seen += [str(caught.value), repr(vars(caught.value)), repr(wrong)]
    with fake_service(SLOW) as service, _fake(service.url, timeout=QUICK) as slow:
        seen.append(repr(slow.authorize(AUTHORIZE)))
    seen += [record.getMessage() for record in caplog.records]
    text = "\n".join(seen)
    assert len(seen) > 8 and "unauthenticated" in text  # the calls ran
    for secret in (stripe_key, api_key, card, "sk_test_fake", "svc_fake"):
        assert secret not in text, secret
