"""The events' public pages: ``/events`` — the upcoming confirmed events, soonest first, each at its next
occurrence in its own time zone, with its ``.ics`` — and ``/events/<N>.ics``, one event's calendar file
(the same file as ``!event ics N``). The feed, ``/events.ics``, is in chat.py. Nothing about who made an
event, its rooms or who answered it is shown."""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.reply import md_user, render_markdown
from bot.web import error_page, revalidated
from bot.web.pages import Page, add_messages, public_text
from storage.models import utcnow

from .chat import _ics_entry, commands
from .ics import event_calendar
from .render import next_start
from .store import EventStore, draft_from_json

commands.templates = Path(__file__).parent / "templates"
SHOWN = 100  # upcoming events on the page

add_messages(commands, {
    "en": {
        "events.web.line": "🌐 On the web: {url}",
        "events.web.title": "Events of the network",
        "events.web.intro": "Trainings, study visits and meetings of the network, soonest first. Times are in "
                            "each event's own time zone.",
        "events.web.none": "No upcoming events.",
        "events.web.feed": "Subscribe to every event in your calendar app",
        "events.web.ics": "Add “{title}” to your calendar (.ics)",
        "events.web.when": "When",
        "events.web.until": "until {end}",
        "events.web.zone": "time zone {zone}",
        "events.web.place": "Place",
        "events.web.link": "Online",
        "events.web.registration": "Registration",
        "events.web.registration_until": "until {when}",
        "events.web.registration_link": "register",
        "events.web.repeat": "Repeats",
        "events.web.repeat.DAILY": "every day",
        "events.web.repeat.WEEKLY": "every week",
        "events.web.repeat.MONTHLY": "every month",
        "events.web.repeat.YEARLY": "every year",
        "events.web.in_chat": "In the network's rooms: !event {id}",
        "events.web.not_found": "There is no published event {ref}.",
    },
    "pl": {
        "events.web.line": "🌐 W internecie: {url}",
        "events.web.title": "Wydarzenia sieci",
        "events.web.intro": "Szkolenia, wizyty studyjne i spotkania sieci, od najbliższych. Godziny są podane "
                            "w strefie czasowej każdego wydarzenia.",
        "events.web.none": "Brak nadchodzących wydarzeń.",
        "events.web.feed": "Zasubskrybuj wszystkie wydarzenia w swoim kalendarzu",
        "events.web.ics": "Dodaj „{title}” do kalendarza (.ics)",
        "events.web.when": "Kiedy",
        "events.web.until": "do {end}",
        "events.web.zone": "strefa czasowa {zone}",
        "events.web.place": "Miejsce",
        "events.web.link": "Online",
        "events.web.registration": "Zapisy",
        "events.web.registration_until": "do {when}",
        "events.web.registration_link": "zapisz się",
        "events.web.repeat": "Powtarza się",
        "events.web.repeat.DAILY": "codziennie",
        "events.web.repeat.WEEKLY": "co tydzień",
        "events.web.repeat.MONTHLY": "co miesiąc",
        "events.web.repeat.YEARLY": "co roku",
        "events.web.in_chat": "W pokojach sieci: !wydarzenie {id}",
        "events.web.not_found": "Nie ma opublikowanego wydarzenia {ref}.",
    },
})


def _when(page: Page, moment, fmt: str = "EEEE d MMMM y, HH:mm") -> str:
    from babel.dates import format_datetime

    return format_datetime(moment, fmt, locale=page.lang)


def _repeat(page: Page, rule: str) -> str:
    """A simple rule in words (``every week``); anything else as the rule itself."""
    match = re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)", rule)
    return page.t(f"events.web.repeat.{match.group(1)}") if match else rule


def _link(value: str | None) -> str | None:
    return value if value and value.startswith(("https://", "http://")) else None


@commands.route("/events")
async def events_page(hub: Any, request: web.Request) -> web.Response:
    page = Page.of(hub, request)
    now = utcnow()
    async with hub.sessions() as session:
        events = await EventStore(session).confirmed()
    upcoming = []
    for event in events:
        draft = draft_from_json(event.data)
        start = next_start(draft, now)
        if start is not None:
            upcoming.append((start.astimezone(timezone.utc), event.id, start, draft))
    shown = []
    for _, event_id, start, draft in sorted(upcoming, key=lambda item: item[:2])[:SHOWN]:
        end = draft.end_of(start) if draft.duration else None
        same_day = end is not None and end.date() == start.date()
        description = ""
        if draft.description:  # the organiser's Markdown, reduced as in the chat and sanitised (bot.reply)
            description = render_markdown(md_user(public_text(draft.description)))[1]
        shown.append({
            "id": event_id, "anchor": f"event-{event_id}", "title": public_text(draft.title),
            "when": _when(page, start), "start_iso": start.isoformat(),
            "end": (_when(page, end, "HH:mm") if same_day else _when(page, end)) if end else None,
            "zone": draft.zone, "place": public_text(draft.place) if draft.place else None,
            "link": _link(draft.link),
            "registration_until": _when(page, draft.registration_until) if draft.registration_until else None,
            "registration_link": _link(draft.registration_link),
            "repeat": _repeat(page, draft.repeat.rule) if draft.repeat else None,
            "description": description, "ics": f"{page.base}/events/{event_id}.ics",
        })
    page.params = {}
    return page.render("events/list.html", title=page.t("events.web.title"), events=shown)


@commands.route(r"/events/{number:\d+}.ics")
async def event_file(hub: Any, request: web.Request) -> web.Response:
    """One published event's ``.ics`` (a cancelled one says ``STATUS:CANCELLED``); a draft is not there."""
    number = int(request.match_info["number"][:12])
    async with hub.sessions() as session:
        event = await EventStore(session).get(number)
    if event is None or event.status not in ("confirmed", "cancelled"):
        page = Page.of(hub, request)
        return error_page(hub, request, 404, page.t("events.web.not_found", ref=number))
    response = revalidated(request, event_calendar(_ics_entry(hub, event)), "text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="event-{number}.ics"'
    return response
