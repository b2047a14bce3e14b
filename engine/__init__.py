"""Connector Service: one unified payment API over many processors, each a YAML spec.

>>> from engine import Client
>>> with Client("<connector id>", {"api_key": "..."}) as client:
...     result = client.authorize({...})

RemoteClient (engine.remote) has the same interface over a running connector service.
"""

from typing import TYPE_CHECKING, Any

from ._connector import Connector, bundled_connectors, load_connector
from ._credentials import Credentials, Secret
from ._errors import (
    ConnectorServiceError,
    CredentialsError,
    InputError,
    NotSentError,
    Problem,
    RenderError,
    ServiceError,
    SpecError,
    UnsupportedError,
    WebhookError,
)
from ._http import HttpRequest, HttpResponse
from ._spec import lint_file
from ._unified import (
    Dispute,
    DisputeStatus,
    ErrorCode,
    ErrorInfo,
    Event,
    EventType,
    FindStatus,
    MandateStatus,
    Match,
    NextAction,
    PaymentStatus,
    RawResponse,
    RefundStatus,
    Result,
)
from ._webhooks import WebhookResult

if TYPE_CHECKING:
    from ._client import AsyncClient, Client, Limits, RetryPolicy
    from ._redis_tokens import RedisTokenCache
    from .remote import AsyncRemoteClient, RemoteClient

#: Imported on first use: the HTTP stack (httpx, asyncio) is most of the engine's import time,
#: and building, parsing and linting never need it.
_HTTP_NAMES = frozenset({"AsyncClient", "Client", "Limits", "RetryPolicy"})
#: Imported on first use too: redis and cryptography (the `service` extra) are optional.
_REDIS_NAMES = frozenset({"RedisTokenCache"})
_REMOTE_NAMES = frozenset({"AsyncRemoteClient", "RemoteClient"})


def __getattr__(name: str) -> Any:
    if name in _HTTP_NAMES:
        from . import _client

        return getattr(_client, name)
    if name in _REDIS_NAMES:
        from . import _redis_tokens

        return getattr(_redis_tokens, name)
    if name in _REMOTE_NAMES:
        from . import remote

        return getattr(remote, name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HTTP_NAMES, *_REDIS_NAMES, *_REMOTE_NAMES})


__all__ = [
    "AsyncClient",
    "AsyncRemoteClient",
    "Client",
    "Connector",
    "ConnectorServiceError",
    "Credentials",
    "CredentialsError",
    "Dispute",
    "DisputeStatus",
    "ErrorCode",
    "ErrorInfo",
    "Event",
    "EventType",
    "FindStatus",
    "HttpRequest",
    "HttpResponse",
    "InputError",
    "Limits",
    "MandateStatus",
    "Match",
    "NextAction",
    "NotSentError",
    "PaymentStatus",
    "Problem",
    "RawResponse",
    "RedisTokenCache",
    "RefundStatus",
    "RemoteClient",
    "RenderError",
    "Result",
    "RetryPolicy",
    "Secret",
    "ServiceError",
    "SpecError",
    "UnsupportedError",
    "WebhookError",
    "WebhookResult",
    "bundled_connectors",
    "lint_file",
    "load_connector",
]
