"""The processor's answer as a Result may carry it (`Result.raw`, opt-in): scrubbed with the
sent request's scrubber (secrets, tokens, card data), cookies left out, the body bounded."""

from __future__ import annotations

from ._http import HttpResponse
from ._scrub import Scrubber
from ._unified import RAW_BODY_LIMIT, RawResponse

#: Response headers never carried: session state the caller has no use for.
_DROPPED = frozenset({"set-cookie", "set-cookie2"})


def raw_response_of(response: HttpResponse, scrubber: Scrubber) -> RawResponse:
    text = response.body.decode("utf-8", "replace")
    truncated = len(text) > RAW_BODY_LIMIT
    # Scrubbed whole, then cut: a secret straddling the limit is never half left in clear.
    body = scrubber.text(text)[:RAW_BODY_LIMIT] if truncated else scrubber.text(text)
    headers = {
        name.lower(): value
        for name, value in scrubber.headers(dict(response.headers)).items()
        if name.lower() not in _DROPPED
    }
    return RawResponse(response.status_code, headers, body, truncated)
