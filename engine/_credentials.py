"""Merchant credentials → checked values for templates, with secrets that never print."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ._errors import CredentialsError
from ._plan import ConnectorPlan


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

    def __reduce__(self) -> tuple[type, tuple[str]]:
        raise TypeError("a Secret cannot be pickled")


class Credentials(Mapping[str, object]):
    """A merchant's credentials for one connector. Secret values are wrapped in Secret;
    the mapping prints without them."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object] | None = None, /, **more: object) -> None:
        merged = {**(values or {}), **more}
        self._values = {k: v if isinstance(v, Secret) else str(v) for k, v in merged.items()}

    def __getitem__(self, key: str) -> object:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(sorted(self._values))}; values hidden)"


@dataclass(frozen=True, slots=True)
class ResolvedCredentials:
    """Plain values for the auth templates, the non-secret settings every other template sees,
    and the secret values every transcript is scrubbed of."""

    values: Mapping[str, str]
    secrets: tuple[str, ...]
    settings: Mapping[str, str]

    def __repr__(self) -> str:
        return f"ResolvedCredentials({', '.join(sorted(self.values))}; values hidden)"


def resolve_credentials(
    plan: ConnectorPlan, given: Mapping[str, object] | None, *, check_patterns: bool = True
) -> ResolvedCredentials:
    given = given or {}
    declared = {c.name: c for c in plan.credentials}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise CredentialsError(
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
                raise CredentialsError(f"{plan.id}: credential {name!r} is required")
            continue
        if (
            check_patterns
            and credential.pattern is not None
            and not re.fullmatch(credential.pattern, value)
        ):
            raise CredentialsError(
                f"{plan.id}: credential {name!r} does not have the expected form"
            )
        values[name] = value
        if credential.secret:
            secrets.append(value)
    settings = {name: value for name, value in values.items() if not declared[name].secret}
    return ResolvedCredentials(values, tuple(secrets), settings)
