"""The template contexts, declared once: which variables each kind of template (and each template
extraction) may read. The compiler derives every template's lint roots from this table, so a
template reading a name its context does not have (a webhook field reading `response`) is a lint
error at its file:line:col; the spec reference lists the table (engine._docs)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ._clock import CLOCK_VALUES
from ._paths import ANY, Shape, closed_object
from ._requests import request_schema


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable of a context; `holds` (a key of HOLDS) says how its paths are checked."""

    name: str
    holds: str
    description: str
    steps_only: bool = False  # present only in a flow that has `steps`


@dataclass(frozen=True, slots=True)
class Context:
    where: str
    variables: tuple[Variable, ...]


_REQUEST = Variable("request", "request", "the unified request of the flow")
_SETTINGS = Variable("credentials", "settings", "the non-secret credentials")
_STEPS = Variable(
    "steps", "steps", "each earlier step's decoded answer, by step name", steps_only=True
)
_HEADERS = Variable("headers", "any", "the response's headers, names in lower case")
_ITEM = Variable("item", "any", "one event of the delivery (the decoded body, or one of `items`)")
_ALL_CREDENTIALS = Variable("credentials", "credentials", "every credential, secret or not")
_CLOCK = tuple(Variable(name, "any", text) for name, text in CLOCK_VALUES.items())
_SIGNED = (
    _ALL_CREDENTIALS,
    Variable("request", "any", "the unified request of the flow"),
    Variable("method", "any", "the HTTP method, upper case"),
    Variable("path", "any", "the URL path with `?query` as sent"),
    Variable("host", "any", "the URL's host (and port, when not the default)"),
    Variable("url", "any", "the whole URL"),
    *_CLOCK,
)

#: Every template context: name → where its templates are written and what they can read.
CONTEXTS: dict[str, Context] = {
    "environment": Context("`environments.*`, `hosts.*`", (_SETTINGS,)),
    "auth": Context("`auth` (and its token request)", (_ALL_CREDENTIALS, *_CLOCK)),
    "auth_with_token": Context(
        "`auth` templates sent with a token (the token scheme's headers)",
        (
            _ALL_CREDENTIALS,
            Variable("access_token", "any", "the token the token request returned"),
            *_CLOCK,
        ),
    ),
    "signing": Context(
        "`auth.let` and `auth.fields` of scheme `signed`",
        (
            *_SIGNED,
            Variable("data", "any", "the request body as built, before the auth fields"),
        ),
    ),
    "signing_headers": Context(
        "`auth.headers` of scheme `signed`",
        (
            *_SIGNED,
            Variable("data", "any", "the request body as built, auth fields included"),
            Variable("body", "any", "the exact body text sent (empty when there is none)"),
            Variable("headers", "any", "the request's headers so far, by name as written"),
        ),
    ),
    "flow_request": Context(
        "`flows.<flow>.request`, `steps[].request`, `defaults` headers/query, `required_fields`",
        (
            _REQUEST,
            Variable("amount", "any", "the request's amount written in `amounts.format`"),
            Variable("minor_amount", "any", "the amount in the processor's minor units"),
            Variable(
                "exponent",
                "any",
                "the processor's exponent for the request's currency (also without an amount)",
            ),
            Variable(
                "total_amount",
                "any",
                "incremental_authorize: the authorization's new total (`authorized_amount` + "
                "`amount`) written in `amounts.format`, for processors that take the total",
            ),
            _SETTINGS,
            _STEPS,
        ),
    ),
    "flow_response": Context(
        "`flows.<flow>.response`, `steps[].response`, `defaults.response`",
        (
            _REQUEST,
            Variable("response", "any", "the decoded response body"),
            _HEADERS,
            Variable("http_status", "any", "the response's HTTP status code"),
            _STEPS,
        ),
    ),
    "webhook_item": Context(
        "`webhooks.items`, `webhooks.event.*`, `webhooks.signature.from`",
        (_ITEM, Variable("headers", "any", "the delivery's headers, names in lower case")),
    ),
    "signed_message": Context(
        "`webhooks.signature.message`",
        (
            Variable("body", "any", "the delivery's body, as text"),
            _ITEM,
            Variable("headers", "any", "the delivery's headers, names in lower case"),
            Variable("timestamp", "any", "the timestamp read from the signature header"),
            _SETTINGS,
            Variable(
                "secret",
                "any",
                "the caller's webhook secret as given: a `scheme: digest` message must read it, "
                "an HMAC's may, where the processor signs text holding the key itself; the "
                "message is never shown",
            ),
        ),
    ),
    "signature_key": Context("`webhooks.signature.parse.signature_key`", (_SETTINGS,)),
    "acknowledgement": Context(
        "`webhooks.acknowledge.let` and `webhooks.acknowledge.body`",
        (
            Variable("item", "any", "the decoded delivery (the whole body, however many events)"),
            Variable("headers", "any", "the delivery's headers, names in lower case"),
            Variable(
                "events",
                "any",
                "the delivery's verified unified events, as `parse_event` returns them",
            ),
            Variable(
                "credentials",
                "credentials",
                "every credential, secret or not (a signing key): the answer is scrubbed of "
                "every secret, and a render error shows none",
            ),
            *_CLOCK,
        ),
    ),
}

#: How a variable's paths are checked, by its `holds` kind (the compiler has a shape per kind).
HOLDS: dict[str, str] = {
    "request": "field by field against the flow's unified request schema "
    "(`schemas/unified/<flow>.request.json`)",
    "settings": "by credential name; a secret one may only be read by `auth` "
    "(the `secrets_only_in_auth` rule)",
    "credentials": "by credential name, secret or not",
    "steps": "by step name: a step that does not exist or runs later is an error",
    "any": "by name only (what is below comes from the processor or the delivery)",
}


def context_roots(
    context: str,
    flow: str | None,
    earlier: tuple[str, ...] | None,
    credentials: list[str],
    settings: list[str],
) -> dict[str, Shape]:
    """The lint roots of `context`: each variable's shape, by what it holds. `earlier`: the
    steps before the template (None: the flow has no steps, so no `steps` variable)."""
    shapes: dict[str, Shape] = {}
    for variable in CONTEXTS[context].variables:
        if variable.steps_only and earlier is None:
            continue
        if variable.holds == "request":
            shape = Shape(request_schema(flow), request_schema(flow)["$id"]) if flow else ANY
        elif variable.holds in ("settings", "credentials"):
            shape = closed_object(settings if variable.holds == "settings" else credentials)
        elif variable.holds == "steps":
            shape = closed_object(list(earlier or ()), open_members=True)
        else:
            shape = ANY
        shapes[variable.name] = shape
    return shapes


def step_message(name: str, earlier: tuple[str, ...], steps: tuple[str, ...]) -> str:
    """What is wrong with a template reading `steps.<name>`, given the steps before it."""
    if name in steps:
        return (
            f"step {name!r} has not answered yet here (a template sees only the answers of the "
            f"steps before it: {', '.join(earlier) or 'none'})"
        )
    close = difflib.get_close_matches(name, steps, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"there is no step {name!r}{hint} (steps: {', '.join(steps) or 'none'})"
