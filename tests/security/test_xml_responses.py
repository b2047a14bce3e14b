"""XML responses are parsed safely: an entity declaration (internal, external, parameter, or a
billion-laughs chain) in a processor's answer makes the result `unresolved` with
`invalid_response`, with nothing expanded and no file read. The processor's ordinary public
DOCTYPE (Worldpay sends one) is still accepted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine import HttpResponse, Result, load_connector

from ..connectors.scenarios import ROOT, Scenario

_PATH = ROOT / "worldpay" / "scenarios" / "authorize_manual_authorized.yaml"
FIXTURE = Scenario("worldpay", _PATH.stem, _PATH, yaml.safe_load(_PATH.read_text(encoding="utf-8")))
CANARY = "xml-canary-0c4f2a9d7e"

_PUBLIC_DOCTYPE = (
    '<!DOCTYPE paymentService PUBLIC "-//WorldPay//DTD WorldPay PaymentService v1//EN"\n'
    '                                "http://dtd.worldpay.com/paymentService_v1.dtd">'
)


def _answer(scenario: Scenario, doctype: str, last_event: str) -> bytes:
    text = str(scenario.data["response"]["body_text"])
    assert _PUBLIC_DOCTYPE in text and "<lastEvent>AUTHORISED</lastEvent>" in text
    text = text.replace(_PUBLIC_DOCTYPE, doctype)
    return text.replace(
        "<lastEvent>AUTHORISED</lastEvent>", f"<lastEvent>{last_event}</lastEvent>"
    ).encode()


def _parse(body: bytes) -> Result:
    return load_connector("worldpay").parse_response(
        FIXTURE.data["flow"],
        FIXTURE.data["request"],
        HttpResponse(200, {"Content-Type": "text/xml"}, body),
    )


def _laughs(levels: int) -> str:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return "<!DOCTYPE paymentService [\n" + "\n".join(entities) + "\n]>"


def test_the_public_doctype_is_accepted() -> None:
    result = _parse(_answer(FIXTURE, _PUBLIC_DOCTYPE, "AUTHORISED"))
    assert result.status == "authorized"


@pytest.fixture
def canary_file(tmp_path: Path) -> Path:
    path = tmp_path / "canary.txt"
    path.write_text(CANARY, encoding="utf-8")
    return path


ATTACKS = {
    # Even a harmless internal entity is refused: an answer that declares entities is not one
    # a processor sends, and its expansion would decide the payment's status.
    "internal": ('<!DOCTYPE paymentService [<!ENTITY st "AUTHORISED">]>', "&st;"),
    "billion-laughs": (_laughs(10), "&lol9;"),
    "external-file": ('<!DOCTYPE paymentService [<!ENTITY x SYSTEM "{file}">]>', "&x;"),
    "external-parameter": (
        '<!DOCTYPE paymentService [<!ENTITY % p SYSTEM "{file}"> %p;]>',
        "AUTHORISED",
    ),
    "external-dtd": ('<!DOCTYPE paymentService SYSTEM "{file}">', "AUTHORISED"),
}


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_an_entity_declaration_is_refused_unexpanded(attack: str, canary_file: Path) -> None:
    doctype, last_event = ATTACKS[attack]
    body = _answer(FIXTURE, doctype.replace("{file}", canary_file.as_uri()), last_event)
    result = _parse(body)
    shown = repr(result) + str(result.to_dict())
    assert CANARY not in shown
    assert "lollol" not in shown
    if attack == "external-dtd":
        # A DOCTYPE naming a DTD (no declarations in the document) is read like the public
        # one: the DTD is never fetched, so it cannot change the answer.
        assert result.status == "authorized"
        return
    assert result.status == "unresolved"
    assert result.error is not None and result.error.code == "invalid_response"
