"""The moderators' side of the archive, added to moderation's ``!mod`` group: ``queue``, ``approve``,
``reject``, ``edit``, ``delete``; every one through the check chain and in the audit log, and the author
told of a decision in their own language."""

from __future__ import annotations

import json
from typing import Any

from bot.checks import Chain, record_action
from bot.context import Context
from bot.errors import CommandError, UsageError
from bot.reply import clip, md_code, md_escape
from bot.router import Rest, Role
from storage.archive import ArchiveRepository, index_version, record_of, shown_title
from storage.models import Solution, utcnow
from storage.search import FilterError

from . import commands
from .forms import EDITABLE, check_fields, field_value, unknown_value
from .render import find_solution, result_line
from .service import ArchiveIndex

@commands.sub_of("mod", "queue", aliases=("kolejka",), role=Role.MODERATOR, checks=Chain("archive.queue"))
async def queue(ctx: Context) -> None:
    rows = await ArchiveRepository(ctx.session).queue()
    if not rows:
        ctx.reply(ctx.t("archive.queue.empty"))
        return
    lines = [ctx.t("archive.queue.title", count=len(rows))]
    for row in rows[:20]:
        lines.append(result_line(ctx, row.number, record_of(row)) + f" · {md_code(row.author or '')}")
    ctx.reply("\n".join(lines))


async def _audit(ctx: Context, action: str, row: Solution, reason: str | None = None) -> None:
    await record_action(ctx, action, target=f"#{row.number}", reason=reason)


@commands.sub_of("mod", "approve", aliases=("zatwierdz", "zatwierdź", "publikuj"), role=Role.MODERATOR,
                  checks=Chain("archive.approve"))
async def approve(ctx: Context, id: str) -> None:
    row = await find_solution(ctx, id, published=False)
    ArchiveRepository.decide(row, "approved", ctx.sender)
    record = record_of(row)
    await _audit(ctx, "archive.approve", row)
    ctx.reply(ctx.t("archive.approved", number=row.number))
    await _tell_author(ctx, row, "archive.approved_author")
    version = index_version(row)
    ctx.after_commit.append(lambda: ctx.hub.service(ArchiveIndex).publish(record, version))


@commands.sub_of("mod", "reject", aliases=("odrzuc", "odrzuć"), role=Role.MODERATOR,
                  checks=Chain("archive.reject"))
async def reject(ctx: Context, id: str, reason: Rest) -> None:
    row = await find_solution(ctx, id, published=False)
    ArchiveRepository.decide(row, "rejected", ctx.sender, reason)
    await _audit(ctx, "archive.reject", row, reason)
    ctx.reply(ctx.t("archive.rejected", number=row.number))
    await _tell_author(ctx, row, "archive.rejected_author", reason=md_escape(reason))
    record_id = row.record_id
    ctx.after_commit.append(lambda: ctx.hub.service(ArchiveIndex).unpublish(record_id))


async def _tell_author(ctx: Context, row: Solution, key: str, **params: Any) -> None:
    """The author hears of a decision in their own language, in the room where they shared it
    (mentioned there; here when that room is not known)."""
    if not row.author or row.author == ctx.sender:
        return
    lang = await ctx.hub.language_of(row.author)
    title, _ = shown_title(record_of(row), lang)
    text = ctx.hub.translator(lang, key, author=row.author, number=row.number, title=md_escape(title), **params)
    ctx.reply(text, mentions=[row.author], room_id=row.room_id if row.room_id != ctx.room_id else None)



@commands.sub_of("mod", "edit", aliases=("zmien", "zmień", "edytuj"), role=Role.MODERATOR, options=True,
                  checks=Chain("archive.edit"))
async def edit(ctx: Context, id: str) -> None:
    row = await find_solution(ctx, id, published=False)
    if not ctx.options:
        raise UsageError("archive.edit.nothing")
    record = record_of(row)
    for key, value in ctx.options.items():
        target = "title_original" if key == "title" else key
        if key not in EDITABLE:
            raise CommandError("archive.edit.unknown_key", key=md_escape(clip(key)), known=", ".join(sorted(EDITABLE)))
        try:
            if key in ("target_groups", "areas", "stage", "tags", "country"):
                record[target] = field_value(key, value)
            elif key == "evidence_level":
                record[target] = int(value)
            else:
                record[target] = value
        except FilterError as exc:
            raise unknown_value(ctx, exc, md_code(key)) from None
        except ValueError:
            raise CommandError("archive.edit.bad_number", field=md_code(key), value=md_code(clip(value))) from None
        if key == "stage":
            record.setdefault("stage_history", []).append({"stage": record["stage"],
                                                           "date": utcnow().date().isoformat(), "note": "edited"})
    check_fields(record)
    await ArchiveRepository(ctx.session).save(row, record)
    await _audit(ctx, "archive.edit", row, json.dumps(ctx.options, ensure_ascii=False))
    ctx.reply(ctx.t("archive.edited", number=row.number, fields=", ".join(md_code(k) for k in ctx.options)))
    if row.status == "approved":
        version = index_version(row)
        ctx.after_commit.append(lambda: ctx.hub.service(ArchiveIndex).publish(record, version))


@commands.sub_of("mod", "delete", aliases=("usun", "usuń"), role=Role.MODERATOR, checks=Chain("archive.delete"))
async def delete(ctx: Context, id: str) -> None:
    row = await find_solution(ctx, id, published=False)
    ArchiveRepository.decide(row, "deleted", ctx.sender)
    await _audit(ctx, "archive.delete", row)
    ctx.reply(ctx.t("archive.deleted", number=row.number))
    record_id = row.record_id
    ctx.after_commit.append(lambda: ctx.hub.service(ArchiveIndex).unpublish(record_id))
