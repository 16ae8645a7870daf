"""The archive of shared solutions: ``!share``, ``!search``, ``!more``, ``!solution``, ``!similar``,
``!experience``, the moderators' ``!mod queue|approve|reject|edit|delete`` (added to moderation's ``!mod``
group by name, through the router), the search index service and ``leaders-hub archive``.

- ``service.py``: the search index of the approved solutions (a service the hub creates once);
- ``forms.py``: the ``!share`` form, its fields and the values of the coded ones;
- ``render.py``: how a solution and a search result are shown, in the reader's language;
- ``chat.py``: the leaders' commands; ``queue.py``: the moderators' ones; ``cli.py``: the operator's;
- ``web.py``: the public pages (the search at ``/``, a solution at ``/solutions/<N>``), with ``templates/``;
  ``public.py``: what a leader opts in to showing there (the name signing their experiences).
"""

from bot.router import CommandSet

from .messages import CATALOGUE

commands = CommandSet("archive", CATALOGUE)

from . import chat, cli, public, queue, service, web  # noqa: E402  (they register their commands, service, tools, pages)
from .service import ArchiveIndex  # noqa: E402

__all__ = ["ArchiveIndex", "chat", "cli", "commands", "public", "queue", "service", "web"]
