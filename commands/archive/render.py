"""How solutions are shown: each field in the reader's language where the record has it, otherwise the
original with a small language mark; codes by their labels; user text escaped."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.errors import NotFound
from bot.reply import clip, md_code, md_escape
from bot.router import Role
from storage.archive import ArchiveRepository, shown_text, shown_title
from storage.models import Solution
from storage.search import label

def labels_of(kind: str, codes: Any, lang: str) -> str:
    codes = codes if isinstance(codes, list) else [codes]
    return ", ".join(label(kind, c, lang) for c in codes if c)


def language_mark(ctx: Context, lang: str | None) -> str:
    """A small mark after a text that is not in the reader's language: `` (en)``."""
    return f" ({md_escape(lang)})" if lang and lang != ctx.lang else ""


def title_md(ctx: Context, record: dict[str, Any]) -> str:
    title, lang = shown_title(record, ctx.lang)
    return md_escape(title) + language_mark(ctx, lang)


def text_md(ctx: Context, record: dict[str, Any], key: str) -> str:
    text, lang = shown_text(record, key, ctx.lang)
    return md_escape(text) + language_mark(ctx, lang) if text else ""


def solution_url(ctx: Context, number: int) -> str | None:
    """The public page of a published solution, where ``[http] public_url`` is set (else None)."""
    from bot.web.pages import public_page

    return public_page(ctx.hub.config, f"/solutions/{number}", ctx.lang)


def result_line(ctx: Context, number: int, record: dict[str, Any], snippet: str | None = None,
                url: str | None = None) -> str:
    """``url``: the solution's public page (``solution_url``), for published ones only."""
    title = title_md(ctx, record)
    if url:
        title = f"[{title}]({url})"
    meta = [m for m in (labels_of("stage", record.get("stage"), ctx.lang) if record.get("stage") else "",
                        md_escape(record.get("region") or record.get("country") or "")) if m]
    text = f"**#{number}** {title}" + (f" — {' · '.join(meta)}" if meta else "")
    if snippet:
        text += f"\n  {snippet}"
    return "- " + text


def solution_ref(ref: str) -> str:
    return ref.strip().lstrip("#")


async def find_solution(ctx: Context, ref: str, published: bool = True) -> Solution:
    row = await ArchiveRepository(ctx.session).get(solution_ref(ref))
    if row is None or row.status == "deleted":
        raise NotFound("archive.no_solution", ref=md_code(clip(ref)))
    if published and row.status != "approved" and ctx.role < Role.MODERATOR and row.author != ctx.sender:
        raise NotFound("archive.not_published", number=row.number)
    return row


def value_md(ctx: Context, key: str, value: Any) -> str:
    if key == "target_groups":
        return labels_of("group", value, ctx.lang)
    if key == "areas":
        return labels_of("area", value, ctx.lang)
    if key == "stage":
        return labels_of("stage", value, ctx.lang)
    if key == "cost":
        return md_escape(value.get("note") or value.get("total") or "") if isinstance(value, dict) else md_escape(value)
    if isinstance(value, list):
        return md_escape(", ".join(str(v.get("url") or v.get("name") if isinstance(v, dict) else v) for v in value))
    return md_escape(value)
