"""engine._signing: key decoding, HMAC digests, output encodings, constant-time comparison."""

from __future__ import annotations

import base64
import hmac

import pytest

from engine._signing import (
    ALGORITHMS,
    KeyDecodeError,
    decode_key,
    hmac_signature,
    signatures_match,
)

# RFC 4231, test case 2.
RFC_KEY = b"Jefe"
RFC_DATA = b"what do ya want for nothing?"
RFC_SHA256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
RFC_SHA512 = (
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
)
# RFC 4231, test case 1.
RFC1_KEY = bytes([0x0B] * 20)
RFC1_SHA256 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_algorithms() -> None:
    assert set(ALGORITHMS) == {"sha1", "sha256", "sha512"}


def test_rfc_4231_hmac_sha256() -> None:
    assert hmac_signature("sha256", RFC_KEY, RFC_DATA, "hex") == RFC_SHA256
    assert hmac_signature("sha256", RFC1_KEY, b"Hi There", "hex") == RFC1_SHA256


def test_rfc_4231_hmac_sha512() -> None:
    assert hmac_signature("sha512", RFC_KEY, RFC_DATA, "hex") == RFC_SHA512


def test_base64_output() -> None:
    expected = base64.b64encode(bytes.fromhex(RFC_SHA256)).decode("ascii")
    assert hmac_signature("sha256", RFC_KEY, RFC_DATA, "base64") == expected
    assert expected == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_sha1() -> None:
    # RFC 2202, test case 2.
    assert hmac_signature("sha1", RFC_KEY, RFC_DATA, "hex") == (
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    )


@pytest.mark.parametrize(
    ("secret", "encoding", "key"),
    [
        ("Jefe", "utf8", b"Jefe"),
        ("clé", "utf8", "clé".encode()),
        ("4a656665", "hex", b"Jefe"),
        ("4A656665", "hex", b"Jefe"),
        ("SmVmZQ==", "base64", b"Jefe"),
        ("0b" * 20, "hex", RFC1_KEY),
    ],
)
def test_decode_key(secret: str, encoding: str, key: bytes) -> None:
    assert decode_key(secret, encoding) == key


@pytest.mark.parametrize(
    ("secret", "encoding"),
    [
        ("not hex", "hex"),
        ("abc", "hex"),
        ("SmVmZQ", "base64"),
        ("Sm!mZQ==", "base64"),
        ("SmVm ZQ==", "base64"),
        ("\ud800", "utf8"),
    ],
)
def test_decode_key_errors_never_show_the_secret(secret: str, encoding: str) -> None:
    with pytest.raises(KeyDecodeError) as caught:
        decode_key(secret, encoding)
    assert str(caught.value) == f"the secret is not valid {encoding}"
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True


def test_a_hex_signature_matches_in_either_case() -> None:
    assert signatures_match(RFC_SHA256, RFC_SHA256, "hex") is True
    assert signatures_match(RFC_SHA256, RFC_SHA256.upper(), "hex") is True
    assert signatures_match(RFC_SHA256.upper(), RFC_SHA256, "hex") is True


def test_a_base64_signature_is_case_sensitive() -> None:
    signature = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
    assert signatures_match(signature, signature, "base64") is True
    assert signatures_match(signature, signature.lower(), "base64") is False


@pytest.mark.parametrize("given", ["", RFC_SHA256[:-1], RFC_SHA256 + "0", "é" * 64, "x" * 64])
def test_mismatches(given: str) -> None:
    assert signatures_match(RFC_SHA256, given, "hex") is False


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert signatures_match("ABCD", "abcd", "hex") is True
    assert calls == [(b"abcd", b"abcd")]
