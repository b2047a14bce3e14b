"""The `connector` command: lint, list, matrix, render, parse, event, call, new, docs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._boundary import sanitised
from ._connector import Connector, bundled_connectors, load_connector
from ._errors import ConnectorServiceError, SpecError, WebhookError
from ._http import HttpResponse
from ._scrub import Scrubber
from ._spec import bundled_spec_paths, lint_file

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

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


def cmd_lint(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or bundled_spec_paths()
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    found = [problem for file in files for problem in lint_file(file, warnings=True)]
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


def cmd_render(args: argparse.Namespace) -> int:
    connector = load_connector(args.connector)
    request = _read_json(args.request, "request")
    if args.credentials:
        credentials = _read_json(args.credentials, "credentials")
    else:
        credentials = _placeholder_credentials(connector)
    from ._build import build_request

    built = build_request(
        connector.plan,
        args.flow,
        request,
        credentials,
        environment=args.env,
        base_url=args.base_url,
        allow_undeclared_host=args.allow_undeclared_host,
        check_credential_patterns=bool(args.credentials),
        # Token specs: the token is never printed, so a placeholder shows the request exactly.
        access_token="<access_token>" if connector.plan.auth.token else None,
    )
    shown = built.redacted()
    if args.json:
        _print_json(shown)
    else:
        print(f"{shown['method']} {shown['url']}")
        for name, value in shown["headers"].items():
            print(f"{name}: {value}")
        if shown["body"] is not None:
            print()
            print(shown["body"])
    return EXIT_OK


def _show_result(result: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(result)
        return
    for key, value in result.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            print(f"{key}:")
            for inner, item in value.items():
                if item is not None:
                    print(f"  {inner}: {item}")
        else:
            print(f"{key}: {value}")


def cmd_parse(args: argparse.Namespace) -> int:
    connector = load_connector(args.connector)
    request = _read_json(args.request, "request")
    try:
        body = Path(args.response).read_bytes()
    except OSError as exc:
        raise SystemExit(f"connector: cannot read response {args.response}: {exc}") from None
    response = HttpResponse(args.status, _headers(args.header), body)
    result = connector.parse_response(args.flow, request, response)
    _show_result(result.to_dict(), args.json)
    return EXIT_OK


def cmd_event(args: argparse.Namespace) -> int:
    connector = load_connector(args.connector)
    secret = args.secret if args.secret is not None else os.environ.get(args.secret_env or "", "")
    if not secret:
        raise SystemExit("connector: give --secret or --secret-env NAME")
    try:
        body = Path(args.body).read_bytes()
    except OSError as exc:
        raise SystemExit(f"connector: cannot read body {args.body}: {exc}") from None
    try:
        result = connector.parse_event(body, _headers(args.header), secret)
    except WebhookError as exc:
        if args.json:
            _print_json({"verified": False, "reason": exc.reason, "message": str(exc)})
        else:
            print(f"rejected: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.json:
        _print_json(result.to_dict())
    else:
        for event in result.events:
            _show_result(event.to_dict(), False)
    return EXIT_OK


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
    out = (
        Path(args.out)
        if args.out
        else (
            Path(args.root)
            / "tests"
            / "connectors"
            / connector.id
            / "scenarios"
            / f"{args.name}.yaml"
        )
    )
    write_scenario(scenario, out)
    print(f"wrote {out} (status {scenario['expect']['status']})")
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    from ._scaffold import scaffold

    for path in scaffold(args.name, Path(args.root)):
        print(f"created {path}")
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from ._docs import write_docs
    from ._manifest import write_manifest

    stale = write_docs(Path(args.out), check=args.check) + write_manifest(check=args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path}")
    return EXIT_PROBLEMS if (args.check and stale) else EXIT_OK


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connector",
        description="Connector Service: lint processor specs, render and parse their requests, "
        "verify webhooks, and call processors through one unified payment API.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("lint", help="check spec files; exit 1 when any problem is found")
    p.add_argument("paths", nargs="*", help="spec files or folders (default: every bundled spec)")
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("list", help="the bundled processors and their flows")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("matrix", help="the feature matrix generated from the specs")
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

    p = sub.add_parser("render", help="print the exact HTTP request, secrets redacted; no network")
    connector_flow_request(p)
    p.add_argument("--credentials", help="JSON file of credentials (default: placeholders)")
    p.add_argument("--env", default="sandbox", help="environment (default: sandbox)")
    base_url_options(p, "use this base URL instead of the environment's")
    p.add_argument("--json", action="store_true", help='print {"method", "url", "headers", "body"}')
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("parse", help="the unified result for a processor response; no network")
    connector_flow_request(p)
    p.add_argument("response", help="a file holding the processor's response body")
    p.add_argument("--status", type=int, required=True, help="the response's HTTP status")
    p.add_argument("--header", action="append", metavar="'K: V'", help="a response header")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("event", help="verify and parse a webhook; exit 1 when it does not verify")
    p.add_argument("connector", help=CONNECTOR_HELP)
    p.add_argument("--body", required=True, help="a file holding the raw webhook body")
    p.add_argument("--header", action="append", metavar="'K: V'", help="a webhook header")
    p.add_argument("--secret", help="the webhook signing secret")
    p.add_argument("--secret-env", help="read the secret from this environment variable")
    p.add_argument("--json", action="store_true", help="print the events as JSON")
    p.set_defaults(func=cmd_event)

    p = sub.add_parser("call", help="send a flow to the processor and print the unified result")
    connector_flow_request(p)
    p.add_argument("--credentials", required=True, help="JSON file of credentials")
    p.add_argument("--env", default="sandbox", help="environment (default: sandbox)")
    base_url_options(p, "send to this base URL (e.g. a local test server)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_call)

    p = sub.add_parser(
        "record", help="call a sandbox and write a scenario fixture, scrubbed of card data"
    )
    connector_flow_request(p)
    p.add_argument("--credentials", required=True, help="JSON file of sandbox credentials")
    p.add_argument("--env", default="sandbox", help="environment (default: sandbox)")
    base_url_options(p, "send to this base URL instead (e.g. a local server)")
    p.add_argument("--name", default="recorded", help="the scenario's file name (no .yaml)")
    p.add_argument("--root", default=".", help="the repository root (default: .)")
    p.add_argument("--out", help="write here instead of tests/connectors/<id>/scenarios/")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("new", help="scaffold a spec and its test folder (they lint clean)")
    p.add_argument("name", help="the new connector's id: lower case, digits, underscores")
    p.add_argument("--root", default=".", help="the repository root (default: .)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser(
        "docs",
        help="regenerate the generated files: docs/ (spec reference, matrix, outcomes) and "
        "specs/linted.json (fingerprints of the bundled specs lint passed)",
    )
    p.add_argument("--out", default="docs", help="the docs folder (default: docs)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if any is stale")
    p.set_defaults(func=cmd_docs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        try:
            code: int = args.func(args)
        except (ConnectorServiceError, FileNotFoundError):
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
