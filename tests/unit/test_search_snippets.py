"""Snippets and highlights: the matched words in bold, everything else literal text, even
when a record's author typed Markdown or HTML."""

import re

import pytest
from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from storage.search import SearchIndex, load_starter_archive, md_escape

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
    snippet = index.snippet(docs[hit.id], hit.matched, "pl")
    assert "**Opieka wytchnieniowa**" in snippet
    assert len(snippet) < 400


def test_snippet_marks_a_concept_matched_across_languages(index):
    docs = {d["id"]: d for d in load_starter_archive()}
    hit = next(h for h in index.search("bezdomność", limit=5).hits if h.id == "inn-019")
    snippet = index.snippet(docs["inn-019"], hit.matched, "pl")
    assert re.search(r"\*\*homeless", snippet, re.I), snippet
    assert "<strong>" in RENDER(snippet)


def test_snippet_of_a_long_text_is_cut_around_the_first_match(index):
    doc = {"id": "long", "title_original": "X", "description_lang": "pl",
           "description": "Wstęp bez znaczenia. " * 30 + "Tu jest teleopieka dla seniorów. " + "Koniec tekstu. " * 30}
    snippet = index.snippet(doc, {"teleopiek"}, "pl", width=120)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "**teleopieka**" in snippet and len(snippet) < 140


@pytest.mark.parametrize("title", [
    "<img src=x onerror=alert(1)>",
    "Dom *seniora* i _klub_ `kod` [link](javascript:alert(1))",
    "1. lista\n- punkt\n# nagłówek\n> cytat | tabela | ~~skreślenie~~",
])
def test_markup_typed_by_an_author_stays_literal(index, title):
    html = RENDER(index.highlight(title, set(), "pl"))
    assert "<img" not in html and "<em>" not in html and "<a " not in html and "<code>" not in html
    assert "<li>" not in html and "<h1>" not in html and "<blockquote>" not in html and "<s>" not in html
    assert "<strong>" not in html


def test_highlight_marks_words_inside_markup_without_breaking_it(index):
    title = "Klub *seniora* <b>Senior+</b>"
    html = RENDER(index.highlight(title, {"senior"}, "pl"))
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
    assert plain_text(RENDER(md_escape(text))) == " ".join(text.split())
