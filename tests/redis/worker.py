"""One OS process of the cross-process token tests: `python -m tests.redis.worker '<json>'`.
Prints `ready`, waits for a line on stdin, then pays with `threads` threads (a fresh Client
each, one RedisTokenCache for the process) — or as many asyncio tasks with AsyncClients when
`asyncio` is set — and prints the statuses as one JSON line."""

from __future__ import annotations

import asyncio
import json
import sys
import threading

from engine import RedisTokenCache

from .tenants import async_client, client, payment


def main() -> None:
    order = json.loads(sys.argv[1])
    cache = RedisTokenCache(order["redis_url"], lock_seconds=order.get("lock_seconds", 10.0))
    tenants: list[str] = order["tenants"]
    statuses: list[str] = []
    guard = threading.Lock()

    def pay(tenant: str) -> None:
        with client(tenant, order["base_url"], cache) as payer:
            status = str(payer.authorize(payment(tenant)).status)
        with guard:
            statuses.append(status)

    workers = [
        threading.Thread(target=pay, args=(tenant,))
        for tenant in tenants
        for _ in range(order.get("threads", 1))
    ]
    print("ready", flush=True)
    sys.stdin.readline()
    if order.get("asyncio"):
        print(json.dumps(asyncio.run(_tasks(order, cache))), flush=True)
        return
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cache.close()
    print(json.dumps(statuses), flush=True)


async def _tasks(order: dict[str, object], cache: RedisTokenCache) -> list[str]:
    async def pay(tenant: str) -> str:
        async with async_client(tenant, str(order["base_url"]), cache) as payer:
            return str((await payer.authorize(payment(tenant))).status)

    tenants = order["tenants"]
    assert isinstance(tenants, list)
    try:
        count = int(str(order.get("threads", 1)))
        return await asyncio.gather(*(pay(t) for t in tenants for _ in range(count)))
    finally:
        await cache.aclose()
        cache.close()


if __name__ == "__main__":
    main()
