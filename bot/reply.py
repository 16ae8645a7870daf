"""What the bot says: Markdown rendered to sanitised HTML plus a plain body.

markdown-it-py renders (raw HTML off, so user text can never become markup),
nh3 sanitises to the tags the Matrix spec allows, and the plain body is the
text of that HTML. User text goes into Markdown through ``md_escape``.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable(["table", "strikethrough"])

# The tags and attributes the Matrix client-server spec lists for org.matrix.custom.html.
ALLOWED_TAGS = {
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub",
    "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div", "table", "thead", "tbody", "tr",
    "th", "td", "caption", "pre", "span", "img", "details", "summary",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "target"},
    "img": {"width", "height", "alt", "title", "src"},
    "ol": {"start"},
    "code": {"class"},
    "span": {"data-mx-color", "data-mx-bg-color", "data-mx-spoiler"},
    "font": {"data-mx-color", "data-mx-bg-color", "color"},
}
URL_SCHEMES = {"https", "http", "mailto", "mxc", "matrix", "ftp", "magnet"}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&=])")


_LINE_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def md_escape(text: Any) -> str:
    """Make any user text literal inside Markdown (no emphasis, links, HTML, lists or code blocks)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")  # CommonMark ends lines at \r too
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # Indentation would start a code block: keep it visible as no-break spaces.
    text = _LINE_INDENT.sub(lambda m: "\u00a0" * len(m.group().expandtabs(4)), text)
    return text.replace("\n", "  \n")


CLIP = 60  # characters of a user's name or value echoed in a reply


def clip(text: Any, limit: int = CLIP) -> str:
    """A user's text cut to about ``limit`` characters (with …), for echoing it in a reply."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def md_code(text: Any) -> str:
    """Inline code that survives backticks inside the text."""
    text = str(text).replace("\n", " ")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


class _TextExtractor(HTMLParser):
    BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr", "ul", "ol", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: list[str | None] = []
        self._link_text: list[list[str]] = []
        self._ol_counter: list[int | None] = []
        self._after_br = False
        self._fresh_item = False  # just wrote a list marker: a <p> inside the item stays on its line

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._after_br = tag == "br"
        if tag == "br":
            self.parts.append("\n")
        elif tag in ("ul", "ol"):
            self._newline()
            self._ol_counter.append(int(attrs.get("start") or 1) if tag == "ol" else None)
        elif tag == "li":
            self._newline()
            counter = self._ol_counter[-1] if self._ol_counter else None
            self.parts.append("  " * max(0, len(self._ol_counter) - 1))  # nested lists stay nested
            if counter is None:
                self.parts.append("• ")
            else:
                self.parts.append(f"{counter}. ")
                self._ol_counter[-1] = counter + 1
        elif tag == "a":
            self._href.append(attrs.get("href"))
            self._link_text.append([])
        elif tag == "img":
            self.parts.append(attrs.get("alt") or "")
        elif tag in ("td", "th"):
            self.parts.append(" | " if self.parts and not self.parts[-1].endswith("\n") else "")
        elif tag in self.BLOCK and not (tag == "p" and self._fresh_item):
            self._newline()
        self._fresh_item = tag == "li"

    def handle_endtag(self, tag):
        self._after_br = False
        if tag in ("ul", "ol") and self._ol_counter:
            self._ol_counter.pop()
            self._newline()
            if not self._ol_counter:
                self.parts.append("\n")  # a blank line after a list, as after a paragraph
        elif tag == "a" and self._href:
            href, text = self._href.pop(), "".join(self._link_text.pop())
            if href and href != text and not href.startswith("mailto:"):
                self.parts.append(f" ({href})")
        elif tag in self.BLOCK or tag == "li":
            self._newline()
            if tag in ("p", "table", "pre", "h1", "h2", "h3", "h4", "h5", "h6"):
                self.parts.append("\n")

    def handle_data(self, data):
        if self._after_br and data.startswith("\n"):
            data = data[1:]  # the renderer writes "<br>\n": one line break, not two
        self._after_br = False
        if data.strip():
            self._fresh_item = False
        if not data or ("\n" in data and not data.strip()):
            return  # the renderer's line breaks between block tags
        self.parts.append(data)
        for text in self._link_text:
            text.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def _spec_attribute(tag: str, attribute: str, value: str) -> str | None:
    # nh3 also lets the generic ``title`` and ``lang`` through; the spec lists attributes per tag.
    return value if attribute in ALLOWED_ATTRIBUTES.get(tag, ()) else None


_CLEANER = nh3.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None,
                       attribute_filter=_spec_attribute)  # built once: nh3.clean builds its rules on every call


def sanitize_html(html: str) -> str:
    """Only the tags, attributes and URL schemes the Matrix spec allows for ``org.matrix.custom.html``."""
    return _CLEANER.clean(html)


def render_markdown(markdown: str) -> tuple[str, str]:
    """``(plain, html)`` for a Markdown text."""
    html = sanitize_html(_md.render(markdown)).strip()
    # One paragraph needs no <p> wrapper: clients show it tighter.
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html_to_text(html), html


@dataclass
class Outgoing:
    """One message the bot will send: Markdown text, or an image/file with a caption."""

    markdown: str = ""
    kind: str = "text"  # text | image | file
    data: bytes | None = None
    filename: str | None = None
    mimetype: str | None = None
    mentions: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # extra content keys (e.g. the ping's "pong")
    room_id: str | None = None  # None: the room of the command

    def to_json(self) -> dict[str, Any]:
        import base64

        out = {"markdown": self.markdown, "kind": self.kind, "mentions": self.mentions, "extra": self.extra}
        if self.data is not None:
            out["data"] = base64.b64encode(self.data).decode()
            out["filename"] = self.filename
            out["mimetype"] = self.mimetype
        if self.room_id:
            out["room_id"] = self.room_id
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> "Outgoing":
        import base64

        data = base64.b64decode(value["data"]) if value.get("data") is not None else None
        return cls(
            markdown=value.get("markdown", ""), kind=value.get("kind", "text"), data=data,
            filename=value.get("filename"), mimetype=value.get("mimetype"),
            mentions=list(value.get("mentions", [])), extra=dict(value.get("extra", {})),
            room_id=value.get("room_id"),
        )


def relation(reply_to: str | None, thread_root: str | None) -> dict[str, Any]:
    """``m.relates_to`` for a reply, inside the thread when the command came from one."""
    if thread_root:
        rel: dict[str, Any] = {"rel_type": "m.thread", "event_id": thread_root, "is_falling_back": False}
        if reply_to:
            rel["m.in_reply_to"] = {"event_id": reply_to}
        return rel
    if reply_to:
        return {"m.in_reply_to": {"event_id": reply_to}}
    return {}


def text_content(message: Outgoing, reply_to: str | None = None, thread_root: str | None = None,
                 reply_sender: str | None = None) -> dict[str, Any]:
    plain, html = render_markdown(message.markdown)
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": plain,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
    }
    address(content, message.mentions, reply_to, thread_root, reply_sender)
    content.update(message.extra)
    return content


def address(content: dict[str, Any], mentions: list[str], reply_to: str | None = None,
            thread_root: str | None = None, reply_sender: str | None = None) -> dict[str, Any]:
    """Add the explicit ``m.mentions`` and the reply/thread relation to any message content."""
    users = list(dict.fromkeys(mentions + ([reply_sender] if reply_sender else [])))
    content["m.mentions"] = {"user_ids": users} if users else {}
    rel = relation(reply_to, thread_root)
    if rel:
        content["m.relates_to"] = rel
    return content


def strip_reply_fallback(body: str) -> str:
    """Drop the legacy ``> <@user> quoted text`` block that old clients put before a reply."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and lines[0].strip() == "":
        lines.pop(0)
    return "\n".join(lines)


def escape_html(text: str) -> str:
    return html_lib.escape(text)
