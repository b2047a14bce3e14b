"""The README: its processor table lists exactly the bundled specs, and every python block in
it runs as written (against a scripted processor: nothing leaves the machine)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from engine._spec import bundled_spec_paths

ROOT = Path(__file__).resolve().parents[2]


def test_readme_lists_every_bundled_processor() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", readme, flags=re.M))
    assert listed == {path.stem for path in bundled_spec_paths()}


# --- every python block of the README runs as written ------------------------------------------

PI = {
    "id": "pi_readme_1",
    "object": "payment_intent",
    "amount": 1099,
    "amount_received": 1099,
    "currency": "eur",
    "status": "succeeded",
    "capture_method": "automatic",
    "latest_charge": "ch_readme_1",
    "metadata": {"reference": "order-1001"},
}
REFUND = {
    "id": "re_readme_1",
    "object": "refund",
    "amount": 1099,
    "currency": "eur",
    "payment_intent": "pi_readme_1",
    "status": "succeeded",
}


def python_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"^```python\n(.*?)^```", readme, flags=re.M | re.S)


class Stripe:
    """A scripted Stripe: the first authorize answers `first` (an exception = the connection
    died after sending), every later one the succeeded PaymentIntent."""

    def __init__(self, first: Exception | httpx.Response) -> None:
        self.first: Exception | httpx.Response | None = first
        self.seen: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request)
        path = request.url.path
        if path == "/v1/payment_intents" and self.first is not None:
            first, self.first = self.first, None
            if isinstance(first, Exception):
                raise first
            return first
        if path.startswith("/v1/payment_intents"):
            return httpx.Response(200, json=PI)
        if path == "/v1/refunds":
            return httpx.Response(200, json=REFUND)
        return httpx.Response(404, json={"error": {"type": "invalid_request_error"}})


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(httpx.ReadTimeout("no answer"), id="timeout-after-sending"),
        pytest.param(
            httpx.Response(502, json={"id": "pi_readme_1", "object": "payment_intent"}),
            id="502-naming-the-payment",
        ),
        pytest.param(httpx.Response(200, json=PI), id="captured-at-once"),
    ],
)
def test_the_readme_python_blocks_run_as_written(
    monkeypatch: pytest.MonkeyPatch, first: Exception | httpx.Response
) -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2, "the README has python examples"
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_readme")
    for later in blocks[1:]:  # each later example runs as written, on a processor of its own
        other = Stripe(httpx.Response(200, json=PI))
        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", other.handle)
        exec(compile(later, "README.md", "exec"), {})  # noqa: S102 - the README's own code
        assert other.seen
    # The first: the library's story, whatever happens to the first answer.
    stripe = Stripe(first)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", stripe.handle)
    exec(compile(blocks[0], "README.md", "exec"), {})  # noqa: S102 - the README's own code
    paths = [(r.method, r.url.path) for r in stripe.seen]
    # Whatever happened to the first answer, the payment was resolved and then refunded once.
    assert paths[-1] == ("POST", "/v1/refunds")
    assert paths.count(("POST", "/v1/refunds")) == 1
    authorizes = [r for r in stripe.seen if r.url.path == "/v1/payment_intents"]
    keys = {r.headers["Idempotency-Key"] for r in authorizes}
    assert len(keys) == 1, "a resent authorize carries the first one's key"
    if isinstance(first, Exception):
        assert len(authorizes) == 2
    elif first.status_code == 502:
        assert ("GET", "/v1/payment_intents/pi_readme_1") in paths
        assert len(authorizes) == 1
