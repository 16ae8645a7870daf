"""A leader at an Element-like client: matrix-js-sdk with the Rust crypto (tests/js/element_client.mjs),
run by Node from node_modules (installed by ./test.sh with npm ci). Requests go over the child's stdin as
JSON lines; answers and events come back on its stdout."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "js" / "element_client.mjs"


def node_ready() -> str | None:
    """Why the Element client cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (ROOT / "node_modules" / "matrix-js-sdk").is_dir():
        return "node_modules is missing (./test.sh runs npm ci)"
    return None


class ElementError(AssertionError):
    pass


class ElementClient:
    def __init__(self, homeserver_url: str, localpart: str, password: str):
        self.url = homeserver_url
        self.localpart = localpart
        self.password = password
        self.user_id = ""
        self.device_id = ""
        self.process: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._answers: dict[int, asyncio.Future] = {}
        self.events: list[dict[str, Any]] = []
        self._event = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self.stderr_path: Path | None = None

    async def start(self, recovery_key: str | None = None, device_name: str = "Element test") -> "ElementClient":
        env = {**os.environ}
        self.process = await asyncio.create_subprocess_exec(
            "node", str(SCRIPT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL if not env.get("ELEMENT_CLIENT_LOG") else None, cwd=str(ROOT), env=env,
            limit=16 * 1024 * 1024)
        self._reader = asyncio.ensure_future(self._read())
        me = await self.call("login", baseUrl=self.url, user=self.localpart, password=self.password,
                             deviceName=device_name, recoveryKey=recovery_key, timeout=90)
        self.user_id, self.device_id = me["userId"], me["deviceId"]
        return self

    async def _read(self) -> None:
        assert self.process and self.process.stdout
        while True:
            line = await self.process.stdout.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "event" in message:
                self.events.append(message)
                self._event.set()
            elif message.get("id") in self._answers:
                future = self._answers.pop(message["id"])
                if not future.done():
                    future.set_result(message)
        for future in self._answers.values():
            if not future.done():
                future.set_exception(ElementError("the Element client exited"))

    async def call(self, cmd: str, timeout: float = 60, **args: Any) -> Any:
        assert self.process and self.process.stdin
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._answers[request_id] = future
        self.process.stdin.write((json.dumps({"id": request_id, "cmd": cmd, **args}) + "\n").encode())
        await self.process.stdin.drain()
        answer = await asyncio.wait_for(future, timeout)
        if not answer.get("ok"):
            raise ElementError(f"{cmd} failed in the Element client: {answer.get('error')}")
        return answer.get("result")

    async def wait_event(self, kind: str, timeout: float = 60) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for event in self.events:
                if event.get("event") == kind:
                    self.events.remove(event)
                    return event
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise ElementError(f"no {kind} event within {timeout} s")
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), left)
            except asyncio.TimeoutError:
                pass

    # ----- what a leader does --------------------------------------------------------------------

    async def cross_sign(self) -> dict[str, Any]:
        return await self.call("crossSign")

    async def isolation(self, mode: str, blacklist_unverified: bool = False) -> None:
        await self.call("isolation", mode=mode, blacklistUnverified=blacklist_unverified)

    async def join(self, room_id: str) -> str:
        return (await self.call("join", roomId=room_id))["roomId"]

    async def send(self, room_id: str, body: str) -> str:
        return (await self.call("send", roomId=room_id, body=body))["eventId"]

    async def wait_reply(self, event_id: str, timeout: float = 45, sender: str | None = None) -> dict[str, Any]:
        return await self.call("waitReply", timeout=timeout + 5, eventId=event_id, sender=sender,
                               timeoutMs=timeout * 1000)

    async def ask(self, room_id: str, body: str, timeout: float = 45) -> dict[str, Any]:
        return await self.wait_reply(await self.send(room_id, body), timeout)

    async def close(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            try:
                self.process.stdin.close()
                await asyncio.wait_for(self.process.wait(), 10)
            except (asyncio.TimeoutError, OSError, RuntimeError):
                self.process.kill()
                await self.process.wait()
        if self._reader:
            self._reader.cancel()
        self.process = None
