"""Webhook rejections, for every processor whose spec signs its webhooks: adyen, airwallex,
authorize_net, braintree, cashfree, checkout_com, dlocal, global_payments, gocardless, komoju,
mercado_pago, nmi, nuvei, paystack, rapyd, razorpay, square, stripe, trustly and worldline.
Starting from a real, valid delivery fixture of that processor, each attack is rejected with its
own reason:

- the signature left out → `missing_signature` (Adyen and Braintree carry it in the body);
- signed with the wrong secret → `bad_signature`;
- the body tampered (one digit of the amount) → `bad_signature`;
- a valid signature of ANOTHER event attached to this body → `bad_signature`;
- a replay outside the tolerance window → `stale_timestamp`, for Stripe, Airwallex and Cashfree:
  their signatures cover a timestamp (Stripe's `t=`, Airwallex's x-timestamp and Cashfree's
  x-webhook-timestamp in milliseconds). The other schemes sign no timestamp (Adyen and
  Authorize.net, Checkout.com, Global Payments, GoCardless, Nuvei, Razorpay, Square and Worldline
  sign the body or its fields, NMI a random nonce and the body; Braintree's payload carries one
  but the scheme defines no window; dLocal and Rapyd sign a timestamp but document redeliveries
  days later, so their specs apply no window), so a replayed delivery verifies and protection
  against replays is the merchant's de-duplication by `event_id`: a test checks they all give
  one. Mercado Pago signs a manifest (data.id, x-request-id, ts) and documents no window; its
  events are then confirmed by a fetch too, so here its signature is checked with
  `allow_unconfirmed`.

Schemes that send a shared token instead of a signature (`signature.scheme: token`: xendit's
x-callback-token) are checked apart (TOKENS): a missing token is `missing_signature`, a wrong
one `bad_signature`; such a token proves who sent the delivery, not what it says, so a changed
body still verifies, and the receiver de-duplicates by `event_id` (a test checks one is given).

Out of scope, because they confirm events by fetching the payment instead of verifying a
signature: ebanx, mollie, paypal, worldpay and flutterwave (`webhooks.confirm`; flutterwave
checks a shared token first, tested with its connector). cybersource has no webhooks.

Signatures are computed here from each processor's documented scheme (hmac/hashlib, per
/work/shared/processor-apis/README.md), never by the engine, and are first checked to reproduce
the fixture's own signature, so a bug in the engine's verification cannot agree with itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import yaml

from engine import WebhookError, load_connector

from ..connectors.scenarios import ROOT, credentials_for, response_body


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def with_header(self, name: str, value: str | None) -> Delivery:
        kept = {k: v for k, v in self.headers.items() if k.lower() != name.lower()}
        return replace(self, headers=kept if value is None else {**kept, name: value})


def _header(d: Delivery, name: str) -> str:
    return {k.lower(): v for k, v in d.headers.items()}[name.lower()]


def _hmac(algorithm: str, key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, getattr(hashlib, algorithm)).digest()


def _bump_last_digit(text: str, field_name: str) -> str:
    """One byte changed: the last digit of the first `"field": <number>` in the text."""
    pattern = re.compile(rf'("{field_name}"\s*:\s*"?[0-9.]*?)([0-9])(?=[^0-9])')
    match = pattern.search(text)
    assert match, f"no {field_name} to tamper with"
    digit = str((int(match.group(2)) + 1) % 10)
    return text[: match.start(2)] + digit + text[match.end(2) :]


@dataclass(frozen=True)
class Scheme:
    """How one processor signs a delivery: `sign` computes the signature (and `read` finds it)
    in the form `put` attaches; `tamper` changes one byte of a meaningful field."""

    sign: Callable[[Delivery, str, Mapping[str, str], int | None], str]
    read: Callable[[Delivery], str | None]
    put: Callable[[Delivery, str, int | None], Delivery]
    remove: Callable[[Delivery], Delivery]
    tamper: Callable[[Delivery], Delivery]
    #: The documented replay window (seconds) for schemes that sign a timestamp.
    tolerance: int | None = None
    timestamp: Callable[[Delivery], int] | None = None


def header_scheme(
    header: str,
    digest: Callable[[Delivery, str, Mapping[str, str]], str],
    amount_field: str,
    prefix: str = "",
) -> Scheme:
    """A signature over the body (and settings) in one header, `prefix` + value."""

    def read(d: Delivery) -> str | None:
        value = {k.lower(): v for k, v in d.headers.items()}.get(header.lower())
        return None if value is None else value.removeprefix(prefix)

    return Scheme(
        sign=lambda d, secret, settings, _: digest(d, secret, settings),
        read=read,
        put=lambda d, signature, _: d.with_header(header, prefix + signature),
        remove=lambda d: d.with_header(header, None),
        tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), amount_field).encode()),
    )


# --- the seven documented schemes -------------------------------------------------------------


def _stripe_read(d: Delivery) -> str | None:
    pairs = dict(p.split("=", 1) for p in d.headers.get("Stripe-Signature", "").split(",") if p)
    return pairs.get("v1")


def _stripe_timestamp(d: Delivery) -> int:
    pairs = dict(p.split("=", 1) for p in d.headers["Stripe-Signature"].split(","))
    return int(pairs["t"])


STRIPE = Scheme(
    # hex(HMAC-SHA256(secret, f"{t}.{body}")), header `t=<t>,v1=<hex>`, 300 s tolerance.
    sign=lambda d, secret, _, t: _hmac("sha256", secret.encode(), f"{t}.".encode() + d.body).hex(),
    read=_stripe_read,
    put=lambda d, signature, t: d.with_header("Stripe-Signature", f"t={t},v1={signature}"),
    remove=lambda d: d.with_header("Stripe-Signature", None),
    tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), "amount").encode()),
    tolerance=300,
    timestamp=_stripe_timestamp,
)

#: The nonce a delivery NMI signs anew carries (any value: NMI's `t` is random, not a time).
_NMI_NONCE = "5e1f0a9c7d3b2e48"


def _nmi_sign(d: Delivery, secret: str, _: Mapping[str, str], __: int | None) -> str:
    """The whole header `t=<nonce>,s=<hex HMAC-SHA256(key, nonce + "." + body)>`: the nonce is
    signed, so it travels with the signature (the delivery's own nonce, when it has one)."""
    header = {k.lower(): v for k, v in d.headers.items()}.get("webhook-signature", "")
    nonce = dict(p.split("=", 1) for p in header.split(",") if "=" in p).get("t", _NMI_NONCE)
    digest = _hmac("sha256", secret.encode(), f"{nonce}.".encode() + d.body).hex()
    return f"t={nonce},s={digest}"


NMI = Scheme(
    sign=_nmi_sign,
    read=lambda d: {k.lower(): v for k, v in d.headers.items()}.get("webhook-signature"),
    put=lambda d, signature, _: d.with_header("Webhook-Signature", signature),
    remove=lambda d: d.with_header("Webhook-Signature", None),
    tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), "amount").encode()),
)

_ADYEN_FIELDS = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference")


def _adyen_item(d: Delivery) -> dict[str, Any]:
    item: dict[str, Any] = json.loads(d.body)["notificationItems"][0]["NotificationRequestItem"]
    return item


def _adyen_sign(d: Delivery, secret: str, _: Mapping[str, str], __: int | None) -> str:
    """base64(HMAC-SHA256(hex key, "psp:original:merchant:reference:value:currency:code:ok"))."""
    item = _adyen_item(d)
    amount = item.get("amount") or {}
    parts = [str(item.get(k, "")) for k in _ADYEN_FIELDS]
    parts += [str(amount.get("value", "")), str(amount.get("currency", ""))]
    parts += [str(item.get("eventCode", "")), str(item.get("success", ""))]
    digest = _hmac("sha256", bytes.fromhex(secret), ":".join(parts).encode())
    return base64.b64encode(digest).decode()


def _adyen_edit(d: Delivery, signature: str | None) -> Delivery:
    document = json.loads(d.body)
    extra = document["notificationItems"][0]["NotificationRequestItem"].setdefault(
        "additionalData", {}
    )
    extra.pop("hmacSignature", None)
    if signature is not None:
        extra["hmacSignature"] = signature
    return replace(d, body=json.dumps(document, indent=2).encode())


ADYEN = Scheme(
    sign=_adyen_sign,
    read=lambda d: (_adyen_item(d).get("additionalData") or {}).get("hmacSignature"),
    put=lambda d, signature, _: _adyen_edit(d, signature),
    remove=lambda d: _adyen_edit(d, None),
    tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), "value").encode()),
)


def _braintree_form(d: Delivery) -> dict[str, str]:
    return dict(parse_qsl(d.body.decode(), keep_blank_values=True))


def _braintree_sign(d: Delivery, secret: str, settings: Mapping[str, str], _: int | None) -> str:
    """public_key|hex(HMAC-SHA1(SHA1(private_key), bt_payload))."""
    key = hashlib.sha1(secret.encode()).digest()  # noqa: S324 (Braintree's scheme)
    payload = _braintree_form(d)["bt_payload"].encode()
    return f"{settings['public_key']}|{_hmac('sha1', key, payload).hex()}"


def _braintree_with(d: Delivery, **fields: str | None) -> Delivery:
    form = {**_braintree_form(d), **fields}
    return replace(d, body=urlencode({k: v for k, v in form.items() if v is not None}).encode())


def _braintree_tamper(d: Delivery) -> Delivery:
    xml = base64.b64decode(_braintree_form(d)["bt_payload"]).decode()
    match = re.search(r"<amount>[0-9.]*?([0-9])</amount>", xml)
    assert match, "no amount to tamper with"
    xml = xml[: match.start(1)] + str((int(match.group(1)) + 1) % 10) + xml[match.end(1) :]
    return _braintree_with(d, bt_payload=base64.encodebytes(xml.encode()).decode())


BRAINTREE = Scheme(
    sign=_braintree_sign,
    read=lambda d: _braintree_form(d).get("bt_signature"),
    put=lambda d, signature, _: _braintree_with(d, bt_signature=signature),
    remove=lambda d: _braintree_with(d, bt_signature=None),
    tamper=_braintree_tamper,
)


def _nuvei_sign(d: Delivery, secret: str, settings: Mapping[str, str], _: int | None) -> str:
    """hex(SHA-256(secret + totalAmount + currency + responseTimeStamp + PPP_TransactionID +
    Status + productId)): a digest with the secret inside, not an HMAC."""
    f = _braintree_form(d)
    fields = ("totalAmount", "currency", "responseTimeStamp", "PPP_TransactionID", "Status")
    text = secret + "".join(f[name] for name in fields) + f.get("productId", "")
    return hashlib.sha256(text.encode()).hexdigest()


def _nuvei_tamper(d: Delivery) -> Delivery:
    amount = _braintree_form(d)["totalAmount"]
    return _braintree_with(d, totalAmount=amount[:-1] + str((int(amount[-1]) + 1) % 10))


NUVEI = Scheme(
    # A form post (DMN) carrying its checksum as the advanceResponseChecksum field.
    sign=_nuvei_sign,
    read=lambda d: _braintree_form(d).get("advanceResponseChecksum"),
    put=lambda d, signature, _: _braintree_with(d, advanceResponseChecksum=signature),
    remove=lambda d: _braintree_with(d, advanceResponseChecksum=None),
    tamper=_nuvei_tamper,
)


def _airwallex_timestamp(d: Delivery) -> int:
    """x-timestamp is Unix milliseconds; the scheme works in seconds (whole ones)."""
    stamp = int({k.lower(): v for k, v in d.headers.items()}["x-timestamp"])
    assert stamp % 1000 == 0, "the base fixture is stamped on a whole second"
    return stamp // 1000


AIRWALLEX = Scheme(
    # hex(HMAC-SHA256(secret, x-timestamp + body)), x-timestamp in milliseconds, the signature
    # alone in x-signature; 300 s tolerance (the spec's, as the docs' examples check it).
    sign=lambda d, secret, _, t: _hmac(
        "sha256", secret.encode(), f"{t * 1000}".encode() + d.body
    ).hex(),
    read=lambda d: {k.lower(): v for k, v in d.headers.items()}.get("x-signature"),
    put=lambda d, signature, t: d.with_header("x-timestamp", f"{t * 1000}").with_header(
        "x-signature", signature
    ),
    remove=lambda d: d.with_header("x-signature", None),
    tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), "amount").encode()),
    tolerance=300,
    timestamp=_airwallex_timestamp,
)


def _mercado_pago_sign(d: Delivery, secret: str, _: Mapping[str, str], __: int | None) -> str:
    """hex(HMAC-SHA256(secret, "id:<data.id>;request-id:<x-request-id>;ts:<ts>;")), Mercado
    Pago's manifest (devsite-docs "Webhooks", Validate notification origin); ts is the one in
    x-signature. The body itself is not signed: data.id is what a tampering must change."""
    headers = {k.lower(): v for k, v in d.headers.items()}
    pairs = dict(p.split("=", 1) for p in headers["x-signature"].split(","))
    data_id = str(json.loads(d.body)["data"]["id"]).lower()
    manifest = f"id:{data_id};request-id:{headers['x-request-id']};ts:{pairs['ts']};"
    return _hmac("sha256", secret.encode(), manifest.encode()).hex()


def _mercado_pago_read(d: Delivery) -> str | None:
    value = {k.lower(): v for k, v in d.headers.items()}.get("x-signature")
    return None if value is None else dict(p.split("=", 1) for p in value.split(",")).get("v1")


def _mercado_pago_put(d: Delivery, signature: str, _: int | None) -> Delivery:
    ts = "1767268801"  # the fixtures' ts; no replay window is documented
    return d.with_header("x-signature", f"ts={ts},v1={signature}")


MERCADO_PAGO = Scheme(
    sign=lambda d, secret, settings, t: _mercado_pago_sign(
        d.with_header("x-signature", d.headers.get("x-signature") or "ts=1767268801,v1="),
        secret,
        settings,
        t,
    ),
    read=_mercado_pago_read,
    put=_mercado_pago_put,
    remove=lambda d: d.with_header("x-signature", None),
    tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), "id").encode()),
)


def _cashfree_timestamp(d: Delivery) -> int:
    """x-webhook-timestamp is Unix milliseconds; the scheme works in whole seconds."""
    stamp = int({k.lower(): v for k, v in d.headers.items()}["x-webhook-timestamp"])
    assert stamp % 1000 == 0, "the base fixture is stamped on a whole second"
    return stamp // 1000


CASHFREE = Scheme(
    # base64(HMAC-SHA256(client secret, x-webhook-timestamp + body)), the timestamp in
    # milliseconds; 300 s tolerance (the spec's).
    sign=lambda d, secret, _, t: base64.b64encode(
        _hmac("sha256", secret.encode(), f"{t * 1000}".encode() + d.body)
    ).decode(),
    read=lambda d: {k.lower(): v for k, v in d.headers.items()}.get("x-webhook-signature"),
    put=lambda d, signature, t: d.with_header("x-webhook-timestamp", f"{t * 1000}").with_header(
        "x-webhook-signature", signature
    ),
    remove=lambda d: d.with_header("x-webhook-signature", None),
    tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), "payment_amount").encode()),
    tolerance=300,
    timestamp=_cashfree_timestamp,
)


#: The key Trustly's fixture notifications are signed with (a test key standing in for
#: Trustly's); a delivery "signed with another secret" is signed with a stranger's key.
_TRUSTLY_KEY = (ROOT / "trustly" / "trustly_test_key.pem").read_bytes()


def _trustly_serialize(data: Any) -> str:
    """serialize_data of Trustly's Python client: keys sorted, each followed by its value."""
    if isinstance(data, list):
        return "".join(_trustly_serialize(item) for item in data)
    if isinstance(data, dict):
        return "".join(str(k) + _trustly_serialize(data[k]) for k in sorted(data))
    return "" if data is None else str(data)


def _trustly_sign(d: Delivery, secret: str, _: Mapping[str, str], __: int | None) -> str:
    """base64(RSA-SHA1(Trustly's key, method + uuid + serialize(data))): the secret given is
    the public key the receiver verifies with; another than the fixture's means another key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    own = serialization.load_pem_private_key(_TRUSTLY_KEY, password=None)
    assert isinstance(own, rsa.RSAPrivateKey)
    public = own.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = own if secret.encode() == public else _stranger_key()
    note = json.loads(d.body)
    text = note["method"] + note["params"]["uuid"] + _trustly_serialize(note["params"]["data"])
    sha1 = hashes.SHA1()  # noqa: S303 (Trustly's signature scheme)
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), sha1)).decode()


def _stranger_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _trustly_edit(d: Delivery, signature: str | None) -> Delivery:
    note = json.loads(d.body)
    note["params"].pop("signature", None)
    if signature is not None:
        note["params"]["signature"] = signature
    return replace(d, body=json.dumps(note, indent=2).encode())


TRUSTLY = Scheme(
    sign=_trustly_sign,
    read=lambda d: json.loads(d.body)["params"].get("signature"),
    put=lambda d, signature, _: _trustly_edit(d, signature),
    remove=lambda d: _trustly_edit(d, None),
    tamper=lambda d: replace(d, body=_bump_last_digit(d.body.decode(), "amount").encode()),
)


SCHEMES: dict[str, Scheme] = {
    "stripe": STRIPE,
    # RSA-SHA1 with Trustly's key over method + uuid + serialize(data), in params.signature.
    "trustly": TRUSTLY,
    # Signed, and confirmed by a fetch as well (the body says only which payment changed).
    "mercado_pago": MERCADO_PAGO,
    "airwallex": AIRWALLEX,
    "cashfree": CASHFREE,
    "adyen": ADYEN,
    "braintree": BRAINTREE,
    "nuvei": NUVEI,
    # hex(HMAC-SHA256(key, body)) in Cko-Signature.
    "checkout_com": header_scheme(
        "Cko-Signature", lambda d, s, _: _hmac("sha256", s.encode(), d.body).hex(), "amount"
    ),
    "nmi": NMI,
    # hex(HMAC-SHA256(endpoint secret, body)) in Webhook-Signature; the events carry no
    # amount, so the tampered byte is the event's creation year.
    "gocardless": header_scheme(
        "Webhook-Signature",
        lambda d, s, _: _hmac("sha256", s.encode(), d.body).hex(),
        "created_at",
    ),
    # hex(HMAC-SHA256(webhook secret, body)) in X-Razorpay-Signature.
    "razorpay": header_scheme(
        "X-Razorpay-Signature", lambda d, s, _: _hmac("sha256", s.encode(), d.body).hex(), "amount"
    ),
    # base64(HMAC-SHA256(signature key, notification URL + body)).
    "square": header_scheme(
        "x-square-hmacsha256-signature",
        lambda d, s, settings: base64.b64encode(
            _hmac("sha256", s.encode(), settings["webhook_notification_url"].encode() + d.body)
        ).decode(),
        "amount",
    ),
    # hex(HMAC-SHA256(webhook secret token, body)) in X-Komoju-Signature.
    "komoju": header_scheme(
        "X-Komoju-Signature", lambda d, s, _: _hmac("sha256", s.encode(), d.body).hex(), "amount"
    ),
    # hex(HMAC-SHA512(secret key, body)) in x-paystack-signature.
    "paystack": header_scheme(
        "x-paystack-signature", lambda d, s, _: _hmac("sha512", s.encode(), d.body).hex(), "amount"
    ),
    # base64(HMAC-SHA256(webhook secret key, body)) in X-GCS-Signature (Worldline's SDK
    # SignatureValidator).
    "worldline": header_scheme(
        "X-GCS-Signature",
        lambda d, s, _: base64.b64encode(_hmac("sha256", s.encode(), d.body)).decode(),
        "amount",
    ),
    # hex(SHA-512(body + app key)) in X-GP-Signature: a digest, not an HMAC (GP API).
    "global_payments": header_scheme(
        "X-GP-Signature",
        lambda d, s, _: hashlib.sha512(d.body + s.encode()).hexdigest(),
        "amount",
    ),
    # "V2-HMAC-SHA256, Signature: " + hex(HMAC-SHA256(secret key, X-Login + X-Date + body)).
    "dlocal": header_scheme(
        "Authorization",
        lambda d, s, settings: _hmac(
            "sha256",
            s.encode(),
            (settings["x_login"] + _header(d, "X-Date")).encode() + d.body,
        ).hex(),
        "amount",
        prefix="V2-HMAC-SHA256, Signature: ",
    ),
    # base64 of the hex text of HMAC-SHA256(secret, webhook URL + salt + timestamp + access key
    # + secret + body): the secret is part of the signed text.
    "rapyd": header_scheme(
        "signature",
        lambda d, s, settings: base64.b64encode(
            _hmac(
                "sha256",
                s.encode(),
                (
                    settings["webhook_url"]
                    + _header(d, "salt")
                    + _header(d, "timestamp")
                    + settings["access_key"]
                    + s
                ).encode()
                + d.body,
            )
            .hex()
            .encode()
        ).decode(),
        "amount",
    ),
    # sha512=<UPPER hex HMAC-SHA512(key, body)>, compared case-insensitively.
    "authorize_net": header_scheme(
        "X-ANET-Signature",
        lambda d, s, _: _hmac("sha512", s.encode(), d.body).hex().upper(),
        "authAmount",
        prefix="sha512=",
    ),
}

#: Specs whose webhooks carry a shared verification token (scheme `token`): the header, and the
#: valid delivery the checks start from.
TOKENS: dict[str, tuple[str, str]] = {"xendit": ("x-callback-token", "payment_capture")}

#: Specs whose events are confirmed by fetching the payment, not by a signature (flutterwave
#: checks its verif-hash token first: tests/connectors/flutterwave/ covers both refusals).
CONFIRMED_BY_FETCH = (
    "ebanx",
    "flutterwave",
    "klarna",
    "mercado_pago",
    "mollie",
    "paypal",
    "worldpay",
)


# --- fixtures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    name: str
    delivery: Delivery
    secret: str
    now: int | None


def valid_fixtures(connector: str) -> list[Fixture]:
    """The connector's delivery fixtures that verify (expect events, not a rejection)."""
    found = []
    for folder in ("webhooks", "webhook_deliveries", "deliveries"):
        for path in sorted((ROOT / connector / folder).glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if "rejected" in data["expect"]:
                continue
            delivery = Delivery(response_body(data), dict(data.get("headers") or {}))
            found.append(Fixture(path.stem, delivery, str(data["secret"]), data.get("now")))
    return found


@dataclass(frozen=True)
class Case:
    connector: str
    scheme: Scheme
    base: Fixture
    other: Fixture
    settings: Mapping[str, str]

    @property
    def stamp(self) -> int | None:
        return self.scheme.timestamp(self.base.delivery) if self.scheme.timestamp else None

    def signed(self, delivery: Delivery, secret: str, stamp: int | None = None) -> Delivery:
        stamp = self.stamp if stamp is None else stamp
        signature = self.scheme.sign(delivery, secret, self.settings, stamp)
        return self.scheme.put(self.scheme.remove(delivery), signature, stamp)

    def parse(self, delivery: Delivery) -> Any:
        connector = load_connector(self.connector)
        return connector.parse_event(
            delivery.body,
            delivery.headers,
            self.base.secret,
            now=self.base.now,
            credentials=credentials_for(self.connector),
            # A spec that also confirms by a fetch: the signature is what is attacked here.
            allow_unconfirmed=connector.plan.webhooks is not None
            and connector.plan.webhooks.confirm_flow is not None,
        )

    def rejection(self, delivery: Delivery) -> str:
        with pytest.raises(WebhookError) as caught:
            self.parse(delivery)
        assert self.base.secret not in str(caught.value)
        return caught.value.reason


#: The valid delivery each attack starts from: a payment event with an amount to tamper with.
BASE = {
    "adyen": "authorisation_success",
    "authorize_net": "authcapture_created",
    "braintree": "transaction_settled",
    "checkout_com": "payment_captured",
    "komoju": "payment_captured",
    "paystack": "charge_success",
    "gocardless": "payments_confirmed",
    "nmi": "sale_success",
    "dlocal": "payment_paid",
    "rapyd": "payment_completed",
    "razorpay": "payment_captured",
    "airwallex": "payment_intent_succeeded",
    "cashfree": "payment_success_card",
    "square": "payment_updated_completed",
    "stripe": "payment_intent_succeeded",
    "mercado_pago": "payment_approved",
    "worldline": "payment_captured",
    "nuvei": "sale_approved",
    "global_payments": "sale_captured",
    "trustly": "credit",
}


def _case(connector: str) -> Case:
    fixtures = valid_fixtures(connector)
    base = next(f for f in fixtures if f.name == BASE[connector])
    # Another event: a different delivery of the same processor (a different body).
    other = next(f for f in fixtures if f.delivery.body != base.delivery.body)
    settings = {k: str(v) for k, v in credentials_for(connector).items()}
    return Case(connector, SCHEMES[connector], base, other, settings)


CASES = [_case(c) for c in sorted(SCHEMES)]
IDS = [c.connector for c in CASES]


# --- tests ------------------------------------------------------------------------------------


def test_every_spec_with_webhooks_is_covered() -> None:
    """A spec that signs its webhooks has a signer here; one that confirms them by fetching is
    listed; a spec without webhooks (cybersource, a newly scaffolded one) needs neither."""
    signing, fetching, unprotected = set(), set(), set()
    for path in sorted((ROOT.parent.parent / "specs" / "connectors").glob("*.yaml")):
        plan = load_connector(path.stem).plan
        if plan.webhooks is None:
            continue
        signature = plan.webhooks.signature
        if plan.webhooks.confirm_flow is not None:  # a token or signature first, maybe
            fetching.add(path.stem)
            # An HMAC signature checked before the fetch (mercado_pago) has its signer here.
            if signature is not None and signature.scheme == "hmac":
                signing.add(path.stem)
        elif signature is not None:
            signing.add(path.stem)
        else:
            unprotected.add(path.stem)
    assert signing == set(SCHEMES) | set(TOKENS)
    assert fetching == set(CONFIRMED_BY_FETCH)
    assert unprotected == set()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_independent_signer_reproduces_the_fixture(case: Case) -> None:
    base = case.base
    own = case.scheme.read(base.delivery)
    computed = case.scheme.sign(base.delivery, base.secret, case.settings, case.stamp)
    assert own is not None
    assert computed.lower() == own.lower()
    assert case.parse(base.delivery).events, "the valid fixture must verify"
    assert case.parse(case.signed(base.delivery, base.secret)).events


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_missing_signature_is_rejected(case: Case) -> None:
    assert case.rejection(case.scheme.remove(case.base.delivery)) == "missing_signature"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_wrong_secret_is_rejected(case: Case) -> None:
    wrong = case.base.secret[::-1]
    assert wrong != case.base.secret
    assert case.rejection(case.signed(case.base.delivery, wrong)) == "bad_signature"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_tampered_body_is_rejected(case: Case) -> None:
    tampered = case.scheme.tamper(case.base.delivery)
    assert tampered.body != case.base.delivery.body
    assert case.scheme.read(tampered) == case.scheme.read(case.base.delivery)
    assert case.rejection(tampered) == "bad_signature"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_another_events_signature_is_rejected(case: Case) -> None:
    other = case.signed(case.other.delivery, case.base.secret)
    signature = case.scheme.read(other)
    assert signature is not None
    assert signature != case.scheme.read(case.base.delivery)
    assert case.parse(other).events, "the other event verifies with its own body"
    moved = case.scheme.put(case.scheme.remove(case.base.delivery), signature, case.stamp)
    assert case.rejection(moved) == "bad_signature"


TIMESTAMPED = [c for c in CASES if c.scheme.tolerance is not None]
UNTIMESTAMPED = [c for c in CASES if c.scheme.tolerance is None]


@pytest.mark.parametrize("case", TIMESTAMPED, ids=[c.connector for c in TIMESTAMPED])
@pytest.mark.parametrize("offset", [-1, 1])
def test_a_replay_outside_the_window_is_rejected(case: Case, offset: int) -> None:
    assert case.scheme.tolerance is not None and case.base.now is not None
    edge = case.base.now + offset * case.scheme.tolerance
    assert case.parse(case.signed(case.base.delivery, case.base.secret, edge)).events
    late = case.signed(case.base.delivery, case.base.secret, edge + offset)
    assert case.rejection(late) == "stale_timestamp"


@pytest.mark.parametrize("case", UNTIMESTAMPED, ids=[c.connector for c in UNTIMESTAMPED])
def test_schemes_without_a_timestamp_give_an_event_id_to_deduplicate(case: Case) -> None:
    plan = load_connector(case.connector).plan
    assert plan.webhooks is not None and plan.webhooks.signature is not None
    assert plan.webhooks.signature.tolerance_seconds is None
    events = case.parse(case.base.delivery).events
    assert events and all(e.event_id for e in events), "a replay could not be recognised"


# --- shared tokens ----------------------------------------------------------------------------


def _token_case(connector: str) -> tuple[str, Fixture]:
    header, base = TOKENS[connector]
    return header, next(f for f in valid_fixtures(connector) if f.name == base)


def _token_reason(connector: str, delivery: Delivery, secret: str) -> str:
    with pytest.raises(WebhookError) as caught:
        load_connector(connector).parse_event(delivery.body, delivery.headers, secret)
    assert secret not in str(caught.value)
    return caught.value.reason


@pytest.mark.parametrize("connector", sorted(TOKENS))
def test_a_token_scheme_checks_the_token_and_only_the_token(connector: str) -> None:
    plan = load_connector(connector).plan
    assert plan.webhooks is not None and plan.webhooks.signature is not None
    assert plan.webhooks.signature.scheme == "token"
    header, base = _token_case(connector)
    # The fixture's token is the receiver's secret, byte for byte (computed here, not by the
    # engine: a token scheme has nothing to compute).
    given = {k.lower(): v for k, v in base.delivery.headers.items()}[header]
    assert hmac.compare_digest(given.encode(), base.secret.encode())
    parse = load_connector(connector).parse_event
    events = parse(base.delivery.body, base.delivery.headers, base.secret).events
    assert events and all(e.verified and e.event_id for e in events)
    missing = base.delivery.with_header(header, None)
    assert _token_reason(connector, missing, base.secret) == "missing_signature"
    wrong = base.delivery.with_header(header, base.secret[::-1])
    assert _token_reason(connector, wrong, base.secret) == "bad_signature"
    assert _token_reason(connector, base.delivery, base.secret + "x") == "bad_signature"
    # Nothing covers the body: a changed one still verifies (what the scheme can prove is who
    # sent it; the event is then confirmed by its ids and de-duplicated by event_id).
    changed = replace(base.delivery, body=base.delivery.body.replace(b"00000", b"00001", 1))
    assert changed.body != base.delivery.body
    assert parse(changed.body, changed.headers, base.secret).events
