"""Lint rules beyond the schema: each a small function in LINT_RULES, (spec) → problems."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ._card_data import card_data_paths
from ._coverage import unexercised
from ._errors import Problem
from ._load import LoadedSpec, escape_pointer_token
from ._templates import TemplateCompileError, compile_template, is_template
from ._unified import FLOWS, LIST_FLOWS, ErrorCode, EventType, statuses_for

LintRule = Callable[[LoadedSpec], Iterator[Problem]]


def _rule_targets(rule: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """Every (pointer, value) a status/event rule can produce."""
    if isinstance(rule, str):
        yield pointer, rule
    elif isinstance(rule, Mapping):
        yield from _rule_targets(rule.get("then"), f"{pointer}/then")
        yield from _rule_targets(rule.get("else"), f"{pointer}/else")
        for key, value in (rule.get("map") or {}).items():
            yield from _rule_targets(value, f"{pointer}/map/{escape_pointer_token(key)}")


def status_entries(status: Any, base: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Each rule of a `status` (one mapping, or ordered rules) with its pointer."""
    if isinstance(status, Mapping):
        yield status, base
    elif isinstance(status, list):
        for index, entry in enumerate(status):
            if isinstance(entry, Mapping):
                yield entry, f"{base}/{index}"


def status_targets(spec: LoadedSpec) -> Iterator[Problem]:
    """Status maps target only the unified statuses of the flow's kind (payment or refund)."""
    for flow, raw in spec.data.get("flows", {}).items():
        allowed = statuses_for(flow)
        status = raw["response"].get("status", {})
        rules = []
        for entry, base in status_entries(status, f"/flows/{flow}/response/status"):
            rules += [
                (f"{base}/map/{escape_pointer_token(k)}", v)
                for k, v in (entry.get("map") or {}).items()
            ]
            for key in ("value", "then", "else"):
                if key in entry:
                    rules.append((f"{base}/{key}", entry[key]))
        for pointer, rule in rules:
            for where, value in _rule_targets(rule, pointer):
                if value not in allowed:
                    yield spec.source.problem(
                        where,
                        f"{value!r} is not a unified {FLOWS[flow]} status "
                        f"(one of: {', '.join(sorted(allowed))})",
                    )


def error_targets(spec: LoadedSpec) -> Iterator[Problem]:
    """Error maps, HTTP-status maps and defaults target only unified error codes."""
    codes = set(ErrorCode)
    sections = [("/defaults/response/error", spec.data.get("defaults", {}).get("response", {}))]
    sections += [
        (f"/flows/{f}/response/error", r["response"]) for f, r in spec.data.get("flows", {}).items()
    ]
    for base, response in sections:
        error = response.get("error", {})
        for key, value in error.get("map", {}).items():
            if value not in codes:
                yield spec.source.problem(
                    f"{base}/map/{escape_pointer_token(key)}",
                    f"{value!r} is not a unified error code",
                )
        if "default" in error and error["default"] not in codes:
            yield spec.source.problem(
                f"{base}/default", f"{error['default']!r} is not a unified error code"
            )
        for status, value in error.get("http_status", {}).items():
            if value not in codes:
                yield spec.source.problem(
                    f"{base}/http_status/{status}", f"{value!r} is not a unified error code"
                )


def flows_have_status(spec: LoadedSpec) -> Iterator[Problem]:
    """Every flow says how its status is read (`status.from` + `map`, or `status.value`)."""
    default_status = spec.data.get("defaults", {}).get("response", {}).get("status")
    for flow, raw in spec.data.get("flows", {}).items():
        if not (spec.complete(f"/flows/{flow}/response") and spec.complete("/defaults/response")):
            continue  # its status may be what the schema check cut away
        status = raw["response"].get("status", default_status)
        if isinstance(status, list):
            continue  # ordered rules: each one's shape is checked by the schema
        if not status or ("value" not in status and not ("from" in status and status.get("map"))):
            yield spec.source.problem(
                f"/flows/{flow}/response",
                "the flow has no status mapping (status.from + map, or status.value)",
            )
        elif "value" in status and "from" in status:
            yield spec.source.problem(
                f"/flows/{flow}/response/status",
                "give either status.value or status.from, not both",
            )


def capabilities_match_flows(spec: LoadedSpec) -> Iterator[Problem]:
    """Declared capabilities agree with the flows that implement them."""
    if not spec.complete("/capabilities"):
        return
    caps = spec.data["capabilities"]
    flows = set(spec.data.get("flows", {}))
    flows |= {name for name in FLOWS if not _flow_known(spec, name)}  # cut: assume it is there
    where = "/capabilities"
    if "authorize" not in flows:
        yield spec.source.problem("/flows", "every connector needs an authorize flow", key=True)
    manual = "manual" in caps["capture_methods"]
    if manual and "capture" not in flows:
        yield spec.source.problem(
            f"{where}/capture_methods", "manual capture is declared but there is no capture flow"
        )
    if "capture" in flows and not manual:
        yield spec.source.problem(
            "/flows/capture", "a capture flow exists but manual capture is not declared", key=True
        )
    if caps.get("partial_capture") and "capture" not in flows:
        yield spec.source.problem(
            f"{where}/partial_capture", "partial_capture is declared but there is no capture flow"
        )
    for flag in ("partial_refund", "multiple_refunds"):
        if caps.get(flag) and "refund" not in flows:
            yield spec.source.problem(
                f"{where}/{flag}", f"{flag} is declared but there is no refund flow"
            )
    responses_known = spec.complete("/flows/authorize/response") and spec.complete(
        "/defaults/response"
    )
    if (
        caps.get("three_ds")
        and responses_known
        and "next_action" not in _merged_response(spec, "authorize")
    ):
        yield spec.source.problem(
            f"{where}/three_ds", "three_ds is declared but authorize has no next_action"
        )


def _merged_response(spec: LoadedSpec, flow: str) -> Mapping[str, Any]:
    defaults = spec.data.get("defaults", {}).get("response", {})
    return {**defaults, **spec.data.get("flows", {}).get(flow, {}).get("response", {})}


def _flow_known(spec: LoadedSpec, name: str) -> bool:
    """Whether the spec's having flow `name` or not is known (the schema check did not cut the
    flows, or that flow, away)."""
    return not ({"/flows", f"/flows/{escape_pointer_token(name)}"} & spec.cut)


_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def fixed_hosts(spec: LoadedSpec) -> Iterator[Problem]:
    """Base URLs (each environment's and each named host's) are https with a literal
    registrable domain; a template may only fill a host label (never the domain), so
    credentials cannot be steered to another host."""
    urls = [(f"/environments/{env}", url) for env, url in spec.data.get("environments", {}).items()]
    for host, by_environment in spec.data.get("hosts", {}).items():
        if isinstance(by_environment, Mapping):
            urls += [(f"/hosts/{host}/{env}", url) for env, url in by_environment.items()]
    for pointer, url in urls:
        if not isinstance(url, str):
            continue  # the schema check names it
        rest = url.split("://", 1)[-1]
        host = rest.split("/", 1)[0]
        if "?" in url or "#" in url or "@" in host:
            yield spec.source.problem(
                pointer, "a base URL may not hold a query, fragment or user info"
            )
        tail = host.rsplit("}}", 1)[-1] if "}}" in host else host
        literal_labels = [label for label in tail.split(".") if label]
        if "{{" in host and (len(literal_labels) < 2 or not tail.startswith(("-", "."))):
            yield spec.source.problem(
                pointer,
                "a template in the host may only fill a label before a literal domain "
                "(e.g. '{{ x }}-api.example.com')",
            )
        if _TEMPLATE.search(rest.split("/", 1)[1] if "/" in rest else ""):
            yield spec.source.problem(pointer, "the base URL's path must be literal")


def secrets_only_in_auth(spec: LoadedSpec) -> Iterator[Problem]:
    """Secret credentials are read only by the auth section (and a webhook acknowledgement's
    templates, which sign the answer and whose output is scrubbed): never in paths, queries,
    bodies or headers of flows, where they would escape the scheme's redaction."""
    secrets = {n for n, c in spec.data.get("credentials", {}).items() if c.get("secret")}
    if not secrets:
        return
    pattern = re.compile(
        r"credentials\s*(?:\.\s*|\[\s*['\"])(" + "|".join(map(re.escape, secrets)) + r")\b"
    )

    def walk(value: Any, pointer: str) -> Iterator[Problem]:
        if isinstance(value, Mapping):
            for key, item in value.items():
                yield from walk(item, f"{pointer}/{escape_pointer_token(key)}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{pointer}/{index}")
        elif isinstance(value, str) and (match := pattern.search(value)):
            yield spec.source.problem(
                pointer, f"secret credential {match.group(1)!r} may only be used in /auth"
            )

    for key in ("defaults", "flows", "environments", "hosts"):
        if key in spec.data:
            yield from walk(spec.data[key], f"/{key}")
    webhooks = spec.data.get("webhooks")
    for key, value in webhooks.items() if isinstance(webhooks, Mapping) else ():
        if key != "acknowledge":
            yield from walk(value, f"/webhooks/{escape_pointer_token(key)}")


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """(pointer, text) of every string in `value`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{pointer}/{escape_pointer_token(key)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")
    elif isinstance(value, str):
        yield pointer, value


def _templates(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    """(pointer, template) of every template string in `value`."""
    return ((at, text) for at, text in _strings(value, pointer) if is_template(text))


def _card_read(template: str, carrying: set[str]) -> str | None:
    """What card data `template` reads (a dotted request path, or a `let` name carrying it)."""
    try:
        compiled = compile_template(template)
    except TemplateCompileError:
        return None  # reported by the compiler
    cards = card_data_paths()
    for path in compiled.paths:
        if path.root in carrying:
            return path.dotted()
        if path.root != "request":
            continue
        read = tuple(str(s) for s in path.segments)
        if any(card[: len(read)] == read or read[: len(card)] == card for card in cards):
            return path.dotted()
    return None


def _carrying(lets: Mapping[str, Any]) -> set[str]:
    """The `let` names whose value reads card data, directly or through an earlier name."""
    carrying: set[str] = set()
    for name, value in lets.items():
        if any(_card_read(t, carrying) for _, t in _templates(value, "")):
            carrying.add(name)
    return carrying


def card_data_not_in_urls(spec: LoadedSpec) -> Iterator[Problem]:
    """A path or query template never reads card data (a request field the unified schemas mark
    `x-card-data`: the card number, the CVC), nor an object holding it, nor a `let` name made
    from it: URLs end up in proxy, load-balancer and access logs, which are not scrubbed."""
    defaults = spec.data.get("defaults", {})
    default_lets = defaults.get("let") or {}
    urls = [(_carrying(default_lets), list(_templates(defaults.get("query"), "/defaults/query")))]
    for flow, raw in spec.data.get("flows", {}).items():
        requests = [(f"/flows/{flow}/request", raw.get("request"))]
        requests += [
            (f"/flows/{flow}/steps/{i}/request", step.get("request"))
            for i, step in enumerate(raw.get("steps") or ())
            if isinstance(step, Mapping)
        ]
        found: list[tuple[str, str]] = []
        for pointer, request in requests:
            if isinstance(request, Mapping):
                found += _templates(request.get("path"), f"{pointer}/path")
                found += _templates(request.get("query"), f"{pointer}/query")
        urls.append((_carrying({**default_lets, **(raw.get("let") or {})}), found))
    for carrying, templates in urls:
        for pointer, template in templates:
            read = _card_read(template, carrying)
            if read is not None:
                yield spec.source.problem(
                    pointer, f"card data ({read}) may not be read in a URL: put it in the body"
                )


def event_targets(spec: LoadedSpec) -> Iterator[Problem]:
    """Webhook event maps target only unified event types."""
    events = set(EventType)
    mapping = spec.data.get("webhooks", {}).get("event", {}).get("map", {})
    for key, rule in mapping.items():
        for where, value in _rule_targets(rule, f"/webhooks/event/map/{escape_pointer_token(key)}"):
            if value not in events:
                yield spec.source.problem(where, f"{value!r} is not a unified event type")


def id_matches_file(spec: LoadedSpec) -> Iterator[Problem]:
    """The spec's id is its file name, so `connector render <id>` finds it."""
    stem = Path(spec.source.file).stem
    if spec.source.file.endswith((".yaml", ".yml")) and spec.data.get("id", stem) != stem:
        yield spec.source.problem(
            "/id", f"id {spec.data['id']!r} does not match the file name {stem!r}"
        )


def signature_source(spec: LoadedSpec) -> Iterator[Problem]:
    """Webhooks are verified by a signature or confirmed by a fetch; a signature is read from a
    header or from the body, exactly one of them."""
    webhooks = spec.data.get("webhooks")
    bare = webhooks is not None and "signature" not in webhooks and "confirm" not in webhooks
    if bare and spec.complete("/webhooks"):
        yield spec.source.problem("/webhooks", "give a signature, a confirm, or both")
    if webhooks is not None and "confirm" in webhooks:
        flow = webhooks["confirm"]["flow"]
        if _flow_known(spec, flow) and flow not in spec.data.get("flows", {}):
            yield spec.source.problem("/webhooks/confirm/flow", f"there is no {flow!r} flow")
    signature = spec.data.get("webhooks", {}).get("signature")
    exactly_one = ("header" in signature) != ("from" in signature) if signature else True
    if not exactly_one and spec.complete("/webhooks/signature"):
        yield spec.source.problem("/webhooks/signature", "give exactly one of 'header' or 'from'")


def flows_have_scenarios(spec: LoadedSpec) -> Iterator[Problem]:
    """A warning for each declared flow (and the webhooks, as `parse_event`) that no scenario in
    `tests/connectors/<id>/` exercises (engine._coverage); the feature matrix gives it no ✓.
    Only for a spec in a project's `specs/connectors/`, where its fixtures are known."""
    for flow in unexercised(spec.source.file, spec.data) or ():
        where = "/webhooks" if flow == "parse_event" else f"/flows/{escape_pointer_token(flow)}"
        yield spec.source.problem(
            where,
            f"no scenario exercises {flow!r}: add one under "
            f"tests/connectors/{spec.data['id']}/"
            + ("webhooks/" if flow == "parse_event" else "scenarios/"),
            key=True,
            severity="warning",
        )


def timestamp_source(spec: LoadedSpec) -> Iterator[Problem]:
    """A signature's timestamp has exactly one source when it is checked or signed: without one,
    `tolerance_seconds` would reject every delivery."""
    signature = spec.data.get("webhooks", {}).get("signature")
    if signature is None or not spec.complete("/webhooks/signature"):
        return  # a source may be what the schema check cut away
    keyed = "timestamp_key" in signature.get("parse", {})
    stamp = signature.get("timestamp")
    if stamp is not None and ("header" in stamp) == ("from" in stamp):
        yield spec.source.problem(
            "/webhooks/signature/timestamp", "give exactly one of 'header' or 'from'"
        )
    if "timestamp" in signature and keyed:
        yield spec.source.problem(
            "/webhooks/signature/timestamp",
            "give the timestamp in one place: 'timestamp' or 'parse.timestamp_key', not both",
        )
    if "tolerance_seconds" in signature and "timestamp" not in signature and not keyed:
        yield spec.source.problem(
            "/webhooks/signature/tolerance_seconds",
            "tolerance_seconds needs a timestamp source ('timestamp' or "
            "'parse.timestamp_key'): without one every delivery is rejected",
        )


def matches_only_in_list_flows(spec: LoadedSpec) -> Iterator[Problem]:
    """A flow that answers with a list (`find`) says where the list is (`response.matches`); no
    other flow, no step and no default has `matches`."""
    if "matches" in spec.data.get("defaults", {}).get("response", {}):
        yield spec.source.problem(
            "/defaults/response/matches", "`matches` belongs to a list flow, not defaults", key=True
        )
    for flow, raw in spec.data.get("flows", {}).items():
        base = f"/flows/{flow}"
        has = "matches" in raw["response"]
        if flow in LIST_FLOWS and not has:
            yield spec.source.problem(
                f"{base}/response",
                f"the {flow} flow needs `matches`: where its list of payments is",
            )
        elif flow not in LIST_FLOWS and has:
            yield spec.source.problem(
                f"{base}/response/matches",
                f"only a list flow ({', '.join(sorted(LIST_FLOWS))}) has `matches`",
                key=True,
            )
        for index, step in enumerate(raw.get("steps", [])):
            if "matches" in step.get("response", {}):
                yield spec.source.problem(
                    f"{base}/steps/{index}/response/matches",
                    "a step has no `matches`: only the flow's own answer is a list",
                    key=True,
                )


_FLOAT = re.compile(r"\|\s*float\b|\bfloat\(")
_MONEY_WORDS = re.compile(r"amount|value|total|price|money|balance", re.I)


def no_float_money(spec: LoadedSpec) -> Iterator[Problem]:
    """A warning for `| float` in a template that reads an amount: a binary float is not an
    exact amount (0.1 + 0.2 != 0.3); `| decimal` compares and computes exactly."""
    for section in ("defaults", "flows", "webhooks"):
        for pointer, text in _strings(spec.data.get(section), f"/{section}"):
            key = pointer.rsplit("/", 1)[-1]
            jinja = "{{" in text or "{%" in text or key in ("if", "$if", "$each")
            if jinja and _FLOAT.search(text) and _MONEY_WORDS.search(text):
                yield spec.source.problem(
                    pointer,
                    "`float` near an amount: binary floats are not exact; use `| decimal`",
                    severity="warning",
                )


def tables_after_flows(spec: LoadedSpec) -> Iterator[Problem]:
    """`tables` come after the flows (and webhooks): a reader meets the flows first."""
    if "tables" not in spec.data:
        return
    tables = spec.source.locate("/tables", key=True)
    for section in ("flows", "webhooks"):
        if section in spec.data and spec.source.locate(f"/{section}", key=True) > tables:
            yield spec.source.problem(
                "/tables", f"`tables` belong after `{section}`: move them below it", key=True
            )
            return


#: Every lint rule, run in this order on a schema-valid spec.
LINT_RULES: tuple[LintRule, ...] = (
    id_matches_file,
    status_targets,
    error_targets,
    flows_have_status,
    capabilities_match_flows,
    fixed_hosts,
    secrets_only_in_auth,
    card_data_not_in_urls,
    event_targets,
    signature_source,
    timestamp_source,
    matches_only_in_list_flows,
    tables_after_flows,
)


#: Rules whose problems are warnings: reported by `connector lint`, never making a spec invalid.
WARNING_RULES: tuple[LintRule, ...] = (flows_have_scenarios, no_float_money)


def lint_rules(spec: LoadedSpec) -> list[Problem]:
    return [problem for rule in LINT_RULES for problem in rule(spec)]


def lint_warnings(spec: LoadedSpec) -> list[Problem]:
    return [problem for rule in WARNING_RULES for problem in rule(spec)]
