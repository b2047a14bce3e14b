"""engine._transport.refused_status: which status lines the HTTP parser refuses for their code
(the answer's fault: an invalid response), told apart from any other line."""

from __future__ import annotations

import pytest

from engine._transport import refused_status


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"HTTP/1.1 99 Fault Server\r", "99"),
        (b"HTTP/1.1 1000 OK", "1000"),
        (b"HTTP/1.1 099 OK", "099"),
        (b"HTTP/1.0 7", "7"),
        (b"HTTP/1.1 2OO OK", ""),  # letters: the processor's text is never repeated
        (b"HTTP/1.1 sk_live_leaked OK", ""),
        (b"HTTP/1.1 200 OK", None),
        (b"HTTP/1.1 600 Odd", None),  # three digits: the parser takes it, parse refuses it
        (b"HTTP/1.1 100 Continue", None),
        (b"garbage", None),
        (b"", None),
        (None, None),
    ],
)
def test_refused_status(line: bytes | None, code: str | None) -> None:
    assert refused_status(line) == code
