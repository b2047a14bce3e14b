"""engine._encoding: request bodies → bytes (JSON, bracket-nested form); response bytes → data."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from engine._encoding import DECODERS, ENCODERS, DecodeError, flatten_form


def form(body: Any) -> list[tuple[str, str]]:
    """Encode with the engine, decode independently with the standard library."""
    encoded = ENCODERS["form"][0](body)
    assert isinstance(encoded, bytes)
    encoded.decode("ascii")  # form bodies are pure ASCII
    return parse_qsl(encoded.decode("ascii"), keep_blank_values=True, strict_parsing=True)


def test_content_types() -> None:
    assert ENCODERS["json"][1] == "application/json"
    assert ENCODERS["form"][1] == "application/x-www-form-urlencoded"


def test_form_flat_values() -> None:
    assert form({"amount": 1099, "currency": "usd", "confirm": True, "off": False}) == [
        ("amount", "1099"),
        ("currency", "usd"),
        ("confirm", "true"),
        ("off", "false"),
    ]


def test_form_nested_mapping() -> None:
    assert form({"metadata": {"k": "v", "order": "A-1"}}) == [
        ("metadata[k]", "v"),
        ("metadata[order]", "A-1"),
    ]


def test_form_lists_are_indexed() -> None:
    assert form({"a": ["x", "y"]}) == [("a[0]", "x"), ("a[1]", "y")]


def test_form_mappings_inside_lists() -> None:
    body = {"items": [{"name": "hat", "qty": 2}, {"name": "scarf", "gift": True}]}
    assert form(body) == [
        ("items[0][name]", "hat"),
        ("items[0][qty]", "2"),
        ("items[1][name]", "scarf"),
        ("items[1][gift]", "true"),
    ]


def test_form_deep_nesting() -> None:
    body = {"payment_method_data": {"card": {"number": "4242", "exp": [12, 2030]}}}
    assert form(body) == [
        ("payment_method_data[card][number]", "4242"),
        ("payment_method_data[card][exp][0]", "12"),
        ("payment_method_data[card][exp][1]", "2030"),
    ]


def test_form_omits_none() -> None:
    assert form({"a": None, "b": {"c": None, "d": 1}, "e": [None, "x"]}) == [
        ("b[d]", "1"),
        ("e[1]", "x"),
    ]


def test_form_quotes_reserved_characters_and_unicode() -> None:
    body = {"description": "a&b=c+d e", "name": "Zoë", "metadata": {"a b": "x/y?"}}
    assert form(body) == [
        ("description", "a&b=c+d e"),
        ("name", "Zoë"),
        ("metadata[a b]", "x/y?"),
    ]


def test_form_body_must_be_a_mapping() -> None:
    with pytest.raises(TypeError):
        ENCODERS["form"][0](["x"])


def test_flatten_form_agrees_with_the_encoder() -> None:
    body = {"m": {"k": "v"}, "l": [1, {"x": True}], "n": None}
    assert list(flatten_form(body)) == form(body)
    assert list(flatten_form(body)) == [("m[k]", "v"), ("l[0]", "1"), ("l[1][x]", "true")]


def test_json_is_compact_utf8() -> None:
    encoded = ENCODERS["json"][0]({"name": "Zoë", "amount": 1099, "ok": True, "list": [1, 2]})
    assert encoded == '{"name":"Zoë","amount":1099,"ok":true,"list":[1,2]}'.encode()
    assert json.loads(encoded) == {"name": "Zoë", "amount": 1099, "ok": True, "list": [1, 2]}


def test_json_decodes() -> None:
    assert DECODERS["json"](b'{"a": [1, "x", null]}') == {"a": [1, "x", None]}


def test_json_with_a_utf8_bom_decodes() -> None:
    assert DECODERS["json"](b'\xef\xbb\xbf{"status": "ok"}') == {"status": "ok"}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<html>502 Bad Gateway</html>",
        b"{",
        b"\xff\xfe{}",
        b"1" * 5000,  # an integer too long to convert
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the recursion limit
    ],
)
def test_json_decode_errors(body: bytes) -> None:
    with pytest.raises(DecodeError):
        DECODERS["json"](body)


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)
    with pytest.raises(DecodeError, match="empty body"):
        DECODERS["json"](b"")


def test_text_decoder() -> None:
    assert DECODERS["text"](b"\xef\xbb\xbfOK caf\xc3\xa9") == "OK café"
    with pytest.raises(DecodeError):
        DECODERS["text"](b"\xff")


def test_decode_none_ignores_the_body() -> None:
    from engine._encoding import DECODERS

    assert DECODERS["none"](b"") is None
    assert DECODERS["none"](b"<html>anything</html>") is None


def test_json_writes_a_decimal_as_its_exact_digits() -> None:
    from decimal import Decimal

    encode = ENCODERS["json"][0]
    body = {"amount": Decimal("10.10"), "n": [1, True, None, "é\n"], "o": {"x": Decimal("5")}, 2: 1}
    text = encode(body).decode()
    assert text == '{"amount":10.10,"n":[1,true,null,"é\\n"],"o":{"x":5},"2":1}'
    # the same text json.dumps writes once the Decimals are plain numbers
    plain = {"amount": 10.1, "n": [1, True, None, "é\n"], "o": {"x": 5}, 2: 1}
    assert text.replace("10.10", "10.1") == encode(plain).decode()
    with pytest.raises(ValueError):
        encode({"amount": Decimal("NaN")})
    with pytest.raises(TypeError):
        encode({"amount": {1, 2}})  # still refused: only Decimals take the exact path


# --- form answers (query strings) ---------------------------------------------------------


def test_a_query_string_answer_decodes_to_a_flat_mapping_of_strings() -> None:
    answer = (
        b"response=1&responsetext=SUCCESS&authcode=123456&transactionid=3280866052"
        b"&avsresponse=N&cvvresponse=M&orderid=&type=sale&response_code=100"
    )
    assert DECODERS["form"](answer) == {
        "response": "1",
        "responsetext": "SUCCESS",
        "authcode": "123456",
        "transactionid": "3280866052",
        "avsresponse": "N",
        "cvvresponse": "M",
        "orderid": "",  # a blank value is kept, not dropped
        "type": "sale",
        "response_code": "100",
    }


def test_a_form_answer_decodes_plus_percent_raw_spaces_and_a_byte_order_mark() -> None:
    decoded = DECODERS["form"](b"\xef\xbb\xbfa=Do+Not+Honor&b=x%26y&c=Invalid Card REFID:1")
    assert decoded == {"a": "Do Not Honor", "b": "x&y", "c": "Invalid Card REFID:1"}


@pytest.mark.parametrize(
    "body",
    [
        b"response=1&response=2",  # which one? refused, never the first or the last
        b"response=1&garbage",  # a part without `=`
        b"<html><body>Bad Gateway</body></html>",
        b"\xff\xfe=1",  # not UTF-8
    ],
)
def test_an_ambiguous_or_foreign_form_answer_is_unreadable(body: bytes) -> None:
    with pytest.raises(DecodeError):
        DECODERS["form"](body)
