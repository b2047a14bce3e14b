"""Strategies for documents a processor might send (or a request body might hold): JSON
values, and XML in xmltodict's conventions, with the characters each syntax reserves made
common."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

#: What XML 1.0 cannot carry, not even as a character reference (the encoder refuses it).
XML_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)

#: Everything XML 1.0 can carry, with the characters its syntax reserves made common.
xml_text = st.lists(
    st.one_of(
        st.sampled_from(["&", "<", ">", '"', "'", "]]>", "\r", "\r\n", "\t", "\n", " ", "%"]),
        st.characters(codec="utf-8").filter(lambda c: not XML_UNWRITABLE.search(c)),
    ),
    max_size=12,
).map("".join)
tags = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,6}", fullmatch=True).filter(
    lambda t: not t.lower().startswith("xml")
)
xml_scalars = st.one_of(xml_text, st.integers(), st.booleans())


@st.composite
def xml_elements(draw: st.DrawFn, depth: int = 0) -> Any:
    """A value in xmltodict's conventions: text, or a map of `@attributes`, `#text` (with no
    children: mixed content has no order in a map) and child elements (a list repeats one)."""
    if depth >= 3 or draw(st.booleans()):
        return draw(xml_scalars)
    attributes = draw(st.dictionaries(tags, xml_scalars, max_size=2))
    element: dict[str, Any] = {f"@{k}": v for k, v in attributes.items()}
    names = draw(st.lists(tags, max_size=3, unique=True))
    for name in names:
        if draw(st.booleans()):
            element[name] = draw(st.lists(xml_elements(depth + 1), min_size=1, max_size=3))
        else:
            element[name] = draw(xml_elements(depth + 1))
    if not names and draw(st.booleans()):
        element["#text"] = draw(xml_text)
    return element


@st.composite
def xml_documents(draw: st.DrawFn) -> bytes:
    """A whole XML document (one root element), written with the standard library."""
    import xml.etree.ElementTree as ET

    def build(tag: str, value: Any) -> ET.Element:
        element = ET.Element(tag)
        if not isinstance(value, dict):
            element.text = str(value)
            return element
        for key, item in value.items():
            if key.startswith("@"):
                element.set(key[1:], str(item))
            elif key == "#text":
                element.text = str(item)
            else:
                for one in item if isinstance(item, list) else [item]:
                    element.append(build(key, one))
        return element

    return bytes(ET.tostring(build(draw(tags), draw(xml_elements())), encoding="utf-8"))
