"""A login body field made from a secret (GP API's `secret`: SHA-512 of a nonce and the app
key) is scrubbed like the secret itself: never shown by the login request's redacted form, nor by
any text its scrubber cleans. The expected hash is computed here with hashlib."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine._tokens import build_token_request

from .conftest import acme_variant

KEY = "app-key-not-real-9f8e7d"


def _token_spec(spec: dict[str, Any]) -> None:
    spec["spec_version"] = 2
    del spec["credentials"]["api_key"]
    spec["credentials"].update(
        {
            "app_id": {"secret": False, "description": "App id."},
            "app_key": {"secret": True, "description": "App key."},
        }
    )
    spec["auth"] = {
        "scheme": "token",
        "login": {
            "path": "/accesstoken",
            "body": {
                "app_id": "{{ credentials.app_id }}",
                "nonce": "{{ nonce }}",
                "secret": "{{ (nonce ~ credentials.app_key) | digest('sha512') }}",
                "grant_type": "client_credentials",
            },
        },
        "answer": {"token": "token", "expires_in": "seconds_to_expire"},
    }


def test_a_secret_derived_login_field_is_scrubbed() -> None:
    plan = acme_variant(_token_spec)
    built = build_token_request(plan, {"app_id": "app-1", "app_key": KEY})
    body = json.loads(built.body or b"")
    expected = hashlib.sha512((body["nonce"] + KEY).encode()).hexdigest()
    assert body["secret"] == expected  # sent as it is
    shown = json.dumps(built.redacted())
    assert expected not in shown and KEY not in shown
    assert "app-1" in shown and body["nonce"] in shown  # what no secret made stays readable
    assert expected not in built.scrubber.known(f"the processor said: bad secret {expected}")


def test_each_login_gets_a_fresh_nonce() -> None:
    plan = acme_variant(_token_spec)
    nonces = {
        json.loads(build_token_request(plan, {"app_id": "a", "app_key": KEY}).body or b"")["nonce"]
        for _ in range(3)
    }
    assert len(nonces) == 3
