"""Mention pills: Element shows a mention as a display name in ``body`` and a matrix.to link in
``formatted_body``; the command needs the user id."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

_PILL = re.compile(r'<a\s[^>]*href="https://matrix\.to/#/((?:@|%40)[^"?/]+)[^"]*"[^>]*>(.*?)</a>', re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_MX_REPLY = re.compile(r"<mx-reply>.*?</mx-reply>", re.S | re.I)


def pills_to_ids(body: str, formatted_body: str | None) -> str:
    """``body`` with each user pill's text replaced by the user's id
    (``!mod kick Ala Nowak spam`` → ``!mod kick @ala:example.org spam``)."""
    if not formatted_body:
        return body
    position = 0
    for match in _PILL.finditer(_MX_REPLY.sub("", formatted_body)):
        user_id = unquote(match.group(1))
        text = html.unescape(_TAG.sub("", match.group(2)))
        if not text:
            continue
        found = body.find(text, position)
        if found < 0:
            continue
        body = body[:found] + user_id + body[found + len(text):]
        position = found + len(user_id)
    return body
