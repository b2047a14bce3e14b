"""`auth.scheme: signed`: signatures computed by the spec's own templates over the exact request
sent, recomputed here independently (hmac/hashlib/cryptography) from the bytes the engine
sends; body checksums over the body as built; the per-request values; redaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine import Connector
from engine._errors import SpecError
from engine._load import load_spec_text
from engine._signing_filters import (
    aes_gcm_filter,
    digest_filter,
    from_json_filter,
    hmac_filter,
    rsa_sign_filter,
    sorted_concat_filter,
    utc_time_filter,
)
from engine._spec import check_loaded

from .conftest import acme_dict, acme_variant, card_request

NOW = 1_767_225_600.25  # 2026-01-01T00:00:00.250Z
ACCESS, SECRET, SITE = "ak_test_1", "sk-secret-value-42", "site-7"
CREDS = {"access_key": ACCESS, "secret_key": SECRET, "site_id": SITE}


def _credentials(spec: dict[str, Any]) -> None:
    del spec["credentials"]["api_key"]
    spec["credentials"].update(
        {
            "access_key": {"secret": False, "description": "Access key."},
            "secret_key": {"secret": True, "description": "Signing secret."},
            "site_id": {"secret": False, "description": "Site id."},
        }
    )


def _header_signed(spec: dict[str, Any]) -> None:
    """Rapyd's scheme: base64 of the hex HMAC over method, path, salt, time, keys and body."""
    _credentials(spec)
    spec["spec_version"] = 2
    spec["auth"] = {
        "scheme": "signed",
        "let": {
            "salt": "{{ nonce[:12] }}",
            "to_sign": "{{ method | lower }}{{ path }}{{ salt }}{{ timestamp }}"
            "{{ credentials.access_key }}{{ credentials.secret_key }}",
        },
        "headers": {
            "access_key": "{{ credentials.access_key }}",
            "site": "{{ credentials.site_id }}",
            "salt": "{{ salt }}",
            "timestamp": "{{ timestamp }}",
            "signature": "{{ (to_sign ~ body) | hmac(credentials.secret_key, 'sha256', 'hex')"
            " | b64encode }}",
        },
    }


def _rapyd_signature(method: str, path: str, salt: str, ts: str, body: bytes | None) -> str:
    text = f"{method}{path}{salt}{ts}{ACCESS}{SECRET}".encode() + (body or b"")
    digest = hmac.new(SECRET.encode(), text, hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def test_a_header_signature_over_the_exact_body_matches_one_computed_independently() -> None:
    connector = Connector(acme_variant(_header_signed))
    built = connector.build_request("authorize", card_request(), CREDS, now=NOW)
    salt, ts = built.headers["salt"], built.headers["timestamp"]
    assert ts == str(int(NOW)) and len(salt) == 12
    expected = _rapyd_signature("post", "/v1/payments", salt, ts, built.body)
    assert built.headers["signature"] == expected


def test_a_get_signs_the_path_with_its_segment_encoding_and_an_empty_body() -> None:
    connector = Connector(acme_variant(_header_signed))
    built = connector.build_request("get", {"connector_transaction_id": "p 1"}, CREDS, now=NOW)
    assert built.body is None
    salt, ts = built.headers["salt"], built.headers["timestamp"]
    expected = _rapyd_signature("get", "/v1/payments/p%201", salt, ts, None)
    assert built.headers["signature"] == expected


def test_each_request_gets_a_fresh_nonce_and_the_same_templates_share_it() -> None:
    connector = Connector(acme_variant(_header_signed))
    first = connector.build_request("authorize", card_request(), CREDS, now=NOW)
    second = connector.build_request("authorize", card_request(), CREDS, now=NOW)
    assert first.headers["salt"] != second.headers["salt"]


def test_only_headers_derived_from_a_secret_are_redacted_and_scrubbed() -> None:
    connector = Connector(acme_variant(_header_signed))
    built = connector.build_request("authorize", card_request(), CREDS, now=NOW)
    shown = built.redacted()
    assert shown["headers"]["signature"] == "[REDACTED]"
    assert shown["headers"]["timestamp"] == str(int(NOW))  # public: kept for debugging
    assert shown["headers"]["access_key"] == ACCESS  # a non-secret setting
    assert SECRET not in repr(built) and built.headers["signature"] not in repr(built)
    # A processor echoing the signature back is scrubbed from the transcript too.
    assert built.headers["signature"] not in built.scrubber.text("x " + built.headers["signature"])


def _body_signed(spec: dict[str, Any]) -> None:
    """Nuvei's kind: a checksum over body fields and the time, placed in the body."""
    _credentials(spec)
    spec["spec_version"] = 2
    spec["auth"] = {
        "scheme": "signed",
        "let": {"stamp": "{{ timestamp | utc_time('%Y%m%d%H%M%S') }}"},
        "fields": {
            "merchantSiteId": "{{ credentials.site_id }}",
            "merchantId": "{{ credentials.access_key }}",
            "timeStamp": "{{ stamp }}",
            "checksum": "{{ (credentials.site_id ~ data.amount ~ data.currency ~ stamp"
            " ~ credentials.secret_key) | digest('sha256') }}",
        },
    }


def test_a_body_checksum_reads_the_body_as_built_and_comes_first() -> None:
    connector = Connector(acme_variant(_body_signed))
    built = connector.build_request("authorize", card_request(), CREDS, now=NOW)
    body = json.loads(built.body or b"")
    assert list(body)[:4] == ["merchantSiteId", "merchantId", "timeStamp", "checksum"]
    assert body["timeStamp"] == "20260101000000"
    text = f"{SITE}1099USD20260101000000{SECRET}"
    assert body["checksum"] == hashlib.sha256(text.encode()).hexdigest()
    shown = built.redacted()["body"] or ""
    assert body["checksum"] not in shown and "20260101000000" in shown


def test_the_clock_values_agree_with_the_request_time() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _credentials(spec)
        spec["auth"] = {
            "scheme": "signed",
            "headers": {
                "X-Ts": "{{ timestamp }}",
                "X-Ms": "{{ timestamp_ms }}",
                "X-Iso": "{{ iso_time }}",
                "Date": "{{ http_date }}",
                "X-Id": "{{ uuid }}",
                "X-Host": "{{ host }}",
                "X-Who": "{{ credentials.access_key }}/{{ credentials.site_id }}",
                "X-Sig": "{{ url | hmac(credentials.secret_key, 'sha512', 'base64url') }}",
            },
        }

    built = Connector(acme_variant(edit)).build_request("authorize", card_request(), CREDS, now=NOW)
    assert built.headers["X-Ts"] == "1767225600"
    assert built.headers["X-Ms"] == "1767225600250"
    assert built.headers["X-Iso"] == "2026-01-01T00:00:00.250Z"
    assert built.headers["Date"] == formatdate(NOW, usegmt=True)
    assert len(built.headers["X-Id"]) == 36
    assert built.headers["X-Host"] == "eu-sandbox.acme-pay.com"
    mac = hmac.new(SECRET.encode(), built.url.encode(), hashlib.sha512).digest()
    assert built.headers["X-Sig"] == base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _problems(edit: Any) -> list[str]:
    data = acme_dict()
    edit(data)
    _, problems = check_loaded(load_spec_text(yaml.safe_dump(data, sort_keys=False), "acme.yaml"))
    return [p.message for p in problems]


def test_fields_cannot_read_the_body_text_which_does_not_exist_yet() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _body_signed(spec)
        spec["auth"]["fields"]["checksum"] = "{{ body | digest }}"

    assert any("unknown variable 'body'" in p for p in _problems(edit))


def test_a_signing_let_may_not_shadow_a_signing_variable() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _header_signed(spec)
        spec["auth"]["let"] = {"nonce": "x"}

    assert any("shadows" in p for p in _problems(edit))


def test_a_scheme_other_than_signed_reads_clock_values_in_its_templates() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _credentials(spec)
        spec["auth"] = {
            "scheme": "header",
            "headers": {
                "X-Auth": "{{ (nonce ~ credentials.secret_key) | digest('sha512') }}",
                "X-Nonce": "{{ nonce }}",
                "X-Who": "{{ credentials.access_key }}/{{ credentials.site_id }}",
            },
        }

    built = Connector(acme_variant(edit)).build_request("authorize", card_request(), CREDS, now=NOW)
    nonce = built.headers["X-Nonce"]
    assert built.headers["X-Auth"] == hashlib.sha512((nonce + SECRET).encode()).hexdigest()


def test_a_signed_spec_without_headers_or_fields_is_refused() -> None:
    def edit(spec: dict[str, Any]) -> None:
        _credentials(spec)
        spec["auth"] = {"scheme": "signed"}

    with pytest.raises(SpecError):
        acme_variant(edit)


# --- the filters, each against the library it names -----------------------------------------


def test_hmac_outputs_and_key_encodings() -> None:
    key = b"\x01\x02secret"
    mac = hmac.new(key, b"msg", hashlib.sha256).digest()
    assert hmac_filter("msg", key.hex(), "sha256", "hex", "hex") == mac.hex()
    assert hmac_filter("msg", base64.b64encode(key).decode(), "sha256", "base64", "base64") == (
        base64.b64encode(mac).decode()
    )
    assert hmac_filter("msg", "k", "sha1") == hmac.new(b"k", b"msg", hashlib.sha1).hexdigest()
    with pytest.raises(ValueError, match="unknown hash"):
        hmac_filter("msg", "k", "md5")
    with pytest.raises(ValueError, match="not valid hex"):
        hmac_filter("msg", "zz", "sha256", "hex", "hex")
    with pytest.raises(ValueError, match="empty"):
        hmac_filter("msg", "")


def test_digest() -> None:
    assert digest_filter("abc") == hashlib.sha256(b"abc").hexdigest()
    assert (
        digest_filter("abc", "sha512", "base64")
        == base64.b64encode(hashlib.sha512(b"abc").digest()).decode()
    )


def test_rsa_sign_verifies_with_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    sha1 = hashes.SHA1()  # noqa: S303 (a processor that signs with SHA-1)
    for name, algorithm in (("sha1", sha1), ("sha256", hashes.SHA256())):
        signature = base64.b64decode(rsa_sign_filter("payload", pem, name))
        key.public_key().verify(signature, b"payload", padding.PKCS1v15(), algorithm)
    with pytest.raises(ValueError, match="PEM"):
        rsa_sign_filter("payload", "not a key")


def test_rsa_sign_keeps_each_loaded_key_apart() -> None:
    """Keys are loaded once and kept by their PEM's digest: each signs with its own."""

    def pem_of(key: rsa.RSAPrivateKey) -> str:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]
    for _ in range(2):  # the second round from the kept keys
        for key in keys:
            signature = base64.b64decode(rsa_sign_filter("payload", pem_of(key)))
            key.public_key().verify(signature, b"payload", padding.PKCS1v15(), hashes.SHA256())


def test_aes_gcm_decrypts_with_the_library() -> None:
    key = bytes(range(32))
    sealed = aes_gcm_filter("4111111111111111", base64.b64encode(key).decode(), "abcdefghijkl")
    plain = AESGCM(key).decrypt(b"abcdefghijkl", base64.b64decode(sealed), None)
    assert plain == b"4111111111111111"
    with pytest.raises(ValueError, match="16, 24 or 32"):
        aes_gcm_filter("x", base64.b64encode(b"short").decode(), "abcdefghijkl")


def test_utc_time_sorted_concat_and_from_json() -> None:
    assert utc_time_filter(1767225600, "%Y%m%d%H%M%S") == "20260101000000"
    assert utc_time_filter(1767225600) == datetime(2026, 1, 1, tzinfo=UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    data = {"b": [1, {"y": None, "x": True}], "a": "z"}
    assert sorted_concat_filter(data) == "azb1xtruey"
    assert from_json_filter('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(ValueError, match="repeats a key"):
        from_json_filter('{"a": 1, "a": 2}')


def _serialize(data: Any) -> str:
    """Trustly's serialisation, as its Python client writes it (keys sorted, lists in order)."""
    if isinstance(data, list):
        return "".join(_serialize(item) for item in data)
    if isinstance(data, dict):
        return "".join(str(k) + _serialize(data[k]) for k in sorted(data))
    return "" if data is None else str(data)


def test_a_json_rpc_signature_over_nested_data_that_the_auth_completes() -> None:
    """A `let` reads the body as built; fields at a nested pointer replace and sign it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    def edit(spec: dict[str, Any]) -> None:
        _credentials(spec)
        spec["spec_version"] = 2
        spec["credentials"]["private_key"] = {
            "secret": True,
            "multiline": True,
            "description": "RSA key.",
        }
        spec["flows"]["authorize"]["request"]["body"] = {
            "method": "Deposit",
            "params": {
                "UUID": "{{ request.idempotency_key }}",
                "Data": {"Amount": "{{ amount }}", "EndUserID": "{{ request.reference }}"},
            },
            "version": "1.1",
        }
        spec["amounts"] = {"format": "major_string"}
        spec["auth"] = {
            "scheme": "signed",
            "let": {
                "signed_data": "{{ data.params.Data | merge({'Username': credentials.access_key,"
                " 'Password': credentials.secret_key}) }}",
            },
            "pointer": "/params",
            "fields": {
                "Signature": "{{ (data.method ~ data.params.UUID ~ (signed_data | sorted_concat))"
                " | rsa_sign(credentials.private_key, 'sha1') }}",
                "Data": "{{ signed_data }}",
            },
            "headers": {"X-Site": "{{ credentials.site_id }}"},
        }

    creds = {**CREDS, "private_key": pem}
    built = Connector(acme_variant(edit)).build_request(
        "authorize", card_request(reference="user-7", idempotency_key="u-1"), creds, now=NOW
    )
    body = json.loads(built.body or b"")
    params = body["params"]
    assert list(params) == ["Signature", "Data", "UUID"]
    data = params["Data"]
    assert data == {
        "Amount": "10.99",
        "EndUserID": "user-7",
        "Username": ACCESS,
        "Password": SECRET,
    }
    plaintext = ("Deposit" + "u-1" + _serialize(data)).encode()
    sha1 = hashes.SHA1()  # noqa: S303 (Trustly signs with SHA-1)
    key.public_key().verify(
        base64.b64decode(params["Signature"]), plaintext, padding.PKCS1v15(), sha1
    )
    shown = built.redacted()["body"] or ""
    # The password and the signature are scrubbed; what the flow wrote (the amount) is not.
    assert SECRET not in shown and params["Signature"] not in shown and "10.99" in shown


def test_a_multiline_secret_with_a_line_break_never_reaches_a_header() -> None:
    """PEM keys hold line breaks, so a `multiline` secret may; a header that would carry one is
    still refused when the request is built."""
    from engine._errors import RenderError

    def edit(spec: dict[str, Any]) -> None:
        _credentials(spec)
        spec["credentials"]["secret_key"]["multiline"] = True
        spec["auth"] = {
            "scheme": "header",
            "headers": {
                "X-Key": "{{ credentials.secret_key }}",
                "X-Who": "{{ credentials.access_key }}/{{ credentials.site_id }}",
            },
        }

    with pytest.raises(RenderError, match="CR or LF"):
        Connector(acme_variant(edit)).build_request(
            "authorize", card_request(), {**CREDS, "secret_key": "a\r\nX-Injected: 1"}, now=NOW
        )
