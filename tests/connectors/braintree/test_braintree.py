"""Braintree-specific checks, against Braintree's own published GraphQL schema rather than our spec:

- every request the spec builds for a scenario is a GraphQL document that parses and validates
  against the schema (graphql-core's `validate`: fields, arguments, fragments, types), and its
  variables coerce to the operation's declared input types (required fields, enums, no unknown
  input fields), with the `Amount` and `CountryCode` scalars checked as Braintree describes them;
- the check can fail: a misspelled field, a wrong variable and friends are rejected;
- every processor response in the fixtures answers the document that was sent: its `data` holds
  exactly what the selection set asks for (no invented keys, every unconditional field present,
  enum values from the schema), errors carry documented error classes, and ids are GraphQL ids
  that encode the legacy ids beside them;
- auth and version headers are what Braintree documents;
- webhook deliveries (webhook_deliveries/*.yaml) are verified and parsed with the public_key
  setting, and every fixture is re-checked here without the engine, the way Braintree's SDKs
  parse a delivery (WebhookNotificationGateway.parse): the pair of our public key is picked out of
  bt_signature ("pub|sig&pub|sig"), hex(HMAC-SHA1(SHA-1(private key), bt_payload)) compared, and
  the payload decoded as base64 XML. They are not in webhooks/: the shared harness
  (tests/connectors/test_webhooks.py) passes no settings to parse_event, and Braintree's signature
  pair is chosen by the public key.

The schema comes from processor_schema.json: Braintree's schema.graphql (braintree/graphql-api
@ 2252d47, 2025-04-29) pruned to the operations the spec uses; its "source" key says how.
graphql-core is needed (a dev dependency).
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from engine import WebhookError, load_connector

from ..scenarios import Scenario, credentials_for, dotted, flow_scenarios

HERE = Path(__file__).parent
DOCUMENT: dict[str, Any] = json.loads((HERE / "processor_schema.json").read_text("utf-8"))
ENDPOINT = "POST /graphql"
SCENARIOS = [s for s in flow_scenarios() if s.connector == "braintree"]
BUILDABLE = [s for s in SCENARIOS if "raises" not in s.data["expect"]]


def _answers(scenario: Scenario) -> list[Any]:
    """The processor's answers, one per request the flow sends (its steps, then its own)."""
    data = scenario.data
    return list(data["responses"]) if "responses" in data else [data["response"]]


#: (scenario, request index) of every answer with a body, to check against its document.
ANSWERED = [
    (s, index) for s in BUILDABLE for index, answer in enumerate(_answers(s)) if "body" in answer
]
CREDENTIALS = credentials_for("braintree")
DELIVERIES = {
    path.stem: yaml.safe_load(path.read_text("utf-8"))
    for path in sorted((HERE / "webhook_deliveries").glob("*.yaml"))
}

#: errorClass values Braintree documents ("Making API Calls", Errors).
ERROR_CLASSES = {
    "AUTHENTICATION",
    "AUTHORIZATION",
    "INTERNAL",
    "UNSUPPORTED_CLIENT",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "RESOURCE_LIMIT",
    "SERVICE_AVAILABILITY",
    "VALIDATION",
}

#: The root field of each flow's operation (by capture method where it matters).
ROOT_FIELDS = {
    "authorizePaymentMethod",
    "chargePaymentMethod",
    # With card-only options (an SCA exemption, an external vault).
    "authorizeCreditCard",
    "chargeCreditCard",
    "captureTransaction",
    "reverseTransaction",
    "refundTransaction",
    "vaultPaymentMethod",
    "node",
    "search",
    "verifyPaymentMethod",
    "updateTransactionAmount",
    "deletePaymentMethodFromVault",
    "acceptDispute",
    "createDisputeTextEvidence",
    "finalizeDispute",
}

_AMOUNT = re.compile(r"^\d+(\.\d{1,3})?$")  # "either a whole number or ... up to 3 decimal places"
_ALPHA2 = re.compile(r"^[A-Z]{2}$")  # CountryCode: alpha-2 from Braintree-Version 2021-02-01


def _strict(pattern: re.Pattern[str], what: str) -> Any:
    def parse_value(value: Any) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise GraphQLError(f"{what} expected, got {value!r}")
        return value

    return parse_value


@cache
def _schema() -> GraphQLSchema:
    schema = build_schema(DOCUMENT["endpoints"][ENDPOINT]["graphql_sdl"])
    # Custom scalars built from SDL accept anything: check the two the spec fills as documented.
    amount = schema.type_map["Amount"]
    country = schema.type_map["CountryCode"]
    assert isinstance(amount, GraphQLScalarType) and isinstance(country, GraphQLScalarType)
    for scalar, check in (
        (amount, _strict(_AMOUNT, "a decimal amount string")),
        (country, _strict(_ALPHA2, "an ISO 3166-1 alpha-2 code")),
    ):
        # graphql-core 3.3 coerces with coerce_input_value; 3.2 with parse_value.
        scalar.parse_value = check  # type: ignore[method-assign]
        if hasattr(scalar, "coerce_input_value"):
            scalar.coerce_input_value = check
    return schema


@cache
def _built(name: str, step: int = 0) -> Any:
    """Request `step` of a scenario's flow (its steps' documents read only the request)."""
    scenario = next(s for s in SCENARIOS if s.name == name)
    return load_connector("braintree").build_request(
        scenario.data["flow"], scenario.data["request"], CREDENTIALS, step=step, steps={}
    )


def _body(name: str, step: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_built(name, step).body)
    return body


def _requests(scenario: Scenario) -> int:
    return len(load_connector("braintree").plan.flows[scenario.data["flow"]].steps) + 1


def _problems(body: Mapping[str, Any]) -> list[str]:
    """Everything graphql-core finds wrong with a request body for Braintree's schema."""
    schema = _schema()
    try:
        document = parse(body["query"])
    except GraphQLError as exc:
        return [f"syntax: {exc.message}"]
    problems = [f"validate: {e.message}" for e in validate(schema, document)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return [*problems, f"{len(operations)} operations in one document"]
    coerced = get_variable_values(
        schema, operations[0].variable_definitions or (), body.get("variables") or {}
    )
    if isinstance(coerced, list):
        problems += [f"variables: {e.message}" for e in coerced]
    return problems


def _operation(document: DocumentNode) -> OperationDefinitionNode:
    return next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def _root_field(body: Mapping[str, Any]) -> FieldNode:
    operation = _operation(parse(body["query"]))
    (field,) = operation.selection_set.selections
    assert isinstance(field, FieldNode)
    return field


# --- requests ----------------------------------------------------------------------------------


def test_schema_source_is_recorded() -> None:
    assert "2252d472d6ed090f35fd509629bc0102701cc956" in DOCUMENT["source"]
    assert list(DOCUMENT["endpoints"]) == [ENDPOINT]
    schema = _schema()
    assert schema.mutation_type is not None and schema.query_type is not None
    assert set(schema.mutation_type.fields) | set(schema.query_type.fields) == ROOT_FIELDS


@pytest.mark.parametrize("scenario", BUILDABLE, ids=[s.name for s in BUILDABLE])
def test_request_is_valid_graphql_for_braintree(scenario: Scenario) -> None:
    built = _built(scenario.name)
    split = urlsplit(built.url)
    assert (built.method, split.scheme, split.netloc, split.path) == (
        "POST",
        "https",
        "payments.sandbox.braintree-api.com",
        "/graphql",
    )
    for step in range(_requests(scenario)):
        body = _body(scenario.name, step)
        assert set(body) == {"query", "variables"}
        problems = _problems(body)
        assert not problems, f"{scenario.name}: the document breaks Braintree's schema: {problems}"
    # The spec reads every answer under data.result.
    assert _root_field(body).alias is not None and _root_field(body).alias.value == "result"


def test_every_operation_is_checked() -> None:
    """Not vacuous: every root field of the pruned schema, and every flow, is built and checked."""
    roots = {
        _root_field(_body(s.name, step)).name.value
        for s in BUILDABLE
        for step in range(_requests(s))
    }
    assert roots == ROOT_FIELDS, f"unchecked operations: {ROOT_FIELDS - roots}"
    flows = {s.data["flow"] for s in BUILDABLE}
    assert flows == set(load_connector("braintree").plan.flows)


def _manual_authorize() -> dict[str, Any]:
    body = copy.deepcopy(_body("authorize_manual_nonce"))
    assert not _problems(body)
    return body


def _vaulted_with_shipping() -> dict[str, Any]:
    body = copy.deepcopy(_body("authorize_default_capture_vaulted_method"))
    assert not _problems(body)
    return body


def _set(path: str, value: Any) -> Any:
    def apply(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = body
        for part in parents:
            target = target[part]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return apply


@pytest.mark.parametrize(
    ("label", "breaks"),
    [
        (
            "a misspelled field",
            lambda b: b.__setitem__("query", b["query"].replace("legacyId", "legacyID", 1)),
        ),
        (
            "a field that Transaction does not have",
            lambda b: b.__setitem__("query", b["query"].replace("orderId", "orderNumber", 1)),
        ),
        (
            "an unknown mutation",
            lambda b: b.__setitem__(
                "query", b["query"].replace("authorizePaymentMethod(", "authorisePaymentMethod(")
            ),
        ),
        (
            "the wrong input type for the mutation",
            lambda b: b.__setitem__(
                "query",
                b["query"].replace("AuthorizePaymentMethodInput!", "CaptureTransactionInput!"),
            ),
        ),
        (
            "a fragment on the wrong type",
            lambda b: b.__setitem__(
                "query", b["query"].replace("on ProcessorDeclinedEvent", "on Transaction", 1)
            ),
        ),
        ("no paymentMethodId", _set("variables.input.paymentMethodId", KeyError)),
        ("no amount", _set("variables.input.transaction.amount", KeyError)),
        ("the amount as a number", _set("variables.input.transaction.amount", 10.99)),
        (
            "the amount in minor units with a sign",
            _set("variables.input.transaction.amount", "-1099"),
        ),
        ("an unknown input field", _set("variables.input.transaction.currency", "USD")),
        ("the input misnamed", _set("variables", {"inpt": {}})),
    ],
)
def test_schema_rejects_broken_documents(label: str, breaks: Any) -> None:
    body = _manual_authorize()
    breaks(body)
    assert _problems(body), f"a body with {label} was accepted"


def test_schema_rejects_broken_variables_elsewhere() -> None:
    body = _vaulted_with_shipping()
    body["variables"]["input"]["transaction"]["shipping"]["shippingAddress"]["countryCode"] = "USA"
    assert _problems(body), "an alpha-3 country code was accepted"
    recurring = copy.deepcopy(_body("charge_recurring_automatic"))
    assert recurring["variables"]["input"]["transaction"]["paymentInitiator"] == "UNSCHEDULED"
    recurring["variables"]["input"]["transaction"]["paymentInitiator"] = "RECURING"
    assert _problems(recurring), "an enum value Braintree does not have was accepted"
    refund = copy.deepcopy(_body("refund_partial"))
    refund["variables"]["input"]["refund"]["amount"] = 7
    assert _problems(refund), "a numeric refund amount was accepted"
    get = copy.deepcopy(_body("get_authorized"))
    get["variables"] = {}
    assert _problems(get), "a node query without its id was accepted"


def test_capture_method_picks_the_mutation() -> None:
    manual = _root_field(_body("authorize_manual_nonce")).name.value
    automatic = _root_field(_body("authorize_automatic_nonce")).name.value
    default = _root_field(_body("authorize_default_capture_vaulted_method")).name.value
    later = _root_field(_body("charge_recurring_manual")).name.value
    assert (manual, automatic, default, later) == (
        "authorizePaymentMethod",
        "chargePaymentMethod",
        "chargePaymentMethod",
        "authorizePaymentMethod",
    )


def test_variables_carry_the_request() -> None:
    manual = _body("authorize_manual_nonce")["variables"]["input"]
    assert manual == {
        "clientMutationId": "idem-bt-auth-001",
        "paymentMethodId": "fake-valid-visa-nonce",
        "transaction": {
            "amount": "10.99",
            "merchantAccountId": CREDENTIALS["merchant_account_id"],
            "orderId": "order-1001",
        },
    }
    vaulted = _body("authorize_default_capture_vaulted_method")["variables"]["input"]["transaction"]
    assert vaulted["shipping"]["shippingAddress"] == {
        "firstName": "Jane",
        "lastName": "Doe",
        "addressLine1": "123 W Monroe St",
        "addressLine2": "Suite 400",
        "adminArea2": "Chicago",
        "adminArea1": "IL",
        "postalCode": "60603",
        "countryCode": "US",
    }
    assert vaulted["riskData"]["customerIp"] == "203.0.113.10"
    assert (
        _body("authorize_jpy_zero_decimal")["variables"]["input"]["transaction"]["amount"] == "1500"
    )
    capture = _body("capture_partial")["variables"]["input"]
    assert capture["transaction"] == {"amount": "6.00"}
    assert "transaction" not in _body("capture_full")["variables"]["input"]
    assert "refund" not in _body("refund_full")["variables"]["input"]
    assert _body("refund_partial")["variables"]["input"]["refund"] == {
        "amount": "7.00",
        "orderId": "refund-order-id-456",
    }
    assert _body("get_authorized")["variables"] == {"id": "dHJhbnNhY3Rpb25fa3hxejhtMnY"}
    vault = _body("setup_recurring_verified")["variables"]["input"]
    assert vault["verification"] == {"merchantAccountId": CREDENTIALS["merchant_account_id"]}


def test_headers() -> None:
    token = base64.b64encode(
        f"{CREDENTIALS['public_key']}:{CREDENTIALS['private_key']}".encode()
    ).decode()
    for scenario in BUILDABLE:
        headers = {k.lower(): v for k, v in _built(scenario.name).headers.items()}
        assert headers["authorization"] == f"Basic {token}"
        assert headers["braintree-version"] == "2025-04-29"
        assert headers["content-type"] == "application/json"
        assert "idempotency-key" not in headers


# --- responses ---------------------------------------------------------------------------------


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _collect(
    selection_set: SelectionSetNode,
    parent: Any,
    fragments: Mapping[str, FragmentDefinitionNode],
    fields: dict[str, list[tuple[Any, SelectionSetNode | None]]],
    required: set[str],
    *,
    conditional: bool = False,
) -> None:
    """The response keys a selection set can produce on `parent`, with their types; `required`
    gets the keys every object of `parent` must carry (not behind a narrower type condition)."""
    schema = _schema()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            name = selection.name.value
            if name == "__typename":
                field_type: Any = schema.type_map["String"]
            else:
                assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                field_type = parent.fields[name].type
            fields.setdefault(key, []).append((field_type, selection.selection_set))
            if not conditional:
                required.add(key)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment: Any = fragments[selection.name.value]
        else:
            assert isinstance(selection, InlineFragmentNode)
            fragment = selection
        condition = (
            schema.type_map[fragment.type_condition.name.value]
            if fragment.type_condition
            else parent
        )
        narrower = conditional or condition is not parent
        _collect(
            fragment.selection_set, condition, fragments, fields, required, conditional=narrower
        )


def _check(
    value: Any,
    type_: Any,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    where: str,
    problems: list[str],
) -> None:
    if value is None:
        if isinstance(type_, GraphQLNonNull):
            problems.append(f"{where}: null for a non-null {type_}")
        return
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        if not isinstance(value, list):
            problems.append(f"{where}: a list expected")
            return
        for index, item in enumerate(value):
            _check(item, type_.of_type, selection_set, fragments, f"{where}[{index}]", problems)
        return
    if isinstance(type_, GraphQLEnumType):
        if value not in type_.values:
            problems.append(f"{where}: {value!r} is not a {type_.name} value")
        return
    if isinstance(type_, GraphQLScalarType):
        if type_.name == "Boolean":
            ok = isinstance(value, bool)
        elif type_.name in {"Int", "Float"}:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            problems.append(f"{where}: {value!r} is not a {type_.name}")
        return
    assert isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType)
    if not isinstance(value, dict):
        problems.append(f"{where}: an object expected")
        return
    assert selection_set is not None
    fields: dict[str, list[tuple[Any, SelectionSetNode | None]]] = {}
    required: set[str] = set()
    _collect(selection_set, type_, fragments, fields, required)
    for key in value:
        if key not in fields:
            problems.append(f"{where}.{key}: not asked for by the document")
    for key in required - set(value):
        problems.append(f"{where}.{key}: asked for but missing")
    for key, item in value.items():
        if key not in fields:
            continue
        field_type, sub = fields[key][0]
        if sub is not None and len(fields[key]) > 1:
            # The same key in several fragments: the union of their selections.
            sub = SelectionSetNode(
                selections=tuple(s for _, ss in fields[key] if ss for s in ss.selections)
            )
        _check(item, field_type, sub, fragments, f"{where}.{key}", problems)


def _response_problems(scenario: Scenario, step: int = 0) -> list[str]:
    body = _body(scenario.name, step)
    document = parse(body["query"])
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = _operation(document)
    schema = _schema()
    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    answer = _answers(scenario)[step]["body"]
    problems: list[str] = []
    unknown = set(answer) - {"data", "errors", "extensions"}
    if unknown:
        problems.append(f"top-level keys {unknown}")
    if "requestId" not in (answer.get("extensions") or {}):
        problems.append("no extensions.requestId")
    for index, error in enumerate(answer.get("errors") or []):
        if not isinstance(error.get("message"), str):
            problems.append(f"errors[{index}] has no message")
        extensions = error.get("extensions") or {}
        if extensions.get("errorClass") not in ERROR_CLASSES:
            problems.append(f"errors[{index}]: errorClass {extensions.get('errorClass')!r}")
        code = extensions.get("legacyCode")
        if code is not None and not re.fullmatch(r"\d{5,6}", code):
            problems.append(f"errors[{index}]: legacyCode {code!r}")
    if not answer.get("errors") and answer.get("data") is None:
        problems.append("neither data nor errors")
    if answer.get("data") is not None:
        _check(answer["data"], root, operation.selection_set, fragments, "data", problems)
    return problems


@pytest.mark.parametrize(
    ("scenario", "step"), ANSWERED, ids=[f"{s.name}-{step}" for s, step in ANSWERED]
)
def test_response_answers_the_document(scenario: Scenario, step: int) -> None:
    problems = _response_problems(scenario, step)
    assert not problems, f"{scenario.name}: the fixture is not Braintree's answer: {problems}"


def test_response_check_can_fail() -> None:
    scenario = next(s for s, _ in ANSWERED if s.name == "authorize_declined_do_not_honor")
    broken = copy.deepcopy(scenario.data)
    transaction = broken["response"]["body"]["data"]["result"]["transaction"]
    transaction["declineCode"] = "05"  # a key the document never asked for
    del transaction["legacyId"]  # a key it asked for
    transaction["statusHistory"][0]["status"] = "DECLINED"  # not a PaymentStatus
    problems = _response_problems(Scenario("braintree", scenario.name, scenario.path, broken))
    assert len(problems) == 3, problems


def _ids(value: Any) -> list[tuple[str, str | None]]:
    """(GraphQL id, legacy id beside it) for every object in a response."""
    found: list[tuple[str, str | None]] = []
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            found.append((value["id"], value.get("legacyId")))
        for item in value.values():
            found += _ids(item)
    elif isinstance(value, list):
        for item in value:
            found += _ids(item)
    return found


def test_fixture_ids_are_graphql_ids() -> None:
    """Braintree's GraphQL ids are unpadded base64 of "<kind>_<legacy id>"."""
    checked = 0
    for scenario, step in ANSWERED:
        for graphql_id, legacy in _ids(_answers(scenario)[step]["body"].get("data")):
            try:
                decoded = base64.b64decode(graphql_id + "=" * (-len(graphql_id) % 4)).decode()
            except (binascii.Error, UnicodeDecodeError):
                pytest.fail(f"{scenario.name}: {graphql_id} is not base64")
            kind, _, tail = decoded.rpartition("_")
            assert kind in {
                "transaction",
                "refund",
                "verification",
                "customer",
                "paymentmethod_cc",
                "paymentmethod_pp",
                "dispute",
                "disputeevidence",
            }
            assert not graphql_id.endswith("="), graphql_id
            if legacy is not None:
                assert tail == legacy, f"{scenario.name}: {graphql_id} is not {kind}_{legacy}"
            checked += 1
    assert checked >= 45


def test_status_maps_use_braintree_statuses() -> None:
    """Status map keys are values of Braintree's own enums (no typo maps nothing), and the
    payment flows map every PaymentStatus."""
    schema = _schema()
    payment = schema.type_map["PaymentStatus"]
    verification = schema.type_map["VerificationStatus"]
    assert isinstance(payment, GraphQLEnumType) and isinstance(verification, GraphQLEnumType)
    flows = load_connector("braintree").plan.flows
    for name, flow in flows.items():
        keys = {key for rule in flow.response.status_rules for key in rule.table}
        keys |= {key for rule in flow.response.status_rules for key in rule.unresolved}
        if name in {"revoke_recurring", "get_dispute", "accept_dispute", "submit_evidence"}:
            dispute = schema.type_map["DisputeStatus"]
            assert isinstance(dispute, GraphQLEnumType)
            # revoke_recurring: the spec's own marker of an answer without errors.
            wanted = {"DELETED"} if name == "revoke_recurring" else set(dispute.values)
            assert keys == wanted, name
        elif name == "verify":
            assert keys == set(verification.values)
        elif name == "setup_recurring":
            # VAULTED: a payment method vaulted without a verification (the spec's own marker).
            assert keys == set(verification.values) | {"VAULTED"}
        elif name in {"refund", "get_refund", "void", "reverse"}:
            # A refund is never AUTHORIZATION_EXPIRED nor the parent of partial captures.
            assert keys == set(payment.values) - {"AUTHORIZATION_EXPIRED", "SETTLEMENT_CONFIRMED"}
        else:
            assert keys == set(payment.values), name


# --- Webhooks ---------------------------------------------------------------------------------


def _settings() -> dict[str, str]:
    return {"public_key": CREDENTIALS["public_key"]}


def _form(data: Mapping[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(data["body_text"], keep_blank_values=True, strict_parsing=True))


def _sdk_verifies(private_key: str, public_key: str, signature: str, payload: str) -> bool:
    """Braintree's SDK check, written again with the standard library: the pair of our public key,
    then the HMAC of the payload as sent (or with a newline added, which the SDK also accepts)."""
    pairs = [pair.split("|") for pair in signature.split("&") if "|" in pair]
    ours = next((sig for pub, sig in pairs if pub == public_key), None)
    if ours is None or re.search("[^A-Za-z0-9+=/\n]", payload):
        return False
    key = hashlib.sha1(private_key.encode("utf-8")).digest()  # noqa: S324 (Braintree's scheme)
    return any(
        hmac.compare_digest(hmac.new(key, p.encode("ascii"), hashlib.sha1).hexdigest(), ours)
        for p in (payload, payload + "\n")
    )


def _notification(payload: str) -> ET.Element:
    return ET.fromstring(base64.b64decode(payload))  # noqa: S314 (a fixture we wrote)


def _graphql_id(prefix: str, legacy: str | None) -> str | None:
    if legacy is None:
        return None
    return base64.b64encode(f"{prefix}_{legacy}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_webhook_fixture_signatures(name: str) -> None:
    """Recomputed with hashlib/hmac, not the engine; accepted deliveries pass the SDK's check,
    refused ones fail it for the expected reason."""
    data = DELIVERIES[name]
    form = _form(data)
    signature, payload = form.get("bt_signature"), form["bt_payload"]
    assert data["secret"] == CREDENTIALS["private_key"]
    rejected = data["expect"].get("rejected")
    if rejected == "missing_signature":
        pairs = dict(p.split("|", 1) for p in (signature or "").split("&") if "|" in p)
        assert CREDENTIALS["public_key"] not in pairs
    else:
        assert signature is not None
        verified = _sdk_verifies(data["secret"], CREDENTIALS["public_key"], signature, payload)
        assert verified is (rejected is None)


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_webhook_fixture_events_follow_the_payload(name: str) -> None:
    """The expected ids, amounts and kinds are read again from the XML with ElementTree: the
    GraphQL ids encode the legacy ids the notification carries."""
    data = DELIVERIES[name]
    if "rejected" in data["expect"]:
        return
    root = _notification(_form(data)["bt_payload"])
    [expected] = data["expect"]["events"]
    kind = root.findtext("kind")
    assert expected.get("connector_event_type", kind) == kind
    transaction = root.find("subject/transaction")
    dispute = root.find("subject/dispute")
    if dispute is not None:
        legacy = dispute.findtext("transaction/id")
        amount, currency = (
            dispute.findtext("amount-disputed"),
            dispute.findtext("currency-iso-code"),
        )
    elif transaction is not None:
        credit = transaction.findtext("type") == "credit"
        legacy = transaction.findtext("refunded-transaction-id" if credit else "id")
        amount, currency = transaction.findtext("amount"), transaction.findtext("currency-iso-code")
        if credit:
            refund = _graphql_id("refund", transaction.findtext("id"))
            assert expected["connector_refund_id"] == refund
    else:
        legacy = amount = currency = None
    if "connector_transaction_id" in expected:
        assert expected["connector_transaction_id"] == _graphql_id("transaction", legacy)
    if "amount" in expected:
        minor = None if amount is None else round(float(amount) * 100)
        assert expected["amount"] == minor
    if "currency" in expected:
        assert expected["currency"] == currency


@pytest.mark.parametrize("name", sorted(DELIVERIES))
def test_webhook_delivery(name: str) -> None:
    data = DELIVERIES[name]
    braintree = load_connector("braintree")
    body = data["body_text"].encode("utf-8")
    expect = data["expect"]
    if "rejected" in expect:
        with pytest.raises(WebhookError) as caught:
            braintree.parse_event(body, data["headers"], data["secret"], credentials=_settings())
        assert caught.value.reason == expect["rejected"]
        assert data["secret"] not in str(caught.value)
        return
    result = braintree.parse_event(body, data["headers"], data["secret"], credentials=_settings())
    events = [event.to_dict() for event in result.events]
    assert len(events) == len(expect["events"])
    for event, wanted in zip(events, expect["events"], strict=True):
        assert event["verified"] is True
        for path, value in wanted.items():
            assert dotted(event, path) == value, f"{path}: {dotted(event, path)!r} != {value!r}"
    assert result.acknowledge_status == 200


def test_webhook_outcomes_covered() -> None:
    outcomes = Counter(data["expect"].get("rejected", "accepted") for data in DELIVERIES.values())
    assert outcomes["accepted"] >= 6
    assert outcomes["bad_signature"] >= 2 and outcomes["missing_signature"] >= 2
    types = {
        event["type"] for data in DELIVERIES.values() for event in data["expect"].get("events", [])
    }
    assert {"payment.captured", "payment.failed", "refund.succeeded"} <= types
    assert {"dispute.opened", "dispute.lost", "unknown"} <= types


def test_webhook_key_encoding_matters() -> None:
    """The HMAC key is SHA-1 of the private key: the private key itself as the key is refused."""
    data = DELIVERIES["transaction_settled"]
    form = _form(data)
    payload = form["bt_payload"]
    raw = hmac.new(data["secret"].encode(), payload.encode(), hashlib.sha1).hexdigest()
    body = data["body_text"].replace(form["bt_signature"].split("|")[1], raw).encode()
    with pytest.raises(WebhookError) as caught:
        load_connector("braintree").parse_event(
            body, data["headers"], data["secret"], credentials=_settings()
        )
    assert caught.value.reason == "bad_signature"


@pytest.mark.parametrize(
    "settings", [{}, {"public_key": "h3w9c2v8b7n4m6k1"}], ids=["none", "other"]
)
def test_webhook_needs_our_public_key(settings: dict[str, str]) -> None:
    """The pair is chosen by the public_key setting: without it, or with another key's, the
    delivery is refused although its signature for our key is right."""
    data = DELIVERIES["transaction_settled"]
    with pytest.raises(WebhookError) as caught:
        load_connector("braintree").parse_event(
            data["body_text"].encode(), data["headers"], data["secret"], credentials=settings
        )
    # Without the setting the receiver is told what to configure; with another key's, the
    # delivery carries no signature for it.
    assert caught.value.reason == ("missing_setting" if not settings else "missing_signature")


def test_new_flow_documents_carry_the_request_and_can_fail() -> None:
    increment = copy.deepcopy(_body("incremental_authorize_updated"))
    assert increment["variables"]["input"]["amount"] == "60.99", "the new total, not the increase"
    assert not _problems(increment)
    increment["variables"]["input"]["amount"] = "60,99"
    assert _problems(increment), "an Amount that is not a decimal string was accepted"
    evidence = copy.deepcopy(_body("submit_evidence_finalized", 0))
    assert evidence["variables"]["input"]["content"].startswith("Delivered 2024-06-13")
    assert not _problems(evidence)
    del evidence["variables"]["input"]["content"]
    assert _problems(evidence), "text evidence without its (required) content was accepted"
    finalize = _body("submit_evidence_finalized", 1)
    assert _root_field(finalize).name.value == "finalizeDispute"
    accept = copy.deepcopy(_body("accept_dispute_accepted"))
    accept["variables"]["input"]["disputeID"] = accept["variables"]["input"].pop("disputeId")
    assert _problems(accept), "a misspelt input field was accepted"
