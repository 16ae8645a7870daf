"""What a command handler gets: who asked, where, in which language and role, a database
session that commits together with the reply, and ways to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.reply import Outgoing, md_code, md_escape
from bot.router import Command, Role

if TYPE_CHECKING:
    from bot.app import Hub


class Transport(Protocol):
    """What commands and role checks may ask of a transport (Matrix or console)."""

    user_id: str
    leader_rooms: set[str]

    def power_level(self, room_id: str, user_id: str) -> int: ...

    def is_room_creator(self, room_id: str, user_id: str) -> bool: ...

    def room_display_name(self, room_id: str) -> str: ...

    async def resolve_room(self, room: str) -> str | None: ...

    def encryption_status(self) -> Any:
        """The cross-signing state (``bot.e2ee.identity.IdentityStatus``), or None without encryption."""
        ...

    async def send_notice(self, room_id: str, markdown: str, key: str, mentions: list[str] | None = None,
                          extra: dict[str, Any] | None = None) -> str:
        """Send a notice that is not a reply; the same ``key`` never sends twice to the homeserver."""
        ...

    async def edit_notice(self, room_id: str, event_id: str, markdown: str, key: str) -> str:
        """Replace the text of the bot's own notice ``event_id``; the same ``key`` never edits twice."""
        ...


def room_label(transport: Transport, room_id: str) -> str:
    """A room as people know it: its name (or alias, as the homeserver computes the display name) in
    bold, its id only when it has neither."""
    name = transport.room_display_name(room_id)
    if not name or name == room_id or name == "Empty Room":
        return md_code(room_id)
    return f"**{md_escape(name)}**"


@dataclass
class Incoming:
    """An event the bot acts on, as the transport saw it."""

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
    transport: Transport
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
        return room_label(self.transport, room_id)

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
