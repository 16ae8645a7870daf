"""``!mod mute <user> <duration>`` and ``!mod unmute <user>``, and the job that lifts mutes on time.

A mute sets the user's power level to one below what ``m.room.message`` needs and keeps, in the
database, the entry they had before (or that they had none). The row is committed *before* the power
level changes, so a crash in between can never lose the level to restore. The lifting job reads the
database — not a timer: it sleeps until the next mute in the database ends (woken when a mute is
added), so a mute ends on time while the bot runs and right after a start when it ended while the
bot was down; an idle bot does not poll. It restores the level only if it is still
the muted one (someone who changed it by hand in the meantime wins) and writes an ``unmute`` case.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Annotated, Any

from basics.durations import format_duration as common_format_duration
from bot.args import fold
from bot.checks import Chain, Checked, ScopedReason, TargetUser
from bot.context import Context
from bot.errors import UsageError
from bot.platform import PlatformError, PowerLevels, with_user_level
from bot.reply import clip, md_code
from bot.router import Arg
from storage.audit import AuditRepository
from storage.moderation import MuteRepository

from . import commands, mod
from .common import Result, failure, now_ms, report, room_name, when

log = logging.getLogger(__name__)

UNITS = {"s": 1, "sec": 1, "sek": 1, "m": 60, "min": 60, "h": 3600, "g": 3600, "godz": 3600, "d": 86400,
         "dn": 86400, "dni": 86400, "dzien": 86400, "w": 604800, "tyg": 604800}
MAX_SECONDS = 366 * 86400
_PART = re.compile(r"(\d+)\s*([a-z]+)")
MAX_SLEEP_SECONDS = 60.0  # the job looks at the database at least this often
RETRY_SECONDS = 30.0
DUE_BATCH = 100


@commands.service
class MuteClock:
    """What wakes the lifting job early: a mute added (or extended) that may end before its next wake-up."""

    def __init__(self, hub: Any):
        self.wake = asyncio.Event()


def parse_duration(text: str) -> int:
    """``30s``, ``10m``, ``2h``, ``1d``, ``1h30m`` (Polish units too: ``2godz``, ``3dni``) → seconds."""
    folded = fold(text).replace(" ", "")
    if not re.fullmatch(r"(\d+[a-z]+)+", folded):
        raise ValueError(text)
    total = 0
    for number, unit in _PART.findall(folded):
        if unit not in UNITS:
            raise ValueError(text)
        total += int(number) * UNITS[unit]
    if not 0 < total <= MAX_SECONDS:
        raise ValueError(text)
    return total


def duration(raw: str, _ctx: Any = None) -> int:
    try:
        return parse_duration(raw)
    except ValueError:
        raise UsageError("moderation.bad_duration", value=md_code(clip(raw))) from None


def format_duration(seconds: int) -> str:
    """``1h 30m``: as mutes are shown."""
    return common_format_duration(seconds, sep=" ")


# ----- muting and lifting (Matrix + database) ------------------------------------------------

async def apply_mute(hub: Any, platform: Any, room_id: str, user_id: str, ends_at_ms: int, by: str,
                     event_id: str | None, why: str | None) -> int:
    """Mute (or extend a mute); returns the muted level. The original entry is kept from the first mute."""
    async with platform.power_lock(room_id):
        content = await platform.read_power_levels(room_id)
        power = PowerLevels(content)
        muted = power.mute_level
        async with hub.sessions() as session:  # committed before the level changes: nothing to lose in a crash
            mutes = MuteRepository(session)
            existing = await mutes.active(room_id, user_id)
            if existing is not None:
                existing.ends_at_ms, existing.muted_level = ends_at_ms, muted
                mute_id, new = existing.id, False
            else:
                row = mutes.add(room_id=room_id, user_id=user_id, previous_level=power.entry(user_id),
                                muted_level=muted, ends_at_ms=ends_at_ms, created_by=by, event_id=event_id,
                                reason=why)
                await session.flush()
                mute_id, new = row.id, True
            await session.commit()
        hub.service(MuteClock).wake.set()  # the lifting job may be asleep until a later end
        if power.entry(user_id) != muted:
            try:
                await platform.put_power_levels(room_id,
                                                    with_user_level(content, user_id, muted))
            except PlatformError:
                if new:  # it never took effect: nothing to lift later
                    async with hub.sessions() as session:
                        row = await MuteRepository(session).get(mute_id)
                        if row is not None:
                            MuteRepository.lift(row, by)
                            await session.commit()
                raise
    return muted


async def restore_level(platform: Any, room_id: str, user_id: str, muted_level: int,
                        previous_level: int | None) -> bool:
    """Put back the entry the user had before the mute, if their level is still the muted one.
    Returns whether it changed anything."""
    async with platform.power_lock(room_id):
        content = await platform.read_power_levels(room_id)
        if PowerLevels(content).entry(user_id) != muted_level:
            return False
        await platform.put_power_levels(room_id,
                                            with_user_level(content, user_id, previous_level))
        return True


async def lift_mute(hub: Any, platform: Any, mute_id: int) -> None:
    """The job's side: restore, mark lifted and write the case, in one transaction of its own."""
    async with hub.sessions() as session:
        mute = await MuteRepository(session).get(mute_id)
        if mute is None or mute.lifted_at is not None:
            return
        restored = await restore_level(platform, mute.room_id, mute.user_id, mute.muted_level, mute.previous_level)
        MuteRepository.lift(mute, platform.user_id)
        key = "moderation.unmute.expired" if restored else "moderation.unmute.expired_changed"
        await AuditRepository(session).record(
            actor=platform.user_id, action="unmute", target=mute.user_id, room_id=mute.room_id,
            detail={"key": key, "params": {"level": level_param(mute.previous_level)}},
            event_id=mute.event_id, command=None)
        await session.commit()
    log.info("mute %s of %s in %s ended (%s)", mute_id, mute.user_id, mute.room_id,
             "level restored" if restored else "level had been changed meanwhile")


def level_param(level: int | None) -> int | str:
    """A power-level entry for a message: the number, or the key that says there was none."""
    return "moderation.level.none" if level is None else level


@commands.background
async def lift_ended_mutes(hub: Any) -> None:
    """Lift the mutes whose time is up, then sleep until the next one ends (the database is the truth,
    so a restart catches up)."""
    platform = hub.platform
    stopping: asyncio.Event | None = platform.stopping
    wake = hub.service(MuteClock).wake
    retry_at: dict[int, float] = {}
    while not (stopping and stopping.is_set()):
        sleep = MAX_SLEEP_SECONDS
        wake.clear()
        try:
            now = now_ms()
            async with hub.sessions() as session:
                mutes = MuteRepository(session)
                due = [m.id for m in await mutes.due(now, limit=DUE_BATCH)]
                next_end = await mutes.next_end(after_ms=now)
            for mute_id in due:
                if retry_at.get(mute_id, 0) > time.monotonic():
                    continue
                try:
                    await lift_mute(hub, platform, mute_id)
                    retry_at.pop(mute_id, None)
                except PlatformError as error:
                    log.warning("cannot lift mute %s yet (%s); retrying in %.0f s", mute_id, error, RETRY_SECONDS)
                    retry_at[mute_id] = time.monotonic() + RETRY_SECONDS
            retry_at = {m: at for m, at in retry_at.items() if m in due}  # lifted by hand meanwhile: forgotten
            if next_end is not None:
                sleep = min(sleep, (next_end - now_ms()) / 1000)
            if retry_at:
                sleep = min(sleep, min(retry_at.values()) - time.monotonic())
            if len(due) == DUE_BATCH:
                sleep = 0  # more are due
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("lifting mutes failed; retrying")
            sleep = 1.0
        await _sleep_until_woken(wake, stopping, max(0.0, sleep))


async def _sleep_until_woken(wake: asyncio.Event, stopping: asyncio.Event | None, seconds: float) -> None:
    waiters = [asyncio.ensure_future(wake.wait())]
    if stopping is not None:
        waiters.append(asyncio.ensure_future(stopping.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


# ----- the commands --------------------------------------------------------------------------

@mod.sub("mute", aliases=("wycisz",), checks=Chain("mute", target="user", bot_power="power_levels"))
async def mute(ctx: Context, checked: Checked, user: TargetUser, duration: Annotated[int, Arg(converter=duration)],
               reason: ScopedReason = None) -> None:
    target = checked.user_id
    assert target is not None
    ends = now_ms() + duration * 1000
    text_reason = reason.text if reason else None
    results: list[Result] = []
    for room_id in checked.rooms:
        try:
            level = await apply_mute(ctx.hub, ctx.platform, room_id, target, ends, ctx.sender, ctx.incoming.event_id,
                                     text_reason)
        except PlatformError as error:
            results.append(failure(ctx, room_id, error))
            continue
        results.append(Result(room_id, "done",
                              ctx.t("moderation.mute.done", user=md_code(target), room=room_name(ctx, room_id),
                                    until=when(ctx, ends / 1000), duration=format_duration(duration), level=level),
                              {"key": "moderation.mute.detail",
                               "params": {"duration": format_duration(duration), "level": level}}))
    await report(ctx, "mute", checked, results, reason=text_reason)


@mod.sub("unmute", aliases=("odcisz", "wylacz-wyciszenie"),
         checks=Chain("unmute", target="user", bot_power="power_levels"))
async def unmute(ctx: Context, checked: Checked, user: TargetUser, reason: ScopedReason = None) -> None:
    target = checked.user_id
    assert target is not None
    mutes = MuteRepository(ctx.session)
    results: list[Result] = []
    lifted = []
    for room_id in checked.rooms:
        active = await mutes.active(room_id, target)
        state = checked.states.get(room_id)
        try:
            if active is not None:
                await restore_level(ctx.platform, room_id, target, active.muted_level, active.previous_level)
                lifted.append(active)
                level = active.previous_level
            elif state is not None and (state.power.entry(target) or 0) < state.power.message_level \
                    and state.power.entry(target) is not None:
                # Silenced by hand (an entry below what messages need), not by me: back to the room's default.
                await _remove_entry(ctx.platform, room_id, target)
                level = None
            else:
                results.append(Result(room_id, "failed", ctx.t("moderation.unmute.not_muted", user=md_code(target)),
                                      {"key": "moderation.unmute.not_muted", "params": {"user": target}}))
                continue
        except PlatformError as error:
            results.append(failure(ctx, room_id, error))
            continue
        shown = ctx.t("moderation.level.none") if level is None else str(level)
        results.append(Result(room_id, "done", ctx.t("moderation.unmute.done", user=md_code(target),
                                                     room=room_name(ctx, room_id), level=shown),
                              {"key": "moderation.unmute.detail", "params": {"level": level_param(level)}}))
    for active in lifted:
        MuteRepository.lift(active, ctx.sender)
    await report(ctx, "unmute", checked, results, reason=reason.text if reason else None)


async def _remove_entry(platform: Any, room_id: str, user_id: str) -> None:
    async with platform.power_lock(room_id):
        content = await platform.read_power_levels(room_id)
        await platform.put_power_levels(room_id, with_user_level(content, user_id, None))
