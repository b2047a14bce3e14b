"""The HMAC primitive: key decoding, digest, output encoding, constant-time comparison.
Webhooks use it now; request signing schemes will use it too."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
from collections.abc import Callable, Mapping

ALGORITHMS: Mapping[str, Callable[[], hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}

KEY_DECODERS: Mapping[str, Callable[[str], bytes]] = {
    "utf8": lambda key: key.encode("utf-8"),
    "hex": bytes.fromhex,
    "base64": lambda key: base64.b64decode(key, validate=True),
    "sha1": lambda key: hashlib.sha1(key.encode("utf-8")).digest(),  # noqa: S324 (a processor's scheme)
}

OUTPUT_ENCODERS: Mapping[str, Callable[[bytes], str]] = {
    "hex": lambda digest: digest.hex(),
    "base64": lambda digest: base64.b64encode(digest).decode("ascii"),
    # Base64 of the lower-case hex text (a processor that base64s the hex digest text).
    "hex_base64": lambda digest: base64.b64encode(digest.hex().encode("ascii")).decode("ascii"),
}


class KeyDecodeError(ValueError):
    """The secret is not in the encoding the spec declares."""


def decode_key(secret: str, encoding: str) -> bytes:
    try:
        return KEY_DECODERS[encoding](secret)
    except (ValueError, binascii.Error):
        raise KeyDecodeError(f"the secret is not valid {encoding}") from None


def key_forms(secret: str, encoding: str) -> list[str]:
    """The secret and the key it decodes to, as text a message could quote: hex and base64 of
    the key bytes (and the bytes themselves when they are text). Empty for an undecodable
    secret beyond the secret itself."""
    forms = [secret]
    try:
        key = decode_key(secret, encoding)
    except KeyDecodeError:
        return forms
    forms += [key.hex(), base64.b64encode(key).decode("ascii")]
    with contextlib.suppress(UnicodeDecodeError):
        forms.append(key.decode("utf-8"))
    return [form for form in forms if form]


def digest_signature(algorithm: str, message: bytes, output: str) -> str:
    """The plain hash of a message that contains the secret itself (webhook `method: digest`)."""
    hashed = ALGORITHMS[algorithm]()
    hashed.update(message)
    return OUTPUT_ENCODERS[output](hashed.digest())


def hmac_signature(algorithm: str, key: bytes, message: bytes, output: str) -> str:
    digest = hmac.new(key, message, ALGORITHMS[algorithm]).digest()
    return OUTPUT_ENCODERS[output](digest)


def signatures_match(expected: str, given: str, output: str) -> bool:
    """Constant-time comparison; hex compares case-insensitively."""
    if output == "hex":
        expected, given = expected.lower(), given.lower()
    return hmac.compare_digest(
        expected.encode("ascii", "replace"), given.encode("ascii", "replace")
    )


class PublicKeyError(ValueError):
    """The webhook secret of an `rsa` signature is not an RSA public key in PEM."""


def rsa_public_key(pem: bytes) -> object:
    """The RSA public key of PEM text (a SubjectPublicKeyInfo `PUBLIC KEY`, a PKCS#1
    `RSA PUBLIC KEY`, or a certificate's), or PublicKeyError."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        if b"CERTIFICATE" in pem:
            key: object = x509.load_pem_x509_certificate(pem).public_key()
        else:
            key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise PublicKeyError("the secret is not an RSA public key in PEM") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise PublicKeyError("the secret is not an RSA public key")
    return key


def rsa_signature_matches(
    key: object, algorithm: str, message: bytes, given: str, output: str
) -> bool:
    """Whether `given` (base64 or hex, per `output`) is an RSASSA-PKCS1-v1_5 signature of
    `message` under the public `key` (from rsa_public_key)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    hashers: dict[str, Callable[[], hashes.HashAlgorithm]] = {
        "sha1": hashes.SHA1,
        "sha256": hashes.SHA256,
        "sha512": hashes.SHA512,
    }
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        text = "".join(given.split())  # base64 wrapped over lines reads the same
        raw = bytes.fromhex(text) if output == "hex" else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return False
    try:
        key.verify(raw, message, padding.PKCS1v15(), hashers[algorithm]())
    except InvalidSignature:
        return False
    return True
