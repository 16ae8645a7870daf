"""The room administration part of the Matrix platform: room state, power levels, kick/ban/unban,
redaction and events, through matrix-nio, retried while the homeserver is unreachable. A refusal by the
homeserver comes back as ``PlatformError`` with its Matrix error code."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from nio import AsyncClient, ErrorResponse

from bot.platform import PlatformError, RoomState, parse_room_state


class RoomAdmin:
    """Mixed into the Matrix transport (which has ``client`` and ``_retry_network``)."""

    client: AsyncClient
    _power_locks: dict[str, asyncio.Lock]

    async def _retry_network(self, call: Callable[[], Awaitable[Any]]) -> Any:  # provided by the transport
        raise NotImplementedError

    async def _fence(self) -> None:  # provided by the transport: only the active instance acts
        raise NotImplementedError

    async def _call(self, request: Callable[[], Awaitable[Any]]) -> Any:
        await self._fence()
        resp = await self._retry_network(request)
        if isinstance(resp, ErrorResponse):
            raise PlatformError(getattr(resp, "status_code", None) or "M_UNKNOWN", getattr(resp, "message", ""))
        return resp

    async def room_state(self, room_id: str) -> RoomState:
        """Power levels, creators and members as the homeserver has them now (not nio's cache)."""
        resp = await self._call(lambda: self.client.room_get_state(room_id))
        return parse_room_state(room_id, list(getattr(resp, "events", None) or []))

    async def read_power_levels(self, room_id: str) -> dict[str, Any]:
        resp = await self._call(lambda: self.client.room_get_state_event(room_id, "m.room.power_levels"))
        return dict(resp.content or {})

    async def put_power_levels(self, room_id: str, content: dict[str, Any]) -> None:
        await self._call(lambda: self.client.room_put_state(room_id, "m.room.power_levels", content))

    def power_lock(self, room_id: str) -> asyncio.Lock:
        return self._power_locks.setdefault(room_id, asyncio.Lock())

    async def kick(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        await self._call(lambda: self.client.room_kick(room_id, user_id, reason=reason or None))

    async def ban(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        await self._call(lambda: self.client.room_ban(room_id, user_id, reason=reason or None))

    async def unban(self, room_id: str, user_id: str) -> None:
        await self._call(lambda: self.client.room_unban(room_id, user_id))

    async def redact(self, room_id: str, event_id: str, reason: str | None = None, key: str | None = None) -> None:
        await self._call(lambda: self.client.room_redact(room_id, event_id, reason=reason or None, tx_id=key))

    async def fetch_event(self, room_id: str, event_id: str) -> dict[str, Any]:
        try:
            resp = await self._call(lambda: self.client.room_get_event(room_id, event_id))
        except PlatformError:
            return {}
        event = getattr(resp, "event", None)
        return dict(getattr(event, "source", None) or {})
