"""The seam between the features and the chat platform: what a command may ask of it, and the room model
it answers with. Features and the runtime speak only to ``Platform``; ``bot.matrix`` implements it on a
Matrix homeserver (matrix-nio), ``bot.console`` in memory. Nothing here knows of nio.

The room model follows the Matrix spec's power rules (room versions up to 12): kicking, banning and
changing someone's power level need the actor's level above the target's; room-version-12 creators are
above every level without being listed in ``m.room.power_levels``. The console's rooms apply the same
rules, so a moderation command behaves in a terminal as it does against a homeserver.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.reply import Outgoing

# A creator of a room-version-12 room is above every number.
CREATOR_LEVEL = 2**53

# Defaults of m.room.power_levels keys that are absent (Matrix spec).
DEFAULTS = {"users_default": 0, "events_default": 0, "state_default": 50, "ban": 50, "kick": 50, "redact": 50,
            "invite": 0}

# The powers the bot may need, in the order ``!mod verify`` lists them.
ACTIONS = ("kick", "ban", "unban", "redact", "power_levels", "send")
# Actions that are allowed only on users below the actor's own level.
OVER_TARGET = frozenset({"kick", "ban", "unban", "power_levels"})


class PlatformError(Exception):
    """The platform refused an action (``status`` is its error code, e.g. ``M_FORBIDDEN``)."""

    def __init__(self, status: str, message: str):
        self.status = status or "M_UNKNOWN"
        self.message = message or ""
        super().__init__(f"{self.status}: {self.message}")


# ----- power levels ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Shortfall:
    """Why an actor cannot do ``action``: its level ``have`` is below ``need``, or (``target_level`` set)
    the target's level is not below the actor's."""

    action: str
    have: int
    need: int
    target_level: int | None = None


@dataclass
class PowerLevels:
    content: dict[str, Any] = field(default_factory=dict)
    creators: frozenset[str] = frozenset()

    def _int(self, key: str) -> int:
        try:
            return int(self.content.get(key, DEFAULTS[key]))
        except (TypeError, ValueError):
            return DEFAULTS[key]

    @property
    def users(self) -> dict[str, Any]:
        return self.content.get("users") or {}

    @property
    def events(self) -> dict[str, Any]:
        return self.content.get("events") or {}

    def entry(self, user_id: str) -> int | None:
        """The user's own entry in ``users``, or None when they have none (they get ``users_default``)."""
        value = self.users.get(user_id)
        try:
            return None if value is None else int(value)
        except (TypeError, ValueError):
            return None

    def level(self, user_id: str) -> int:
        if user_id in self.creators:
            return CREATOR_LEVEL
        entry = self.entry(user_id)
        return self._int("users_default") if entry is None else entry

    def event_level(self, event_type: str, state: bool = False) -> int:
        value = self.events.get(event_type)
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                pass
        return self._int("state_default" if state else "events_default")

    @property
    def message_level(self) -> int:
        return self.event_level("m.room.message")

    @property
    def mute_level(self) -> int:
        """One below what sending a message needs (negative when that is 0)."""
        return self.message_level - 1

    def needed(self, action: str) -> int:
        if action == "kick":
            return self._int("kick")
        if action == "ban":
            return self._int("ban")
        if action == "unban":  # lifting a ban is a ban-level change to "leave", also checked against kick
            return max(self._int("ban"), self._int("kick"))
        if action == "redact":
            return self._int("redact")
        if action == "power_levels":
            return self.event_level("m.room.power_levels", state=True)
        if action == "send":
            return self.message_level
        raise ValueError(f"unknown action {action!r}")

    def shortfall(self, actor: str, action: str, target: str | None = None) -> Shortfall | None:
        """None when ``actor`` may do ``action`` (to ``target``); otherwise what is missing."""
        have, need = self.level(actor), self.needed(action)
        if have < need:
            return Shortfall(action, have, need)
        if target is not None and target != actor and action in OVER_TARGET:
            target_level = self.level(target)
            if target_level >= have:
                return Shortfall(action, have, need, target_level)
        return None


def with_user_level(content: dict[str, Any], user_id: str, level: int | None) -> dict[str, Any]:
    """A copy of power-levels content with the user's entry set (None: removed)."""
    new = dict(content)
    users = dict(new.get("users") or {})
    if level is None:
        users.pop(user_id, None)
    else:
        users[user_id] = level
    new["users"] = users
    return new


# ----- room state ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoomMember:
    user_id: str
    membership: str
    display_name: str | None


@dataclass
class RoomState:
    room_id: str
    power: PowerLevels
    members: dict[str, RoomMember]
    name: str | None = None

    def is_joined(self, user_id: str) -> bool:
        member = self.members.get(user_id)
        return member is not None and member.membership == "join"

    def membership(self, user_id: str) -> str | None:
        member = self.members.get(user_id)
        return member.membership if member else None


def creators_of(create_event: dict[str, Any]) -> frozenset[str]:
    """Room-version-12 (and "hydra") creators: the create event's sender and ``additional_creators``."""
    content = create_event.get("content", {}) or {}
    version = str(content.get("room_version", "1"))
    if not ((version.isdigit() and int(version) >= 12) or "hydra" in version):
        return frozenset()
    creators = {create_event.get("sender", "")} | set(content.get("additional_creators", []) or [])
    return frozenset(c for c in creators if c)


def parse_room_state(room_id: str, events: list[dict[str, Any]]) -> RoomState:
    """A room's state from its state events (as ``GET /rooms/{id}/state`` gives them)."""
    power: dict[str, Any] = {}
    creators: frozenset[str] = frozenset()
    members: dict[str, RoomMember] = {}
    name = None
    for event in events:
        kind, content = event.get("type"), event.get("content") or {}
        if kind == "m.room.power_levels":
            power = content
        elif kind == "m.room.create":
            creators = creators_of(event)
        elif kind == "m.room.member" and event.get("state_key"):
            members[event["state_key"]] = RoomMember(event["state_key"], content.get("membership", "leave"),
                                                     content.get("displayname"))
        elif kind == "m.room.name":
            name = content.get("name") or None
    return RoomState(room_id, PowerLevels(power, creators), members, name)


# ----- the protocol ----------------------------------------------------------------------------

class Platform(Protocol):
    """Everything features and the runtime may ask of the chat platform (Matrix, or the console)."""

    user_id: str  # the bot's own id
    leader_rooms: set[str]
    stopping: asyncio.Event  # set when the bot is shutting down: background jobs end

    # -- who is where, and with which power (from what the platform last saw) --
    def power_level(self, room_id: str, user_id: str) -> int: ...

    def is_room_creator(self, room_id: str, user_id: str) -> bool: ...

    def room_display_name(self, room_id: str) -> str:
        """The room's name or alias as people see it (its id when it has neither)."""
        ...

    def member_display_name(self, room_id: str, user_id: str) -> str | None: ...

    async def resolve_room(self, room: str) -> str | None:
        """A room id for an id or an alias (None when unknown)."""
        ...

    # -- sending --
    async def send_notice(self, room_id: str, markdown: str, key: str, mentions: list[str] | None = None,
                          extra: dict[str, Any] | None = None) -> str:
        """Send a notice that is not a reply; the same ``key`` never sends twice."""
        ...

    async def send_outgoing(self, room_id: str, message: "Outgoing", key: str) -> str:
        """Send a prepared message (text, image or file) that is not a reply; idempotent by ``key``."""
        ...

    async def edit_notice(self, room_id: str, event_id: str, markdown: str, key: str) -> str: ...

    # -- room state and administration (fresh from the platform, not a cache) --
    async def room_state(self, room_id: str) -> RoomState: ...

    async def read_power_levels(self, room_id: str) -> dict[str, Any]: ...

    async def put_power_levels(self, room_id: str, content: dict[str, Any]) -> None: ...

    def power_lock(self, room_id: str) -> asyncio.Lock:
        """One writer of a room's power levels at a time (read, change one entry, write back)."""
        ...

    async def kick(self, room_id: str, user_id: str, reason: str | None = None) -> None: ...

    async def ban(self, room_id: str, user_id: str, reason: str | None = None) -> None: ...

    async def unban(self, room_id: str, user_id: str) -> None: ...

    async def redact(self, room_id: str, event_id: str, reason: str | None = None,
                     key: str | None = None) -> None: ...

    async def fetch_event(self, room_id: str, event_id: str) -> dict[str, Any]:
        """The event as the platform has it ({} when unknown)."""
        ...

    # -- operator views --
    def encryption_status(self) -> Any:
        """The cross-signing state (``IdentityStatus``), or None without encryption."""
        ...
