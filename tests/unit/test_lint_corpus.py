"""The lint corpora under tests/lint_corpus/: one small bad spec per mistake.

- broken/*.yaml: each file's `# expect: LINE:COL: <message substring>` lines are exactly the
  problems `lint_file` reports (count, position, message), each reported once.
- hostile/*.yaml: a sandbox escape, resource bomb, file or environment read, host steering, header
  injection or path traversal. Either refused at lint time (`# expect:` lines, as above), or
  lint-clean and refused or neutralised when a request is built (`# runtime:`, checked by the
  harness below with a small fixed unified request), with nothing leaking. A YAML-level bomb,
  whose position of refusal depends on the loader's budget, says `# refused: <substring>`: lint
  reports at least one problem containing it (and the linter never raises).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine._build import build_request
from engine._errors import ConnectorServiceError, CredentialsError, RenderError
from engine._http import HttpRequest
from engine._spec import compile_file, lint_file

from .conftest import API_KEY, CARD_NUMBER, CVC

CORPUS = Path(__file__).resolve().parent.parent / "lint_corpus"
BROKEN = sorted((CORPUS / "broken").glob("*.yaml"))
HOSTILE = sorted((CORPUS / "hostile").glob("*.yaml"))

_EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$")
_RUNTIME = re.compile(r"^# runtime: (.+)$")
_REFUSED = re.compile(r"^# refused: (\S+)")

#: An environment variable whose value must never appear in anything a hostile spec produces.
CANARY_NAME = "LINT_CORPUS_CANARY"
CANARY_VALUE = "canary-5b1e9c0d7a"


def expectations(path: Path) -> list[tuple[int, int, str]]:
    found = []
    # Bytes, decoded leniently: a corpus file may hold bytes that are not UTF-8 on purpose.
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        match = _EXPECT.match(line)
        if match:
            found.append((int(match[1]), int(match[2]), match[3]))
    return found


def _note(path: Path, pattern: re.Pattern[str]) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        match = pattern.match(line)
        if match:
            return match[1]
    return None


def runtime_note(path: Path) -> str | None:
    return _note(path, _RUNTIME)


def refused_note(path: Path) -> str | None:
    return _note(path, _REFUSED)


def assert_problems_match(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} has no '# expect:' line"
    problems = lint_file(path)
    got = [(p.line, p.col, p.message) for p in problems]
    assert len(set(got)) == len(got), f"a problem is reported twice: {got}"
    assert len(problems) == len(expected), [p.format() for p in problems]
    for problem, (line, col, text) in zip(problems, expected, strict=True):
        assert (problem.line, problem.col) == (line, col), problem.format()
        assert text in problem.message, problem.format()
        assert problem.file == str(path)


def test_the_corpora_are_large_enough() -> None:
    assert len(BROKEN) >= 30
    assert len(HOSTILE) >= 10


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_spec_reports_exactly_its_problems(path: Path) -> None:
    assert_problems_match(path)
    if len(expectations(path)) > 1:
        # Several problems for one mistake must be explained in the file.
        assert "# why" in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("path", BROKEN + HOSTILE, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_the_linter_never_raises(path: Path) -> None:
    try:
        problems = lint_file(path)
    except BaseException as exc:  # any escape at all (even RecursionError) is the failure
        pytest.fail(f"lint_file raised {type(exc).__name__}: {exc}")
    assert isinstance(problems, list)


# --- hostile specs ---------------------------------------------------------------------------

CREDENTIALS = {"api_key": API_KEY}


def card_payment(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "amount": 1099,
        "currency": "USD",
        "reference": "order-1",
        "payment_method": {
            "type": "card",
            "card": {"number": CARD_NUMBER, "exp_month": 3, "exp_year": 2030, "cvc": CVC},
        },
    }
    request.update(overrides)
    return request


def body_of(built: HttpRequest) -> dict[str, Any]:
    return dict(json.loads(built.body or b"{}"))


def traversal_neutralised(built: HttpRequest) -> None:
    assert built.url == "https://eu-sandbox.acme-pay.com/v1/payments/..%2F..%2Fadmin"


def query_and_fragment_neutralised(built: HttpRequest) -> None:
    assert built.url == "https://eu-sandbox.acme-pay.com/v1/payments/x%3Fadmin%3D1%23frag"
    assert httpx.URL(built.url).query == b""


def dot_segment_neutralised(built: HttpRequest) -> None:
    # httpx (like any RFC 3986 client) removes dot segments: a bare ".." segment would climb.
    path = httpx.URL(built.url).path
    assert path.startswith("/v1/payments/") and path.endswith("/captures"), path


def stays_on_declared_host(built: HttpRequest) -> None:
    url = httpx.URL(built.url)
    assert (url.host, url.userinfo) == ("eu-sandbox.acme-pay.com", b"")
    assert url.path == "//evil.com/v1/payments"


def secret_not_in_body(built: HttpRequest) -> None:
    assert "reference" not in body_of(built)
    assert API_KEY not in (built.body or b"").decode()


def settings_only_in_body(built: HttpRequest) -> None:
    assert body_of(built)["reference"] == {"region": "eu"}
    assert API_KEY not in (built.body or b"").decode()


#: stem → (flow, request, credentials, expected exception type and message substring, or a check
#: of the built request when the attack is neutralised instead).
Outcome = tuple[type[Exception], str] | Callable[[HttpRequest], None]
RUNTIME_CASES: dict[str, tuple[str, dict[str, Any], dict[str, str], Outcome]] = {
    "attr_filter_class": ("authorize", card_payment(), CREDENTIALS, (RenderError, "is unsafe")),
    "str_format_escape": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "str.format is not available"),
    ),
    "repeat_huge": ("authorize", card_payment(), CREDENTIALS, (RenderError, "a repetition over")),
    "power_huge": ("authorize", card_payment(), CREDENTIALS, (RenderError, "an exponent over")),
    "host_steering_runtime": (
        "authorize",
        card_payment(),
        {**CREDENTIALS, "region": "evil.example/x?"},
        (CredentialsError, "left the declared host"),
    ),
    "crlf_header": (
        "authorize",
        card_payment(reference="a\r\nX-Evil: 1"),
        CREDENTIALS,
        (RenderError, "may not contain CR or LF"),
    ),
    "path_traversal": (
        "get",
        {"connector_transaction_id": "../../admin"},
        CREDENTIALS,
        traversal_neutralised,
    ),
    "host_userinfo_runtime": (
        "authorize",
        card_payment(),
        {**CREDENTIALS, "region": "evil.example@eu"},
        (CredentialsError, "left the declared host"),
    ),
    "path_query_fragment": (
        "get",
        {"connector_transaction_id": "x?admin=1#frag"},
        CREDENTIALS,
        query_and_fragment_neutralised,
    ),
    "path_dot_segment": (
        "capture",
        {"connector_transaction_id": ".."},
        CREDENTIALS,
        dot_segment_neutralised,
    ),
    "path_double_slash": ("authorize", card_payment(), CREDENTIALS, stays_on_declared_host),
    "map_attribute_dunder": ("authorize", card_payment(), CREDENTIALS, (RenderError, "is unsafe")),
    "format_map_escape": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "str.format is not available"),
    ),
    # Refused by the renderer, whatever its message: a method is no body value; output and
    # number size are bounded (MAX_OUTPUT_CHARS) for native values as for text.
    "attr_filter_method": ("authorize", card_payment(), CREDENTIALS, (RenderError, "")),
    "format_width_huge": ("authorize", card_payment(), CREDENTIALS, (RenderError, "")),
    "nested_filters_huge": ("authorize", card_payment(), CREDENTIALS, (RenderError, "")),
    "int_multiplication_huge": ("authorize", card_payment(), CREDENTIALS, (RenderError, "")),
    # Output-size accounting: every intercepted operation's operands and result are measured as
    # trees (a shared reference counted each time), so no composition of small steps escapes.
    "list_repeat_nested": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "list_repeat_of_list": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "set_sharing_tojson": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "set_sharing_join": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "set_sharing_text": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "set_sharing_percent": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "set_sharing_format": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "set_sharing_length": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "over its budget"),
    ),
    "sum_start_list": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "sum adds numbers only"),
    ),
    "expandtabs_huge": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        (RenderError, "'expandtabs' is not available"),
    ),
    "secret_via_get": ("authorize", card_payment(), CREDENTIALS, secret_not_in_body),
    "secret_via_whole_credentials": (
        "authorize",
        card_payment(),
        CREDENTIALS,
        settings_only_in_body,
    ),
}


def test_every_runtime_file_has_a_harness_case() -> None:
    runtime = {p.stem for p in HOSTILE if runtime_note(p) is not None}
    assert runtime == set(RUNTIME_CASES)


def assert_nothing_leaks(text: str) -> None:
    assert CANARY_VALUE not in text
    assert "root:" not in text  # the first line of /etc/passwd
    assert API_KEY not in text


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_hostile_spec_is_refused_or_neutralised(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CANARY_NAME, CANARY_VALUE)
    refused = refused_note(path)
    if refused is not None:
        assert runtime_note(path) is None and not expectations(path), path.name
        problems = lint_file(path)
        assert any(refused in p.message for p in problems), [p.format() for p in problems]
        for problem in problems:
            assert_nothing_leaks(problem.format())
        return
    if runtime_note(path) is None:
        assert_problems_match(path)
        for problem in lint_file(path):
            assert_nothing_leaks(problem.format())
        return
    assert not expectations(path), f"{path.name}: '# runtime:' and '# expect:' both given"
    assert lint_file(path) == []
    flow, request, credentials, outcome = RUNTIME_CASES[path.stem]
    plan = compile_file(path)
    if isinstance(outcome, tuple):
        kind, text = outcome
        with pytest.raises(ConnectorServiceError) as caught:
            build_request(plan, flow, request, credentials)
        assert type(caught.value) is kind, repr(caught.value)
        assert text in str(caught.value)
        assert_nothing_leaks(str(caught.value))
    else:
        built = build_request(plan, flow, request, credentials)
        outcome(built)
        assert_nothing_leaks(built.url + (built.body or b"").decode())
        assert "X-Evil" not in built.headers


#: What one render of the worst hostile template may allocate at its peak (tracemalloc).
RENDER_PEAK_BYTES = 16_000_000


@pytest.mark.parametrize(
    "name", [n for n in RUNTIME_CASES if n.startswith(("set_sharing", "list_repeat", "sum_"))]
)
def test_hostile_render_stays_within_a_memory_bound(name: str) -> None:
    import tracemalloc

    plan = compile_file(CORPUS / "hostile" / f"{name}.yaml")
    flow, request, credentials, _ = RUNTIME_CASES[name]
    tracemalloc.start()
    try:
        with pytest.raises(RenderError):
            build_request(plan, flow, request, credentials)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < RENDER_PEAK_BYTES, peak
