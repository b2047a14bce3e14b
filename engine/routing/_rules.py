"""Routing rules: a YAML file (schemas/routing.schema.json) → RoutingRules, or every problem at
FILE:LINE:COL. Beyond the schema, the linter refuses a plan that can never work: a profile no
rule names is fine, but a rule naming an unknown profile, a connector that is not bundled, or a
candidate whose spec cannot take what the rule's conditions require (a currency, a payment
method, a capture method, recurring) is an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._errors import Problem, SpecError
from .._load import LoadedSpec, load_spec_file, load_spec_text
from .._resources import load_schema
from ._health import HealthPolicy

SCHEMA = "routing.schema.json"


@dataclass(frozen=True, slots=True)
class Cost:
    percent: float = 0.0
    fixed: int = 0

    def fee(self, amount: int) -> float:
        return amount * self.percent / 100 + self.fixed


@dataclass(frozen=True, slots=True)
class RoutedProfile:
    name: str
    connector: str
    costs: Mapping[str, Cost] = field(default_factory=dict)

    def cost(self, currency: str | None) -> Cost | None:
        return self.costs.get(currency or "") or self.costs.get("default")


@dataclass(frozen=True, slots=True)
class Choice:
    candidates: tuple[str, ...] = ()
    split: Mapping[str, int] | None = None
    order: str = "as_listed"
    failover: frozenset[str] = frozenset()
    max_attempts: int | None = None

    @property
    def profiles(self) -> tuple[str, ...]:
        return tuple(self.split) if self.split is not None else self.candidates


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: Mapping[str, Any]
    choice: Choice


@dataclass(frozen=True, slots=True)
class RoutingRules:
    profiles: Mapping[str, RoutedProfile]
    rules: tuple[Rule, ...]
    default: Choice
    health: HealthPolicy
    file: str = "<rules>"


def _choice(data: Mapping[str, Any]) -> Choice:
    return Choice(
        candidates=tuple(data.get("candidates", ())),
        split=dict(data["split"]) if "split" in data else None,
        order=data.get("order", "as_listed"),
        failover=frozenset(data.get("failover", ())),
        max_attempts=data.get("max_attempts"),
    )


def _schema_problems(loaded: LoadedSpec) -> list[Problem]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema(SCHEMA))
    problems = []
    for error in validator.iter_errors(loaded.data):
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        message = (
            error.message
            if error.validator != "oneOf"
            else ("give exactly one of `candidates` and `split`")
        )
        problems.append(loaded.source.problem(pointer, message))
    return problems


def _capability_problems(loaded: LoadedSpec) -> list[Problem]:
    from .._connector import load_connector
    from .._spec import bundled_spec_paths

    data = loaded.data
    source = loaded.source
    bundled = {p.stem for p in bundled_spec_paths()}
    problems: list[Problem] = []
    profiles: dict[str, str] = {}
    for name, profile in data["profiles"].items():
        if profile["connector"] not in bundled:
            problems.append(
                source.problem(
                    f"/profiles/{name}/connector", f"no bundled connector {profile['connector']!r}"
                )
            )
        else:
            profiles[name] = profile["connector"]
    choices = [(f"/rules/{i}", r) for i, r in enumerate(data.get("rules", []))]
    choices.append(("/default", data["default"]))
    for pointer, choice in choices:
        names = list(choice.get("candidates", ())) or list(choice.get("split", {}))
        where = "candidates" if "candidates" in choice else "split"
        when = choice.get("when", {})
        for index, name in enumerate(names):
            at = f"{pointer}/{where}/{index if where == 'candidates' else name}"
            if name not in data["profiles"]:
                problems.append(source.problem(at, f"no profile {name!r} in `profiles`"))
                continue
            if name not in profiles:
                continue
            caps = load_connector(profiles[name]).capabilities
            flows = load_connector(profiles[name]).flows
            for reason in _cannot(caps, flows, when):
                problems.append(
                    source.problem(
                        at, f"profile {name!r} ({profiles[name]}) can never take this: {reason}"
                    )
                )
    return problems


def _cannot(caps: Any, flows: tuple[str, ...], when: Mapping[str, Any]) -> list[str]:
    reasons = []
    currencies = when.get("currency")
    if currencies and caps.currencies is not None:
        missing = sorted(set(currencies) - set(caps.currencies))
        if len(missing) == len(set(currencies)):
            reasons.append(f"its spec takes none of the currencies {', '.join(missing)}")
    methods = when.get("payment_method")
    if methods and not set(methods) & set(caps.payment_methods):
        reasons.append(f"its spec takes none of the payment methods {', '.join(methods)}")
    if (when.get("card_brand") or when.get("bin")) and "card" not in caps.payment_methods:
        reasons.append("the rule matches cards, which its spec does not take")
    capture = when.get("capture_method")
    if capture and capture not in caps.capture_methods:
        reasons.append(f"its spec has no {capture} capture")
    if when.get("recurring") and "charge_recurring" not in flows:
        reasons.append("its spec declares no charge_recurring flow")
    return reasons


def _build(loaded: LoadedSpec) -> RoutingRules:
    data = loaded.data
    profiles = {
        name: RoutedProfile(
            name,
            entry["connector"],
            {
                currency: Cost(float(c.get("percent", 0)), int(c.get("fixed", 0)))
                for currency, c in entry.get("cost", {}).items()
            },
        )
        for name, entry in data["profiles"].items()
    }
    rules = tuple(
        Rule(entry["name"], dict(entry["when"]), _choice(entry)) for entry in data.get("rules", [])
    )
    return RoutingRules(
        profiles,
        rules,
        _choice(data["default"]),
        HealthPolicy(**data.get("health", {})),
        loaded.source.file,
    )


def lint_rules(loaded: LoadedSpec) -> list[Problem]:
    problems = _schema_problems(loaded)
    if problems:
        return problems
    return _capability_problems(loaded)


def load_rules(source: str | Path | Mapping[str, Any]) -> RoutingRules:
    """Rules from a YAML/JSON file (or already-loaded data); SpecError with every problem."""
    if isinstance(source, Mapping):
        import json

        loaded = load_spec_text(json.dumps(source, indent=1), "<rules>")
    else:
        loaded = load_spec_file(source)
    problems = lint_rules(loaded)
    if problems:
        raise SpecError(problems)
    return _build(loaded)
