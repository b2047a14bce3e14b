"""Two generic primitives: named hosts per environment (`hosts`, a request's `host`) and the
`multipart` request encoding (files given as base64, decoded to the bytes sent)."""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import json
from typing import Any

import httpx
import pytest
import yaml

from engine import Client
from engine._build import build_request
from engine._connector import Connector
from engine._encoding import MULTIPART_MAX_BYTES, encode_multipart
from engine._errors import CredentialsError, InputError, RenderError
from engine._load import load_spec_text
from engine._plan import ConnectorPlan
from engine._spec import check_loaded, compile_text

from .conftest import API_KEY, CARD_NUMBER, acme_dict, card_request

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PDF_B64 = base64.b64encode(PDF).decode()

UPLOAD = {
    "request": {
        "method": "POST",
        "path": "/v1/files",
        "host": "files",
        "encoding": "multipart",
        "body": {
            "purpose": "dispute_evidence",
            "file": {
                "filename": "{{ request.evidence[0].file.name }}",
                "content_type": "{{ request.evidence[0].file.content_type }}",
                "data": "{{ request.evidence[0].file.data }}",
            },
        },
    },
    "response": {"status": {"value": "under_review"}, "fields": {"dispute_id": "id"}},
}


def _data(host_url: str = "https://{{ credentials.region }}-files.acme-pay.com/v2") -> Any:
    data = acme_dict()
    data["spec_version"] = 2
    data["hosts"] = {"files": {"sandbox": host_url, "production": host_url}}
    data["capabilities"]["evidence_files"] = True
    data["flows"]["submit_evidence"] = copy.deepcopy(UPLOAD)
    return data


def _plan(data: Any) -> ConnectorPlan:
    return compile_text(yaml.safe_dump(data, sort_keys=False), "acme.yaml")


def _problems(data: Any) -> list[str]:
    _, problems = check_loaded(load_spec_text(yaml.safe_dump(data, sort_keys=False), "acme.yaml"))
    return [f"{p.pointer}: {p.message}" for p in problems]


def _evidence(**file: Any) -> dict[str, Any]:
    item = {"name": "receipt.pdf", "content_type": "application/pdf", "data": PDF_B64, **file}
    return {"connector_dispute_id": "dp_1", "evidence": [{"type": "receipt", "file": item}]}


def _parts(body: bytes, content_type: str) -> list[Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    assert message.is_multipart()
    return list(message.iter_parts())


def test_a_request_naming_a_host_goes_there_and_others_to_the_environment() -> None:
    plan = _plan(_data())
    built = build_request(plan, "submit_evidence", _evidence(), {"api_key": API_KEY})
    assert built.url == "https://eu-files.acme-pay.com/v2/v1/files"
    assert built.headers["X-Api-Key"] == API_KEY  # the auth scheme applies on every host
    other = build_request(plan, "authorize", card_request(), {"api_key": API_KEY})
    assert other.url == "https://eu-sandbox.acme-pay.com/v1/payments"


def test_a_named_host_that_a_setting_steers_away_is_refused() -> None:
    plan = _plan(_data())
    with pytest.raises(CredentialsError, match="sandbox files base URL left the declared host"):
        build_request(
            plan, "submit_evidence", _evidence(), {"api_key": API_KEY, "region": "x.evil.com/"}
        )


def test_a_base_url_override_may_name_a_named_host_and_stands_in_for_every_host() -> None:
    plan = _plan(_data())
    creds = {"api_key": API_KEY}
    built = build_request(
        plan, "submit_evidence", _evidence(), creds, base_url="https://eu-files.acme-pay.com/v2"
    )
    assert built.url == "https://eu-files.acme-pay.com/v2/v1/files"
    with pytest.raises(CredentialsError, match="does not declare"):
        build_request(plan, "authorize", card_request(), creds, base_url="https://files.evil.com")


def test_lint_checks_the_host_name_and_every_host_url() -> None:
    data = _data()
    data["flows"]["submit_evidence"]["request"]["host"] = "uploads"
    assert any("host 'uploads' is not declared" in p for p in _problems(data))
    assert _problems(_data()) == []
    for bad in (
        "https://{{ credentials.region }}.com/v2",  # a template filling the domain
        "https://files.acme-pay.com/{{ credentials.region }}",  # a templated path
        "https://user@files.acme-pay.com",
    ):
        assert any(p.startswith("/hosts/files/") for p in _problems(_data(bad))), bad
    plain = _data("http://files.acme-pay.com")
    assert any("/hosts/files/sandbox" in p for p in _problems(plain))


def test_a_secret_may_not_reach_a_named_host_url() -> None:
    data = _data("https://{{ credentials.api_key }}-files.acme-pay.com")
    assert any("may only be used in /auth" in p for p in _problems(data))


def test_multipart_decodes_the_file_and_names_the_parts() -> None:
    plan = _plan(_data())
    built = build_request(plan, "submit_evidence", _evidence(), {"api_key": API_KEY})
    content_type = built.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    purpose, file = _parts(built.body or b"", content_type)
    assert purpose.get_param("name", header="content-disposition") == "purpose"
    assert purpose.get_content() == "dispute_evidence"
    assert file.get_filename() == "receipt.pdf"
    assert file.get_content_type() == "application/pdf"
    assert file.get_payload(decode=True) == PDF  # the bytes, not their base64
    again = build_request(plan, "submit_evidence", _evidence(), {"api_key": API_KEY})
    assert again.body == built.body  # pure: the boundary comes from the content


def test_multipart_lists_and_json_parts() -> None:
    body = encode_multipart(
        {
            "input": {"json": {"evidences": [{"evidence_type": "PROOF_OF_FULFILLMENT"}]}},
            "evidence_file": [
                {"filename": "a.png", "content_type": "image/png", "data": "iVBORw=="},
                {"filename": "b.pdf", "content_type": "application/pdf", "data": PDF_B64},
            ],
            "note": None,
        }
    )
    boundary = body.split(b"\r\n", 1)[0][2:].decode()
    parts = _parts(body, f"multipart/form-data; boundary={boundary}")
    assert [p.get_param("name", header="content-disposition") for p in parts] == [
        "input",
        "evidence_file",
        "evidence_file",
    ]
    assert parts[0].get_content_type() == "application/json"
    assert parts[0].get_payload(decode=True) == (
        b'{"evidences":[{"evidence_type":"PROOF_OF_FULFILLMENT"}]}'
    )
    assert parts[2].get_payload(decode=True) == PDF


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ({"filename": "a.pdf", "content_type": "application/pdf", "data": "AAAAA"}, "base64"),
        ({"filename": "a.pdf", "content_type": "application/pdf", "data": "A==="}, "base64"),
        ({"filename": "a.pdf", "content_type": "pdf", "data": PDF_B64}, "media type"),
        ({"filename": "a\nb", "content_type": "application/pdf", "data": PDF_B64}, "file name"),
        ({"filename": "a\ud800", "content_type": "application/pdf", "data": PDF_B64}, "file name"),
        ({"filename": "a.pdf", "data": PDF_B64}, "a multipart part is"),
        ({"json": {}, "content_type": "x/y"}, "JSON part"),
    ],
)
def test_a_bad_part_is_refused(part: Any, message: str) -> None:
    with pytest.raises(RenderError, match=message):
        encode_multipart({"file": part})


def test_bad_base64_from_the_request_is_refused_naming_the_field() -> None:
    plan = _plan(_data())
    with pytest.raises(InputError) as caught:
        build_request(plan, "submit_evidence", _evidence(data="AAAAA"), {"api_key": API_KEY})
    assert caught.value.pointer == "/evidence/0/file/data"


def test_files_beyond_the_size_limit_are_refused() -> None:
    big = base64.b64encode(b"x" * (MULTIPART_MAX_BYTES // 2 + 1)).decode()
    part = {"filename": "a.pdf", "content_type": "application/pdf", "data": big}
    encode_multipart({"a": part})  # one is within the limit
    with pytest.raises(RenderError, match="at most") as caught:
        encode_multipart({"a": part, "b": part})
    assert caught.value.pointer == "/body/b/data"


def test_a_body_auth_scheme_cannot_write_multipart() -> None:
    data = _data()
    data["auth"] = {"scheme": "body", "fields": {"key": "{{ credentials.api_key }}"}}
    assert any("secrets never go in a part" in p for p in _problems(data))


def test_card_data_never_goes_in_a_multipart_body() -> None:
    data = _data()
    data["flows"]["authorize"]["request"]["encoding"] = "multipart"
    data["flows"]["authorize"]["request"]["body"] = {"reference": "{{ request.reference }}"}
    plan = _plan(data)
    request = card_request(reference="order-1")
    with pytest.raises(RenderError, match="card data"):
        build_request(plan, "authorize", request, {"api_key": API_KEY})
    assert CARD_NUMBER in str(request)  # the request did hold one


# --- conditional steps and refuse rules ---------------------------------------------------------

TWO_UPLOADS = {
    "let": {
        "receipt": "{{ (request.evidence | selectattr('type', 'equalto', 'receipt') | list)[:1] }}",
        "other": "{{ request.evidence | rejectattr('type', 'equalto', 'receipt') | list }}",
    },
    "refuse": [
        {
            "if": "other | selectattr('file') | list | length > 1",
            "field": "/evidence",
            "message": "one other document at most",
        }
    ],
    "steps": [
        {
            "name": "receipt_file",
            "if": "receipt and receipt[0].file",
            "request": {
                "method": "POST",
                "path": "/v1/files",
                "host": "files",
                "encoding": "multipart",
                "body": {
                    "file": {
                        "filename": "{{ receipt[0].file.name }}",
                        "content_type": "{{ receipt[0].file.content_type }}",
                        "data": "{{ receipt[0].file.data }}",
                    }
                },
            },
        },
        {
            "name": "other_file",
            "if": "other and other[0].file",
            "request": {
                "method": "POST",
                "path": "/v1/files",
                "host": "files",
                "encoding": "multipart",
                "body": {
                    "file": {
                        "filename": "{{ other[0].file.name }}",
                        "content_type": "{{ other[0].file.content_type }}",
                        "data": "{{ other[0].file.data }}",
                    }
                },
            },
        },
    ],
    "request": {
        "method": "POST",
        "path": "/v1/disputes/{{ request.connector_dispute_id }}/evidence",
        "body": {
            "receipt": "{{ steps.receipt_file.id if steps.receipt_file }}",
            "other": "{{ steps.other_file.id if steps.other_file }}",
        },
    },
    "response": {"status": {"value": "under_review"}, "fields": {"dispute_id": "id"}},
}


def _two_uploads() -> Any:
    data = _data()
    data["flows"]["submit_evidence"] = copy.deepcopy(TWO_UPLOADS)
    return data


def _run(request: dict[str, Any]) -> tuple[list[httpx.Request], Any]:
    sent: list[httpx.Request] = []

    def handler(wire: httpx.Request) -> httpx.Response:
        sent.append(wire)
        if wire.url.path == "/v2/v1/files":
            return httpx.Response(200, json={"id": f"file_{len(sent)}"})
        return httpx.Response(200, json={"id": "dp_1"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = Client(Connector(_plan(_two_uploads())), {"api_key": API_KEY}, http_client=http)
    return sent, client.call("submit_evidence", request)


def _item(kind: str, name: str) -> dict[str, Any]:
    return {
        "type": kind,
        "file": {"name": name, "content_type": "application/pdf", "data": PDF_B64},
    }


def test_a_step_whose_if_does_not_hold_is_not_sent() -> None:
    assert _problems(_two_uploads()) == []
    request = {"connector_dispute_id": "dp_1", "evidence": [_item("other", "log.pdf")]}
    sent, result = _run(request)
    assert [w.url.host for w in sent] == ["eu-files.acme-pay.com", "eu-sandbox.acme-pay.com"]
    assert result.status == "under_review"
    assert json.loads(sent[-1].content) == {"other": "file_1"}  # the receipt step gave null
    sent, _ = _run({**request, "evidence": [_item("receipt", "r.pdf"), _item("other", "l.pdf")]})
    assert len(sent) == 3
    assert json.loads(sent[-1].content) == {"receipt": "file_1", "other": "file_2"}
    sent, _ = _run({**request, "evidence": [{"type": "other", "text": "no documents"}]})
    assert len(sent) == 1 and json.loads(sent[0].content) == {}


def test_a_refuse_rule_names_the_field_and_sends_nothing() -> None:
    request = {
        "connector_dispute_id": "dp_1",
        "evidence": [_item("other", "a.pdf"), _item("product_description", "b.pdf")],
    }
    with pytest.raises(InputError, match="one other document at most") as caught:
        _run(request)
    assert caught.value.pointer == "/evidence"


def test_lint_checks_step_conditions_and_refuse_rules() -> None:
    data = _two_uploads()
    data["flows"]["submit_evidence"]["steps"][0]["if"] = "steps.other_file"  # a later step
    data["flows"]["submit_evidence"]["refuse"][0]["field"] = "/evidences"
    problems = _problems(data)
    assert any(p.startswith("/flows/submit_evidence/steps/0/if") for p in problems), problems
    assert any(p.startswith("/flows/submit_evidence/refuse/0/field") for p in problems), problems
