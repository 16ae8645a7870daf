"""The few client-server endpoints cross-signing, secret storage and verification need, which matrix-nio
does not have: a thin JSON client over aiohttp, shared by the bot and the ``leaders-hub crypto`` commands."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

NETWORK_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError, OSError)


class ApiError(Exception):
    """The homeserver answered with an error (``status`` is the HTTP status, ``errcode`` the Matrix code)."""

    def __init__(self, status: int, body: dict[str, Any]):
        self.status = status
        self.body = body
        self.errcode = str(body.get("errcode") or "M_UNKNOWN")
        super().__init__(f"{status} {self.errcode}: {body.get('error', '')}")


class MatrixApi:
    def __init__(self, homeserver: str, access_token: str, retries: int = 8, stopping: asyncio.Event | None = None):
        self.base = homeserver.rstrip("/")
        self.token = access_token
        self.retries = retries
        self.stopping = stopping
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                      ok: tuple[int, ...] = (200,)) -> tuple[int, dict[str, Any]]:
        """One request, retried while the homeserver is unreachable or rate-limits; an answer outside ``ok``
        raises ``ApiError``."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                async with self._session.request(method, self.base + path, json=body,
                                                 headers={"Authorization": f"Bearer {self.token}"}) as resp:
                    text = await resp.text()
                    data = json.loads(text) if text.strip() else {}
                    if resp.status == 429 and attempt < self.retries:
                        wait = (data.get("retry_after_ms") or 1000) / 1000
                        await asyncio.sleep(min(wait, 30))
                        continue
                    if resp.status not in ok:
                        raise ApiError(resp.status, data if isinstance(data, dict) else {})
                    return resp.status, data if isinstance(data, dict) else {}
            except NETWORK_ERRORS as exc:
                if attempt >= self.retries or (self.stopping is not None and self.stopping.is_set()):
                    raise
                log.warning("homeserver unreachable (%s); retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
        raise AssertionError("unreachable")

    # ----- keys -------------------------------------------------------------------------------

    async def query_keys(self, user_ids: list[str]) -> dict[str, Any]:
        _, data = await self.request("POST", "/_matrix/client/v3/keys/query",
                                     {"device_keys": {u: [] for u in user_ids}, "timeout": 10000})
        return data

    async def upload_signatures(self, signed: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """``{user: {device id or public key: signed object}}``; returns the homeserver's ``failures``."""
        _, data = await self.request("POST", "/_matrix/client/v3/keys/signatures/upload", signed)
        return data.get("failures") or {}

    async def upload_cross_signing(self, body: dict[str, Any],
                                   auth: Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]) -> None:
        """``/keys/device_signing/upload``, with user-interactive auth when the homeserver asks for it:
        ``auth(the 401 body)`` returns the ``auth`` dict to send (or None to give up)."""
        path = "/_matrix/client/v3/keys/device_signing/upload"
        status, data = await self.request("POST", path, body, ok=(200, 401))
        if status == 200:
            return
        auth_dict = await auth(data)
        if auth_dict is None:
            raise ApiError(401, data)
        await self.request("POST", path, {**body, "auth": auth_dict})

    # ----- account data -----------------------------------------------------------------------

    def _account_data_path(self, user_id: str, kind: str) -> str:
        return f"/_matrix/client/v3/user/{quote(user_id, safe='')}/account_data/{quote(kind, safe='')}"

    async def get_account_data(self, user_id: str, kind: str) -> dict[str, Any] | None:
        status, data = await self.request("GET", self._account_data_path(user_id, kind), ok=(200, 404))
        return data if status == 200 else None

    async def put_account_data(self, user_id: str, kind: str, content: dict[str, Any]) -> None:
        await self.request("PUT", self._account_data_path(user_id, kind), content)

    # ----- to-device --------------------------------------------------------------------------

    async def send_to_device(self, event_type: str, messages: dict[str, dict[str, Any]], txn_id: str) -> None:
        path = f"/_matrix/client/v3/sendToDevice/{quote(event_type, safe='')}/{quote(txn_id, safe='')}"
        await self.request("PUT", path, {"messages": messages})
