"""The public-call boundary: what leaves a public call is an engine exception, and one that
carries no secret or card number.

Every public entry point (Client/AsyncClient methods, Connector build/parse methods, the CLI) is
wrapped by `public`. On the way out it

- clears `__context__` and `__cause__` of an engine exception (`raise … from None` only sets
  `__suppress_context__`: the suppressed exception, often a library's, still holds the rejected
  value — a jsonschema error keeps the card number it refused);
- scrubs the exception's args, string attributes and notes: of card-number look-alikes always,
  and of the secret values the call was given (credentials, card number and CVC);
- turns any foreign exception (a bug, a library surprise) into a ConnectorServiceError whose
  message names only the exception's class, never its text (which may quote a value).

Outcomes after sending are never exceptions: the Client returns a Result for them already, so
this boundary only ever sees what was raised before anything was sent.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from ._errors import ConnectorServiceError
from ._scrub import Scrubber

F = TypeVar("F", bound=Callable[..., Any])

#: (args, kwargs) of the wrapped call → the secret values it was given.
Secrets = Callable[[tuple[Any, ...], Mapping[str, Any]], Iterable[str]]


def _no_secrets(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Iterable[str]:
    return ()


def sanitised(exc: BaseException, where: str, scrubber: Scrubber | None = None) -> BaseException:
    """`exc` as it may leave a public call: an engine exception with no chain and scrubbed
    text. BaseExceptions that are not Exceptions (KeyboardInterrupt, CancelledError) pass."""
    if not isinstance(exc, Exception):
        return exc
    scrub = scrubber or Scrubber()
    if not isinstance(exc, ConnectorServiceError):
        exc = ConnectorServiceError(f"{where}: unexpected {type(exc).__name__} inside the engine")
    exc.__cause__ = None
    exc.__context__ = None
    exc.__suppress_context__ = True
    exc.args = tuple(scrub.text(a) if isinstance(a, str) else a for a in exc.args)
    for name, value in list(vars(exc).items()):
        if isinstance(value, str):
            setattr(exc, name, scrub.text(value))
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list):
        exc.__notes__ = [scrub.text(n) if isinstance(n, str) else n for n in notes]
    return exc


def _scrubber(secrets: Secrets, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Scrubber:
    try:
        return Scrubber([s for s in secrets(args, kwargs) if s])
    except Exception:  # never let the boundary itself fail: card look-alikes are still masked
        return Scrubber()


def public(where: str, secrets: Secrets = _no_secrets) -> Callable[[F], F]:
    """Decorate a public function or method (sync or async) with the boundary."""

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    failure: BaseException = exc
                raise sanitised(failure, where, _scrubber(secrets, args, kwargs))

            return cast(F, run_async)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                failure: BaseException = exc
            raise sanitised(failure, where, _scrubber(secrets, args, kwargs))

        return cast(F, run)

    return decorate


def request_secrets(request: Any) -> list[str]:
    """The card data of a unified request: every field the unified schemas mark `x-card-data`
    (engine._card_data)."""
    if not isinstance(request, Mapping):
        return []
    from ._card_data import card_data_values  # the schemas: loaded on first use

    return card_data_values(request)


def credential_values(plan: Any, credentials: Any) -> list[str]:
    """The values of the credentials `plan` declares secret."""
    if not isinstance(credentials, Mapping):
        return []
    secret = {c.name for c in plan.credentials if c.secret}
    out = []
    for name, value in credentials.items():
        reveal = getattr(value, "reveal", None)
        text = reveal() if callable(reveal) else value
        if name in secret and isinstance(text, str):
            out.append(text)
    return out


def client_secrets(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    """A Client method's: its credentials' secrets and the request's card data."""
    this = args[0]
    found = credential_values(this.connector.plan, getattr(this, "_credentials", None))
    return found + request_secrets(arg(args, kwargs, 2, "request"))


def connector_secrets(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    """A Connector method's (flow, request, credentials, ...): secrets and card data."""
    this = args[0]
    credentials = arg(args, kwargs, 3, "credentials")
    return credential_values(this.plan, credentials) + request_secrets(
        arg(args, kwargs, 2, "request")
    )


def event_secrets(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    """Connector.parse_event's (body, headers, secret, ..., credentials=): the webhook secret,
    the key it decodes to, and the credentials' secrets."""
    from ._webhooks import webhook_secrets  # the boundary sits below the pipeline modules

    this = args[0]
    secret = arg(args, kwargs, 3, "secret")
    found = webhook_secrets(this.plan, secret) if isinstance(secret, str) else []
    return found + credential_values(this.plan, kwargs.get("credentials"))


def client_event_secrets(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[str]:
    """Client.handle_event's (body, headers, secret): the webhook secret and its key, and the
    Client's credentials' secrets."""
    from ._webhooks import webhook_secrets

    this = args[0]
    secret = arg(args, kwargs, 3, "secret")
    plan = this.connector.plan
    found = webhook_secrets(plan, secret) if isinstance(secret, str) else []
    return found + credential_values(plan, getattr(this, "_credentials", None))


def arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], index: int, name: str) -> Any:
    """The argument `name`, given by keyword or at position `index` (self counted)."""
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else None
