"""Routing and safe failover over several processor profiles (docs/routing.md).

>>> from engine import Client
>>> from engine.routing import Router
>>> router = Router("routing.yaml", {"acme-us": Client("acme", {...}), ...})
>>> result = router.authorize({...})      # result.routing: the profile, every attempt, why
>>> router.capture({...}, profile=result.routing.profile)
"""

from ._failover import OPT_IN, STOP_STATUSES
from ._health import HealthPolicy, HealthStore, MemoryHealth
from ._plan import RoutePlan, plan
from ._redis_health import RedisHealth
from ._router import FOLLOW_UPS, AsyncRouter, Router
from ._rules import RoutingRules, lint_rules, load_rules

__all__ = [
    "FOLLOW_UPS",
    "OPT_IN",
    "STOP_STATUSES",
    "AsyncRouter",
    "HealthPolicy",
    "HealthStore",
    "MemoryHealth",
    "RedisHealth",
    "RoutePlan",
    "Router",
    "RoutingRules",
    "lint_rules",
    "load_rules",
    "plan",
]
