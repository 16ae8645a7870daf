"""The leaders' archive commands: ``!share``, ``!search``, ``!more``, ``!solution``, ``!similar``,
``!experience``."""

from __future__ import annotations

from bot.args import fold
from bot.context import Context
from bot.errors import NotFound
from bot.reply import clip, md_code, md_escape, md_snippet
from bot.router import OptionalRest, Rest, Role
from storage.archive import ArchiveRepository, index_version, record_of, shown_text, shown_title
from storage.models import utcnow
from storage.search import FilterError, parse_query

from . import commands
from .forms import FIELDS_WORDS, RECOMMENDED, check_fields, parse_share, share_details, unknown_value, values_text
from .render import find_solution, labels_of, language_mark, result_line, solution_url, text_md, title_md, value_md
from .service import ArchiveIndex

PAGE = 5


@commands.command("share", aliases=("dodaj", "udostepnij"), role=Role.LEADER)
async def share(ctx: Context, title: Rest) -> None:
    if fold(title.strip()) in FIELDS_WORDS:
        ctx.reply(values_text(ctx))
        return
    record = parse_share(ctx, title)
    record["stage_history"] = [{"stage": record["stage"], "date": utcnow().date().isoformat(),
                                "note": "shared"}] if record.get("stage") else []
    check_fields(record)
    trusted = ctx.role >= Role.COORDINATOR
    decisions = [{"status": "approved", "by": ctx.sender, "at": utcnow().isoformat(timespec="seconds"),
                  "reason": "trusted author"}] if trusted else []
    row = await ArchiveRepository(ctx.session).add(record, "approved" if trusted else "pending", ctx.sender,
                                                   ctx.room_id, decisions)
    lines = [ctx.t("archive.share.saved_published" if trusted else "archive.share.saved_pending", number=row.number),
             "", ctx.t("archive.share.understood"), result_line(ctx, row.number, record)]
    for key in ("problem", "how_it_works", "target_groups", "areas", "region", "cost", "tags"):
        if record.get(key):
            lines.append(f"  {ctx.t('archive.label.' + key)}: {value_md(ctx, key, record[key])}")
    missing = [ctx.t("archive.label." + k) for k in RECOMMENDED if not record.get(k)]
    if missing:
        lines += ["", ctx.t("archive.share.missing", fields=", ".join(missing))]
    ctx.reply("\n".join(lines))
    if trusted:
        version = index_version(row)
        ctx.after_commit.append(lambda: ctx.hub.service(ArchiveIndex).publish(record, version))


share.details = share_details


# ----- search ---------------------------------------------------------------------------------

async def _published(ctx: Context, ids: list[str]) -> dict[str, tuple[int, dict]]:
    """The approved solutions of these record ids, as (#, record), read for the page that shows them."""
    return {row.record_id: (row.number, record_of(row))
            for row in await ArchiveRepository(ctx.session).by_record_ids(ids)}


async def _show_page(ctx: Context, service: ArchiveIndex, query: str, filters: dict, offset: int) -> None:
    try:
        result = service.index.search(query, filters, offset, PAGE)
    except FilterError as exc:
        raise unknown_value(ctx, exc, ctx.t(f"archive.kind.{exc.key}"), "search") from None
    shown = md_code(clip(" ".join([query] + [f"{k}:{v}" for k, vs in filters.items() for v in vs]).strip()))
    if result.total == 0:
        lines = [ctx.t("archive.search.none", query=shown)]
        suggestion = service.index.suggest(query, filters)
        if suggestion.corrected_query and suggestion.corrected_total:
            lines.append(ctx.t("archive.search.did_you_mean", query=md_code(suggestion.corrected_query),
                               count=suggestion.corrected_total))
        for key, count in suggestion.loosen[:2]:
            lines.append(ctx.t("archive.search.loosen", key=key, count=count))
        ctx.reply("\n".join(lines))
        return
    pages = (result.total + PAGE - 1) // PAGE
    lines = [ctx.t("archive.search.results", total=result.total, query=shown, page=offset // PAGE + 1, pages=pages)]
    if result.corrections:
        lines.append(ctx.t("archive.search.corrected", words=", ".join(
            f"{md_escape(a)} → {md_escape(b)}" for a, b in result.corrections.items())))
    rows = await _published(ctx, [hit.id for hit in result.hits])
    for hit in result.hits:
        if hit.id in rows:
            number, record = rows[hit.id]
            lines.append(result_line(ctx, number, record, md_snippet(service.index.snippet(record, hit.matched, ctx.lang)),
                                     url=solution_url(ctx, number)))
    service.last[ctx.sender] = (query, filters, offset + PAGE)
    if offset + PAGE < result.total:
        lines += ["", ctx.t("archive.search.more", command=md_code(f"{ctx.prefix}more"))]
    ctx.reply("\n".join(lines))


@commands.command("search", aliases=("szukaj", "s"))
async def search(ctx: Context, query: OptionalRest = None) -> None:
    if not query or not query.strip():
        ctx.reply(ctx.t("archive.search.empty", example=md_code(f"{ctx.prefix}search bezdomność group:seniors")))
        return
    if fold(query.strip()) in FIELDS_WORDS:
        ctx.reply(values_text(ctx))
        return
    parsed = parse_query(query)
    service = await ctx.hub.service(ArchiveIndex).ready()
    await _show_page(ctx, service, parsed.words, parsed.filters, 0)


@commands.command("more", aliases=("wiecej", "więcej"))
async def more(ctx: Context) -> None:
    service = await ctx.hub.service(ArchiveIndex).ready()
    last = service.last.get(ctx.sender)
    if last is None:
        ctx.reply(ctx.t("archive.more.none", command=md_code(f"{ctx.prefix}search …")))
        return
    query, filters, offset = last
    if offset >= service.index.search(query, filters, 0, 0).total:
        ctx.reply(ctx.t("archive.more.end"))
        return
    await _show_page(ctx, service, query, filters, offset)


@commands.command("solution", aliases=("rozwiazanie", "rozwiązanie"))
async def solution(ctx: Context, id: str) -> None:
    row = await find_solution(ctx, id)
    record = record_of(row)
    lines = [f"**#{row.number} {title_md(ctx, record)}**"]
    if shown_title(record, ctx.lang)[0] != record.get("title_original") and record.get("title_original"):
        lines.append(f"_{md_escape(record['title_original'])}_{language_mark(ctx, record.get('original_language'))}")
    if row.status != "approved":
        lines.append(ctx.t("archive.solution.status", status=ctx.t(f"archive.status.{row.status}")))
    lines.append("")
    lines.append(text_md(ctx, record, "description"))
    for key in ("problem", "how_it_works", "results"):
        if shown_text(record, key, ctx.lang)[0]:
            lines += ["", f"**{ctx.t('archive.label.' + key)}:** {text_md(ctx, record, key)}"]
    facts = []
    for key, kind in (("target_groups", "group"), ("areas", "area"), ("stage", "stage")):
        if record.get(key):
            facts.append(f"{ctx.t('archive.label.' + key)}: {labels_of(kind, record[key], ctx.lang)}")
    if record.get("region") or record.get("country"):
        facts.append(f"{ctx.t('archive.label.region')}: {md_escape(record.get('region') or record.get('country'))}")
    if record.get("evidence_level") is not None:
        facts.append(f"{ctx.t('archive.label.evidence')}: {record['evidence_level']}/5")
    if record.get("cost"):
        facts.append(f"{ctx.t('archive.label.cost')}: {value_md(ctx, 'cost', record['cost'])}")
    if record.get("tags"):
        facts.append(f"{ctx.t('archive.label.tags')}: {md_escape(', '.join(record['tags']))}")
    if facts:
        lines += [""] + [f"- {fact}" for fact in facts]
    if record.get("stage_history"):
        lines += ["", ctx.t("archive.solution.stage_history")]
        for step in record["stage_history"]:
            lines.append(f"- {md_escape(step.get('date', ''))}: {labels_of('stage', step.get('stage'), ctx.lang)}"
                         + (f" — {md_escape(step['note'])}" if step.get("note") else ""))
    if record.get("sources"):
        lines += ["", ctx.t("archive.solution.sources")]
        for source in record["sources"]:
            name = md_escape(source.get("name") or source.get("url") or "")
            url = source.get("url")
            lines.append(f"- {name}" + (f" — <{url}>" if url and url.startswith("http") and ">" not in url else ""))
    experiences = await ArchiveRepository(ctx.session).experiences(row.number)
    lines += ["", ctx.t("archive.solution.experiences")]
    if experiences:
        for exp in experiences:
            lines.append(f"- {md_code(exp.author)}, {exp.created_at:%Y-%m-%d}: {md_escape(exp.text)}")
    else:
        lines.append(ctx.t("archive.solution.no_experiences",
                           command=md_code(f"{ctx.prefix}experience {row.number} …")))
    url = solution_url(ctx, row.number) if row.status == "approved" else None
    if url:
        lines += ["", ctx.t("archive.solution.web", url=f"<{url}>")]
    ctx.reply("\n".join(lines))


@commands.command("similar", aliases=("podobne",))
async def similar(ctx: Context, id: str) -> None:
    row = await find_solution(ctx, id)
    service = await ctx.hub.service(ArchiveIndex).ready()
    if not service.published(row.record_id):
        raise NotFound("archive.not_published", number=row.number)
    result = service.index.similar(row.record_id, limit=PAGE)
    if not result.hits:
        ctx.reply(ctx.t("archive.similar.none", number=row.number))
        return
    lines = [ctx.t("archive.similar.title", number=row.number)]
    rows = await _published(ctx, [hit.id for hit in result.hits])
    for hit in result.hits:
        if hit.id in rows:
            number, record = rows[hit.id]
            lines.append(result_line(ctx, number, record, url=solution_url(ctx, number)))
    ctx.reply("\n".join(lines))


@commands.command("experience", aliases=("doswiadczenie", "doświadczenie"), role=Role.LEADER)
async def experience(ctx: Context, id: str, text: Rest) -> None:
    row = await find_solution(ctx, id)
    ArchiveRepository(ctx.session).add_experience(row.number, ctx.sender, text.strip())
    ctx.reply(ctx.t("archive.experience.saved", number=row.number))
