"""engine._hosts: a caller's base_url reaches only a host the spec declares unless the caller
opts in (allow_undeclared_host), plain http only to loopback, and no URL that could smuggle
credentials (user info) or change meaning (query, fragment, whitespace, control characters)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine import AsyncClient, Client, CredentialsError, load_connector
from engine._hosts import HostRule, environment_url, host_rule
from engine.cli import main

STRIPE_KEY = {"api_key": "sk_test_51HostsCheckKey0000"}
TOKEN_REQUEST = {
    "amount": 1099,
    "currency": "EUR",
    "reference": "order-hosts-1",
    "idempotency_key": "idem-hosts-1",
    "return_url": "https://shop.example/return",
    "payment_method": {"type": "token", "token": "pm_card_visa"},
}
ADYEN = {
    "api_key": "AQE1hostsCheckKey-fake",
    "merchant_account": "ShopECOM",
    "live_url_prefix": "1797a841fbb37ca7-AdyenDemo",
}
PAYPAL = {"client_id": "AZhostsClientId_0000000", "client_secret": "ELhostsSecret_000000000"}


def build(connector: str, base_url: Any, credentials: dict[str, str], **kw: Any) -> str:
    built = load_connector(connector).build_request(
        "authorize", TOKEN_REQUEST, credentials, base_url=base_url, **kw
    )
    return built.url


@pytest.mark.parametrize(
    ("connector", "base_url", "credentials"),
    [
        ("stripe", "https://api.stripe.com", STRIPE_KEY),
        ("stripe", "https://api.stripe.com/", STRIPE_KEY),
        ("stripe", "https://API.Stripe.com:443", STRIPE_KEY),
        ("adyen", "https://checkout-test.adyen.com/v71", ADYEN),
        # A templated label of a declared host (Adyen's live URL prefix): any label fits.
        ("adyen", "https://other-prefix-checkout-live.adyenpayments.com/checkout/v71", ADYEN),
    ],
)
def test_a_declared_host_needs_no_opt_in(
    connector: str, base_url: str, credentials: dict[str, str]
) -> None:
    url = build(connector, base_url, credentials)
    assert url.startswith(base_url.rstrip("/"))


@pytest.mark.parametrize(
    ("connector", "base_url", "credentials"),
    [
        ("stripe", "https://evilstripe.com", STRIPE_KEY),
        ("stripe", "https://api.stripe.com.evil.example", STRIPE_KEY),
        ("stripe", "https://evil.api.stripe.com", STRIPE_KEY),  # the spec declares no label
        ("stripe", "https://api.stripe.com:8443", STRIPE_KEY),
        ("stripe", "https://api.stripe.com.", STRIPE_KEY),
        ("stripe", "https://127.0.0.1:8443", STRIPE_KEY),
        ("stripe", "http://127.0.0.1:12111", STRIPE_KEY),
        ("stripe", "http://localhost:12111", STRIPE_KEY),
        ("adyen", "https://evilcheckout-live.adyenpayments.com", ADYEN),
        ("adyen", "https://a.b-checkout-live.adyenpayments.com", ADYEN),  # two labels
        ("adyen", "https://evil.example/-checkout-live.adyenpayments.com", ADYEN),
        ("adyen", "https://checkout-test.adyen.com.evil.example/v71", ADYEN),
    ],
)
def test_an_undeclared_host_is_refused_without_the_opt_in(
    connector: str, base_url: str, credentials: dict[str, str]
) -> None:
    with pytest.raises(CredentialsError) as raised:
        build(connector, base_url, credentials)
    message = str(raised.value)
    assert message.startswith(f"{connector}: base_url ")
    assert "allow_undeclared_host=True" in message and "--allow-undeclared-host" in message
    assert base_url not in message


def test_the_refusal_lists_the_declared_hosts() -> None:
    with pytest.raises(CredentialsError) as raised:
        build("adyen", "https://evil.example", ADYEN)
    assert "checkout-test.adyen.com, *-checkout-live.adyenpayments.com" in str(raised.value)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:12111",
        "http://127.0.0.1:12111/prefix/",
        "http://127.1.2.3:80",
        "http://[::1]:8080",
        "http://localhost:8080",
        "http://LOCALHOST",
        "https://127.0.0.1:8443",
        "https://proxy.internal.example",
    ],
)
def test_with_the_opt_in_loopback_http_and_any_https_host_are_accepted(base_url: str) -> None:
    url = build("stripe", base_url, STRIPE_KEY, allow_undeclared_host=True)
    assert url == base_url.rstrip("/") + "/v1/payment_intents"


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("http://10.0.0.7:8080", "plain http:// only to a loopback host"),
        ("http://api.stripe.com", "plain http:// only to a loopback host"),
        ("http://localhost.evil.example", "plain http:// only to a loopback host"),
        ("http://127.0.0.1.nip.io", "plain http:// only to a loopback host"),
        ("http://[::ffff:10.0.0.1]", "plain http:// only to a loopback host"),
        ("https://sk_live_userinfo:pw@api.stripe.com", "may not hold user info"),
        ("https://sk_live_userinfo@api.stripe.com", "may not hold user info"),
        ("http://x@127.0.0.1", "may not hold user info"),
        ("https://api.stripe.com/#frag", "may not hold a query or a fragment"),
        ("https://api.stripe.com?debug=1", "may not hold a query or a fragment"),
        ("https://api.stripe.com/?", "may not hold a query or a fragment"),
        ("https://api.stripe.com/\tv1", "printable ASCII only"),
        ("https://api.stripe.com\n", "printable ASCII only"),
        (" https://api.stripe.com", "printable ASCII only"),
        ("https://api.stripe.com/a b", "printable ASCII only"),
        ("https://api.stripe.com/\x00", "printable ASCII only"),
        ("https://api.strípe.com", "printable ASCII only"),
        ("", "printable ASCII only"),
        ("api.stripe.com", "absolute http:// or https:// URL"),
        ("//api.stripe.com", "absolute http:// or https:// URL"),
        ("ftp://api.stripe.com", "absolute http:// or https:// URL"),
        ("https://", "absolute http:// or https:// URL"),
        ("https://api.stripe.com:99999", "absolute http:// or https:// URL"),
        ("https://api.stripe.com:x", "absolute http:// or https:// URL"),
        ("https://[::1", "absolute http:// or https:// URL"),
        (b"https://api.stripe.com", "must be a string"),
    ],
)
def test_some_urls_are_refused_even_with_the_opt_in(base_url: Any, reason: str) -> None:
    for allow in (False, True):
        with pytest.raises(CredentialsError) as raised:
            build("stripe", base_url, STRIPE_KEY, allow_undeclared_host=allow)
        message = str(raised.value)
        assert message.startswith("stripe: base_url ") and reason in message
        assert "sk_live_userinfo" not in message and "pw" not in message.split(":", 1)[1][:40]


def test_a_templated_tail_must_start_at_a_label_boundary() -> None:
    # Lint refuses `https://{{ x }}stripe.com`; should such a plan exist anyway, the rule it
    # compiles to still keeps `evilstripe.com` out.
    rule = host_rule("https://{{ credentials.x }}stripe.com")
    assert rule == HostRule("stripe.com", 443, templated=True)
    assert not rule.allows("evilstripe.com", 443)
    with pytest.raises(CredentialsError, match="left the declared host"):
        environment_url("acme", "sandbox", "https://evilstripe.com", rule)
    dotted = host_rule("https://{{ credentials.x }}.stripe.com:8443/v1")
    assert dotted == HostRule(".stripe.com", 8443, templated=True)
    assert dotted.allows("eu.stripe.com", 8443)
    assert not dotted.allows("eu.stripe.com", 443)
    assert not dotted.allows("evil.eu.stripe.com", 8443)
    assert not dotted.allows("stripe.com", 8443)


def _recording() -> tuple[list[httpx.Request], httpx.MockTransport]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"id": "pi_hosts_1", "status": "requires_capture"})

    return sent, httpx.MockTransport(handler)


def test_the_client_refuses_at_construction_and_sends_nothing() -> None:
    sent, transport = _recording()
    http = httpx.Client(transport=transport)
    with pytest.raises(CredentialsError, match="does not declare"):
        Client("stripe", STRIPE_KEY, base_url="https://evil.example", http_client=http)
    with pytest.raises(CredentialsError, match="may not hold user info"):
        Client(
            "stripe",
            STRIPE_KEY,
            base_url="https://a:b@api.stripe.com",
            allow_undeclared_host=True,
            http_client=http,
        )

    async def construct() -> None:
        AsyncClient("stripe", STRIPE_KEY, base_url="http://127.0.0.1:1")

    with pytest.raises(CredentialsError, match="does not declare"):
        asyncio.run(construct())
    assert sent == []


def test_the_client_sends_to_loopback_with_the_opt_in() -> None:
    sent, transport = _recording()
    with Client(
        "stripe",
        STRIPE_KEY,
        base_url="http://127.0.0.1:12111",
        allow_undeclared_host=True,
        http_client=httpx.Client(transport=transport),
    ) as client:
        client.authorize(TOKEN_REQUEST)
    assert [str(r.url) for r in sent] == ["http://127.0.0.1:12111/v1/payment_intents"]


def test_a_token_request_follows_the_same_rule() -> None:
    paypal = load_connector("paypal")
    for declared in ("https://api-m.sandbox.paypal.com", "https://api-m.paypal.com"):
        # Either environment's host: the production one with sandbox settings is still PayPal.
        assert paypal.build_token_request(PAYPAL, base_url=declared).url.startswith(declared)
    with pytest.raises(CredentialsError, match="does not declare"):
        paypal.build_token_request(PAYPAL, base_url="https://collector.example")
    built = paypal.build_token_request(
        PAYPAL, base_url="http://127.0.0.1:9", allow_undeclared_host=True
    )
    assert built.url == "http://127.0.0.1:9/v1/oauth2/token"


def test_the_cli_needs_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(TOKEN_REQUEST))
    local = ["render", "stripe", "authorize", str(request), "--base-url", "http://127.0.0.1:9"]
    assert main(local) == 2
    err = capsys.readouterr().err
    assert "CredentialsError: stripe: base_url names a host" in err
    assert "--allow-undeclared-host" in err
    assert main([*local, "--allow-undeclared-host", "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)["requests"]
    assert shown["url"] == "http://127.0.0.1:9/v1/payment_intents"
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps(STRIPE_KEY))
    call = ["call", "stripe", "authorize", str(request), "--credentials", str(credentials)]
    assert main([*call, "--base-url", "https://collector.example"]) == 2  # before sending
    assert "does not declare" in capsys.readouterr().err
    for command in ("render", "call", "record"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--allow-undeclared-host" in capsys.readouterr().out


def test_an_accepted_base_url_is_checked_again_when_the_flag_differs() -> None:
    # root_url remembers which (rules, base_url, opt-in) it accepted; a refusal is never kept.
    from engine import CredentialsError, load_connector
    from engine._build import root_url

    plan = load_connector("stripe").plan
    url = "https://undeclared.example"
    assert root_url(plan, "sandbox", {}, url, True) == url
    with pytest.raises(CredentialsError):
        root_url(plan, "sandbox", {}, url, False)
    with pytest.raises(CredentialsError):
        root_url(plan, "sandbox", {}, ["not", "a", "string"], True)
