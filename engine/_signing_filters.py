"""Template filters for request signing and payload encryption: HMACs, digests, RSA signatures,
AES-GCM, clock formatting, canonical serialisations, JSON text.

Every primitive comes from a well-kept library (hashlib, hmac, `cryptography`); this module only
names them for templates. A filter reads its key as an argument, so a secret is only reachable
where the template context holds secrets (the `auth` section: the `secrets_only_in_auth` lint
rule keeps flows from reading one)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jinja2 import Undefined

from ._budget import MAX_RENDER_SIZE

DIGESTS: Mapping[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}

OUTPUTS: Mapping[str, Callable[[bytes], str]] = {
    "hex": bytes.hex,
    "base64": lambda raw: base64.b64encode(raw).decode("ascii"),
    "base64url": lambda raw: base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
}

KEY_ENCODINGS: Mapping[str, Callable[[str], bytes]] = {
    "utf8": lambda key: key.encode("utf-8"),
    "hex": bytes.fromhex,
    "base64": lambda key: base64.b64decode(key, validate=True),
}


def _bytes(value: Any) -> bytes:
    if value is None or isinstance(value, Undefined):
        return b""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _choice(table: Mapping[str, Any], name: Any, what: str) -> Any:
    try:
        return table[str(name)]
    except KeyError:
        raise ValueError(f"unknown {what} {name!r} (known: {', '.join(table)})") from None


def _key(key: Any, encoding: Any) -> bytes:
    if key is None or isinstance(key, Undefined) or str(key) == "":
        raise ValueError("the key is empty")
    decode: Callable[[str], bytes] = _choice(KEY_ENCODINGS, encoding, "key encoding")
    try:
        return decode(str(key))
    except (ValueError, binascii.Error):
        raise ValueError(f"the key is not valid {encoding}") from None


def hmac_filter(
    value: Any,
    key: Any,
    algorithm: Any = "sha256",
    output: Any = "hex",
    key_encoding: Any = "utf8",
) -> str:
    """`message | hmac(key, 'sha256', 'hex', 'utf8')`: the HMAC of the UTF-8 message."""
    digest = _choice(DIGESTS, algorithm, "hash")
    mac = hmac.new(_key(key, key_encoding), _bytes(value), digest).digest()
    return str(_choice(OUTPUTS, output, "output")(mac))


def digest_filter(value: Any, algorithm: Any = "sha256", output: Any = "hex") -> str:
    """`text | digest('sha256', 'hex')`: a plain hash of the UTF-8 text (checksums)."""
    raw = _choice(DIGESTS, algorithm, "hash")(_bytes(value)).digest()
    return str(_choice(OUTPUTS, output, "output")(raw))


#: Loaded RSA private keys by the SHA-256 of their PEM text (a few: one per merchant key).
_PRIVATE_KEYS: dict[bytes, Any] = {}
_MAX_KEYS = 32


def rsa_sign_filter(
    value: Any, private_key: Any, algorithm: Any = "sha256", output: Any = "base64"
) -> str:
    """`message | rsa_sign(pem, 'sha256')`: RSASSA-PKCS1-v1_5 over the UTF-8 message with an
    unencrypted PEM private key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    hashers = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512}
    hasher = _choice(hashers, algorithm, "hash")
    pem = _bytes(private_key)
    # Loading checks the whole key (tens of ms for RSA): done once per key, which is kept by
    # the digest of its PEM (the text itself is not kept here).
    digest = hashlib.sha256(pem).digest()
    key = _PRIVATE_KEYS.get(digest)
    if key is None:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ValueError("the private key is not an unencrypted PEM key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the private key is not an RSA key")
        if len(_PRIVATE_KEYS) >= _MAX_KEYS:
            _PRIVATE_KEYS.clear()
        _PRIVATE_KEYS[digest] = key
    signature = key.sign(_bytes(value), padding.PKCS1v15(), hasher())
    return str(_choice(OUTPUTS, output, "output")(signature))


def aes_gcm_filter(
    value: Any, key: Any, nonce: Any, key_encoding: Any = "base64", output: Any = "base64"
) -> str:
    """`text | aes_gcm_encrypt(key, nonce)`: AES-GCM (128/192/256-bit key) of the UTF-8 text,
    ciphertext followed by the 16-byte tag; `nonce` is UTF-8 text (12 bytes is standard)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw_key = _key(key, key_encoding)
    if len(raw_key) not in (16, 24, 32):
        raise ValueError("an AES key is 16, 24 or 32 bytes")
    iv = _bytes(nonce)
    if not 8 <= len(iv) <= 64:
        raise ValueError("the nonce must be 8 to 64 bytes")
    sealed = AESGCM(raw_key).encrypt(iv, _bytes(value), None)
    return str(_choice(OUTPUTS, output, "output")(sealed))


def triple_des_filter(
    value: Any, key: Any, key_encoding: Any = "utf8", output: Any = "base64"
) -> str:
    """`text | triple_des_encrypt(key)`: 3DES (EDE, 24-byte key) in ECB mode with PKCS#7
    padding of the UTF-8 text: a legacy cipher some processors still require for payloads."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives import padding as block_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    raw_key = _key(key, key_encoding)
    if len(raw_key) != 24:
        raise ValueError("a 3DES key is 24 bytes")
    padder = block_padding.PKCS7(64).padder()
    padded = padder.update(_bytes(value)) + padder.finalize()
    encryptor = Cipher(TripleDES(raw_key), modes.ECB()).encryptor()  # noqa: S305 (the processor's scheme)
    sealed = encryptor.update(padded) + encryptor.finalize()
    return str(_choice(OUTPUTS, output, "output")(sealed))


def utc_time_filter(value: Any, format: Any = "%Y-%m-%dT%H:%M:%SZ") -> str:
    """`timestamp | utc_time('%Y%m%d%H%M%S')`: Unix seconds written in UTC with strftime
    directives."""
    seconds = float(value)
    text = str(format)
    if len(text) > 64:
        raise ValueError("a time format is at most 64 characters")
    return datetime.fromtimestamp(seconds, UTC).strftime(text)


def sorted_concat_filter(value: Any) -> str:
    """A canonical text of data: a mapping's keys in sorted order, each followed by its value's
    text; a list's items in order; null as ""; booleans and numbers as JSON writes them."""
    out: list[str] = []
    size = 0

    def walk(node: Any, depth: int) -> None:
        nonlocal size
        if depth > 64:
            raise ValueError("sorted_concat: nested too deep")
        if isinstance(node, Mapping):
            for name in sorted(node, key=str):
                add(str(name))
                walk(node[name], depth + 1)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, depth + 1)
        elif node is None or isinstance(node, Undefined):
            return
        elif isinstance(node, bool):
            add("true" if node else "false")
        else:
            add(str(node))

    def add(text: str) -> None:
        nonlocal size
        size += len(text)
        if size > MAX_RENDER_SIZE:
            raise ValueError("sorted_concat: the text would be too long")
        out.append(text)

    walk(value, 0)
    return "".join(out)


def from_json_filter(value: Any) -> Any:
    """JSON text → data (a processor field holding JSON as a string); a repeated key is refused."""
    if value is None or isinstance(value, Undefined):
        return None
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    if len(text) > MAX_RENDER_SIZE:
        raise ValueError("from_json: the text is too long")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            raise ValueError("from_json: an object repeats a key")
        return obj

    try:
        return json.loads(text, object_pairs_hook=unique)
    except RecursionError:
        raise ValueError("from_json: nested too deep") from None


#: name → (function, documentation), merged into the template filters (engine._templates).
SIGNING_FILTERS: Mapping[str, tuple[Callable[..., Any], str]] = {
    "hmac": (
        hmac_filter,
        "`message | hmac(key, algorithm='sha256', output='hex', key_encoding='utf8')`: the "
        "HMAC of the UTF-8 message (hashes sha1, sha256, sha384, sha512; outputs hex, base64, "
        "base64url; keys utf8, hex, base64). For request signatures (`auth.scheme: signed`).",
    ),
    "digest": (
        digest_filter,
        "`text | digest(algorithm='sha256', output='hex')`: a plain hash of the UTF-8 text "
        "(checksums over concatenated fields).",
    ),
    "rsa_sign": (
        rsa_sign_filter,
        "`message | rsa_sign(private_key_pem, algorithm='sha256', output='base64')`: an "
        "RSASSA-PKCS1-v1_5 signature (hashes sha1, sha256, sha512) with an unencrypted PEM key.",
    ),
    "aes_gcm_encrypt": (
        aes_gcm_filter,
        "`text | aes_gcm_encrypt(key, nonce, key_encoding='base64', output='base64')`: AES-GCM "
        "of the UTF-8 text, ciphertext then tag (payload encryption a processor requires).",
    ),
    "triple_des_encrypt": (
        triple_des_filter,
        "`text | triple_des_encrypt(key, key_encoding='utf8', output='base64')`: 3DES-ECB with "
        "PKCS#7 padding and a 24-byte key (a legacy payload encryption some processors require).",
    ),
    "utc_time": (
        utc_time_filter,
        "`timestamp | utc_time('%Y%m%d%H%M%S')`: Unix seconds written in UTC with strftime "
        "directives (at most 64 characters).",
    ),
    "sorted_concat": (
        sorted_concat_filter,
        "`data | sorted_concat`: a canonical text of data for signing: a mapping's keys "
        "sorted, each followed by its value; list items in order; null as empty text.",
    ),
    "from_json": (
        from_json_filter,
        "`text | from_json`: JSON text → data (a field that holds JSON as a string); a "
        "repeated key is refused.",
    ),
}
