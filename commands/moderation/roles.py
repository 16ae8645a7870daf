"""``!roles`` — who holds what in this room — and ``!role grant|revoke <user> coordinator|moderator``.

Moderators grant and revoke ``coordinator``; only admins grant or revoke ``moderator`` (a moderator
cannot hand out their own rank — Draupnir#818). Grants hold in every leader room; power levels only
in their own room.
"""

from __future__ import annotations

from typing import Annotated, Any

from bot.checks import Chain, Checked, TargetUser, record_action
from bot.context import Context
from bot.platform import PlatformError
from bot.reply import md_code
from bot.roles import MODERATOR_POWER
from bot.router import Role, choice
from storage.runtime import RoleRepository

from . import commands

ROLE_NAMES = {"coordinator": "coordinator", "koordynator": "coordinator", "moderator": "moderator"}


def _role_needed(named: dict[str, Any]) -> Role:
    return Role.ADMIN if ROLE_NAMES.get(named.get("role") or "") == "moderator" else Role.MODERATOR


GrantedRole = Annotated[str, choice("coordinator", "moderator", "koordynator")]


@commands.command("roles", aliases=("role", "rola"), role=Role.MODERATOR, checks=Chain("roles"))
async def roles(ctx: Context) -> None:
    lines = [ctx.t("moderation.roles.title", room=ctx.room_label(ctx.room_id))]
    admins = sorted(ctx.hub.config.admins)
    lines.append(ctx.t("moderation.roles.admins", users=_list(ctx, admins)))
    state = None
    if ctx.room_id in ctx.platform.leader_rooms:
        try:
            state = await ctx.platform.room_state(ctx.room_id)
        except PlatformError:
            state = None
    if state is not None:
        lines.append(ctx.t("moderation.roles.creators", users=_list(ctx, sorted(state.power.creators))))
        by_power = sorted(((uid, state.power.level(uid)) for uid in state.power.users
                           if uid not in state.power.creators and state.power.level(uid) >= MODERATOR_POWER),
                          key=lambda item: (-item[1], item[0]))
        shown = [f"{md_code(uid)} ({level})" for uid, level in by_power]
        lines.append(ctx.t("moderation.roles.by_power", users=", ".join(shown) or ctx.t("moderation.roles.nobody")))
    grants = await RoleRepository(ctx.session).all()
    for role in ("moderator", "coordinator"):
        holders = sorted(g.user_id for g in grants if g.role == role)
        lines.append(ctx.t(f"moderation.roles.granted_{role}", users=_list(ctx, holders)))
    lines.append(ctx.t("moderation.roles.leaders"))
    ctx.reply("\n".join(lines))


def _list(ctx: Context, users: list[str]) -> str:
    return ", ".join(md_code(u) for u in users) or ctx.t("moderation.roles.nobody")


@roles.sub("grant", aliases=("nadaj",), checks=Chain("role.grant", target="user", role_for=_role_needed))
async def grant(ctx: Context, checked: Checked, user: TargetUser, role: GrantedRole) -> None:
    role = ROLE_NAMES[role]
    target = checked.user_id
    assert target is not None
    role_text = ctx.t(f"role.{role}")
    if not await RoleRepository(ctx.session).grant(target, role, by=ctx.sender):
        ctx.reply(ctx.t("moderation.role.already", user=md_code(target), role=role_text))
        return
    case = await record_action(ctx, "role.grant", target=target,
                               detail={"key": "moderation.role.detail", "params": {"role": f"role.{role}"}})
    ctx.reply(ctx.t("moderation.case", text=ctx.t("moderation.role.granted", user=md_code(target), role=role_text),
                    case=case))


@roles.sub("revoke", aliases=("odbierz",), checks=Chain("role.revoke", target="user", role_for=_role_needed))
async def revoke(ctx: Context, checked: Checked, user: TargetUser, role: GrantedRole) -> None:
    role = ROLE_NAMES[role]
    target = checked.user_id
    assert target is not None
    role_text = ctx.t(f"role.{role}")
    if not await RoleRepository(ctx.session).revoke(target, role):
        text = ctx.t("moderation.role.not_granted", user=md_code(target), role=role_text)
        if role == "moderator" and ctx.platform.power_level(ctx.room_id, target) >= MODERATOR_POWER:
            text += " " + ctx.t("moderation.role.by_power")
        ctx.reply(text)
        return
    case = await record_action(ctx, "role.revoke", target=target,
                               detail={"key": "moderation.role.detail", "params": {"role": f"role.{role}"}})
    ctx.reply(ctx.t("moderation.case", text=ctx.t("moderation.role.revoked", user=md_code(target), role=role_text),
                    case=case))
