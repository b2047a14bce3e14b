"""Merchant credentials → checked values for templates, with secrets that never print.

What holds a credential hides it from every generic view: `repr`/`str`/format, `pickle` (refused),
`copy`/`deepcopy` (the same object: `dataclasses.asdict` copies leaves) and so a traceback's frame
locals. Revealed values live only inside the auth scheme's templates and short helper frames."""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ._errors import CredentialsError, kind_of
from ._plan import ConnectorPlan
from ._regex import MAX_CREDENTIAL_CHARS, compile_pattern
from ._scrub import Scrubber


class Secret:
    """A secret string: `repr`, `str` and f-strings show `***`; `.reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __copy__(self) -> Secret:
        return self  # immutable: a copy may be the same object

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("a Secret cannot be pickled")


class Credentials(Mapping[str, object]):
    """A merchant's credentials for one connector. Secret values are wrapped in Secret;
    the mapping prints without them."""

    __slots__ = ("_resolved", "_values")

    def __init__(self, values: Mapping[str, object] | None = None, /, **more: object) -> None:
        wrong = shape_problem(values)
        if wrong is not None:
            raise CredentialsError(wrong)
        merged = {**(values or {}), **more}
        wrong = shape_problem(merged)
        if wrong is not None:
            raise CredentialsError(wrong)
        self._values = {
            k: v if isinstance(v, Secret) or v is None else str(v) for k, v in merged.items()
        }
        # The last resolution (plan, check_patterns, result): a Client resolves once, not per call.
        self._resolved: tuple[ConnectorPlan, bool, ResolvedCredentials] | None = None

    @classmethod
    def for_plan(cls, plan: ConnectorPlan, given: Mapping[str, object] | None) -> Credentials:
        """`given` with every value the spec declares secret wrapped in Secret."""
        wrong = shape_problem(given, plan.id)
        if wrong is not None:
            raise CredentialsError(wrong)
        secret = {c.name for c in plan.credentials if c.secret}
        return cls(
            {
                name: Secret(str(value))
                if name in secret and value is not None and not isinstance(value, Secret)
                else value
                for name, value in (given or {}).items()
            }
        )

    def __getitem__(self, key: str) -> object:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(sorted(map(str, self._values)))}; values hidden)"

    def __copy__(self) -> Credentials:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, object]) -> Credentials:
        return self

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("Credentials cannot be pickled")


def shape_problem(given: object, connector: str | None = None) -> str | None:
    """What is wrong with the shape of a credentials mapping, without any value: it must map
    string names to strings (a Secret, or None for "not given"). A non-string key is named by
    its position, a value of another type (bytes, a number, a list) by its name and type:
    `str(b"sk_…")` would otherwise send "b'sk_…'" as the key."""
    where = f"{connector}: " if connector else ""
    if given is None:
        return None
    if not isinstance(given, Mapping):
        return f"{where}credentials must be a mapping of names to strings, not {kind_of(given)}"
    for position, (name, value) in enumerate(given.items(), 1):
        if not isinstance(name, str):
            return f"{where}credential key #{position} is {kind_of(name)}, not a string"
        if value is not None and not isinstance(value, str | Secret):
            return f"{where}credential {name!r} must be a string, not {kind_of(value)}"
    return None


class _Hidden(dict[str, str]):
    """Revealed credential values for the auth templates: a dict that prints without them (a
    template context holding it may sit in a traceback's frame locals)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{{{', '.join(sorted(self))}: values hidden}}"

    __str__ = __repr__

    def __copy__(self) -> _Hidden:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> _Hidden:
        return self

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("credential values cannot be pickled")


class _HiddenTuple(tuple[str, ...]):
    """Revealed secret values for the scrubber: a tuple that prints without them."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"({len(self)} secret values hidden)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("credential values cannot be pickled")


#: How many scrubbers a ResolvedCredentials keeps.
_MAX_SCRUBBERS = 8


class _ScrubberMemo(dict[tuple[str, ...], Scrubber]):
    """A ResolvedCredentials' scrubbers, keyed by the values they add: a dict that prints,
    copies and pickles as the other holders of revealed values do (it shows none)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"({len(self)} scrubbers; values hidden)"

    __str__ = __repr__

    def __copy__(self) -> _ScrubberMemo:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> _ScrubberMemo:
        return self

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("credential values cannot be pickled")


@dataclass(frozen=True, slots=True)
class ResolvedCredentials:
    """Plain values for the auth templates, the non-secret settings every other template sees,
    and the secret values every transcript is scrubbed of. Each prints without its values."""

    values: Mapping[str, str]
    secrets: tuple[str, ...]
    settings: Mapping[str, str]
    #: Scrubbers of these secrets plus what the auth scheme derived from them (a few, by what
    #: was derived): held here, so only the holder of these credentials (one Client) reuses
    #: them, and each request's scrubber extends one instead of starting again.
    _scrubbers: _ScrubberMemo = field(
        default_factory=_ScrubberMemo, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _Hidden(self.values))
        object.__setattr__(self, "secrets", _HiddenTuple(self.secrets))

    def scrubber(self, secrets: tuple[str, ...] = (), derived: tuple[str, ...] = ()) -> Scrubber:
        """A scrubber of these secrets, `secrets` and `derived` (see Scrubber)."""
        key = (*secrets, "\x00", *derived)
        found = self._scrubbers.get(key)
        if found is None:
            base = self._scrubbers.get(())
            if base is None:
                base = self._scrubbers[()] = Scrubber(self.secrets)
            found = base.adding(secrets, derived)
            if len(self._scrubbers) >= _MAX_SCRUBBERS:  # signatures differ every request
                self._scrubbers.clear()
                self._scrubbers[()] = base
            self._scrubbers[key] = found
        return found

    def __repr__(self) -> str:
        return f"ResolvedCredentials({', '.join(sorted(self.values))}; values hidden)"

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("credential values cannot be pickled")


#: What a secret may hold: it goes into HTTP headers (an auth scheme), so printable ASCII only.
_SECRET_TEXT = re.compile(r"[\x20-\x7e]*")
#: A `multiline` secret (a PEM key for a signing filter) may hold line breaks too; a header
#: that would carry one is still refused when the request is built.
_MULTILINE_TEXT = re.compile(r"[\x20-\x7e\r\n]*")


def resolve_credentials(
    plan: ConnectorPlan, given: Mapping[str, object] | None, *, check_patterns: bool = True
) -> ResolvedCredentials:
    """The checked values, or CredentialsError naming the field (never its value). A Credentials
    object remembers its resolution, so a Client resolves once."""
    if isinstance(given, Credentials) and given._resolved is not None:
        memo_plan, memo_check, memo = given._resolved
        if memo_plan is plan and memo_check == check_patterns:
            return memo
    wrong = shape_problem(given, plan.id)
    resolved = wrong if wrong is not None else _resolve(plan, given or {}, check_patterns)
    # Raised here, not inside _resolve: a traceback's frame locals then hold no revealed value.
    if isinstance(resolved, str):
        raise CredentialsError(resolved)
    if isinstance(given, Credentials):
        given._resolved = (plan, check_patterns, resolved)
    return resolved


def _resolve(
    plan: ConnectorPlan, given: Mapping[str, object], check_patterns: bool
) -> ResolvedCredentials | str:
    """The resolved credentials, or what is wrong with them (a message without any value)."""
    declared = {c.name: c for c in plan.credentials}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        return (
            f"{plan.id}: unknown credential(s) {', '.join(unknown)}; "
            f"expected: {', '.join(declared) or 'none'}"
        )
    values: dict[str, str] = {}
    secrets: list[str] = []
    for name, credential in declared.items():
        raw = given.get(name)
        value = raw.reveal() if isinstance(raw, Secret) else (None if raw is None else str(raw))
        if value is None or value == "":
            value = credential.default
        if value is None:
            if credential.required:
                return f"{plan.id}: credential {name!r} is required"
            continue
        allowed = _MULTILINE_TEXT if credential.multiline else _SECRET_TEXT
        if credential.secret and not allowed.fullmatch(value):
            return (
                f"{plan.id}: credential {name!r} holds a non-ASCII or control character "
                "(a secret may hold printable ASCII only"
                + (", and line breaks)" if credential.multiline else ")")
            )
        if not credential.secret and any(unicodedata.category(c) == "Cc" for c in value):
            return f"{plan.id}: credential {name!r} holds a control character"
        if len(value) > MAX_CREDENTIAL_CHARS:
            return (
                f"{plan.id}: credential {name!r} is longer than {MAX_CREDENTIAL_CHARS} characters"
            )
        if (
            check_patterns
            and credential.pattern is not None
            and not compile_pattern(credential.pattern)(value)
        ):
            return f"{plan.id}: credential {name!r} does not have the expected form"
        values[name] = value
        if credential.secret:
            secrets.append(value)
    settings = {name: value for name, value in values.items() if not declared[name].secret}
    return ResolvedCredentials(values, tuple(secrets), settings)
