"""Matrix actions of moderation — kick, ban, unban, power levels (mute), redact — and reading the
room state they depend on (power levels, the create event, members).

Functions take the transport and use ``transport.client`` (a nio ``AsyncClient``), retrying while
the homeserver is unreachable (``transport._retry_network``). A refusal by the homeserver comes back
as ``MatrixActionError`` with its Matrix error code. The console has no client: ``available`` says so
and every action raises ``NoHomeserver``.

The power rules are the Matrix spec's (room versions up to 12): kicking, banning and changing someone's
power level also need the bot's level to be above the target's; room-version-12 creators are above
every level without being listed in ``m.room.power_levels``.
"""

from __future__ import annotations

import asyncio
import html
import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import unquote

from nio import ErrorResponse

# A creator of a room-version-12 room is above every number.
CREATOR_LEVEL = 2**53

# Defaults of m.room.power_levels keys that are absent (Matrix spec).
DEFAULTS = {"users_default": 0, "events_default": 0, "state_default": 50, "ban": 50, "kick": 50, "redact": 50,
            "invite": 0}

# The powers the bot may need, in the order ``!mod verify`` lists them.
ACTIONS = ("kick", "ban", "unban", "redact", "power_levels", "send")
# Actions that the homeserver allows only on users below the actor's own level.
OVER_TARGET = frozenset({"kick", "ban", "unban", "power_levels"})


class MatrixActionError(Exception):
    """The homeserver refused an action (``status`` is the Matrix error code, e.g. ``M_FORBIDDEN``)."""

    def __init__(self, status: str, message: str):
        self.status = status or "M_UNKNOWN"
        self.message = message or ""
        super().__init__(f"{self.status}: {self.message}")


class NoHomeserver(Exception):
    """The transport has no homeserver (the console)."""


def available(transport: Any) -> bool:
    return getattr(transport, "client", None) is not None


# ----- power levels (pure) -------------------------------------------------------------------

@dataclass(frozen=True)
class Shortfall:
    """Why the bot cannot do ``action``: its level ``have`` is below ``need``, or (``target_level`` set)
    the target's level is not below the bot's."""

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


# ----- room state (pure parsing) -------------------------------------------------------------

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


# ----- talking to the homeserver -------------------------------------------------------------

async def _call(transport: Any, request: Callable[[], Awaitable[Any]]) -> Any:
    if not available(transport):
        raise NoHomeserver()
    retry = getattr(transport, "_retry_network", None)
    resp = await (retry(request) if retry else request())
    if isinstance(resp, ErrorResponse):
        raise MatrixActionError(getattr(resp, "status_code", None) or "M_UNKNOWN", getattr(resp, "message", ""))
    return resp


async def room_state(transport: Any, room_id: str) -> RoomState:
    """Power levels, creators and members as the homeserver has them now (not nio's cache)."""
    resp = await _call(transport, lambda: transport.client.room_get_state(room_id))
    return parse_room_state(room_id, list(getattr(resp, "events", None) or []))


async def read_power_levels(transport: Any, room_id: str) -> dict[str, Any]:
    resp = await _call(transport, lambda: transport.client.room_get_state_event(room_id, "m.room.power_levels"))
    return dict(resp.content or {})


async def put_power_levels(transport: Any, room_id: str, content: dict[str, Any]) -> None:
    await _call(transport, lambda: transport.client.room_put_state(room_id, "m.room.power_levels", content))


_locks: "weakref.WeakKeyDictionary[Any, dict[str, asyncio.Lock]]" = weakref.WeakKeyDictionary()


def power_lock(transport: Any, room_id: str) -> asyncio.Lock:
    """One writer of a room's power levels at a time (read, change one entry, write back)."""
    rooms = _locks.setdefault(transport, {})
    return rooms.setdefault(room_id, asyncio.Lock())


async def kick(transport: Any, room_id: str, user_id: str, reason: str | None = None) -> None:
    await _call(transport, lambda: transport.client.room_kick(room_id, user_id, reason=reason or None))


async def ban(transport: Any, room_id: str, user_id: str, reason: str | None = None) -> None:
    await _call(transport, lambda: transport.client.room_ban(room_id, user_id, reason=reason or None))


async def unban(transport: Any, room_id: str, user_id: str) -> None:
    await _call(transport, lambda: transport.client.room_unban(room_id, user_id))


async def redact(transport: Any, room_id: str, event_id: str, reason: str | None = None,
                 txn_id: str | None = None) -> None:
    await _call(transport, lambda: transport.client.room_redact(room_id, event_id, reason=reason or None,
                                                                tx_id=txn_id))


async def fetch_event(transport: Any, room_id: str, event_id: str) -> dict[str, Any]:
    resp = await _call(transport, lambda: transport.client.room_get_event(room_id, event_id))
    event = getattr(resp, "event", None)
    return dict(getattr(event, "source", None) or {})


async def resolve_alias(transport: Any, alias: str) -> str:
    resp = await _call(transport, lambda: transport.client.room_resolve_alias(alias))
    return resp.room_id


# ----- naming users and events in messages (pure) --------------------------------------------

_PILL = re.compile(r'<a\s[^>]*href="https://matrix\.to/#/((?:@|%40)[^"?/]+)[^"]*"[^>]*>(.*?)</a>', re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_MX_REPLY = re.compile(r"<mx-reply>.*?</mx-reply>", re.S | re.I)


def pills_to_ids(body: str, formatted_body: str | None) -> str:
    """``body`` with each user pill's text replaced by the user's id.

    Element shows a mention as a pill: the display name in ``body``, a link
    ``https://matrix.to/#/@ala:example.org`` in ``formatted_body``. Put the id in its place so a
    command names the user unambiguously (``!mod kick Ala Nowak spam`` → ``!mod kick @ala:example.org spam``).
    """
    if not formatted_body:
        return body
    position = 0
    for match in _PILL.finditer(_MX_REPLY.sub("", formatted_body)):
        user_id = unquote(match.group(1))
        text = html.unescape(_TAG.sub("", match.group(2)))
        if not text:
            continue
        found = body.find(text, position)
        if found < 0:
            continue
        body = body[:found] + user_id + body[found + len(text):]
        position = found + len(user_id)
    return body


_USER_ID = re.compile(r"^@[^:\s]+:\S+$")
_USER_LINK = re.compile(r"^https://matrix\.to/#/((?:@|%40)[^?/\s]+)")


def user_id_in(text: str) -> str | None:
    """A full user id typed as ``@ala:example.org`` or as a matrix.to / ``matrix:u/`` link."""
    text = text.strip().strip("<>").rstrip(":,")
    link = _USER_LINK.match(text)
    if link:
        text = unquote(link.group(1))
    elif text.startswith("matrix:u/"):
        text = "@" + unquote(text[len("matrix:u/"):].split("?", 1)[0])
    return text if _USER_ID.match(text) else None


def parse_event_ref(text: str) -> tuple[str | None, str] | None:
    """``(room id or alias, or None for "this room", event id)`` from an event id or a permalink:
    ``$abc``, ``https://matrix.to/#/!room:server/$abc?via=…``, ``https://app.element.io/#/room/!room/$abc``
    or ``matrix:roomid/room:server/e/abc``."""
    text = text.strip().strip("<>")
    if text.startswith("$") and len(text) > 1 and " " not in text:
        return None, text
    if text.startswith("matrix:"):
        parts = [unquote(p) for p in text[len("matrix:"):].split("?", 1)[0].split("/")]
        if len(parts) == 4 and parts[2] == "e" and parts[0] in ("roomid", "r"):
            room = ("!" if parts[0] == "roomid" else "#") + parts[1]
            return room, "$" + parts[3]
        return None
    if "#/" in text and text.startswith(("https://", "http://")):
        fragment = text.split("#/", 1)[1].split("?", 1)[0]
        parts = [unquote(p) for p in fragment.split("/") if p]
        if parts and parts[0] == "room":
            parts = parts[1:]
        if len(parts) >= 2 and parts[0][:1] in ("!", "#") and parts[1].startswith("$"):
            return parts[0], parts[1]
    return None


__all__ = [
    "ACTIONS", "CREATOR_LEVEL", "MatrixActionError", "NoHomeserver", "PowerLevels", "RoomMember", "RoomState",
    "Shortfall", "available", "ban", "fetch_event", "kick", "parse_event_ref", "parse_room_state", "pills_to_ids",
    "power_lock", "put_power_levels", "read_power_levels", "redact", "resolve_alias", "room_state", "unban",
    "user_id_in", "with_user_level",
]
