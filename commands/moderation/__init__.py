"""Moderation and administration: roles, membership (kick, ban, unban, mute), redaction, broadcast,
the audit log and a check of the bot's own power.

Every command here is privileged and declares its checks once (``bot.checks.Chain``): the role it
needs, whom it acts on, the power the bot needs. The platform's side is ``bot.platform.Platform``; grants
live in ``role_grants``, mutes and the audit log in ``storage.moderation``.
"""

from __future__ import annotations

from bot.router import CommandSet, Role

from .messages import CATALOGUE

commands = CommandSet("moderation", CATALOGUE)

mod = commands.group("mod", aliases=("moderacja",), role=Role.MODERATOR)

from . import roles, membership, mutes, admin  # noqa: E402,F401  (they register their commands)

__all__ = ["commands", "mod"]
