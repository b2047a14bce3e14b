"""engine._scrub: text that may hold secrets → text that does not."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

from engine._scrub import MASK, SENSITIVE_HEADERS, Scrubber, luhn_valid

VISA = "4111111111111111"
AMEX = "378282246310005"
MASTERCARD = "5555555555554444"


@pytest.mark.parametrize("number", [VISA, AMEX, MASTERCARD, "4242424242424242", "6011111111111117"])
def test_luhn_valid(number: str) -> None:
    assert luhn_valid(number) is True


@pytest.mark.parametrize("number", ["4111111111111112", "1234567890123", "378282246310006"])
def test_luhn_invalid(number: str) -> None:
    assert luhn_valid(number) is False


@pytest.mark.parametrize(
    "text",
    [
        f"card {VISA} ok",
        f'{{"number":"{VISA}"}}',
        f"number={VISA}&cvc=1",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "3782 822463 10005",
        f"{MASTERCARD}",
    ],
)
def test_luhn_valid_card_numbers_are_masked(text: str) -> None:
    scrubbed = Scrubber().text(text)
    assert MASK in scrubbed
    digits = "".join(c for c in scrubbed if c.isdigit())
    assert "41111111" not in digits
    assert "37828224" not in digits
    assert "55555555" not in digits


def test_exact_masking_keeps_the_surrounding_text() -> None:
    assert Scrubber().text(f'{{"number":"{VISA}","exp":12}}') == '{"number":"[REDACTED]","exp":12}'
    assert Scrubber().text("pan 4111 1111 1111 1111.") == "pan [REDACTED]."


@pytest.mark.parametrize(
    "text",
    [
        "order 4111111111111112",  # fails Luhn
        "1234567890123",  # 13 digits, fails Luhn
        "ts 17000000001",  # 11 digits: too short for a card
        "id 41111111111111110000",  # 20 digits: too long for a card
        "amount 1099",
    ],
)
def test_other_digit_runs_are_kept(text: str) -> None:
    assert Scrubber().text(text) == text


def test_secrets_are_masked_in_plain_form() -> None:
    scrubber = Scrubber(["sk_test_abcdef123456"])
    assert scrubber.text("Bearer sk_test_abcdef123456") == f"Bearer {MASK}"
    assert scrubber.text("keysk_test_abcdef123456tail") == f"key{MASK}tail"


def test_secrets_are_masked_when_url_encoded() -> None:
    secret = "key/with+special=chars &more"
    scrubber = Scrubber([secret])
    for encoded in (quote(secret, safe=""), quote_plus(secret), urlencode({"k": secret})[2:]):
        assert secret not in scrubber.text(encoded)
        assert scrubber.text(f"a={encoded}&b=1") == f"a={MASK}&b=1"


def test_secrets_are_masked_when_json_escaped() -> None:
    secret = 'pa"ss\\word/é'
    scrubber = Scrubber([secret])
    document = json.dumps({"password": secret})
    assert scrubber.text(document) == f'{{"password": "{MASK}"}}'
    # The engine's own JSON encoder writes non-ASCII as is (ensure_ascii=False).
    document = json.dumps({"password": secret}, ensure_ascii=False)
    assert scrubber.text(document) == f'{{"password": "{MASK}"}}'
    assert scrubber.text(secret) == MASK


def test_short_values_are_masked_only_as_whole_tokens() -> None:
    scrubber = Scrubber(["737"])
    assert scrubber.text('{"cvc":"737"}') == f'{{"cvc":"{MASK}"}}'
    assert scrubber.text("cvc=737&x=1") == f"cvc={MASK}&x=1"
    assert scrubber.text("amount 417370") == "amount 417370"
    assert scrubber.text("ref a737b") == "ref a737b"
    assert scrubber.text("7373") == "7373"


def test_the_longest_secret_wins() -> None:
    scrubber = Scrubber(["abcdefgh", "abcdefghijkl"])
    assert scrubber.text("x abcdefghijkl y") == f"x {MASK} y"


def test_empty_secrets_are_ignored() -> None:
    assert Scrubber(["", ""]).text("nothing to hide") == "nothing to hide"


def test_sensitive_headers_are_masked() -> None:
    assert {"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization"} <= (
        SENSITIVE_HEADERS
    )
    scrubber = Scrubber(["sk_test_abcdef123456"])
    headers = {
        "Authorization": "Basic dXNlcjpwYXNz",
        "X-API-Key": "anything",
        "Cookie": "session=1",
        "X-Echo": "sk_test_abcdef123456",
        "Content-Type": "application/json",
    }
    assert scrubber.headers(headers) == {
        "Authorization": MASK,
        "X-API-Key": MASK,
        "Cookie": MASK,
        "X-Echo": MASK,
        "Content-Type": "application/json",
    }


def test_case_variants_and_base64_of_a_secret_are_masked() -> None:
    import base64

    secret = "sk_test_51AbCdEfGh"
    scrubber = Scrubber([secret])
    for form in (secret.upper(), secret.lower(), base64.b64encode(secret.encode()).decode()):
        assert scrubber.text(f"key {form} echoed") == f"key {MASK} echoed"


def test_the_scrubber_learns_derived_auth_values_and_their_parts() -> None:
    header = 'keyid="merchant-key-1", signature="MpuhUJoD9MFyiNpu9jgP+5Xc7gU3N4GVfG8+4CccCZY="'
    basic = "Basic eDdrcTJtOWQ0bjZwOHIzdDpzZWNyZXQ="
    scrubber = Scrubber(derived=[header, basic])
    assert MASK in scrubber.text("sig MpuhUJoD9MFyiNpu9jgP+5Xc7gU3N4GVfG8+4CccCZY")
    assert scrubber.text("auth eDdrcTJtOWQ0bjZwOHIzdDpzZWNyZXQ=") == f"auth {MASK}"
    assert scrubber.text(header) == MASK
    assert scrubber.learn("another-derived-value").text("another-derived-value") == MASK


def test_result_strings_are_scrubbed_ids_keep_their_digits() -> None:
    from engine import ErrorInfo, Result

    result = Result(
        flow="authorize",
        connector="x",
        status="failed",
        connector_transaction_id="4111111111111111",
        error=ErrorInfo("invalid_request", f"bad key sk_live_abcdefgh1 card {VISA}", False),
    )
    cleaned = Scrubber(["sk_live_abcdefgh1"]).result(result)
    assert cleaned.error is not None
    assert cleaned.error.message == f"bad key {MASK} card {MASK}"
    # A processor id is only cleaned of known secrets, not of card-number look-alikes.
    assert cleaned.connector_transaction_id == "4111111111111111"


# -- the cheap paths: a search for folded variants first, plain secrets' variants, extension


def _every_variant(secret: str) -> set[str]:
    """The variants as the scrubber first wrote them out, for every secret alike."""
    import base64

    found = {secret, quote(secret, safe=""), quote_plus(secret), secret.upper(), secret.lower()}
    if len(secret) >= 8:
        raw = secret.encode("utf-8", "surrogatepass")
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            found |= {encoded.decode("ascii"), encoded.decode("ascii").rstrip("=")}
    found |= {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    found |= {repr(secret)[1:-1], repr(secret.encode("utf-8", "surrogatepass"))[2:-1]}
    return found - {""}


SECRETS = ["4242424242424242", "123", "sk_test_abc", "a-b.c~d_e", "p@ss word/+", "ключ-ß-Σ", 'q"\\']


@pytest.mark.parametrize("secret", SECRETS)
def test_variants_are_the_same_for_plain_secrets_and_others(secret: str) -> None:
    from engine._scrub import _variants_of

    assert _variants_of([secret]) == _every_variant(secret)


@pytest.mark.parametrize("secret", SECRETS)
def test_the_search_first_never_changes_what_is_replaced(secret: str) -> None:
    from engine._scrub import _pattern_of, _variants_of

    other = "unrelated-key-0000"
    plain = _pattern_of(_variants_of([secret, other]))
    assert plain is not None
    scrubbers = [Scrubber([secret, other]), Scrubber([other]).adding([secret])]
    for variant in _every_variant(secret):
        for text in (variant, f"x {variant} y", variant.upper(), f"ΣΑ{variant}ς", "nothing"):
            for scrubber in scrubbers:
                assert scrubber.known(text) == plain.sub(MASK, text), (variant, text)


def test_a_result_with_nothing_to_hide_is_returned_as_is() -> None:
    from engine import Result

    result = Result(flow="authorize", connector="acme", status="authorized", reference="r-1")
    assert Scrubber(["sk_live_secret"]).result(result) is result
    leaked = Result(flow="authorize", connector="acme", status="failed", reference="sk_live_secret")
    assert Scrubber(["sk_live_secret"]).result(leaked).reference == MASK


def test_adding_nothing_new_is_the_same_scrubber() -> None:
    scrubber = Scrubber(["sk_live_secret"])
    assert scrubber.adding(["sk_live_secret"]) is scrubber
    assert scrubber.learn() is scrubber
    assert scrubber.adding(["4242424242424242"]) is not scrubber
