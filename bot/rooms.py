"""Rooms kept in memory, with the Matrix power rules a homeserver applies: the console's rooms.

Each room has a creator (room version 12: above every level), power levels, members with display
names, and the events said in it. Actions are refused as Synapse would refuse them (a ``PlatformError``
with ``M_FORBIDDEN``): kicking someone at or above your own level, changing power levels without
the level they need, acting in a room the bot is not in.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.platform import PlatformError, PowerLevels, RoomMember, RoomState

_ids = itertools.count(1)


@dataclass
class MemoryRoom:
    room_id: str
    name: str
    creator: str
    power: dict[str, Any] = field(default_factory=dict)
    members: dict[str, RoomMember] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    redacted: list[str] = field(default_factory=list)
    aliases: tuple[str, ...] = ()

    @property
    def levels(self) -> PowerLevels:
        return PowerLevels(self.power, frozenset({self.creator}))

    def join(self, user_id: str, display_name: str | None = None, level: int | None = None,
             membership: str = "join") -> None:
        self.members[user_id] = RoomMember(user_id, membership, display_name)
        if level is not None:
            self.power = {**self.power, "users": {**(self.power.get("users") or {}), user_id: level}}

    def state(self) -> RoomState:
        return RoomState(self.room_id, PowerLevels(copy.deepcopy(self.power), frozenset({self.creator})),
                         dict(self.members), self.name)

    def record(self, sender: str, body: str, event_id: str | None = None) -> str:
        """An event said in the room (so that it can be fetched or redacted)."""
        event_id = event_id or f"$mem{next(_ids)}"
        self.events[event_id] = {"event_id": event_id, "room_id": self.room_id, "sender": sender,
                                 "type": "m.room.message", "content": {"msgtype": "m.text", "body": body}}
        return event_id


class MemoryRooms:
    """The rooms, and the homeserver's side of every action on them, done as the bot ``actor``."""

    def __init__(self, actor: str):
        self.actor = actor
        self.rooms: dict[str, MemoryRoom] = {}

    def add(self, room: MemoryRoom) -> MemoryRoom:
        self.rooms[room.room_id] = room
        return room

    def _room(self, room_id: str) -> MemoryRoom:
        room = self.rooms.get(room_id)
        member = room.members.get(self.actor) if room else None
        if room is None or member is None or member.membership != "join":
            raise PlatformError("M_FORBIDDEN", f"{self.actor} is not in room {room_id}")
        return room

    def resolve(self, room: str) -> str | None:
        if room in self.rooms:
            return room
        return next((r.room_id for r in self.rooms.values() if room in r.aliases), None)

    def state(self, room_id: str) -> RoomState:
        return self._room(room_id).state()

    def power_levels(self, room_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._room(room_id).power)

    def put_power_levels(self, room_id: str, content: dict[str, Any]) -> None:
        room = self._room(room_id)
        levels = room.levels
        mine = levels.level(self.actor)
        if mine < levels.needed("power_levels"):
            raise PlatformError("M_FORBIDDEN", "You don't have permission to change the power levels")
        old, new = room.power.get("users") or {}, content.get("users") or {}
        for user_id in set(old) | set(new):
            if old.get(user_id) != new.get(user_id) and user_id != self.actor:
                if levels.level(user_id) >= mine or (new.get(user_id) or 0) > mine:
                    raise PlatformError("M_FORBIDDEN", f"You cannot change the level of {user_id}")
        room.power = copy.deepcopy(content)

    def membership(self, action: str, room_id: str, user_id: str) -> None:
        room = self._room(room_id)
        if room.levels.shortfall(self.actor, action, user_id) is not None:
            raise PlatformError("M_FORBIDDEN", f"You don't have permission to {action} {user_id}")
        old = room.members.get(user_id)
        new = {"kick": "leave", "ban": "ban", "unban": "leave"}[action]
        room.members[user_id] = RoomMember(user_id, new, old.display_name if old else None)

    def redact(self, room_id: str, event_id: str) -> None:
        room = self._room(room_id)
        event = room.events.get(event_id)
        own = event is not None and event.get("sender") == self.actor
        if not own and room.levels.level(self.actor) < room.levels.needed("redact"):
            raise PlatformError("M_FORBIDDEN", "You don't have permission to redact")
        if event_id not in room.redacted:
            room.redacted.append(event_id)

    def event(self, room_id: str, event_id: str) -> dict[str, Any]:
        room = self._room(room_id)
        if event_id not in room.events:
            raise PlatformError("M_NOT_FOUND", "Event not found")
        return copy.deepcopy(room.events[event_id])
