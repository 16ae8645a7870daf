"""A caller's role, resolved per room.

admin: listed in the config, everywhere. In a leader room: a room-version-12
creator outranks everyone, like an admin; power level >= 50 or a granted
``moderator`` makes a moderator; a granted ``coordinator`` a coordinator; any
member is a leader. Outside leader rooms only admins count.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from bot.router import Role

MODERATOR_POWER = 50


async def resolve_role(admins: set[str], platform, grants_of: Callable[[str], Awaitable[set[str]]], room_id: str,
                       user_id: str) -> Role:
    """``grants_of(user_id)``: the roles granted to a user (the hub keeps them cached)."""
    if user_id in admins:
        return Role.ADMIN
    if room_id not in platform.leader_rooms:
        return Role.ANYONE
    if platform.is_room_creator(room_id, user_id):
        return Role.ADMIN
    granted = await grants_of(user_id)
    if platform.power_level(room_id, user_id) >= MODERATOR_POWER or "moderator" in granted:
        return Role.MODERATOR
    if "coordinator" in granted:
        return Role.COORDINATOR
    return Role.LEADER
