"""The Dockerfile and deploy/kubernetes/ agree with the service itself: the port, the probe
routes, the environment it reads, its config (validated by `load_config`), the drain's grace,
the HPA's target, and a pod assembled from the manifests as a kubelet would (Secrets and the
config map as mounted files) that loads and answers its probes. No docker, no cluster."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shlex
import shutil
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from hatchling.builders.wheel import WheelBuilder
from starlette.routing import Mount, Route

from engine import bundled_connectors
from engine._errors import SpecError
from engine.cli import build_parser
from engine.service import _config, _serve, create_app, load_config

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
NAME = "connector-service"
OPTIONAL = {"secret.example.yaml", "redis.yaml"}  # applied by hand, not by the kustomization
SERVICE_ENV = {value for name, value in vars(_config).items() if name.startswith("ENV_")}
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# --- reading the files --------------------------------------------------------------------------


def manifest_files() -> list[Path]:
    return sorted(MANIFESTS.glob("*.yaml"))


def documents(names: set[str] | None = None) -> list[dict[str, Any]]:
    """Every Kubernetes object in the manifests (of the files `names`, default all)."""
    found = []
    for path in manifest_files():
        if path.name == "kustomization.yaml" or (names is not None and path.name not in names):
            continue
        found += [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc]
    return found


def applied(*extra: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The objects a cluster holds after the kustomization, the example Secrets and `extra`."""
    resources = set(kustomization()["resources"]) | {"secret.example.yaml", *extra}
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents(resources)}


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text("utf-8"))
    return data


def deployment() -> dict[str, Any]:
    return applied()[("Deployment", NAME)]


def container() -> dict[str, Any]:
    (found,) = [
        c for c in deployment()["spec"]["template"]["spec"]["containers"] if c["name"] == NAME
    ]
    assert isinstance(found, dict)
    return found


def resolve_port(port: int | str, owner: Mapping[str, Any]) -> int:
    """A port by number, or by the name a container gives it."""
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in owner["ports"] if p.get("name") == port]
    assert isinstance(number, int)
    return number


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's final stage and the ones before it, in order;
    continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, rest = line.strip().partition(" ")
            found.append((instruction.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def one(instruction: str) -> str:
    (found,) = [rest for name, rest in final_stage() if name == instruction]
    return found


def exec_form(rest: str) -> list[str]:
    words = json.loads(rest)
    assert isinstance(words, list), f"not the exec (JSON) form: {rest}"
    return [str(word) for word in words]


def healthcheck_command() -> list[str]:
    options, _, command = one("HEALTHCHECK").partition("CMD ")
    assert all(word.startswith("--") for word in shlex.split(options)), options
    return exec_form(command)


def healthcheck_url() -> tuple[int, str]:
    """The port and path the image's HEALTHCHECK asks."""
    (url,) = re.findall(r"http://127\.0\.0\.1:\d+/[^'\"\s]*", " ".join(healthcheck_command()))
    parts = urlsplit(url)
    assert parts.port is not None
    return parts.port, parts.path


def serve_args(command: list[str]) -> Any:
    """`connector serve ...` as the real CLI parses it."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    assert command[0] in scripts, f"{command[0]} is not one of the project's scripts"
    args = build_parser().parse_args(command[1:])
    assert args.func.__name__ == "cmd_serve", command
    return args


def get_routes() -> set[str]:
    app = create_app(load_config(environ={}))
    paths = set()
    for route in app.routes:
        if isinstance(route, Route) and "GET" in (route.methods or set()):
            paths.add(route.path)
        elif isinstance(route, Mount):
            paths.add(route.path + "/")
    return paths


def quantity(text: str | int) -> float:
    """A Kubernetes quantity (cpu "500m", memory "192Mi") as a number."""
    units = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text)).groups()  # type: ignore[union-attr]
    return float(number) * units[unit]


# --- a pod as the kubelet would assemble it ----------------------------------------------------


def secret_values(secret: Mapping[str, Any]) -> dict[str, str]:
    values = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
    values.update(secret.get("stringData", {}))
    return values


def mount_files(folder: Path, files: Mapping[str, str]) -> None:
    """The layout of a mounted Secret or ConfigMap: the files live in a hidden, timestamped
    folder, `..data` points at it, and each name is a symlink through `..data`."""
    stamped = folder / "..2026_01_01_00_00_00.000000000"
    stamped.mkdir(parents=True)
    for name, text in files.items():
        (stamped / name).write_text(text, encoding="utf-8")
    (folder / "..data").symlink_to(stamped.name)
    for name in files:
        (folder / name).symlink_to(f"..data/{name}")


def pod_environment(root: Path, objects: Mapping[tuple[str, str], Any]) -> dict[str, str]:
    """The service container's environment, its volumes written under `root` (paths in the
    environment moved there too). A reference to a missing object fails, unless optional."""
    spec = deployment()["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {}
    for mount in container()["volumeMounts"]:
        volume = volumes[mount["name"]]
        folder = root / mount["mountPath"].lstrip("/")
        mounts[mount["mountPath"]] = folder
        if "configMap" in volume:
            mount_files(folder, objects[("ConfigMap", volume["configMap"]["name"])]["data"])
        elif "secret" in volume:
            mount_files(folder, secret_values(objects[("Secret", volume["secret"]["secretName"])]))
        else:
            assert "emptyDir" in volume, volume
            folder.mkdir(parents=True)
    env = {}
    for entry in container()["env"]:
        if "value" in entry:
            value = entry["value"]
            for mount_path, folder in mounts.items():
                if value == mount_path or value.startswith(mount_path + "/"):
                    value = str(folder) + value[len(mount_path) :]
                    break
            env[entry["name"]] = value
            continue
        ref = entry["valueFrom"]["secretKeyRef"]
        secret = objects.get(("Secret", ref["name"]))
        if secret is None:
            assert ref.get("optional"), f"{entry['name']}: no Secret {ref['name']}"
            continue
        env[entry["name"]] = secret_values(secret)[ref["key"]]
    return env


@pytest.fixture
def pod(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield pod_environment(tmp_path, applied())


async def ask(app: Any, requests: list[tuple[str, dict[str, str]]]) -> list[int]:
    """The status of each GET against the app, its lifespan run by hand (as a server would)."""
    service = app.state.service
    await service.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pod") as client:
            answers = [await client.get(path, headers=headers) for path, headers in requests]
            return [answer.status_code for answer in answers]
    finally:
        await service.stop()


# --- the tests ---------------------------------------------------------------------------------


def test_every_manifest_parses_and_names_itself() -> None:
    assert {p.name for p in manifest_files()} >= {
        "deployment.yaml",
        "service.yaml",
        "hpa.yaml",
        "configmap.yaml",
        "secret.example.yaml",
        "redis.yaml",
        "kustomization.yaml",
    }
    seen = set()
    for doc in documents():
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), doc
        name = doc["metadata"]["name"]
        assert DNS_1123.match(name) and len(name) <= 63, name
        assert (doc["kind"], name) not in seen, f"two {doc['kind']} {name}"
        seen.add((doc["kind"], name))
    resources = set(kustomization()["resources"])
    assert resources == {p.name for p in manifest_files()} - OPTIONAL - {"kustomization.yaml"}


def test_one_port_everywhere() -> None:
    image = serve_args(exec_form(one("ENTRYPOINT")) + exec_form(one("CMD")))
    pod = serve_args(container()["command"] + container()["args"])
    assert image.host == pod.host == "0.0.0.0"  # noqa: S104 (a container listens on all)
    (exposed,) = [int(word.split("/")[0]) for word in one("EXPOSE").split()]
    (port,) = container()["ports"]
    service = applied()[("Service", NAME)]
    (service_port,) = service["spec"]["ports"]
    probes = [container()[p]["httpGet"]["port"] for p in PROBES]
    scrape = deployment()["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"]
    assert {
        image.port,
        pod.port,
        exposed,
        port["containerPort"],
        resolve_port(service_port["targetPort"], container()),
        *(resolve_port(p, container()) for p in probes),
        int(scrape),
        healthcheck_url()[0],
    } == {8080}


def test_probes_ask_routes_the_app_has() -> None:
    routes = get_routes()
    assert container()["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container()["livenessProbe"]["httpGet"]["path"] == "/healthz"
    asked = {container()[p]["httpGet"]["path"] for p in PROBES}
    asked.add(healthcheck_url()[1])
    asked.add(deployment()["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"])
    assert asked <= routes, asked - routes
    assert "/nowhere" not in routes  # the route list is the app's, not everything


def test_env_the_manifests_set_is_env_the_service_reads() -> None:
    assert {
        "CONNECTOR_SERVICE_CONFIG",
        "CONNECTOR_SERVICE_API_KEYS",
        "CONNECTOR_SERVICE_PROFILES_DIR",
        "CONNECTOR_SERVICE_REDIS_URL",
    } == SERVICE_ENV
    set_here = {entry["name"] for entry in container()["env"]}
    assert set_here <= SERVICE_ENV, set_here - SERVICE_ENV
    image_env = {
        word.split("=")[0]
        for name, rest in final_stage()
        if name == "ENV"
        for word in shlex.split(rest)
    }
    assert all(name in SERVICE_ENV or name.startswith("PYTHON") for name in image_env), image_env
    # every reference lands on an object and a key the manifests define
    objects = applied("redis.yaml")
    for entry in container()["env"]:
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None:
            assert ref["key"] in secret_values(objects[("Secret", ref["name"])]), entry
    env = {e["name"]: e.get("value") for e in container()["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container()["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment()["spec"]["template"]["spec"]["volumes"]}
    config_map = objects[("ConfigMap", volumes["config"]["configMap"]["name"])]
    assert Path(env[_config.ENV_CONFIG]).parent == Path(mounts["config"])
    assert Path(env[_config.ENV_CONFIG]).name in config_map["data"]
    assert env[_config.ENV_PROFILES_DIR] == mounts["profiles"]
    assert ("Secret", volumes["profiles"]["secret"]["secretName"]) in objects


def test_the_config_map_holds_a_valid_config(tmp_path: Path) -> None:
    (text,) = applied()[("ConfigMap", "connector-service-config")]["data"].values()
    path = tmp_path / "service.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, environ={})
    assert config.shutdown_grace == 20
    assert config.api_keys == () and not config.profiles  # secrets live in the Secrets
    assert not config.allow_base_url  # test mode never in a deployment
    path.write_text(text.replace("shutdown_grace:", "shutdown_graec:"), encoding="utf-8")
    with pytest.raises(SpecError, match="shutdown_graec"):
        load_config(path, environ={})  # the check above can fail


def test_the_pod_loads_its_secrets_and_answers_its_probes(pod: dict[str, str]) -> None:
    config = load_config(environ=pod)
    keys = secret_values(applied()[("Secret", "connector-service-api-keys")])["api-keys"]
    first_key = keys.split(",")[0]
    assert config.authenticate(first_key) is not None
    assert config.authenticate("not-a-key") is None
    profiles = secret_values(applied()[("Secret", "connector-service-profiles")])
    assert set(config.profiles) == {Path(name).stem for name in profiles}  # not ..data & co
    plans = {c.id: c.plan for c in bundled_connectors()}
    for profile in config.profiles.values():
        plan = plans[profile.connector]
        assert profile.environment in plan.environments
        declared = {c.name for c in plan.credentials}
        required = {c.name for c in plan.credentials if c.required and c.default is None}
        assert required <= set(profile.credentials) <= declared, profile.name
    assert config.cache_backend == "memory"  # no redis.yaml applied
    key = {"Authorization": f"Bearer {first_key}"}
    probes = [container()[p]["httpGet"]["path"] for p in PROBES]
    asked: list[tuple[str, dict[str, str]]] = [(path, {}) for path in probes] + [
        ("/v1/connectors", {}),
        ("/v1/connectors", key),
    ]
    statuses = asyncio.run(ask(create_app(config), asked))
    assert statuses == [200] * len(probes) + [401, 200]


def test_grace_outlasts_prestop_and_the_drain(
    pod: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(environ=pod)
    seen: dict[str, float] = {}

    def run(self: Any, sockets: Any = None) -> None:
        seen["drain_bound"] = self.config.timeout_graceful_shutdown

    monkeypatch.setattr(_serve._Server, "run", run)
    monkeypatch.setattr(_serve, "configure", lambda level: None)
    _serve.serve(config, host="0.0.0.0", port=8080)  # noqa: S104 (run() is replaced)
    # the server's own bound on a drain covers the service's grace and its answers after it
    assert seen["drain_bound"] >= config.shutdown_grace + 1
    spec = deployment()["spec"]["template"]["spec"]
    command = container()["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    assert pre_stop >= container()["readinessProbe"]["periodSeconds"]
    assert spec["terminationGracePeriodSeconds"] > pre_stop + seen["drain_bound"]
    # the listener closes at SIGTERM: liveness must not cut a drain short
    liveness = container()["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= seen["drain_bound"]


def test_the_hpa_scales_the_deployment_on_cpu() -> None:
    objects = applied()
    hpa = objects[("HorizontalPodAutoscaler", NAME)]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    found = objects[(target["kind"], target["name"])]
    assert (found["apiVersion"], found["kind"]) == (target["apiVersion"], "Deployment")
    assert found is objects[("Deployment", NAME)]
    assert "replicas" not in found["spec"]  # the HPA owns the count
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert quantity(container()["resources"]["requests"]["cpu"]) > 0  # utilisation needs it
    pdb = objects[("PodDisruptionBudget", NAME)]
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_selectors_pick_the_pods() -> None:
    objects = applied("redis.yaml")
    for (kind, name), doc in objects.items():
        if kind == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    service = objects[("Service", NAME)]["spec"]["selector"]
    assert service.items() <= labels.items()
    pdb = objects[("PodDisruptionBudget", NAME)]["spec"]["selector"]["matchLabels"]
    assert pdb.items() <= labels.items()
    redis_labels = objects[("Deployment", "connector-service-redis")]["spec"]["template"]
    redis_selector = objects[("Service", "connector-service-redis")]["spec"]["selector"]
    assert redis_selector.items() <= redis_labels["metadata"]["labels"].items()
    assert not redis_selector.items() <= labels.items()  # the service's pods are not Redis


def test_runs_unprivileged_on_a_read_only_root() -> None:
    user = one("USER").split(":")[0]
    assert user.isdigit() and int(user) != 0, "a numeric, non-root USER (runAsNonRoot checks it)"
    pod_security = deployment()["spec"]["template"]["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == int(user)
    security = container()["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    volumes = {v["name"]: v for v in deployment()["spec"]["template"]["spec"]["volumes"]}
    writable = {m["mountPath"] for m in container()["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp"} and "emptyDir" in volumes["tmp"]  # noqa: S108
    resources = container()["resources"]
    for kind in ("cpu", "memory"):
        assert 0 < quantity(resources["requests"][kind]) <= quantity(resources["limits"][kind])


def test_redis_is_optional_and_wired(tmp_path: Path) -> None:
    objects = applied("redis.yaml")
    (ref,) = [
        e["valueFrom"]["secretKeyRef"]
        for e in container()["env"]
        if e["name"] == _config.ENV_REDIS_URL
    ]
    assert ref["optional"] is True
    secret = secret_values(objects[("Secret", ref["name"])])
    url = urlsplit(secret[ref["key"]])
    assert url.hostname is not None
    (port,) = objects[("Service", url.hostname)]["spec"]["ports"]
    assert url.port == port["port"]
    assert url.password == secret["password"]
    redis = objects[("Deployment", url.hostname)]["spec"]["template"]["spec"]["containers"][0]
    assert resolve_port(port["targetPort"], redis) == 6379
    assert "$(REDIS_PASSWORD)" in redis["args"]
    (password,) = [e for e in redis["env"] if e["name"] == "REDIS_PASSWORD"]
    assert password["valueFrom"]["secretKeyRef"]["name"] == ref["name"]
    with_redis = load_config(environ=pod_environment(tmp_path / "with", objects))
    assert with_redis.cache_backend == "redis" and with_redis.redis_url == secret[ref["key"]]


# --- the image's build context -----------------------------------------------------------------


def ignore_rules() -> list[tuple[bool, str, re.Pattern[str]]]:
    """.dockerignore as (excluded?, pattern, regex): `**` any depth, `*` within one name, `!`
    admits; the last rule matching a path (or one of its folders) decides."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        admit = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = "".join(
            ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
            for part in re.split(r"(\*\*|\*)", pattern)
        )
        rules.append((not admit, pattern, re.compile(regex.replace(".*/", "(.*/)?") + "$")))
    return rules


def build_context() -> Iterator[str]:
    """The files (relative to the root) `docker build .` would send."""
    rules = ignore_rules()

    def admitted(relative: str) -> bool:
        parts = relative.split("/")
        prefixes = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
        excluded = False
        for exclude, _, regex in rules:
            if any(regex.match(prefix) for prefix in prefixes):
                excluded = exclude
        return not excluded

    def may_hold_admitted(relative: str) -> bool:
        return admitted(relative) or any(
            not exclude and pattern.startswith(relative + "/") for exclude, pattern, _ in rules
        )

    for folder, subfolders, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if here == "." else here + "/"
        subfolders[:] = [d for d in subfolders if may_hold_admitted(prefix + d)]
        yield from (prefix + name for name in files if admitted(prefix + name))


def test_the_build_context_is_what_the_wheel_needs(tmp_path: Path) -> None:
    context = tmp_path / "context"
    for relative in build_context():
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, context / relative)
    copied = {p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file()}
    assert not any(name.startswith((".git/", "tests/", "tools/", ".venv/")) for name in copied)
    assert not any("__pycache__" in name for name in copied)
    for name, rest in dockerfile():
        if name == "COPY" and not rest.startswith("--from"):
            for source in shlex.split(rest)[:-1]:
                assert (context / source).exists(), f"COPY {source}: not in the build context"
    # `pip install .[service]` in the image builds this wheel from that context alone
    wheel = next(
        iter(WheelBuilder(str(context)).build(directory=str(tmp_path), versions=["standard"]))
    )
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "engine/service/_app.py" in names
    assert "engine/_bundled/specs/connectors/stripe.yaml" in names
    assert "engine/_bundled/schemas/service-config.schema.json" in names
    install = next(rest for name, rest in dockerfile() if name == "RUN" and "pip install" in rest)
    assert ".[service]" in shlex.split(install)


def test_docs_explain_every_file_and_variable() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    for path in manifest_files():
        assert path.name in text, path.name
    for name in SERVICE_ENV:
        assert name in text, name
    for word in ("Dockerfile", "SIGTERM", "unresolved", "preStop", "terminationGracePeriodSeconds"):
        assert word in text, word
