"""The archive of shared solutions in chat: ``!share``, ``!search``, ``!more``, ``!solution``,
``!similar``, ``!experience`` and the moderators' ``!mod queue|approve|reject|edit|delete``."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.args import fold
from bot.checks import Chain, record_action
from bot.config import resolve_path
from bot.context import Context
from bot.errors import CommandError, NotFound, UsageError
from bot.reply import clip, md_code, md_escape
from bot.router import Arg, CommandSet, Role
from commands.moderation import mod
from storage.archive import ArchiveRepository, record_of, shown_text, shown_title
from storage.models import Solution, utcnow
from storage.search import FilterError, check_record, label, parse_query, resolve
from storage.search.analyzer import use_lemma_cache

if TYPE_CHECKING:
    from storage.search import SearchIndex

PAGE = 5
SERVICE = "archive.index"

CATALOGUE = {
    "en": {
        "archive.share.help": "shares a solution: the title on the first line, then Field: value lines",
        "archive.search.help": "searches the archive: `!search words [group:… area:… stage:… region:… tag:…]`",
        "archive.more.help": "the next page of your last search",
        "archive.solution.help": "one solution in full, with its stage history and experiences",
        "archive.similar.help": "solutions like this one",
        "archive.experience.help": "adds your experience of implementing a solution",
        "archive.mod.queue.help": "shared solutions waiting for review",
        "archive.mod.approve.help": "publishes a shared solution",
        "archive.mod.reject.help": "rejects a shared solution with a reason (the author is told)",
        "archive.mod.edit.help": "changes fields of a solution: `!mod edit N key=value …`",
        "archive.mod.delete.help": "removes a solution from the archive",
        "archive.share.saved_pending": "Thank you! Your solution is **#{number}**; it waits for a moderator's review.",
        "archive.share.saved_published": "Published as **#{number}**.",
        "archive.share.understood": "I understood:",
        "archive.share.missing": "Worth adding (send `!mod edit` via a moderator, or share again): {fields}.",
        "archive.share.needs_text": "Please describe the solution: add a `Problem:` or `Solution:` line (or `Description:`).",
        "archive.share.unknown_field": "I don't know the field “{field}”. Fields: {known}.",
        "archive.share.bad_value": "{field}: {reason}",
        "archive.value.unknown": "{field}: I don't know {value}. Closest: {closest}. Every value: {command}.",
        "archive.value.unknown_all": "{field}: I don't know {value}. Known values: {values}.",
        "archive.record.invalid": "These fields have values I cannot keep: {fields}.",
        "archive.edit.bad_number": "{field}: expected a whole number from 0 to 5, not {value}.",
        "archive.fields.title": "**Values of the coded fields** — write the code or a label in either language; filters of {search} take the same:",
        "archive.fields.kind": "**{name}** (`{field}:` in {share}, `{filter}:` in {search})",
        "archive.fields.line": "`{code}` — {first} / {second}",
        "archive.share.details": "After the title, one `Field: value` line each (English or Polish names, accents optional): {fields}. Lists are separated by commas. The values of {coded}: {command}.",
        "archive.kind.group": "Target group",
        "archive.kind.area": "Area",
        "archive.kind.stage": "Stage",
        "archive.kind.region": "Region",
        "archive.kind.country": "Country",
        "archive.kind.evidence": "Evidence",
        "archive.kind.type": "Type",
        "archive.kind.tag": "Tag",
        "archive.search.results": "**{total} result(s)** for {query} — page {page} of {pages}:",
        "archive.search.more": "Next page: {command}",
        "archive.search.none": "Nothing found for {query}.",
        "archive.search.did_you_mean": "Did you mean {query}? ({count} result(s))",
        "archive.search.loosen": "Without `{key}:` there are {count} result(s).",
        "archive.search.empty": "Tell me what to look for, e.g. {example}.",
        "archive.search.corrected": "(searched for {words})",
        "archive.more.none": "There is no earlier search to continue; start one with {command}.",
        "archive.more.end": "That was the last page.",
        "archive.no_solution": "There is no solution {ref} in the archive.",
        "archive.not_published": "Solution #{number} is not published yet.",
        "archive.similar.title": "**Solutions like #{number}:**",
        "archive.similar.none": "Nothing similar to #{number} yet.",
        "archive.experience.saved": "Thank you: your experience is added to #{number}.",
        "archive.solution.stage_history": "**Stage history**",
        "archive.solution.experiences": "**Experiences of leaders**",
        "archive.solution.no_experiences": "No experiences yet: add yours with {command}.",
        "archive.solution.sources": "**Sources**",
        "archive.solution.status": "Status: {status}",
        "archive.status.pending": "waiting for review",
        "archive.status.approved": "published",
        "archive.status.rejected": "rejected",
        "archive.status.deleted": "removed",
        "archive.queue.empty": "The moderation queue is empty.",
        "archive.queue.title": "**Waiting for review ({count}):**",
        "archive.approved": "#{number} is published.",
        "archive.rejected": "#{number} is rejected.",
        "archive.rejected_author": "{author}: your solution #{number} “{title}” was not published. Reason: {reason}",
        "archive.approved_author": "{author}: your solution #{number} “{title}” is published.",
        "archive.edited": "#{number} is changed: {fields}.",
        "archive.deleted": "#{number} is removed from the archive.",
        "archive.edit.unknown_key": "I can't change “{key}”. Keys: {known}.",
        "archive.edit.nothing": "Say what to change: `!mod edit N key=value …`.",
        "archive.label.problem": "Problem",
        "archive.label.how_it_works": "How it works",
        "archive.label.results": "Results",
        "archive.label.target_groups": "Target groups",
        "archive.label.areas": "Areas",
        "archive.label.region": "Region",
        "archive.label.stage": "Stage",
        "archive.label.evidence": "Evidence",
        "archive.label.cost": "Cost",
        "archive.label.contact": "Contact",
        "archive.label.tags": "Tags",
        "archive.label.links": "Links",
        "archive.label.description": "Description",
        "audit.action.archive.queue": "archive: queue",
        "audit.action.archive.approve": "archive: approve",
        "audit.action.archive.reject": "archive: reject",
        "audit.action.archive.edit": "archive: edit",
        "audit.action.archive.delete": "archive: delete",
    },
    "pl": {
        "archive.share.help": "dzieli się rozwiązaniem: tytuł w pierwszej linii, potem linie Pole: wartość",
        "archive.search.help": "szuka w archiwum: `!szukaj słowa [grupa:… obszar:… etap:… region:… tag:…]`",
        "archive.more.help": "następna strona ostatniego wyszukiwania",
        "archive.solution.help": "całe rozwiązanie z historią etapów i doświadczeniami",
        "archive.similar.help": "rozwiązania podobne do tego",
        "archive.experience.help": "dodaje Twoje doświadczenie z wdrożenia rozwiązania",
        "archive.mod.queue.help": "rozwiązania czekające na przegląd",
        "archive.mod.approve.help": "publikuje zgłoszone rozwiązanie",
        "archive.mod.reject.help": "odrzuca zgłoszone rozwiązanie z podaniem powodu (autor go otrzyma)",
        "archive.mod.edit.help": "zmienia pola rozwiązania: `!mod edit N klucz=wartość …`",
        "archive.mod.delete.help": "usuwa rozwiązanie z archiwum",
        "archive.share.saved_pending": "Dziękuję! Twoje rozwiązanie ma numer **#{number}**; czeka na przegląd moderatora.",
        "archive.share.saved_published": "Opublikowano jako **#{number}**.",
        "archive.share.understood": "Zrozumiałem:",
        "archive.share.missing": "Warto dodać (przez moderatora `!mod edit` albo zgłaszając ponownie): {fields}.",
        "archive.share.needs_text": "Opisz rozwiązanie: dodaj linię `Problem:` lub `Rozwiązanie:` (albo `Opis:`).",
        "archive.share.unknown_field": "Nie znam pola „{field}”. Pola: {known}.",
        "archive.share.bad_value": "{field}: {reason}",
        "archive.value.unknown": "{field}: nie znam wartości {value}. Najbliższe: {closest}. Wszystkie wartości: {command}.",
        "archive.value.unknown_all": "{field}: nie znam wartości {value}. Znane wartości: {values}.",
        "archive.record.invalid": "Tych pól nie mogę zapisać z podanymi wartościami: {fields}.",
        "archive.edit.bad_number": "{field}: oczekiwano liczby całkowitej od 0 do 5, a nie {value}.",
        "archive.fields.title": "**Wartości pól kodowanych** — wpisz kod albo nazwę w dowolnym języku; filtry {search} przyjmują to samo:",
        "archive.fields.kind": "**{name}** (`{field}:` w {share}, `{filter}:` w {search})",
        "archive.fields.line": "`{code}` — {first} / {second}",
        "archive.share.details": "Po tytule po jednej linii `Pole: wartość` (nazwy polskie lub angielskie, polskie znaki nieobowiązkowe): {fields}. Listy rozdzielaj przecinkami. Wartości pól {coded}: {command}.",
        "archive.kind.group": "Grupa docelowa",
        "archive.kind.area": "Obszar",
        "archive.kind.stage": "Etap",
        "archive.kind.region": "Region",
        "archive.kind.country": "Kraj",
        "archive.kind.evidence": "Dowody",
        "archive.kind.type": "Typ",
        "archive.kind.tag": "Tag",
        "archive.search.results": "**Wyniki: {total}** dla {query} — strona {page} z {pages}:",
        "archive.search.more": "Następna strona: {command}",
        "archive.search.none": "Nic nie znaleziono dla {query}.",
        "archive.search.did_you_mean": "Czy chodziło o {query}? (wyniki: {count})",
        "archive.search.loosen": "Bez `{key}:` wyników jest {count}.",
        "archive.search.empty": "Napisz, czego szukać, np. {example}.",
        "archive.search.corrected": "(szukano: {words})",
        "archive.more.none": "Nie ma wcześniejszego wyszukiwania; zacznij od {command}.",
        "archive.more.end": "To była ostatnia strona.",
        "archive.no_solution": "W archiwum nie ma rozwiązania {ref}.",
        "archive.not_published": "Rozwiązanie #{number} nie jest jeszcze opublikowane.",
        "archive.similar.title": "**Rozwiązania podobne do #{number}:**",
        "archive.similar.none": "Na razie nic podobnego do #{number}.",
        "archive.experience.saved": "Dziękuję: Twoje doświadczenie dodano do #{number}.",
        "archive.solution.stage_history": "**Historia etapów**",
        "archive.solution.experiences": "**Doświadczenia liderów**",
        "archive.solution.no_experiences": "Brak doświadczeń: dodaj swoje poleceniem {command}.",
        "archive.solution.sources": "**Źródła**",
        "archive.solution.status": "Stan: {status}",
        "archive.status.pending": "czeka na przegląd",
        "archive.status.approved": "opublikowane",
        "archive.status.rejected": "odrzucone",
        "archive.status.deleted": "usunięte",
        "archive.queue.empty": "Kolejka moderacji jest pusta.",
        "archive.queue.title": "**Czeka na przegląd ({count}):**",
        "archive.approved": "#{number} opublikowane.",
        "archive.rejected": "#{number} odrzucone.",
        "archive.rejected_author": "{author}: Twoje rozwiązanie #{number} „{title}” nie zostało opublikowane. Powód: {reason}",
        "archive.approved_author": "{author}: Twoje rozwiązanie #{number} „{title}” zostało opublikowane.",
        "archive.edited": "#{number} zmienione: {fields}.",
        "archive.deleted": "#{number} usunięte z archiwum.",
        "archive.edit.unknown_key": "Nie mogę zmienić „{key}”. Klucze: {known}.",
        "archive.edit.nothing": "Napisz, co zmienić: `!mod edit N klucz=wartość …`.",
        "archive.label.problem": "Problem",
        "archive.label.how_it_works": "Jak działa",
        "archive.label.results": "Rezultaty",
        "archive.label.target_groups": "Grupy docelowe",
        "archive.label.areas": "Obszary",
        "archive.label.region": "Region",
        "archive.label.stage": "Etap",
        "archive.label.evidence": "Dowody",
        "archive.label.cost": "Koszt",
        "archive.label.contact": "Kontakt",
        "archive.label.tags": "Tagi",
        "archive.label.links": "Linki",
        "archive.label.description": "Opis",
        "audit.action.archive.queue": "archiwum: kolejka",
        "audit.action.archive.approve": "archiwum: publikacja",
        "audit.action.archive.reject": "archiwum: odrzucenie",
        "audit.action.archive.edit": "archiwum: zmiana",
        "audit.action.archive.delete": "archiwum: usunięcie",
    },
}

commands = CommandSet("archive", CATALOGUE)

# The fields of !share: record key, English name, Polish name, more names accepted (accents optional).
FIELDS = (
    ("problem", "Problem", "Problem"),
    ("how_it_works", "Solution", "Rozwiązanie", "how it works", "jak działa"),
    ("description", "Description", "Opis"),
    ("target_groups", "Group", "Grupa", "target group", "target groups", "grupa docelowa", "grupy docelowe"),
    ("areas", "Area", "Obszar", "areas", "obszary"),
    ("stage", "Stage", "Etap"),
    ("region", "Region", "Region"),
    ("country", "Country", "Kraj"),
    ("evidence_summary", "Evidence", "Dowody"),
    ("results", "Results", "Rezultaty", "efekty"),
    ("cost", "Cost", "Koszt"),
    ("sources", "Link", "Linki", "links", "źródło", "source"),
    ("tags", "Tags", "Tagi", "tag"),
    ("contact", "Contact", "Kontakt"),
)
SHARE_FIELDS = {re.sub(r"\s+", " ", fold(name)): key for key, *names in FIELDS for name in names}
CODED = (("group", "target_groups"), ("area", "areas"), ("stage", "stage"))  # filter kind, record key
FIELDS_WORDS = ("fields", "pola", "values", "wartosci")  # `!share fields`, `!szukaj pola`
EDITABLE = {"title", "title_en", "title_pl", "description", "problem", "how_it_works", "results", "region",
            "stage", "target_groups", "areas", "tags", "evidence_level", "evidence_summary", "country", "scale"}
RECOMMENDED = ("problem", "how_it_works", "target_groups", "areas", "stage")


@dataclass
class ArchiveIndex:
    """The search index of the approved solutions, built once (in a worker thread) and kept current."""

    records: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # record id → (#, record)
    last: dict[str, tuple[str, dict, int]] = field(default_factory=dict)  # user → (query, filters, next offset)
    _index: SearchIndex | None = field(default=None, repr=False)
    analysing: bool = False  # the lemma dictionaries are open (see archive_index)

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            from storage.search import SearchIndex  # numpy: not loaded while the archive is empty

            self._index = SearchIndex()
        return self._index

    def put(self, number: int, record: dict[str, Any]) -> None:
        if record["id"] in self.records:
            self.index.remove(record["id"])
        self.index.add(record)
        self.records[record["id"]] = (number, record)

    def drop(self, record_id: str) -> None:
        if self.records.pop(record_id, None) is not None:
            self.index.remove(record_id)


_index_lock = asyncio.Lock()


def lemma_cache(config) -> Path:
    """Where the search keeps its lemma dictionaries (built once, ~17 MB; see
    storage.search.lemmas): ``cache/`` beside the Matrix store, so ``data/cache`` by default."""
    return resolve_path(config, config["matrix"]["store_path"]).parent / "cache"


async def archive_index(hub, analyse: bool = True) -> ArchiveIndex:
    """The index, built on first use. ``analyse``: the caller will analyse text (search, add a record), so
    the lemma dictionaries are opened first in a worker thread: the first time after an install that writes
    their files (~7 s), which must not stall the event loop. The start-up build of an empty archive does
    not open them (memory)."""
    service = await _built_index(hub)
    if analyse and not service.analysing:
        async with _index_lock:
            if not service.analysing:
                await asyncio.to_thread(service.index.analyzer.warm_up)
                service.analysing = True
    return service


async def _built_index(hub) -> ArchiveIndex:
    service = hub.services.get(SERVICE)
    if service is not None:
        return service
    async with _index_lock:
        service = hub.services.get(SERVICE)
        if service is None:
            use_lemma_cache(lemma_cache(hub.config))  # ~2 MB of memory instead of ~47 MB
            async with hub.sessions() as session:
                rows = [(row.number, record_of(row)) for row in await ArchiveRepository(session).approved()]
            service = ArchiveIndex()

            def build() -> None:
                for number, record in rows:
                    service.index.add(record)
                    service.records[record["id"]] = (number, record)

            await asyncio.to_thread(build)
            service.analysing = bool(rows)  # indexing the records opened the dictionaries
            hub.services[SERVICE] = service
    return service


@commands.background
async def build_index_at_start(hub) -> None:
    """Build the search index once the bot is connected, so the first search need not wait."""
    await archive_index(hub, analyse=False)


# ----- showing --------------------------------------------------------------------------------

def _labels(kind: str, codes: Any, lang: str) -> str:
    codes = codes if isinstance(codes, list) else [codes]
    return ", ".join(label(kind, c, lang) for c in codes if c)


def _mark(ctx: Context, lang: str | None) -> str:
    """A small mark after a text that is not in the reader's language: `` (en)``."""
    return f" ({md_escape(lang)})" if lang and lang != ctx.lang else ""


def _title(ctx: Context, record: dict[str, Any]) -> str:
    title, lang = shown_title(record, ctx.lang)
    return md_escape(title) + _mark(ctx, lang)


def _text(ctx: Context, record: dict[str, Any], key: str) -> str:
    text, lang = shown_text(record, key, ctx.lang)
    return md_escape(text) + _mark(ctx, lang) if text else ""


def _line(ctx: Context, number: int, record: dict[str, Any], snippet: str | None = None) -> str:
    title = _title(ctx, record)
    meta = [m for m in (_labels("stage", record.get("stage"), ctx.lang) if record.get("stage") else "",
                        md_escape(record.get("region") or record.get("country") or "")) if m]
    text = f"**#{number}** {title}" + (f" — {' · '.join(meta)}" if meta else "")
    if snippet:
        text += f"\n  {snippet}"
    return "- " + text


def _resolve_ref(ref: str) -> str:
    return ref.strip().lstrip("#")


async def _solution(ctx: Context, ref: str, published: bool = True) -> Solution:
    row = await ArchiveRepository(ctx.session).get(_resolve_ref(ref))
    if row is None or row.status == "deleted":
        raise NotFound("archive.no_solution", ref=md_code(clip(ref)))
    if published and row.status != "approved" and ctx.role < Role.MODERATOR and row.author != ctx.sender:
        raise NotFound("archive.not_published", number=row.number)
    return row


# ----- fields and their values -------------------------------------------------------------------

POLISH_NAMES = {"share": "dodaj", "search": "szukaj", "fields": "pola"}


def _cmd(ctx: Context, *words: str) -> str:
    """A command as the reader would type it: ``!dodaj pola`` for Polish readers, ``!share fields``."""
    return md_code(ctx.prefix + " ".join(POLISH_NAMES.get(w, w) if ctx.lang == "pl" else w for w in words))


def _field_name(ctx: Context, names: list[str]) -> str:
    """A field as the reader would write it, with its name in the other language: `Grupa` (`Group`)."""
    en, pl = names[0], names[1]
    first, second = (pl, en) if ctx.lang == "pl" else (en, pl)
    return md_code(first) + (f" ({md_code(second)})" if second != first else "")


def _value_label(ctx: Context, kind: str, code: str) -> str:
    shown = label(kind, code, ctx.lang)
    return f"{md_escape(shown)} ({md_code(code)})" if shown != code else md_code(code)


def _all_values(kind: str) -> list[str]:
    from storage.search.taxonomy import AREAS, RECORD_TYPES, STAGES, TARGET_GROUPS

    terms = {"group": TARGET_GROUPS, "area": AREAS, "stage": STAGES, "type": RECORD_TYPES}.get(kind)
    if terms is not None:
        return list(terms)
    return ["0", "1", "2", "3", "4", "5"] if kind == "evidence" else []


def _unknown_value(ctx: Context, error: FilterError, field: str, command: str = "share") -> CommandError:
    """A value the taxonomy does not know: the closest ones (or every one), in the reader's language."""
    value = md_code(clip(error.value))
    listed = _cmd(ctx, command, "fields")
    if error.suggestions:
        return CommandError("archive.value.unknown", field=field, value=value, command=listed,
                            closest=", ".join(_value_label(ctx, error.key, code) for code in error.suggestions))
    values = _all_values(error.key)
    if values:
        return CommandError("archive.value.unknown_all", field=field, value=value,
                            values=", ".join(_value_label(ctx, error.key, code) for code in values))
    return CommandError("archive.value.unknown_all", field=field, value=value, values=listed)


def _check(record: dict[str, Any]) -> None:
    """The record against the archive's codes; what is wrong is named by its fields."""
    problems = check_record(record)
    if problems:
        fields = dict.fromkeys(problem.split(":", 1)[0] for problem in problems)
        raise CommandError("archive.record.invalid", fields=", ".join(md_code(f) for f in fields))


def _values_text(ctx: Context) -> str:
    """``!share fields`` / ``!search fields``: every code of the coded fields with both labels."""
    other = "en" if ctx.lang == "pl" else "pl"
    share, search = _cmd(ctx, "share"), _cmd(ctx, "search")
    lines = [ctx.t("archive.fields.title", search=search)]
    names = {key: names for key, *names in FIELDS}
    for kind, key in CODED:
        field = names[key][1 if ctx.lang == "pl" else 0]
        lines += ["", ctx.t("archive.fields.kind", name=ctx.t(f"archive.kind.{kind}"), field=field, share=share,
                            filter=kind if ctx.lang == "en" else field.lower(), search=search)]
        lines += ["- " + ctx.t("archive.fields.line", code=code, first=md_escape(label(kind, code, ctx.lang)),
                               second=md_escape(label(kind, code, other))) for code in _all_values(kind)]
    return "\n".join(lines)


def _share_details(ctx: Context) -> str:
    """What ``!help share`` adds to the usage: the fields in both languages and where their values are."""
    names = {key: names for key, *names in FIELDS}
    coded = ", ".join(md_code(names[key][1 if ctx.lang == "pl" else 0]) for _, key in CODED)
    return ctx.t("archive.share.details", fields=", ".join(_field_name(ctx, n) for _, *n in FIELDS), coded=coded,
                 command=_cmd(ctx, "share", "fields"))


# ----- share ----------------------------------------------------------------------------------

def _parse_share(ctx: Context, text: str) -> dict[str, Any]:
    lines = [line for line in text.split("\n")]
    title = lines[0].strip()
    if not title:
        raise UsageError("error.missing_argument", name="title")
    record: dict[str, Any] = {"record_type": "solution", "title_original": title, "original_language": ctx.lang}
    current = None
    for line in lines[1:]:
        match = re.match(r"^\s*([^:]{1,40}):\s*(.*)$", line)
        key = SHARE_FIELDS.get(re.sub(r"\s+", " ", fold(match.group(1)).strip())) if match else None
        if match and key is None and not current:
            raise CommandError("archive.share.unknown_field", field=md_escape(clip(match.group(1))),
                               known=", ".join(_field_name(ctx, names) for _, *names in FIELDS))
        if key is None:
            if current and line.strip():  # a continuation of the previous field
                record[current] = (record[current] + "\n" + line.strip()) if isinstance(record[current], str) \
                    else record[current]
            continue
        value = match.group(2).strip()
        current = key
        try:
            record[key] = _field_value(key, value)
        except FilterError as exc:
            raise _unknown_value(ctx, exc, md_escape(match.group(1).strip())) from None
    if not record.get("description"):
        parts = [record.get("problem"), record.get("how_it_works")]
        if not any(parts):
            raise CommandError("archive.share.needs_text")
        record["description"] = " ".join(p for p in parts if p)
    record["description_lang"] = ctx.lang
    return record


def _field_value(key: str, value: str) -> Any:
    items = [v.strip() for v in re.split(r"[;,]", value) if v.strip()]
    if key == "target_groups":
        return [resolve("group", v) for v in items]
    if key == "areas":
        return [resolve("area", v) for v in items]
    if key == "stage":
        return resolve("stage", value)
    if key == "tags":
        return items
    if key == "sources":
        return [{"url": v} if v.startswith("http") else {"name": v} for v in items]
    if key == "cost":
        number = re.sub(r"[^\d.,]", "", value).replace(",", ".")
        try:
            return {"total": float(number), "currency": "PLN", "note": value}
        except ValueError:
            return {"note": value}
    if key == "contact":
        return {"email": value} if "@" in value and " " not in value else {"name": value}
    if key == "country":
        return resolve("country", value)
    return value


@commands.command("share", aliases=("dodaj", "udostepnij"), role=Role.LEADER, args=[Arg("title", rest=True)])
async def share(ctx: Context, title: str) -> None:
    if fold(title.strip()) in FIELDS_WORDS:
        ctx.reply(_values_text(ctx))
        return
    record = _parse_share(ctx, title)
    record["stage_history"] = [{"stage": record["stage"], "date": utcnow().date().isoformat(),
                                "note": "shared"}] if record.get("stage") else []
    _check(record)
    trusted = ctx.role >= Role.COORDINATOR
    decisions = [{"status": "approved", "by": ctx.sender, "at": utcnow().isoformat(timespec="seconds"),
                  "reason": "trusted author"}] if trusted else []
    row = await ArchiveRepository(ctx.session).add(record, "approved" if trusted else "pending", ctx.sender,
                                                   ctx.room_id, decisions)
    lines = [ctx.t("archive.share.saved_published" if trusted else "archive.share.saved_pending", number=row.number),
             "", ctx.t("archive.share.understood"), _line(ctx, row.number, record)]
    for key in ("problem", "how_it_works", "target_groups", "areas", "region", "cost", "tags"):
        if record.get(key):
            lines.append(f"  {ctx.t('archive.label.' + key)}: {_show_value(ctx, key, record[key])}")
    missing = [ctx.t("archive.label." + k) for k in RECOMMENDED if not record.get(k)]
    if missing:
        lines += ["", ctx.t("archive.share.missing", fields=", ".join(missing))]
    ctx.reply("\n".join(lines))
    if trusted:
        number = row.number
        ctx.after_commit.append(lambda: _publish(ctx.hub, number, record))


share.details = _share_details


async def _publish(hub, number: int, record: dict[str, Any]) -> None:
    (await archive_index(hub)).put(number, record)


def _show_value(ctx: Context, key: str, value: Any) -> str:
    if key == "target_groups":
        return _labels("group", value, ctx.lang)
    if key == "areas":
        return _labels("area", value, ctx.lang)
    if key == "stage":
        return _labels("stage", value, ctx.lang)
    if key == "cost":
        return md_escape(value.get("note") or value.get("total") or "") if isinstance(value, dict) else md_escape(value)
    if isinstance(value, list):
        return md_escape(", ".join(str(v.get("url") or v.get("name") if isinstance(v, dict) else v) for v in value))
    return md_escape(value)


# ----- search ---------------------------------------------------------------------------------

async def _show_page(ctx: Context, service: ArchiveIndex, query: str, filters: dict, offset: int) -> None:
    try:
        result = service.index.search(query, filters, offset, PAGE)
    except FilterError as exc:
        raise _unknown_value(ctx, exc, ctx.t(f"archive.kind.{exc.key}"), "search") from None
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
    for hit in result.hits:
        number, record = service.records[hit.id]
        lines.append(_line(ctx, number, record, service.index.snippet(record, hit.matched, ctx.lang)))
    service.last[ctx.sender] = (query, filters, offset + PAGE)
    if offset + PAGE < result.total:
        lines += ["", ctx.t("archive.search.more", command=md_code(f"{ctx.prefix}more"))]
    ctx.reply("\n".join(lines))


@commands.command("search", aliases=("szukaj", "s"), args=[Arg("query", optional=True, rest=True)])
async def search(ctx: Context, query: str | None) -> None:
    if not query or not query.strip():
        ctx.reply(ctx.t("archive.search.empty", example=md_code(f"{ctx.prefix}search bezdomność group:seniors")))
        return
    if fold(query.strip()) in FIELDS_WORDS:
        ctx.reply(_values_text(ctx))
        return
    parsed = parse_query(query)
    service = await archive_index(ctx.hub)
    await _show_page(ctx, service, parsed.words, parsed.filters, 0)


@commands.command("more", aliases=("wiecej", "więcej"))
async def more(ctx: Context) -> None:
    service = await archive_index(ctx.hub)
    last = service.last.get(ctx.sender)
    if last is None:
        ctx.reply(ctx.t("archive.more.none", command=md_code(f"{ctx.prefix}search …")))
        return
    query, filters, offset = last
    if offset >= service.index.search(query, filters, 0, 0).total:
        ctx.reply(ctx.t("archive.more.end"))
        return
    await _show_page(ctx, service, query, filters, offset)


@commands.command("solution", aliases=("rozwiazanie", "rozwiązanie"), args=[Arg("id")])
async def solution(ctx: Context, id: str) -> None:
    row = await _solution(ctx, id)
    record = record_of(row)
    lines = [f"**#{row.number} {_title(ctx, record)}**"]
    if shown_title(record, ctx.lang)[0] != record.get("title_original") and record.get("title_original"):
        lines.append(f"_{md_escape(record['title_original'])}_{_mark(ctx, record.get('original_language'))}")
    if row.status != "approved":
        lines.append(ctx.t("archive.solution.status", status=ctx.t(f"archive.status.{row.status}")))
    lines.append("")
    lines.append(_text(ctx, record, "description"))
    for key in ("problem", "how_it_works", "results"):
        if shown_text(record, key, ctx.lang)[0]:
            lines += ["", f"**{ctx.t('archive.label.' + key)}:** {_text(ctx, record, key)}"]
    facts = []
    for key, kind in (("target_groups", "group"), ("areas", "area"), ("stage", "stage")):
        if record.get(key):
            facts.append(f"{ctx.t('archive.label.' + key)}: {_labels(kind, record[key], ctx.lang)}")
    if record.get("region") or record.get("country"):
        facts.append(f"{ctx.t('archive.label.region')}: {md_escape(record.get('region') or record.get('country'))}")
    if record.get("evidence_level") is not None:
        facts.append(f"{ctx.t('archive.label.evidence')}: {record['evidence_level']}/5")
    if record.get("cost"):
        facts.append(f"{ctx.t('archive.label.cost')}: {_show_value(ctx, 'cost', record['cost'])}")
    if record.get("tags"):
        facts.append(f"{ctx.t('archive.label.tags')}: {md_escape(', '.join(record['tags']))}")
    if facts:
        lines += [""] + [f"- {fact}" for fact in facts]
    if record.get("stage_history"):
        lines += ["", ctx.t("archive.solution.stage_history")]
        for step in record["stage_history"]:
            lines.append(f"- {md_escape(step.get('date', ''))}: {_labels('stage', step.get('stage'), ctx.lang)}"
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
    ctx.reply("\n".join(lines))


@commands.command("similar", aliases=("podobne",), args=[Arg("id")])
async def similar(ctx: Context, id: str) -> None:
    row = await _solution(ctx, id)
    service = await archive_index(ctx.hub)
    if row.record_id not in service.records:
        raise NotFound("archive.not_published", number=row.number)
    result = service.index.similar(row.record_id, limit=PAGE)
    if not result.hits:
        ctx.reply(ctx.t("archive.similar.none", number=row.number))
        return
    lines = [ctx.t("archive.similar.title", number=row.number)]
    for hit in result.hits:
        number, record = service.records[hit.id]
        lines.append(_line(ctx, number, record))
    ctx.reply("\n".join(lines))


@commands.command("experience", aliases=("doswiadczenie", "doświadczenie"), role=Role.LEADER,
                  args=[Arg("id"), Arg("text", rest=True)])
async def experience(ctx: Context, id: str, text: str) -> None:
    row = await _solution(ctx, id)
    ArchiveRepository(ctx.session).add_experience(row.number, ctx.sender, text.strip())
    ctx.reply(ctx.t("archive.experience.saved", number=row.number))


# ----- moderation -----------------------------------------------------------------------------

@mod.sub("queue", aliases=("kolejka",), role=Role.MODERATOR, feature="archive", checks=Chain("archive.queue"))
async def queue(ctx: Context) -> None:
    rows = await ArchiveRepository(ctx.session).queue()
    if not rows:
        ctx.reply(ctx.t("archive.queue.empty"))
        return
    lines = [ctx.t("archive.queue.title", count=len(rows))]
    for row in rows[:20]:
        lines.append(_line(ctx, row.number, record_of(row)) + f" · {md_code(row.author or '')}")
    ctx.reply("\n".join(lines))


async def _audit(ctx: Context, action: str, row: Solution, reason: str | None = None) -> None:
    await record_action(ctx, action, target=f"#{row.number}", reason=reason)


@mod.sub("approve", aliases=("zatwierdz", "zatwierdź", "publikuj"), role=Role.MODERATOR, args=[Arg("id")],
         feature="archive", checks=Chain("archive.approve"))
async def approve(ctx: Context, id: str) -> None:
    row = await _solution(ctx, id, published=False)
    ArchiveRepository.decide(row, "approved", ctx.sender)
    record = record_of(row)
    await _audit(ctx, "archive.approve", row)
    ctx.reply(ctx.t("archive.approved", number=row.number))
    await _tell_author(ctx, row, "archive.approved_author")
    number = row.number
    ctx.after_commit.append(lambda: _publish(ctx.hub, number, record))


@mod.sub("reject", aliases=("odrzuc", "odrzuć"), role=Role.MODERATOR, args=[Arg("id"), Arg("reason", rest=True)],
         feature="archive", checks=Chain("archive.reject"))
async def reject(ctx: Context, id: str, reason: str) -> None:
    row = await _solution(ctx, id, published=False)
    ArchiveRepository.decide(row, "rejected", ctx.sender, reason)
    await _audit(ctx, "archive.reject", row, reason)
    ctx.reply(ctx.t("archive.rejected", number=row.number))
    await _tell_author(ctx, row, "archive.rejected_author", reason=md_escape(reason))
    record_id = row.record_id
    ctx.after_commit.append(lambda: _unpublish(ctx.hub, record_id))


async def _tell_author(ctx: Context, row: Solution, key: str, **params: Any) -> None:
    """The author hears of a decision in their own language, in the room where they shared it
    (mentioned there; here when that room is not known)."""
    if not row.author or row.author == ctx.sender:
        return
    lang = await ctx.hub.language_of(row.author)
    title, _ = shown_title(record_of(row), lang)
    text = ctx.hub.translator(lang, key, author=row.author, number=row.number, title=md_escape(title), **params)
    ctx.reply(text, mentions=[row.author], room_id=row.room_id if row.room_id != ctx.room_id else None)


async def _unpublish(hub, record_id: str) -> None:
    (await archive_index(hub)).drop(record_id)


@mod.sub("edit", aliases=("zmien", "zmień", "edytuj"), role=Role.MODERATOR, args=[Arg("id")], options=True,
         feature="archive", checks=Chain("archive.edit"))
async def edit(ctx: Context, id: str) -> None:
    row = await _solution(ctx, id, published=False)
    if not ctx.options:
        raise UsageError("archive.edit.nothing")
    record = record_of(row)
    for key, value in ctx.options.items():
        target = "title_original" if key == "title" else key
        if key not in EDITABLE:
            raise CommandError("archive.edit.unknown_key", key=md_escape(clip(key)), known=", ".join(sorted(EDITABLE)))
        try:
            if key in ("target_groups", "areas", "stage", "tags", "country"):
                record[target] = _field_value(key, value)
            elif key == "evidence_level":
                record[target] = int(value)
            else:
                record[target] = value
        except FilterError as exc:
            raise _unknown_value(ctx, exc, md_code(key)) from None
        except ValueError:
            raise CommandError("archive.edit.bad_number", field=md_code(key), value=md_code(clip(value))) from None
        if key == "stage":
            record.setdefault("stage_history", []).append({"stage": record["stage"],
                                                           "date": utcnow().date().isoformat(), "note": "edited"})
    _check(record)
    await ArchiveRepository(ctx.session).save(row, record)
    await _audit(ctx, "archive.edit", row, json.dumps(ctx.options, ensure_ascii=False))
    ctx.reply(ctx.t("archive.edited", number=row.number, fields=", ".join(md_code(k) for k in ctx.options)))
    if row.status == "approved":
        number = row.number
        ctx.after_commit.append(lambda: _publish(ctx.hub, number, record))


@mod.sub("delete", aliases=("usun", "usuń"), role=Role.MODERATOR, args=[Arg("id")],
         feature="archive", checks=Chain("archive.delete"))
async def delete(ctx: Context, id: str) -> None:
    row = await _solution(ctx, id, published=False)
    ArchiveRepository.decide(row, "deleted", ctx.sender)
    await _audit(ctx, "archive.delete", row)
    ctx.reply(ctx.t("archive.deleted", number=row.number))
    record_id = row.record_id
    ctx.after_commit.append(lambda: _unpublish(ctx.hub, record_id))


__all__ = ["commands", "archive_index"]
