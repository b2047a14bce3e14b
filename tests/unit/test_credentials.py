"""engine._credentials: merchant credentials → checked values; secrets that never print."""

from __future__ import annotations

import copy
import hmac
import logging
import pickle
from typing import Any

import pytest

from engine._credentials import Credentials, ResolvedCredentials, Secret, resolve_credentials
from engine._errors import CredentialsError
from engine._plan import ConnectorPlan

from .conftest import API_KEY

VALUE = "ak_live_TopSecretValue9"


def test_secret_never_prints() -> None:
    secret = Secret(VALUE)
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>30}",
        "{}".format(secret),  # noqa: UP032
        "%s" % secret,  # noqa: UP031
        "%r" % (secret,),  # noqa: UP031
        repr([secret]),
        repr({"k": secret}),
    ]
    assert all(VALUE not in text for text in shown)
    assert repr(secret) == "Secret('***')"
    assert f"{secret}" == "***"


def test_secret_reveals_only_on_request() -> None:
    assert Secret(VALUE).reveal() == VALUE
    assert Secret(Secret(VALUE)).reveal() == VALUE


def test_secret_in_a_log_record_is_hidden(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="test.credentials"):
        logging.getLogger("test.credentials").debug("key %s / %r", Secret(VALUE), Secret(VALUE))
    assert VALUE not in caplog.text
    assert "key Secret('***') / Secret('***')" in caplog.text


def test_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="a Secret cannot be pickled"):
        pickle.dumps(Secret(VALUE))


@pytest.mark.parametrize("dump", [copy.copy, copy.deepcopy])
def test_a_copied_secret_is_the_same_secret(dump: Any) -> None:
    # dataclasses.asdict deep-copies leaves: a Result holding a Secret must survive it.
    secret = Secret(VALUE)
    assert dump(secret) is secret


def test_secret_has_no_instance_dict() -> None:
    assert not hasattr(Secret(VALUE), "__dict__")


def test_secret_equality() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert hash(Secret("ab")) == hash(Secret("cd"))  # depends on the length only


def test_secret_equality_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert Secret("same") == Secret("same")
    assert Secret("same") != Secret("diff")
    assert calls == [(b"same", b"same"), (b"same", b"diff")]


def test_credentials_repr_hides_values() -> None:
    credentials = Credentials({"api_key": Secret(VALUE)}, region="eu-west")
    assert repr(credentials) == "Credentials(api_key, region; values hidden)"
    assert str(credentials) == "Credentials(api_key, region; values hidden)"
    assert VALUE not in f"{credentials}"
    assert "eu-west" not in repr(credentials)
    assert credentials["region"] == "eu-west"
    assert isinstance(credentials["api_key"], Secret)
    assert sorted(credentials) == ["api_key", "region"]
    assert len(credentials) == 2


def test_credentials_repr_hides_plain_string_values() -> None:
    assert VALUE not in repr(Credentials(api_key=VALUE))


def test_resolve(acme: ConnectorPlan) -> None:
    resolved = resolve_credentials(acme, {"api_key": API_KEY})
    assert resolved.values == {"api_key": API_KEY, "region": "eu"}
    assert resolved.secrets == (API_KEY,)
    assert repr(resolved) == "ResolvedCredentials(api_key, region; values hidden)"


def test_resolve_accepts_secrets_and_credentials(acme: ConnectorPlan) -> None:
    given = Credentials({"api_key": Secret(API_KEY)}, region="us")
    resolved = resolve_credentials(acme, given)
    assert resolved == ResolvedCredentials(
        {"api_key": API_KEY, "region": "us"}, (API_KEY,), {"region": "us"}
    )


def test_an_empty_value_falls_back_to_the_default(acme: ConnectorPlan) -> None:
    resolved = resolve_credentials(acme, {"api_key": API_KEY, "region": ""})
    assert resolved.values["region"] == "eu"


def test_missing_credential(acme: ConnectorPlan) -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(acme, {"region": "us"})
    assert str(caught.value) == "acme: credential 'api_key' is required"


def test_unknown_credential_names_the_key_not_the_value(acme: ConnectorPlan) -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(acme, {"api_key": API_KEY, "apikey": VALUE})
    message = str(caught.value)
    assert message == "acme: unknown credential(s) apikey; expected: api_key, region"
    assert VALUE not in message
    assert API_KEY not in message


@pytest.mark.parametrize("bad", ["sk_test_NotAcme123", "ak_test_has space", "ak_prod_Zq8v"])
def test_pattern_mismatch_never_shows_the_value(acme: ConnectorPlan, bad: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(acme, {"api_key": bad})
    assert str(caught.value) == "acme: credential 'api_key' does not have the expected form"
    assert bad not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_pattern_check_can_be_skipped(acme: ConnectorPlan) -> None:
    resolved = resolve_credentials(acme, {"api_key": "sk_test_x"}, check_patterns=False)
    assert resolved.values["api_key"] == "sk_test_x"


def test_the_scrubbers_a_resolution_keeps_show_no_value() -> None:
    import copy
    import dataclasses
    import pickle

    from engine import load_connector
    from engine._credentials import resolve_credentials

    plan = load_connector("stripe").plan
    resolved = resolve_credentials(plan, {"api_key": "sk_test_hiddenvalue1XXXXXXXXXX"})
    resolved.scrubber(("tok_hidden_value_2",), ("Bearer sk_test_hiddenvalue1XXXXXXXXXX",))
    memo = resolved._scrubbers
    for view in (repr(resolved), str(dataclasses.asdict(resolved)), repr(copy.deepcopy(memo))):
        assert "hiddenvalue" not in view and "hidden_value" not in view
    with pytest.raises(TypeError):
        pickle.dumps(memo)
