"""The service's config: errors at file:line:col that never quote a secret; keys kept as
digests and compared against every key; profiles from the file, a folder (a mounted Secret) and
the environment."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from engine import SpecError
from engine.cli import main
from engine.service import load_config

CONFIG = """\
api_keys:
  - id: shop-a
    key: svc_live_shopA_0001
    profiles: [shop-a-stripe]
  - id: ops
    key_sha256: {digest}
profiles:
  shop-a-stripe:
    connector: stripe
    environment: production
    credentials:
      api_key: sk_live_shopASecret
    webhook_secret: whsec_shopA
token_cache:
  type: redis
  url: redis://127.0.0.1:6390/0
limits:
  total_timeout: 12
concurrency_per_connector: 8
"""


def _write(tmp_path: Path, text: str, name: str = "service.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_config_file_is_read_whole(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"svc_ops_key").hexdigest()
    config = load_config(_write(tmp_path, CONFIG.format(digest=digest)), environ={})
    shop, ops = config.api_keys
    assert config.authenticate("svc_live_shopA_0001") is shop
    assert config.authenticate("svc_ops_key") is ops
    assert config.authenticate("svc_live_shopA_000") is None
    assert shop.profiles == frozenset({"shop-a-stripe"}) and not shop.credentials
    assert ops.profiles is None and ops.credentials
    profile = config.profiles["shop-a-stripe"]
    assert profile.environment == "production"
    assert profile.credentials["api_key"].reveal() == "sk_live_shopASecret"
    assert (config.cache_backend, config.redis_url) == ("redis", "redis://127.0.0.1:6390/0")
    assert config.limits.total_timeout == 12 and config.concurrency_per_connector == 8
    shown = repr(config)
    for secret in ("svc_live_shopA_0001", "sk_live_shopASecret", "whsec_shopA", "6390"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("change", "line", "pointer"),
    [
        ("    key: svc_live_shopA_0001\n", 2, "/api_keys/0"),  # no key at all
        ("concurrency_per_connector: 8\n", 19, "/concurrency_per_connector"),
        ("    connector: stripe\n", 9, "/profiles/shop-a-stripe/connector"),
        ("      api_key: sk_live_shopASecret\n", 12, "/profiles/shop-a-stripe/credentials/api_key"),
    ],
)
def test_errors_are_located_and_quote_no_secret(
    tmp_path: Path, change: str, line: int, pointer: str
) -> None:
    digest = hashlib.sha256(b"k").hexdigest()
    text = CONFIG.format(digest=digest)
    replacement = {
        "    key: svc_live_shopA_0001\n": "",
        "concurrency_per_connector: 8\n": "concurrency_per_connector: '8'\n",
        "    connector: stripe\n": "    connector: acme\n",
        "      api_key: sk_live_shopASecret\n": "      api_key: [sk_live_shopASecret]\n",
    }[change]
    path = _write(tmp_path, text.replace(change, replacement))
    with pytest.raises(SpecError) as raised:
        load_config(path, environ={})
    [problem] = raised.value.problems
    assert (problem.file, problem.pointer) == (str(path), pointer)
    assert problem.line == line
    assert "sk_live_shopASecret" not in problem.message


def test_keys_and_profiles_from_the_environment_and_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "shop-b.json").write_text(
        json.dumps({"connector": "adyen", "credentials": {"api_key": "AQE_b"}}), encoding="utf-8"
    )
    (tmp_path / "creds.json").write_text('{"api_key": "sk_test_fromfile"}', encoding="utf-8")
    path = _write(
        tmp_path,
        "profiles:\n  shop-c:\n    connector: stripe\n"
        f"    credentials_file: {tmp_path / 'creds.json'}\n",
    )
    environ = {
        "CONNECTOR_SERVICE_API_KEYS": "k1, k2,",
        "CONNECTOR_SERVICE_PROFILES_DIR": str(folder),
        "CONNECTOR_SERVICE_REDIS_URL": "redis://127.0.0.1:6391/0",
    }
    config = load_config(path, environ=environ)
    assert [k.id for k in config.api_keys] == ["env-0", "env-1"]
    assert config.authenticate("k2") is config.api_keys[1]
    assert config.profiles["shop-b"].connector == "adyen"
    assert config.profiles["shop-c"].credentials["api_key"].reveal() == "sk_test_fromfile"
    assert config.cache_backend == "redis"


def test_a_key_limited_to_an_unknown_profile_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "api_keys:\n  - id: a\n    key: k\n    profiles: [nope]\n")
    with pytest.raises(SpecError) as raised:
        load_config(path, environ={})
    assert "no such profile: nope" in str(raised.value)


def test_serve_refuses_to_start_without_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONNECTOR_SERVICE_API_KEYS", raising=False)
    monkeypatch.delenv("CONNECTOR_SERVICE_CONFIG", raising=False)
    with pytest.raises(SystemExit) as raised:
        main(["serve", "--config", str(_write(tmp_path, "{}\n"))])
    assert "no API key" in str(raised.value)
