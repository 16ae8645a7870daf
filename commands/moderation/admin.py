"""``!mod broadcast``, ``!mod audit`` and ``!mod verify``."""

from __future__ import annotations

from bot.args import fold, tokenize
from bot.checks import Chain, Checked, action_name, detail_text, power_text, resolve_user
from bot.context import Context
from bot.errors import BadQuoting, UsageError
from bot.platform import CREATOR_LEVEL, PlatformError, RoomState
from bot.reply import clip, md_code, md_escape
from bot.router import OptionalRest, Rest
from storage.audit import AuditRepository

from . import mod
from .common import Result, report, room_name, when

AUDIT_DEFAULT, AUDIT_MAX = 10, 100
USER_FILTERS = ("user", "uzytkownik", "kto")
ACTION_FILTERS = ("action", "akcja")
# What ``!mod verify`` checks, and the label of each power.
VERIFIED = ("kick", "ban", "redact", "power_levels", "send")


# ----- broadcast -----------------------------------------------------------------------------

@mod.sub("broadcast", aliases=("ogloszenie", "ogłoszenie", "rozeslij", "roześlij"),
         checks=Chain("broadcast", bot_power="send", everywhere=True))
async def broadcast(ctx: Context, checked: Checked, text: Rest) -> None:
    """One notice to every leader room, one at a time (the transport waits out 429s); the key of each
    send comes from this command's event id and the room, so a retry after a crash never sends twice."""
    hub = ctx.hub

    def compose(lang: str) -> str:  # the heading in each room's language; the moderator's text as written
        return f"{hub.translator(lang, 'moderation.broadcast.heading', user=md_code(ctx.sender))}\n\n{text}"

    results: list[Result] = []
    for room_id in checked.rooms:
        try:
            await hub.post(room_id, "broadcast", f"broadcast:{ctx.incoming.event_id}:{room_id}", compose)
        except Exception as error:  # noqa: BLE001 — whatever the homeserver said, the moderator is told
            results.append(Result(room_id, "failed", ctx.t("moderation.homeserver_refused", error=md_escape(str(error))),
                                  {"key": "moderation.homeserver_refused", "params": {"error": str(error)}}))
            continue
        results.append(Result(room_id, "done", ctx.t("moderation.broadcast.sent")))
    reached = sum(r.outcome == "done" for r in results)
    total = len(checked.rooms) + len(checked.refused)
    await report(ctx, "broadcast", checked, results, reason=text[:200], target="",
                 title=ctx.t("moderation.broadcast.summary", reached=reached, total=total))


# ----- audit ---------------------------------------------------------------------------------

@mod.sub("audit", aliases=("dziennik", "log"), checks=Chain("audit"))
async def audit(ctx: Context, filters: OptionalRest = None) -> None:
    limit, user_filter, action_filter = await _audit_filters(ctx, filters or "")
    entries = await AuditRepository(ctx.session).recent(limit, user=user_filter, action=action_filter)
    if not entries:
        ctx.reply(ctx.t("moderation.audit.empty"))
        return
    lines = [ctx.t("moderation.audit.title", count=len(entries))]
    for entry in entries:
        lines.append("- " + _case(ctx, entry))
    ctx.reply("\n".join(lines))


def _case(ctx: Context, entry) -> str:
    outcome = ctx.t(f"moderation.outcome.{entry.outcome}")
    if entry.outcome != "done":
        outcome = f"**{outcome}**"
    parts = [f"**#{entry.id}** {when(ctx, entry.at)}", md_code(entry.actor), action_name(ctx, entry.action)]
    if entry.target:
        parts.append("→ " + (md_code(entry.target) if entry.target[:1] in "@!#$" else md_escape(entry.target)))
    if entry.room_id:
        parts.append(ctx.t("moderation.audit.in_room", room=room_name(ctx, entry.room_id)))
    text = " · ".join(parts) + f": {outcome}"
    if entry.reason:
        text += " — " + ctx.t("moderation.audit.reason", reason=md_escape(entry.reason))
    detail = detail_text(ctx, entry.detail)
    if detail:
        text += f" — {detail}"
    return text


async def _audit_filters(ctx: Context, text: str) -> tuple[int, str | None, str | None]:
    limit, user_filter, action_filter = AUDIT_DEFAULT, None, None
    try:
        tokens = tokenize(text)
    except BadQuoting as error:
        raise UsageError(error.key, **error.params) from None
    for token in tokens:
        word = token.text
        key, sep, value = word.partition(":") if ":" in word and not word.startswith("@") else ("", "", word)
        if not sep and "=" in word:
            key, sep, value = word.partition("=")
        key = fold(key)
        if not sep and word.lstrip("#").isdigit():
            limit = int(word.lstrip("#"))
            if not 1 <= limit <= AUDIT_MAX:
                raise UsageError("moderation.audit.bad_limit", max=AUDIT_MAX)
        elif key in USER_FILTERS and value:
            user_filter = await _audit_user(ctx, value)
        elif key in ACTION_FILTERS and value:
            action_filter = _audit_action(ctx, value)
        else:
            raise UsageError("moderation.audit.bad_filter", word=md_code(clip(word)))
    return limit, user_filter, action_filter


async def _audit_user(ctx: Context, raw: str) -> str:
    states = []
    if ctx.room_id in ctx.platform.leader_rooms:
        try:
            states.append(await ctx.platform.room_state(ctx.room_id))
        except PlatformError:
            pass
    return resolve_user(raw, states, ("join", "invite", "leave", "ban"))


def _audit_action(ctx: Context, raw: str) -> str:
    """An action by its name (``kick``, ``role.grant``, ``archive.approve``) or its translated name."""
    folded = fold(raw)
    for lang in ("en", "pl"):
        for key in ctx.hub.translator.keys(lang):
            if key.startswith("audit.action.") and fold(ctx.hub.translator(lang, key)) == folded:
                return key[len("audit.action."):]
    return raw.lower()


# ----- verify --------------------------------------------------------------------------------

@mod.sub("verify", aliases=("sprawdz", "sprawdź", "check"), checks=Chain("verify"))
async def verify(ctx: Context) -> None:
    platform = ctx.platform
    bot_id = platform.user_id
    lines = [ctx.t("moderation.verify.title", bot=md_code(bot_id))]
    all_ok = True
    for room_id in sorted(platform.leader_rooms, key=lambda r: (r != ctx.room_id, r)):
        lines.append("")
        try:
            state = await platform.room_state(room_id)
        except PlatformError as error:
            all_ok = False
            lines.append(f"{room_name(ctx, room_id)}: " +
                         ctx.t("moderation.verify.unreadable", error=md_escape(str(error))))
            continue
        lines.extend(_verify_room(ctx, room_id, state, bot_id))
        all_ok = all_ok and not any(state.power.shortfall(bot_id, a) for a in VERIFIED) and state.is_joined(bot_id)
    lines.append("")
    lines.append(ctx.t("moderation.verify.all_ok" if all_ok else "moderation.verify.some_missing"))
    ctx.reply("\n".join(lines))


def _verify_room(ctx: Context, room_id: str, state: RoomState, bot_id: str) -> list[str]:
    power = state.power
    have = power.level(bot_id)
    head = f"{room_name(ctx, room_id)}: " + ctx.t("moderation.verify.level",
                                                                          level=power_text(ctx, have))
    lines = [head]
    if not state.is_joined(bot_id):
        lines.append("- ❌ " + ctx.t("moderation.verify.not_joined"))
        return lines
    missing = []
    for action in VERIFIED:
        need = power.needed(action)
        ok = have >= need
        if not ok:
            missing.append(need)
        label = ctx.t(f"moderation.verify.action.{action}")
        lines.append(f"- {'✅' if ok else '❌'} " + ctx.t("moderation.verify.needs", action=label, need=need))
    if missing:
        lines.append(ctx.t("moderation.verify.fix", bot=md_code(bot_id), level=max(missing)))
    top = max((power.level(uid) for uid in power.users if uid != bot_id), default=0)
    if not missing and have < CREATOR_LEVEL and top >= have:
        lines.append(ctx.t("moderation.verify.above", level=have))
    return lines
