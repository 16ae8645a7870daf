"""Events and scheduled announcements: the chat face is in chat.py, the public pages in web.py, the pure
core beside them."""

from . import web  # noqa: F401  (registers the pages)
from .chat import commands

__all__ = ["commands"]
