"""Typed errors. A command raises one; the router turns it into a short, translated reply.

Each carries a message key of the catalogue and its parameters, never a
ready-made sentence, so one error path serves both languages.
"""

from __future__ import annotations

from typing import Any


class CommandError(Exception):
    """Anything a user did that the bot cannot do; the reply says why."""

    key = "error.generic"
    outcome = "error"

    def __init__(self, key: str | None = None, /, **params: Any):
        self.key = key or self.key
        self.params = params
        super().__init__(self.key, params)


class UnknownCommand(CommandError):
    key = "error.unknown_command"
    outcome = "unknown"


class UsageError(CommandError):
    """Missing or malformed arguments; the reply ends with the command's usage."""

    key = "error.usage"
    outcome = "usage"


class BadQuoting(UsageError):
    key = "error.bad_quoting"


class PermissionDenied(CommandError):
    key = "error.permission"
    outcome = "refused"


class NotFound(CommandError):
    key = "error.not_found"
    outcome = "not_found"
