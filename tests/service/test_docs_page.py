"""GET /docs in a real browser. Headless Chromium (Debian's package, driven over the DevTools
protocol: tests/service/cdp.py) loads the page from the service alone and lists every flow.
Then one operation is clicked through Swagger UI's "Try it out": the bearer key goes in the
Authorize dialog, the profile and base-URL headers and a body are typed in, and Execute gets a
200 with a captured Result from localstripe behind the service (tools/service_harness.py).
Chromium missing is a failure, not a skip."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from engine._unified import FLOWS

from .cdp import Browser, Page

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from service_harness import running  # type: ignore[import-not-found]

OPERATION = "#operations-payments-authorize"
BODY = {
    "amount": 1999,
    "currency": "USD",
    "payment_method": {"type": "token", "token": "pm_card_visa"},
}


@pytest.fixture(scope="module")
def harness() -> Iterator[dict[str, str]]:
    with running() as env:
        yield env


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser(tmp_path_factory.mktemp("chromium")) as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser, harness: dict[str, str]) -> Page:
    tab = browser.new_page()
    tab.goto(f"{harness['CONNECTOR_SERVICE_URL']}/docs")
    tab.wait_for("document.querySelectorAll('.opblock').length > 0", "the operation list")
    return tab


def requested(page: Page) -> list[dict[str, Any]]:
    return [event["request"] for event in page.events("Network.requestWillBeSent")]


def assert_only_the_service_was_asked(page: Page, service_url: str) -> list[str]:
    """Every request the page made went to the service (data: URLs are no request)."""
    own = urlsplit(service_url)
    urls = [request["url"] for request in requested(page)]
    elsewhere = [
        url
        for url in urls
        if not url.startswith("data:") and urlsplit(url)[:2] != (own.scheme, own.netloc)
    ]
    assert not elsewhere, f"the page asked other hosts: {elsewhere}"
    return [urlsplit(url).path for url in urls if not url.startswith("data:")]


def test_the_page_loads_from_the_service_alone_and_lists_every_flow(
    page: Page, harness: dict[str, str]
) -> None:
    paths = assert_only_the_service_was_asked(page, harness["CONNECTOR_SERVICE_URL"])
    assert {"/docs", "/openapi.json", "/docs/static/swagger-ui-bundle.js"} <= set(paths)
    loaded = {
        urlsplit(event["response"]["url"]).path: event["response"]["status"]
        for event in page.events("Network.responseReceived")
    }
    assert loaded["/docs/static/swagger-ui-bundle.js"] == loaded["/openapi.json"] == 200
    operations = page.evaluate(
        "[...document.querySelectorAll('.opblock')].map(e => e.id.split('-').slice(2).join('-'))"
    )
    assert set(FLOWS) <= set(operations), set(FLOWS) - set(operations)
    assert {"handle_event", "list_connectors", "healthz", "readyz", "metrics"} <= set(operations)
    routes = page.evaluate(
        "[...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent)"
    )
    assert {f"/v1/{{connector}}/{flow}" for flow in FLOWS} <= {
        r.replace("\u200b", "") for r in routes
    }
    assert not page.events("Runtime.exceptionThrown")
    errors = [
        entry["entry"]
        for entry in page.events("Log.entryAdded")
        if entry["entry"]["level"] == "error"
        and not entry["entry"].get("url", "").endswith("/favicon.ico")
    ]
    assert not errors, errors  # a Content-Security-Policy refusal would be one


def test_try_it_out_authorizes_a_payment(page: Page, harness: dict[str, str]) -> None:
    # the bearer key, in Swagger UI's Authorize dialog
    page.click(".btn.authorize")
    page.fill("#auth-bearer-value", harness["CONNECTOR_SERVICE_API_KEY"])
    page.click(".modal-ux .auth-btn-wrapper button.authorize")
    page.click(".modal-ux .auth-btn-wrapper .btn-done")
    page.wait_for_selector(".btn.authorize.locked")
    # the operation: expand it, Try it out, fill it in, Execute
    page.click(f"{OPERATION} .opblock-summary-control")
    page.click(f"{OPERATION} .try-out__btn")
    page.choose(f'{OPERATION} tr[data-param-name="connector"] select', "stripe")
    page.fill(
        f'{OPERATION} tr[data-param-name="X-Connector-Profile"] input',
        harness["CONNECTOR_SERVICE_PROFILE"],
    )
    page.fill(
        f'{OPERATION} tr[data-param-name="X-Connector-Base-Url"] input',
        harness["CONNECTOR_STRIPE_BASE_URL"],
    )
    page.fill(f"{OPERATION} textarea.body-param__text", json.dumps(BODY))
    page.click(f"{OPERATION} .execute")
    table = f"{OPERATION} .live-responses-table"
    status = page.text(f"{table} .response .response-col_status").strip()
    body = page.text(f"{table} .response .response-col_description pre")
    assert status == "200", body
    result = json.loads(body)
    assert (result["flow"], result["connector"], result["status"]) == (
        "authorize",
        "stripe",
        "captured",
    ), result
    assert result["connector_transaction_id"].startswith("pi_")  # localstripe's PaymentIntent
    # what the browser sent: to the service only, with what was typed in
    assert_only_the_service_was_asked(page, harness["CONNECTOR_SERVICE_URL"])
    (call,) = [r for r in requested(page) if urlsplit(r["url"]).path == "/v1/stripe/authorize"]
    headers = {k.lower(): v for k, v in call["headers"].items()}
    assert call["method"] == "POST"
    assert headers["authorization"] == f"Bearer {harness['CONNECTOR_SERVICE_API_KEY']}"
    assert headers["x-connector-profile"] == harness["CONNECTOR_SERVICE_PROFILE"]
    assert json.loads(call["postData"]) == BODY
