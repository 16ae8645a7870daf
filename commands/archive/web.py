"""The archive's public pages: ``/`` — the same ranked, Polish-aware search as ``!search`` over the
published solutions, 10 a page, with facets — and ``/solutions/<N>``, one published solution in full.

Only what the index holds is searched, and the index holds only published (approved) solutions; a solution
page reads the database and shows nothing that is not approved. Nothing private is shown: no Matrix id
(a leader's experience is signed only with the name they chose, ``!experience name``), no author or room,
no contact unless its author agreed (``contact_public``), no moderation state.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.web import error_page
from bot.web.pages import Page, add_messages, pairs_of, public_text
from storage.archive import ArchiveRepository, record_of, shown_text, shown_title
from storage.search import FilterError, label, parse_query, resolve
from storage.search.taxonomy import VOIVODESHIPS

from . import commands
from .render import labels_of
from .service import ArchiveIndex
from .web_messages import CATALOGUE

commands.templates = Path(__file__).parent / "templates"
add_messages(commands, CATALOGUE)

PAGE_SIZE = 10
MAX_QUERY = 200  # characters: longer is refused (a search box, not a document)
FACETS = ("area", "group", "stage", "region")
FACET_SHOWN = 10  # values of a facet shown before "more"
TEXTS = ("description", "problem", "how_it_works", "results", "transfer_conditions", "evidence_summary")
_VOIVODESHIP = {resolve("region", code): code for code in VOIVODESHIPS}  # folded value → code


def _kind_name(page: Page, kind: str) -> str:
    return page.t(f"archive.web.facet.{kind}").lower()


def value_label(page: Page, index: Any, kind: str, value: str) -> str:
    """A facet's value as the reader reads it: its label, or a region as its records write it."""
    if kind == "region":
        code = _VOIVODESHIP.get(value)
        return label("region", code, page.lang) if code else index.region_shown(value)
    return label(kind, value, page.lang)


def read_filters(page: Page, index: Any) -> dict[str, list[str]]:
    """``?area=…&group=…&stage=…&region=…``: each value resolved to its code (a label in either language is
    taken too); a value the archive does not know is left out, and the reader is told which and why."""
    filters: dict[str, list[str]] = {}
    for kind, values in pairs_of(page.request.query, FACETS).items():
        for value in values[:10]:
            shown = page_clip(value)
            if kind == "region":
                code = resolve("region", value)
                if code not in _VOIVODESHIP and not index.knows_region(code):
                    page.notices.append(page.t("archive.web.notice.unknown", kind=_kind_name(page, kind), value=shown))
                    continue
                code = _VOIVODESHIP.get(code, code)
            else:
                try:
                    code = resolve(kind, value)
                except FilterError as exc:
                    closest = ", ".join(label(kind, c, page.lang) for c in exc.suggestions)
                    page.notices.append(page.t("archive.web.notice.closest" if closest else "archive.web.notice.unknown",
                                               kind=_kind_name(page, kind), value=shown, closest=closest))
                    continue
            if code not in filters.setdefault(kind, []):
                filters[kind].append(code)
        if not filters.get(kind):
            filters.pop(kind, None)
    return filters


def page_clip(value: str, limit: int = 60) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def read_page_number(page: Page) -> int:
    raw = page.request.query.get("page")
    if raw is None or raw.strip() == "":
        return 1
    try:
        number = int(raw.strip())
    except ValueError:
        number = 0
    if number < 1 or number > 10_000:
        page.notices.append(page.t("archive.web.notice.bad_page", value=page_clip(raw, 20)))
        return 1
    return number


async def _published(hub: Any, ids: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """The approved solutions of these record ids, as (#, record), read for the page that shows them (the
    index keeps no records; one withdrawn since it was indexed is not among them)."""
    if not ids:
        return {}
    async with hub.sessions() as session:
        return {row.record_id: (row.number, record_of(row))
                for row in await ArchiveRepository(session).by_record_ids(ids)}


@commands.route("/")
async def search_page(hub: Any, request: web.Request) -> web.Response:
    page = Page.of(hub, request)
    service = await hub.service(ArchiveIndex).ready()
    index = service.index
    raw_query = " ".join(request.query.get("q", "").split())
    filters = read_filters(page, index)
    number = read_page_number(page)
    too_long = len(raw_query) > MAX_QUERY
    if too_long:
        page.notices.append(page.t("archive.web.notice.too_long", length=page.number(len(raw_query)),
                                   limit=page.number(MAX_QUERY)))
    page.params = {"q": raw_query[:MAX_QUERY], **filters, "page": number if number > 1 else None}
    result, words = None, ""
    if not too_long:
        parsed = parse_query(raw_query)
        words = parsed.words
        wanted = {kind: list(values) for kind, values in filters.items()}
        for kind, values in parsed.filters.items():  # `q=bezdomność grupa:seniorzy`, as in the chat
            wanted[kind] = list(dict.fromkeys(wanted.get(kind, []) + values))
        try:
            result = index.search(words, wanted, (number - 1) * PAGE_SIZE, PAGE_SIZE, facets=FACETS)
        except FilterError as exc:
            page.notices.append(page.t("archive.web.notice.bad_filter", value=page_clip(exc.value), kind=exc.key))
            wanted = dict(filters)
            result = index.search(words, wanted, (number - 1) * PAGE_SIZE, PAGE_SIZE, facets=FACETS)
        pages = max(1, math.ceil(result.total / PAGE_SIZE))
        if result.total and number > pages:
            page.notices.append(page.t("archive.web.notice.past_end", count=pages, shown=page.number(pages)))
            number = pages
            page.params["page"] = number if number > 1 else None
            result = index.search(words, wanted, (number - 1) * PAGE_SIZE, PAGE_SIZE, facets=FACETS)
    view = None
    if result is not None:
        rows = await _published(hub, [hit.id for hit in result.hits])
        view = _results_view(page, service, result, rows, words, filters, number)
    return page.render("archive/search.html", title=page.t("archive.web.search.title"), query=page.params["q"] or "",
                       filters=filters, view=view, limit=MAX_QUERY)


def _results_view(page: Page, service: ArchiveIndex, result: Any, rows: dict[str, tuple[int, dict[str, Any]]],
                  words: str, filters: dict[str, list[str]], number: int) -> dict[str, Any]:
    index = service.index
    hits = []
    for hit in result.hits:
        if hit.id not in rows:
            continue
        num, record = rows[hit.id]
        title, title_lang = shown_title(record, page.lang)
        text_lang = page.lang if record.get(f"description_{page.lang}") else (
            record.get("description_lang") or record.get("original_language"))
        parts = index.snippet(record, hit.matched, page.lang) if hit.matched else index.snippet(record, (), page.lang)
        hits.append({
            "number": num, "title": public_text(title), "title_lang": page.other_lang(title_lang),
            "url": page.url(f"/solutions/{num}"),
            "stage": labels_of("stage", record.get("stage"), page.lang) if record.get("stage") else "",
            "evidence": record.get("evidence_level"),
            "where": page.t("archive.web.meta.region", value=public_text(record["region"])) if record.get("region")
            else page.t("archive.web.meta.country", value=_country(page, record["country"])) if record.get("country")
            else "",
            "snippet": [{"label": part.label, "pieces": [(public_text(text), matched) for text, matched in part.pieces]}
                        for part in parts[:2]],
            "snippet_lang": page.other_lang(text_lang),
        })
    facets = []
    for kind in FACETS:
        counts = result.facets.get(kind, {})
        chosen = filters.get(kind, [])
        values = sorted(counts.items(), key=lambda item: (-item[1], value_label(page, index, kind, item[0]).lower()))
        shown_values, found = [], set()
        for value, count in values:
            code = _VOIVODESHIP.get(value, value) if kind == "region" else value
            if code in chosen:
                found.add(code)
            shown_values.append({"label": value_label(page, index, kind, value), "count": page.number(count),
                                 "selected": code in chosen,
                                 "url": page.here(**{kind: None if code in chosen else code, "page": None})})
        for code in chosen:  # a chosen value no result has (the words changed): still shown, to remove it
            if code not in found:
                shown_values.insert(0, {"label": _chosen_label(page, index, kind, code), "count": page.number(0),
                                        "selected": True, "url": page.here(**{kind: None, "page": None})})
        if shown_values:
            facets.append({"kind": kind, "name": page.t(f"archive.web.facet.{kind}"),
                           "first": shown_values[:FACET_SHOWN], "rest": shown_values[FACET_SHOWN:]})
    active = [{"name": page.t(f"archive.web.facet.{kind}"), "label": _chosen_label(page, index, kind, code),
               "url": page.here(**{kind: [c for c in codes if c != code], "page": None})}
              for kind, codes in filters.items() for code in codes]
    pages = max(1, math.ceil(result.total / PAGE_SIZE))
    view: dict[str, Any] = {"total": result.total, "shown_total": page.number(result.total), "hits": hits,
                            "facets": facets, "active": active, "number": number, "pages": pages,
                            "start": (number - 1) * PAGE_SIZE + 1, "words": words,
                            "pager": _pager(page, number, pages), "clear": page.here(
                                **{kind: None for kind in FACETS}, page=None)}
    if result.corrections:
        page.notices.append(page.t("archive.web.results.corrected", words=", ".join(
            f"{a} → {b}" for a, b in result.corrections.items())))
    if result.total == 0 and (words or filters):
        suggestion = index.suggest(words, filters)
        view["did_you_mean"] = None
        if suggestion.corrected_query and suggestion.corrected_total:
            view["did_you_mean"] = {"query": suggestion.corrected_query,
                                    "url": page.here(q=suggestion.corrected_query, page=None),
                                    "count": page.t("archive.web.results.count", count=suggestion.corrected_total,
                                                    shown=page.number(suggestion.corrected_total))}
        view["loosen"] = [{"filter": page.t(f"archive.web.facet.{key}"), "url": page.here(**{key: None, "page": None}),
                           "count": page.t("archive.web.results.count", count=count, shown=page.number(count))}
                          for key, count in suggestion.loosen[:3] if key in FACETS]
    return view


def _chosen_label(page: Page, index: Any, kind: str, code: str) -> str:
    return value_label(page, index, kind, resolve("region", code) if kind == "region" else code)


def _pager(page: Page, number: int, pages: int) -> list[dict[str, Any]]:
    """Links to the first, the last and the pages around this one."""
    if pages <= 1:
        return []
    shown = sorted({1, pages, *range(max(1, number - 2), min(pages, number + 2) + 1)})
    items, last = [], 0
    for n in shown:
        if n - last > 1:
            items.append({"gap": True})
        items.append({"gap": False, "number": page.number(n), "current": n == number,
                      "url": page.here(page=n if n > 1 else None), "label": page.t("archive.web.pager.page", page=n)})
        last = n
    return items


def _country(page: Page, code: Any) -> str:
    if not isinstance(code, str) or not code:
        return ""
    from babel import Locale

    return Locale.parse(page.lang).territories.get(code.upper(), code)


# ----- one solution ---------------------------------------------------------------------------

@commands.route("/solutions/{ref}")
async def solution_page(hub: Any, request: web.Request) -> web.StreamResponse:
    page = Page.of(hub, request)
    ref = request.match_info["ref"]
    async with hub.sessions() as session:
        repo = ArchiveRepository(session)
        row = await repo.get(ref) if len(ref) <= 255 else None
        if row is None or row.status != "approved":
            return error_page(hub, request, 404, page.t("archive.web.solution.not_found", ref="#" + page_clip(ref, 30)))
        if str(row.number) != ref:  # a record id (inn-001) or #007: the page's one address
            return web.Response(status=301, headers={"Location": page.url(f"/solutions/{row.number}")})
        record = record_of(row)
        experiences = await repo.experiences(row.number)
        names = await repo.public_names(e.author for e in experiences)
    page.path = f"/solutions/{row.number}"
    service = await hub.service(ArchiveIndex).ready()
    similar_hits = service.index.similar(record["id"], limit=5).hits if record.get("id") in service.index else []
    similar_rows = await _published(hub, [hit.id for hit in similar_hits])
    view = _solution_view(page, row.number, record, experiences, names,
                          [similar_rows[hit.id] for hit in similar_hits if hit.id in similar_rows])
    return page.render("archive/solution.html", title=view["title"], s=view)


def _text(page: Page, record: dict[str, Any], key: str) -> dict[str, Any] | None:
    text, lang = shown_text(record, key, page.lang)
    if not isinstance(text, str) or not text.strip():
        return None
    label_key = f"archive.label.{key}" if key not in ("transfer_conditions", "evidence_summary") else \
        f"archive.web.label.{key}"
    return {"key": key, "label": page.t(label_key), "paragraphs": [public_text(p) for p in text.split("\n") if p.strip()],
            "lang": page.other_lang(lang)}


def _money(page: Page, value: Any, currency: str) -> str:
    from babel.numbers import format_currency

    pattern = "#,##0.## ¤" if page.lang == "pl" else "¤\u00a0#,##0.##"
    return format_currency(value, currency, format=pattern, locale=page.lang, currency_digits=False)


def cost_text(page: Page, cost: Any) -> str:
    if not isinstance(cost, dict):
        return public_text(cost) if cost else ""
    currency = cost.get("currency") if isinstance(cost.get("currency"), str) else "PLN"
    parts = []
    for key in ("total", "per_beneficiary"):
        if isinstance(cost.get(key), (int, float)) and not isinstance(cost.get(key), bool):
            parts.append(page.t(f"archive.web.cost.{key}", value=_money(page, cost[key], currency)))
    if cost.get("year"):
        parts.append(page.t("archive.web.cost.year", year=public_text(cost["year"])))
    note = public_text(cost.get("note") or "")
    if note and not parts:
        return note
    return "; ".join(parts) + (f" — {note}" if note else "")


def _language(page: Page, code: str | None) -> str:
    from babel import Locale

    return Locale.parse(page.lang).languages.get(code or "", code or "")


def _solution_view(page: Page, number: int, record: dict[str, Any], experiences: list, names: dict[str, str],
                   similar_solutions: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    title, title_lang = shown_title(record, page.lang)
    original = record.get("title_original")
    facts: list[tuple[str, str]] = []
    for key, kind in (("target_groups", "group"), ("areas", "area"), ("stage", "stage")):
        if record.get(key):
            facts.append((page.t(f"archive.label.{key}"), labels_of(kind, record[key], page.lang)))
    level = record.get("evidence_level")
    if isinstance(level, int) and 0 <= level <= 5:
        facts.append((page.t("archive.web.label.evidence_level"),
                      f"{level}/5 — {page.t(f'archive.web.evidence.{level}')}"))
    if record.get("cost"):
        facts.append((page.t("archive.label.cost"), cost_text(page, record["cost"])))
    if record.get("region"):
        facts.append((page.t("archive.label.region"), public_text(record["region"])))
    if record.get("country"):
        facts.append((page.t("archive.web.label.country"), _country(page, record["country"])))
    if record.get("scale"):
        facts.append((page.t("archive.web.label.scale"), _scale(page, record["scale"])))
    for key in ("organisations", "programme", "years"):
        value = record.get(key)
        if value:
            shown = ", ".join(str(v.get("name") if isinstance(v, dict) else v) for v in value) \
                if isinstance(value, list) else str(value)
            facts.append((page.t(f"archive.web.label.{key}"), public_text(shown)))
    history = [{"date": page.date(str(step.get("date"))) if step.get("date") else "",
                "stage": labels_of("stage", step.get("stage"), page.lang) if step.get("stage") else "",
                "note": _note(page, step.get("note"))}
               for step in record.get("stage_history") or [] if isinstance(step, dict)]
    sources = []
    for source in record.get("sources") or []:
        if isinstance(source, str):
            source = {"url": source} if source.startswith(("http://", "https://")) else {"name": source}
        if not isinstance(source, dict):
            continue
        url = source.get("url") if isinstance(source.get("url"), str) and source["url"].startswith(
            ("http://", "https://")) else None
        name = public_text(source.get("name") or url or source.get("url") or "")
        if name:
            sources.append({"name": name, "url": url})
    contact = None
    if record.get("contact_public") is True and isinstance(record.get("contact"), dict):
        c = record["contact"]
        email = c.get("email") if isinstance(c.get("email"), str) and "@" in c["email"] and ":" not in c["email"] else None
        url = c.get("url") if isinstance(c.get("url"), str) and c["url"].startswith(("http://", "https://")) else None
        contact = {"name": public_text(c.get("name") or ""), "email": email, "url": url}
        if not any(contact.values()):
            contact = None
    shown_experiences = []
    for item in record.get("experiences") or []:  # imported with the record (docs/archive.md)
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            name = item.get("name") if item.get("name_public") is True and isinstance(item.get("name"), str) else None
            shown_experiences.append({"name": public_text(name) if name else None,
                                      "date": page.date(str(item["date"])) if item.get("date") else "",
                                      "text": public_text(item["text"])})
    for exp in experiences:
        shown_experiences.append({"name": public_text(names[exp.author]) if exp.author in names else None,
                                  "date": page.date(exp.created_at), "text": public_text(exp.text)})
    similar = []
    for num, other in similar_solutions:
        other_title, other_lang = shown_title(other, page.lang)
        similar.append({"url": page.url(f"/solutions/{num}"), "title": public_text(other_title),
                        "lang": page.other_lang(other_lang), "number": num})
    return {
        "number": number, "title": public_text(title), "title_lang": page.other_lang(title_lang),
        "original": public_text(original) if original and original != title else None,
        "original_lang": page.other_lang(record.get("original_language")),
        "original_language": _language(page, record.get("original_language")),
        "texts": [t for t in (_text(page, record, key) for key in TEXTS if key != "description" or not _derived(record))
                  if t],
        "facts": facts, "tags": [public_text(t) for t in record.get("tags") or [] if isinstance(t, str)],
        "history": history, "sources": sources, "contact": contact, "experiences": shown_experiences,
        "similar": similar,
    }


def _derived(record: dict[str, Any]) -> bool:
    """The description is the problem and how it works run together (what ``!share`` makes when the leader
    wrote no description): the page shows those two, not the same words twice."""
    parts = [part for part in (record.get("problem"), record.get("how_it_works")) if part]
    return bool(parts) and record.get("description") == " ".join(parts)


def _note(page: Page, note: Any) -> str:
    """A stage's note; the bot's own (``shared``, ``edited``) in the reader's words."""
    if note in ("shared", "edited"):
        return page.t(f"archive.web.history.{note}")
    return public_text(note or "")


def _scale(page: Page, code: Any) -> str:
    from storage.search.taxonomy import SCALES

    term = SCALES.get(code) if isinstance(code, str) else None
    return term.label(page.lang) if term else public_text(code)
