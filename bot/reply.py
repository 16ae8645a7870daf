"""What the bot says: Markdown rendered to sanitised HTML plus a plain body.

markdown-it-py renders (raw HTML off, so user text can never become markup),
nh3 sanitises to the tags the Matrix spec allows, and the plain body is the
text of that HTML. User text goes into Markdown through ``md_escape``.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import nh3
    from markdown_it import MarkdownIt


@functools.cache
def _markdown() -> "MarkdownIt":
    """The one markdown-it of every reply, made at the first message rendered: an idle bot does not hold it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable(
        ["table", "strikethrough"])


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


def md_marked(marked: Any) -> str:
    """Search text with its matched words (``storage.search.Marked``) as Markdown: the words in **bold**,
    everything else literal, the field's label before it."""
    pieces = []
    for text, matched in marked.pieces:
        literal = _MD_SPECIAL.sub(r"\\\1", text)
        pieces.append(f"**{literal}**" if matched else literal)
    out = "".join(pieces)
    return f"{md_escape(marked.label)}: {out}" if marked.label else out


def md_snippet(parts: Any) -> str:
    """A hit's snippet (the excerpts ``SearchIndex.snippet`` gives) on one line."""
    return " · ".join(md_marked(part) for part in parts)


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


_USER_LINK_SCHEMES = ("http://", "https://", "mailto:")
_INLINE_MARKUP = {"strong_open": "**", "strong_close": "**", "em_open": "*", "em_close": "*",
                  "s_open": "~~", "s_close": "~~"}


def md_user(text: Any) -> str:
    """A user's own Markdown (an event's description) as Markdown that is safe inside a bot message.

    It is parsed by the same markdown-it as every reply, then written back with its inline formatting
    only — bold, italics, strikethrough, inline code, http(s) and mailto links — and its line breaks;
    headings become bold lines, lists "• " lines, code blocks lines of inline code, table rows lines,
    quotes plain paragraphs, an image its description, and every piece of text goes through
    ``md_escape``. So ``**bold**`` is bold, yet the text can never reach outside itself (an unclosed
    fence or a list swallowing the bot's next lines), never become HTML, and never link to anything but
    the web and e-mail.
    """
    paragraphs: list[list[str]] = []
    lists: list[list[int | None]] = []  # the open lists, innermost last: [next number] (None: bullets)
    marker = ""  # the "• " of a list item whose first line is still to come
    heading = False
    row: list[str] | None = None  # the cells of the table row being read

    def add(lines: list[str]) -> None:
        nonlocal marker
        if not lists and row is None or not paragraphs:  # inside a list or table: one line each
            paragraphs.append([])
        if marker and lines:
            lines, marker = [marker + lines[0], *lines[1:]], ""
        paragraphs[-1].extend(lines)

    for token in _markdown().parse(str(text).replace("\r\n", "\n").replace("\r", "\n")):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                paragraphs.append([])
            lists.append([int(token.attrs.get("start", 1)) if kind == "ordered_list_open" else None])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            counter, indent = lists[-1], "\u00a0\u00a0" * (len(lists) - 1)
            marker = indent + ("• " if counter[0] is None else md_escape(f"{counter[0]}.") + " ")
            if counter[0] is not None:
                counter[0] += 1
        elif kind in ("heading_open", "heading_close"):
            heading = kind == "heading_open"
        elif kind == "table_open":
            paragraphs.append([])
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            cells, row = row, None
            paragraphs[-1].append(" \\| ".join(cells))
        elif kind == "inline":
            line = _inline_user(token.children or [])
            if row is not None:
                row.append(line.replace("\n", " "))
            else:
                add([f"**{part}**" if heading and part else part for part in line.split("\n")])
        elif kind in ("fence", "code_block"):  # a fence's info string is the user's text too
            add([md_code(line) for line in [token.info, *token.content.split("\n")] if line.strip()])
        elif kind == "hr":
            add(["———"])
    return "\n\n".join("  \n".join(kept) for lines in paragraphs if (kept := [x for x in lines if x.strip()]))


def _inline_user(children) -> str:
    """Inline tokens of user Markdown back to safe Markdown (see ``md_user``)."""
    parts: list[str] = []
    links: list[str | None] = []
    for child in children:
        kind = child.type
        if kind == "text":  # never a line's start (markdown-it strips that), so only the syntax is escaped
            parts.append(_MD_SPECIAL.sub(r"\\\1", child.content))
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind in _INLINE_MARKUP:
            parts.append(_INLINE_MARKUP[kind])
        elif kind == "code_inline":
            parts.append(md_code(child.content))
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
            safe = href if href.lower().startswith(_USER_LINK_SCHEMES) else None
            links.append(safe)
            if safe:
                parts.append("[")
        elif kind == "link_close":
            closing = links.pop() if links else None
            if closing:
                target = re.sub(r"\s", "", closing).replace("<", "%3C").replace(">", "%3E")
                parts.append(f"](<{target}>)")
        elif kind == "image":
            parts.append(_inline_user(child.children or []))
        else:  # html_inline and anything new: its text, literal
            parts.append(_MD_SPECIAL.sub(r"\\\1", child.content))
    return "".join(parts)


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


@functools.cache
def _cleaner() -> "nh3.Cleaner":
    """Built once (nh3.clean builds its rules on every call), at the first message rendered."""
    import nh3

    return nh3.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None,
                       attribute_filter=_spec_attribute)


def sanitize_html(html: str) -> str:
    """Only the tags, attributes and URL schemes the Matrix spec allows for ``org.matrix.custom.html``."""
    return _cleaner().clean(html)


def render_markdown(markdown: str) -> tuple[str, str]:
    """``(plain, html)`` for a Markdown text."""
    html = sanitize_html(_markdown().render(markdown)).strip()
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

        out: dict[str, Any] = {"markdown": self.markdown, "kind": self.kind, "mentions": self.mentions,
                               "extra": self.extra}
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


def edit_content(message: Outgoing, original_event_id: str) -> dict[str, Any]:
    """An ``m.replace`` edit of the bot's notice ``original_event_id`` (Matrix spec, "Event replacements").

    The new text is in ``m.new_content`` with its own full ``m.mentions``; the top-level body is the
    ``* ``-prefixed fallback for clients without edits, and its ``m.mentions`` is empty, since an edit
    notifies only people it newly mentions and ours never mention anyone the original did not.
    """
    new = text_content(message)
    return {
        "msgtype": new["msgtype"],
        "body": "* " + new["body"],
        "format": new["format"],
        "formatted_body": "* " + new["formatted_body"],
        "m.new_content": new,
        "m.mentions": {},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original_event_id},
    }


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
