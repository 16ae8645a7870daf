"""The archive's taxonomy (archive.md): codes with Polish and English labels.

A leader types a filter the way they think of it — ``group:seniors``, ``group:seniorzy``,
``grupa:"osoby starsze"``, ``stage:przetestowana`` — so every value is resolved here to one
code, ignoring case and Polish diacritics. Only this module knows the codes; the index and
the importer ask it. Pure: no I/O, no lemmatiser (resolution must be instant and predictable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Iterable, Mapping

from .analyzer import fold


@dataclass(frozen=True)
class Term:
    code: str
    pl: str
    en: str
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.pl if lang == "pl" else self.en


def _terms(*rows: tuple) -> dict[str, Term]:
    return {row[0]: Term(row[0], row[1], row[2], tuple(row[3:])) for row in rows}


TARGET_GROUPS = _terms(
    ("seniors", "seniorzy", "older people", "senior", "seniorów", "osoby starsze", "elderly",
     "older persons", "60+", "65+",
     "starsi", "emeryci", "older adults"),
    ("dependent_persons", "osoby niesamodzielne", "dependent persons", "niesamodzielni",
     "dependent people"),
    ("carers", "opiekunowie nieformalni", "informal carers", "opiekunowie", "opiekunowie rodzinni",
     "carers", "caregivers", "family carers"),
    ("disability", "osoby z niepełnosprawnościami", "people with disabilities",
     "niepełnosprawni", "niepełnosprawność", "osoby niepełnosprawne", "disabled people",
     "disability", "disabilities"),
    ("long_term_unemployed", "osoby długotrwale bezrobotne", "long-term unemployed people",
     "długotrwale bezrobotni", "long-term unemployed", "ltu",
     "bezrobotni", "osoby bezrobotne", "bezrobocie", "unemployed", "jobless"),
    ("unemployed_50plus", "osoby 50+ bez pracy", "unemployed people aged 50+", "50+",
     "bezrobotni 50+", "unemployed 50+", "older jobseekers"),
    ("youth", "młodzież, NEET", "young people, NEET", "młodzież", "neet", "youth",
     "young people", "młodzi"),
    ("children", "dzieci", "children", "dziecko", "child"),
    ("families", "rodziny", "families", "rodzina", "family"),
    ("homeless", "osoby w kryzysie bezdomności", "people experiencing homelessness",
     "bezdomni", "bezdomność", "osoby bezdomne", "homeless", "homelessness", "homeless people"),
    ("migrants_refugees", "migranci i uchodźcy", "migrants and refugees", "migranci",
     "uchodźcy", "cudzoziemcy", "migrants", "refugees", "imigranci"),
    ("poverty", "osoby ubogie", "people in poverty", "ubodzy", "ubóstwo", "poverty", "poor"),
    ("mental_health", "osoby w kryzysie psychicznym", "people in mental health crisis",
     "kryzys psychiczny", "zdrowie psychiczne", "mental health", "mental illness"),
    ("addiction", "osoby z uzależnieniami", "people with addictions", "uzależnieni",
     "uzależnienia", "addiction", "addictions"),
    ("ex_offenders", "osoby opuszczające zakłady karne", "people leaving prison",
     "byli więźniowie", "więźniowie", "ex-offenders", "ex offenders", "prisoners"),
    ("women", "kobiety", "women"),
    ("rural", "mieszkańcy wsi", "rural residents", "wieś", "rural"),
    ("local_community", "społeczność lokalna", "local community", "community",
     "mieszkańcy", "społeczności lokalne", "residents"),
    ("professionals", "kadry pomocy społecznej, samorządy",
     "social welfare staff and local governments", "kadry", "samorządy", "professionals",
     "practitioners"),
    ("social_innovators", "innowatorzy społeczni", "social innovators", "innowatorzy",
     "innovators"),
)

AREAS = _terms(
    ("employment", "aktywizacja zawodowa", "employment", "zatrudnienie", "praca", "jobs",
     "rynek pracy", "labour market"),
    ("social_economy", "ekonomia społeczna", "social economy", "social enterprise",
     "przedsiębiorczość społeczna"),
    ("housing", "mieszkalnictwo i bezdomność", "housing and homelessness", "mieszkalnictwo",
     "bezdomność", "mieszkania", "housing", "homelessness"),
    ("care_services", "usługi opiekuńcze, deinstytucjonalizacja",
     "care services, deinstitutionalisation", "usługi opiekuńcze", "opieka",
     "deinstytucjonalizacja", "care", "care services", "deinstitutionalisation",
     "deinstitutionalization", "long-term care"),
    ("accessibility", "dostępność", "accessibility"),
    ("health", "zdrowie i profilaktyka", "health and prevention", "zdrowie", "profilaktyka",
     "health", "prevention"),
    ("mental_health", "zdrowie psychiczne", "mental health"),
    ("education_skills", "edukacja i kompetencje", "education and skills", "edukacja",
     "kompetencje", "education", "skills", "learning"),
    ("family_support", "wsparcie rodziny i piecza zastępcza", "family support and foster care",
     "wsparcie rodziny", "piecza zastępcza", "rodzina", "family support", "foster care"),
    ("poverty_material", "przeciwdziałanie ubóstwu", "tackling poverty", "ubóstwo", "poverty"),
    ("loneliness", "przeciwdziałanie samotności", "tackling loneliness", "samotność",
     "loneliness"),
    ("intergenerational", "współpraca międzypokoleniowa", "intergenerational cooperation",
     "międzypokoleniowa", "intergenerational"),
    ("migrant_integration", "integracja cudzoziemców", "integration of migrants",
     "integracja migrantów", "migrant integration", "integration"),
    ("community_development", "aktywność lokalna i partycypacja",
     "community development and participation", "aktywność lokalna", "partycypacja",
     "community development", "participation"),
    ("social_policy_planning", "planowanie polityki społecznej", "social policy planning",
     "polityka społeczna", "planning"),
    ("environment_food", "niemarnowanie, obieg zamknięty", "food waste and circular economy",
     "niemarnowanie", "obieg zamknięty", "żywność", "food", "circular economy", "environment",
     "środowisko", "ekologia", "ochrona środowiska", "recykling", "naprawa", "zero waste", "klimat",
     "ecology", "recycling", "repair", "climate"),
    ("digital", "włączenie cyfrowe", "digital inclusion", "cyfryzacja", "digital",
     "kompetencje cyfrowe", "digital skills"),
    ("culture_leisure", "kultura i czas wolny", "culture and leisure", "kultura", "culture",
     "leisure"),
    ("safety", "bezpieczeństwo", "safety", "security"),
    ("volunteering", "wolontariat", "volunteering"),
    ("innovation_support", "wsparcie innowacji: inkubacja, granty",
     "innovation support: incubation, grants", "inkubacja", "granty", "incubation", "grants",
     "innovation support"),
)

# Ordered: the Polish incubation path, from a first idea to the main stream.
STAGES = _terms(
    ("idea", "pomysł", "idea", "koncepcja", "concept"),
    ("development", "w opracowaniu", "in development", "opracowanie", "specyfikacja",
     "w przygotowaniu", "prototyp", "prototype"),
    ("tested", "przetestowana", "tested", "test", "testowana", "przetestowane", "przetestowany",
     "pilotaż", "pilotażowa", "pilot", "piloted"),
    ("evaluated", "po ewaluacji, rekomendowana", "evaluated, recommended", "po ewaluacji",
     "ewaluacja", "rekomendowana", "evaluated", "recommended", "oceniona"),
    ("scaling", "upowszechniana", "scaling", "upowszechnianie", "upowszechniane",
     "scaling up", "rozpowszechniana", "powielana", "replikowana", "replication"),
    ("mainstreamed", "w głównym nurcie", "mainstreamed", "główny nurt", "mainstream",
     "wdrożona systemowo", "systemowa"),
)
STAGE_ORDER = {code: n for n, code in enumerate(STAGES)}

RECORD_TYPES = _terms(
    ("solution", "rozwiązanie", "solution", "rozwiązania", "innowacja"),
    ("support_scheme", "program wsparcia", "support scheme"),
    ("policy_programme", "program polityki publicznej", "policy programme", "policy program"),
    ("tool", "narzędzie", "tool"),
)

SCALES = _terms(
    ("local", "lokalna", "local"),
    ("regional", "regionalna", "regional"),
    ("national", "krajowa", "national"),
    ("international", "międzynarodowa", "international"),
)

# Polish voivodeships: the code is the Polish adjective used on records (`region`).
VOIVODESHIPS = _terms(
    ("dolnośląskie", "dolnośląskie", "Lower Silesian", "dolny śląsk"),
    ("kujawsko-pomorskie", "kujawsko-pomorskie", "Kuyavian-Pomeranian"),
    ("lubelskie", "lubelskie", "Lublin"),
    ("lubuskie", "lubuskie", "Lubusz"),
    ("łódzkie", "łódzkie", "Łódź"),
    ("małopolskie", "małopolskie", "Lesser Poland", "małopolska"),
    ("mazowieckie", "mazowieckie", "Masovian", "mazowsze", "masovia", "mazovia"),
    ("opolskie", "opolskie", "Opole"),
    ("podkarpackie", "podkarpackie", "Subcarpathian", "podkarpacie"),
    ("podlaskie", "podlaskie", "Podlaskie", "podlasie"),
    ("pomorskie", "pomorskie", "Pomeranian", "pomorze"),
    ("śląskie", "śląskie", "Silesian", "śląsk"),
    ("świętokrzyskie", "świętokrzyskie", "Holy Cross"),
    ("warmińsko-mazurskie", "warmińsko-mazurskie", "Warmian-Masurian", "warmia i mazury"),
    ("wielkopolskie", "wielkopolskie", "Greater Poland", "wielkopolska"),
    ("zachodniopomorskie", "zachodniopomorskie", "West Pomeranian"),
)

# What a record's fields are called, for a snippet that says where a search matched (the
# same words as the archive's catalogue in commands/archive.py; storage does not import it).
FIELD_LABELS = _terms(
    ("title", "Tytuł", "Title"),
    ("description", "Opis", "Description"),
    ("problem", "Problem", "Problem"),
    ("how_it_works", "Jak działa", "How it works"),
    ("results", "Rezultaty", "Results"),
    ("transfer_conditions", "Warunki przeniesienia", "Transfer conditions"),
    ("evidence_summary", "Dowody", "Evidence"),
    ("experiences", "Doświadczenia", "Experiences"),
    ("tags", "Tagi", "Tags"),
    ("organisations", "Organizacje", "Organisations"),
    ("adopters", "Wdrożenia", "Adopters"),
    ("programme", "Program", "Programme"),
    ("region", "Region", "Region"),
    ("country", "Kraj", "Country"),
    ("target_groups", "Grupy docelowe", "Target groups"),
    ("areas", "Obszary", "Areas"),
)


def field_label(key: str, lang: str) -> str:
    """The label of a record field in `lang`; the key itself when unknown."""
    term = FIELD_LABELS.get(key)
    return term.label(lang) if term else key


# Filter keys a user may type, in English and Polish (folded), to the canonical key.
FILTER_KEYS = {
    "tag": "tag", "tags": "tag", "tagi": "tag",
    "area": "area", "obszar": "area", "dziedzina": "area",
    "group": "group", "grupa": "group", "target": "group", "dla": "group",
    "region": "region", "wojewodztwo": "region", "woj": "region",
    "stage": "stage", "etap": "stage",
    "country": "country", "kraj": "country",
    "type": "type", "typ": "type",
    "evidence": "evidence", "dowody": "evidence",
}

_CODED = {"group": TARGET_GROUPS, "area": AREAS, "stage": STAGES, "type": RECORD_TYPES}


def _norm(text: str) -> str:
    """Folded, with `_`, `-` and runs of spaces made one space: "long_term" = "long-term"."""
    return " ".join(re.split(r"[\s_\-]+", fold(text).strip()))


def _table(terms: Mapping[str, Term]) -> dict[str, str]:
    table: dict[str, str] = {}
    for term in terms.values():
        for name in (term.code, term.pl, term.en, *term.aliases):
            table.setdefault(_norm(name), term.code)
    return table


_LOOKUP = {kind: _table(terms) for kind, terms in _CODED.items()}
_LOOKUP["region"] = _table(VOIVODESHIPS)


@cache
def _countries() -> dict[str, str]:
    # Babel ships CLDR territory names: "Finlandia", "Finland", "FI" all mean FI, offline.
    # Read on first use: loading Babel's locale data costs a few MB.
    from babel import Locale

    table: dict[str, str] = {}
    for lang in ("en", "pl"):
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha():
                table.setdefault(_norm(name), code)
                table.setdefault(code.lower(), code)
    return table


def _lookup(kind: str) -> Mapping[str, str] | None:
    return _countries() if kind == "country" else _LOOKUP.get(kind)


class FilterError(ValueError):
    """A filter the taxonomy does not know; carries the closest labels for the reply."""

    def __init__(self, key: str, value: str, suggestions: list[str]):
        super().__init__(f"unknown {key}: {value!r}")
        self.key, self.value, self.suggestions = key, value, suggestions


def filter_key(key: str) -> str | None:
    """Canonical filter key for `key` typed in English or Polish, or None."""
    return FILTER_KEYS.get(_norm(key))


def resolve(kind: str, value: str) -> str:
    """The code for `value` given as a code or label in either language; FilterError if none.

    `kind` is a canonical filter key. Tags and regions outside Poland are free text: they
    resolve to their folded form, so `tag:Seniorzy` matches a record tagged "seniorzy".
    """
    norm = _norm(value)
    if kind == "tag":
        return norm
    if kind == "evidence":
        if norm.isdigit() and 0 <= int(norm) <= 5:
            return norm
        raise FilterError(kind, value, ["0", "1", "2", "3", "4", "5"])
    if kind == "region":
        norm = re.sub(r"^(wojewodztwo|woj|region)\.? ", "", norm)
    table = _lookup(kind)
    if table is None:
        raise FilterError(kind, value, sorted(set(FILTER_KEYS.values())))
    code = table.get(norm)
    if code is None and kind != "country":
        code = _unique_prefix(table, norm)
    if code is not None:
        return _norm(code) if kind == "region" else code
    if kind == "region":
        return norm
    raise FilterError(kind, value, suggest(kind, value))


def _unique_prefix(table: Mapping[str, str], norm: str) -> str | None:
    # Lets inflected forms through ("seniorow", "przetestowanych") without a lemmatiser:
    # accepted only when every label sharing a 5-letter stem points to one code.
    if len(norm) < 5:
        return None
    stem = norm[: max(5, len(norm) - 3)]
    codes = {code for name, code in table.items() if name.startswith(stem)}
    return codes.pop() if len(codes) == 1 else None


def suggest(kind: str, value: str, limit: int = 3) -> list[str]:
    """Codes whose labels are closest to `value` — for "did you mean" replies."""
    from rapidfuzz import fuzz, process  # only for "did you mean": not at start

    table = _lookup(kind) or {}
    found = process.extract(_norm(value), list(table), scorer=fuzz.WRatio, limit=limit * 4)
    codes: list[str] = []
    for name, score, _ in found:
        if score >= 60 and table[name] not in codes:
            codes.append(table[name])
    return codes[:limit]


def label(kind: str, code: str, lang: str) -> str:
    """The label of `code` in `lang` ("pl"/"en"); the code itself when unknown."""
    terms = _CODED.get(kind) or (VOIVODESHIPS if kind == "region" else {})
    term = terms.get(code)
    return term.label(lang) if term else code


# -- Query strings -------------------------------------------------------------------------

@dataclass
class ParsedQuery:
    words: str
    filters: dict[str, list[str]] = field(default_factory=dict)


_PART = re.compile(r'(?:(\w+)[:=])?(?:"([^"]*)"|(\S+))')


def parse_query(text: str) -> ParsedQuery:
    """Split `bezdomność group:seniorzy area:"usługi opiekuńcze"` into words and filters.

    A `key:value` whose key is not a filter key stays a word (e.g. "godz:15" or a URL), so
    nothing the user typed is silently dropped. Values are not resolved here: the index does
    that, so a wrong value gets a FilterError with suggestions.
    """
    words: list[str] = []
    filters: dict[str, list[str]] = {}
    for match in _PART.finditer(text):
        key, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        canonical = filter_key(key) if key else None
        if canonical and value:
            filters.setdefault(canonical, []).append(value)
        else:
            words.append(match.group(0).strip('"'))
    return ParsedQuery(" ".join(w for w in words if w), filters)


# -- Record checks ---------------------------------------------------------------------------

def check_record(record: Mapping[str, Any]) -> list[str]:
    """Problems of a record against archive.md's codes (empty list = valid).

    Shared by the importer and the tests of the starter archive, so both agree on "valid".
    """
    problems: list[str] = []

    def text(key: str, required: bool = False) -> None:
        value = record.get(key)
        if value is None or value == "":
            if required:
                problems.append(f"{key}: missing")
        elif not isinstance(value, str):
            problems.append(f"{key}: expected text")

    def codes(key: str, allowed: Iterable[str], single: bool = False) -> None:
        value = record.get(key)
        if value is None:
            return
        values = [value] if single else value
        if (single and not isinstance(value, str)) or (not single and not isinstance(value, list)):
            problems.append(f"{key}: expected {'a code' if single else 'a list of codes'}")
            return
        for item in values:
            if item not in allowed:
                problems.append(f"{key}: unknown code {item!r}")

    text("title_original", required=True)
    text("description", required=True)
    for key in ("id", "title_en", "title_pl", "problem", "how_it_works", "results",
                "transfer_conditions", "evidence_summary", "region", "programme"):
        text(key)
    for key in ("original_language", "description_lang"):
        value = record.get(key)
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"[a-z]{2}", value)):
            problems.append(f"{key}: expected a two-letter language code")
    codes("record_type", RECORD_TYPES, single=True)
    codes("target_groups", TARGET_GROUPS)
    codes("areas", AREAS)
    codes("stage", STAGES, single=True)
    codes("scale", SCALES, single=True)
    country = record.get("country")
    if country is not None and not (isinstance(country, str) and country.lower() in _countries()):
        problems.append(f"country: unknown ISO 3166 code {country!r}")
    level = record.get("evidence_level")
    if level is not None and not (isinstance(level, int) and not isinstance(level, bool)
                                  and 0 <= level <= 5):
        problems.append("evidence_level: expected a whole number 0-5")
    for key in ("tags", "organisations", "sources", "sdgs", "funding", "stage_history",
                "experiences", "adopters"):
        if key in record and not isinstance(record[key], list):
            problems.append(f"{key}: expected a list")
    return problems
