"""The same commands in a terminal, without a homeserver: for trying the bot out and for tests.

Each line is one message; a line ending in a backslash continues on the next
(for commands with ``Field: value`` lines). Images and files are written to
the folder given by ``--files`` and their path is printed.

The console ends at the end of its input (or Ctrl-C): it tells the background jobs to stop
(``stopping``), waits a moment for them, then cancels what is left. Its input is read by a
daemon thread, not by a thread of the event loop's executor: a read still blocked in
``readline`` when the console ends (Ctrl-C, an error) must not keep the process alive,
as the executor's threads do (``asyncio.run`` waits for them at exit).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any, Sequence

from bot.app import Hub
from bot.context import Incoming
from bot.platform import PlatformError, RoomState
from bot.reply import Outgoing, render_markdown
from bot.rooms import MemoryRoom, MemoryRooms
from bot.router import Role

CONSOLE_ROOM = "!console:localhost"
BOT_ID = "@hub:console"
JOBS_GRACE_SECONDS = 5.0  # how long the background jobs get to stop by themselves at the end


class ConsoleTransport:
    """The console platform: rooms kept in memory (``bot.rooms``) with the homeserver's power rules, so every
    command — moderation included — runs here as it would in a Matrix room."""

    def __init__(self, hub: Hub, user_id: str, files_dir: Path | None = None, rooms: MemoryRooms | None = None):
        self.hub = hub
        self.rooms = rooms or MemoryRooms(BOT_ID)
        self.user_id = self.rooms.actor  # the bot's id: who acts in the rooms
        self.sender = user_id
        if not self.rooms.rooms:  # the console's own room: the bot made it, the operator is a member
            room = self.rooms.add(MemoryRoom(CONSOLE_ROOM, "console", creator=BOT_ID, aliases=("#console:console",)))
            room.join(BOT_ID, "Leaders Hub")
            room.join(user_id)
        self.leader_rooms = set(self.rooms.rooms)
        self.files_dir = files_dir or Path(tempfile.mkdtemp(prefix="leaders-hub-"))
        self.sent: list[tuple[str, str]] = []  # notices sent outside replies (announcements…)
        self.edits: list[tuple[str, str, str]] = []  # (room, edited message, its new text)
        self.out: IO[str] = sys.stdout
        self.stopping = asyncio.Event()  # set at the end of the input: background jobs stop
        self._power_locks: dict[str, asyncio.Lock] = {}
        hub.platform = self

    # ----- who is where -----------------------------------------------------------------------

    def power_level(self, room_id: str, user_id: str) -> int:
        room = self.rooms.rooms.get(room_id)
        return room.levels.level(user_id) if room else 0

    def is_room_creator(self, room_id: str, user_id: str) -> bool:
        room = self.rooms.rooms.get(room_id)
        return room is not None and room.creator == user_id

    def room_display_name(self, room_id: str) -> str:
        room = self.rooms.rooms.get(room_id)
        return room.name if room else room_id

    def member_display_name(self, room_id: str, user_id: str) -> str | None:
        room = self.rooms.rooms.get(room_id)
        member = room.members.get(user_id) if room else None
        return member.display_name if member else None

    def encryption_status(self):
        return None  # the console has no homeserver, so nothing to encrypt

    async def resolve_room(self, room: str) -> str | None:
        return self.rooms.resolve(room)

    # ----- room administration (applied to the rooms in memory) ------------------------------

    async def room_state(self, room_id: str) -> RoomState:
        return self.rooms.state(room_id)

    async def read_power_levels(self, room_id: str) -> dict[str, Any]:
        return self.rooms.power_levels(room_id)

    async def put_power_levels(self, room_id: str, content: dict[str, Any]) -> None:
        self.rooms.put_power_levels(room_id, content)

    def power_lock(self, room_id: str) -> asyncio.Lock:
        return self._power_locks.setdefault(room_id, asyncio.Lock())

    async def kick(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        self.rooms.membership("kick", room_id, user_id)

    async def ban(self, room_id: str, user_id: str, reason: str | None = None) -> None:
        self.rooms.membership("ban", room_id, user_id)

    async def unban(self, room_id: str, user_id: str) -> None:
        self.rooms.membership("unban", room_id, user_id)

    async def redact(self, room_id: str, event_id: str, reason: str | None = None, key: str | None = None) -> None:
        self.rooms.redact(room_id, event_id)

    async def fetch_event(self, room_id: str, event_id: str) -> dict[str, Any]:
        try:
            return self.rooms.event(room_id, event_id)
        except PlatformError:
            return {}

    # ----- sending ----------------------------------------------------------------------------

    def _show(self, room_id: str, message: Outgoing) -> str:
        plain, _html = render_markdown(message.markdown) if message.markdown else ("", "")
        if message.data is not None:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / (message.filename or "file.bin")
            path.write_bytes(message.data)
            plain = (plain + "\n" if plain else "") + f"[{message.kind}: {path}]"
        room = self.rooms.rooms.get(room_id)
        if room is not None:
            room.record(self.user_id, plain)
        return plain

    async def send_outgoing(self, room_id: str, message: Outgoing, key: str) -> str:
        plain = self._show(room_id, message)
        self.sent.append((room_id, plain))
        print(f"[{self.room_display_name(room_id)}] {plain}", file=self.out, flush=True)
        return f"$console-{uuid.uuid4().hex}"

    async def send_notice(self, room_id: str, markdown: str, key: str, mentions: list[str] | None = None,
                          extra: dict | None = None) -> str:
        return await self.send_outgoing(room_id, Outgoing(markdown=markdown, mentions=mentions or [],
                                                          extra=extra or {}), key)

    async def edit_notice(self, room_id: str, event_id: str, markdown: str, key: str) -> str:
        plain, _html = render_markdown(markdown)
        self.edits.append((room_id, event_id, plain))
        print(f"[{self.room_display_name(room_id)}] (edited) {plain}", file=self.out, flush=True)
        return f"$console-{uuid.uuid4().hex}"

    async def handle(self, text: str, sender: str | None = None, room_id: str | None = None) -> list[str]:
        """Run one message (by ``sender`` in ``room_id``: the operator in the first room unless said) and
        return what the bot would show, as plain text."""
        sender = sender or self.sender
        room_id = room_id or next(iter(sorted(self.leader_rooms)), CONSOLE_ROOM)
        room = self.rooms.rooms.get(room_id)
        event_id = room.record(sender, text) if room is not None else f"$console-{uuid.uuid4().hex}"
        if not self.hub.router.is_command(text):
            return []
        incoming = Incoming(event_id=event_id, room_id=room_id, sender=sender, body=text,
                            origin_ts=int(time.time() * 1000))
        return [self._show(message.room_id or room_id, message) for message in await self.hub.execute(incoming)]

    async def run(self, stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> None:
        self.out = stdout
        jobs = [asyncio.ensure_future(job(self.hub)) for job in self.hub.background_jobs]
        try:
            await self._repl(stdin, stdout)
        finally:
            await self._stop_jobs(jobs)

    async def _stop_jobs(self, jobs: Sequence[asyncio.Future]) -> None:
        self.stopping.set()
        if jobs:
            _done, late = await asyncio.wait(jobs, timeout=JOBS_GRACE_SECONDS)
            for job in late:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)  # none is left running when the hub closes

    async def greeting(self) -> str:
        """Who the operator is at this terminal, and what that means for the live database."""
        role = await self.hub.role_of(CONSOLE_ROOM, self.sender)
        prefix = self.hub.config.prefix
        text = (f"Leaders Hub console — you are {self.sender} ({role.name.lower()}). "
                f"Try {prefix}help; Ctrl-D quits.\n")
        if role >= Role.COORDINATOR:
            text += (f"Careful: this is the live database, and as {role.name.lower()} what you {prefix}share is "
                     "published at once and moderation commands act for real.")
        else:
            text += (f"What you {prefix}share waits in the moderation queue. To act as an admin: "
                     "leaders-hub console --user <an admin's Matrix id>.")
        return text

    async def _repl(self, stdin: IO[str], stdout: IO[str]) -> None:
        interactive = stdin.isatty()
        if interactive:
            print(await self.greeting(), file=stdout)
        lines = _lines_of(stdin)
        pending: list[str] = []
        while True:
            if interactive:
                print("> " if not pending else "… ", end="", file=stdout, flush=True)
            line = await lines.get()
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


def _lines_of(stdin: IO[str]) -> asyncio.Queue:
    """The lines of ``stdin``, read by a daemon thread; an empty string at the end of the input."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                line = stdin.readline()
            except (OSError, ValueError):  # closed under us
                line = ""
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the loop is gone: nobody is listening any more
                return
            if not line:
                return

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return queue
