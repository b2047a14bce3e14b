"""The remote client: the embedded Client's interface over the connector service's HTTP API,
so switching between embedded and remote is one line:

>>> from engine import Client, RemoteClient
>>> client = Client("acme", {"api_key": "..."})                      # embedded
>>> client = RemoteClient("acme", {"api_key": "..."},                  # remote
...                       service_url="http://127.0.0.1:8080", api_key="svc_...")
>>> result = client.authorize({...})                                           # the same Result

Results, WebhookResults and the exceptions are the engine's own (a problem document raises the
engine exception of its type; the service's own refusals raise ServiceError), and an exception
still means nothing was sent: an outcome the client cannot know is an `unresolved` Result with
the idempotency key it generated. Needs only httpx (not the service extra).
"""

from .._errors import ServiceError
from ._clients import DEFAULT_TIMEOUT, AsyncRemoteClient, RemoteClient

__all__ = ["DEFAULT_TIMEOUT", "AsyncRemoteClient", "RemoteClient", "ServiceError"]
