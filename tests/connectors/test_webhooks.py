"""Every webhook scenario: verified and parsed into unified events, or rejected for the
expected reason."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from engine import WebhookError, load_connector

from .scenarios import Scenario, credentials_for, dotted, response_body, webhook_scenarios

SCENARIOS = webhook_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_webhook(scenario: Scenario, snapshot: Any) -> None:
    data = scenario.data
    connector = load_connector(scenario.connector)
    body = response_body(data)
    expect = data["expect"]
    # The non-secret settings a signed message may cover (dLocal's X-Login, Square's URL).
    settings = credentials_for(scenario.connector)
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            connector.parse_event(
                body,
                data.get("headers", {}),
                data["secret"],
                now=data.get("now"),
                credentials=settings,
            )
        assert caught.value.reason == expect["rejected"]
        assert data["secret"] not in str(caught.value)
        return
    result = connector.parse_event(
        body, data.get("headers", {}), data["secret"], now=data.get("now"), credentials=settings
    )
    events = [event.to_dict() for event in result.events]
    assert len(events) == len(expect["events"])
    for event, expected in zip(events, expect["events"], strict=True):
        assert event["verified"] is True
        for path, value in expected.items():
            assert dotted(event, path) == value, f"{path}: {dotted(event, path)!r} != {value!r}"
    if "acknowledge" in expect:
        assert result.to_dict()["acknowledge"] == expect["acknowledge"]
    assert result.to_dict() == snapshot.use_extension(JSONSnapshotExtension)
