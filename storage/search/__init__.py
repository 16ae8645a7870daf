"""Search over the archive of shared solutions: pure, in memory, offline.

The storage layer builds one `SearchIndex` at start from the approved records
(`index.add_many(records)`), then calls `add`/`remove` as records are approved, edited or
deleted; the chat layer parses what the user typed with `parse_query` and asks
`search`/`similar`/`suggest`, then shows `snippet`/`highlight` of each hit.
"""

from pathlib import Path

from .analyzer import Analyzer, fold
from .taxonomy import FilterError, ParsedQuery, check_record, label, parse_query, resolve

STARTER_ARCHIVE = Path(__file__).parent / "data" / "starter_archive.json"
_FROM_INDEX = ("Hit", "Marked", "SearchIndex", "SearchResult", "Suggestion")


def __getattr__(name: str):
    # The index module (numpy, ~10 MB) is imported when first asked for, not with the package:
    # the bot validates and parses queries from the start, but builds an index only for records.
    if name in _FROM_INDEX:
        from . import index

        return getattr(index, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_starter_archive() -> list[dict]:
    """The starter archive shipped with the bot (archive.md records, with sources)."""
    import json

    return json.loads(STARTER_ARCHIVE.read_text(encoding="utf-8"))


__all__ = [
    "Analyzer", "FilterError", "Hit", "ParsedQuery", "STARTER_ARCHIVE", "SearchIndex",
    "SearchResult", "Suggestion", "check_record", "fold", "label", "load_starter_archive",
    "Marked", "parse_query", "resolve",
]
