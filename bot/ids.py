"""Naming users and events the way people type them in chat: full ids, matrix.to links and permalinks.

The console speaks the same identifiers (its rooms mirror Matrix ones), so this is the runtime's, not
the Matrix transport's.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_USER_ID = re.compile(r"^@[^:\s]+:\S+$")
_USER_LINK = re.compile(r"^https://matrix\.to/#/((?:@|%40)[^?/\s]+)")


def user_id_in(text: str) -> str | None:
    """A full user id typed as ``@ala:example.org`` or as a matrix.to / ``matrix:u/`` link."""
    text = text.strip().strip("<>").rstrip(":,")
    link = _USER_LINK.match(text)
    if link:
        text = unquote(link.group(1))
    elif text.startswith("matrix:u/"):
        text = "@" + unquote(text[len("matrix:u/"):].split("?", 1)[0])
    return text if _USER_ID.match(text) else None


def parse_event_ref(text: str) -> tuple[str | None, str] | None:
    """``(room id or alias, or None for "this room", event id)`` from an event id or a permalink:
    ``$abc``, ``https://matrix.to/#/!room:server/$abc?via=…``, ``https://app.element.io/#/room/!room/$abc``
    or ``matrix:roomid/room:server/e/abc``."""
    text = text.strip().strip("<>")
    if text.startswith("$") and len(text) > 1 and " " not in text:
        return None, text
    if text.startswith("matrix:"):
        parts = [unquote(p) for p in text[len("matrix:"):].split("?", 1)[0].split("/")]
        if len(parts) == 4 and parts[2] == "e" and parts[0] in ("roomid", "r"):
            room = ("!" if parts[0] == "roomid" else "#") + parts[1]
            return room, "$" + parts[3]
        return None
    if "#/" in text and text.startswith(("https://", "http://")):
        fragment = text.split("#/", 1)[1].split("?", 1)[0]
        parts = [unquote(p) for p in fragment.split("/") if p]
        if parts and parts[0] == "room":
            parts = parts[1:]
        if len(parts) >= 2 and parts[0][:1] in ("!", "#") and parts[1].startswith("$"):
            return parts[0], parts[1]
    return None
