"""Connector Service: one unified payment API over many processors, each a YAML spec.

>>> from engine import Client
>>> with Client("<connector id>", {"api_key": "..."}) as client:
...     result = client.authorize({...})
"""

from ._client import AsyncClient, Client, Limits, RetryPolicy
from ._connector import Connector, bundled_connectors, load_connector
from ._credentials import Credentials, Secret
from ._errors import (
    ConnectorServiceError,
    CredentialsError,
    InputError,
    NotSentError,
    Problem,
    RenderError,
    SpecError,
    UnsupportedError,
    WebhookError,
)
from ._http import HttpRequest, HttpResponse
from ._spec import lint_file
from ._unified import (
    ErrorCode,
    ErrorInfo,
    Event,
    EventType,
    NextAction,
    PaymentStatus,
    RefundStatus,
    Result,
)
from ._webhooks import WebhookResult

__all__ = [
    "AsyncClient",
    "Client",
    "Connector",
    "ConnectorServiceError",
    "Credentials",
    "CredentialsError",
    "ErrorCode",
    "ErrorInfo",
    "Event",
    "EventType",
    "HttpRequest",
    "HttpResponse",
    "InputError",
    "Limits",
    "NextAction",
    "NotSentError",
    "PaymentStatus",
    "Problem",
    "RefundStatus",
    "RenderError",
    "Result",
    "RetryPolicy",
    "Secret",
    "SpecError",
    "UnsupportedError",
    "WebhookError",
    "WebhookResult",
    "bundled_connectors",
    "lint_file",
    "load_connector",
]
