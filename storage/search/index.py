"""In-memory ranked index of the archive: BM25 over weighted fields, bilingual concepts,
typo tolerance, taxonomy filters, "similar to", snippets.

Built from the database, or opened from the file `save` wrote (`load`: memory-mapped, seconds
instead of minutes at 100 000 records), and kept current with `add`/`remove`. Documents are
plain dicts in the archive.md record format; the index keeps none of them, only:

* postings: term → doc numbers (``array('i')``) and field-weighted term frequencies
  (``array('H')``, in half units). Appending is O(1) and numpy reads them without a copy, so
  one structure serves both incremental updates and vectorised scoring (~6 bytes a posting);
  an opened index reads the file's postings in place and appends to tails (`_Postings`);
* per document: its weighted length, term ids (for "similar"), filter keys, a rank prior, and
  the caller's version (what the archive had when it indexed it);
* the vocabulary of surface forms (folded) → keys, which lets a query typed without
  diacritics ("dlugotrwale") reach the lemma its accented form has, and feeds typo tolerance.

Removal marks a document dead; postings are compacted once dead ones pile up.
Scoring is BM25 on a virtual document whose fields are repeated by their weight (the usual
BM25F simplification with one length normalisation); each query word scores the best of its
readings (Polish lemma, English lemma, corrected spelling), each concept adds its own score.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import indexfile, taxonomy
from .analyzer import LANGS, Analyzer, QueryToken, fold, guess_lang
from .indexfile import IndexFileError
from .translations import INDIRECT

FIELD_WEIGHTS = {"title": 3.0, "meta": 1.5, "description": 1.5, "body": 1.0}
TEXT_FIELDS = ("problem", "how_it_works", "results", "transfer_conditions", "evidence_summary")
# A translated word counts this much of the word as typed (0: no translations): a record
# in the query's own language that has the word ranks above one that has a translation.
TRANSLATION_WEIGHT = 0.6
FILTER_KINDS = ("group", "area", "stage", "type", "region", "country", "tag")

assert array("i").itemsize == 4 and array("H").itemsize == 2
_DOC_ARRAYS = ("_dl", "_alive", "_evidence", "_prior", "_version")  # numpy arrays by document number
FILE_FORMAT = 1  # of `SearchIndex.save`'s file


@cache
def _country_names() -> dict[str, Mapping[str, str]]:
    from babel import Locale  # its locale data (a few MB) is read when a record has a country

    return {lang: Locale.parse(lang).territories for lang in ("pl", "en")}


class Matched(frozenset):
    """The index terms a hit matched — a frozenset of them, to pass to `snippet`/`highlight` —
    and, as `groups`, the terms of each query word (or concept) that matched, so that a
    snippet can show every reason: "bezdomność" may have matched both the word and the
    concept of homelessness, and showing either says why."""

    groups: tuple[frozenset[str], ...]

    def __new__(cls, groups: Iterable[frozenset[str]] = ()) -> "Matched":
        groups = tuple(group for group in groups if group)
        self = super().__new__(cls, (term for group in groups for term in group))
        self.groups = groups
        return self


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    matched: frozenset[str]  # a Matched: index terms that matched, per query word


@dataclass
class SearchResult:
    total: int                      # all matching documents, for "page 1 of N"
    hits: list[Hit]                 # the page asked for
    corrections: dict[str, str] = field(default_factory=dict)  # typed word → word searched
    # Asked for with `facets`: kind → {value: how many documents of the search have it, all filters but
    # that kind's applied}, so a count is what a reader gets when they choose that value instead.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Suggestion:
    """What to tell a leader whose search found nothing."""
    corrected_query: str | None = None       # the query with unknown words respelled
    corrected_total: int = 0                 # how many that query finds
    loosen: list[tuple[str, int]] = field(default_factory=list)  # (filter key, results without it)
    without_filters: int = 0                 # results of the words alone, when filters were given


class SearchIndex:
    """The archive's search index. Not thread-safe: add, remove and search from one thread
    (the event loop). To build a large index without blocking it, build a new instance in a
    worker thread (`asyncio.to_thread(index.add_many, records)`) and swap it in when done."""

    def __init__(self, analyzer: Analyzer | None = None, *, fuzzy: bool = True,
                 surface_forms: bool = True, taxonomy_labels: bool = True, concept_weight: float = 0.8,
                 translation_weight: float = TRANSLATION_WEIGHT,
                 field_weights: Mapping[str, float] = FIELD_WEIGHTS,
                 k1: float = 1.2, b: float = 0.75) -> None:
        self.analyzer = analyzer or Analyzer()
        self.fuzzy, self.surface_forms, self.taxonomy_labels = fuzzy, surface_forms, taxonomy_labels
        self.concept_weight, self.k1, self.b = concept_weight, k1, b
        self.translation_weight = translation_weight
        self.field_weights = dict(field_weights)
        self._half_weights = {name: int(round(w * 2)) for name, w in field_weights.items()}
        # documents, by number
        self._ids: list[str | None] = []
        self._num: dict[str, int] = {}
        self._dl = np.zeros(1024, np.float32)
        self._alive = np.zeros(1024, bool)
        self._evidence = np.zeros(1024, np.int8)
        self._prior = np.zeros(1024, np.float32)
        self._version = np.zeros(1024, np.int64)  # the caller's version of each document (`add`)
        self._doc_terms = _Ragged("i")  # term ids of each document
        self._doc_filters = _Ragged("i")  # filter key ids of each document
        self._n_alive = 0
        self._len_sum = 0.0
        self._norm_cache: np.ndarray | None = None
        # terms
        self._tid: dict[str, int] = {}
        self._terms: list[str] = []
        self._post = _Postings()
        self._fkeys: list[str] = []  # filter keys ("group:seniors") by id
        self._fkey_id: dict[str, int] = {}
        self._fpost: dict[str, array] = {}
        # vocabulary: folded surface → (surface as written, keys)
        self._surface: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._bucket_cache: dict[tuple[int, str], list[str]] | None = {}  # (length, first letter) → surfaces
        self._seen_cache: set[str] | None = set()  # lower-case tokens already learnt as surface forms
        self._seen_loader: Callable[[], Iterable[str]] | None = None  # of an index read from a file
        self._short_texts: dict[tuple[str, str], tuple] = {}
        self._region_shown: dict[str, str] = {}  # a region's filter value → how the first record wrote it
        self._facet_keys: tuple[int, dict[str, list[str]]] = (-1, {})  # (len(_fpost) then, kind → keys)
        self._opened = False  # the translations, on the first add

    # -- building ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n_alive

    @property
    def _seen(self) -> set[str]:
        if self._seen_cache is None:  # an index read from a file reads these when it is first added to
            self._seen_cache = set(self._seen_loader() if self._seen_loader else ())
            self._seen_loader = None
        return self._seen_cache

    @property
    def _buckets(self) -> dict[tuple[int, str], list[str]]:
        if self._bucket_cache is None:  # an index read from a file groups its vocabulary on the first typo
            buckets: dict[tuple[int, str], list[str]] = {}
            for folded in self._surface:
                buckets.setdefault((len(folded), folded[:1]), []).append(folded)
            self._bucket_cache = buckets
        return self._bucket_cache

    def versions(self) -> dict[str, int]:
        """Each indexed document's id → the version it was added with."""
        return {doc_id: int(version) for doc_id, version in zip(self._ids, self._version.tolist()) if doc_id is not None}

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._num

    def add(self, doc: Mapping[str, Any], version: int = 0) -> None:
        """Index `doc` (an archive record); a document with the same id is replaced. `version` is the
        caller's (the archive's: when the record last changed), kept with it for `versions`.

        The first record also opens the translations (built on the first run after an install:
        seconds), as analysing it opens the lemma dictionaries: in the thread that builds the
        index, so that a search, perhaps in the event loop, only reads them."""
        doc_id = str(doc["id"])
        if not self._opened:
            if self.translation_weight:
                self.analyzer.translations()
            self._opened = True
        self.remove(doc_id)
        num = len(self._ids)
        self._grow(num + 1)
        counts, length = self._count_terms(doc)
        tids, append = self._tid, self._post.append
        for term, half_units in counts.items():
            tid = tids.get(term)
            if tid is None:
                tid = self._new_term(term)
            append(tid, num, half_units if half_units <= 65535 else 65535)
        doc_terms = array("i", [tids[term] for term in counts])
        filters = array("i")
        for key in self._filter_keys(doc):
            key_id = self._fkey_id.get(key)
            if key_id is None:
                key = sys.intern(key)
                key_id = self._fkey_id[key] = len(self._fkeys)
                self._fkeys.append(key)
                self._fpost[key] = array("i")
            self._fpost[self._fkeys[key_id]].append(num)
            filters.append(key_id)
        self._ids.append(doc_id)
        self._num[doc_id] = num
        self._doc_terms.append(doc_terms)
        self._doc_filters.append(filters)
        self._version[num] = version
        self._dl[num] = length
        self._alive[num] = True
        level = doc.get("evidence_level")
        self._evidence[num] = level if isinstance(level, int) and 0 <= level <= 5 else 0
        stage = doc.get("stage")
        self._prior[num] = self._evidence[num] + (taxonomy.STAGE_ORDER.get(stage, 0) if isinstance(stage, str) else 0) / 10
        self._n_alive += 1
        self._len_sum += length
        self._norm_cache = None

    def _new_term(self, term: str) -> int:
        tid = self._tid[term] = self._post.new()
        self._terms.append(term)
        return tid

    def add_many(self, docs: Iterable[Mapping[str, Any]]) -> None:
        for doc in docs:
            self.add(doc)

    def remove(self, doc_id: str) -> bool:
        """Forget a document; True if it was indexed."""
        num = self._num.pop(str(doc_id), None)
        if num is None:
            return False
        self._alive[num] = False
        self._ids[num] = None
        self._n_alive -= 1
        self._len_sum -= float(self._dl[num])
        self._norm_cache = None
        dead = len(self._ids) - self._n_alive
        if dead > 1000 and dead > len(self._ids) // 4:
            self.compact()
        return True

    def _grow(self, size: int) -> None:
        if size <= len(self._dl):
            return
        new = max(size, 2 * len(self._dl))
        for name in _DOC_ARRAYS:
            old = getattr(self, name)
            grown = np.zeros(new, old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)

    def _texts(self, doc: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str]]:
        """(weighted field, text, language, record key) of everything searchable in a record."""
        lang = doc.get("description_lang") or guess_lang(str(doc.get("description", "")))
        seen_titles: set[str] = set()
        for key, title_lang in (("title_original", doc.get("original_language") or lang),
                                ("title_pl", "pl"), ("title_en", "en")):
            title = doc.get(key)
            if isinstance(title, str) and title and title.lower() not in seen_titles:
                seen_titles.add(title.lower())
                yield "title", title, title_lang, key
        for key, text_lang in (("description", lang), ("description_pl", "pl"), ("description_en", "en")):
            if isinstance(doc.get(key), str):
                yield "description", doc[key], text_lang, key
        for key in TEXT_FIELDS:
            if isinstance(doc.get(key), str):
                yield "body", doc[key], lang, key
        for item in _as_list(doc.get("experiences")):
            text = item.get("text") if isinstance(item, Mapping) else item
            if isinstance(text, str):
                yield "body", text, guess_lang(text), "experiences"
        for key in ("tags", "organisations", "adopters"):
            for item in _as_list(doc.get(key)):
                name = item.get("name") if isinstance(item, Mapping) else item
                if isinstance(name, str):
                    yield "meta", name, lang, key
        for key in ("programme", "region"):
            if isinstance(doc.get(key), str):
                yield "meta", doc[key], lang, key
        country = doc.get("country")
        if isinstance(country, str):
            for label_lang, names in _country_names().items():
                if country.upper() in names:
                    yield "meta", names[country.upper()], label_lang, "country"
        # Taxonomy labels in both languages: a record coded `homeless` is found by
        # "bezdomność" and "homelessness" whatever language its text is in.
        for key, kind in (("target_groups", taxonomy.TARGET_GROUPS), ("areas", taxonomy.AREAS)):
            for code in _as_list(doc.get(key)) if self.taxonomy_labels else ():
                term = kind.get(code)
                if term:
                    yield "meta", term.pl, "pl", key
                    yield "meta", term.en, "en", key

    def _count_terms(self, doc: Mapping[str, Any]) -> tuple[dict[str, int], float]:
        """Term → field-weighted frequency in half units (weights are multiples of ½, so
        the sums are whole numbers that fit the uint16 postings), and the weighted length."""
        weights = self._half_weights
        counts: dict[str, int] = {}
        length = 0
        for field_name, text, lang, _ in self._texts(doc):
            weight = weights[field_name]
            terms, n_words = self._analyse(text, lang, field_name == "meta")
            length += weight * n_words
            for term, n in terms:
                counts[term] = counts.get(term, 0) + n * weight
        return counts, length / 2

    def _analyse(self, text: str, lang: str, recurring: bool = False) -> tuple[tuple[tuple[str, int], ...], int]:
        """(term, count) pairs of a text, words and concepts, and its number of words.
        Recurring short texts — taxonomy labels, countries, tags — are remembered."""
        short = recurring and len(text) <= 60
        if short and (known := self._short_texts.get((text, lang))) is not None:
            return known
        analyzer = self.analyzer
        tokens = analyzer.tokens(text)
        keys = analyzer.keys(tokens, lang)
        n_words = len(keys)
        keys += analyzer.concepts(keys)
        result = tuple(Counter(keys).items()), n_words
        new = set(tokens)
        seen = self._seen
        new -= seen
        if new:
            seen |= new
            for token in new:
                if (key := analyzer.key(token, lang)) is not None:
                    self._learn_surface(token, key)
        if short and len(self._short_texts) < 20_000:
            self._short_texts[(text, lang)] = result
        return result

    def _learn_surface(self, word: str, key: str) -> None:
        folded = fold(word) if self.analyzer.folding else word
        known = self._surface.get(folded)
        if known is None:
            self._surface[folded] = (word, (key,))
            if self._bucket_cache is not None:
                self._bucket_cache.setdefault((len(folded), folded[:1]), []).append(folded)
        elif key not in known[1] and len(known[1]) < 3:
            self._surface[folded] = (known[0], known[1] + (key,))

    def _filter_keys(self, doc: Mapping[str, Any]) -> Iterator[str]:
        for code in _as_list(doc.get("target_groups")):
            yield f"group:{code}"
        for code in _as_list(doc.get("areas")):
            yield f"area:{code}"
        for kind, key in (("stage", "stage"), ("type", "record_type")):
            if isinstance(doc.get(key), str):
                yield f"{kind}:{doc[key]}"
        if isinstance(doc.get("region"), str) and doc["region"].strip():
            value = taxonomy.resolve("region", doc["region"])
            self._region_shown.setdefault(value, " ".join(doc["region"].split()))
            yield f"region:{value}"
        if isinstance(doc.get("country"), str):
            yield f"country:{doc['country'].upper()}"
        tags = {form for tag in _as_list(doc.get("tags")) if isinstance(tag, str)
                for form in self._tag_forms(tag)}
        yield from sorted(f"tag:{form}" for form in tags)

    def _tag_forms(self, tag: str) -> set[str]:
        # The folded text and its lemma keys: tag:seniorzy finds a record tagged "seniorów".
        forms = {taxonomy.resolve("tag", tag)}
        for lang in ("pl", "en"):
            keys = [key for _, key in self.analyzer.words(tag, lang)]
            if keys:
                forms.add(" ".join(keys))
        return forms

    def compact(self) -> None:
        """Drop removed documents from every posting and renumber the living ones."""
        n = len(self._ids)
        alive = self._alive[:n]
        renumber = (np.cumsum(alive) - 1).astype(np.int32)

        post = _Postings()
        for tid in range(len(self._terms)):
            d = self._post.docs(tid)
            keep = alive[d]
            post.new()
            post._tails[tid] = (_to_array("i", renumber[d[keep]]), _to_array("H", self._post.tfs(tid)[keep]))
        self._post = post
        self._fpost = {key: _to_array("i", renumber[d[alive[d]]])
                       for key, docs in self._fpost.items() for d in [np.frombuffer(docs, np.int32)]}
        keep = np.flatnonzero(alive)
        self._ids = [self._ids[i] for i in keep]
        self._doc_terms = self._doc_terms.subset(keep)
        self._doc_filters = self._doc_filters.subset(keep)
        self._num = {doc_id: num for num, doc_id in enumerate(self._ids) if doc_id is not None}
        size = max(1024, len(keep))
        for name in _DOC_ARRAYS:
            old = getattr(self, name)
            new = np.zeros(size, old.dtype)
            new[: len(keep)] = old[keep]
            setattr(self, name, new)
        self._norm_cache = None

    # -- searching ---------------------------------------------------------------------------
    def search(self, query: str, filters: Mapping[str, str | Sequence[str]] | None = None,
               offset: int = 0, limit: int = 5, facets: Sequence[str] = ()) -> SearchResult:
        """Ranked documents for `query` within `filters` ({key: value or values}; keys and
        values as a user types them: codes or labels in Polish or English). Values of one key
        are alternatives, keys must all hold. Raises taxonomy.FilterError for an unknown one.

        `facets` (filter kinds: "area", "group", "stage", "region"…) asks for the counts of each
        value among the results (`SearchResult.facets`); with them, a query without words lists
        the documents of the filters, or all of them, the best documented first."""
        offset, limit = max(0, offset), max(0, limit)
        mask = self._filter_mask(filters)
        tokens = self.analyzer.query(query)
        if not tokens:
            result = self._browse(mask, offset, limit) if filters or facets else SearchResult(0, [])
            matched = None
        else:
            units, owners, corrections = self._units(tokens)
            scores = self._score(units)
            matched = scores > 0
            scores[~mask] = 0
            result = self._page(scores, units, offset, limit, corrections, owners)
        if facets:
            result.facets = self._facets(matched, filters, facets)
        return result

    def _facets(self, matched: np.ndarray | None, filters: Mapping[str, str | Sequence[str]] | None,
                kinds: Sequence[str]) -> dict[str, dict[str, int]]:
        """For each kind, how many documents that match the words and every filter but that kind's have each
        value (values no such document has are left out)."""
        n = len(self._ids)
        words = self._alive[:n] if matched is None else matched[:n]
        size, keys = self._facet_keys
        if size != len(self._fpost):  # a new value since the last time: list the keys again
            keys = {}
            for key in self._fpost:
                kind, _, _ = key.partition(":")
                keys.setdefault(kind, []).append(key)
            self._facet_keys = (len(self._fpost), keys)
        out: dict[str, dict[str, int]] = {}
        for kind in kinds:
            others = {k: v for k, v in (filters or {}).items() if (taxonomy.filter_key(k) or k) != kind}
            within = words & self._filter_mask(others)
            counts = {}
            for key in keys.get(kind, ()):
                count = int(np.count_nonzero(within[np.frombuffer(self._fpost[key], np.int32)]))
                if count:
                    counts[key.partition(":")[2]] = count
            out[kind] = counts
        return out

    def knows_region(self, value: str) -> bool:
        """Whether a record was ever indexed with this region (a filter value, as `resolve` gives it)."""
        return value in self._region_shown

    def region_shown(self, value: str) -> str:
        """A region's filter value as records write it (``mazowieckie``, ``Uusimaa``)."""
        return self._region_shown.get(value, value)

    def similar(self, doc_id: str, limit: int = 5, offset: int = 0,
                filters: Mapping[str, str | Sequence[str]] | None = None) -> SearchResult:
        """Documents like `doc_id`: its most distinctive terms as a query, plus its target
        groups and areas. KeyError if the id is not indexed."""
        num = self._num[str(doc_id)]
        # Terms in more than a quarter of the archive say little about likeness and cost the
        # most to score: they are left out (unless the record has few others).
        common = max(50, self._n_alive // 4)
        doc_terms = self._doc_terms[num].tolist()
        terms = [tid for tid in doc_terms if self._post.df(tid) <= common]
        if len(terms) < 5:
            terms = doc_terms
        weight = {tid: self._tf(tid, num) * self._idf(tid) for tid in terms}
        top = sorted(weight, key=lambda tid: (-weight[tid], tid))[:20]
        heaviest = weight[top[0]] if top else 1.0
        units = [[(tid, 0.5 + 0.5 * weight[tid] / heaviest)] for tid in top]
        scores = self._score(units)
        for key in (self._fkeys[key_id] for key_id in self._doc_filters[num].tolist()):
            if key.startswith(("group:", "area:")):
                docs = np.frombuffer(self._fpost[key], np.int32)
                scores[docs] += 0.5 * math.log(1 + self._n_alive / max(1, len(docs)))
        scores[num] = 0
        scores[~self._filter_mask(filters)] = 0
        return self._page(scores, units, offset, limit, {})

    def _units(self, tokens: list[QueryToken]) -> tuple[list[list[tuple[int, float]]], list[Sequence[int]], dict[str, str]]:
        """Each query word becomes a unit: the terms it may mean, with weights (a corrected
        spelling or a translation counts less). Concepts found across the words, and phrases
        translated as a whole, become units of their own. Also returns, for each unit, the
        query words it stands for, and the corrected spellings."""
        key_sets: list[set[str]] = []
        alts: list[dict[int, float]] = []
        for token in tokens:
            keys = set(token.keys)
            if self.surface_forms and token.folded in self._surface:
                keys.update(self._surface[token.folded][1])
            key_sets.append(keys)
            alts.append({tid: 1.0 for key in keys if (tid := self._live_tid(key)) is not None})
        spans = self.analyzer.concept_spans(key_sets)
        covered = {i for first, last, _ in spans for i in range(first, last)}
        phrases: list[tuple[range, dict[int, float]]] = []
        if self.translation_weight:
            phrases = self._translate(tokens, alts, covered)
        corrections: dict[str, str] = {}
        if self.fuzzy:
            # Only words that mean nothing to the index, not even as part of a concept phrase
            # ("demencja" is a concept, not a typo of "dementia") or through a translation, are
            # respelled.
            for i, token in enumerate(tokens):
                if alts[i] or i in covered or len(token.folded) < 5 or not _respellable(token.folded):
                    continue
                for surface, distance in self._near(token.folded, 1 if len(token.folded) < 8 else 2):
                    corrections.setdefault(token.surface, self._surface[surface][0])
                    for key in self._surface[surface][1]:
                        if (tid := self._live_tid(key)) is not None:
                            alts[i][tid] = max(alts[i].get(tid, 0.0), 0.8 if distance == 1 else 0.6)
                            key_sets[i].add(key)
            if corrections:
                spans = self.analyzer.concept_spans(key_sets)
        pairs: list[tuple[list[tuple[int, float]], Sequence[int]]] = [
            (list(unit.items()), range(i, i + 1)) for i, unit in enumerate(alts) if unit]
        pairs += [(list(unit.items()), words) for words, unit in phrases if unit]
        concept_words: dict[str, list[int]] = {}  # each concept once, for all the words it spans
        for first, last, concept in spans:
            concept_words.setdefault(concept, []).extend(range(first, last))
        for concept, words in concept_words.items():
            tid = self._live_tid(concept)
            if tid is not None:
                pairs.append(([(tid, self.concept_weight)], words))
        return [unit for unit, _ in pairs], [words for _, words in pairs], corrections

    def _translate(self, tokens: list[QueryToken], alts: list[dict[int, float]],
                   covered: set[int]) -> list[tuple[range, dict[int, float]]]:
        """Adds to each word's terms its translations into the other language, weighted
        below the word itself, and returns units for phrases of three or two words that the
        dictionary translates as a whole ("plac zabaw" → playground).

        Words of such a phrase count less one by one (word by word a phrase is mostly
        mistranslated: "plac zabaw" is no square of play), and words of a concept phrase
        (`covered`), which the lexicon already bridges, are not translated at all ("dzienne
        domy" is no daily house); nor are words typed in capitals: "POWER" is a programme,
        not "siła"."""
        dictionary = self.analyzer.translations()
        if dictionary is None:
            return []

        def terms(found: tuple[tuple[str, float], ...], into: dict[int, float], scale: float = 1.0) -> dict[int, float]:
            for target, weight in found:
                tid = self._live_tid(target)
                weight *= self.translation_weight * scale
                if tid is not None and into.get(tid, 0.0) < weight:
                    into[tid] = weight
            return into

        skip = covered | {i for i, token in enumerate(tokens) if len(token.surface) > 1 and token.surface.isupper()}
        readings = [dict(token.readings) for token in tokens]
        phrases: list[tuple[range, dict[int, float]]] = []
        in_phrase: set[int] = set()
        for length in (3, 2):
            for first in range(len(tokens) - length + 1):
                words = range(first, first + length)
                if skip.intersection(words) or in_phrase.issuperset(words):
                    continue
                found: dict[int, float] = {}
                for lang in LANGS:
                    keys = [reading.get(lang) or "" for reading in readings[first: first + length]]
                    if all(keys) and (translated := dictionary.lookup(lang, " ".join(keys))):
                        terms(translated, found)
                        in_phrase.update(words)
                if found:
                    phrases.append((words, found))
        for i, (token, unit) in enumerate(zip(tokens, alts)):
            # A term a phrase already stands for is not counted again for one of its words.
            taken = {tid for words, found in phrases if i in words for tid in found}
            for lang, key in token.readings if i not in skip else ():
                for tid, weight in terms(dictionary.lookup(lang, key), {}, INDIRECT if i in in_phrase else 1.0).items():
                    if tid not in taken and unit.get(tid, 0.0) < weight:
                        unit[tid] = weight
        return phrases

    def _live_tid(self, term: str) -> int | None:
        tid = self._tid.get(term)
        return tid if tid is not None and self._post.df(tid) else None

    def _near(self, folded: str, max_distance: int, limit: int = 3) -> list[tuple[str, int]]:
        """Vocabulary words within `max_distance` edits (a swap of two neighbouring letters
        counts as one, as typists make it), the closest ones only.

        Only words starting with the query's first or second letter are compared: that keeps
        a look-up under a millisecond on a large vocabulary, and covers a wrong letter anywhere
        but the first, a letter added in front and the first two letters swapped."""
        from rapidfuzz import process  # only for words the index does not know
        from rapidfuzz.distance import OSA

        found: list[tuple[str, int]] = []
        for length in range(len(folded) - max_distance, len(folded) + max_distance + 1):
            for first in set(folded[:2]):
                bucket = self._buckets.get((length, first))
                if not bucket:
                    continue
                found += [(word, int(d)) for word, d, _ in process.extract(
                    folded, bucket, scorer=OSA.distance, score_cutoff=max_distance,
                    limit=limit * 4)]
        if not found:
            return []
        best = min(d for _, d in found)
        return sorted((w, d) for w, d in found if d == best)[:limit]

    def _idf(self, tid: int) -> float:
        df = self._post.df(tid)
        return math.log(1 + (self._n_alive - df + 0.5) / (df + 0.5))

    def _tf(self, tid: int, num: int) -> float:
        docs = self._post.docs(tid)
        i = int(np.searchsorted(docs, num))
        return int(self._post.tfs(tid)[i]) / 2 if i < len(docs) and docs[i] == num else 0.0

    def _norms(self) -> np.ndarray:
        # BM25's length normalisation for every document, cached until the index changes.
        if self._norm_cache is None:
            n = len(self._ids)
            avgdl = self._len_sum / self._n_alive if self._n_alive else 1.0
            self._norm_cache = (self.k1 * (1 - self.b)
                                + (self.k1 * self.b / max(avgdl, 1e-9)) * self._dl[:n]).astype(np.float32)
        return self._norm_cache

    def _score(self, units: list[list[tuple[int, float]]]) -> np.ndarray:
        n = len(self._ids)
        norms = self._norms()
        total = np.zeros(n, np.float32)
        k1 = np.float32(self.k1 + 1)
        for unit in units:
            best = total if len(unit) == 1 else np.zeros(n, np.float32)
            for tid, weight in unit:
                docs = self._post.docs(tid)
                tf = self._post.tfs(tid).astype(np.float32) * np.float32(0.5)
                part = np.float32(self._idf(tid) * weight) * tf * k1 / (tf + norms[docs])
                if best is total:
                    total[docs] += part  # a posting lists each document once
                else:
                    best[docs] = np.maximum(best[docs], part)
            if best is not total:
                total += best
        total[~self._alive[:n]] = 0
        return total

    def _filter_mask(self, filters: Mapping[str, str | Sequence[str]] | None) -> np.ndarray:
        n = len(self._ids)
        mask = self._alive[:n].copy()
        for raw_key, values in (filters or {}).items():
            kind = taxonomy.filter_key(raw_key) or raw_key
            if kind not in FILTER_KINDS and kind != "evidence":
                raise taxonomy.FilterError("filter", raw_key, sorted(set(taxonomy.FILTER_KEYS.values())))
            chosen = np.zeros(n, bool)
            for value in [values] if isinstance(values, str) else values:
                if kind == "evidence":
                    chosen |= self._evidence[:n] >= int(taxonomy.resolve(kind, value))
                    continue
                forms = self._tag_forms(value) if kind == "tag" else {taxonomy.resolve(kind, value)}
                for form in forms:
                    posting = self._fpost.get(f"{kind}:{form}")
                    if posting:
                        chosen[np.frombuffer(posting, np.int32)] = True
            mask &= chosen
        return mask

    def _browse(self, mask: np.ndarray, offset: int, limit: int) -> SearchResult:
        # Filters without words: the best documented and most mature first, then the newest.
        nums = np.flatnonzero(mask)
        order = nums[np.lexsort((-nums, -self._prior[nums]))][offset: offset + limit]
        return SearchResult(len(nums), [Hit(self._ids[i], 0.0, frozenset()) for i in order])

    def _page(self, scores: np.ndarray, units: list[list[tuple[int, float]]], offset: int,
              limit: int, corrections: dict[str, str], owners: list[Sequence[int]] | None = None) -> SearchResult:
        candidates = np.flatnonzero(scores > 0)
        total = len(candidates)
        want = min(total, offset + limit)
        if want <= 0:
            return SearchResult(total, [], corrections)
        values = scores[candidates]
        if want < len(candidates):
            part = np.argpartition(-values, want - 1)[:want]
            candidates, values = candidates[part], values[part]
        order = np.lexsort((candidates, -values))[offset: offset + limit]
        hits = [Hit(self._ids[candidates[i]], round(float(values[i]), 4),
                    self._matched(int(candidates[i]), units, owners)) for i in order]
        return SearchResult(total, hits, corrections)

    def _matched(self, num: int, units: list[list[tuple[int, float]]], owners: list[Sequence[int]] | None) -> Matched:
        """The terms of document `num` that matched, grouped by the query word they stand for
        (a concept or a phrase stands for each of its words); by unit when there are no words."""
        groups: dict[int, set[str]] = {}
        for n, unit in enumerate(units):
            found = set()
            for tid, _ in unit:
                docs = self._post.docs(tid)
                i = int(np.searchsorted(docs, num))
                if i < len(docs) and docs[i] == num:
                    found.add(self._terms[tid])
            for word in owners[n] if owners is not None else (n,):
                groups.setdefault(word, set()).update(found)
        return Matched(frozenset(group) for group in groups.values())

    # -- when nothing is found ---------------------------------------------------------------
    def suggest(self, query: str, filters: Mapping[str, str | Sequence[str]] | None = None) -> Suggestion:
        """A respelled query (closest vocabulary words for unknown ones) and the filters whose
        removal would give results, with how many."""
        suggestion = Suggestion()
        words: list[str] = []
        changed = False
        for token in self.analyzer.query(query):
            known = any(self._live_tid(k) is not None for k in token.keys) or token.folded in self._surface
            near = [] if known or len(token.folded) < 3 or not _respellable(token.folded) else self._near(token.folded, 1 if len(token.folded) < 5 else 3, limit=1)
            if near:
                words.append(self._surface[near[0][0]][0])
                changed = True
            else:
                words.append(token.surface)
        if changed:
            suggestion.corrected_query = " ".join(words)
            suggestion.corrected_total = self.search(suggestion.corrected_query, filters, 0, 0).total
        for key in filters or {}:
            rest = {k: v for k, v in (filters or {}).items() if k != key}
            total = self.search(suggestion.corrected_query or query, rest, 0, 0).total
            if total:
                suggestion.loosen.append((key, total))
        suggestion.loosen.sort(key=lambda item: -item[1])
        if filters:
            suggestion.without_filters = self.search(suggestion.corrected_query or query, None, 0, 0).total
        return suggestion

    # -- showing results ---------------------------------------------------------------------
    def highlight(self, text: str, matched: Iterable[str], lang: str | None = None) -> Marked:
        """`text` with the spans of its matched words marked (for the chat or a page to show in bold)."""
        return _marked(text, self._marks(text, lang or guess_lang(text), set(matched)), 0, len(text))

    def snippet(self, doc: Mapping[str, Any], matched: Iterable[str], lang: str = "pl",
                width: int = 220, labels: Mapping[str, str] | None = None) -> list[Marked]:
        """Excerpts of the record's text around its matches, the record's matched words marked
        — also those reached through a lemma, a concept, a typo or a translation. Prefers a description in `lang` when the record has one
        (``description_en``), else the text field that shows the most of the query's words,
        else the start of the description.

        Every reason for the match is shown: a query word matched only outside that excerpt
        (in the title, a tag, a target group's or area's label, an organisation, another
        text) adds a short "Label: excerpt" part, in `lang`'s labels (`taxonomy.FIELD_LABELS`,
        or the caller's `labels`, by record key): at most three, each showing as many of
        the words not yet shown as one text can."""
        terms = set(matched)
        groups = list(getattr(matched, "groups", ())) or [frozenset([term]) for term in terms]
        doc_lang = doc.get("description_lang") or guess_lang(str(doc.get("description", "")))
        fields = [(doc.get(f"description_{lang}"), lang)] + [
            (doc.get(key), doc_lang) for key in ("description", *TEXT_FIELDS)]
        best: tuple[tuple[int, int], str, list[tuple[int, int, str]]] | None = None
        for text, text_lang in fields:
            if isinstance(text, str) and text.strip():
                found = self._found(text, text_lang, terms)
                rank = (_covered(groups, found), len(found))
                if best is None or rank > best[0]:
                    best = (rank, text, found)
        parts, shown = [], set()
        if best is not None:
            _, text, found = best
            start, end = _window(text, found[0][0] if found else None, width)
            parts.append(_excerpt(text, found, start, end))
            shown = {term for a, b, term in found if a >= start and b <= end}
        missing = [group for group in groups if not group & shown]
        reasons = [(key, text, found) for key, text, text_lang in (self._reasons(doc, lang) if missing else ())
                   if (found := self._found(text, text_lang, terms))]
        while missing and len(parts) < 4:
            # The text that shows the most of the missing words (the earlier field on a tie).
            best_reason = max(reasons, key=lambda reason: _covered(missing, reason[2]), default=None)
            if best_reason is None or not _covered(missing, best_reason[2]):
                break
            key, text, found = best_reason
            reasons.remove(best_reason)
            first = next(a for a, _, term in found if any(term in group for group in missing))
            start, end = _window(text, first, 100)
            label = (labels or {}).get(key) or taxonomy.field_label(key, lang)
            parts.append(_excerpt(text, found, start, end, label))
            here = {term for *_, term in found}
            missing = [group for group in missing if not group & here]
        return [part for part in parts if part.pieces]

    def _reasons(self, doc: Mapping[str, Any], lang: str) -> list[tuple[str, str, str]]:
        """(record key, text, language) of every text the index reads in a record, for
        showing a match outside the snippet: field by field (titles first), each field's
        texts in the reader's language first."""
        texts = [(_FIELD_OF.get(key, key), text, text_lang) for _, text, text_lang, key in self._texts(doc)]
        order = {key: n for n, key in enumerate(dict.fromkeys(key for key, _, _ in texts))}
        return sorted(texts, key=lambda item: (order[item[0]], item[2] != lang))

    def _found(self, text: str, lang: str, matched: set[str]) -> list[tuple[int, int, str]]:
        """(start, end, term) of each word and concept phrase of `text` that matched, in order."""
        pairs = self.analyzer.words(text, lang)
        found = [(match.start(), match.end(), key) for match, key in pairs if key in matched]
        for first, last, concept in self.analyzer.concept_spans([[k] for _, k in pairs]):
            if concept in matched:
                found.append((pairs[first][0].start(), pairs[last - 1][0].end(), concept))
        return sorted(found)

    def _marks(self, text: str, lang: str, matched: set[str]) -> list[tuple[int, int]]:
        """Character spans of the words to mark: matched keys and matched concept phrases,
        adjacent ones merged into one run."""
        return _runs(text, self._found(text, lang, matched))

    # -- a file --------------------------------------------------------------------------------
    def signature(self) -> str:
        """What the stored terms depend on: this code, simplemma's and Babel's data, the analyzer's switches
        and lexicon, the field weights and the taxonomy labels. A file with another signature is not read."""
        analyzer = self.analyzer
        parts = [FILE_FORMAT, _code_digest(), analyzer.folding, analyzer.lemmas, analyzer.stopwords,
                 _lexicon_digest(analyzer), sorted(self.field_weights.items()), self.taxonomy_labels]
        return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()

    def save(self, path: Path, meta: Mapping[str, Any] | None = None) -> None:
        """Write the whole index to `path` (atomically), with the caller's JSON-able `meta`. Nothing may
        change the index meanwhile; searching it may go on."""
        n = len(self._ids)
        post, docs, filters = self._post, self._doc_terms, self._doc_filters
        fkeys = list(self._fkeys)
        fpost = [np.frombuffer(self._fpost[key], np.int32) for key in fkeys]
        arrays = {
            "post_offsets": _offsets([post.df(t) for t in range(len(post))]),
            "post_docs": indexfile.Array(np.int32, post.chunks("docs"), post.total()),
            "post_tfs": indexfile.Array(np.uint16, post.chunks("tfs"), post.total()),
            "doc_offsets": _offsets([len(docs[i]) for i in range(n)]),
            "doc_terms": indexfile.Array(np.int32, docs.chunks(), docs.total()),
            "filter_offsets": _offsets([len(filters[i]) for i in range(n)]),
            "doc_filters": indexfile.Array(np.int32, filters.chunks(), filters.total()),
            "fpost_offsets": _offsets([len(docs_) for docs_ in fpost]),
            "fpost": indexfile.Array(np.int32, fpost, sum(len(docs_) for docs_ in fpost)),
            **{name.lstrip("_"): getattr(self, name)[:n] for name in _DOC_ARRAYS},
        }
        sections = {"ids": self._ids, "terms": self._terms, "filter_keys": fkeys,
                    "surface": [[folded, word, list(keys)] for folded, (word, keys) in self._surface.items()],
                    "seen": sorted(self._seen)}
        info = {"signature": self.signature(), "documents": self._n_alive, "length_sum": self._len_sum,
                "caller": dict(meta or {})}
        indexfile.write(Path(path), info, arrays, sections)

    @classmethod
    def load(cls, path: Path, analyzer: Analyzer | None = None, **settings: Any) -> tuple["SearchIndex", dict]:
        """The index saved in `path` and the `meta` it was saved with; `analyzer` and `settings` as for a
        new index (those the stored terms depend on must be the ones it was saved with: `signature`).
        Its postings stay in the file (memory-mapped); documents added later get postings of their own.
        Raises `IndexFileError` for a file that cannot be used."""
        file = indexfile.IndexFile(Path(path))
        index = cls(analyzer, **settings)
        if file.meta.get("signature") != index.signature():
            raise IndexFileError(f"{path}: written for another version of the search (or other settings)")
        try:
            ids, terms, fkeys = file.section("ids"), file.section("terms"), file.section("filter_keys")
            n = len(ids)
            index._post = _Postings(_checked(file, "post_offsets", len(terms), "post_docs"),
                                    file.array("post_docs"), file.array("post_tfs"))
            if len(file.array("post_tfs")) != len(file.array("post_docs")):
                raise IndexFileError(f"{path}: damaged postings")
            index._doc_terms = _Ragged("i", _checked(file, "doc_offsets", n, "doc_terms"), file.array("doc_terms"))
            index._doc_filters = _Ragged("i", _checked(file, "filter_offsets", n, "doc_filters"),
                                         file.array("doc_filters"))
            fpost_offsets, fpost = _checked(file, "fpost_offsets", len(fkeys), "fpost"), file.array("fpost")
            index._grow(n)
            for name in _DOC_ARRAYS:
                stored = file.array(name.lstrip("_"))
                if len(stored) != n:
                    raise IndexFileError(f"{path}: {name} has {len(stored)} documents, not {n}")
                getattr(index, name)[:n] = stored
            surface = file.section("surface")
        except (KeyError, TypeError) as exc:
            raise IndexFileError(f"{path}: damaged ({exc})") from None
        index._ids = ids
        index._num = {doc_id: num for num, doc_id in enumerate(ids) if doc_id is not None}
        index._terms = terms
        index._tid = {term: tid for tid, term in enumerate(terms)}
        index._fkeys = [sys.intern(key) for key in fkeys]
        index._fkey_id = {key: i for i, key in enumerate(index._fkeys)}
        index._fpost = {key: _to_array("i", fpost[fpost_offsets[i]: fpost_offsets[i + 1]])
                        for i, key in enumerate(index._fkeys)}
        index._surface = {folded: (word, tuple(keys)) for folded, word, keys in surface}
        index._bucket_cache = None  # grouped when a typo is first looked up
        index._seen_cache, index._seen_loader = None, lambda: file.section("seen")  # read on the first add
        index._n_alive = int(file.meta.get("documents", 0))
        index._len_sum = float(file.meta.get("length_sum", 0.0))
        if index._n_alive != len(index._num) or int(index._alive[:n].sum()) != index._n_alive:
            raise IndexFileError(f"{path}: damaged (its documents do not add up)")
        return index, dict(file.meta.get("caller") or {})

    # -- introspection -----------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        postings = self._post.total()
        arrays = (postings * 6 + sum(len(p) * 4 for p in self._fpost.values())
                  + self._doc_terms.total() * 4 + self._doc_filters.total() * 4
                  + sum(getattr(self, name).nbytes for name in _DOC_ARRAYS))
        return {"documents": self._n_alive, "slots": len(self._ids), "terms": len(self._terms),
                "postings": postings, "surface_forms": len(self._surface), "array_bytes": arrays}


# -- helpers -----------------------------------------------------------------------------------

# Record keys shown under one label in a snippet.
_FIELD_OF = {"title_original": "title", "title_pl": "title", "title_en": "title",
             "description_pl": "description", "description_en": "description"}


def _covered(groups: list[frozenset[str]], found: list[tuple[int, int, str]]) -> int:
    terms = {term for *_, term in found}
    return sum(1 for group in groups if group & terms)


def _runs(text: str, found: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """The found spans as runs to bold: overlapping ones, and ones with only spaces between, merged."""
    spans: list[tuple[int, int]] = []
    for start, end, _ in found:
        if spans and (start <= spans[-1][1] or not text[spans[-1][1]: start].strip()):
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def _window(text: str, first: int | None, width: int) -> tuple[int, int]:
    """Where to cut `text` to about `width` characters, at spaces, with the match at `first`
    in its first third."""
    start = 0
    if len(text) > width and first is not None:
        start = max(0, first - width // 3)
        start = text.rfind(" ", 0, start) + 1 if start else 0
    end = len(text) if len(text) - start <= width else text.rfind(" ", start, start + width)
    return start, end if end > start else min(len(text), start + width)


def _excerpt(text: str, found: list[tuple[int, int, str]], start: int, end: int, label: str | None = None) -> Marked:
    marked = _marked(text, _runs(text, found), start, end)
    pieces = ((("…", False),) if start else ()) + marked.pieces + ((("…", False),) if end < len(text) else ())
    return Marked(pieces, label)


def _respellable(folded: str) -> bool:
    # A number is exact: "2025" is not a typo of "2024", nor "4.2" of "4.1".
    return not any(c.isdigit() for c in folded)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _to_array(typecode: str, values: np.ndarray) -> array:
    out = array(typecode)
    out.frombytes(values.astype(np.int32 if typecode == "i" else np.uint16).tobytes())
    return out


_EMPTY_I = np.zeros(0, np.int32)
_EMPTY_H = np.zeros(0, np.uint16)


class _Postings:
    """Every term's posting list: document numbers (int32, ascending) and field-weighted frequencies in
    half units (uint16).

    An index read from a file keeps the file's postings where they are: two memory-mapped arrays sliced by
    term (``offsets``), read from disk only for the terms a search asks for. Documents added afterwards go
    to a tail of the term's own (``array``: appending is O(1), and numpy reads it without a copy), so an
    added record copies nothing out of the file, however common its words: a file term with a tail is
    read as its slice and its tail joined (document numbers only grow, so they stay in order). Every term
    of an index built in memory, and every term made after, is all tail. `compact` makes a new one."""

    def __init__(self, offsets: np.ndarray | None = None, docs: np.ndarray | None = None,
                 tfs: np.ndarray | None = None) -> None:
        self._offsets = offsets if offsets is not None else np.zeros(1, np.int64)
        self._docs = docs if docs is not None else _EMPTY_I
        self._tfs = tfs if tfs is not None else _EMPTY_H
        self._base = len(self._offsets) - 1  # terms read from the file
        self._tails: dict[int, tuple[array, array]] = {}
        self._count = self._base

    def __len__(self) -> int:
        return self._count

    def new(self) -> int:
        tid = self._count
        self._tails[tid] = (array("i"), array("H"))
        self._count += 1
        return tid

    def _stored(self, tid: int, stored: np.ndarray) -> np.ndarray:
        return stored[self._offsets[tid]: self._offsets[tid + 1]] if tid < self._base else stored[:0]

    def docs(self, tid: int) -> np.ndarray:
        return self._joined(tid, self._docs, 0, np.int32)

    def tfs(self, tid: int) -> np.ndarray:
        return self._joined(tid, self._tfs, 1, np.uint16)

    def _joined(self, tid: int, stored: np.ndarray, part: int, dtype: Any) -> np.ndarray:
        tail = self._tails.get(tid)
        if tail is None:
            return self._stored(tid, stored)
        added = np.frombuffer(tail[part], dtype)
        return np.concatenate((self._stored(tid, stored), added)) if tid < self._base else added

    def df(self, tid: int) -> int:
        tail = self._tails.get(tid)
        stored = int(self._offsets[tid + 1] - self._offsets[tid]) if tid < self._base else 0
        return stored + (len(tail[0]) if tail is not None else 0)

    def append(self, tid: int, num: int, tf: int) -> None:
        tail = self._tails.get(tid)
        if tail is None:
            tail = self._tails[tid] = (array("i"), array("H"))
        docs, tfs = tail
        try:
            docs.append(num)
            tfs.append(tf)
        except BufferError:  # a numpy view of the posting is alive somewhere: copy it
            docs, tfs = array("i", docs), array("H", tfs)
            self._tails[tid] = (docs, tfs)
            if len(docs) == len(tfs):
                docs.append(num)
            tfs.append(tf)

    def chunks(self, kind: str) -> Iterator[np.ndarray]:
        """Every term's documents (``kind`` "docs") or frequencies ("tfs") in term order, as a few large
        slices of the file where its terms have no tail and the file's slice then the tail elsewhere."""
        stored = self._docs if kind == "docs" else self._tfs
        part, dtype = (0, np.int32) if kind == "docs" else (1, np.uint16)
        start = 0  # the first file term not yet given
        for tid in sorted(self._tails):
            if tid < self._base:
                yield stored[self._offsets[start]: self._offsets[tid + 1]]  # up to and with this term's slice
                start = tid + 1
            elif start < self._base:
                yield stored[self._offsets[start]: self._offsets[self._base]]
                start = self._base
            yield np.frombuffer(self._tails[tid][part], dtype)
        if start < self._base:
            yield stored[self._offsets[start]: self._offsets[self._base]]

    def total(self) -> int:
        return int(self._offsets[-1]) + sum(len(docs) for docs, _ in self._tails.values())


class _Ragged:
    """A list of int32 rows (each document's term ids, its filter key ids): those read from a file as one
    memory-mapped array sliced by ``offsets``, those added since as arrays of their own."""

    def __init__(self, typecode: str, offsets: np.ndarray | None = None, values: np.ndarray | None = None) -> None:
        self._typecode = typecode
        self._offsets = offsets if offsets is not None else np.zeros(1, np.int64)
        self._values = values if values is not None else _EMPTY_I
        self._base = len(self._offsets) - 1
        self._rows: list[array] = []

    def __len__(self) -> int:
        return self._base + len(self._rows)

    def __getitem__(self, i: int) -> np.ndarray:
        if i < self._base:
            return self._values[self._offsets[i]: self._offsets[i + 1]]
        return np.frombuffer(self._rows[i - self._base], np.int32)

    def append(self, row: array) -> None:
        self._rows.append(row)

    def chunks(self) -> Iterator[np.ndarray]:
        yield self._values[: self._offsets[-1]]
        for row in self._rows:
            yield np.frombuffer(row, np.int32)

    def subset(self, keep: Iterable[int]) -> "_Ragged":
        out = _Ragged(self._typecode)
        out._rows = [_to_array(self._typecode, self[int(i)]) for i in keep]
        return out

    def total(self) -> int:
        return int(self._offsets[-1]) + sum(len(row) for row in self._rows)


@dataclass(frozen=True)
class Marked:
    """Text as the search shows it, not yet in any markup: ``pieces`` of (text, matched) in order, whitespace
    folded to single spaces; ``label`` names the field it comes from, when it is not the description.
    The chat renders it as Markdown, a web page as HTML."""

    pieces: tuple[tuple[str, bool], ...]
    label: str | None = None

    @property
    def text(self) -> str:
        return "".join(piece for piece, _ in self.pieces)


_SPACES = re.compile(r"\s+")


def _marked(text: str, marks: list[tuple[int, int]], start: int, end: int) -> Marked:
    """text[start:end] on one line, with the `marks` spans flagged as matched."""
    pieces: list[tuple[str, bool]] = []
    pos = start
    for a, b in marks:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        if a > pos:
            pieces.append((_SPACES.sub(" ", text[pos:a]), False))
        pieces.append((_SPACES.sub(" ", text[a:b]), True))
        pos = b
    if end > pos:
        pieces.append((_SPACES.sub(" ", text[pos:end]), False))
    return Marked(tuple(p for p in pieces if p[0]))


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _checked(file: "indexfile.IndexFile", name: str, rows: int, values: str) -> np.ndarray:
    """The offsets array `name` of `rows` rows into the array `values`, checked (so a slice is never wrong)."""
    offsets = file.array(name)
    if (len(offsets) != rows + 1 or (len(offsets) and offsets[0] != 0) or offsets[-1] != len(file.array(values))
            or (rows and np.any(np.diff(offsets) < 0))):
        raise IndexFileError(f"{file.path}: {name} is damaged")
    return offsets


@cache
def _code_digest() -> str:
    """The search's own code and the data it reads while indexing, for `SearchIndex.signature`."""
    from importlib.metadata import version

    digest = hashlib.sha1()
    here = Path(__file__).parent
    for name in ("index.py", "analyzer.py", "taxonomy.py"):
        digest.update((here / name).read_bytes())
    for package in ("simplemma", "babel"):
        digest.update(f"{package}={version(package)}".encode())
    return digest.hexdigest()


def _lexicon_digest(analyzer: Analyzer) -> str:
    return hashlib.sha1(json.dumps(sorted(analyzer._lexicon_source.items())).encode()).hexdigest()
