"""engine._recovery: the ways back from `unresolved`, derived from what a spec declares."""

from __future__ import annotations

from typing import Any

from engine._connector import Connector, load_connector
from engine._docs import render_recovery_markdown
from engine._recovery import recovery_table, recovery_ways

from .conftest import acme_variant


def test_a_payment_whose_id_is_known_is_read_with_get_an_authorize_never_is() -> None:
    stripe = load_connector("stripe")
    assert recovery_ways(stripe, "capture")[0] == "get"
    assert "get" not in recovery_ways(stripe, "authorize")
    assert "resend" in recovery_ways(stripe, "authorize")


def test_a_spec_with_no_way_back_says_none() -> None:
    def strip(spec: dict[str, Any]) -> None:
        spec["capabilities"]["idempotency_key"] = False
        spec.pop("webhooks", None)
        spec["flows"].pop("get", None)

    bare = Connector(acme_variant(strip))
    assert set(recovery_table(bare).values()) == {("none",)}


def test_each_declaration_adds_its_way() -> None:
    def keyed(spec: dict[str, Any]) -> None:
        spec["capabilities"]["idempotency_key"] = True

    def unkeyed(spec: dict[str, Any]) -> None:
        spec["capabilities"]["idempotency_key"] = False

    assert "resend" in recovery_ways(Connector(acme_variant(keyed)), "authorize")
    assert "resend" not in recovery_ways(Connector(acme_variant(unkeyed)), "authorize")


def test_the_docs_warn_loudly_where_there_is_none() -> None:
    page = render_recovery_markdown()
    assert "no way back" in page
    assert "Cybersource refund" in page  # its id never learnt, no idempotency, no webhooks
    assert "Cybersource capture" not in page  # get reads the authorization's record
    assert "Cybersource authorize" not in page  # find by reference


FINDERS = ("stripe", "checkout_com", "razorpay", "braintree", "cybersource")


def test_a_lost_authorize_is_found_by_reference_where_the_spec_has_find() -> None:
    for name in FINDERS:
        connector = load_connector(name)
        assert "find" in connector.flows, name
        assert "find" in recovery_ways(connector, "authorize"), name
        assert "find" not in recovery_ways(connector, "capture"), name  # its id is known


def test_find_is_a_way_only_with_a_find_flow() -> None:
    def with_find(spec: dict[str, Any]) -> None:
        spec["flows"]["find"] = {
            "request": {
                "method": "GET",
                "path": "/v1/payments",
                "query": {"ref": "{{ request.reference }}"},
                "headers": {"Idempotency-Key": None},
            },
            "response": {
                "matches": "data",
                "status": {"from": "status", "map": {"ok": "captured"}},
            },
        }

    assert "find" not in recovery_ways(Connector(acme_variant(lambda spec: None)), "authorize")
    assert "find" in recovery_ways(Connector(acme_variant(with_find)), "authorize")
