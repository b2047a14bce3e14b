"""The public surface: `engine.__all__` is the contract; a change to it is deliberate."""

from __future__ import annotations

import engine

PUBLIC = [
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


def test_public_names_do_not_drift() -> None:
    assert sorted(engine.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(engine, name) is not None


def test_every_exception_derives_from_the_base() -> None:
    for name in PUBLIC:
        value = getattr(engine, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, engine.ConnectorServiceError), name
