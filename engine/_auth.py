"""Auth schemes: spec `auth` section → an AuthPlan that adds headers or body fields.

Each scheme is one small compile function in AUTH_SCHEMES; adding a scheme is adding an entry.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ._clock import clock_values, reads_clock
from ._plan import AuthPlan, Bindings, Render, TokenPlan, bind
from ._signing import decode_key, hmac_signature

#: compile.value(raw, pointer) → Render, supplied by the compiler (it knows the context roots).
CompileValue = Callable[[Any, str], Render]
#: compile_search(JMESPath, pointer) → document → value, supplied by the compiler.
CompileSearch = Callable[[str, str], Callable[[Any], Any]]


@dataclass(frozen=True, slots=True)
class AuthCompiler:
    """What the compiler lends an auth scheme: templates over `credentials` (`value`), the
    same plus the `access_token` a token scheme obtained (`with_token`), and JMESPath."""

    value: CompileValue
    with_token: CompileValue
    search: CompileSearch
    #: Scheme `signed`: its `let` names (added to the two signing contexts), its body fields,
    #: its headers (which also see the body text), and the credentials that are secrets.
    signing_let: Callable[[Mapping[str, Any], str], Bindings]
    signing: CompileValue
    signing_headers: CompileValue
    secret_names: frozenset[str]


def _none(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    return AuthPlan("none", None, None, (), frozenset())


def _header(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    headers = compile.value(auth["headers"], "/auth/headers")
    names = frozenset(name.lower() for name in auth["headers"])
    return AuthPlan("header", headers, None, (), names)


def _bearer(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    token = compile.value(auth["token"], "/auth/token")

    def headers(context: Mapping[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(context)}"}

    return AuthPlan("bearer", headers, None, (), frozenset({"authorization"}))


def _basic(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    username = compile.value(auth["username"], "/auth/username")
    password = compile.value(auth["password"], "/auth/password")

    def headers(context: Mapping[str, Any]) -> dict[str, str]:
        pair = f"{username(context) or ''}:{password(context) or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    return AuthPlan("basic", headers, None, (), frozenset({"authorization"}))


def _bearer_token(context: Mapping[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {context['access_token']}"}


def _oauth2(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    """The token preset RFC 6749 §4.4 describes: POST token_path with HTTP Basic client id and
    secret and a form `grant_type=client_credentials` (+ `scope`); `access_token` and
    `expires_in` read from the answer; sent as a bearer token."""
    client_id = compile.value(auth["client_id"], "/auth/client_id")
    client_secret = compile.value(auth["client_secret"], "/auth/client_secret")
    scope = compile.value(auth["scope"], "/auth/scope") if "scope" in auth else None

    def headers(context: Mapping[str, Any]) -> dict[str, str]:
        return {
            "Authorization": _basic_pair(client_id(context), client_secret(context)),
            "Accept": "application/json",
        }

    def body(context: Mapping[str, Any]) -> dict[str, str]:
        form = {"grant_type": "client_credentials"}
        wanted = scope(context) if scope is not None else None
        if wanted:
            form["scope"] = str(wanted)
        return form

    token = TokenPlan(
        method="POST",
        path=str(auth["token_path"]),
        headers=headers,
        body=body,
        encoding="form",
        token=compile.search("access_token", "/auth"),
        expires_in=compile.search("expires_in", "/auth"),
        expires_at=None,
        sensitive_headers=frozenset({"authorization"}),
    )
    return AuthPlan(
        "oauth2_client_credentials",
        _bearer_token,
        None,
        (),
        frozenset({"authorization"}),
        token=token,
    )


def _basic_pair(user: Any, password: Any) -> str:
    # Its own frame: the revealed secret is gone once the header value exists.
    pair = f"{user or ''}:{password or ''}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _token(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    """Any login request whose JSON answer holds a token (and its lifetime or expiry)."""
    login, answer = auth["login"], auth["answer"]
    base = "/auth/login"
    expires_at = answer.get("expires_at")
    token = TokenPlan(
        method=str(login.get("method", "POST")),
        path=str(login["path"]),
        headers=compile.value(login.get("headers", {}), f"{base}/headers"),
        body=compile.value(login["body"], f"{base}/body") if "body" in login else None,
        encoding=str(login.get("encoding", "json")) if "body" in login else None,
        token=compile.search(answer["token"], "/auth/answer/token"),
        expires_in=compile.search(answer["expires_in"], "/auth/answer/expires_in")
        if "expires_in" in answer
        else None,
        expires_at=(
            compile.search(expires_at["from"], "/auth/answer/expires_at/from"),
            str(expires_at["format"]),
        )
        if expires_at is not None
        else None,
        sensitive_headers=frozenset(name.lower() for name in login.get("headers", {})),
        sensitive_fields=frozenset(
            str(name)
            for name, raw in (login.get("body") or {}).items()
            if _secret_reader(compile.secret_names, {})(raw)
        ),
    )
    sent = auth.get("headers", {"Authorization": "Bearer {{ access_token }}"})
    headers = compile.with_token(sent, "/auth/headers")
    names = frozenset(name.lower() for name in sent)
    return AuthPlan("token", headers, None, (), names, token=token)


_HMAC_LABELS = {"sha256": "HmacSHA256", "sha512": "HmacSHA512"}


def _http_signature(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    """HTTP Signatures (draft-cavage-http-signatures) with a shared HMAC key."""
    key_id = compile.value(auth["key_id"], "/auth/key_id")
    secret = compile.value(auth["secret"], "/auth/secret")
    extra = compile.value(auth.get("headers", {}), "/auth/headers")
    algorithm, key_encoding = auth["algorithm"], auth["key_encoding"]

    def sign(
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        context: Mapping[str, Any],
        now: float,
    ) -> dict[str, str]:
        from email.utils import formatdate  # a slow import, needed by this scheme alone

        parts = urlsplit(url)
        added = {str(k): str(v) for k, v in (extra(context) or {}).items()}
        signed = {"host": parts.netloc, "date": formatdate(now, usegmt=True)}
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        signed["(request-target)"] = f"{method.lower()} {target}"
        if body:
            signed["digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        signed.update({name.lower(): value for name, value in added.items()})
        text = "\n".join(f"{name}: {value}" for name, value in signed.items())
        key = decode_key(str(secret(context)), key_encoding)
        signature = hmac_signature(algorithm, key, text.encode("utf-8"), "base64")
        out = {"Host": signed["host"], "Date": signed["date"], **added}
        if body:
            out["Digest"] = signed["digest"]
        out["Signature"] = (
            f'keyid="{key_id(context)}", algorithm="{_HMAC_LABELS[algorithm]}", '
            f'headers="{" ".join(signed)}", signature="{signature}"'
        )
        return out

    names = frozenset({"signature"})
    return AuthPlan("http_signature", None, None, (), names, sign=sign)


def _signed(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    """A signature over the exact request: `let` names computed once per request, body
    `fields` that see the body as built (`data`), and `headers` that see the body text sent."""
    bindings = compile.signing_let(auth.get("let", {}), "/auth/let")
    fields = compile.signing(auth["fields"], "/auth/fields") if "fields" in auth else None
    header_templates = auth.get("headers", {})
    headers = compile.signing_headers(header_templates, "/auth/headers")
    secret_reader = _secret_reader(compile.secret_names, auth.get("let", {}))
    sensitive = frozenset(
        name.lower() for name, raw in header_templates.items() if secret_reader(raw)
    )
    secret_fields = frozenset(
        name for name, raw in (auth.get("fields") or {}).items() if secret_reader(raw)
    )

    def prepare(context: dict[str, Any], method: str, url: str, now: float) -> None:
        parts = urlsplit(url)
        context.update(clock_values(now))
        context["method"] = method.upper()
        context["path"] = parts.path + (f"?{parts.query}" if parts.query else "")
        context["host"] = parts.netloc
        context["url"] = url
        context["data"] = None  # the body, once built (none for a request without one)
        context.pop(_BOUND, None)

    def bind_once(context: dict[str, Any]) -> None:
        # The `let` names see the body as built (`data`), so they are computed when the body
        # exists: before the fields, or before the headers of a request whose scheme has none.
        if _BOUND not in context:
            bind(bindings, context)
            context[_BOUND] = True

    def body_fields(context: Mapping[str, Any]) -> Any:
        assert isinstance(context, dict)
        bind_once(context)
        return fields(context) if fields is not None else None

    def sign(
        method: str,
        url: str,
        sent: Mapping[str, str],
        body: bytes | None,
        context: Mapping[str, Any],
        now: float,
    ) -> dict[str, str]:
        assert isinstance(context, dict)
        bind_once(context)
        text = body.decode("utf-8") if body else ""
        rendered = headers({**context, "body": text, "headers": dict(sent)}) or {}
        return {str(k): _header_text(v) for k, v in rendered.items()}

    return AuthPlan(
        "signed",
        None,
        body_fields if fields is not None else None,
        split_pointer(str(auth.get("pointer", ""))),
        sensitive,
        sign=sign,
        prepare=prepare,
        secret_fields=secret_fields,
    )


#: Marks an auth context whose signing `let` names are computed (once per request).
_BOUND = "\x00signed-let-bound"


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_SECRET_READ = r"credentials\s*(?:\.\s*|\[\s*['\"])"  # noqa: S105 (a pattern, not a password)


def _secret_reader(secrets: frozenset[str], lets: Mapping[str, Any]) -> Callable[[Any], bool]:
    """Whether a raw template reads a secret credential, directly or through `let` names that
    do (in order): what it renders is derived from a secret, so it is scrubbed and redacted."""
    words = [re.escape(name) for name in secrets]
    tainted: list[str] = []

    def reads(raw: Any) -> bool:
        text = repr(raw)
        if words and re.search(_SECRET_READ + "(?:" + "|".join(words) + r")\b", text):
            return True
        return any(re.search(rf"\b{re.escape(name)}\b", text) for name in tainted)

    for name, raw in lets.items():
        if reads(raw):
            tainted.append(str(name))
    return reads


def _body(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    fields = compile.value(auth["fields"], "/auth/fields")
    return AuthPlan("body", None, fields, split_pointer(str(auth.get("pointer", ""))), frozenset())


#: scheme name → (compile, documentation).
AUTH_SCHEMES: Mapping[str, tuple[Callable[[Mapping[str, Any], AuthCompiler], AuthPlan], str]] = {
    "none": (_none, "No authentication."),
    "header": (_header, "Headers from templates, e.g. `X-API-Key: '{{ credentials.api_key }}'`."),
    "bearer": (_bearer, "`Authorization: Bearer <token>`; `token` is a template."),
    "basic": (_basic, "HTTP Basic: `username` and `password` are templates."),
    "oauth2_client_credentials": (
        _oauth2,
        "OAuth2 client credentials, a preset of `token`: a token from `token_path` (Basic "
        "`client_id`:`client_secret`, form `grant_type=client_credentials`), `access_token` and "
        "`expires_in` read from the answer, cached until it expires, sent as a bearer token.",
    ),
    "token": (
        _token,
        "An access token from any `login` request (templates that may read secrets), read from "
        "its JSON `answer` by JMESPath with its lifetime (`expires_in`) or expiry "
        "(`expires_at`), cached per credentials until shortly before it expires, and sent in "
        "`headers` (templates reading `access_token`; default `Authorization: Bearer …`).",
    ),
    "http_signature": (
        _http_signature,
        "HTTP Signatures with HMAC (`algorithm`, `secret` decoded per `key_encoding`): signs "
        "`host`, `date`, `(request-target)`, `digest` (SHA-256 of the body) and the extra "
        "`headers`.",
    ),
    "body": (
        _body,
        "Credentials in the body: `fields` (templates) are placed first in the object at "
        "`pointer`.",
    ),
    "signed": (
        _signed,
        "A signature computed from the exact request sent: `let` names computed once per "
        "request, body `fields` placed first at `pointer` (they see the body as built, "
        "`data`), and `headers` (they also see the exact body text, `body`). Templates read "
        "every credential, the request's `method`, `path`, `host` and `url`, and the "
        "per-request `timestamp`, `timestamp_ms`, `iso_time`, `http_date`, `nonce` and `uuid`; "
        "the `hmac`, `digest`, `rsa_sign` and `utc_time` filters do the cryptography. A header "
        "or field that reads a secret is redacted from echoes and scrubbed from transcripts.",
    ),
}


def compile_auth(auth: Mapping[str, Any], compile: AuthCompiler) -> AuthPlan:
    plan = AUTH_SCHEMES[auth["scheme"]][0](auth, compile)
    if plan.prepare is None and reads_clock(auth):
        # Any other scheme whose templates read a per-request value (a nonce in a header).
        return replace(plan, prepare=_clock_only)
    return plan


def _clock_only(context: dict[str, Any], method: str, url: str, now: float) -> None:
    context.update(clock_values(now))


def split_pointer(pointer: str) -> tuple[str, ...]:
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/") if p)


def apply_body_auth(
    plan: AuthPlan,
    context: Mapping[str, Any],
    body: Any,
    pointer: tuple[str, ...] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Any:
    """Place the auth fields (rendered here unless given) first in the body object at
    `pointer` (a request's own `auth_pointer`), else at the scheme's."""
    if plan.body_fields is None:
        return body
    if fields is None:
        fields = plan.body_fields(context) or {}
    root: dict[str, Any] = dict(body) if isinstance(body, Mapping) else {}
    where = plan.body_pointer if pointer is None else pointer
    if not where:
        return {**fields, **{k: v for k, v in root.items() if k not in fields}}
    node = root
    for part in where[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, Mapping) else {}
        node = node[part]
    last = where[-1]
    existing = node.get(last)
    rest = existing if isinstance(existing, Mapping) else {}
    # The auth fields come first and win: a body key cannot replace a credential.
    node[last] = {**fields, **{k: v for k, v in rest.items() if k not in fields}}
    return root
