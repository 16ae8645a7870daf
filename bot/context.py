"""What a command handler gets: who asked, where, in which language and role, a database
session that commits together with the reply, and ways to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.platform import Platform
from bot.reply import Outgoing, md_code, md_escape
from bot.router import Command, Role

if TYPE_CHECKING:
    from bot.app import Hub


def room_label(platform: Platform, room_id: str) -> str:
    """A room as people know it: its name (or alias, as the homeserver computes the display name) in
    bold, its id only when it has neither."""
    name = platform.room_display_name(room_id)
    if not name or name == room_id or name == "Empty Room":
        return md_code(room_id)
    return f"**{md_escape(name)}**"


@dataclass
class Incoming:
    """An event the bot acts on, as the platform saw it."""

    event_id: str
    room_id: str
    sender: str
    body: str
    origin_ts: int
    thread_root: str | None = None
    kind: str = "command"  # command | undecryptable | reaction | unreaction
    relates_to: str | None = None  # the event a reaction is about


@dataclass
class Context:
    hub: "Hub"
    session: AsyncSession
    platform: Platform
    incoming: Incoming
    lang: str
    role: Role = Role.ANYONE
    command: Command | None = None
    options: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    after_commit: list[Any] = field(default_factory=list)  # async callables run once the writes are committed

    @property
    def sender(self) -> str:
        return self.incoming.sender

    @property
    def room_id(self) -> str:
        return self.incoming.room_id

    @property
    def prefix(self) -> str:
        return self.hub.config.prefix

    def t(self, key: str, /, **params: Any) -> str:
        return self.hub.translator(self.lang, key, **params)

    def room_label(self, room_id: str) -> str:
        return room_label(self.platform, room_id)

    def arg_name(self, name: str) -> str:
        """An argument's name in the reader's language (``reason`` → ``powód``)."""
        key = f"arg.{name}"
        return self.t(key) if self.hub.translator.has(key) else name

    def usage(self, command: Command) -> str:
        """A command's usage line in the reader's language."""
        return command.usage(self.prefix, self.arg_name, self.t("arg.options"))

    def reply(self, markdown: str, *, mentions: list[str] | None = None, extra: dict[str, Any] | None = None,
              room_id: str | None = None) -> None:
        """Queue a notice; it is sent after the command's writes are committed."""
        self.outgoing.append(Outgoing(markdown=markdown, mentions=mentions or [], extra=extra or {},
                                      room_id=room_id))

    def reply_file(self, data: bytes, filename: str, mimetype: str, caption: str = "") -> None:
        kind = "image" if mimetype.startswith("image/") else "file"
        self.outgoing.append(Outgoing(markdown=caption, kind=kind, data=data, filename=filename, mimetype=mimetype))


@dataclass
class ToolContext:
    """What a feature's ``leaders-hub`` tool gets from the runtime: the config, the cache folder, and
    ``with_session(work)`` — ``await work(session)`` on the migrated database."""

    config: Any
    cache_dir: Path
    with_session: Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
