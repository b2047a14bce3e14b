"""A real exchange with a processor's sandbox → a scenario fixture (YAML), scrubbed of card data
and secrets, so a contributor with sandbox credentials can add true recordings."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ._client import Client
from ._connector import Connector
from ._credentials import resolve_credentials
from ._http import HttpRequest, HttpResponse
from ._scrub import Scrubber

#: What a recorded request's card becomes in the fixture: a public test card of the same brand
#: would still be card data in a log, so one fixed, well-known test number is used.
FIXTURE_CARD = {"number": "4111111111111111", "cvc": "123"}


def record(
    connector: Connector,
    flow: str,
    request: Mapping[str, Any],
    credentials: Mapping[str, object],
    *,
    environment: str = "sandbox",
    base_url: str | None = None,
    allow_undeclared_host: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """Run `flow` for real and return the scenario (request, responses, expect)."""
    exchanges: list[tuple[HttpRequest, HttpResponse]] = []

    class _Recording(Client):
        # Every answer goes through the client's own bounded path (total_timeout, decoded
        # max_response_bytes); only what came back complete is recorded.
        def _send(self, built: HttpRequest, deadline: float | None) -> HttpResponse | Exception:
            answer = super()._send(built, deadline)
            if isinstance(answer, HttpResponse):
                exchanges.append((built, answer))
            return answer

    with _Recording(
        connector,
        credentials,
        environment=environment,
        base_url=base_url,
        allow_undeclared_host=allow_undeclared_host,
    ) as client:
        result = client.call(flow, request)
    resolved = resolve_credentials(connector.plan, credentials)
    card = (request.get("payment_method") or {}).get("card") or {}
    secrets = [*resolved.secrets, *(str(card[k]) for k in ("number", "cvc") if card.get(k))]
    if result.access_token is not None:
        secrets.append(result.access_token.token.reveal())
    scrubber = Scrubber(secrets)
    token_path = connector.plan.auth.token.path if connector.plan.auth.token else None
    answers = [
        _answer(answer, scrubber)
        for sent, answer in exchanges
        if token_path is None or urlsplit(sent.url).path != token_path
    ]
    scenario: dict[str, Any] = {
        "description": description or f"Recorded {flow} against {connector.name} ({environment}).",
        "flow": flow,
        "request": _scrub_request(request, result.idempotency_key),
    }
    if len(answers) == 1:
        scenario["response"] = answers[0]
    else:
        scenario["responses"] = answers
    expect: dict[str, Any] = {"status": result.status}
    for name in ("connector_transaction_id", "connector_refund_id"):
        value = getattr(result, name)
        if value is not None:
            expect[name] = scrubber.text(value)
    if result.error is not None:
        expect["error.code"] = result.error.code
    scenario["expect"] = expect
    return scenario


def _scrub_request(request: Mapping[str, Any], idempotency_key: str | None) -> dict[str, Any]:
    scrubbed = copy.deepcopy(dict(request))
    card = (scrubbed.get("payment_method") or {}).get("card")
    if isinstance(card, dict):
        card.update({k: v for k, v in FIXTURE_CARD.items() if k in card})
    if idempotency_key and "idempotency_key" not in scrubbed:
        scrubbed["idempotency_key"] = idempotency_key  # fixtures pin it: stable snapshots
    return scrubbed


def _answer(response: HttpResponse, scrubber: Scrubber) -> dict[str, Any]:
    text = scrubber.text(response.body.decode("utf-8", "replace"))
    answer: dict[str, Any] = {"status": response.status_code}
    content_type = response.header("content-type")
    if content_type:
        answer["headers"] = {"Content-Type": content_type}
    try:
        answer["body"] = json.loads(text)
    except ValueError:
        answer["body_text"] = text
    return answer


def write_scenario(scenario: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(scenario), sort_keys=False, allow_unicode=True), "utf-8")
