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


def test_the_engine_sends_only_its_own_request_through_any_client() -> None:
    """A shared httpx client's cookies, default headers and auth never ride along: one call's
    (or one tenant's) state cannot reach the next."""
    import httpx

    from engine._http import HttpRequest
    from engine._sending import Limits, send
    from engine._transport import new_client

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "machine=tenant-a; Path=/"}, json={})

    built = HttpRequest("GET", "https://api.example.com/v1/x", {"Accept": "application/json"}, None)
    shared = httpx.Client(
        transport=httpx.MockTransport(answer),
        headers={"Authorization": "Bearer other-tenant"},
        cookies={"session": "other-tenant"},
        auth=("user", "pass"),
    )
    for _ in range(2):
        assert not isinstance(send(shared, built, Limits(), None), Exception)
    for request in seen:
        assert "cookie" not in request.headers and "authorization" not in request.headers
    own = new_client()
    own.cookies.extract_cookies(
        httpx.Response(200, headers={"Set-Cookie": "machine=a"}, request=seen[0])
    )
    assert len(own.cookies.jar) == 0
