"""The load for the scale-out tests: authorize calls through the balancer from several tenants,
launched at a steady pace, each with its own idempotency key and reference; and the ledger that
sets each call's answer beside what the processor received for its key."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from engine.service._problems import TYPE_BASE as SERVICE_PROBLEMS

from .balancer import PROBLEM_BASE

#: nginx's own problem documents: the replica failed; the outcome is unknown.
GATEWAY_SLUGS = frozenset({"replica-lost", "replica-timeout"})
SUCCESS = {"automatic": "captured", "manual": "authorized"}
CARD = {
    "number": "4012888888881881",
    "exp_month": 12,
    "exp_year": 2030,
    "cvc": "123",
    "holder_name": "John Doe",
}


@dataclass
class Call:
    index: int
    tenant: str
    key: str
    reference: str
    capture_method: str
    launched_after_stop: bool = False
    answered_after_stop: bool = False
    http_status: int | None = None
    media_type: str = ""
    body: Any = None
    upstreams: list[str] = field(default_factory=list)  # every replica nginx tried, in order
    bytes_sent: list[str] = field(default_factory=list)  # to each of them
    failure: str | None = None  # the client's exception: no HTTP answer at all

    def request(self) -> dict[str, Any]:
        return {
            "amount": 1000 + self.index,
            "currency": "USD",
            "capture_method": self.capture_method,
            "reference": self.reference,
            "description": f"scale-out call {self.index}",
            "payment_method": {"type": "card", "card": CARD},
        }

    @property
    def answered_by(self) -> str | None:
        """The replica that held the call last (nginx's last try)."""
        return self.upstreams[-1] if self.upstreams else None

    @property
    def problem_slug(self) -> str | None:
        if self.media_type != "application/problem+json" or not isinstance(self.body, dict):
            return None
        kind = str(self.body.get("type", ""))
        return kind.removeprefix(PROBLEM_BASE).removeprefix(SERVICE_PROBLEMS)

    @property
    def outcome(self) -> str:
        """`result:<status>`, `problem:<slug>` (the service's: nothing sent), `gateway:<slug>`
        (nginx's: unknown), `no-answer:<exception>`, or `other:<HTTP status>`."""
        if self.failure is not None:
            return f"no-answer:{self.failure}"
        if self.http_status == 200 and self.media_type == "application/json":
            return f"result:{self.body.get('status')}"
        slug = self.problem_slug
        if slug is not None:
            gateway = str(self.body.get("type", "")).startswith(PROBLEM_BASE)
            assert gateway == (slug in GATEWAY_SLUGS), slug
            return f"{'gateway' if gateway else 'problem'}:{slug}"
        return f"other:{self.http_status}"


def plan_calls(count: int, tenants: list[str], run: str, seed: int = 10) -> list[Call]:
    """`count` calls, tenants and capture methods drawn at random (seeded): round robin over
    the replicas must not line up with the tenants, or each replica would see only one."""
    draw = random.Random(seed)
    return [
        Call(
            index=index,
            tenant=(tenant := draw.choice(tenants)),
            key=f"{run}-idem-{index:04d}",
            reference=f"{tenant}-{run}-order-{index:04d}",
            capture_method=draw.choice(("automatic", "manual")),
        )
        for index in range(count)
    ]


async def _send(
    http: httpx.AsyncClient, call: Call, headers: dict[str, str], stop: asyncio.Event
) -> None:
    call.launched_after_stop = stop.is_set()
    try:
        answer = await http.post(
            "/v1/paypal/authorize",
            json=call.request(),
            headers={
                **headers,
                "X-Connector-Profile": call.tenant,
                "Idempotency-Key": call.key,
            },
        )
    except httpx.HTTPError as exc:
        call.failure = type(exc).__name__
        call.answered_after_stop = stop.is_set()
        return
    call.answered_after_stop = stop.is_set()
    call.http_status = answer.status_code
    call.media_type = answer.headers.get("content-type", "").split(";")[0].strip()
    call.upstreams = _list(answer.headers.get("x-upstream-addr", ""))
    call.bytes_sent = _list(answer.headers.get("x-upstream-bytes-sent", ""))
    try:
        call.body = answer.json()
    except ValueError:
        call.body = answer.text[:500]


def _list(header: str) -> list[str]:
    # nginx joins the tries with ", " (and " : " across an internal redirect).
    return [part.strip() for part in header.replace(" : ", ", ").split(",") if part.strip()]


@dataclass
class Progress:
    """What a stopper sees of the load: how many calls were launched; it sets `stopped` when
    it has stopped a replica."""

    total: int
    launched: int = 0
    stopped: asyncio.Event = field(default_factory=asyncio.Event)


async def run_load(
    url: str,
    calls: list[Call],
    headers: dict[str, str],
    *,
    pace: float,
    stopper: Callable[[Progress], Awaitable[None]] | None = None,
) -> None:
    """Launches `calls` through `url`, one every `pace` seconds, all concurrent; `stopper`
    runs beside them (and must finish)."""
    progress = Progress(len(calls))
    limits = httpx.Limits(max_connections=len(calls) + 8, max_keepalive_connections=len(calls))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=90) as http:
        side = asyncio.ensure_future(stopper(progress)) if stopper is not None else None
        tasks = []
        for call in calls:
            tasks.append(asyncio.ensure_future(_send(http, call, headers, progress.stopped)))
            progress.launched += 1
            await asyncio.sleep(pace)
        await asyncio.gather(*tasks)
        if side is not None:
            await side


def ledger(calls: list[Call], payments: dict[str, int]) -> Counter[str]:
    """How many calls ended each way, with how many payment requests the processor received
    for their keys: e.g. `gateway:replica-lost / processor got 1`."""
    return Counter(f"{c.outcome} / processor got {payments.get(c.key, 0)}" for c in calls)


def report(title: str, calls: list[Call], state: dict[str, Any]) -> str:
    lines = [f"{title}: {len(calls)} calls"]
    for category, count in sorted(ledger(calls, state["payments"]).items()):
        lines.append(f"  {count:4d}  {category}")
    retried = sum(1 for c in calls if len(c.upstreams) > 1)
    lines.append(f"  nginx tried another replica (connect error) for {retried} call(s)")
    lines.append(
        f"  processor: {sum(state['payments'].values())} payment request(s) for "
        f"{len(state['payments'])} key(s); token requests per client id: {state['tokens']}"
    )
    return "\n".join(lines)
