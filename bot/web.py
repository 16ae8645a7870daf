"""The bot's HTTP face (aiohttp): /healthz and /metrics; features add their routes."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Callable

from aiohttp import web

from bot.app import Hub

log = logging.getLogger(__name__)


def revalidated(request: web.Request, body: bytes, content_type: str,
                last_modified: datetime | None = None) -> web.Response:
    """``body`` with a strong ``ETag`` (its SHA-256), or ``304 Not Modified`` when the client's
    ``If-None-Match`` names it (or ``*``), so pollers such as calendar apps fetch only what changed.

    ``Last-Modified`` is sent for information; ``If-Modified-Since`` is not honoured, since a change
    within the same second as a fetch would be missed (HTTP dates have no fractions): the ETag is
    the validator. ``Cache-Control: no-cache`` has caches ask again every time.
    """
    tag = hashlib.sha256(body).hexdigest()[:32]
    headers = {"Cache-Control": "no-cache"}
    wanted = request.if_none_match or ()
    if any(candidate.value in (tag, "*") for candidate in wanted):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(body=body, headers={**headers, "Content-Type": content_type})
    response.etag = tag
    if last_modified is not None:
        response.last_modified = last_modified
    return response


def make_app(hub: Hub, healthy: Callable[[], bool], role: Callable[[], str] = lambda: "active") -> web.Application:
    app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        """200 for an active instance that syncs and for a standby whose database answers; 503 otherwise."""
        ok = healthy()
        return web.json_response({"status": "ok" if ok else "unavailable", "role": role(),
                                  "synced": hub.metrics.last_sync is not None}, status=200 if ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=hub.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    for path, handler in hub.routes.items():
        async def feature_route(request: web.Request, handler=handler) -> web.StreamResponse:
            return await handler(hub, request)
        app.router.add_get(path, feature_route)
    return app


async def start_web(hub: Hub, healthy: Callable[[], bool],
                    role: Callable[[], str] = lambda: "active") -> web.AppRunner | None:
    cfg = hub.config["http"]
    if not cfg["enabled"]:
        return None
    runner = web.AppRunner(make_app(hub, healthy, role), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, cfg["host"], cfg["port"])
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else cfg["port"]
    hub.http_port = port
    log.info("HTTP server on http://%s:%s (/healthz, /metrics)", cfg["host"], port)
    return runner
