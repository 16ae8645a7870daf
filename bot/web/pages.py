"""What every public page shares: the Jinja2 environment (the runtime's base templates and each feature's
own, named ``<feature>/<file>``), the reader's language and display settings, links, and the response.

A feature's route makes a ``Page`` for the request and renders its template with its data::

    @commands.route("/events")
    async def events_page(hub, request):
        page = Page.of(hub, request)
        ...
        return page.render("events/list.html", title=page.t("events.web.title"), events=upcoming)

Language: ``?lang=pl|en``, else the first of ``Accept-Language`` the hub speaks, else the bot's default;
every link a page makes carries it, so a reader stays in the language they chose. Display: a high-contrast
mode and a larger text, set by plain links to ``/settings`` (a cookie; no JavaScript), shown as classes on
``<html>``. Links are made under the path of ``[http] public_url``, so the pages work behind a reverse proxy
that serves them under a prefix (``https://example.org/hub/``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from bot.i18n import LANGUAGES, number

if TYPE_CHECKING:
    from jinja2 import Environment

    from bot.app import Hub

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PAGES_KEY = web.AppKey("pages", object)

# Display settings: cookie name → the values it may take (the first is the default, which sets no class).
CONTRAST_COOKIE, TEXT_COOKIE = "lh_contrast", "lh_text"
CONTRASTS = ("normal", "high")
TEXT_SIZES = ("normal", "large", "larger")
COOKIE_AGE = 365 * 86400

# A Matrix user id (``@ala:example.org``): never on a public page, whatever text it hides in.
MATRIX_ID = re.compile(r"(?<![\w.+-])@[a-z0-9._=/+-]+:[a-z0-9.-]+(?::\d+)?(?![\w-])", re.IGNORECASE)


def public_text(text: Any) -> str:
    """User text as a public page may show it: Matrix user ids left out (``@…``)."""
    return MATRIX_ID.sub("@…", str(text or ""))


def negotiate(query_lang: str | None, accept_language: str | None, default: str) -> tuple[str, str | None]:
    """The page's language, and the ``?lang`` value that was refused (None when there was nothing wrong).

    ``Accept-Language`` is read by its q-values (``pl;q=0.5, en-GB;q=0.8`` prefers English); a language with
    ``q=0`` is refused; the first one the hub speaks wins, by its primary subtag (``en-GB`` is ``en``)."""
    refused = None
    if query_lang is not None:
        wanted = query_lang.strip().lower()
        if wanted in LANGUAGES:
            return wanted, None
        refused = query_lang
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([^\s;,]*)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    if ranked:
        return min(ranked)[2], refused
    return (default if default in LANGUAGES else LANGUAGES[0]), refused


def safe_back(target: str | None) -> str:
    """Where ``/settings`` sends the reader back to: a path of this site, never another site (``//evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(
            c in target for c in "\r\n\\"):
        return "/"
    return target


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    version: str  # a hash of the body: the ``?v=`` of its links, so a changed file is fetched again


class Pages:
    """The web face's shared parts for one application: templates and static files (read once).

    The Jinja2 environment is made at the first page rendered, not at the start: a bot whose pages nobody
    reads (most of its life, and every standby) does not hold Jinja2 in its memory (bench/memory.py --live)."""

    def __init__(self, hub: "Hub"):
        self._features = list(hub.features)
        self.static: dict[str, StaticFile] = {}
        for path in sorted(STATIC.iterdir()):
            if path.suffix in (".css",):
                body = path.read_bytes()
                self.static[path.name] = StaticFile(body, "text/css; charset=utf-8",
                                                    hashlib.sha256(body).hexdigest()[:12])

    @functools.cached_property
    def env(self) -> "Environment":
        """The templates: the runtime's, and each feature's under ``<feature>/``; autoescaped."""
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined

        features = {feature.feature: FileSystemLoader(str(feature.templates))
                    for feature in self._features if getattr(feature, "templates", None)}
        env = Environment(loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), PrefixLoader(features)]),
                          autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.filters["public"] = public_text
        return env


def base_path(public_url: str | None) -> str:
    """The path the proxy serves the pages under (``/hub`` of ``https://example.org/hub/``), or ``""``."""
    return urlsplit(public_url).path.rstrip("/") if public_url else ""


def public_page(config: Any, path: str, lang: str | None = None, anchor: str | None = None) -> str | None:
    """A page's address as readers reach it (from ``[http] public_url``), for the chat to link to; None when
    ``public_url`` is not set (the bot cannot know where its readers reach it)."""
    public_url = config["http"]["public_url"]
    if not public_url:
        return None
    url = public_url.rstrip("/") + path + (f"?{urlencode({'lang': lang})}" if lang else "")
    return url + (f"#{anchor}" if anchor else "")


@dataclass
class Page:
    """One page being made for one request: its language, display settings, notices and links."""

    hub: "Hub"
    request: web.Request
    lang: str
    contrast: str = "normal"
    text_size: str = "normal"
    notices: list[str] = field(default_factory=list)  # what was wrong with the request, in the reader's words
    path: str = "/"
    params: dict[str, Any] = field(default_factory=dict)  # the page's own query parameters, as it understood them

    @classmethod
    def of(cls, hub: "Hub", request: web.Request) -> "Page":
        lang, refused = negotiate(request.query.get("lang"), request.headers.get("Accept-Language"),
                                  hub.config.language)
        contrast = request.cookies.get(CONTRAST_COOKIE, "normal")
        text_size = request.cookies.get(TEXT_COOKIE, "normal")
        page = cls(hub, request, lang, contrast if contrast in CONTRASTS else "normal",
                   text_size if text_size in TEXT_SIZES else "normal", path=request.path)
        if refused is not None:
            page.notices.append(page.t("web.notice.bad_lang", value=clip(refused), shown=page.t(f"web.lang.{lang}")))
        return page

    # ----- words and numbers in the reader's language -----------------------------------------

    def t(self, key: str, /, **params: Any) -> str:
        return self.hub.translator(self.lang, key, **params)

    def number(self, value: Any, fmt: str = "#,##0.##") -> str:
        return number(value, self.lang, fmt)

    def date(self, value: date | datetime | str, fmt: str = "long") -> str:
        """A date as the reader's locale writes it; a text that is not an ISO date is shown as written."""
        from babel.dates import format_date

        if isinstance(value, str):
            try:
                day = date.fromisoformat(value[:10])
            except ValueError:
                return value  # "2024", "spring 2023"
            return format_date(day, fmt, locale=self.lang)
        return format_date(value, fmt, locale=self.lang)

    def other_lang(self, text_lang: str | None) -> str | None:
        """The ``lang`` attribute for a text in another language than the page's (WCAG 3.1.2), else None."""
        return text_lang if text_lang and text_lang != self.lang and re.fullmatch(r"[a-z]{2,3}", text_lang) else None

    # ----- links ------------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return base_path(self.hub.config["http"]["public_url"])

    def url(self, path: str, /, lang: str | None = None, anchor: str | None = None, **params: Any) -> str:
        """A link to a page of this site, in the page's language (or ``lang``): ``/solutions/5?lang=en``.
        Parameters that are None or empty are left out; a list gives the parameter once per value."""
        pairs: list[tuple[str, str]] = []
        for key, value in params.items():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if item is not None and item != "":
                    pairs.append((key, str(item)))
        pairs.append(("lang", lang or self.lang))
        return f"{self.base}{path}?{urlencode(pairs)}" + (f"#{anchor}" if anchor else "")

    def here(self, lang: str | None = None, **changes: Any) -> str:
        """This page with some of its parameters changed (``page.here(page=2)``, ``page.here(area=None)``)."""
        return self.url(self.path, lang=lang, **{**self.params, **changes})

    @property
    def canonical(self) -> str:
        """The page's one address: ``[http] public_url`` (or the address it was asked at) and the parameters
        the page understood, in a fixed order."""
        public_url = self.hub.config["http"]["public_url"]
        if public_url:
            parts = urlsplit(public_url)
            return f"{parts.scheme}://{parts.netloc}" + self.here()
        return f"{self.request.scheme}://{self.request.host}" + self.here()

    def static(self, name: str) -> str:
        pages: Pages = self.request.app[PAGES_KEY]  # type: ignore[assignment]
        return f"{self.base}/static/{name}?v={pages.static[name].version}"

    def settings(self, **choice: str) -> str:
        """The link that sets a display setting and comes back here."""
        back = self.here()[len(self.base):]
        return f"{self.base}/settings?{urlencode({**choice, 'back': back})}"

    @property
    def classes(self) -> str:
        shown = []
        if self.contrast != "normal":
            shown.append(f"contrast-{self.contrast}")
        if self.text_size != "normal":
            shown.append(f"text-{self.text_size}")
        return " ".join(shown)

    # ----- the response -----------------------------------------------------------------------

    def render(self, template: str, /, status: int = 200, title: str = "", **context: Any) -> web.Response:
        from bot.web import revalidated  # the runtime's validators (ETag, 304)

        pages: Pages = self.request.app[PAGES_KEY]  # type: ignore[assignment]
        body = pages.env.get_template(template).render(page=self, title=title, **context).encode("utf-8")
        if status == 200:
            response = revalidated(self.request, body, "text/html; charset=utf-8")
        else:
            response = web.Response(status=status, body=body, content_type="text/html", charset="utf-8",
                                    headers={"Cache-Control": "no-cache"})
        response.headers["Vary"] = "Accept-Language, Cookie"
        response.headers["Content-Language"] = self.lang
        return response


def clip(text: str, limit: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def add_messages(command_set: Any, catalogue: Mapping[str, Mapping[str, Any]]) -> None:
    """A feature's page words, added to its catalogue (registered with it when the hub is made)."""
    for lang, entries in catalogue.items():
        command_set.catalogue.setdefault(lang, {}).update(entries)


def pairs_of(query: Mapping[str, str], keys: Iterable[str]) -> dict[str, list[str]]:
    """Every value of each of ``keys`` in a query string (``?area=a&area=b``), blanks left out."""
    getall = getattr(query, "getall", None)
    out: dict[str, list[str]] = {}
    for key in keys:
        values = getall(key, []) if getall else ([query[key]] if key in query else [])
        values = [v.strip() for v in values if v and v.strip()]
        if values:
            out[key] = values
    return out
