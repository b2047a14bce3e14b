"""A schema-valid loaded spec → a frozen ConnectorPlan, with every template and JMESPath
expression compiled once and every template variable checked against its context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from ._amounts import amount_formatter, amount_parser
from ._auth import AuthCompiler, compile_auth, split_pointer
from ._compile_webhooks import webhook_plan
from ._contexts import CONTEXTS, context_roots, step_message
from ._encoding import DECODERS, ENCODERS, encode_xml
from ._errors import Problem, RenderError, SpecError
from ._hosts import HostRule, host_rule
from ._load import LoadedSpec, escape_pointer_token
from ._paths import ANY, Shape, check_path, element_shape
from ._plan import (
    AuthPlan,
    Bindings,
    Capabilities,
    ConnectorPlan,
    CredentialPlan,
    ErrorPlan,
    Extract,
    FlowPlan,
    LazyFlows,
    LazyValue,
    Render,
    RequestPlan,
    ResponsePlan,
    Rule,
    StatusRule,
    StepPlan,
    WebhookPlan,
)
from ._regex import PatternError, compile_pattern
from ._renders import (
    ECHOED_BY_DEFAULT,
    ExtractionSyntaxError,
    _constant,
    _located,
    _omit_nulls_list,
    _omit_nulls_mapping,
    _skipped_when_absent,
    compile_jmespath,
    key_placements,
)
from ._request_reads import mentioned_request_paths, split_method_scope, top_level_reads
from ._templates import (
    ENVIRONMENT,
    PATH_ENVIRONMENT,
    CompiledTemplate,
    Prefixes,
    TemplateCompileError,
    VariablePath,
    compile_template,
    is_template,
)

Roots = Mapping[str, Shape]


#: The key that guards a whole mapping (spec v2): `$if: <condition>` omits the subtree when false.
GUARD = "$if"
#: The keys of a repeated subtree (spec v2): `$each: <list expression>`, `$as: <name>`, `$item`.
EACH, EACH_AS, EACH_ITEM = "$each", "$as", "$item"

#: Names a `let` may not take: every variable some template context has (engine._contexts),
#: the auth schemes' `access_token`, and `let` itself.
RESERVED_NAMES = frozenset(
    {
        v.name
        for name, context in CONTEXTS.items()
        # The auth section's own names (a nonce, the body text) bind only there: a signing
        # `let` is checked against its context's roots, which hold them.
        if not name.startswith(("auth", "signing"))
        for v in context.variables
    }
    | {"access_token", "let"}
)


class Compiler:
    """Compiles one spec, collecting every problem instead of stopping at the first."""

    def __init__(self, spec: LoadedSpec) -> None:
        self.spec = spec
        self.data: Mapping[str, Any] = spec.data
        self.problems: list[Problem] = []
        credentials = self.data.get("credentials", {})
        self.credential_names = list(credentials)
        self.setting_names = [n for n, c in credentials.items() if not c.get("secret")]
        self.secret_names = frozenset(n for n, c in credentials.items() if c.get("secret"))
        self.used_credentials: set[str] = set()
        self.current_flow: str | None = None
        self.step_names: tuple[str, ...] = ()

    # --- roots ---------------------------------------------------------------------------------

    def roots(
        self, context: str, flow: str | None = None, earlier: tuple[str, ...] | None = None
    ) -> dict[str, Shape]:
        """The variables of template context `context` (engine._contexts); `earlier`: the steps
        that run before the template (None: the flow has none)."""
        names = (self.credential_names, self.setting_names)
        return context_roots(context, flow, earlier, *names)

    # --- primitives ----------------------------------------------------------------------------

    def problem(self, pointer: str, message: str, *, key: bool = False) -> None:
        problem = self.spec.source.problem(pointer, message, key=key)
        if problem not in self.problems:  # a template reading one wrong name twice: once
            self.problems.append(problem)

    def template(
        self, source: str, pointer: str, roots: Roots, environment: Any = ENVIRONMENT
    ) -> CompiledTemplate | None:
        compiled = self._template_unlocated(source, pointer, roots, environment)
        if compiled is None:
            return None
        return replace(compiled, render=_located(compiled.render, pointer))

    def _template_unlocated(
        self, source: str, pointer: str, roots: Roots, environment: Any = ENVIRONMENT
    ) -> CompiledTemplate | None:
        try:
            compiled = compile_template(source, environment)
        except TemplateCompileError as exc:
            self.problem(pointer, str(exc))
            return None
        for path in compiled.paths:
            if (
                path.root == "credentials"
                and path.segments
                and path.segments[0] in self.secret_names
            ):
                self.used_credentials.add(str(path.segments[0]))
                continue  # reported once, by the secrets_only_in_auth lint rule, where misused
            if self._cut_away(path):
                continue
            message = check_path(path, roots)
            if message and path.root == "steps" and "steps" in roots and path.segments:
                earlier = tuple((roots["steps"].schema or {}).get("properties", {}))
                message = step_message(str(path.segments[0]), earlier, self.step_names)
            if message is not None:
                if pointer.startswith("/defaults") and self.current_flow:
                    message += f" (inherited by flow {self.current_flow!r})"
                self.problem(pointer, message)
            if path.root == "credentials" and path.segments:
                self.used_credentials.add(str(path.segments[0]))
        return compiled

    def _cut_away(self, path: VariablePath) -> bool:
        """Whether what `path` names (a credential, a flow's steps) was cut away by the schema
        check: it cannot be checked, and its absence is no problem of its own."""
        if path.root == "credentials":
            name = f"/{escape_pointer_token(path.segments[0])}" if path.segments else ""
            return not self.spec.complete(f"/credentials{name}")
        if path.root == "steps" and self.current_flow is not None:
            return not self.spec.complete(f"/flows/{self.current_flow}/steps")
        return False

    def value(self, raw: Any, pointer: str, roots: Roots) -> Render:
        """Mappings, lists, literals and templates → one Render (nulls omitted)."""
        if isinstance(raw, Mapping | list):
            return self._container(raw, pointer, roots)[0]
        if is_template(raw):
            compiled = self.template(raw, pointer, roots)
            return compiled.render if compiled else _constant(None)
        return _constant(raw)

    def _container(
        self, raw: Mapping[str, Any] | list[Any], pointer: str, roots: Roots
    ) -> tuple[Render, Prefixes]:
        """A mapping or list → its Render, and the paths whose absence makes it null. A mapping
        whose every member is null when one path is absent (a shipping address when the request
        has none) checks that path once instead of evaluating each member."""
        if isinstance(raw, list):
            items = tuple(
                (self._part(item, f"{pointer}/{i}", roots)[0], f"{pointer}/{i}")
                for i, item in enumerate(raw)
            )
            return _omit_nulls_list(items), frozenset()  # a list is never omitted
        if EACH in raw:
            return self._each(raw, pointer, roots), frozenset()
        if GUARD in raw:
            return self._guarded(raw, pointer, roots), frozenset()
        members = []
        shared: Prefixes | None = None
        for key, item in raw.items():
            child = f"{pointer}/{escape_pointer_token(key)}"
            render, absent = self._part(item, child, roots)
            members.append((str(key), render, child))
            shared = absent if shared is None else shared & absent
        mapping = _omit_nulls_mapping(tuple(members))
        if not shared:
            return mapping, frozenset()
        return _skipped_when_absent(mapping, min(shared, key=lambda p: (len(p), repr(p)))), shared

    def bindings(
        self, sources: list[tuple[Mapping[str, Any] | None, str]], roots: dict[str, Any]
    ) -> Bindings:
        """`let` names, each compiled against the roots and the names before it; every name is
        added to `roots` for the templates after. A later mapping overrides a name by position."""
        merged: dict[str, tuple[Any, str]] = {}
        for raw, base in sources:
            for name, value in (raw or {}).items():
                merged[name] = (value, f"{base}/{escape_pointer_token(name)}")
        compiled = []
        for name, (value, pointer) in merged.items():
            if name in roots or name in RESERVED_NAMES:
                self.problem(pointer, f"let name {name!r} shadows a template root", key=True)
                continue
            compiled.append((name, self.value(value, pointer, roots)))
            roots[name] = ANY
        return tuple(compiled)

    def _guarded(self, raw: Mapping[str, Any], pointer: str, roots: Roots) -> Render:
        """A mapping under `$if`: the whole subtree is omitted unless the condition holds."""
        at = f"{pointer}/{escape_pointer_token(GUARD)}"
        condition = self.template("{{ " + str(raw[GUARD]) + " }}", at, roots)
        members = {k: v for k, v in raw.items() if k != GUARD}
        mapping, _ = self._container(members, pointer, roots)
        test = condition.render if condition else _constant(False)

        def render(context: Mapping[str, Any]) -> Any:
            return mapping(context) if test(context) else None

        return render

    def auth_compiler(self) -> AuthCompiler:
        """What an auth scheme compiles its templates with: the auth contexts' roots, and the
        signing contexts', which the scheme's `let` names join."""
        auth_roots, token_roots = self.roots("auth"), self.roots("auth_with_token")
        signing_roots, header_roots = self.roots("signing"), self.roots("signing_headers")

        def signing_let(raw: Mapping[str, Any], pointer: str) -> Bindings:
            # Computed before the body exists: they read the fields' context, and may not
            # take the names only the headers have (`body`, `headers`) either.
            bindings = self.bindings([(raw, pointer)], signing_roots)
            for name, _ in bindings:
                header_roots[name] = ANY
            return bindings

        return AuthCompiler(
            value=lambda raw, ptr: self.value(raw, ptr, auth_roots),
            with_token=lambda raw, ptr: self.value(raw, ptr, token_roots),
            search=self.search,
            signing_let=signing_let,
            signing=lambda raw, ptr: self.value(raw, ptr, signing_roots),
            signing_headers=lambda raw, ptr: self.value(raw, ptr, header_roots),
            secret_names=self.secret_names,
        )

    def _each(self, raw: Mapping[str, Any], pointer: str, roots: Roots) -> Render:
        """`$each`: one `$item` per element of a list (the element named `$as`, default
        `each`); a null, absent or empty list, or one whose items are all null, is omitted."""
        for key in raw:
            if key not in (EACH, EACH_AS, EACH_ITEM):
                at = f"{pointer}/{escape_pointer_token(key)}"
                self.problem(at, f"a $each mapping takes only $each, $as and $item, not {key!r}")
        if EACH_ITEM not in raw:
            self.problem(pointer, "a $each mapping needs $item (the template of one element)")
            return _constant(None)
        at = f"{pointer}/{escape_pointer_token(EACH)}"
        source = self.template("{{ " + str(raw[EACH]) + " }}", at, roots)
        name = str(raw.get(EACH_AS, "each"))
        if name in roots or name in RESERVED_NAMES or not name.isidentifier():
            where = f"{pointer}/{escape_pointer_token(EACH_AS)}"
            self.problem(where, f"$as name {name!r} shadows a template root or is not a name")
        element = element_shape(str(raw[EACH]), roots)
        item_pointer = f"{pointer}/{escape_pointer_token(EACH_ITEM)}"
        item = self.value(raw[EACH_ITEM], item_pointer, {**roots, name: element})
        items = source.render if source else _constant(None)

        def render(context: Mapping[str, Any]) -> Any:
            elements = items(context)
            if elements is None:
                return None
            if not isinstance(elements, list | tuple):
                raise RenderError(at, f"$each needs a list, not {type(elements).__name__}")
            out = []
            for value in elements:
                rendered = item({**context, name: value})
                if rendered is not None:
                    out.append(rendered)
            return out or None

        return render

    def _part(self, raw: Any, pointer: str, roots: Roots) -> tuple[Render, Prefixes]:
        """A member of a mapping or list: the raw evaluator (its container locates errors)."""
        if isinstance(raw, Mapping | list):
            return self._container(raw, pointer, roots)
        if is_template(raw):
            compiled = self._template_unlocated(raw, pointer, roots)
            if compiled is None:
                return _constant(None), frozenset()
            return compiled.evaluate, compiled.absent_when
        return _constant(raw), frozenset()

    def extract(self, raw: str, pointer: str, roots: Roots) -> Extract:
        if is_template(raw):
            compiled = self.template(raw, pointer, roots)
            if compiled is None:
                return lambda document, context: None
            render = compiled.render
            return lambda document, context: render(context)
        try:
            search = compile_jmespath(raw)
        except ExtractionSyntaxError as exc:
            self.problem(pointer, f"invalid JMESPath expression: {str(exc).splitlines()[0]}")
            return lambda document, context: None
        return lambda document, context: search(document)

    def search(self, raw: str, pointer: str) -> Callable[[Any], Any]:
        """A plain JMESPath expression (no template): document → value."""
        try:
            return compile_jmespath(raw)
        except ExtractionSyntaxError as exc:
            self.problem(pointer, f"invalid JMESPath expression: {str(exc).splitlines()[0]}")
            return lambda document: None

    def rule(self, raw: Any, pointer: str, roots: Roots) -> Rule:
        """A status/event rule: a plain value, {if, then, else} with a Jinja condition, or (event
        rules) {from, map, else}: the rule the item's value names in `map`."""
        if isinstance(raw, str):
            return _constant(raw)
        if "from" in raw:
            return self._lookup_rule(raw, pointer, roots)
        condition = self.template("{{ " + raw["if"] + " }}", f"{pointer}/if", roots)
        then = self.rule(raw["then"], f"{pointer}/then", roots)
        otherwise = self.rule(raw["else"], f"{pointer}/else", roots)
        test = condition.render if condition else _constant(False)

        def choose(context: Mapping[str, Any]) -> str:
            return then(context) if test(context) else otherwise(context)

        return choose

    def _lookup_rule(self, raw: Mapping[str, Any], pointer: str, roots: Roots) -> Rule:
        """{from, map, else}: `from` read from the webhook item, its value looked up in `map`;
        a value not there (or none) takes `else`, by default `unknown`."""
        read = self.extract(raw["from"], f"{pointer}/from", roots)
        cases = {
            str(k): self.rule(v, f"{pointer}/map/{escape_pointer_token(k)}", roots)
            for k, v in raw["map"].items()
        }
        otherwise = self.rule(raw.get("else", "unknown"), f"{pointer}/else", roots)

        def look_up(context: Mapping[str, Any]) -> str:
            value = read(context.get("item"), context)
            scalar = value is not None and not isinstance(value, Mapping | list | bool)
            found = cases.get(str(value)) if scalar else None
            return found(context) if found is not None else otherwise(context)

        return look_up

    # --- sections ------------------------------------------------------------------------------

    def compile(self, *, lazy_flows: bool = False) -> ConnectorPlan | None:
        """The whole plan; with `lazy_flows`, each flow is compiled on first use instead (its
        problems then raise SpecError there, and unused credentials are not reported)."""
        data = self.data
        credentials = tuple(
            CredentialPlan(
                name,
                bool(c["secret"]),
                bool(c.get("required", True)),
                c.get("default"),
                c.get("pattern"),
                c["description"],
                bool(c.get("multiline", False)),
            )
            for name, c in data.get("credentials", {}).items()
        )
        for credential in credentials if not lazy_flows else ():  # linted: they compile
            if credential.pattern is not None:
                try:
                    compile_pattern(credential.pattern)
                except PatternError as exc:
                    self.problem(
                        f"/credentials/{credential.name}/pattern",
                        f"bad regex (patterns run in RE2, in linear time: no back-references "
                        f"or look-around): {exc}",
                    )
        env_roots = self.roots("environment")
        environments: dict[str, Render] = {}
        hosts: dict[str, HostRule] = {}
        for name, url in data.get("environments", {}).items():
            pointer = f"/environments/{name}"
            environments[name] = self.value(url, pointer, env_roots)
            hosts[name] = host_rule(url)
        named: dict[str, dict[str, Render]] = {}
        named_rules: dict[str, dict[str, HostRule]] = {}
        for host, urls in data.get("hosts", {}).items():
            named[host], named_rules[host] = {}, {}
            for name, url in urls.items():
                pointer = f"/hosts/{escape_pointer_token(host)}/{name}"
                named[host][name] = self.value(url, pointer, env_roots)
                named_rules[host][name] = host_rule(url)
        auth_of: Callable[[], AuthPlan] | None = None
        if "auth" in data and lazy_flows:  # compiled on first use, as the flows are
            auth_of = LazyValue(partial(_compile_auth, self.spec))
        elif "auth" in data:
            auth = compile_auth(data["auth"], self.auth_compiler())
            auth_of = lambda: auth  # noqa: E731
        flows: Mapping[str, FlowPlan]
        if lazy_flows:
            flows = LazyFlows(tuple(data.get("flows", {})), partial(_compile_flow, self.spec))
        else:
            flows = {name: self.flow(name, raw) for name, raw in data.get("flows", {}).items()}
        webhooks_of: Callable[[], WebhookPlan | None]
        if "webhooks" not in data:
            webhooks_of = _constant_none
        elif lazy_flows:  # compiled on first use, as the flows are
            webhooks_of = LazyValue(partial(_compile_webhooks, self.spec))
        else:
            webhooks = webhook_plan(self, data["webhooks"])
            webhooks_of = lambda: webhooks  # noqa: E731
        if not self.spec.cut:  # a use in a part cut away by the schema check is unknown
            for name in self.credential_names:
                if name not in self.used_credentials and not lazy_flows:
                    self.problem(
                        f"/credentials/{name}", f"credential {name!r} is never used", key=True
                    )
        if self.problems or self.spec.cut or auth_of is None:
            return None
        amounts = data["amounts"]
        overrides = amounts.get("exponents", {})
        caps = data["capabilities"]
        capabilities = Capabilities(
            payment_methods=frozenset(caps["payment_methods"]),
            capture_methods=frozenset(caps["capture_methods"]),
            currencies=None if caps["currencies"] == "any" else frozenset(caps["currencies"]),
            partial_capture=bool(caps.get("partial_capture", False)),
            partial_refund=bool(caps.get("partial_refund", False)),
            multiple_refunds=bool(caps.get("multiple_refunds", False)),
            three_ds=bool(caps.get("three_ds", False)),
            idempotency_key=bool(caps.get("idempotency_key", False)),
            evidence_files=bool(caps.get("evidence_files", False)),
            evidence_texts=bool(caps.get("evidence_texts", True)),
        )
        return ConnectorPlan(
            id=data["id"],
            name=data["name"],
            docs=data["docs"],
            file=self.spec.source.file,
            credentials=credentials,
            environments=environments,
            environment_hosts=hosts,
            auth_of=auth_of,
            hosts=named,
            named_host_rules=named_rules,
            format_amount=amount_formatter(amounts["format"], overrides),
            parse_amount=amount_parser(amounts["format"], overrides),
            capabilities=capabilities,
            flows=flows,
            webhooks_of=webhooks_of,
            raw=data,
        )

    def flow(self, name: str, raw: Mapping[str, Any]) -> FlowPlan:
        defaults = self.data.get("defaults", {})
        base = f"/flows/{name}"
        self.current_flow = name
        self.step_names = names = tuple(str(step["name"]) for step in raw.get("steps", ()))
        every_step = names if "steps" in raw else None
        roots = dict(self.roots("flow_request", name, every_step))
        response_roots = self.roots("flow_response", name, every_step)
        steps = []
        bindings = self.bindings(
            [(defaults.get("let"), "/defaults/let"), (raw.get("let"), f"{base}/let")], roots
        )
        lets = {let_name: ANY for let_name, _ in bindings}  # each step's requests see them
        # A step inherits the defaults' error reading (and nothing else of the response).
        step_defaults = {"error": defaults.get("response", {}).get("error", {})}
        for index, step in enumerate(raw.get("steps", ())):
            pointer = f"{base}/steps/{index}"
            condition = None
            if "if" in step:
                step_roots = {**self.roots("flow_request", name, names[:index]), **lets}
                compiled_if = self.template("{{ " + step["if"] + " }}", f"{pointer}/if", step_roots)
                condition = compiled_if.render if compiled_if else _constant(False)
            steps.append(
                StepPlan(
                    condition=condition,
                    name=step["name"],
                    request=replace(
                        self.request(
                            step["request"],
                            f"{pointer}/request",
                            {**self.roots("flow_request", name, names[:index]), **lets},
                        ),
                        bindings=bindings,
                    ),
                    response=self.response(
                        name,
                        step.get("response", {}),
                        step_defaults,
                        f"{pointer}/response",
                        self.roots("flow_response", name, names[:index]),
                    ),
                )
            )
        refusals = []
        for index, rule in enumerate(raw.get("refuse", ())):
            at = f"{base}/refuse/{index}"
            compiled_if = self.template("{{ " + rule["if"] + " }}", f"{at}/if", {**roots, **lets})
            parts = tuple(
                p.replace("~1", "/").replace("~0", "~") for p in rule["field"].split("/")[1:]
            )
            message = check_path(VariablePath("request", parts), roots)
            if message is not None:
                self.problem(f"{at}/field", message)
            if compiled_if is not None:
                refusals.append((compiled_if.render, rule["field"], rule["message"]))
        required = []
        for index, written in enumerate(raw.get("required_fields", [])):
            method, entry = split_method_scope(written)
            declared = self.data.get("capabilities", {}).get("payment_methods", [])
            if method is not None and not any(
                method == d or method.startswith(f"{d}.") or d.startswith(f"{method}.")
                for d in declared
            ):
                self.problem(
                    f"{base}/required_fields/{index}",
                    f"payment method {method!r} is not in capabilities.payment_methods",
                )
            alternatives = []
            for pointer in entry.split(" | "):
                parts = tuple(
                    p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]
                )
                message = check_path(VariablePath("request", parts), roots)
                if message is not None:
                    self.problem(f"{base}/required_fields/{index}", message)
                alternatives.append(parts)
            required.append((entry, tuple(alternatives), method))
        return FlowPlan(
            name=name,
            request=replace(
                self.request(raw["request"], f"{base}/request", roots), bindings=bindings
            ),
            required_fields=tuple(required),
            request_reads=mentioned_request_paths(
                [
                    raw,
                    defaults.get("let"),
                    defaults.get("body"),
                    defaults.get("headers"),
                    defaults.get("request"),
                ]
            ),
            steps=tuple(steps),
            refusals=tuple(refusals),
            response=self.response(
                name,
                raw["response"],
                defaults.get("response", {}),
                f"{base}/response",
                response_roots,
                request_reads=top_level_reads(raw["request"]),
            ),
        )

    def request(self, request: Mapping[str, Any], base: str, roots: Roots) -> RequestPlan:
        """One HTTP request: method, path, query, headers (defaults merged), body, encoding."""
        defaults = self.data.get("defaults", {})

        def merged_templates(key: str) -> Render | None:
            # Defaults the flow's own (cut away) entries may override are not checked for it.
            inherited = defaults.get(key, {}) if self.spec.complete(f"{base}/{key}") else {}
            origins = {k: f"/defaults/{key}/{escape_pointer_token(k)}" for k in inherited}
            values = dict(inherited)
            for k, v in request.get(key, {}).items():
                values[k] = v
                origins[k] = f"{base}/{key}/{escape_pointer_token(k)}"
            if not values:
                return None
            items = tuple(
                (k, self._part(v, origins[k], roots)[0], origins[k]) for k, v in values.items()
            )
            return _omit_nulls_mapping(items)

        path_template = self.template(request["path"], f"{base}/path", roots, PATH_ENVIRONMENT)
        encoding = request.get("encoding", defaults.get("encoding", "json"))
        raw_body = self._with_default_body(request, base)
        body = self.value(raw_body, f"{base}/body", roots) if raw_body is not None else None
        if body is not None and encoding == "none" and self.spec.complete(f"{base}/encoding"):
            self.problem(f"{base}/body", "a body is given but the encoding is 'none'")
        encoder = ENCODERS.get(encoding)
        encode = encoder[0] if encoder else None
        doctype = request.get("xml_doctype", defaults.get("xml_doctype"))
        if encoding == "xml" and doctype:
            encode = partial(encode_xml, doctype=doctype)
        has_body = body is not None or self._auth_in_body()
        if encoding == "multipart" and self._auth_in_body():
            self.problem(
                f"{base}/encoding",
                "a multipart body cannot carry the auth scheme's body fields: secrets never "
                "go in a part",
            )
        host = request.get("host")
        if host is not None and host not in self.data.get("hosts", {}):
            declared = ", ".join(self.data.get("hosts", {})) or "none"
            self.problem(f"{base}/host", f"host {host!r} is not declared in hosts ({declared})")
        sections = {
            "path": request["path"],
            "query": {**defaults.get("query", {}), **request.get("query", {})},
            "headers": {**defaults.get("headers", {}), **request.get("headers", {})},
            "body": raw_body,
        }
        return RequestPlan(
            method=request["method"],
            path=path_template.render if path_template else _constant("/"),
            query=merged_templates("query"),
            headers=merged_templates("headers"),
            body=body,
            encode=encode if has_body else None,
            content_type=encoder[1] if encoder and has_body else None,
            auth_pointer=split_pointer(request["auth_pointer"])
            if "auth_pointer" in request
            else None,
            key_placements=key_placements(sections),
            host=host,
        )

    def _with_default_body(self, request: Mapping[str, Any], base: str) -> Any:
        """The request's body with `defaults.body` merged in (the request's own keys win, a
        null removes one), for requests that write a mapping body; positions stay the
        defaults' lines."""
        body = request.get("body")
        extra = self.data.get("defaults", {}).get("body")
        if not extra or not isinstance(body, Mapping):
            return body
        source = self.spec.source
        for key in extra:
            if key not in body:
                token = escape_pointer_token(key)
                source.values.setdefault(
                    f"{base}/body/{token}", source.locate(f"/defaults/body/{token}")
                )
        return {**extra, **body}

    def _auth_in_body(self) -> bool:
        return bool(self.data.get("auth", {}).get("scheme") == "body")

    def response(
        self,
        flow: str,
        raw: Mapping[str, Any],
        defaults: Mapping[str, Any],
        base: str,
        roots: Roots,
        *,
        request_reads: frozenset[str] = frozenset(),
    ) -> ResponsePlan:
        def pick(key: str) -> tuple[Any, str]:
            if key in raw:
                return raw[key], f"{base}/{key}"
            return defaults.get(key), f"/defaults/response/{key}"

        roots = dict(roots)
        response_bindings = self.bindings(
            [(defaults.get("let"), "/defaults/response/let"), (raw.get("let"), f"{base}/let")],
            roots,
        )
        decode_name, _ = pick("decode")
        error_when, error_when_ptr = pick("error_when")
        status, status_ptr = pick("status")
        fields, fields_ptr = pick("fields")
        next_action, next_ptr = pick("next_action")
        error = self.error_plan(
            raw.get("error", {}), f"{base}/error", defaults.get("error", {}), roots
        )
        return ResponsePlan(
            decode=DECODERS[decode_name or "json"],
            error_when=self.extract(error_when, error_when_ptr, roots) if error_when else None,
            status_rules=self.status_rules(status, status_ptr, roots),
            fields=tuple(
                (name, self.extract(expr, f"{fields_ptr}/{name}", roots))
                for name, expr in (fields or {}).items()
            ),
            next_action=tuple(
                (name, self.extract(expr, f"{next_ptr}/{name}", roots))
                for name, expr in next_action.items()
            )
            if next_action
            else None,
            error=error,
            echo=self.echo(raw, fields or {}, fields_ptr, base, roots, request_reads),
            matches=self.extract(raw["matches"], f"{base}/matches", roots)
            if "matches" in raw
            else None,
            bindings=response_bindings,
        )

    def status_rules(self, raw: Any, pointer: str, roots: Roots) -> tuple[StatusRule, ...]:
        """`status` as ordered rules: a v1 mapping (`from` + `map`, or `value`) is one rule."""
        if not raw:
            return ()
        entries = (
            [(raw, pointer)]
            if isinstance(raw, Mapping)
            else [(entry, f"{pointer}/{index}") for index, entry in enumerate(raw)]
        )
        rules = []
        for entry, at in entries:
            if "from" in entry:
                rules.append(
                    StatusRule(
                        read=self.extract(entry["from"], f"{at}/from", roots),
                        table={
                            str(k): self.rule(v, f"{at}/map/{escape_pointer_token(k)}", roots)
                            for k, v in entry.get("map", {}).items()
                        },
                        unresolved=frozenset(str(code) for code in entry.get("unresolved", ())),
                    )
                )
                continue
            when = None
            if "else" in entry:  # a whole {if, then, else} rule: it always decides
                rules.append(StatusRule(value=self.rule(entry, at, roots)))
                continue
            if "if" in entry:
                condition = self.template("{{ " + entry["if"] + " }}", f"{at}/if", roots)
                when = condition.render if condition else _constant(False)
            key = "then" if "then" in entry else "value"
            rules.append(StatusRule(when=when, value=self.rule(entry[key], f"{at}/{key}", roots)))
        return tuple(rules)

    def echo(
        self,
        raw: Mapping[str, Any],
        fields: Mapping[str, str],
        fields_ptr: str,
        base: str,
        roots: Roots,
        request_reads: frozenset[str],
    ) -> tuple[tuple[str, Extract], ...]:
        """Each id the request names (its path, query or body reads
        `request.connector_transaction_id` / `connector_refund_id`) that the answer's `fields`
        also extract, then `response.echo` as written (an entry there replaces the default)."""
        checks = {
            name: (fields[name], f"{fields_ptr}/{name}")
            for name in ECHOED_BY_DEFAULT
            if name in request_reads and name in fields
        }
        for name, expr in raw.get("echo", {}).items():
            checks[name] = (expr, f"{base}/echo/{name}")
        return tuple(
            (name, self.extract(expr, pointer, roots)) for name, (expr, pointer) in checks.items()
        )

    def error_plan(
        self, raw: Mapping[str, Any], pointer: str, defaults: Mapping[str, Any], roots: Roots
    ) -> ErrorPlan:
        def get(key: str) -> Extract | None:
            if key in raw:
                return self.extract(raw[key], f"{pointer}/{key}", roots)
            if key in defaults:
                return self.extract(defaults[key], f"/defaults/response/error/{key}", roots)
            return None

        return ErrorPlan(
            code=get("code"),
            message=get("message"),
            decline_code=get("decline_code"),
            advice_code=get("advice_code"),
            code_map={**defaults.get("map", {}), **raw.get("map", {})},
            unresolved=frozenset(
                str(code) for code in raw.get("unresolved", defaults.get("unresolved", ()))
            ),
            default=raw.get("default", defaults.get("default")),
            by_http_status={
                int(status): code
                for source in (defaults.get("http_status", {}), raw.get("http_status", {}))
                for status, code in source.items()
            },
        )


def compile_spec(
    spec: LoadedSpec, *, lazy_flows: bool = False
) -> tuple[ConnectorPlan | None, list[Problem]]:
    compiler = Compiler(spec)
    plan = compiler.compile(lazy_flows=lazy_flows)
    return plan, compiler.problems


def _constant_none() -> None:
    return None


def _compile_auth(spec: LoadedSpec) -> AuthPlan:
    compiler = Compiler(spec)
    auth = compile_auth(spec.data["auth"], compiler.auth_compiler())
    if compiler.problems:
        raise SpecError(compiler.problems)
    return auth


def _compile_webhooks(spec: LoadedSpec) -> WebhookPlan:
    compiler = Compiler(spec)
    webhooks = webhook_plan(compiler, spec.data["webhooks"])
    if compiler.problems:
        raise SpecError(compiler.problems)
    return webhooks


def _compile_flow(spec: LoadedSpec, name: str) -> FlowPlan:
    compiler = Compiler(spec)
    flow = compiler.flow(name, spec.data["flows"][name])
    if compiler.problems:
        raise SpecError(compiler.problems)
    return flow
