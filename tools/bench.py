"""Benchmark: build+parse per processor flow (and the worst flow against the median); the
Stripe authorize against a hand-written baseline, and its cost as the request grows; the
engine's Stripe authorize over HTTP against raw httpx sending the same bytes and against the
official `stripe` SDK making the same call, to the same local server (sync and async operations
per second); import + load of every bundled spec, the first call, and resident memory, each in
fresh interpreters (as a user's cold start would), with how load time and memory grow per spec
(synthetic copies of the bundled specs up to 30). Ratios compare runs made in the same process.
In-process figures and the fresh interpreters' times are CPU time of the measuring process
(`time.process_time`: on a shared machine, wall time counts the other processes' work too); the
HTTP figures are operations per second of wall time, the engine and its baseline interleaved.

    python tools/bench.py [--json] [--quick]

Inputs are the scenario fixtures in tests/connectors/<id>/scenarios (the first 2xx scenario of
each flow), so the benchmark measures realistic requests and processor responses. The HTTP
comparison uses tools/canned_server.py (127.0.0.1, a separate process) answering the recorded
Stripe response.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import (  # noqa: E402
    AsyncClient,
    Client,
    Credentials,
    HttpRequest,
    HttpResponse,
    Result,
    load_connector,
)
from engine._spec import bundled_spec_paths  # noqa: E402
from engine._unified import CheckResult, PaymentMethodDetails  # noqa: E402

try:
    from engine._spec_cache import render
except ImportError:  # an engine without loaded forms (an older one, to compare with)
    render = None  # type: ignore[assignment]

#: Run in a fresh interpreter: import the engine, make `count` specs available (the bundled
#: ones, then synthetic copies of them under other ids: argv[2] is a folder of them), and with
#: `every` read and compile each; report the time (ms) and the resident set size (MB, VmRSS).
_COLD_START = """
import sys, time
t0 = time.process_time()
import engine
count, folder, every = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "every"
if folder:  # the synthetic bundle: copies of linted specs, id changed only (so linted too)
    from pathlib import Path
    from engine import _connector, _manifest, _spec
    here = Path(folder).resolve()
    _spec.specs_dir = _connector.specs_dir = lambda: here
    _manifest.specs_dir = lambda: here
    _spec.is_linted = lambda path, raw: True
    try:  # as `connector docs` would write them for a bundle of that many specs
        from engine import _spec_cache
        _spec_cache.folder = lambda: here / "loaded"
    except ImportError:  # an older engine, without them
        pass
connectors = engine.bundled_connectors()[:count]
if every:
    for connector in connectors:
        connector.plan
elapsed = (time.process_time() - t0) * 1000
rss = 0
with open("/proc/self/status") as status:
    for line in status:
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
print(elapsed, rss, len(connectors))
"""

#: Fresh interpreter to the first authorize Result: import, load the connector, build, send to
#: the canned server (argv[1]), parse.
_FIRST_CALL = """
import json, sys, time
t0 = time.process_time()
from engine import Client
request = json.loads(sys.argv[2])
with Client("stripe", {"api_key": sys.argv[3]}, base_url=sys.argv[1],
            allow_undeclared_host=True) as client:
    result = client.authorize(request)
elapsed = (time.process_time() - t0) * 1000
assert result.status == "authorized", result
print(elapsed)
"""


def _fresh_env() -> dict[str, str]:
    """A user's interpreter: its bytecode cached (as pip installs it), here in a folder of its
    own so that the checkout is left as it is."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "connector-bench-pycache")
    env["PYTHONPATH"] = str(ROOT)
    return env


def _fresh(script: str, *args: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=True,
        env=_fresh_env(),
    ).stdout.split()


def best_us(func: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Best-of-`repeat` microseconds of this process's CPU time per call (the least disturbed
    run): on a machine shared with other work, wall time measures the other work too."""
    runs = timeit.repeat(func, number=number, repeat=repeat, timer=time.process_time)
    return min(runs) / number * 1e6


def scenarios(connector: str) -> dict[str, dict[str, Any]]:
    """The first scenario of each flow whose every answer is a 2xx body (the success path)."""
    found: dict[str, dict[str, Any]] = {}
    folder = ROOT / "tests" / "connectors" / connector / "scenarios"
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        answers = data.get("responses") or [data.get("response", {})]
        succeeded = "raises" not in data.get("expect", {}) and all(
            ("body" in a or "body_text" in a) and 200 <= a.get("status", 200) < 300 for a in answers
        )
        if succeeded:
            found.setdefault(data["flow"], data)
    return found


def authorized_scenario(connector: str) -> dict[str, Any] | None:
    """The first card authorize scenario the processor approved (manual capture)."""
    folder = ROOT / "tests" / "connectors" / connector / "scenarios"
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if data["flow"] == "authorize" and data.get("expect", {}).get("status") == "authorized":
            return data
    return None


def _http_answers(scenario: dict[str, Any]) -> list[HttpResponse]:
    answers = scenario.get("responses") or [scenario["response"]]
    return [
        HttpResponse(
            a.get("status", 200),
            {},
            a["body_text"].encode() if "body_text" in a else json.dumps(a["body"]).encode(),
        )
        for a in answers
    ]


def build_and_parse(
    connector: Any, flow: str, request: Any, creds: Any, answers: list[Any]
) -> None:
    """Every request of the flow built and every answer parsed, as the client would."""
    token = "bench-token" if connector.plan.auth.token else None
    steps: dict[str, Any] = {}
    for index, answer in enumerate(answers[:-1]):
        connector.build_request(flow, request, creds, step=index, steps=steps, access_token=token)
        name = connector.plan.flows[flow].steps[index].name
        steps[name] = connector.parse_step(flow, index, request, answer, steps=steps)
    connector.build_request(
        flow, request, creds, step=len(answers) - 1, steps=steps, access_token=token
    )
    connector.parse_response(flow, request, answers[-1], steps=steps or None)


def credentials(connector: str) -> dict[str, str]:
    path = ROOT / "tests" / "connectors" / connector / "credentials.json"
    return json.loads(path.read_text()) if path.exists() else {}


# --- the hand-written baseline: Stripe authorize, as a careful engineer would write it directly


def handwritten_body(request: dict[str, Any]) -> bytes:
    card = request["payment_method"].get("card")
    params: list[tuple[str, str]] = [
        ("amount", str(request["amount"])),
        ("currency", request["currency"].lower()),
        ("capture_method", request.get("capture_method", "automatic")),
        ("confirm", "true"),
        ("payment_method_types[0]", "card"),
        ("expand[0]", "latest_charge"),
    ]
    if card:
        params += [
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][number]", card["number"]),
            ("payment_method_data[card][exp_month]", str(card["exp_month"])),
            ("payment_method_data[card][exp_year]", str(card["exp_year"])),
            ("payment_method_data[card][cvc]", card["cvc"]),
        ]
    else:
        params.append(("payment_method", request["payment_method"]["token"]))
    for key, value in (request.get("metadata") or {}).items():
        params.append((f"metadata[{key}]", value))
    encoded = urlencode(params).encode()
    return encoded


def _stripe_status(data: dict[str, Any]) -> str:
    status = data.get("status")
    if status == "succeeded":
        received = data.get("amount_received")
        partial = received is not None and 0 < received < data.get("amount", 0)
        return "partially_captured" if partial else "captured"
    return {
        "requires_capture": "authorized",
        "requires_action": "requires_action",
        "processing": "pending",
        "requires_confirmation": "pending",
        "canceled": "voided",
        "requires_payment_method": "failed",
    }.get(status, "unresolved")


def _headers(request: dict[str, Any], api_key: str) -> dict[str, str]:
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Stripe-Version": "2023-08-16",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    if request.get("idempotency_key"):
        headers["Idempotency-Key"] = request["idempotency_key"]
    return headers


def handwritten_stripe_authorize(request: dict[str, Any], api_key: str, body: bytes) -> Result:
    """The thin baseline the issue measured against: the same request bytes, and a Result of
    nine fields (status, ids, amount, currency)."""
    encoded = handwritten_body(request)
    headers = _headers(request, api_key)
    assert encoded and headers
    data = json.loads(body)
    return Result(
        flow="authorize",
        connector="stripe",
        status=_stripe_status(data),
        connector_status=data.get("status"),
        connector_transaction_id=data.get("id"),
        amount=data.get("amount"),
        currency=(data.get("currency") or "").upper() or None,
        http_status=200,
        idempotency_key=request.get("idempotency_key"),
    )


_CVC = {"pass": "match", "fail": "no_match"}


def handwritten_same_result(request: dict[str, Any], api_key: str, body: bytes) -> Result:
    """The same request bytes and the same Result as the engine's (asserted equal by the
    bench): every field the spec reads from this answer (amounts, card details, checks)."""
    encoded = handwritten_body(request)
    headers = _headers(request, api_key)
    assert encoded and headers
    data = json.loads(body)
    charge = data.get("latest_charge") or {}
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    checks = card.get("checks") or {}
    authorized = None
    if (charge.get("outcome") or {}).get("type") == "authorized":
        authorized = card.get("amount_authorized") or charge.get("amount")
    created = data.get("created")
    cvc = checks.get("cvc_check")
    return Result(
        flow="authorize",
        connector="stripe",
        status=_stripe_status(data),
        connector_status=data.get("status"),
        connector_transaction_id=data.get("id"),
        amount=data.get("amount"),
        currency=(data.get("currency") or "").upper() or None,
        network_transaction_id=card.get("network_transaction_id"),
        http_status=200,
        idempotency_key=request.get("idempotency_key"),
        authorized_amount=authorized,
        captured_amount=data.get("amount_received"),
        refunded_amount=charge.get("amount_refunded"),
        capturable_amount=data.get("amount_capturable"),
        authorization_code=charge.get("authorization_code"),
        connector_customer_id=data.get("customer"),
        payment_method_id=data.get("payment_method"),
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created)) if created else None,
        payment_method_details=PaymentMethodDetails(
            brand=card.get("brand"),
            last4=card.get("last4"),
            funding=card.get("funding"),
            issuing_country=card.get("country"),
            exp_month=card.get("exp_month"),
            exp_year=card.get("exp_year"),
        )
        if card
        else None,
        cvc=CheckResult(code=_CVC.get(cvc, cvc), raw=cvc) if cvc else None,
    )


def guarantees_floor(
    connector: Any, request: dict[str, Any], creds: Any, body: bytes
) -> Callable[[], Result]:
    """handwritten_same_result plus only what the engine must do whatever its design (the
    contract and the security rules): validate the request against the unified schema (refused
    naming the field before anything is sent), decode the answer refusing duplicate keys,
    collect the card data of the request and scrub every string of the Result with it. A
    lower bound of build+parse for an engine that keeps its guarantees."""
    from engine._card_data import card_data_values
    from engine._requests import validate_request
    from engine._scrub import Scrubber

    decode = connector.plan.flows["authorize"].response.decode
    api_key = creds["api_key"]
    held = Scrubber((api_key,))  # once per client, as the engine keeps it with the credentials

    def run() -> Result:
        validate_request("authorize", request)
        scrubber = held.adding(card_data_values(request))
        decode(body)
        return scrubber.result(handwritten_same_result(request, api_key, body))

    return run


def cold_start(
    runs: int, count: int = 0, folder: str = "", every: bool = True
) -> tuple[float, float]:
    """Best time (ms) over fresh interpreters, and the RSS (MB) of that run: import + `count`
    specs (0: every bundled one) made available, and with `every` each read and compiled."""
    best = (float("inf"), 0.0)
    for _ in range(runs):
        out = _fresh(_COLD_START, str(count or 10_000), folder, "every" if every else "lazy")
        best = min(best, (float(out[0]), float(out[1])))
    return best


def synthetic_bundle(folder: Path, total: int) -> None:
    """The bundled specs, then copies of them under new ids (`<id>_copy<n>`) up to `total`."""
    paths = bundled_spec_paths()
    for index in range(total):
        source = paths[index % len(paths)]
        copy = index // len(paths)
        name = source.stem if copy == 0 else f"{source.stem}_copy{copy}"
        text = source.read_text()
        if copy:
            text = text.replace(f"\nid: {source.stem}\n", f"\nid: {name}\n", 1)
            assert f"\nid: {name}\n" in text, source
        (folder / f"{name}.yaml").write_text(text)
        if render is not None:  # the loaded form `connector docs` writes (engine/_spec_cache)
            (folder / "loaded").mkdir(exist_ok=True)
            module = render(folder / f"{name}.yaml")
            assert module is not None, source
            (folder / "loaded" / f"{name}.py").write_text(module)


def _line(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares (slope, intercept) through `points`."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var
    return slope, mean_y - slope * mean_x


def growth(runs: int) -> dict[str, Any]:
    """How start-up time and memory grow with the number of specs: fresh interpreters over 1,
    5, 10, all bundled, 20 and 30 specs (copies past the bundle), each eager (every spec read
    and compiled) and as a process starts (specs on first use); least-squares slope per spec."""
    bundled = len(bundled_spec_paths())
    counts = sorted({1, 5, 10, bundled, 20, 30})
    figures: dict[str, Any] = {"counts": counts}
    with tempfile.TemporaryDirectory() as folder:
        synthetic_bundle(Path(folder), max(counts))
        for every, label in ((True, "load"), (False, "start")):
            times: list[tuple[int, float]] = []
            memory: list[tuple[int, float]] = []
            for count in counts:
                ms, mb = cold_start(runs, count, folder, every)
                times.append((count, ms))
                memory.append((count, mb))
            slope, intercept = _line(times)
            mb_slope, mb_intercept = _line(memory)
            figures[f"{label}_ms"] = [round(ms, 1) for _, ms in times]
            figures[f"{label}_ms_per_spec"] = round(slope, 2)
            figures[f"{label}_ms_intercept"] = round(intercept, 1)
            figures[f"{label}_rss_mb"] = [round(mb, 1) for _, mb in memory]
            figures[f"{label}_rss_mb_per_spec"] = round(mb_slope, 3)
            figures[f"{label}_rss_mb_intercept"] = round(mb_intercept, 1)
    return figures


def first_call(url: str, request: dict[str, Any], api_key: str, runs: int) -> float:
    """Best ms over fresh interpreters from `import engine` to the first authorize Result."""
    return min(
        float(_fresh(_FIRST_CALL, url, json.dumps(request), api_key)[0]) for _ in range(runs)
    )


@contextmanager
def canned_server(body: bytes) -> Iterator[str]:
    """tools/canned_server.py in its own process, answering `body`; yields its base URL."""
    with tempfile.NamedTemporaryFile(suffix=".json") as file:
        file.write(body)
        file.flush()
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "canned_server.py"), file.name],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            yield f"http://127.0.0.1:{int(server.stdout.readline())}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def ops_per_second(call: Callable[[], object], number: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            call()
        best = min(best, time.perf_counter() - start)
    return number / best


def async_ops_per_second(
    call: Callable[[], Awaitable[object]], number: int, rounds: int, concurrency: int = 4
) -> float:
    """Operations per second with `concurrency` calls in flight on one event loop."""

    async def run() -> float:
        async def worker(count: int) -> None:
            for _ in range(count):
                await call()

        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            await asyncio.gather(*(worker(number // concurrency) for _ in range(concurrency)))
            best = min(best, time.perf_counter() - start)
        return (number // concurrency * concurrency) / best

    return asyncio.run(run())


def raw_request(built: HttpRequest) -> Callable[[], httpx.Request]:
    """The engine's request as httpx sends it (`engine._sending`): the built headers and the
    Accept-Encoding the engine offers, nothing of the client's defaults; the same bytes."""
    headers = {k: v for k, v in built.headers.items() if k.lower() != "accept-encoding"}
    headers["Accept-Encoding"] = "gzip, deflate"
    assert built.body is not None
    body = built.body
    return lambda: httpx.Request(built.method, built.url, headers=headers, content=body)


def sdk_comparison(
    request: dict[str, Any], api_key: str, body: bytes, quick: bool
) -> dict[str, float]:
    """The engine's Stripe authorize (Client / AsyncClient over httpx) against raw httpx sending
    the same bytes (the practical limit: the engine's own cost is the gap), and against the
    official SDK making the same PaymentIntent call (sync: its default HTTP client; async: its
    httpx client); all against one canned_server answering the recorded response."""
    import stripe  # a dev dependency; imported here so the rest of the bench runs without it

    card = request["payment_method"]["card"]
    params: Any = {  # the SDK's TypedDict; built from the same request as the engine's
        "amount": request["amount"],
        "currency": request["currency"].lower(),
        "capture_method": request["capture_method"],
        "confirm": True,
        "payment_method_types": ["card"],
        "expand": ["latest_charge"],
        "payment_method_data": {"type": "card", "card": dict(card)},
        "metadata": request["metadata"],
    }
    options: Any = {"idempotency_key": request["idempotency_key"]}
    number, rounds = (100, 3) if quick else (1000, 5)
    with canned_server(body) as url:
        sdk = stripe.StripeClient(api_key, base_addresses={"api": url}, max_network_retries=0)
        sdk_async = stripe.StripeClient(
            api_key,
            base_addresses={"api": url},
            max_network_retries=0,
            http_client=stripe.HTTPXClient(),
        )
        with Client(
            "stripe", {"api_key": api_key}, base_url=url, allow_undeclared_host=True
        ) as engine_client:
            first = engine_client.authorize(request)
            assert first.status == "authorized", first
            assert sdk.v1.payment_intents.create(params, options).status == "requires_capture"
            built = engine_client.connector.build_request(
                "authorize",
                request,
                {"api_key": api_key},
                base_url=url,
                allow_undeclared_host=True,
            )
            make = raw_request(built)
            raw = httpx.Client()

            def raw_call() -> bytes:
                response = raw.send(make())
                assert response.status_code == 200
                return response.content

            raw_call()
            engine_sync = sdk_sync = raw_sync = 0.0
            for _ in range(2):  # interleaved, so machine noise hits all alike
                engine_sync = max(
                    engine_sync,
                    ops_per_second(lambda: engine_client.authorize(request), number, rounds),
                )
                raw_sync = max(raw_sync, ops_per_second(raw_call, number, rounds))
                sdk_sync = max(
                    sdk_sync,
                    ops_per_second(
                        lambda: sdk.v1.payment_intents.create(params, options), number, rounds
                    ),
                )
            raw.close()

        async def engine_once(holder: list[AsyncClient]) -> object:
            return await holder[0].authorize(request)

        holder: list[AsyncClient] = []

        async def engine_call() -> object:
            if not holder:
                holder.append(
                    AsyncClient(
                        "stripe", {"api_key": api_key}, base_url=url, allow_undeclared_host=True
                    )
                )
            return await engine_once(holder)

        raw_async: list[httpx.AsyncClient] = []

        async def raw_async_call() -> bytes:
            if not raw_async:
                raw_async.append(httpx.AsyncClient())
            response = await raw_async[0].send(make())
            assert response.status_code == 200
            return response.content

        engine_async = raw_async_ops = 0.0
        for _ in range(2):  # interleaved, as above; each run has its own event loop
            holder.clear()
            raw_async.clear()
            engine_async = max(engine_async, async_ops_per_second(engine_call, number, rounds))
            raw_async_ops = max(raw_async_ops, async_ops_per_second(raw_async_call, number, rounds))
        sdk_async_ops = async_ops_per_second(
            lambda: sdk_async.v1.payment_intents.create_async(params, options), number, rounds
        )
        first_call_ms = first_call(url, request, api_key, 3 if quick else 7)
    return {
        "engine_sync_ops_s": round(engine_sync, 1),
        "raw_httpx_sync_ops_s": round(raw_sync, 1),
        "raw_httpx_ratio": round(engine_sync / raw_sync, 2),
        "engine_overhead_sync_us": round((1 / engine_sync - 1 / raw_sync) * 1e6, 1),
        "sdk_sync_ops_s": round(sdk_sync, 1),
        "sdk_ratio": round(engine_sync / sdk_sync, 2),
        "engine_async_ops_s": round(engine_async, 1),
        "raw_httpx_async_ops_s": round(raw_async_ops, 1),
        "raw_httpx_async_ratio": round(engine_async / raw_async_ops, 2),
        "sdk_async_ops_s": round(sdk_async_ops, 1),
        "sdk_async_ratio": round(engine_async / sdk_async_ops, 2),
        "first_call_ms": round(first_call_ms, 1),
    }


def measure(quick: bool) -> dict[str, Any]:
    number = 200 if quick else 2000
    runs = 3 if quick else 7
    load_ms, rss_mb = cold_start(runs)
    start_ms, start_rss_mb = cold_start(runs, every=False)

    flows: dict[str, dict[str, float]] = {}
    for path in bundled_spec_paths():
        connector = load_connector(path.stem)
        creds = Credentials.for_plan(connector.plan, credentials(connector.id))
        for flow, scenario in scenarios(connector.id).items():
            request = scenario["request"]
            answers = _http_answers(scenario)

            def run(
                c: Any = connector,
                f: str = flow,
                r: Any = request,
                a: Any = answers,
                k: Any = creds,
            ) -> None:
                build_and_parse(c, f, r, k, a)

            flows.setdefault(connector.id, {})[flow] = best_us(run, number)

    every_flow = [micros for by_flow in flows.values() for micros in by_flow.values()]
    worst = max(
        ((micros, f"{cid} {flow}") for cid, fl in flows.items() for flow, micros in fl.items())
    )
    median = statistics.median(every_flow)
    figures: dict[str, Any] = {
        "load_ms": round(load_ms, 1),
        "rss_mb": round(rss_mb, 1),
        "start_ms": round(start_ms, 1),
        "start_rss_mb": round(start_rss_mb, 1),
        "flows_us": flows,
        "flow_median_us": round(median, 1),
        "flow_worst_us": round(worst[0], 1),
        "flow_worst": worst[1],
        "worst_over_median": round(worst[0] / median, 2),
        "growth": growth(2 if quick else 3),
    }
    stripe = authorized_scenario("stripe")
    if stripe is not None:
        connector = load_connector("stripe")
        creds = credentials("stripe")
        # The request the hand-written version handles (card, capture method, metadata, key); the
        # two must send the same bytes, or the comparison would flatter one of them.
        request = {
            "amount": 1099,
            "currency": "USD",
            "capture_method": "manual",
            "idempotency_key": "bench-1",
            "metadata": {"order": "A-1"},
            "payment_method": {
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            },
        }
        body = json.dumps(stripe["response"]["body"]).encode()
        response = HttpResponse(200, {}, body)
        # Credentials as a Client holds them: checked once, not on every call.
        held = Credentials.for_plan(connector.plan, creds)
        built = connector.build_request("authorize", request, held)
        assert built.body == handwritten_body(request), "the baseline must send the same body"
        same = handwritten_same_result(request, creds["api_key"], body)
        engine_result = connector.parse_response("authorize", request, response)
        assert same == engine_result, "the full baseline must give the engine's very Result"
        floor = guarantees_floor(connector, request, creds, body)
        assert floor() == engine_result

        def engine_run() -> None:
            connector.build_request("authorize", request, held)
            connector.parse_response("authorize", request, response)

        def hand_run() -> None:
            handwritten_stripe_authorize(request, creds["api_key"], body)

        def same_run() -> None:
            handwritten_same_result(request, creds["api_key"], body)

        # Alternate them, round by round, so machine noise hits all alike; best of each.
        engine_us = hand_us = same_us = floor_us = float("inf")
        for _ in range(7):
            engine_us = min(engine_us, best_us(engine_run, number, 1))
            hand_us = min(hand_us, best_us(hand_run, number, 1))
            same_us = min(same_us, best_us(same_run, number, 1))
            floor_us = min(floor_us, best_us(floor, number, 1))
        figures.update(
            {
                "stripe_authorize_engine_us": round(engine_us, 2),
                "stripe_authorize_handwritten_us": round(hand_us, 2),
                "handwritten_ratio": round(engine_us / hand_us, 2),
                # The same Result (every field the spec reads), and the guarantees' floor.
                "stripe_authorize_same_result_us": round(same_us, 2),
                "same_result_ratio": round(engine_us / same_us, 2),
                "stripe_authorize_floor_us": round(floor_us, 2),
                "floor_ratio": round(floor_us / hand_us, 2),
            }
        )
        figures["request_size"] = request_size(connector, request, creds, response, number)
        figures.update(sdk_comparison(request, creds["api_key"], body, quick))
    return figures


def request_size(
    connector: Any, request: dict[str, Any], creds: Any, response: HttpResponse, number: int
) -> dict[str, Any]:
    """Build+parse µs of the Stripe authorize as the request grows: `metadata` up to the
    schema's 50 entries (each one more form field to render, check and encode), and
    `line_items` up to 100 (validated and scanned; Stripe's PaymentIntents send none); and
    Adyen's authorize, which renders every line item (lineItems), up to 100."""
    figures: dict[str, Any] = {}

    def grow(
        label: str,
        target: Any,
        base: dict[str, Any],
        keys: Any,
        answer: HttpResponse,
        sizes: list[int],
        make: Callable[[int], dict[str, Any]],
    ) -> None:
        points: list[tuple[int, float]] = []
        for size in sizes:
            sized = {**base, **make(size)}

            def run(r: Any = sized) -> None:
                target.build_request("authorize", r, keys)
                target.parse_response("authorize", r, answer)

            points.append((size, min(best_us(run, number, 1) for _ in range(3))))
        slope, _ = _line(points)
        figures[label] = {
            "sizes": sizes,
            "build_parse_us": [round(us, 1) for _, us in points],
            "us_per_entry": round(slope, 2),
        }

    def metadata(size: int) -> dict[str, Any]:
        return {"metadata": {f"item_{i:02}": f"line item {i}" for i in range(size)}}

    def lines(size: int) -> dict[str, Any]:
        item = {"name": "Widget", "quantity": 2, "unit_amount": 500, "total_amount": 1000}
        return {"line_items": [{**item, "sku": f"SKU-{i}"} for i in range(size)]} if size else {}

    grow("stripe_metadata", connector, request, creds, response, [0, 10, 25, 50], metadata)
    grow("stripe_line_items", connector, request, creds, response, [0, 10, 50, 100], lines)
    adyen = authorized_scenario("adyen")
    if adyen is not None:
        answer = _http_answers(adyen)[-1]
        target = load_connector("adyen")
        grow(
            "adyen_line_items",
            target,
            adyen["request"],
            credentials("adyen"),
            answer,
            [0, 10, 50, 100],
            lines,
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    figures = measure(args.quick)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(
        f"import + load of all bundled specs (fresh interpreter): {figures['load_ms']:.1f} ms; "
        f"resident memory after: {figures['rss_mb']:.1f} MB"
    )
    print(
        f"as a process starts (import + every bundled connector, each read on first use): "
        f"{figures['start_ms']:.1f} ms, {figures['start_rss_mb']:.1f} MB"
    )
    grown = figures["growth"]
    print(
        f"growth over {grown['counts']} specs: eager {grown['load_ms_per_spec']} ms and "
        f"{grown['load_rss_mb_per_spec']} MB per spec; on first use "
        f"{grown['start_ms_per_spec']} ms and {grown['start_rss_mb_per_spec']} MB per spec"
    )
    print(f"{'connector':<14}{'flow':<20}{'build+parse µs/op':>18}")
    for connector, flows in figures["flows_us"].items():
        for flow, micros in flows.items():
            print(f"{connector:<14}{flow:<20}{micros:>18.1f}")
    print(
        f"worst flow {figures['flow_worst']} {figures['flow_worst_us']:.1f} µs, "
        f"{figures['worst_over_median']:.2f}x the median flow ({figures['flow_median_us']:.1f} µs)"
    )
    if "handwritten_ratio" in figures:
        print(
            "\nStripe authorize build+parse: "
            f"engine {figures['stripe_authorize_engine_us']:.1f} µs, "
            f"hand-written {figures['stripe_authorize_handwritten_us']:.1f} µs, "
            f"ratio {figures['handwritten_ratio']:.2f}x"
        )
        print(
            "Stripe authorize over HTTP, same local server: "
            f"engine {figures['engine_sync_ops_s']:.0f} ops/s vs stripe SDK "
            f"{figures['sdk_sync_ops_s']:.0f} ops/s (sync, ratio {figures['sdk_ratio']:.2f}x); "
            f"async {figures['engine_async_ops_s']:.0f} vs {figures['sdk_async_ops_s']:.0f} "
            f"ops/s (ratio {figures['sdk_async_ratio']:.2f}x)"
        )
        print(
            "Stripe authorize against raw httpx sending the same bytes: "
            f"sync {figures['raw_httpx_ratio']:.2f}x ({figures['engine_overhead_sync_us']:.0f} "
            f"µs more per call), async {figures['raw_httpx_async_ratio']:.2f}x; first call "
            f"in a fresh interpreter {figures['first_call_ms']:.1f} ms"
        )
        for label, sized in figures["request_size"].items():
            print(
                f"build+parse, {label} {sized['sizes']}: "
                f"{sized['build_parse_us']} µs ({sized['us_per_entry']} µs per entry)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
