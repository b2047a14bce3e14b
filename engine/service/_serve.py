"""`connector serve`: the app on uvicorn (uvloop and httptools; see docs/service.md for the
measurement behind the choice), with a graceful stop: on SIGTERM or SIGINT the replica stops
taking calls and turns unready, lets the calls in flight finish within `shutdown_grace`, and
answers those still running then as `unresolved` before it exits. No call is dropped."""

from __future__ import annotations

from types import FrameType
from typing import Any

import uvicorn

from ._app import Service, create_app
from ._config import ServiceConfig
from ._logs import configure, logger


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, service: Service) -> None:
        super().__init__(config)
        self._service = service

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        loop = self._service.loop
        if loop is not None and not self._service.draining:
            logger.info("stopping: draining %d call(s) in flight", len(self._service.calls))
            loop.call_soon_threadsafe(self._service.start_drain)
        super().handle_exit(sig, frame)


def serve(
    config: ServiceConfig, host: str = "127.0.0.1", port: int = 8080, **uvicorn_options: Any
) -> None:
    configure(config.log_level)
    app = create_app(config)
    service: Service = app.state.service
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "auto",
        "http": "auto",
        "lifespan": "on",
        "access_log": False,
        "log_config": None,
        "server_header": False,
        "timeout_graceful_shutdown": config.shutdown_grace + 5,
        **uvicorn_options,
    }
    server = _Server(uvicorn.Config(app, **options), service)
    logger.info("serving %d connector(s) on http://%s:%d", len(service.connectors), host, port)
    server.run()
