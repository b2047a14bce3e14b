"""Stripe-specific checks, against Stripe's own published descriptions rather than our spec:

- every request the engine builds from the scenarios (form body, query and path parameters) is
  valid for Stripe's operation schema in its OpenAPI description (API version 2023-08-16);
- every processor response in the scenario and webhook fixtures is a valid Stripe object of that
  version (so the fixtures cannot drift into shapes that only agree with our spec);
- every webhook signature in the fixtures is checked by the official `stripe` SDK too, an
  implementation independent of the engine's.

The schemas come from processor_schema.json (extracted once from
processor-apis/stripe/spec3.2023-09-12.yaml; its "source" key says exactly from where).
"""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from jsonschema import Draft202012Validator

from engine import InputError, UnsupportedError, load_connector
from engine._http import HttpResponse

from ..scenarios import (
    Scenario,
    credentials_for,
    flow_scenarios,
    response_body,
    webhook_scenarios,
)

HERE = Path(__file__).parent
DOCUMENT: dict[str, Any] = json.loads((HERE / "processor_schema.json").read_text("utf-8"))
DEFS: dict[str, Any] = DOCUMENT["$defs"]
ENDPOINTS: dict[str, Any] = DOCUMENT["endpoints"]

SCENARIOS = [s for s in flow_scenarios() if s.connector == "stripe"]
WEBHOOKS = [s for s in webhook_scenarios() if s.connector == "stripe"]


# --- Stripe's operation schemas, as the test applies them -----------------------------------


def _close(schema: Any) -> Any:
    """Stripe refuses unknown parameters at every depth ("Received unknown parameter:
    payment_method_data[foo]"), but its OpenAPI closes only the top level of request bodies
    (additionalProperties: false). Close every object that lists its properties."""
    if isinstance(schema, list):
        return [_close(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _close(value) for key, value in schema.items()}
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


def _with_raw_card(body: dict[str, Any]) -> dict[str, Any]:
    """The one addition to Stripe's published schema: the spec sends raw card data as
    payment_method_data[type]=card + payment_method_data[card][number|exp_month|exp_year|cvc],
    which Stripe accepts for PCI-compliant accounts with raw card data APIs enabled (Hyperswitch
    sends it so, and ActiveMerchant for off-session payments), but the published
    payment_method_data lists only the other payment method types. The card hash added here is
    Stripe's own published one: the `card_details_params` form of POST /v1/payment_methods
    `card`."""
    patched = copy.deepcopy(body)
    data = patched["properties"]["payment_method_data"]
    data["properties"]["card"] = copy.deepcopy(
        DOCUMENT["supporting"]["POST /v1/payment_methods card (card_details_params)"]
    )
    assert "card" not in data["properties"]["type"]["enum"], "the published schema changed"
    data["properties"]["type"]["enum"] = [*data["properties"]["type"]["enum"], "card"]
    return patched


@cache
def operation(key: str) -> dict[str, Any]:
    """{"body" | "query" | "path": closed schema} for "METHOD /path-template"."""
    entry = ENDPOINTS[key]
    body = entry["body"]
    if key in ("POST /v1/payment_intents", "POST /v1/setup_intents"):
        body = _with_raw_card(body)
    return {"body": _close(body), "query": _close(entry["query"]), "path": entry["path"]}


def _validator(schema: Any) -> Draft202012Validator:
    return Draft202012Validator({"$defs": DEFS, "allOf": [schema]})


def _resolve(schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = DEFS[schema["$ref"].removeprefix("#/$defs/")]
    return schema


_INTEGER = re.compile(r"-?[0-9]+")


def coerce(value: Any, schema: Any) -> Any:
    """Form values are all strings: turn each into the scalar type the schema asks for at its
    place (integer, number, boolean), choosing among anyOf branches the one that then validates.
    A string that does not parse stays a string, so validation reports it."""
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return value
    for key in ("anyOf", "oneOf"):
        if key in schema:
            for branch in schema[key]:
                candidate = coerce(value, branch)
                if _validator(branch).is_valid(candidate):
                    return candidate
            return value
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        other = extra if isinstance(extra, dict) else {}
        return {k: coerce(v, properties.get(k, other)) for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [coerce(item, schema.get("items", {})) for item in value]
    if isinstance(value, str):
        if kind == "integer" and _INTEGER.fullmatch(value):
            return int(value)
        if kind == "number" and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
            return float(value) if "." in value else int(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def decode_form(text: str) -> dict[str, Any]:
    """a=1&b[c]=2&d[0]=x → {"a": "1", "b": {"c": "2"}, "d": ["x"]}: Stripe's bracket nesting,
    strictly (no repeated key, list indexes 0..n-1)."""
    root: dict[str, Any] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)):
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", name)
        assert match, f"not a bracketed form name: {name!r}"
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
            assert isinstance(node, dict), f"{name!r} nests under a scalar"
        assert path[-1] not in node, f"{name!r} is sent twice"
        node[path[-1]] = value

    def lists(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        node = {k: lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            assert sorted(map(int, node)) == list(range(len(node))), f"list indexes {list(node)}"
            return [node[str(i)] for i in range(len(node))]
        return node

    return lists(root)


def schema_errors(value: Any, schema: Any) -> list[str]:
    coerced = coerce(value, schema)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
        for e in _validator(schema).iter_errors(coerced)
    ]


def match_endpoint(method: str, path: str) -> tuple[str, dict[str, str]]:
    for key in ENDPOINTS:
        verb, template = key.split(" ", 1)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        found = re.fullmatch(pattern, path)
        if verb == method and found:
            return key, found.groupdict()
    raise AssertionError(f"{method} {path} is not an operation in processor_schema.json")


def problems(request: Any) -> tuple[str, list[str]]:
    """(endpoint, every way the built request departs from Stripe's operation schema)."""
    url = urlsplit(request.url)
    key, path_params = match_endpoint(request.method, url.path)
    schemas = operation(key)
    found = [f"path: {p}" for p in schema_errors(path_params, schemas["path"])]
    found += [f"query: {p}" for p in schema_errors(decode_form(url.query), schemas["query"])]
    body = request.body.decode("ascii") if request.body else ""
    if request.method == "GET":
        assert not body, "a GET with a body"
    else:
        if body:
            assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        found += [f"body: {p}" for p in schema_errors(decode_form(body), schemas["body"])]
    return key, found


# --- requests ---------------------------------------------------------------------------------


def _answers(scenario: Scenario) -> list[dict[str, Any]]:
    data = scenario.data
    answers: list[dict[str, Any]] = data["responses"] if "responses" in data else [data["response"]]
    return answers


def _built_all(scenario: Scenario) -> list[Any]:
    """Every request the scenario sends, in order: the steps the request wants (an upload per
    document, fed with the scenario's answers), then the flow's own."""
    connector = load_connector("stripe")
    flow, request, creds = (
        scenario.data["flow"],
        scenario.data["request"],
        credentials_for("stripe"),
    )
    steps: dict[str, Any] = {}
    built = []
    index = -1
    for answer in _answers(scenario):
        index = connector.next_step(flow, index + 1, request, creds, steps)
        built.append(connector.build_request(flow, request, creds, step=index, steps=steps))
        if index < connector.request_count(flow) - 1:
            response = HttpResponse(answer.get("status", 200), {}, response_body(answer))
            steps[connector.plan.flows[flow].steps[index].name] = connector.parse_step(
                flow, index, request, response, steps=steps
            )
    return built


def _built(scenario: Scenario) -> Any:
    """The flow's own request (the last one sent)."""
    if "responses" in scenario.data:
        return _built_all(scenario)[-1]
    connector = load_connector("stripe")
    flow, request, creds = (
        scenario.data["flow"],
        scenario.data["request"],
        credentials_for("stripe"),
    )
    index = connector.next_step(flow, 0, request, creds, {})
    return connector.build_request(flow, request, creds, step=index, steps={})


def _buildable() -> Iterator[Scenario]:
    for scenario in SCENARIOS:
        if scenario.data["expect"].get("raises") in ("InputError", "UnsupportedError"):
            continue
        yield scenario


BUILDABLE = list(_buildable())


@pytest.mark.parametrize("scenario", BUILDABLE, ids=[s.name for s in BUILDABLE])
def test_built_request_matches_stripe_schema(scenario: Scenario) -> None:
    for request in _built_all(scenario):
        if urlsplit(request.url).netloc == "files.stripe.com":  # a document, to the files host
            assert upload_problems(request) == []
            continue
        _, found = problems(request)
        assert found == [], "\n".join(found)
        assert request.headers["Stripe-Version"] == "2023-08-16", "the version the schema describes"
        assert request.headers["Authorization"] == "Bearer " + credentials_for("stripe")["api_key"]
        if request.method == "POST":
            assert request.headers["Idempotency-Key"] == scenario.data["request"]["idempotency_key"]
        else:
            assert "Idempotency-Key" not in request.headers


def test_every_endpoint_is_checked() -> None:
    checked = {
        problems(request)[0]
        for s in BUILDABLE
        for request in _built_all(s)
        if urlsplit(request.url).netloc != "files.stripe.com"
    }
    assert checked == set(ENDPOINTS), f"not exercised by any scenario: {set(ENDPOINTS) - checked}"
    uploads = [r for s in UPLOADING for r in _built_all(s) if urlsplit(r.url).path == "/v1/files"]
    assert len(uploads) >= 2, "POST /v1/files is checked too"


def test_refused_scenarios_raise_before_building() -> None:
    refused = [s for s in SCENARIOS if s not in BUILDABLE]
    assert refused, "the fixtures include requests refused before sending"
    for scenario in refused:
        expected = {"InputError": InputError, "UnsupportedError": UnsupportedError}
        with pytest.raises(expected[scenario.data["expect"]["raises"]]):
            _built(scenario)


def _authorize_body() -> str:
    scenario = next(s for s in SCENARIOS if s.name == "authorize_card_automatic_captured")
    body = _built(scenario).body
    assert body is not None
    return body.decode("ascii")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda b: b + "&foo=bar", "an unknown top-level parameter"),
        (lambda b: b + "&payment_method_data%5Bcard%5D%5Bpin%5D=1234", "an unknown nested one"),
        (lambda b: b.replace("amount=1099", "amount=ten"), "a non-integer amount"),
        (lambda b: b.replace("confirm=true", "confirm=yes"), "a non-boolean confirm"),
        (lambda b: re.sub(r"&?currency=usd", "", b), "no currency (required)"),
        (
            lambda b: b + "&payment_method_options%5Bcard%5D%5Brequest_three_d_secure%5D=challenge",
            "`challenge`, which API version 2023-08-16 does not have",
        ),
        (
            lambda b: b + "&shipping%5Baddress%5D%5Bline1%5D=1+Main+St",
            "a shipping address without shipping[name] (required)",
        ),
        (
            lambda b: b.replace("%5Btype%5D=card", "%5Btype%5D=cart"),
            "an unknown payment_method_data[type]",
        ),
    ],
)
def test_schema_check_rejects_a_broken_body(change: Any, why: str) -> None:
    body = _authorize_body()
    schema = operation("POST /v1/payment_intents")["body"]
    assert schema_errors(decode_form(body), schema) == []
    broken = change(body)
    assert broken != body
    assert schema_errors(decode_form(broken), schema), f"not rejected: {why}"


def test_form_decoding_is_strict() -> None:
    assert decode_form("a=1&b%5Bc%5D=2&d%5B0%5D=x&d%5B1%5D=y") == {
        "a": "1",
        "b": {"c": "2"},
        "d": ["x", "y"],
    }
    with pytest.raises(AssertionError):
        decode_form("a=1&a=2")
    with pytest.raises(AssertionError):
        decode_form("d%5B0%5D=x&d%5B2%5D=y")


def test_query_and_path_parameters_are_checked() -> None:
    schemas = operation("GET /v1/payment_intents/{intent}")
    assert schema_errors(decode_form("expand%5B0%5D=latest_charge"), schemas["query"]) == []
    assert schema_errors(decode_form("expand=latest_charge"), schemas["query"]), "not an array"
    assert schema_errors(decode_form("include=latest_charge"), schemas["query"]), "unknown"
    assert schema_errors({"intent": "pi_" + "x" * 5000}, schemas["path"]), "too long"


# --- evidence documents: POST /v1/files on files.stripe.com (multipart) -----------------------

FILES: dict[str, Any] = json.loads((HERE / "files_schema.json").read_text("utf-8"))


def _parts(body: bytes, content_type: str) -> list[Any]:
    """The parts of a multipart body, read by the standard library's MIME parser."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    assert message.is_multipart(), "not a multipart body"
    return list(message.iter_parts())


def upload_problems(request: Any) -> list[str]:
    """Every way an upload departs from Stripe's POST /v1/files: its host (the operation's
    `servers`), multipart/form-data, and the parts against the published requestBody schema
    (the file part must carry a file name, a media type and bytes)."""
    url = urlsplit(request.url)
    found = []
    if f"{url.scheme}://{url.netloc}/" != FILES["servers"][0]["url"] or url.path != "/v1/files":
        found.append(f"not Stripe's files endpoint: {request.url}")
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data; boundary="):
        return [*found, f"content type {content_type!r}"]
    fields: dict[str, Any] = {}
    for part in _parts(request.body or b"", content_type):
        name = part.get_param("name", header="content-disposition")
        if name in fields:
            found.append(f"part {name!r} sent twice")
        if part.get_filename() is not None:
            if part.get_content_type() not in ("application/pdf", "image/jpeg", "image/png"):
                found.append(f"a {part.get_content_type()} document")
            fields[name] = "<binary>" if part.get_payload(decode=True) else ""
        else:
            fields[name] = part.get_content()
    schema = _close(FILES["body"])
    found += [e.message for e in Draft202012Validator(schema).iter_errors(fields)]
    if fields.get("file") != "<binary>":
        found.append("no file bytes")
    return found


UPLOADING = [s for s in BUILDABLE if "responses" in s.data and s.data["flow"] == "submit_evidence"]


def test_documents_are_uploaded_as_their_bytes_and_referenced_by_id() -> None:
    scenario = next(s for s in UPLOADING if s.name == "submit_evidence_with_files")
    built = _built_all(scenario)
    uploads, dispute = built[:-1], built[-1]
    given = {
        e["file"]["name"]: base64.b64decode(e["file"]["data"])
        for e in scenario.data["request"]["evidence"]
        if "file" in e
    }
    sent = {}
    for upload in uploads:
        assert upload_problems(upload) == []
        assert upload.headers["Authorization"] == "Bearer " + credentials_for("stripe")["api_key"]
        assert upload.headers["Idempotency-Key"] != scenario.data["request"]["idempotency_key"]
        (file,) = [
            p for p in _parts(upload.body, upload.headers["Content-Type"]) if p.get_filename()
        ]
        sent[file.get_filename()] = file.get_payload(decode=True)
    assert sent == given
    evidence = decode_form(dispute.body.decode("ascii"))["evidence"]
    answers = [a["body"]["id"] for a in _answers(scenario)[:-1]]
    assert [evidence["receipt"], evidence["shipping_documentation"]] == answers
    assert problems(dispute)[1] == []


def test_a_broken_upload_is_rejected() -> None:
    scenario = next(s for s in UPLOADING if s.name == "submit_evidence_with_files")
    upload = _built_all(scenario)[0]
    assert upload_problems(upload) == []
    content_type = upload.headers["Content-Type"]
    boundary = content_type.split("boundary=", 1)[1].encode()
    wrong_purpose = upload.body.replace(b"dispute_evidence", b"dispute_evidences")
    assert upload_problems(_with_body(upload, wrong_purpose))
    unknown = upload.body.replace(
        b"--" + boundary + b"--",
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nx\r\n--'
        + boundary
        + b"--",
    )
    assert upload_problems(_with_body(upload, unknown))
    assert upload_problems(_with_body(upload, upload.body, url="https://api.stripe.com/v1/files"))


def _with_body(request: Any, body: bytes, url: str | None = None) -> Any:
    from dataclasses import replace

    return replace(request, body=body, url=url or request.url)


def test_upload_answers_are_stripe_files() -> None:
    for scenario in UPLOADING:
        for upload, answer in zip(_built_all(scenario)[:-1], _answers(scenario), strict=False):
            assert urlsplit(upload.url).netloc == "files.stripe.com"
            status = answer.get("status", 200)
            schema = FILES["response"] if status < 300 else {"$ref": "#/$defs/error"}
            validator = Draft202012Validator({"$defs": DEFS, "allOf": [schema]})
            assert [e.message for e in validator.iter_errors(answer["body"])] == [], scenario.name


# --- responses --------------------------------------------------------------------------------


def _json_body(response: Mapping[str, Any]) -> Any:
    if "body" in response:
        return response["body"]
    text = str(response.get("body_text", ""))
    if "json" not in response.get("headers", {}).get("Content-Type", ""):
        return None
    return json.loads(text.removeprefix("\ufeff"))


RESPONDED = [
    s
    for s in SCENARIOS
    if "response" in s.data  # multi-request scenarios: test_upload_answers_are_stripe_files
    and _json_body(s.data["response"]) is not None
    and s.data["expect"].get("raises") is None
]


@pytest.mark.parametrize("scenario", RESPONDED, ids=[s.name for s in RESPONDED])
def test_fixture_response_is_a_stripe_object(scenario: Scenario) -> None:
    """The processor's answer in the fixture is what Stripe's OpenAPI says that operation
    returns: the resource on 2xx, the error object otherwise."""
    request = _built(scenario)
    key, _ = match_endpoint(request.method, urlsplit(request.url).path)
    response = scenario.data["response"]
    status = response.get("status", 200)
    entry = ENDPOINTS[key]
    schema = entry["response"] if 200 <= status < 300 else entry["error_response"]
    found = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(schema).iter_errors(_json_body(response))
    ]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("scenario", WEBHOOKS, ids=[s.name for s in WEBHOOKS])
def test_webhook_body_is_a_stripe_event(scenario: Scenario) -> None:
    event = json.loads(scenario.data["body_text"])
    found = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator({"$ref": "#/$defs/event"}).iter_errors(event)
    ]
    obj = event["data"]["object"]
    if obj["object"] in ("payment_intent", "refund", "dispute", "charge"):
        found += [
            f"data/object/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator({"$ref": f"#/$defs/{obj['object']}"}).iter_errors(obj)
        ]
    assert event["api_version"] == "2023-08-16"
    assert found == [], "\n".join(found)


def test_response_check_can_fail() -> None:
    intent = next(s for s in SCENARIOS if s.name == "get_captured").data["response"]["body"]
    schema = {"$ref": "#/$defs/payment_intent"}
    assert _validator(schema).is_valid(intent)
    assert not _validator(schema).is_valid({**intent, "status": "authorised"})
    assert not _validator(schema).is_valid({k: v for k, v in intent.items() if k != "created"})
    assert not _validator(schema).is_valid({**intent, "amount": "1099"})


# --- webhook signatures, checked by the official SDK ------------------------------------------


@pytest.fixture
def sdk() -> Any:
    return pytest.importorskip("stripe")


def _signature(scenario: Scenario) -> str | None:
    headers = {k.lower(): v for k, v in scenario.data.get("headers", {}).items()}
    return headers.get("stripe-signature")


ACCEPTED = [s for s in WEBHOOKS if "events" in s.data["expect"]]


@pytest.mark.parametrize("scenario", ACCEPTED, ids=[s.name for s in ACCEPTED])
def test_official_sdk_accepts_the_signature(scenario: Scenario, sdk: Any) -> None:
    assert sdk.WebhookSignature.verify_header(
        scenario.data["body_text"], _signature(scenario), scenario.data["secret"], tolerance=None
    )


def test_official_sdk_agrees_on_rejections(sdk: Any) -> None:
    by_reason = {s.data["expect"].get("rejected"): s for s in WEBHOOKS}
    for reason in ("bad_signature", "missing_signature"):
        scenario = by_reason[reason]
        with pytest.raises(sdk.SignatureVerificationError):
            sdk.WebhookSignature.verify_header(
                scenario.data["body_text"],
                _signature(scenario),
                scenario.data["secret"],
                tolerance=None,
            )
    # The stale one is correctly signed: only its age makes it unacceptable.
    stale = by_reason["stale_timestamp"]
    assert sdk.WebhookSignature.verify_header(
        stale.data["body_text"], _signature(stale), stale.data["secret"], tolerance=None
    )
    stamp = int(dict(p.split("=", 1) for p in _signature(stale).split(","))["t"])
    assert stale.data["now"] - stamp > 300


def test_webhook_fixtures_cover_the_brief() -> None:
    accepted = {json.loads(s.data["body_text"])["type"] for s in ACCEPTED}
    assert {
        "payment_intent.succeeded",
        "payment_intent.amount_capturable_updated",
        "payment_intent.payment_failed",
        "refund.updated",
        "charge.dispute.created",
    } <= accepted
    rejected = {s.data["expect"].get("rejected") for s in WEBHOOKS}
    assert {"bad_signature", "missing_signature", "stale_timestamp"} <= rejected
    assert any(str(_signature(s)).count("v1=") == 2 for s in ACCEPTED)


def test_merchant_initiated_payments_are_off_session() -> None:
    """off_session from the stored credential: `recurring` or `one_off` (2023-08-16 takes both
    besides `true`), only when the merchant initiates; SetupIntents are for off-session use."""
    by_name = {s.name: s for s in SCENARIOS}

    def body(name: str) -> dict[str, Any]:
        built = _built(by_name[name]).body
        assert built is not None
        return decode_form(built.decode("ascii"))

    assert body("charge_recurring_off_session_captured")["off_session"] == "recurring"
    assert body("charge_recurring_declined_network_advice")["off_session"] == "one_off"
    assert body("authorize_mit_off_session")["off_session"] == "one_off"
    assert "off_session" not in body("authorize_saved_method_for_customer")
    setup = body("setup_recurring_card_succeeded")
    assert (setup["usage"], setup["confirm"], setup["customer"]) == (
        "off_session",
        "true",
        "cus_OYGhQfLkdIwHu7",
    )


@pytest.mark.parametrize(
    ("scenario_name", "key", "change", "why"),
    [
        (
            "submit_evidence_under_review",
            "POST /v1/disputes/{dispute}",
            lambda b: b + "&evidence%5Breceipt_text%5D=x",
            "an evidence key Stripe does not have",
        ),
        (
            "submit_evidence_under_review",
            "POST /v1/disputes/{dispute}",
            lambda b: b.replace("submit=true", "submit=yes"),
            "a non-boolean submit",
        ),
        (
            "incremental_authorize_succeeded",
            "POST /v1/payment_intents/{intent}/increment_authorization",
            lambda b: b.replace("amount=7500", "amount=75.00"),
            "a decimal amount",
        ),
    ],
)
def test_schema_check_rejects_broken_new_flow_bodies(
    scenario_name: str, key: str, change: Any, why: str
) -> None:
    scenario = next(s for s in SCENARIOS if s.name == scenario_name)
    built = _built(scenario).body
    assert built is not None
    body = built.decode("ascii")
    schema = operation(key)["body"]
    assert schema_errors(decode_form(body), schema) == []
    broken = change(body)
    assert broken != body
    assert schema_errors(decode_form(broken), schema), f"not rejected: {why}"
