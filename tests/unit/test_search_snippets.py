"""Snippets and highlights: the matched words in bold, everything else literal text, even
when a record's author typed Markdown or HTML."""

import json
import re
from pathlib import Path

import pytest

from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from bot.reply import md_marked, md_snippet
from storage.search import SearchIndex, load_starter_archive

# As the reply layer renders (bot/reply.py): CommonMark, raw HTML off, tables, strikethrough.
RENDER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).render


@pytest.fixture(scope="module")
def index():
    index = SearchIndex()
    index.add_many(load_starter_archive())
    return index


def test_snippet_marks_the_words_that_matched_in_polish(index):
    docs = {d["id"]: d for d in load_starter_archive()}
    hit = index.search("opieka wytchnieniowa", limit=1).hits[0]
    snippet = md_snippet(index.snippet(docs[hit.id], hit.matched, "pl"))
    assert "**Opieka wytchnieniowa**" in snippet
    assert len(snippet) < 400


def test_snippet_marks_a_concept_matched_across_languages(index):
    docs = {d["id"]: d for d in load_starter_archive()}
    hit = next(h for h in index.search("bezdomność", limit=5).hits if h.id == "inn-019")
    snippet = md_snippet(index.snippet(docs["inn-019"], hit.matched, "pl"))
    assert re.search(r"\*\*homeless", snippet, re.I), snippet
    assert "<strong>" in RENDER(snippet)


def test_snippet_of_a_long_text_is_cut_around_the_first_match(index):
    doc = {"id": "long", "title_original": "X", "description_lang": "pl",
           "description": "Wstęp bez znaczenia. " * 30 + "Tu jest teleopieka dla seniorów. " + "Koniec tekstu. " * 30}
    snippet = md_snippet(index.snippet(doc, {"teleopiek"}, "pl", width=120))
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "**teleopieka**" in snippet and len(snippet) < 140


@pytest.mark.parametrize("title", [
    "<img src=x onerror=alert(1)>",
    "Dom *seniora* i _klub_ `kod` [link](javascript:alert(1))",
    "1. lista\n- punkt\n# nagłówek\n> cytat | tabela | ~~skreślenie~~",
])
def test_markup_typed_by_an_author_stays_literal(index, title):
    html = RENDER(md_marked(index.highlight(title, set(), "pl")))
    assert "<img" not in html and "<em>" not in html and "<a " not in html and "<code>" not in html
    assert "<li>" not in html and "<h1>" not in html and "<blockquote>" not in html and "<s>" not in html
    assert "<strong>" not in html


def test_highlight_marks_words_inside_markup_without_breaking_it(index):
    title = "Klub *seniora* <b>Senior+</b>"
    html = RENDER(md_marked(index.highlight(title, {"senior"}, "pl")))
    assert html.count("<strong>") == 2  # "seniora" and "Senior", each once
    assert "&lt;b&gt;" in html and "*" in html


def plain_text(html: str) -> str:
    text = re.sub(r"<[^>]+>", "", html)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
        text = text.replace(entity, char)
    return " ".join(text.split())


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=80))
def test_any_text_renders_as_itself(text):
    assert plain_text(RENDER(md_marked(_PLAIN.highlight(text, set(), "pl")))) == " ".join(text.split())


_PLAIN = SearchIndex()


# -- why a hit matched ----------------------------------------------------------------------------

def bold_terms(index, snippet: str) -> set[str]:
    """The index terms (keys in either language, concepts) of the words a snippet shows in bold."""
    terms = set()
    for run in re.findall(r"\*\*(.+?)\*\*", snippet):
        text = re.sub(r"\\(.)", r"\1", run)
        for lang in ("pl", "en"):
            pairs = index.analyzer.words(text, lang)
            terms |= {key for _, key in pairs}
            terms |= {concept for *_, concept in index.analyzer.concept_spans([[k] for _, k in pairs])}
    return terms


def judged_queries() -> list[str]:
    root = Path(__file__).resolve().parents[2]
    queries = [q["query"] for q in json.loads((root / "storage/search/data/relevance.json").read_text("utf-8"))["queries"]]
    return queries + [q["query"] for q in json.loads((root / "bench/data/cross_language.json").read_text("utf-8"))["queries"]]


@pytest.fixture(scope="module")
def bigger():
    """The starter archive and the cross-language benchmark's records."""
    root = Path(__file__).resolve().parents[2]
    docs = load_starter_archive() + json.loads((root / "bench/data/cross_language.json").read_text("utf-8"))["records"]
    index = SearchIndex()
    index.add_many(docs)
    return index, {d["id"]: d for d in docs}


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_every_hit_shows_in_bold_why_it_matched(bigger, lang):
    index, docs = bigger
    checked = 0
    for query in judged_queries() + ["Finlandia", "Deventer", "students", "nursing home", "POWER"]:
        for hit in index.search(query, limit=10).hits:
            snippet = md_snippet(index.snippet(docs[hit.id], hit.matched, lang))
            shown = bold_terms(index, snippet)
            for group in hit.matched.groups:  # each query word that matched, by any of its terms
                assert group & shown, (query, hit.id, sorted(group), snippet)
            checked += 1
    assert checked > 500


def test_a_match_only_in_a_taxonomy_label_is_shown_with_the_label(index):
    docs = {d["id"]: d for d in load_starter_archive()}
    hit = next(h for h in index.search("bezdomność", limit=10).hits if h.id == "inn-030")  # issue 13's #30
    assert "Obszary: mieszkalnictwo i **bezdomność**" in md_snippet(index.snippet(docs["inn-030"], hit.matched, "pl"))
    assert "Areas: housing and **homelessness**" in md_snippet(index.snippet(docs["inn-030"], hit.matched, "en"))


def test_matches_in_the_title_or_a_tag_are_shown_under_their_label():
    index = SearchIndex()
    doc = {"id": "t", "title_original": "Kawiarenka naprawcza", "original_language": "pl",
           "description": "Raz w miesiącu sąsiedzi przynoszą zepsute czajniki i lampy.", "description_lang": "pl",
           "tags": ["recykling"]}
    index.add(doc)
    hit = index.search("kawiarenka recykling").hits[0]
    snippet = md_snippet(index.snippet(doc, hit.matched, "pl"))
    assert snippet.startswith("Raz w miesiącu")
    assert "Tytuł: **Kawiarenka** naprawcza" in snippet and "Tagi: **recykling**" in snippet
    assert "Tags: **recykling**" in md_snippet(index.snippet(doc, hit.matched, "en"))
    assert "Etykiety: **recykling**" in md_snippet(index.snippet(doc, hit.matched, "pl", labels={"tags": "Etykiety"}))


@pytest.mark.parametrize("query, written, bold", [
    ("rodzinom", "Asystent pracuje z rodziną w jej domu.", "rodziną"),                      # a lemma
    ("homelessness", "Wsparcie dla osób w kryzysie bezdomności.", "kryzysie bezdomności"),  # a concept
    ("teleopeka", "Gmina dofinansowuje teleopiekę dla seniorów.", "teleopiekę"),          # a typo
    ("repair", "Kawiarenka naprawcza: sąsiedzi uczą się ratować zepsute sprzęty.", "naprawcza"),  # a translation
    ("4.1", "Inkubator z działania 4.1 programu.", "4\\.1"),                               # a number, whole
])
def test_the_word_of_the_record_that_matched_is_bold(query, written, bold):
    index = SearchIndex()
    doc = {"id": "d", "title_original": "Rozwiązanie", "original_language": "pl",
           "description": written, "description_lang": "pl"}
    index.add(doc)
    index.add({"id": "other", "title_original": "Inne", "description": "Budżet obywatelski.", "description_lang": "pl"})
    hit = index.search(query).hits[0]
    assert hit.id == "d"
    assert f"**{bold}**" in md_snippet(index.snippet(doc, hit.matched, "pl"))
