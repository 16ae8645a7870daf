"""Test (and benchmark) helpers: leaders as real matrix-nio clients, and the bot as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, LoginResponse, RoomCreateResponse, RoomSendResponse

from bot.synapse import Homeserver, free_port

PASSWORD = "correct horse battery staple"
# A burst of replies must not be cut into a "limited" timeline the test client never reads.
SYNC_FILTER = {"room": {"timeline": {"limit": 1000}}}


class Member:
    """A leader (or moderator…) at a real Matrix client: sends messages, collects what arrives."""

    def __init__(self, homeserver: Homeserver, localpart: str, store: Path | None = None):
        self.homeserver = homeserver
        self.user_id = homeserver.register(localpart, PASSWORD)
        config = AsyncClientConfig(store_sync_tokens=False, encryption_enabled=store is not None)
        if store:
            store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(homeserver.url, self.user_id, store_path=str(store) if store else "",
                                  config=config)
        self.events: list[dict[str, Any]] = []  # every timeline event seen, decrypted where possible
        self.event_objects: list[Any] = []
        self.invites: list[str] = []
        self.to_device: list[dict[str, Any]] = []  # to-device events received (e.g. m.room_key.withheld)
        self._task: asyncio.Task | None = None
        self._new = asyncio.Event()

    async def login(self) -> "Member":
        resp = await self.client.login(PASSWORD, device_name="test")
        assert isinstance(resp, LoginResponse), resp
        await self.client.sync(timeout=0, full_state=True)
        if self.client.olm:
            await self._keys()
        self._task = asyncio.ensure_future(self._sync_forever())
        return self

    async def _keys(self) -> None:
        c = self.client
        if c.should_upload_keys:
            await c.keys_upload()
        if c.should_query_keys:
            await c.keys_query()
        if c.should_claim_keys:
            await c.keys_claim(c.get_users_for_key_claiming())
        await c.send_to_device_messages()

    async def _sync_forever(self) -> None:
        while True:
            try:
                resp = await self.client.sync(timeout=3000, sync_filter=SYNC_FILTER)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(0.5)
                continue
            rooms = getattr(resp, "rooms", None)
            if rooms is None:
                await asyncio.sleep(0.5)
                continue
            for room_id, info in rooms.join.items():
                for event in info.timeline.events:
                    source = dict(event.source)
                    source.setdefault("room_id", room_id)
                    if getattr(event, "decrypted", False):
                        source = {**source, "decrypted_type": source.get("type"),
                                  "content": event.source.get("content", {})}
                    self.events.append(source)
                    self.event_objects.append(event)
            for room_id in rooms.invite:
                self.invites.append(room_id)
            for event in getattr(resp, "to_device_events", None) or []:
                self.to_device.append(dict(getattr(event, "source", None) or {}))
            if self.client.olm:
                try:
                    await self._keys()
                except Exception:
                    pass
            self._new.set()

    async def pause(self) -> None:
        """Stop syncing (nothing the homeserver sends changes this client) until ``resume``."""
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    def resume(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._sync_forever())

    async def close(self) -> None:
        await self.pause()
        await self.client.close()

    async def create_room(self, name: str, invite: list[str] = (), encrypted: bool = False,
                          alias: str | None = None, power: dict[str, int] | None = None) -> str:
        initial_state = []
        if encrypted:
            initial_state.append({"type": "m.room.encryption", "state_key": "",
                                  "content": {"algorithm": "m.megolm.v1.aes-sha2"}})
        resp = await self.client.room_create(name=name, invite=list(invite), initial_state=initial_state,
                                             alias=alias, power_level_override={"users": power} if power else None)
        assert isinstance(resp, RoomCreateResponse), resp
        return resp.room_id

    async def join(self, room: str) -> str:
        resp = await self.client.join(room)
        assert hasattr(resp, "room_id"), resp
        await self.client.sync(timeout=0)
        return resp.room_id

    async def send(self, room_id: str, body: str, msgtype: str = "m.text", **extra: Any) -> str:
        content = {"msgtype": msgtype, "body": body, **extra}
        resp = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        assert isinstance(resp, RoomSendResponse), resp
        return resp.event_id

    def replies_to(self, event_id: str, sender: str | None = None) -> list[dict[str, Any]]:
        found = []
        for event in self.events:
            relates = event.get("content", {}).get("m.relates_to", {}) or {}
            if (relates.get("m.in_reply_to") or {}).get("event_id") == event_id:
                if sender is None or event.get("sender") == sender:
                    found.append(event)
        return found

    async def wait_for(self, predicate, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if predicate(event):
                    return event
            self._new.clear()
            try:
                await asyncio.wait_for(self._new.wait(), timeout=max(0.05, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
        raise AssertionError(f"{self.user_id} saw no matching event within {timeout} s")

    async def wait_reply(self, event_id: str, timeout: float = 30.0) -> dict[str, Any]:
        return await self.wait_for(
            lambda e: (e.get("content", {}).get("m.relates_to", {}) or {}).get("m.in_reply_to", {}).get("event_id")
            == event_id, timeout)

    async def ask(self, room_id: str, body: str, timeout: float = 30.0, **extra: Any) -> dict[str, Any]:
        """Send a command and return the bot's reply event."""
        return await self.wait_reply(await self.send(room_id, body, **extra), timeout)


def _json_or_empty(data: bytes) -> dict[str, Any]:
    try:
        return json.loads(data or b"{}")
    except ValueError:
        return {}


def from_bot(member: Member, bot_id: str, needle: str) -> list[dict]:
    """The bot's messages with ``needle`` in their text; an edit (``m.replace``) is not a new message."""
    return [e for e in member.events if e.get("sender") == bot_id and needle in e.get("content", {}).get("body", "")
            and (e["content"].get("m.relates_to") or {}).get("rel_type") != "m.replace"]


def reply_text(event: dict[str, Any]) -> str:
    return event.get("content", {}).get("body", "")


class BotProcess:
    """``leaders-hub run`` as a real process, so tests can kill -9 it.

    ``database``: its ``[database] url`` (the tests give each bot a new one on their backend,
    ``tests.backends``); by default ``hub.db`` in ``workdir``."""

    def __init__(self, workdir: Path, homeserver: Homeserver, rooms: list[str], admins: list[str] = (),
                 password: str | None = PASSWORD, catch_up_seconds: int = 600, extra: str = "",
                 user_id: str = "@hub:localhost", matrix: str = "", database: str | None = None):
        self.workdir = workdir
        self.db_url = database or "sqlite+aiosqlite:///hub.db"
        workdir.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port()
        self.config_path = workdir / "config.toml"
        self.homeserver = homeserver
        self.log_path = workdir / "bot.log"
        self.process: subprocess.Popen | None = None
        self.write_config(rooms, admins, password, catch_up_seconds, extra, user_id, matrix)

    def write_config(self, rooms, admins, password, catch_up_seconds, extra="", user_id="@hub:localhost",
                     matrix="") -> None:
        """``extra``: lines appended at the end (new sections); ``matrix``: more lines of [matrix]."""
        lines = [
            "[matrix]",
            f'homeserver = "{self.homeserver.url}"',
            f'user_id = "{user_id}"',
            f"password = {json.dumps(password)}" if password else "",
            'store_path = "store"',
            f"rooms = {json.dumps(list(rooms))}",
            "sync_timeout_ms = 5000",
            matrix,
            "[bot]",
            f"admins = {json.dumps(list(admins))}",
            f"catch_up_seconds = {catch_up_seconds}",
            'language = "en"',
            "[database]",
            f"url = {json.dumps(self.db_url)}",
            "[http]",
            f"port = {self.http_port}",
            "[logging]",
            'level = "INFO"',
            extra,
        ]
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self, wait: bool = True, timeout: float = 60) -> "BotProcess":
        log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "-c", str(self.config_path)],
                                        stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, env=env,
                                        start_new_session=True)
        if wait:
            self.wait_healthy(timeout)
        return self

    def health(self) -> tuple[int, dict[str, Any]]:
        """``/healthz``: its status code (0 when it does not answer) and its JSON (``{}`` without one)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/healthz", timeout=2) as r:
                return r.status, _json_or_empty(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json_or_empty(exc.read())
        except OSError:
            return 0, {}

    def healthz(self) -> int:
        return self.health()[0]

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise AssertionError(f"the bot exited ({self.process.returncode}):\n{self.log()[-4000:]}")
            if self.healthz() == 200:
                return
            time.sleep(0.2)
        raise AssertionError(f"the bot did not become healthy:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> int | None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.process.returncode if self.process else None
