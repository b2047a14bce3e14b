"""The `connector` command: lint, list, matrix, render, parse, event, call, record, new, docs,
route, serve."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._boundary import sanitised
from ._connector import Connector, bundled_connectors, load_connector
from ._errors import ConnectorServiceError, Problem, SpecError, WebhookError
from ._http import HttpResponse
from ._scrub import Scrubber
from ._spec import bundled_spec_paths, lint_file

if TYPE_CHECKING:
    from ._replay import ScenarioFile

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

#: The positional forms of the commands that take a request or a scenario.
USAGE = {
    "render": "give CONNECTOR FLOW REQUEST.json, or a SCENARIO.yaml (optionally after CONNECTOR)",
    "parse": "give CONNECTOR FLOW REQUEST.json RESPONSE_FILE --status N, or a SCENARIO.yaml "
    "(optionally after CONNECTOR)",
}

CONNECTOR_HELP = (
    "a bundled connector id (see `connector list`), or a spec file path: one with a / or "
    "ending .yaml/.yml (a bare id never reads a file from the working directory)"
)


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"connector: cannot read {what} {path}: {exc}") from None


def _headers(pairs: Sequence[str] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition(":")
        if not sep:
            raise SystemExit(f"connector: --header must be 'Name: value', got {pair!r}")
        headers[name.strip()] = value.strip()
    return headers


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False, default=str))


def _placeholder_credentials(connector: Connector) -> dict[str, str]:
    return {c.name: f"<{c.name}>" for c in connector.plan.credentials}


# --- commands ----------------------------------------------------------------------------------


def _lint_any(path: Path) -> list[Problem]:
    """A connector spec's problems, or a routing rules file's (it has `routing_version`)."""
    from ._load import load_spec_file

    try:
        loaded = load_spec_file(path)
    except SpecError as exc:
        return exc.problems
    if isinstance(loaded.data, Mapping) and "routing_version" in loaded.data:
        from .routing import lint_rules

        return lint_rules(loaded)
    return lint_file(path, warnings=True)


def cmd_lint(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or bundled_spec_paths()
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    found = [problem for file in files for problem in _lint_any(file)]
    for problem in found:
        print(problem.format())
    problems = [p for p in found if p.severity != "warning"]
    warnings = len(found) - len(problems)
    print(
        f"{len(files)} spec(s) checked, {len(problems)} problem(s)"
        + (f", {warnings} warning(s)" if warnings else ""),
        file=sys.stderr,
    )
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    connectors = bundled_connectors()
    if args.json:
        _print_json(
            [
                {"id": c.id, "name": c.name, "flows": list(c.flows), "webhooks": c.has_webhooks}
                for c in connectors
            ]
        )
    else:
        for c in connectors:
            flows = ", ".join(c.flows) + (", parse_event" if c.has_webhooks else "")
            print(f"{c.id:<14} {c.name:<16} {flows}")
    return EXIT_OK


def cmd_matrix(args: argparse.Namespace) -> int:
    from ._docs import feature_matrix, render_matrix_markdown

    if args.json:
        _print_json(feature_matrix())
    else:
        print(render_matrix_markdown(), end="")
    return EXIT_OK


def _target(
    args: argparse.Namespace, plain: int, what: str
) -> tuple[Connector, str, dict[str, Any], ScenarioFile | None, list[str]]:
    """The positional arguments as (connector, flow, request, scenario, the rest): either
    CONNECTOR FLOW REQUEST.json (and `plain - 3` more), or a scenario file, optionally after
    CONNECTOR (the connector is otherwise its folder's name, tests/connectors/<id>/scenarios/)."""
    from ._replay import ScenarioError, read_scenario

    given = list(args.target)
    if len(given) in (1, 2) and given[-1].endswith((".yaml", ".yml")):
        try:
            scenario = read_scenario(Path(given[-1]))
        except ScenarioError as exc:
            raise SystemExit(f"connector: {exc}") from None
        name = given[0] if len(given) == 2 else scenario.connector
        if name is None:
            raise SystemExit(
                f"connector: name the connector: connector {what} CONNECTOR {given[-1]}"
            )
        return load_connector(name), scenario.flow, scenario.request, scenario, []
    if len(given) != plain:
        raise SystemExit(f"connector {what}: {USAGE[what]}")
    connector = load_connector(given[0])
    return connector, given[1], _read_json(given[2], "request"), None, given[3:]


def _answers(
    connector: Connector, flow: str, scenario: ScenarioFile | None, pairs: Sequence[str] | None
) -> dict[int, HttpResponse | Exception]:
    """Step index → its answer: the scenario's recorded answers, then each --answer STEP=FILE
    (STEP a step's name, as the spec's `steps` give it; FILE the response body, HTTP 200)."""
    from ._replay import ScenarioError, answer_of

    answers: dict[int, HttpResponse | Exception] = {}
    try:
        for index, recorded in enumerate(scenario.answers if scenario else ()):
            answers[index] = answer_of(recorded)
    except ScenarioError as exc:
        raise SystemExit(f"connector: {exc}") from None
    names = [step.name for step in connector.plan.flows[flow].steps]
    for pair in pairs or ():
        step, sep, file = pair.partition("=")
        if not sep or step not in names:
            choices = ", ".join(names) or f"none: {flow} sends one request"
            raise SystemExit(f"connector: --answer must be STEP=FILE, STEP one of {choices}")
        try:
            body = Path(file).read_bytes()
        except OSError as exc:
            raise SystemExit(f"connector: cannot read answer {file}: {exc}") from None
        answers[names.index(step)] = HttpResponse(200, {"Content-Type": _content_type(body)}, body)
    return answers


def _content_type(body: bytes) -> str:
    text = body.lstrip()
    if text.startswith(b"<"):
        return "application/xml"
    try:
        json.loads(body)
    except ValueError:
        return "text/plain"
    return "application/json"


def cmd_render(args: argparse.Namespace) -> int:
    import uuid

    from ._replay import render_flow

    connector, flow, request, scenario, _ = _target(args, 3, "render")
    if args.credentials:
        credentials = _read_json(args.credentials, "credentials")
    else:
        credentials = _placeholder_credentials(connector)
    rendering = render_flow(
        connector,
        flow,
        request,
        credentials,
        _answers(connector, flow, scenario, args.answer),
        generated_key=uuid.uuid4().hex,  # as the Client does when the request gives none
        environment=args.env,
        base_url=args.base_url,
        allow_undeclared_host=args.allow_undeclared_host,
        check_credential_patterns=bool(args.credentials),
    )
    if args.json:
        _print_json(rendering.to_dict())
    else:
        print(rendering.text(), end="")
    if rendering.waiting_for is not None:
        print(
            f"connector: the requests after {rendering.waiting_for} need its answer: give "
            f"--answer {rendering.waiting_for}=FILE, or render a scenario that has it",
            file=sys.stderr,
        )
    return EXIT_OK


def _show_result(result: Mapping[str, Any], as_json: bool) -> None:
    from ._replay import result_text

    if as_json:
        _print_json(result)
    else:
        print(result_text(result), end="")


def cmd_parse(args: argparse.Namespace) -> int:
    connector, flow, request, scenario, rest = _target(args, 4, "parse")
    if scenario is not None:
        return _parse_scenario(connector, flow, request, scenario, args)
    if args.status is None:
        raise SystemExit("connector parse: --status N is required with a RESPONSE_FILE")
    try:
        body = Path(rest[0]).read_bytes()
    except OSError as exc:
        raise SystemExit(f"connector: cannot read response {rest[0]}: {exc}") from None
    response = HttpResponse(args.status, _headers(args.header), body)
    scrubber = _scrubber_for(connector, args, request, flow) if args.credentials else None
    result = connector.parse_response(flow, request, response, scrubber=scrubber)
    _show_result(result.to_dict(), args.json)
    return EXIT_OK


def _parse_scenario(
    connector: Connector,
    flow: str,
    request: dict[str, Any],
    scenario: ScenarioFile,
    args: argparse.Namespace,
) -> int:
    """The Result the Client gives when the processor answers as the scenario recorded."""
    from ._replay import ScenarioError, answer_of, replay_flow

    if args.credentials:
        credentials = _read_json(args.credentials, "credentials")
    elif (scenario.path.parent.parent / "credentials.json").is_file():
        credentials = _read_json(str(scenario.path.parent.parent / "credentials.json"), "creds")
    else:
        credentials = _placeholder_credentials(connector)
    try:
        answers = [answer_of(recorded) for recorded in scenario.answers]
        result, _ = replay_flow(connector, flow, request, credentials, answers)
    except ScenarioError as exc:
        raise SystemExit(f"connector: {exc}") from None
    _show_result(result.to_dict(), args.json)
    return EXIT_OK


def _scrubber_for(
    connector: Connector, args: argparse.Namespace, request: Any, flow: str
) -> Scrubber:
    """What the request built with --credentials would hide: the secret values and what the
    auth scheme makes of them (a processor's answer may echo any of them)."""
    from ._boundary import credential_values
    from ._build import build_request

    credentials = _read_json(args.credentials, "credentials")
    secrets = Scrubber(credential_values(connector.plan, credentials))
    try:
        built = build_request(
            connector.plan,
            flow,
            request,
            credentials,
            check_credential_patterns=False,
            access_token="<access_token>" if connector.plan.auth.token else None,
        )
    except ConnectorServiceError:  # a flow of several steps, a request it refuses: the values
        return secrets
    return secrets.joined(built.scrubber)


def cmd_event(args: argparse.Namespace) -> int:
    connector = load_connector(args.connector)
    secret = args.secret if args.secret is not None else os.environ.get(args.secret_env or "", "")
    if not secret:
        raise SystemExit("connector: give --secret or --secret-env NAME")
    try:
        body = Path(args.body).read_bytes()
    except OSError as exc:
        raise SystemExit(f"connector: cannot read body {args.body}: {exc}") from None
    settings = _settings(connector, args.setting)
    try:
        credentials = _read_json(args.credentials, "credentials") if args.credentials else {}
        settings = {**credentials, **settings}
        # A spec that signs its webhooks and also confirms them by a fetch: the signature is
        # checked here, the events shown unverified (Client.handle_event confirms them).
        webhooks = connector.plan.webhooks
        signed_and_confirmed = (
            webhooks is not None
            and webhooks.signature is not None
            and webhooks.confirm_flow is not None
        )
        result = connector.parse_event(
            body,
            _headers(args.header),
            secret,
            credentials=settings,
            allow_unconfirmed=signed_and_confirmed,
        )
    except WebhookError as exc:
        signature = connector.plan.webhooks.signature if connector.plan.webhooks else None
        defaults = {c.name for c in connector.plan.credentials if c.default is not None}
        needed = signature.settings if signature else ()
        missing = [n for n in needed if n not in settings and n not in defaults]
        if args.json:
            shown: dict[str, Any] = {"verified": False, "reason": exc.reason, "message": str(exc)}
            if exc.reason == "missing_setting":
                shown["missing_settings"] = missing
            _print_json(shown)
        else:
            print(f"rejected: {exc}", file=sys.stderr)
            if exc.reason == "missing_setting":
                hint = " ".join(f"--setting {name}=VALUE" for name in missing)
                print(f"connector: give {hint}", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.json:
        _print_json(result.to_dict())
    else:
        if signed_and_confirmed:
            print(
                f"signature verified; {connector.id} events are confirmed by running "
                f"{webhooks.confirm_flow!r} (Client.handle_event)",  # type: ignore[union-attr]
                file=sys.stderr,
            )
        for event in result.events:
            _show_result(event.to_dict(), False)
    return EXIT_OK


def _settings(connector: Connector, pairs: Sequence[str] | None) -> dict[str, str]:
    """--setting NAME=VALUE pairs: the connector's non-secret settings, by name."""
    names = sorted(c.name for c in connector.plan.credentials if not c.secret)
    settings: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or name not in names:
            known = ", ".join(names) or f"none: {connector.id} has no settings"
            raise SystemExit(f"connector: --setting must be NAME=VALUE, NAME one of {known}")
        settings[name] = value
    return settings


def cmd_call(args: argparse.Namespace) -> int:
    from ._client import Client

    request = _read_json(args.request, "request")
    credentials = _read_json(args.credentials, "credentials")
    with Client(
        args.connector,
        credentials,
        environment=args.env,
        base_url=args.base_url,
        allow_undeclared_host=args.allow_undeclared_host,
    ) as client:
        result = client.call(args.flow, request)
    _show_result(result.to_dict(), args.json)
    return EXIT_OK


def cmd_record(args: argparse.Namespace) -> int:
    from ._record import record, write_scenario

    connector = load_connector(args.connector)
    out = _record_path(args, connector.id)  # a bad --name is refused before anything is sent
    request = _read_json(args.request, "request")
    credentials = _read_json(args.credentials, "credentials")
    scenario = record(
        connector,
        args.flow,
        request,
        credentials,
        environment=args.env,
        base_url=args.base_url,
        allow_undeclared_host=args.allow_undeclared_host,
    )
    write_scenario(scenario, out)
    print(f"wrote {out} (status {scenario['expect']['status']})")
    return EXIT_OK


def _record_path(args: argparse.Namespace, connector: str) -> Path:
    """--out FILE.yaml as given; else NAME.yaml in --out DIR, by default in the connector's
    scenario folder under --root."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", args.name) or args.name.endswith(".yaml"):
        raise SystemExit("connector: --name is a file name without .yaml (letters, digits, _.-)")
    if args.out and args.out.endswith((".yaml", ".yml")):
        return Path(args.out)
    folder = (
        Path(args.out)
        if args.out
        else Path(args.root) / "tests" / "connectors" / connector / "scenarios"
    )
    return folder / f"{args.name}.yaml"


def cmd_new(args: argparse.Namespace) -> int:
    from ._scaffold import scaffold

    for path in scaffold(args.name, Path(args.root)):
        print(f"{'updated' if path.name == 'README.md' else 'created'} {path}")
    print(
        f"next: edit specs/connectors/{args.name}.yaml and its scenarios, then follow "
        "README.md, 'Writing a connector' (docs/authoring.md has the whole path)"
    )
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from ._docs import write_docs
    from ._manifest import write_manifest
    from ._spec_cache import write_spec_data
    from ._validator_cache import write_validators

    stale = (
        write_docs(Path(args.out), check=args.check)
        + write_manifest(check=args.check)
        + write_spec_data(check=args.check)
        + write_validators(check=args.check)
    )
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path}")
    return EXIT_PROBLEMS if (args.check and stale) else EXIT_OK


def cmd_route(args: argparse.Namespace) -> int:
    from .routing import load_rules, plan

    rules = load_rules(args.rules)
    request = _read_json(args.request, "request")
    if not isinstance(request, Mapping):
        raise SystemExit("connector route: the request must be a JSON object")
    route = plan(rules, args.flow, request)
    if args.json:
        _print_json(
            {
                "rule": route.rule,
                "candidates": [
                    {"profile": c.profile, "connector": c.connector, "why": c.why}
                    for c in route.candidates
                ],
                "skipped": [{"profile": s.profile, "why": s.why} for s in route.skipped],
                "failover": sorted(route.choice.failover),
            }
        )
    else:
        print("\n".join(route.explain()))
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .service._config import load_config
        from .service._serve import serve
    except ImportError as exc:  # the service extra is not installed
        raise SystemExit(
            f"connector serve: {exc.name} is missing; install connector-service[service]"
        ) from None
    config = load_config(args.config)
    if args.allow_base_url:
        from dataclasses import replace

        config = replace(config, allow_base_url=True)
    if not config.api_keys:
        raise SystemExit(
            "connector serve: no API key configured: give api_keys in --config, or set "
            "CONNECTOR_SERVICE_API_KEYS (comma-separated)"
        )
    serve(config, host=args.host, port=args.port)
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector",
        description="Connector Service: lint processor specs, render and parse their requests, "
        "verify webhooks, and call processors through one unified payment API.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, **extra: Any) -> argparse.ArgumentParser:
        # The one-line summary is both the COMMAND list's entry and the command's --help.
        return sub.add_parser(name, help=summary, description=summary, **extra)

    p = command("lint", "check spec files; exit 1 when any problem is found")
    p.add_argument("paths", nargs="*", help="spec files or folders (default: every bundled spec)")
    p.set_defaults(func=cmd_lint)

    p = command("list", "the bundled processors and their flows")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = command("matrix", "the feature matrix generated from the specs")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_matrix)

    def connector_flow_request(p: argparse.ArgumentParser) -> None:
        p.add_argument("connector", help=CONNECTOR_HELP)
        p.add_argument("flow", help="authorize, capture, void, refund, get, ...")
        p.add_argument("request", help="a JSON file holding the unified request")

    def base_url_options(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument(
            "--base-url",
            help=f"{what}; its host must be one the spec declares, unless "
            "--allow-undeclared-host (plain http:// only to 127.0.0.1, ::1 or localhost)",
        )
        p.add_argument(
            "--allow-undeclared-host",
            action="store_true",
            help="let --base-url name a host the spec does not declare: the credentials go there",
        )

    def target(p: argparse.ArgumentParser, plain: str) -> None:
        p.add_argument(
            "target",
            nargs="+",
            metavar="ARG",
            help=f"{plain}; or a scenario file (tests/connectors/<id>/scenarios/NAME.yaml: "
            "its flow, request and recorded answers), optionally after CONNECTOR",
        )

    p = command(
        "render",
        "print every HTTP request a flow sends (token, steps, its own), secrets redacted, and "
        "the idempotency key each sends; no network",
        usage="connector render (CONNECTOR FLOW REQUEST.json | [CONNECTOR] SCENARIO.yaml) "
        "[--answer STEP=FILE]... [options]",
    )
    target(p, "CONNECTOR FLOW REQUEST.json")
    p.add_argument(
        "--answer",
        action="append",
        metavar="STEP=FILE",
        help="the answer the step named STEP (in the spec's `steps`) got: a file holding the "
        "response body (HTTP 200), from which the requests after it are built (default: the "
        "scenario's recorded answers)",
    )
    p.add_argument("--credentials", help="JSON file of credentials (default: placeholders)")
    p.add_argument("--env", default="sandbox", help="environment (default: sandbox)")
    base_url_options(p, "use this base URL instead of the environment's")
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"flow", "idempotency_key", "requests": [{"step", "method", "url", '
        '"headers", "body", "idempotency_key"}], "waiting_for", "stopped", "failed_transport"}',
    )
    p.set_defaults(func=cmd_render)

    p = command(
        "parse",
        "the unified result for a processor response, or for a scenario's recorded answers; "
        "no network",
        usage="connector parse (CONNECTOR FLOW REQUEST.json RESPONSE_FILE --status N | "
        "[CONNECTOR] SCENARIO.yaml) [options]",
    )
    target(p, "CONNECTOR FLOW REQUEST.json RESPONSE_FILE (the processor's response body)")
    p.add_argument("--status", type=int, help="the response's HTTP status (with RESPONSE_FILE)")
    p.add_argument("--header", action="append", metavar="'K: V'", help="a response header")
    p.add_argument(
        "--credentials",
        help="JSON file of the credentials: an echo of them in the response is hidden, and a "
        "scenario's steps are built with them (default: the scenario folder's credentials.json, "
        "else placeholders)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_parse)

    p = command("event", "verify and parse a webhook; exit 1 when it does not verify")
    p.add_argument("connector", help=CONNECTOR_HELP)
    p.add_argument("--body", required=True, help="a file holding the raw webhook body")
    p.add_argument("--header", action="append", metavar="'K: V'", help="a webhook header")
    p.add_argument("--secret", help="the webhook signing secret")
    p.add_argument("--secret-env", help="read the secret from this environment variable")
    p.add_argument(
        "--credentials",
        help="JSON file of credentials: the settings a signature covers (e.g. a notification URL)",
    )
    p.add_argument(
        "--setting",
        action="append",
        metavar="NAME=VALUE",
        help="a non-secret setting the signature covers (e.g. a notification URL or a public "
        "key the spec declares); repeat for several",
    )
    p.add_argument("--json", action="store_true", help="print the events as JSON")
    p.set_defaults(func=cmd_event)

    p = command("call", "send a flow to the processor and print the unified result")
    connector_flow_request(p)
    p.add_argument("--credentials", required=True, help="JSON file of credentials")
    p.add_argument("--env", default="sandbox", help="environment (default: sandbox)")
    base_url_options(p, "send to this base URL (e.g. a local test server)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_call)

    p = command("record", "call a sandbox and write a scenario fixture, scrubbed of card data")
    connector_flow_request(p)
    p.add_argument("--credentials", required=True, help="JSON file of sandbox credentials")
    p.add_argument("--env", default="sandbox", help="environment (default: sandbox)")
    base_url_options(p, "send to this base URL instead (e.g. a local server)")
    p.add_argument(
        "--name",
        default="recorded",
        help="the scenario's file name, without .yaml (default: recorded)",
    )
    p.add_argument("--root", default=".", help="the repository root (default: .)")
    p.add_argument(
        "--out",
        help="a .yaml file to write, or a folder to write NAME.yaml in (default: "
        "ROOT/tests/connectors/<id>/scenarios/)",
    )
    p.set_defaults(func=cmd_record)

    p = command(
        "new",
        "scaffold, in a project root, a spec and a passing scenario for each flow it declares",
    )
    p.add_argument("name", help="the new connector's id: lower case, digits, underscores")
    p.add_argument("--root", default=".", help="the project root (default: .)")
    p.set_defaults(func=cmd_new)

    p = command(
        "docs",
        "regenerate the generated files: docs/ (spec reference, matrix, outcomes), "
        "specs/linted.json (fingerprints of the bundled specs lint passed), and ahead of time "
        "specs/loaded/ (the bundled specs as loaded) and schemas/validators/ (the request "
        "validators)",
    )
    p.add_argument("--out", default="docs", help="the docs folder (default: docs)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if any is stale")
    p.set_defaults(func=cmd_docs)

    p = command(
        "route",
        "print the ordered candidates a routing rules file gives a request, and why each was "
        "chosen or skipped (docs/routing.md); no network",
    )
    p.add_argument("rules", help="a routing rules file (YAML or JSON)")
    p.add_argument("request", help="a JSON file holding the unified request")
    p.add_argument("--flow", default="authorize", help="the flow (default: authorize)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_route)

    p = command(
        "serve",
        "run the stateless HTTP service: POST /v1/{connector}/{flow}, webhooks, /openapi.json, "
        "/docs, /metrics (see docs/service.md)",
        epilog="Environment: CONNECTOR_SERVICE_CONFIG (the config file), "
        "CONNECTOR_SERVICE_API_KEYS (comma-separated bearer keys), "
        "CONNECTOR_SERVICE_PROFILES_DIR (a folder of profile files), "
        "CONNECTOR_SERVICE_REDIS_URL (the shared token cache). SIGTERM drains: calls in flight "
        "finish, or are answered unresolved after shutdown_grace.",
    )
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="the port (8080)")
    p.add_argument("--config", help="a YAML or JSON config (schemas/service-config.schema.json)")
    p.add_argument(
        "--allow-base-url",
        action="store_true",
        help="test mode: honour X-Connector-Base-Url (send to a local fake processor)",
    )
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()  # inside the guard: a reader gone at exit is a broken pipe too
    except BrokenPipeError:
        # The reader stopped reading (`connector matrix --json | head -1`): that is its choice,
        # not a failure. Later writes, and the interpreter's final flush, go nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK
    return code


def _run(args: argparse.Namespace) -> int:
    try:
        try:
            code: int = args.func(args)
        except (BrokenPipeError, ConnectorServiceError, FileNotFoundError):
            raise
        except Exception as exc:  # a foreign exception: its class only, never its text
            raise sanitised(exc, f"connector {args.command}") from None
    except SpecError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_PROBLEMS
    except (ConnectorServiceError, FileNotFoundError) as exc:
        if isinstance(exc, ConnectorServiceError):
            sanitised(exc, "connector")  # no chain, card look-alikes masked
        print(f"connector: {type(exc).__name__}: {Scrubber().text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    return code
