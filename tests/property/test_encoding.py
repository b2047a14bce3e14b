"""The form and XML request encoders round trip arbitrary nested data through independent
decoders: urllib's parse_qsl plus a bracket-key parser written here (form), and the standard
library's ElementTree (XML). XML 1.0 cannot carry most control characters at all: the encoder
refuses them (RenderError: nothing is sent) rather than send a changed value or a document
the processor cannot parse."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import RenderError
from engine._encoding import ENCODERS, encode_xml

from .documents import tags, xml_elements, xml_text

encode_form = ENCODERS["form"][0]

# ---- form ----------------------------------------------------------------------------------

#: Text with the characters the form syntax reserves, and anything else Unicode has.
RESERVED = "&=+%[]#?;/ \t\r\n\"'<>"
any_text = st.text(st.one_of(st.sampled_from(RESERVED), st.characters(codec="utf-8")))
#: Field names: bracket nesting has no way to write "[" or "]" inside a name, nor an empty one
#: (`a[]` would mean "append"), so names leave those out (see the report on names).
form_names = st.text(st.characters(codec="utf-8", exclude_characters="[]"), min_size=1, max_size=8)
form_scalars = st.one_of(any_text, st.integers(), st.booleans(), st.none())
form_values = st.recursive(
    form_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(form_names, inner, max_size=4)
    ),
    max_leaves=12,
)


def _expected_form(value: Any) -> Any:
    """What a form body can say about `value`: scalars as text, lists as index-keyed maps;
    None and containers left empty by it say nothing, so they are absent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list):
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        out = {str(k): _expected_form(v) for k, v in items}
        return {k: v for k, v in out.items() if v is not None} or None
    return None if value is None else str(value)


_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def decode_form(body: bytes) -> dict[str, Any]:
    """An independent reading of `a[b][0]=x` pairs into nested maps (indices stay text)."""
    out: dict[str, Any] = {}
    text = body.decode("ascii")  # a form body is ASCII: everything else is percent-encoded
    for name, value in parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)):
        match = _KEY.match(name)
        assert match, f"not a bracket name: {name!r}"
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = out
        for token in path[:-1]:
            node = node.setdefault(token, {})
            assert isinstance(node, dict), f"{name!r} is both a value and a container"
        assert path[-1] not in node, f"{name!r} given twice"
        node[path[-1]] = value
    return out


@settings(max_examples=150)  # cheap: search harder than the profile's default
@given(st.dictionaries(form_names, form_values, max_size=5))
def test_form_round_trips_through_an_independent_decoder(body: dict[str, Any]) -> None:
    assert decode_form(encode_form(body)) == (_expected_form(body) or {})


# ---- XML -----------------------------------------------------------------------------------


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_element(element: ET.Element, value: Any) -> None:
    """`element`, as the standard library parsed it, says exactly `value`."""
    if not isinstance(value, Mapping):
        assert (element.text or "") == _text_of(value)
        assert len(element) == 0 and not element.attrib
        return
    attributes = {k[1:]: _text_of(v) for k, v in value.items() if k.startswith("@")}
    assert element.attrib == attributes
    assert (element.text or "") == _text_of(value.get("#text", ""))
    children = {k: v for k, v in value.items() if k[0] not in "@#"}
    assert len(element) == sum(len(v) if isinstance(v, list) else 1 for v in children.values())
    for name, child in children.items():
        found = element.findall(name)
        repeated = child if isinstance(child, list) else [child]
        assert len(found) == len(repeated)
        for node, item in zip(found, repeated, strict=True):
            assert_element(node, item)


@settings(max_examples=150)  # cheap: search harder than the profile's default
@given(tags, xml_elements())
def test_xml_round_trips_through_the_standard_library_parser(root: str, value: Any) -> None:
    document = ET.fromstring(encode_xml({root: value}))  # noqa: S314 (our own output)
    assert document.tag == root
    assert_element(document, value)


unwritable = st.sampled_from([chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"])


@settings(max_examples=150)  # cheap: search harder than the profile's default
@given(tags, xml_text, unwritable, xml_text)
def test_xml_refuses_what_xml_1_0_cannot_carry(
    root: str, before: str, bad: str, after: str
) -> None:
    with pytest.raises(RenderError) as refused:
        encode_xml({root: {"order": {"description": before + bad + after}}})
    assert refused.value.pointer == f"/body/{root}/order/description"


#: xmltodict's own writer: the engine's XML encoder must give its bytes, for every value.
_names_refused = st.sampled_from(["a b", "a<b", "a/b", 'a"b', "a=b", "?pi", "!x", "#comment"])


@settings(max_examples=150)  # cheap: search harder than the profile's default
@given(tags, xml_elements(), st.booleans())
def test_xml_is_what_xmltodict_writes_byte_for_byte(root: str, value: Any, empty: bool) -> None:
    """engine._encoding writes XML with the standard library's XMLGenerator itself (xmltodict's
    unparse checked each name on every element of every request); the documents are the same.
    None (an empty element) and an empty list (nothing) are xmltodict's conventions too."""
    import xmltodict

    from engine._encoding import _xml_text

    if empty and isinstance(value, dict):
        value = {**value, "empty": None, "none_at_all": []}
    expected = xmltodict.unparse(_xml_text({root: value}, "/body"), full_document=False)
    written = encode_xml({root: value}).decode("utf-8")
    assert written == '<?xml version="1.0" encoding="UTF-8"?>\n' + expected.replace("\x00", "&#13;")


@given(_names_refused, st.booleans())
def test_xml_refuses_a_name_that_could_break_out_of_its_tag(name: str, attribute: bool) -> None:
    body = {"order": {f"@{name}" if attribute else name: "x"}}
    with pytest.raises(ValueError, match="name"):
        encode_xml(body)
