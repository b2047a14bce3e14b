"""Every value the unified schemas mark x-card-data is hidden from a built request's redacted
form (what `connector render`, logs and snapshots show), not only the card number and CVC: a
3DS authentication value (CAVV) here, sent by a spec that reads it."""

from __future__ import annotations

from engine._build import build_request
from engine._card_data import card_data_values

from .conftest import acme_variant, card_request

CAVV = "AAABBEg0VhI0VniQEjRWAAAAAAA="


def test_a_cavv_is_hidden_where_the_card_number_is() -> None:
    def read_external_3ds(spec: dict[str, object]) -> None:
        body = spec["flows"]["authorize"]["request"]["body"]  # type: ignore[index]
        body["authentication"] = {"cavv": "{{ request.three_ds.external.cavv }}"}

    plan = acme_variant(read_external_3ds)
    request = card_request(three_ds={"external": {"cavv": CAVV, "eci": "05"}})
    built = build_request(plan, "authorize", request, {"api_key": "ak_test_k1"})
    assert CAVV.encode() in (built.body or b"")  # it is sent
    shown = str(built.redacted())
    assert CAVV not in shown
    assert request["payment_method"]["card"]["number"] not in shown


def test_every_marked_value_is_found() -> None:
    request = {
        "payment_method": {
            "type": "wallet",
            "wallet": {
                "type": "apple_pay",
                "decrypted": {"number": "4111111111111111", "cryptogram": "AgAAAAAABk4DWZ4C"},
            },
        },
        "three_ds": {"external": {"cavv": CAVV}},
    }
    assert set(card_data_values(request)) == {"4111111111111111", "AgAAAAAABk4DWZ4C", CAVV}
