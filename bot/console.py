"""The same commands in a terminal, without a homeserver: for trying the bot out and for tests.

Each line is one message; a line ending in a backslash continues on the next
(for commands with ``Field: value`` lines). Images and files are written to
the folder given by ``--files`` and their path is printed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO

from bot.app import Hub
from bot.context import Incoming
from bot.reply import render_markdown

CONSOLE_ROOM = "!console:localhost"


class ConsoleTransport:
    def __init__(self, hub: Hub, user_id: str, files_dir: Path | None = None):
        self.hub = hub
        self.user_id = "@hub:console"
        self.sender = user_id
        self.leader_rooms = {CONSOLE_ROOM}
        self.files_dir = files_dir or Path(tempfile.mkdtemp(prefix="leaders-hub-"))
        self.sent: list[tuple[str, str]] = []  # notices sent outside replies (announcements…)
        self.edits: list[tuple[str, str, str]] = []  # (room, edited message, its new text)
        self.out: IO[str] = sys.stdout
        hub.transport = self

    def power_level(self, room_id: str, user_id: str) -> int:
        return 0

    def is_room_creator(self, room_id: str, user_id: str) -> bool:
        return False

    def room_display_name(self, room_id: str) -> str:
        return "console"

    def encryption_status(self):
        return None  # the console has no homeserver, so nothing to encrypt

    async def resolve_room(self, room: str) -> str | None:
        return room if room in self.leader_rooms else None

    async def send_notice(self, room_id: str, markdown: str, key: str, mentions: list[str] | None = None,
                          extra: dict | None = None) -> str:
        plain, _html = render_markdown(markdown)
        self.sent.append((room_id, plain))
        print(f"[{room_id}] {plain}", file=self.out, flush=True)
        return f"$console-{uuid.uuid4().hex}"

    async def edit_notice(self, room_id: str, event_id: str, markdown: str, key: str) -> str:
        plain, _html = render_markdown(markdown)
        self.edits.append((room_id, event_id, plain))
        print(f"[{room_id}] (edited) {plain}", file=self.out, flush=True)
        return f"$console-{uuid.uuid4().hex}"

    async def handle(self, text: str) -> list[str]:
        """Run one message and return what the bot would show, as plain text."""
        router = self.hub.router
        if not router.is_command(text):
            return []
        incoming = Incoming(event_id=f"$console-{uuid.uuid4().hex}", room_id=CONSOLE_ROOM, sender=self.sender,
                            body=text, origin_ts=int(time.time() * 1000))
        shown = []
        for message in await self.hub.execute(incoming):
            plain, _html = render_markdown(message.markdown) if message.markdown else ("", "")
            if message.data is not None:
                path = self.files_dir / (message.filename or "file.bin")
                path.write_bytes(message.data)
                plain = (plain + "\n" if plain else "") + f"[{message.kind}: {path}]"
            shown.append(plain)
        return shown

    async def run(self, stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
        self.out = stdout
        jobs = [asyncio.ensure_future(job(self.hub)) for job in self.hub.background_jobs]
        try:
            await self._repl(stdin, stdout)
        finally:
            for job in jobs:
                job.cancel()

    async def _repl(self, stdin: IO[str], stdout: IO[str]) -> None:
        interactive = stdin.isatty()
        if interactive:
            print(f"Leaders Hub console — you are {self.sender}. Try {self.hub.config.prefix}help; Ctrl-D quits.",
                  file=stdout)
        loop = asyncio.get_running_loop()
        pending: list[str] = []
        while True:
            if interactive:
                print("> " if not pending else "… ", end="", file=stdout, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if line.endswith("\\"):
                pending.append(line[:-1])
                continue
            text = "\n".join(pending + [line])
            pending = []
            for shown in await self.handle(text):
                print(shown, file=stdout, flush=True)
                print(file=stdout, flush=True)
