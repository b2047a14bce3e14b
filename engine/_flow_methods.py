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

    def verify(self, request: Mapping[str, Any]) -> Result:
        """Check a payment method without charging it (a zero-amount authorization)."""
        return self.call("verify", request)

    def incremental_authorize(self, request: Mapping[str, Any]) -> Result:
        """Raise an authorized amount; the result's authorized_amount is the new total."""
        return self.call("incremental_authorize", request)

    def reverse(self, request: Mapping[str, Any]) -> Result:
        """Undo a payment whatever its state: voided if uncaptured, refunded if captured."""
        return self.call("reverse", request)

    def revoke_recurring(self, request: Mapping[str, Any]) -> Result:
        """Delete a stored payment method or revoke a mandate."""
        return self.call("revoke_recurring", request)

    def get_dispute(self, request: Mapping[str, Any]) -> Result:
        return self.call("get_dispute", request)

    def accept_dispute(self, request: Mapping[str, Any]) -> Result:
        return self.call("accept_dispute", request)

    def submit_evidence(self, request: Mapping[str, Any]) -> Result:
        return self.call("submit_evidence", request)


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

    async def verify(self, request: Mapping[str, Any]) -> Result:
        return await self.call("verify", request)

    async def incremental_authorize(self, request: Mapping[str, Any]) -> Result:
        return await self.call("incremental_authorize", request)

    async def reverse(self, request: Mapping[str, Any]) -> Result:
        return await self.call("reverse", request)

    async def revoke_recurring(self, request: Mapping[str, Any]) -> Result:
        return await self.call("revoke_recurring", request)

    async def get_dispute(self, request: Mapping[str, Any]) -> Result:
        return await self.call("get_dispute", request)

    async def accept_dispute(self, request: Mapping[str, Any]) -> Result:
        return await self.call("accept_dispute", request)

    async def submit_evidence(self, request: Mapping[str, Any]) -> Result:
        return await self.call("submit_evidence", request)
