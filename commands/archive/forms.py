"""The ``!share`` form — a title, then ``Field: value`` lines in English or Polish — its fields, and the
values of the coded ones (areas, target groups, stages) as a reader types and reads them."""

from __future__ import annotations

import re
from typing import Any

from bot.args import fold
from bot.context import Context
from bot.errors import CommandError, UsageError
from bot.reply import clip, md_code, md_escape
from storage.search import FilterError, check_record, label, resolve

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
    # The author's consent to show the contact on the public pages (docs/archive.md): yes/tak, else never.
    ("contact_public", "Public contact", "Kontakt publiczny", "contact public", "publiczny kontakt"),
)
SHARE_FIELDS = {re.sub(r"\s+", " ", fold(name)): key for key, *names in FIELDS for name in names}
CODED = (("group", "target_groups"), ("area", "areas"), ("stage", "stage"))  # filter kind, record key
FIELDS_WORDS = ("fields", "pola", "values", "wartosci")  # `!share fields`, `!szukaj pola`
EDITABLE = {"title", "title_en", "title_pl", "description", "problem", "how_it_works", "results", "region",
            "stage", "target_groups", "areas", "tags", "evidence_level", "evidence_summary", "country", "scale"}
RECOMMENDED = ("problem", "how_it_works", "target_groups", "areas", "stage")


POLISH_NAMES = {"share": "dodaj", "search": "szukaj", "fields": "pola"}


def command_md(ctx: Context, *words: str) -> str:
    """A command as the reader would type it: ``!dodaj pola`` for Polish readers, ``!share fields``."""
    return md_code(ctx.prefix + " ".join(POLISH_NAMES.get(w, w) if ctx.lang == "pl" else w for w in words))


def field_name(ctx: Context, names: list[str]) -> str:
    """A field as the reader would write it, with its name in the other language: `Grupa` (`Group`)."""
    en, pl = names[0], names[1]
    first, second = (pl, en) if ctx.lang == "pl" else (en, pl)
    return md_code(first) + (f" ({md_code(second)})" if second != first else "")


def value_label(ctx: Context, kind: str, code: str) -> str:
    shown = label(kind, code, ctx.lang)
    return f"{md_escape(shown)} ({md_code(code)})" if shown != code else md_code(code)


def all_values(kind: str) -> list[str]:
    from storage.search.taxonomy import AREAS, RECORD_TYPES, STAGES, TARGET_GROUPS

    terms = {"group": TARGET_GROUPS, "area": AREAS, "stage": STAGES, "type": RECORD_TYPES}.get(kind)
    if terms is not None:
        return list(terms)
    return ["0", "1", "2", "3", "4", "5"] if kind == "evidence" else []


def unknown_value(ctx: Context, error: FilterError, field: str, command: str = "share") -> CommandError:
    """A value the taxonomy does not know: the closest ones (or every one), in the reader's language."""
    value = md_code(clip(error.value))
    listed = command_md(ctx, command, "fields")
    if error.suggestions:
        return CommandError("archive.value.unknown", field=field, value=value, command=listed,
                            closest=", ".join(value_label(ctx, error.key, code) for code in error.suggestions))
    values = all_values(error.key)
    if values:
        return CommandError("archive.value.unknown_all", field=field, value=value,
                            values=", ".join(value_label(ctx, error.key, code) for code in values))
    return CommandError("archive.value.unknown_all", field=field, value=value, values=listed)


def check_fields(record: dict[str, Any]) -> None:
    """The record against the archive's codes; what is wrong is named by its fields."""
    problems = check_record(record)
    if problems:
        fields = dict.fromkeys(problem.split(":", 1)[0] for problem in problems)
        raise CommandError("archive.record.invalid", fields=", ".join(md_code(f) for f in fields))


def values_text(ctx: Context) -> str:
    """``!share fields`` / ``!search fields``: every code of the coded fields with both labels."""
    other = "en" if ctx.lang == "pl" else "pl"
    share, search = command_md(ctx, "share"), command_md(ctx, "search")
    lines = [ctx.t("archive.fields.title", search=search)]
    names = {key: names for key, *names in FIELDS}
    for kind, key in CODED:
        field = names[key][1 if ctx.lang == "pl" else 0]
        lines += ["", ctx.t("archive.fields.kind", name=ctx.t(f"archive.kind.{kind}"), field=field, share=share,
                            filter=kind if ctx.lang == "en" else field.lower(), search=search)]
        lines += ["- " + ctx.t("archive.fields.line", code=code, first=md_escape(label(kind, code, ctx.lang)),
                               second=md_escape(label(kind, code, other))) for code in all_values(kind)]
    return "\n".join(lines)


def share_details(ctx: Context) -> str:
    """What ``!help share`` adds to the usage: the fields in both languages and where their values are."""
    names = {key: names for key, *names in FIELDS}
    coded = ", ".join(md_code(names[key][1 if ctx.lang == "pl" else 0]) for _, key in CODED)
    return ctx.t("archive.share.details", fields=", ".join(field_name(ctx, n) for _, *n in FIELDS), coded=coded,
                 command=command_md(ctx, "share", "fields"))


def parse_share(ctx: Context, text: str) -> dict[str, Any]:
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
                               known=", ".join(field_name(ctx, names) for _, *names in FIELDS))
        if key is None:
            if current and line.strip():  # a continuation of the previous field
                record[current] = (record[current] + "\n" + line.strip()) if isinstance(record[current], str) \
                    else record[current]
            continue
        value = match.group(2).strip()
        current = key
        try:
            record[key] = field_value(key, value)
        except FilterError as exc:
            raise unknown_value(ctx, exc, md_escape(match.group(1).strip())) from None
    if not record.get("description"):
        parts = [record.get("problem"), record.get("how_it_works")]
        if not any(parts):
            raise CommandError("archive.share.needs_text")
        record["description"] = " ".join(p for p in parts if p)
    record["description_lang"] = ctx.lang
    return record


def field_value(key: str, value: str) -> Any:
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
    if key == "contact_public":
        return fold(value.strip()) in ("yes", "tak", "true", "y", "t", "1")
    if key == "country":
        return resolve("country", value)
    return value
