"""The stateless HTTP service: the unified payment API for every language (`connector serve`).

>>> from engine.service import create_app, load_config
>>> app = create_app(load_config("service.yaml"))   # any ASGI server can run it

See docs/service.md. Needs the `service` extra: `pip install 'connector-service[service]'`.
The names are imported on first use, so the problem-type table (engine.service._problems) is
readable without the service's dependencies (`connector docs` renders it).
"""

from importlib import import_module
from typing import Any

_NAMES = {
    "create_app": "._app",
    "ServiceConfig": "._config",
    "load_config": "._config",
    "openapi_document": "._openapi",
    "PROBLEM_TYPES": "._problems",
}


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(import_module(_NAMES[name], __name__), name)
    raise AttributeError(f"module 'engine.service' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES})


__all__ = ["PROBLEM_TYPES", "ServiceConfig", "create_app", "load_config", "openapi_document"]
