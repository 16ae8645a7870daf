"""The bot's HTTP face (aiohttp): /healthz, /metrics, and the features' public pages and files.

The runtime gives every response the same protection — a Content-Security-Policy that allows no script at
all and styles only from this site, ``nosniff``, ``Referrer-Policy: same-origin``, no framing — gzips what
is worth it, serves the stylesheet (``/static/…``), the display settings (``/settings``) and the error pages
in the reader's language. Features add their routes (``@commands.route``) and their templates
(``bot.web.pages``).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from datetime import datetime
from typing import Callable

from aiohttp import web

from bot.app import Hub

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # No script may run on any page, nor any plugin; styles and images only from this site; forms only to it.
    "Content-Security-Policy": "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
GZIP_MIN_BYTES = 512
MAX_LINE = 64 * 1024  # bytes of a request line (aiohttp's default is 8 KiB)
GZIP_TYPES = ("text/", "application/json", "image/svg+xml")
GZIP_SUFFIX = "-gzip"  # the ETag of the gzipped form of a body (a strong ETag names one representation)


def revalidated(request: web.Request, body: bytes, content_type: str,
                last_modified: datetime | None = None, cache_control: str = "no-cache") -> web.Response:
    """``body`` with a strong ``ETag`` (its SHA-256), or ``304 Not Modified`` when the client's
    ``If-None-Match`` names it (or ``*``), so pollers such as calendar apps fetch only what changed.

    ``Last-Modified`` is sent for information; ``If-Modified-Since`` is not honoured, since a change
    within the same second as a fetch would be missed (HTTP dates have no fractions): the ETag is
    the validator. ``Cache-Control: no-cache`` has caches ask again every time. The gzipped form of the
    body has the same tag with ``-gzip`` (see ``compress``); either form revalidates.
    """
    tag = hashlib.sha256(body).hexdigest()[:32]
    headers = {"Cache-Control": cache_control}
    wanted = request.if_none_match or ()
    if any(candidate.value.removesuffix(GZIP_SUFFIX) in (tag, "*") for candidate in wanted):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(body=body, headers={**headers, "Content-Type": content_type})
    response.etag = tag
    if last_modified is not None:
        response.last_modified = last_modified
    return response


def accepts_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def compress(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """A text body gzipped for a client that accepts it (``Vary: Accept-Encoding`` either way)."""
    if not isinstance(response, web.Response) or response.status != 200 or "Content-Encoding" in response.headers:
        return response
    body = response.body
    if not isinstance(body, (bytes, bytearray)) or not response.content_type.startswith(GZIP_TYPES):
        return response
    vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
    response.headers["Vary"] = ", ".join(vary + ["Accept-Encoding"])
    if len(body) < GZIP_MIN_BYTES or not accepts_gzip(request):
        return response
    response.body = gzip.compress(bytes(body), compresslevel=6, mtime=0)
    response.headers["Content-Encoding"] = "gzip"
    if response.etag is not None:
        response.etag = response.etag.value + GZIP_SUFFIX
    return response


async def protect(request: web.Request, response: web.StreamResponse) -> None:
    """Every response, error pages and redirects included, carries the security headers."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def make_app(hub: Hub, healthy: Callable[[], bool], role: Callable[[], str] = lambda: "active") -> web.Application:
    from bot.web.messages import CATALOGUE
    from bot.web.pages import PAGES_KEY, Pages

    hub.translator.register(CATALOGUE)
    pages = Pages(hub)

    @web.middleware
    async def pages_middleware(request: web.Request, handler) -> web.StreamResponse:
        """Error pages in the reader's language; nothing a visitor sends gets a stack trace."""
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = error_page(hub, request, 404)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("page %s failed", request.path_qs[:200])
            response = error_page(hub, request, 500)
        return compress(request, response)

    # A long query string (a 10 000-character search) gets a page that says so, not the parser's bare 400.
    app = web.Application(middlewares=[pages_middleware], handler_args={"max_line_size": MAX_LINE})
    app[PAGES_KEY] = pages
    app.on_response_prepare.append(protect)

    async def healthz(_request: web.Request) -> web.Response:
        """200 for an active instance that syncs and for a standby whose database answers; 503 otherwise."""
        ok = healthy()
        return web.json_response({"status": "ok" if ok else "unavailable", "role": role(),
                                  "synced": hub.metrics.last_sync is not None}, status=200 if ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=hub.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def static(request: web.Request) -> web.Response:
        """The stylesheet: cached for a year under its versioned link (``?v=<hash>``), revalidated otherwise."""
        found = pages.static.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        versioned = request.query.get("v") == found.version
        return revalidated(request, found.body, found.content_type,
                           cache_control="public, max-age=31536000, immutable" if versioned else "no-cache")

    async def settings(request: web.Request) -> web.Response:
        """The display settings (``?contrast=high|normal``, ``?text=normal|large|larger``): a cookie each,
        then back to the page the reader came from (``?back=``, a path of this site)."""
        from bot.web.pages import CONTRAST_COOKIE, CONTRASTS, COOKIE_AGE, TEXT_COOKIE, TEXT_SIZES, base_path, safe_back

        response = web.Response(status=303, headers={
            "Location": base_path(hub.config["http"]["public_url"]) + safe_back(request.query.get("back")),
            "Cache-Control": "no-store"})
        secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        for name, allowed, key in ((CONTRAST_COOKIE, CONTRASTS, "contrast"), (TEXT_COOKIE, TEXT_SIZES, "text")):
            value = request.query.get(key)
            if value is not None and value in allowed:
                response.set_cookie(name, value, max_age=COOKIE_AGE, path="/", httponly=True, samesite="Lax",
                                    secure=secure)
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/settings", settings)
    for path, handler in hub.routes.items():
        async def feature_route(request: web.Request, handler=handler) -> web.StreamResponse:
            return await handler(hub, request)
        app.router.add_get(path, feature_route)
    return app


def error_page(hub: Hub, request: web.Request, status: int, message: str | None = None) -> web.Response:
    """The page for a path that is not there (404) or a failure of ours (500), in the reader's language."""
    from bot.web.pages import Page

    page = Page.of(hub, request)
    page.params = {}
    return page.render("error.html", status=status, title=page.t(f"web.error.{status}.title"),
                       code=status, message=message or page.t(f"web.error.{status}.text"))


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
    log.info("HTTP server on http://%s:%s (/healthz, /metrics, the public pages)", cfg["host"], port)
    return runner
