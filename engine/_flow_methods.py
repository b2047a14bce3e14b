"""The unified flows as methods (`client.authorize(request)` is `client.call("authorize",
request)`), written once for every client with a `call`: the embedded Client and AsyncClient,
and the remote ones (engine.remote)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._unified import Result


class FlowMethods:
    def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        raise NotImplementedError

    def authorize(self, request: Mapping[str, Any]) -> Result:
        return self.call("authorize", request)

    def complete_authorize(self, request: Mapping[str, Any]) -> Result:
        return self.call("complete_authorize", request)

    def capture(self, request: Mapping[str, Any]) -> Result:
        return self.call("capture", request)

    def void(self, request: Mapping[str, Any]) -> Result:
        return self.call("void", request)

    def refund(self, request: Mapping[str, Any]) -> Result:
        return self.call("refund", request)

    def get(self, request: Mapping[str, Any]) -> Result:
        return self.call("get", request)

    def get_refund(self, request: Mapping[str, Any]) -> Result:
        return self.call("get_refund", request)

    def setup_recurring(self, request: Mapping[str, Any]) -> Result:
        return self.call("setup_recurring", request)

    def charge_recurring(self, request: Mapping[str, Any]) -> Result:
        return self.call("charge_recurring", request)

    def find(self, request: Mapping[str, Any]) -> Result:
        """Payments with the request's reference (`matches`): the way back from an unresolved
        payment whose answer named none."""
        return self.call("find", request)


class AsyncFlowMethods:
    async def call(self, flow: str, request: Mapping[str, Any]) -> Result:
        raise NotImplementedError

    async def authorize(self, request: Mapping[str, Any]) -> Result:
        return await self.call("authorize", request)

    async def complete_authorize(self, request: Mapping[str, Any]) -> Result:
        return await self.call("complete_authorize", request)

    async def capture(self, request: Mapping[str, Any]) -> Result:
        return await self.call("capture", request)

    async def void(self, request: Mapping[str, Any]) -> Result:
        return await self.call("void", request)

    async def refund(self, request: Mapping[str, Any]) -> Result:
        return await self.call("refund", request)

    async def get(self, request: Mapping[str, Any]) -> Result:
        return await self.call("get", request)

    async def get_refund(self, request: Mapping[str, Any]) -> Result:
        return await self.call("get_refund", request)

    async def setup_recurring(self, request: Mapping[str, Any]) -> Result:
        return await self.call("setup_recurring", request)

    async def charge_recurring(self, request: Mapping[str, Any]) -> Result:
        return await self.call("charge_recurring", request)

    async def find(self, request: Mapping[str, Any]) -> Result:
        """The asyncio twin of FlowMethods.find."""
        return await self.call("find", request)
