"""``!mod kick|ban|unban <user> [reason] [in:all]`` and ``!mod redact <event> [reason]``."""

from __future__ import annotations

from bot.checks import Chain, Checked, Scoped, ScopedReason, TargetEvent, TargetUser
from bot.context import Context
from bot.platform import PlatformError
from bot.reply import md_code
from basics.ids import txn_id
from bot.router import OptionalRest

from . import mod
from .common import Result, failure, report, room_name

def _reason(why: Scoped | None) -> str | None:
    return why.text if why else None


async def _act(ctx: Context, checked: Checked, action: str, why: Scoped | None) -> None:
    target = checked.user_id
    assert target is not None
    results: list[Result] = []
    for room_id in checked.rooms:
        state = checked.states.get(room_id)
        membership = state.membership(target) if state else None
        if action == "kick" and membership not in ("join", "invite", "knock"):
            results.append(Result(room_id, "failed", ctx.t("moderation.not_member", user=md_code(target)),
                                  {"key": "moderation.not_member", "params": {"user": target}}))
            continue
        if action == "unban" and membership != "ban":
            results.append(Result(room_id, "failed", ctx.t("moderation.not_banned", user=md_code(target)),
                                  {"key": "moderation.not_banned", "params": {"user": target}}))
            continue
        try:
            if action == "kick":
                await ctx.platform.kick(room_id, target, _reason(why))
            elif action == "ban":
                await ctx.platform.ban(room_id, target, _reason(why))
            else:
                await ctx.platform.unban(room_id, target)
        except PlatformError as error:
            results.append(failure(ctx, room_id, error))
            continue
        results.append(Result(room_id, "done", ctx.t(f"moderation.{action}.done", user=md_code(target),
                                                     room=room_name(ctx, room_id))))
    await report(ctx, action, checked, results, reason=_reason(why))


@mod.sub("kick", aliases=("wyrzuc", "wyrzuć"),
         checks=Chain("kick", target="user", bot_power="kick"))
async def kick(ctx: Context, checked: Checked, user: TargetUser, reason: ScopedReason = None) -> None:
    await _act(ctx, checked, "kick", reason)


@mod.sub("ban", aliases=("zbanuj", "zablokuj"),
         checks=Chain("ban", target="user", bot_power="ban"))
async def ban(ctx: Context, checked: Checked, user: TargetUser, reason: ScopedReason = None) -> None:
    await _act(ctx, checked, "ban", reason)


@mod.sub("unban", aliases=("odbanuj", "odblokuj"),
         checks=Chain("unban", target="user", bot_power="unban", members=("ban",)))
async def unban(ctx: Context, checked: Checked, user: TargetUser, reason: ScopedReason = None) -> None:
    await _act(ctx, checked, "unban", reason)


@mod.sub("redact", aliases=("wymaz", "wymaż", "ukryj"),
         checks=Chain("redact", target="event", bot_power="redact", allow_self=True, allow_bot=True))
async def redact(ctx: Context, checked: Checked, event: TargetEvent, reason: OptionalRest = None) -> None:
    room_id = checked.rooms[0]
    event_id = (checked.event or {}).get("event_id", "")
    # The same command redacts with the same transaction id, so a retry after a crash is not a second redaction.
    txn = txn_id(ctx.incoming.event_id, kind="redact")
    try:
        await ctx.platform.redact(room_id, event_id, reason, key=txn)
        result = Result(room_id, "done", ctx.t("moderation.redact.done", event=md_code(event_id),
                                               user=md_code(checked.user_id or ""), room=room_name(ctx, room_id)),
                        {"key": "moderation.redact.detail", "params": {"event": event_id}})
    except PlatformError as error:
        result = failure(ctx, room_id, error)
    await report(ctx, "redact", checked, [result], reason=reason)
