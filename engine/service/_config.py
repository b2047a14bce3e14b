"""The service's configuration: a YAML or JSON file (positions in every error), the
environment, and files mounted from a secret store. Every secret is held as a Secret from the
moment it is read; API keys are kept only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._credentials import Secret
from .._errors import Problem, SpecError
from .._load import LoadedSpec, load_spec_file, load_spec_text
from .._resources import load_schema
from .._sending import Limits
from .._spec import bundled_spec_paths

SCHEMA = "service-config.schema.json"

#: Environment variables the service reads (documented in docs/service.md and `serve --help`).
ENV_CONFIG = "CONNECTOR_SERVICE_CONFIG"
ENV_API_KEYS = "CONNECTOR_SERVICE_API_KEYS"
ENV_PROFILES_DIR = "CONNECTOR_SERVICE_PROFILES_DIR"
ENV_REDIS_URL = "CONNECTOR_SERVICE_REDIS_URL"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A caller's key, by digest. `profiles` None: every profile."""

    id: str
    digest: bytes = field(repr=False)
    profiles: frozenset[str] | None = None
    credentials: bool = True

    def may_use(self, profile: str) -> bool:
        return self.profiles is None or profile in self.profiles


@dataclass(frozen=True, slots=True)
class Profile:
    """A named processor account. Its credentials and webhook secret are Secrets."""

    name: str
    connector: str
    environment: str = "sandbox"
    credentials: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    webhook_secret: Secret | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    api_keys: tuple[ApiKey, ...] = ()
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    cache_backend: str = "memory"  # the token cache: "memory" or "redis"
    redis_url: str | None = field(default=None, repr=False)
    limits: Limits = field(default_factory=Limits)
    max_body_bytes: int = 1024 * 1024
    concurrency_per_connector: int = 256
    max_connections: int = 512
    shutdown_grace: float = 20.0
    allow_base_url: bool = False
    log_level: str = "info"
    routing: str | None = None  # a routing rules file

    def authenticate(self, presented: str) -> ApiKey | None:
        """The key whose digest matches, compared in constant time against every key (the time
        taken says nothing about which key, or how much of one, matched)."""
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        found = None
        for key in self.api_keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found


def bundled_ids() -> frozenset[str]:
    return frozenset(path.stem for path in bundled_spec_paths())


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _validate(loaded: LoadedSpec) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema(SCHEMA))
    problems = []
    for error in validator.iter_errors(loaded.data):
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        problems.append(loaded.source.problem(pointer, _without_value(error)))
    if problems:
        raise SpecError(problems)


def _without_value(error: Any) -> str:
    """jsonschema's message quotes the value it refused; a config's values may be secrets."""
    if error.validator == "oneOf":
        return "is not one of the allowed forms"
    if error.validator in ("required", "additionalProperties"):
        return str(error.message)  # names keys, never values
    return f"fails `{error.validator}: {json.dumps(error.validator_value)}`"


def _read_secret_file(path: str, where: str, source: LoadedSpec | None) -> Secret:
    try:
        return Secret(Path(path).read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise _problem(source, where, f"cannot read {path}: {exc.strerror}") from None


def _problem(source: LoadedSpec | None, pointer: str, message: str) -> SpecError:
    if source is None:
        return SpecError([Problem("<environment>", 1, 1, pointer, message)])
    return SpecError([source.source.problem(pointer, message)])


def _profile(
    name: str, data: Mapping[str, Any], pointer: str, source: LoadedSpec | None
) -> Profile:
    credentials: dict[str, Secret] = {}
    if "credentials_file" in data:
        file_value = _read_secret_file(data["credentials_file"], pointer, source).reveal()
        try:
            parsed = json.loads(file_value)
        except json.JSONDecodeError:
            parsed = None
        del file_value
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise _problem(
                source, f"{pointer}/credentials_file", "must hold a JSON object of strings"
            )
        credentials.update({k: Secret(v) for k, v in parsed.items()})
    credentials.update({k: Secret(v) for k, v in data.get("credentials", {}).items()})
    webhook = data.get("webhook_secret")
    secret = Secret(webhook) if webhook is not None else None
    if "webhook_secret_file" in data:
        secret = _read_secret_file(data["webhook_secret_file"], pointer, source)
    connector = data["connector"]
    if connector not in bundled_ids():
        raise _problem(source, f"{pointer}/connector", f"no bundled connector {connector!r}")
    return Profile(
        name=name,
        connector=data["connector"],
        environment=data.get("environment", "sandbox"),
        credentials=credentials,
        webhook_secret=secret,
    )


def _profiles_from_dir(folder: Path) -> dict[str, Profile]:
    found: dict[str, Profile] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".json", ".yaml", ".yml") or path.name.startswith("."):
            continue
        loaded = load_spec_file(path)
        wrapper = LoadedSpec({"profiles": {path.stem: loaded.data}}, loaded.source)
        _validate(wrapper)
        found[path.stem] = _profile(path.stem, loaded.data, "", loaded)
    return found


def load_config(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> ServiceConfig:
    """The configuration from `path` (or $CONNECTOR_SERVICE_CONFIG) and the environment.
    SpecError, located at file:line:col, when it is invalid."""
    env = os.environ if environ is None else environ
    path = path or env.get(ENV_CONFIG) or None
    loaded = load_spec_file(path) if path else load_spec_text("{}\n", "<defaults>")
    _validate(loaded)
    data: Mapping[str, Any] = loaded.data
    keys: list[ApiKey] = []
    for index, entry in enumerate(data.get("api_keys", [])):
        where = f"/api_keys/{index}"
        if "key_sha256" in entry:
            digest = bytes.fromhex(entry["key_sha256"])
        elif "key_file" in entry:
            digest = _digest(_read_secret_file(entry["key_file"], where, loaded).reveal())
        else:
            digest = _digest(entry["key"])
        limited = entry.get("profiles")
        keys.append(
            ApiKey(
                id=entry["id"],
                digest=digest,
                profiles=frozenset(limited) if limited is not None else None,
                credentials=entry.get("credentials", limited is None),
            )
        )
    for index, raw in enumerate(k.strip() for k in env.get(ENV_API_KEYS, "").split(",")):
        if raw:
            keys.append(ApiKey(id=f"env-{index}", digest=_digest(raw)))
    profiles = {
        name: _profile(name, entry, f"/profiles/{name}", loaded)
        for name, entry in data.get("profiles", {}).items()
    }
    folder = data.get("profiles_dir") or env.get(ENV_PROFILES_DIR)
    if folder:
        if not Path(folder).is_dir():
            raise _problem(loaded, "/profiles_dir", f"{folder} is not a folder")
        profiles.update(_profiles_from_dir(Path(folder)))
    for index, key in enumerate(keys):
        unknown = sorted((key.profiles or frozenset()) - profiles.keys())
        if unknown:
            raise _problem(
                loaded, f"/api_keys/{index}/profiles", f"no such profile: {', '.join(unknown)}"
            )
    cache = data.get("token_cache", {"type": "memory"})
    redis_url = cache.get("url") or env.get(ENV_REDIS_URL)
    cache_type = cache["type"] if "token_cache" in data else ("redis" if redis_url else "memory")
    limits = Limits(**data.get("limits", {}))
    return ServiceConfig(
        api_keys=tuple(keys),
        profiles=profiles,
        cache_backend=cache_type,
        redis_url=redis_url if cache_type == "redis" else None,
        limits=limits,
        max_body_bytes=data.get("max_body_bytes", 1024 * 1024),
        concurrency_per_connector=data.get("concurrency_per_connector", 256),
        max_connections=data.get("max_connections", 512),
        shutdown_grace=float(data.get("shutdown_grace", 20.0)),
        allow_base_url=data.get("allow_base_url", False),
        log_level=data.get("log_level", "info"),
        routing=_routing(loaded, data.get("routing"), profiles),
    )


def _routing(loaded: LoadedSpec, path: str | None, profiles: Mapping[str, Profile]) -> str | None:
    """The rules file, checked now: linted, and each of its profiles one of this config's, of
    the same connector."""
    if path is None:
        return None
    from ..routing import load_rules

    rules = load_rules(path)
    for name, routed in rules.profiles.items():
        mine = profiles.get(name)
        if mine is None or mine.connector != routed.connector:
            raise _problem(
                loaded,
                "/routing",
                f"routing profile {name!r} ({routed.connector}) is not a profile of this config",
            )
    return path
