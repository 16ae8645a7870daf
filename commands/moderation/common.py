"""What the moderation commands share: acting in one room or in every leader room, and saying how it went."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.checks import Checked, action_name, record_action
from bot.context import Context
from bot.platform import PlatformError
from bot.reply import md_code, md_escape
from storage.audit import AuditRepository


@dataclass
class Result:
    room_id: str
    outcome: str  # done | failed
    text: str  # what to tell the caller about this room
    detail: dict[str, Any] | None = None


def failure(ctx: Context, room_id: str, error: PlatformError) -> Result:
    detail = {"key": "moderation.homeserver_refused", "params": {"error": f"{error.status}: {error.message}"}}
    return Result(room_id, "failed", ctx.t("moderation.homeserver_refused", error=md_escape(str(error))), detail)


def room_name(ctx: Context, room_id: str) -> str:
    return ctx.room_label(room_id)


async def report(ctx: Context, action: str, checked: Checked, results: list[Result], *,
                 reason: str | None = None, target: str | None = None, title: str | None = None) -> None:
    """Write one case per room (done, failed and refused), then reply: one sentence for one room,
    a line per room for ``in:all``. Called after every Matrix action of the command, so the command's
    own transaction holds no write lock while other sessions commit."""
    target = (checked.user_id if target is None else target) or None
    audit = AuditRepository(ctx.session)
    cases: dict[str, int] = {}
    for result in results:
        cases[result.room_id] = await record_action(ctx, action, outcome=result.outcome, target=target,
                                                    room_id=result.room_id, reason=reason, detail=result.detail)
    for room_id, refusal in checked.refused.items():
        entry = await audit.record(actor=ctx.sender, action=action, outcome="refused", target=target,
                                   room_id=room_id, reason=reason, detail=refusal.detail(),
                                   event_id=ctx.incoming.event_id, command=ctx.incoming.body)
        cases[room_id] = entry.id
    if not checked.everywhere and len(results) == 1:
        result = results[0]
        text = result.text if result.outcome == "done" else ctx.t("moderation.not_done", text=result.text)
        ctx.reply(ctx.t("moderation.case", text=text, case=cases[result.room_id]))
        return
    lines = [title or ctx.t("moderation.in_all.title", action=action_name(ctx, action),
                            user=md_code(target) if target else "—")]
    for result in results:
        mark = "✅" if result.outcome == "done" else "❌"
        lines.append(f"- {mark} {room_name(ctx, result.room_id)}: {result.text} (#{cases[result.room_id]})")
    for room_id, refusal in checked.refused.items():
        lines.append(f"- ⛔ {room_name(ctx, room_id)}: {refusal.text(ctx)} (#{cases[room_id]})")
    if not results and not checked.refused:
        lines.append(ctx.t("moderation.in_all.none"))
    ctx.reply("\n".join(lines))


def zone_of(ctx: Context) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.hub.config["bot"]["timezone"])
    except Exception:  # an unknown zone was caught by check-config; UTC is the safe fallback
        return ZoneInfo("UTC")


def when(ctx: Context, moment: datetime | float) -> str:
    """A moment in the bot's time zone: ``2026-11-25 14:03 CET``."""
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    elif moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone_of(ctx)).strftime("%Y-%m-%d %H:%M:%S %Z")


def now_ms() -> int:
    return int(time.time() * 1000)
