"""The archive of shared solutions in the database, and its JSON/CSV import and export.

A record is kept whole as JSON (unknown fields too), so import → export → import
loses nothing. CSV has one column per field: text as written, lists of plain
values joined with ``;`` (see docs/archive.md), anything else (numbers, objects,
lists of objects or of values containing ``;``) as JSON in the cell.

The moderation state travels with each exported record as one more field, ``moderation``
(status, author, room, the decisions: who decided what, when and why), and an import
restores it: a rejected or pending solution stays unpublished in the new database. A record
without it is imported as pending (waiting in the moderation queue), unless the operator
says the whole file is reviewed (``publish=True``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Experience, PublicName, Solution, utcnow
from storage.search import check_record

# Fields whose CSV cell is a ;-separated list.
LIST_FIELDS = {"target_groups", "areas", "tags", "organisations", "funding", "sdgs"}
# Fields that hold whole numbers or objects: their CSV cell is JSON.
JSON_FIELDS = {"evidence_level", "cost", "contact", "sources", "stage_history", "experiences", "adopters",
               "moderation"}
FIRST_COLUMNS = ["id", "record_type", "title_original", "original_language", "title_en", "title_pl", "description",
                 "description_lang", "problem", "how_it_works", "results", "transfer_conditions",
                 "evidence_summary", "target_groups", "areas", "country", "region", "scale", "stage",
                 "stage_history", "evidence_level", "cost", "organisations", "programme", "funding", "years",
                 "status", "sdgs", "sources", "contact", "tags", "experiences", "adopters", "moderation"]
MODERATION = "moderation"  # the exported moderation state of a record (not part of the record kept)
STATUSES = ("pending", "approved", "rejected")
# The length of the id, author and room columns: PostgreSQL refuses a longer value (SQLite would keep it), so an
# import checks it on both.
ID_LENGTH = 255


@dataclass
class ImportProblem:
    position: int  # 1-based record number (JSON) or line (CSV)
    record_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"record {self.position}" + (f" ({self.record_id})" if self.record_id else "")
        return f"{where}: {self.reason}"


class ImportError_(Exception):
    def __init__(self, problems: list[ImportProblem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def title_of(record: dict[str, Any], lang: str = "pl") -> str:
    return record.get(f"title_{lang}") or record.get("title_original") or record.get("title_en") or ""


HUB_LANGUAGES = ("pl", "en")


def shown_title(record: dict[str, Any], lang: str) -> tuple[str, str | None]:
    """The title for a reader of ``lang`` and the language it is in: the reader's translation, else the
    original when it is in the reader's language, else the hub's other language, else the original."""
    original, original_lang = record.get("title_original") or "", record.get("original_language")
    if record.get(f"title_{lang}"):
        return record[f"title_{lang}"], lang
    if original and original_lang == lang:
        return original, lang
    for other in HUB_LANGUAGES:
        if other != lang and record.get(f"title_{other}"):
            return record[f"title_{other}"], other
    return original or title_of(record, lang), original_lang


def shown_text(record: dict[str, Any], key: str, lang: str) -> tuple[str, str | None]:
    """A text field (``description``, ``problem``…) for a reader of ``lang`` and the language it is in:
    ``<key>_<lang>`` where the record has it, else the field as written (in ``description_lang``)."""
    if record.get(f"{key}_{lang}"):
        return record[f"{key}_{lang}"], lang
    return record.get(key) or "", record.get("description_lang") or record.get("original_language")


# ----- files ---------------------------------------------------------------------------------

def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if (isinstance(value, list) and key not in JSON_FIELDS and all(isinstance(v, str) for v in value)
            and not any(";" in v for v in value)):
        return ";".join(value)
    return json.dumps(value, ensure_ascii=False)


def _uncell(key: str, text: str) -> Any:
    if text == "":
        return None
    if key in JSON_FIELDS or (text[:1] in "[{" and key not in ("description", "title_original")):
        try:
            return json.loads(text)
        except ValueError:
            if key in JSON_FIELDS:
                raise ValueError(f"{key}: not valid JSON") from None
    if key in LIST_FIELDS:
        return [part.strip() for part in text.split(";") if part.strip()]
    return text


def dump_csv(records: Iterable[dict[str, Any]]) -> str:
    records = list(records)
    columns = list(FIRST_COLUMNS)
    for record in records:
        for key in record:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(key, record.get(key)) for key in columns])
    return out.getvalue()


def parse_file(name: str, data: str) -> list[tuple[int, Any]]:
    """``(position, record)`` pairs from a JSON or CSV file (by extension)."""
    if name.lower().endswith(".json"):
        try:
            items = json.loads(data)
        except ValueError as exc:
            raise ImportError_([ImportProblem(0, None, f"not valid JSON: {exc}")]) from None
        if isinstance(items, dict) and isinstance(items.get("solutions"), list):
            items = items["solutions"]
        if not isinstance(items, list):
            raise ImportError_([ImportProblem(0, None, "expected a JSON list of records")])
        return list(enumerate(items, 1))
    if name.lower().endswith(".csv"):
        reader = csv.reader(io.StringIO(data))
        rows = list(reader)
        if not rows:
            return []
        header = rows[0]
        out: list[tuple[int, dict[str, Any] | ValueError]] = []
        for line, row in enumerate(rows[1:], 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                out.append((line, ValueError(f"has {len(row)} cells, the header has {len(header)}")))
                continue
            record: dict[str, Any] = {}
            try:
                for key, text in zip(header, row):
                    value = _uncell(key, text)
                    if value is not None:
                        record[key] = value
            except ValueError as exc:
                out.append((line, exc))
                continue
            out.append((line, record))
        return out
    raise ImportError_([ImportProblem(0, None, "the file must end in .json or .csv")])


def check_moderation(value: Any) -> list[str]:
    """Problems of an exported ``moderation`` block (empty list = valid)."""
    if not isinstance(value, dict):
        return ["moderation: expected an object"]
    problems = []
    if value.get("status") not in STATUSES:
        problems.append(f"moderation.status: expected one of {', '.join(STATUSES)}")
    for key in ("author", "room_id", "reason", "shared_at", "updated_at"):
        if value.get(key) is not None and not isinstance(value[key], str):
            problems.append(f"moderation.{key}: expected text")
        elif key in ("author", "room_id") and len(value.get(key) or "") > ID_LENGTH:
            problems.append(f"moderation.{key}: at most {ID_LENGTH} characters")
    decisions = value.get("decisions", [])
    if not isinstance(decisions, list) or not all(isinstance(d, dict) for d in decisions):
        problems.append("moderation.decisions: expected a list of objects")
    return problems


def validate(items: list[tuple[int, Any]]) -> tuple[list[tuple[int, dict]], list[ImportProblem]]:
    good, problems, seen = [], [], set()
    for position, record in items:
        if isinstance(record, Exception):
            problems.append(ImportProblem(position, None, str(record)))
            continue
        if not isinstance(record, dict):
            problems.append(ImportProblem(position, None, "is not an object"))
            continue
        reasons = check_record(record)
        if MODERATION in record:
            reasons += check_moderation(record[MODERATION])
        record_id = record.get("id") if isinstance(record.get("id"), str) else None
        if record_id and len(record_id) > ID_LENGTH:
            reasons.append(f"id: at most {ID_LENGTH} characters")
        if record_id and record_id in seen:
            reasons.append("id: given twice in the file")
        if reasons:
            problems.append(ImportProblem(position, record_id, "; ".join(reasons)))
            continue
        if record_id:
            seen.add(record_id)
        good.append((position, record))
    return good, problems


# ----- database ------------------------------------------------------------------------------

class ArchiveRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, ref: str | int) -> Solution | None:
        """By #number or by record id (``inn-001``)."""
        text = str(ref).lstrip("#")
        if text.isdigit():
            return await self.session.get(Solution, int(text))
        return await self.session.scalar(select(Solution).where(Solution.record_id == text))

    async def add(self, record: dict[str, Any], status: str, author: str | None = None,
                  room_id: str | None = None, decisions: list[dict[str, Any]] | None = None) -> Solution:
        row = Solution(record_id=record.get("id") or "", title=title_of(record), record="{}", status=status,
                       author=author, room_id=room_id, decisions=json.dumps(decisions or [], ensure_ascii=False))
        self.session.add(row)
        await self.session.flush()
        if not record.get("id"):
            record["id"] = f"lh-{row.number}"  # in place: the caller indexes this same record
            row.record_id = record["id"]
        row.record = json.dumps(record, ensure_ascii=False)
        return row

    @staticmethod
    def decide(row: Solution, status: str, by: str, reason: str | None = None) -> None:
        """A moderator's decision: the new status, and who decided it, when and why, kept for export."""
        now = utcnow()
        decision = {"status": status, "by": by, "at": now.isoformat(timespec="seconds")}
        if reason:
            decision["reason"] = reason
        row.status, row.updated_at = status, now
        if status == "rejected":
            row.reject_reason = reason
        row.decisions = json.dumps(decisions_of(row) + [decision], ensure_ascii=False)

    async def save(self, row: Solution, record: dict[str, Any]) -> None:
        row.record = json.dumps(record, ensure_ascii=False)
        row.title = title_of(record)
        row.updated_at = utcnow()

    async def existing_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found |= set(await self.session.scalars(select(Solution.record_id).where(Solution.record_id.in_(chunk))))
        return found

    async def approved(self) -> list[Solution]:
        return list(await self.session.scalars(select(Solution).where(Solution.status == "approved")
                                               .order_by(Solution.number)))  # the same on both backends

    async def approved_versions(self) -> dict[str, int]:
        """Each approved solution's record id → its `index_version`, by number, without reading the records."""
        rows = await self.session.execute(select(Solution.record_id, Solution.updated_at)
                                          .where(Solution.status == "approved").order_by(Solution.number))
        return {record_id: _version(updated_at) for record_id, updated_at in rows}

    async def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever a solution is added, removed, edited or decided (by any process): how many there
        are, how many approved, and the latest change. One cheap query, to tell whether the index is behind."""
        row = (await self.session.execute(select(func.count(), func.count().filter(Solution.status == "approved"),
                                                 func.max(Solution.updated_at), func.max(Solution.number)))).one()
        return tuple(row)

    async def by_record_ids(self, ids: Iterable[str], approved: bool = True) -> list[Solution]:
        """The solutions of these record ids (the approved ones only, unless ``approved`` is False)."""
        ids = list(ids)
        found: list[Solution] = []
        for start in range(0, len(ids), 500):
            query = select(Solution).where(Solution.record_id.in_(ids[start:start + 500]))
            if approved:
                query = query.where(Solution.status == "approved")
            found += await self.session.scalars(query)
        return found

    async def queue(self) -> list[Solution]:
        return list(await self.session.scalars(select(Solution).where(Solution.status == "pending")
                                               .order_by(Solution.number)))

    async def count(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(Solution)) or 0

    async def all(self) -> list[Solution]:
        return list(await self.session.scalars(select(Solution).where(Solution.status != "deleted")
                                               .order_by(Solution.number)))

    async def experiences(self, number: int) -> list[Experience]:
        return list(await self.session.scalars(select(Experience).where(Experience.solution_number == number)
                                               .order_by(Experience.id)))

    def add_experience(self, number: int, author: str, text: str) -> None:
        self.session.add(Experience(solution_number=number, author=author, text=text))

    async def public_names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """The names these leaders chose to be shown under on the public pages (those who chose one)."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        rows = await self.session.scalars(select(PublicName).where(PublicName.user_id.in_(ids)))
        return {row.user_id: row.name for row in rows}

    async def set_public_name(self, user_id: str, name: str | None) -> None:
        """Opt in to being named on the public pages (``name``), or out again (None)."""
        row = await self.session.get(PublicName, user_id)
        if name is None:
            if row is not None:
                await self.session.delete(row)
        elif row is None:
            self.session.add(PublicName(user_id=user_id, name=name))
        else:
            row.name = name


def record_of(row: Solution) -> dict[str, Any]:
    return json.loads(row.record)


def index_version(row: Solution) -> int:
    """What the search index keeps to know a solution changed since it indexed it: when the row was last
    changed (``updated_at``, which every change of its record or status sets), in microseconds."""
    return _version(row.updated_at)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _version(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:  # SQLite gives back the UTC time it stored without its zone
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def decisions_of(row: Solution) -> list[dict[str, Any]]:
    return json.loads(row.decisions) if row.decisions else []


def _iso(moment) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def moderation_of(row: Solution) -> dict[str, Any]:
    """The moderation state of a stored solution, as export writes it."""
    state: dict[str, Any] = {"status": row.status}
    for key, value in (("author", row.author), ("room_id", row.room_id), ("reason", row.reject_reason),
                       ("shared_at", _iso(row.created_at)), ("updated_at", _iso(row.updated_at))):
        if value is not None:
            state[key] = value
    state["decisions"] = decisions_of(row)
    return state


def _moment(text: Any):
    from datetime import datetime, timezone

    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


async def _add_imported(repo: ArchiveRepository, record: dict[str, Any], default_status: str) -> Solution:
    state = record.pop(MODERATION, None) or {}
    row = await repo.add(record, state.get("status") or default_status, state.get("author"), state.get("room_id"),
                         state.get("decisions"))
    row.reject_reason = state.get("reason")
    for column, key in (("created_at", "shared_at"), ("updated_at", "updated_at")):
        moment = _moment(state.get(key))
        if moment is not None:
            setattr(row, column, moment)
    return row


async def import_records(session: AsyncSession, name: str, data: str, skip_invalid: bool = False,
                         publish: bool = False) -> tuple[int, list[ImportProblem]]:
    """Import a file: all or nothing unless ``skip_invalid``; ids already stored are problems too.

    Each record keeps the moderation state it was exported with; one without it waits in the
    moderation queue (pending), or is published when ``publish`` (a file the operator reviewed)."""
    good, problems = validate(parse_file(name, data))
    repo = ArchiveRepository(session)
    taken = await repo.existing_ids(r["id"] for _, r in good if r.get("id"))
    kept = []
    for position, record in good:
        if record.get("id") in taken:
            problems.append(ImportProblem(position, record["id"], "id: already in the archive"))
        else:
            kept.append(record)
    if problems and not skip_invalid:
        raise ImportError_(sorted(problems, key=lambda p: p.position))
    for record in kept:
        await _add_imported(repo, record, "approved" if publish else "pending")
    return len(kept), sorted(problems, key=lambda p: p.position)


async def export_records(session: AsyncSession, name: str) -> tuple[str, int]:
    """Every solution not deleted, each with its moderation state (see the module docstring)."""
    rows = await ArchiveRepository(session).all()
    records = [{**record_of(row), MODERATION: moderation_of(row)} for row in rows]
    if name.lower().endswith(".csv"):
        return dump_csv(records), len(records)
    if name.lower().endswith(".json"):
        return json.dumps(records, ensure_ascii=False, indent=1) + "\n", len(records)
    raise ImportError_([ImportProblem(0, None, "the file must end in .json or .csv")])
