"""The stateless HTTP service: the unified payment API for every language (`connector serve`).

>>> from engine.service import create_app, load_config
>>> app = create_app(load_config("service.yaml"))   # any ASGI server can run it

See docs/service.md. Needs the `service` extra: `pip install 'connector-service[service]'`.
The names are imported on first use, so `engine.service._problems` (the problem-type table,
which the remote client reads) imports without the extra.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import create_app
    from ._config import ServiceConfig, load_config
    from ._openapi import openapi_document
    from ._problems import PROBLEM_TYPES

#: Each public name → the module that defines it.
_HOMES = {
    "PROBLEM_TYPES": "._problems",
    "ServiceConfig": "._config",
    "create_app": "._app",
    "load_config": "._config",
    "openapi_document": "._openapi",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine.service' has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = ["PROBLEM_TYPES", "ServiceConfig", "create_app", "load_config", "openapi_document"]
