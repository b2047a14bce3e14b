"""XML: the encoder and decoder agree, and parsing refuses entity tricks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from engine._encoding import DECODERS, DecodeError, encode_xml, parse_xml
from engine._templates import FILTERS

DOCTYPE = (
    '<!DOCTYPE paymentService PUBLIC "-//Worldpay//DTD Worldpay PaymentService v1//EN" '
    '"http://dtd.worldpay.com/paymentService_v1.dtd">'
)


def test_xml_round_trip_through_an_independent_parser() -> None:
    body: dict[str, Any] = {
        "paymentService": {
            "@version": "1.4",
            "@merchantCode": "SHOP1",
            "submit": {
                "order": {
                    "@orderCode": "order-1",
                    "description": "Two <books> & a pen",
                    "amount": {"@value": 1099, "@currencyCode": "EUR", "@exponent": 2},
                    "item": [{"#text": "a"}, {"#text": "b"}],
                    "flag": True,
                }
            },
        }
    }
    data = encode_xml(body, DOCTYPE)
    text = data.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n' + DOCTYPE + "\n")
    root = ET.fromstring(text.split("\n", 2)[2])  # noqa: S314 (our own output)
    order = root.find("submit/order")
    assert order is not None and order.get("orderCode") == "order-1"
    assert order.findtext("description") == "Two <books> & a pen"
    assert [e.text for e in order.findall("item")] == ["a", "b"]
    assert order.findtext("flag") == "true"
    assert parse_xml(data)["paymentService"]["submit"]["order"]["amount"]["@value"] == "1099"


@pytest.mark.parametrize(
    "hostile",
    [
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "x"><!ENTITY y "&x;&x;">]><a>&y;</a>',
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1/x">%p;]><a/>',
        "<a><b></a>",
        "",
    ],
)
def test_hostile_or_broken_xml_is_refused(hostile: str) -> None:
    with pytest.raises(DecodeError):
        DECODERS["xml"](hostile.encode())


def test_card_brand_filter() -> None:
    brand = FILTERS["card_brand"][0]
    assert brand("4111111111111111") == "visa"
    assert brand("5555555555554444") == "mastercard"
    assert brand("2223003122003222") == "mastercard"
    assert brand("378282246310005") == "amex"
    assert brand("6011111111111117") == "discover"
    assert brand("3566002020360505") == "jcb"
    assert brand("9999") is None
