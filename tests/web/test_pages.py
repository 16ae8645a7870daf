"""The public pages over HTTP, as a visitor's browser gets them from the bot's own server on 127.0.0.1:
headers, languages, what a wrong query string gets, 404s, and that nothing private is ever on a page."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest

from bot.web.pages import MATRIX_ID, negotiate, safe_back
from tests.web.conftest import LEADER, NAMED, PENDING_WORD, PRIVATE_EMAIL, PUBLIC_EMAIL, XSS_TITLE, Site
from tests.web.site import ADMIN

PAGE_TYPES = {
    "home": "/",
    "search": "/?q=bezdomno%C5%9B%C4%87",
    "solution": "/solutions/19",
    "events": "/events",
    "calculator": "/calculator",
}


class Page(HTMLParser):
    """What a reader sees of an HTML page: its text, its links, its lang and the notices."""

    def __init__(self, html: str):
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.lang = None
        self.classes = ""
        self.notices: list[str] = []
        self.h1 = ""
        self._in: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang, self.classes = attrs.get("lang"), attrs.get("class") or ""
        if tag in ("a", "link") and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("style", "script", "head"):
            self._skip += 1
        self._in.append("notice" if "notice" in (attrs.get("class") or "").split() else tag)

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head"):
            self._skip -= 1
        if self._in:
            self._in.pop()

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if "notice" in self._in:
            self.notices.append(" ".join(data.split()))
        if "h1" in self._in:
            self.h1 += data

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def page(site: Site, path: str, **headers: str) -> tuple[int, Page, object]:
    response = site.get(path, headers=headers)
    return response.status, Page(response.text), response


# ----- headers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_every_page_has_the_security_and_caching_headers(site, kind):
    response = site.get(PAGE_TYPES[kind])
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'none'" in csp and "style-src 'self'" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    etag = response.headers["ETag"]
    assert "Accept-Language" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]
    again = site.get(PAGE_TYPES[kind], headers={"If-None-Match": etag})
    assert again.status == 304 and again.raw == b""
    assert again.headers["ETag"] == etag


def test_no_inline_style_or_script_anywhere(site):
    for path in PAGE_TYPES.values():
        html = site.get(path).text
        assert "<script" not in html and " style=" not in html and "<style" not in html, path
        assert re.search(r'<link rel="stylesheet" href="/static/site\.css\?v=[0-9a-f]{12}">', html), path


def test_pages_are_gzipped_for_clients_that_accept_it(site):
    plain = site.get("/calculator")
    zipped = site.get("/calculator", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.raw) == plain.body and len(zipped.raw) < len(plain.body) / 3
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    # Either validator revalidates either form.
    assert site.get("/calculator", headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}).status == 304
    assert site.get("/calculator", headers={"If-None-Match": zipped.headers["ETag"]}).status == 304
    refused = site.get("/calculator", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_the_stylesheet_is_cached_under_its_versioned_link(site):
    html = site.get("/").text
    link = re.search(r'href="(/static/site\.css\?v=[0-9a-f]+)"', html).group(1)
    css = site.get(link, headers={"Accept-Encoding": "gzip"})
    assert css.status == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert css.headers["Content-Encoding"] == "gzip" and b"@media print" in css.body
    assert b"contrast-high" in css.body and b"text-larger" in css.body
    assert site.get("/static/site.css").headers["Cache-Control"] == "no-cache"  # an old or missing version
    assert site.get("/static/nothing.css").status == 404
    assert site.get("/static/..%2Fpages.py").status == 404


def test_health_and_feed_keep_their_content_types_and_get_the_headers_too(site):
    feed = site.get("/events.ics")
    assert feed.status == 200 and feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert feed.headers["X-Content-Type-Options"] == "nosniff"
    assert site.get("/healthz").headers["Referrer-Policy"] == "same-origin"


# ----- languages -------------------------------------------------------------------------------

def test_language_negotiation_rules():
    assert negotiate("en", "pl", "pl") == ("en", None)
    assert negotiate(None, "en-GB,en;q=0.9,pl;q=0.8", "pl") == ("en", None)
    assert negotiate(None, "de-DE, pl;q=0.5, en;q=0.4", "en") == ("pl", None)
    assert negotiate(None, "pl;q=0.2, en-US;q=0.8", "pl") == ("en", None)
    assert negotiate(None, "en;q=0, fr", "pl") == ("pl", None)  # q=0: not English
    assert negotiate(None, "de, fr", "en") == ("en", None)
    assert negotiate(None, "", "pl") == ("pl", None)
    assert negotiate(None, "pl;q=abc, en", "pl") == ("en", None)
    assert negotiate("DE", "en", "pl") == ("en", "DE")


def test_the_page_is_in_the_language_asked_for_and_links_keep_it(site):
    _, polish, _ = page(site, "/")
    assert polish.lang == "pl" and "Archiwum rozwiązań" in polish.h1  # the bot's default
    _, english, response = page(site, "/", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert english.lang == "en" and english.h1 == "Archive of solutions"
    assert response.headers["Content-Language"] == "en"
    _, chosen, _ = page(site, "/?lang=en", **{"Accept-Language": "pl"})
    assert chosen.lang == "en"
    internal = [link for link in chosen.links if link.startswith("/") and not link.startswith(("/static", "/events.ics",
                                                                                                 "/settings"))]
    assert internal and all("lang=en" in link or "lang=pl" in link for link in internal)
    # The switch: each language once, in its own name, to the same page.
    assert "/?lang=pl" in chosen.links and "Polski" in chosen.words and "English" in chosen.words


def test_a_language_that_is_not_there_is_said_so(site):
    status, shown, _ = page(site, "/solutions/19?lang=de", **{"Accept-Language": "en"})
    assert status == 200 and shown.lang == "en"
    assert shown.notices == ["There is no language “de” here: this page is in English."]


def test_every_page_type_has_a_canonical_url_with_its_parameters(site):
    for path in PAGE_TYPES.values():
        html = site.get(path).text
        canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)
        assert canonical.startswith(site.public_url + urlsplit(path).path) and "lang=pl" in canonical, canonical
    html = site.get("/?lang=en&page=1&area=housing&q=%20homeless%20&utm_source=x").text
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)
    assert canonical == f"{site.public_url}/?q=homeless&amp;area=housing&amp;lang=en"


# ----- search ----------------------------------------------------------------------------------

def test_a_search_finds_what_the_chat_finds_ten_a_page(site):
    _, shown, _ = page(site, "/?q=bezdomnosc")  # without the diacritics
    chat = site.say("!szukaj bezdomnosc")
    first = re.search(r"#(\d+)", chat.split("\n", 1)[1]).group(1)
    results = [link for link in shown.links if re.match(r"/solutions/\d+\?lang=pl$", link)]
    assert results[0] == f"/solutions/{first}?lang=pl"
    assert "6 rozwiązań dla „bezdomnosc”" in shown.words
    _, everything, _ = page(site, "/?lang=en")
    listed = [link for link in everything.links if re.match(r"/solutions/\d+\?lang=en$", link)]
    assert len(listed) == 10 and "All 39 published solutions" in everything.words and "page 1 of 4" in everything.words
    _, last, _ = page(site, "/?lang=en&page=4")
    assert len([link for link in last.links if re.match(r"/solutions/\d+\?lang=en$", link)]) == 9


def test_facets_count_and_filter(site):
    _, shown, _ = page(site, "/?lang=en&q=homelessness")
    facet = re.search(r"housing and homelessness \((\d+)\)", shown.words)
    assert facet, shown.words
    link = next(link for link in shown.links if "area=housing" in link)
    _, narrowed, _ = page(site, link)
    assert f"{facet.group(1)} solutions for “homelessness”" in narrowed.words or (
        facet.group(1) == "1" and "1 solution for" in narrowed.words)
    assert "Filters in use: Area: housing and homelessness — remove this filter" in narrowed.words
    _, region, _ = page(site, "/?lang=en&region=mazowieckie")
    assert "1 solution with these filters" in region.words and "Repair café in the library" in region.words


def test_a_result_says_its_region_or_else_its_country(site):
    _, english, _ = page(site, "/?lang=en&q=" + quote("Housing First Finland"))
    assert "Country: Finland" in english.words
    _, polish, _ = page(site, "/?lang=pl&q=" + quote("Housing First Finlandia"))
    assert "Kraj: Finlandia" in polish.words and "Country" not in polish.words
    _, regional, _ = page(site, "/?lang=en&q=Hogeweyk")
    assert "Region: Noord-Holland" in regional.words and "Country: Netherlands" not in regional.words


BAD_QUERIES = [
    ("/?q=seniorzy&area=qqqqqqqq", "There is no area “qqqqqqqq”, so this filter is left out."),
    ("/?q=seniorzy&page=-1", "“-1” is not a page number (1, 2, 3…): showing the first page."),
    ("/?q=seniorzy&page=abc", "“abc” is not a page number (1, 2, 3…): showing the first page."),
    ("/?q=seniorzy&page=99999999999999999999", "“99999999999999999999” is not a page number (1, 2, 3…): showing the first page."),
    ("/?q=seniorzy&page=400", "There are only 2 pages of results: showing the last one."),
    ("/?q=" + "a" * 10_000, "Your search is 10,000 characters long; at most 200 can be searched. Please shorten it."),
    ("/?region=Atlantis", "There is no region “Atlantis”, so this filter is left out."),
    ("/?group=senoirs", "There is no target group “senoirs”, so this filter is left out. Closest: older people."),
    ("/?q=housing%20grupa:nikt", "The search does not know “nikt” (group); it searched without it."),
]


@pytest.mark.parametrize("path, notice", BAD_QUERIES, ids=[p[:40] for p, _ in BAD_QUERIES])
def test_a_wrong_query_string_gets_a_normal_page_that_says_what_was_wrong(site, path, notice):
    status, shown, _ = page(site, path + "&lang=en" if "?" in path else path + "?lang=en")
    assert status == 200 and shown.h1 == "Archive of solutions"
    assert notice in shown.notices, shown.notices


def test_odd_input_never_breaks_a_page(site):
    for path in ("/?q=%00%01", "/?q=%22%27%3C%3E", "/?q=group:", "/?q=%F0%9F%98%80", "/?area=&group=&page=",
                 "/?q=x&q=y&area=housing&area=housing", "/?stage=" + "x" * 5000, "/?q=" + quote("ż" * 199),
                 "/?lang=" + "x" * 3000, "/?q=a+b+c+d+e+f+g+h+i+j+k+l+m+n+o+p+r+s+t+u+w+y+z" * 3):
        response = site.get(path)
        assert response.status == 200, path
        assert "<h1>" in response.text


def test_nothing_found_offers_a_respelling(site):
    _, shown, _ = page(site, "/?lang=en&q=" + quote("bezdomnośc hosuing"))
    assert shown.words  # a normal page
    _, none, _ = page(site, "/?lang=en&q=qqqqqqqq")
    assert "Nothing found for “qqqqqqqq”." in none.words


# ----- 404 ------------------------------------------------------------------------------------

def test_unknown_and_unpublished_solutions_are_the_same_404(seeded):
    site = seeded.site
    for ref in ("99999", "abc", str(seeded.pending), "0", "-1", "x" * 400):
        status, shown, _ = page(site, f"/solutions/{ref}?lang=en")
        assert status == 404 and shown.h1 == "Page not found", ref
        assert PENDING_WORD not in shown.words
    status, shown, response = page(site, "/nothing/here")
    assert status == 404 and shown.lang == "pl" and shown.h1 == "Nie ma takiej strony"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert site.get("/events/999.ics").status == 404
    assert site.get(f"/events/{seeded.events['draft']}.ics").status == 404  # a draft is not published


def test_a_record_id_leads_to_the_solutions_number(site):
    response = site.get("/solutions/inn-019?lang=en")
    if response.status == 404:  # the starter archive's ids
        pytest.fail("inn-019 is not in the starter archive")
    assert response.status == 301 and re.fullmatch(r"/solutions/\d+\?lang=en", response.headers["Location"])


def test_one_events_calendar_file(seeded):
    response = seeded.site.get(f"/events/{seeded.events['warsaw']}.ics")
    assert response.status == 200 and response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"SUMMARY:Housing First training" in response.body and b"TZID=Europe/Warsaw" in response.body
    assert seeded.site.get(f"/events/{seeded.events['warsaw']}.ics",
                           headers={"If-None-Match": response.headers["ETag"]}).status == 304


# ----- a solution ------------------------------------------------------------------------------

def test_a_solution_page_shows_the_solution_in_full(seeded):
    site = seeded.site
    html = site.get(f"/solutions/{seeded.repair}?lang=en").text
    shown = Page(html)
    words = shown.words
    assert shown.h1 == "Repair café in the library"
    assert words.count("volunteers repair them") == 1  # not once more as a description made of the two
    for heading, text in (("Problem", "broken things end up in the bin"),
                          ("How it works", "volunteers repair them with residents every month"),
                          ("Results", "about 30 things a month are saved from the bin")):
        assert f"{heading} {text}" in words, heading
    assert re.search(r"Stage tested .* Region mazowieckie", words) and "Cost PLN 2,400" in words, words
    assert re.search(r"Stage history \w+ \d+, \d{4}: tested — shared in the network", words), words
    assert '<a href="https://example.org/repair-cafe" rel="noopener noreferrer">' in html  # a source, linked
    finland = Page(site.get("/solutions/19?lang=en").text)
    assert "Evidence level 4/5 — an independent evaluation with costs, or a replication" in finland.words
    assert "https://ysaatio.fi/en/" in finland.links
    polish = Page(site.get("/solutions/19?lang=pl").text)
    assert polish.lang == "pl" and "Siła dowodów 4/5" in polish.words


# ----- events and calculator --------------------------------------------------------------------

def test_the_events_page_lists_the_confirmed_events_soonest_first_in_their_own_zones(seeded):
    site, numbers = seeded.site, seeded.events
    html = site.get("/events?lang=en").text
    shown = Page(html)
    words = shown.words
    assert shown.h1 == "Events of the network"
    assert words.index("Study visit to New York") < words.index("Housing First training")  # in 4 days, in 9
    assert re.search(r"Study visit to New York When \w+ \d+ \w+ \d{4}, 09:00 , until 11:00 "
                     r"\(time zone America/New_York\)", words), words
    assert re.search(r"Housing First training When \w+ \d+ \w+ \d{4}, 10:00 , until 12:30 "
                     r"\(time zone Europe/Warsaw\) Place Warsaw, Nowogrodzka 1", words), words
    assert "Bring <strong>your</strong> questions." in html  # the organiser's Markdown
    assert "Secret draft meeting" not in html
    for key in ("warsaw", "newyork"):
        assert f"/events/{numbers[key]}.ics" in shown.links
        assert site.get(f"/events/{numbers[key]}.ics").headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert f"/events/{numbers['draft']}.ics" not in shown.links
    polish = Page(site.get("/events?lang=pl").text)
    assert polish.h1 == "Wydarzenia sieci" and "(strefa czasowa America/New_York)" in polish.words


def test_the_calculator_page_shows_every_model_with_its_defaults_and_the_source_of_every_unit_cost(site):
    from commands.calculator.models import MODELS

    for lang in ("en", "pl"):
        html = site.get(f"/calculator?lang={lang}").text
        words = Page(html).words
        sources = re.findall(r"<dt>(?:Source|Źródło)</dt><dd>(.*?)</dd>", html, re.DOTALL)
        costs = [key for model in MODELS.values() for key in (*model.costs, *model.programme_costs)]
        assert len(sources) == len(costs) and all(len(source.strip()) > 20 for source in sources)
        for model in MODELS.values():
            assert f"{model.name[lang]} ({model.id})" in words
            for key in (*model.costs, *model.programme_costs, *model.start, *model.transitions):
                assert f"({key})" in words, (model.id, key)
    english = Page(site.get("/calculator?lang=en").text).words
    assert "long-term unemployed — 20 people at the start (start.U)" in english
    assert "Horizon 7 years (horizon) Discount rate 3.5% (discount_rate)" in english
    assert "Kalkulator kosztów zaniechania" in Page(site.get("/calculator?lang=pl").text).h1


# ----- nothing private ------------------------------------------------------------------------

def _every_page(site: Site) -> dict[str, str]:
    """Every page a visitor can reach by following links from /, in both languages (solutions included)."""
    seen: dict[str, str] = {}
    todo = ["/?lang=pl", "/?lang=en", "/events?lang=en", "/calculator?lang=pl"]
    todo += [f"/?lang=en&page={n}" for n in range(2, 5)]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        response = site.get(path)
        seen[path] = response.text
        for link in Page(response.text).links:
            if re.fullmatch(r"/solutions/\d+\?lang=(pl|en)", link) and link not in seen:
                todo.append(link)
    return seen


def test_nothing_private_is_on_any_page(seeded):
    pages = _every_page(seeded.site)
    assert len([p for p in pages if p.startswith("/solutions/")]) >= 2 * 39
    for path, html in pages.items():
        text = Page(html).words
        assert not MATRIX_ID.search(html), (path, MATRIX_ID.search(html).group(0))
        for private in (PENDING_WORD, PRIVATE_EMAIL, "Secret draft meeting", "!console", "moderation", "decisions",
                        ADMIN, LEADER, NAMED):
            assert private not in html, (path, private)
        assert "<img" not in html and XSS_TITLE not in html  # shown, escaped, as text only
        assert text
    repair = Page(pages[f"/solutions/{seeded.repair}?lang=en"]).words
    assert "ask @… for the details. — A leader of the network," in repair
    assert "In Płock it brings 40 residents a month. — Beata Nowak," in repair
    fridge = Page(pages[f"/solutions/{seeded.fridge}?lang=en"]).words
    assert f"Contact {PUBLIC_EMAIL}" in fridge


def test_the_pending_solution_is_found_by_no_search(seeded):
    for query in (PENDING_WORD, f"{PENDING_WORD}&area=housing", PENDING_WORD.lower()):
        _, shown, _ = page(seeded.site, f"/?lang=en&q={query}")
        assert f"Nothing found for “{query.split('&')[0]}”." in shown.words
        assert not any(link.startswith(f"/solutions/{seeded.pending}?") for link in shown.links)
    _, cafe, _ = page(seeded.site, "/?lang=en&q=Pending+caf%C3%A9")
    assert not any(link.startswith(f"/solutions/{seeded.pending}?") for link in cafe.links)
    # It is in the archive, waiting: the moderators' queue has it.
    assert PENDING_WORD in seeded.site.say("!mod queue")


# ----- display settings -----------------------------------------------------------------------

def test_contrast_and_text_size_are_links_that_set_a_cookie(site):
    _, shown, _ = page(site, "/solutions/19?lang=en")
    link = next(link for link in shown.links if link.startswith("/settings?contrast=high"))
    response = site.get(link)
    assert response.status == 303 and response.headers["Location"] == "/solutions/19?lang=en"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lh_contrast=high;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    _, high, _ = page(site, "/solutions/19?lang=en", Cookie="lh_contrast=high; lh_text=larger")
    assert high.classes == "contrast-high text-larger"
    _, ignored, _ = page(site, "/solutions/19?lang=en", Cookie="lh_contrast=%3Cscript%3E; lh_text=huge")
    assert ignored.classes == ""
    for back in ("//evil.example/x", "https://evil.example", "/\\evil.example", None):
        query = f"text=large&back={quote(back)}" if back else "text=large"
        assert site.get(f"/settings?{query}").headers["Location"] == "/", back


def test_safe_back_keeps_only_paths_of_this_site():
    assert safe_back("/?q=a&lang=en") == "/?q=a&lang=en"
    assert safe_back("//evil") == safe_back("http://evil") == safe_back("/x\r\nSet-Cookie: a") == "/"
