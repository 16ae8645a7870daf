"""Events and scheduled announcements: the chat face is in chat.py, the pure core beside it."""

from .chat import commands

__all__ = ["commands"]
