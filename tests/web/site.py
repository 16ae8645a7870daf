"""The bot's own web face for tests and benchmarks: a hub on a real SQLite file, its aiohttp server on
127.0.0.1, and the console platform to act in the leader room as leaders do — all in a thread of their own,
so that a test can drive a (synchronous) browser against the server while the server keeps serving."""

from __future__ import annotations

import asyncio
import gzip
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.compose import create_hub, parse_config
from bot.console import CONSOLE_ROOM, ConsoleTransport
from bot.synapse import free_port
from bot.web import start_web

ADMIN = "@admin:localhost"
SUMMARY: list[str] = []  # lines for the end of the test run: where the screenshots are, why tests were skipped


class Response:
    def __init__(self, status: int, headers: Any, raw: bytes):
        self.status, self.headers, self.raw = status, headers, raw
        self.body = gzip.decompress(raw) if headers.get("Content-Encoding") == "gzip" else raw

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Site:
    def __init__(self, folder: Path, *, language: str = "pl", public_url: str | None = "",
                 database: Path | None = None, store: Path | None = None):
        """``public_url``: ``[http] public_url``; ``""`` for this server's own address, None for none.
        ``store``: ``[matrix] store_path``; the search's lemma files are written beside it (``cache/``), once,
        so a second site given the first one's store starts in a second, not in the 10-20 s of writing them."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_url = self.url if public_url == "" else public_url
        self.database = database or folder / "hub.db"
        self.store = store or folder / "data" / "store"
        self.language = language
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="web-site", daemon=True)
        self.hub = self.console = self.runner = None

    def __enter__(self) -> "Site":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        public = f'public_url = "{self.public_url}"' if self.public_url else ""
        config = parse_config(f"""
[matrix]
user_id = "@hub:localhost"
password = "web-test"
store_path = "{self.store}"
[bot]
language = "{self.language}"
admins = ["{ADMIN}"]
[database]
url = "sqlite+aiosqlite:///{self.database}"
[http]
host = "127.0.0.1"
port = {self.port}
{public}
""", self.folder / "config.toml", env={})
        self.hub = await create_hub(config)
        self.console = ConsoleTransport(self.hub, ADMIN, self.folder / "files")
        self.console.out = open(self.folder / "console.txt", "a")
        self.runner = await start_web(self.hub, lambda: True)

    def stop(self) -> None:
        async def close() -> None:
            if self.runner is not None:
                await self.runner.cleanup()
            if self.hub is not None:
                await self.hub.close()
            if self.console is not None:
                self.console.out.close()
        try:
            self.run(close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    def run(self, coroutine, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def join(self, user: str) -> None:
        """``user`` becomes a member of the leader room (so a leader)."""
        self.console.rooms.rooms[CONSOLE_ROOM].join(user)

    def say(self, text: str, sender: str = ADMIN) -> str:
        """One message in the leader room; the bot's reply as the sender reads it (one reply expected)."""
        replies = self.run(self.console.handle(text, sender=sender))
        assert len(replies) >= 1, (text, replies)
        return replies[0]

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return get(self.url + path, headers)


def get(url: str, headers: dict[str, str] | None = None) -> Response:
    """One GET, redirects not followed, errors returned as responses."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
