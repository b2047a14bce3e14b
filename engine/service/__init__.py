"""The stateless HTTP service: the unified payment API for every language (`connector serve`).

>>> from engine.service import create_app, load_config
>>> app = create_app(load_config("service.yaml"))   # any ASGI server can run it

See docs/service.md. Needs the `service` extra: `pip install 'connector-service[service]'`.
"""

from ._app import create_app
from ._config import ServiceConfig, load_config
from ._openapi import openapi_document
from ._problems import PROBLEM_TYPES

__all__ = ["PROBLEM_TYPES", "ServiceConfig", "create_app", "load_config", "openapi_document"]
