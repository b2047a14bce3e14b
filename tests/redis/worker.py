"""One OS process of the cross-process token tests: `python -m tests.redis.worker '<json>'`.
Prints `ready`, waits for a line on stdin, then pays with `threads` threads (a fresh Client
each, one RedisTokenCache for the process) and prints the statuses as one JSON line."""

from __future__ import annotations

import json
import sys
import threading

from engine import RedisTokenCache

from .tenants import client, payment


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
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    cache.close()
    print(json.dumps(statuses), flush=True)


if __name__ == "__main__":
    main()
