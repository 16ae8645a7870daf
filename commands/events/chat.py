"""The chat face of events and announcements: ``!event`` (``!wydarzenie``), ``!events``, ``!rsvp``,
``!my events``, ``!timezone``, ``!announce`` — and RSVP or confirmation by reaction."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated

from aiohttp import web

from bot.args import fold
from bot.checks import Chain, record_action
from bot.config import Key, in_range
from bot.context import Context
from bot.errors import NotFound, PermissionDenied, UsageError
from bot.reply import clip, md_code, md_escape
from bot.router import Arg, CommandSet, OptionalRest, Rest, Role
from bot.web import revalidated
from storage.models import Announcement, HubEvent, utcnow
from storage.runtime import InboxRepository, SettingsRepository

from .form import ROOMS_ALL, ROOMS_THIS, build_announcement, parse_event_form
from .ics import IcsEntry, event_calendar, event_uid, feed_calendar, feed_changed
from .messages import CATALOGUE as FORM_CATALOGUE
from .messages import EventError, field_label
from .render import RSVP_KEYS, counts_line, describe, event_page, feed_urls, next_start, subscribe_line, when_text
from .scheduler import EventScheduler, run_scheduler
from .store import ANSWERS, EventStore, announcement_to_json, as_utc, draft_from_json, draft_to_json
from .timeparse import get_zone

DRAFT_LIFETIME = timedelta(days=1)

CHAT = {
    "en": {
        "events.event.help": "details of event N with RSVP counts: `!event N`",
        "events.event.add.help": "schedules an event: Field: value lines after the first line",
        "events.event.confirm.help": "confirms a previewed event N and announces it",
        "events.event.cancel.help": "cancels event N (announced in its rooms)",
        "events.event.edit.help": "changes event N: Field: value lines after the first line",
        "events.event.ics.help": "event N as an iCalendar (.ics) file",
        "events.events.help": "upcoming events, soonest first",
        "events.rsvp.help": "answers an invitation: `!rsvp N yes|no|maybe` (or react ✅ ❔ ❌)",
        "events.my.help": "your own things",
        "events.my.events.help": "the events you answered",
        "events.timezone.help": "sets your time zone for times shown to you (IANA name)",
        "events.announce.help": "schedules an announcement: `!announce \"<when>\" [rooms:…] [repeat:…] <text>`",
        "events.announce.cancel.help": "drops scheduled announcement N",
        "events.announcements.help": "scheduled announcements",
        "events.preview.title": "**Preview of event {id}: {title}** — nothing is announced yet.",
        "events.preview.confirm": "Confirm with {command} or react ✅ to this message; the draft expires in a day.",
        "events.confirmed": "Event **{id}** is confirmed and announced in {count} room(s).",
        "events.already_confirmed": "Event {id} is already confirmed.",
        "events.cancelled_already": "Event {id} is cancelled.",
        "events.draft_expired": "The draft of event {id} expired (older than a day); add it again.",
        "events.cancelled": "Event **{id}** is cancelled; its rooms are told and its reminders dropped.",
        "events.edited": "Event **{id}** is changed (version {sequence}); its rooms are told.",
        "events.edited_draft": "Draft {id} is changed; confirm it with {command}.",
        "events.no_event": "There is no event {id}.",
        "events.none": "No upcoming events.",
        "events.list.title": "**Upcoming events**",
        "events.list.line": "**{id}** · {when} · {title}{place}",
        "events.feed.subscribe": "📆 Every event in your calendar app: subscribe to {webcal} or {https}",
        "events.rsvp.counts": "RSVP: ✅ {yes} · ❔ {maybe} · ❌ {no}",
        "events.rsvp.saved": "Noted: your answer to event {id} is **{answer}**.",
        "events.rsvp.not_open": "Event {id} is not open for answers.",
        "events.answer.yes": "yes",
        "events.answer.no": "no",
        "events.answer.maybe": "maybe",
        "events.my.none": "You have not answered any upcoming event.",
        "events.my.title": "**Your events**",
        "events.timezone.set": "Your time zone is now {zone}.",
        "events.room_unknown": "{field}: {value} is not a leader room I serve.",
        "events.ics.caption": "Event {id} as an iCalendar file (import it into your calendar).",
        "events.announce.saved": "Announcement **{id}** scheduled for {when} in {count} room(s).",
        "events.announce.none": "No scheduled announcements.",
        "events.announce.line": "**{id}** · {when}{repeat} · {text}",
        "events.announce.cancelled": "Announcement {id} is cancelled.",
        "events.announce.no_such": "There is no active announcement {id}.",
        "events.late": "(late)",
        "events.post.announce": "📅 **{title}** (event {id})",
        "events.post.rsvp_hint": "Coming? React ✅ (yes), ❔ (maybe) or ❌ (no), or send `!rsvp {id} yes`.",
        "events.post.reminder": "⏰ Reminder: **{title}** (event {id}) starts {when}.",
        "events.post.coming": "Coming: {users}",
        "events.post.registration": "📝 Registration for **{title}** (event {id}) closes {when}.",
        "events.post.cancelled": "❌ **{title}** (event {id}, {when}) is cancelled.",
        "events.post.reason": "Reason: {reason}",
        "events.post.updated": "✏️ **{title}** (event {id}) has changed:",
        "events.post.skipped": "A scheduled message ({kind}) about {what} for {room}, due {due}, was not sent: the bot was down for longer than the grace period.",
        "events.show.start": "🕒 Start: {value}",
        "events.show.end": "End: {value} ({duration})",
        "events.show.place": "📍 Place: {value}",
        "events.show.link": "🔗 Link: {value}",
        "events.show.registration": "📝 Registration until: {value}",
        "events.show.registration_link": "Registration: {value}",
        "events.show.repeat": "🔁 Repeats: {value}",
        "events.show.reminders": "Reminders before the start: {value}",
        "events.show.rooms": "Rooms: {value}",
        "events.show.status": "Status: {value}",
        "audit.action.events.cancel": "events: cancel",
        "audit.action.events.edit": "events: edit",
    },
    "pl": {
        "events.event.help": "szczegóły wydarzenia N z liczbą odpowiedzi: `!event N`",
        "events.event.add.help": "planuje wydarzenie: linie Pole: wartość po pierwszej linii",
        "events.event.confirm.help": "zatwierdza podgląd wydarzenia N i ogłasza je",
        "events.event.cancel.help": "odwołuje wydarzenie N (ogłasza to w jego pokojach)",
        "events.event.edit.help": "zmienia wydarzenie N: linie Pole: wartość po pierwszej linii",
        "events.event.ics.help": "wydarzenie N jako plik iCalendar (.ics)",
        "events.events.help": "nadchodzące wydarzenia, najbliższe najpierw",
        "events.rsvp.help": "odpowiedź na zaproszenie: `!rsvp N tak|nie|moze` (albo reakcja ✅ ❔ ❌)",
        "events.my.help": "Twoje sprawy",
        "events.my.events.help": "wydarzenia, na które odpowiedziałeś",
        "events.timezone.help": "ustawia Twoją strefę czasową dla pokazywanych Ci godzin (nazwa IANA)",
        "events.announce.help": "planuje ogłoszenie: `!ogloszenie \"<kiedy>\" [rooms:…] [repeat:…] <treść>`",
        "events.announce.cancel.help": "usuwa zaplanowane ogłoszenie N",
        "events.announcements.help": "zaplanowane ogłoszenia",
        "events.preview.title": "**Podgląd wydarzenia {id}: {title}** — jeszcze nic nie zostało ogłoszone.",
        "events.preview.confirm": "Zatwierdź poleceniem {command} albo reakcją ✅ na tę wiadomość; szkic wygasa po dobie.",
        "events.confirmed": "Wydarzenie **{id}** zatwierdzone i ogłoszone w pokojach: {count}.",
        "events.already_confirmed": "Wydarzenie {id} jest już zatwierdzone.",
        "events.cancelled_already": "Wydarzenie {id} jest odwołane.",
        "events.draft_expired": "Szkic wydarzenia {id} wygasł (starszy niż doba); dodaj je ponownie.",
        "events.cancelled": "Wydarzenie **{id}** odwołane; jego pokoje zostały powiadomione, przypomnienia usunięte.",
        "events.edited": "Wydarzenie **{id}** zmienione (wersja {sequence}); jego pokoje zostały powiadomione.",
        "events.edited_draft": "Szkic {id} zmieniony; zatwierdź go poleceniem {command}.",
        "events.no_event": "Nie ma wydarzenia {id}.",
        "events.none": "Brak nadchodzących wydarzeń.",
        "events.list.title": "**Nadchodzące wydarzenia**",
        "events.list.line": "**{id}** · {when} · {title}{place}",
        "events.feed.subscribe": "📆 Wszystkie wydarzenia w Twoim kalendarzu: zasubskrybuj {webcal} albo {https}",
        "events.rsvp.counts": "Odpowiedzi: ✅ {yes} · ❔ {maybe} · ❌ {no}",
        "events.rsvp.saved": "Zapisano: Twoja odpowiedź na wydarzenie {id} to **{answer}**.",
        "events.rsvp.not_open": "Na wydarzenie {id} nie można teraz odpowiadać.",
        "events.answer.yes": "tak",
        "events.answer.no": "nie",
        "events.answer.maybe": "może",
        "events.my.none": "Nie odpowiedziałeś na żadne nadchodzące wydarzenie.",
        "events.my.title": "**Twoje wydarzenia**",
        "events.timezone.set": "Twoja strefa czasowa to teraz {zone}.",
        "events.room_unknown": "{field}: {value} to nie jest pokój liderów, który obsługuję.",
        "events.ics.caption": "Wydarzenie {id} jako plik iCalendar (zaimportuj go do kalendarza).",
        "events.announce.saved": "Ogłoszenie **{id}** zaplanowane na {when} w pokojach: {count}.",
        "events.announce.none": "Brak zaplanowanych ogłoszeń.",
        "events.announce.line": "**{id}** · {when}{repeat} · {text}",
        "events.announce.cancelled": "Ogłoszenie {id} usunięte.",
        "events.announce.no_such": "Nie ma aktywnego ogłoszenia {id}.",
        "events.late": "(z opóźnieniem)",
        "events.post.announce": "📅 **{title}** (wydarzenie {id})",
        "events.post.rsvp_hint": "Będziesz? Zareaguj ✅ (tak), ❔ (może) lub ❌ (nie) albo wyślij `!rsvp {id} tak`.",
        "events.post.reminder": "⏰ Przypomnienie: **{title}** (wydarzenie {id}) zaczyna się {when}.",
        "events.post.coming": "Będą: {users}",
        "events.post.registration": "📝 Zapisy na **{title}** (wydarzenie {id}) kończą się {when}.",
        "events.post.cancelled": "❌ **{title}** (wydarzenie {id}, {when}) zostało odwołane.",
        "events.post.reason": "Powód: {reason}",
        "events.post.updated": "✏️ **{title}** (wydarzenie {id}) — zmiany:",
        "events.post.skipped": "Zaplanowana wiadomość ({kind}) o {what} dla {room}, na {due}, nie została wysłana: bot nie działał dłużej niż dopuszczalne opóźnienie.",
        "events.show.start": "🕒 Początek: {value}",
        "events.show.end": "Koniec: {value} ({duration})",
        "events.show.place": "📍 Miejsce: {value}",
        "events.show.link": "🔗 Link: {value}",
        "events.show.registration": "📝 Zapisy do: {value}",
        "events.show.registration_link": "Zapisy: {value}",
        "events.show.repeat": "🔁 Powtarza się: {value}",
        "events.show.reminders": "Przypomnienia przed początkiem: {value}",
        "events.show.rooms": "Pokoje: {value}",
        "events.show.status": "Stan: {value}",
        "audit.action.events.cancel": "wydarzenia: odwołanie",
        "audit.action.events.edit": "wydarzenia: zmiana",
    },
}

CATALOGUE = {lang: {**FORM_CATALOGUE[lang], **CHAT[lang]} for lang in ("en", "pl")}
# The feature's own [events] section of the config file.
CONFIG = {
    "late_grace_minutes": Key(int, 30, "an announcement due while the bot was down is sent late within this",
                              in_range(0, 7 * 24 * 60)),
    "plan_days": Key(int, 45, "how far ahead reminders of recurring events are planned", in_range(1, 400)),
    "rsvp_edit_seconds": Key(int, 5, "an announcement's RSVP counts are edited at most once in this many seconds",
                             in_range(1, 3600)),
}

commands = CommandSet("events", CATALOGUE, config=("events", CONFIG))
commands.service(EventScheduler)
commands.background(run_scheduler)


def _scheduler(ctx: Context) -> EventScheduler:
    return ctx.hub.service(EventScheduler)


async def _user_zone(ctx: Context) -> str | None:
    settings = await SettingsRepository(ctx.session).get(ctx.sender)
    return settings.timezone if settings and settings.timezone else None


async def _resolve_rooms(ctx: Context, rooms: tuple[str, ...]) -> list[str]:
    resolved: list[str] = []
    leader_rooms = ctx.platform.leader_rooms
    for room in rooms:
        if room == ROOMS_THIS:
            ids = [ctx.room_id]
        elif room == ROOMS_ALL:
            ids = sorted(leader_rooms)
        else:
            room_id = await ctx.platform.resolve_room(room)
            ids = [room_id or room]  # an unknown alias is named in the refusal below
        for room_id in ids:
            if room_id not in leader_rooms:
                raise EventError("events.room_unknown", field=field_label("rooms", ctx.lang), value=md_code(clip(room)))
            if room_id not in resolved:
                resolved.append(room_id)
    return resolved


def _form_text(ctx: Context, first_line_rest: str | None) -> str:
    lines = ([first_line_rest] if first_line_rest else []) + list(ctx.body)
    return "\n".join(lines)


async def _load_event(ctx: Context, number: int) -> HubEvent:
    event = await EventStore(ctx.session).get(number)
    if event is None:
        raise NotFound("events.no_event", id=number)
    return event


def _preview(ctx: Context, event: HubEvent, rooms: list[str], zone: str | None) -> str:
    draft = draft_from_json(event.data)
    lines = [ctx.t("events.preview.title", id=event.id, title=md_escape(draft.title)), ""]
    lines += describe(ctx.hub.translator, ctx.lang, draft, ctx.hub.config["bot"]["timezone"], rooms, zone,
                      room_label=ctx.room_label)
    lines += ["", ctx.t("events.preview.confirm", command=md_code(f"{ctx.prefix}event confirm {event.id}"))]
    return "\n".join(lines)


@commands.command("event", aliases=("wydarzenie",))
async def event_show(ctx: Context, number: int) -> None:
    event = await _load_event(ctx, number)
    draft = draft_from_json(event.data)
    store = EventStore(ctx.session)
    rsvps = await store.rsvps(event.id)
    lines = [f"**{event.id}: {md_escape(draft.title)}**", ""]
    lines += describe(ctx.hub.translator, ctx.lang, draft, ctx.hub.config["bot"]["timezone"], list(draft.rooms),
                      await _user_zone(ctx), start=next_start(draft, utcnow()) or draft.start,
                      room_label=ctx.room_label)
    lines.append(ctx.t("events.show.status", value=ctx.t(f"events.status.{event.status}")))
    lines.append(counts_line(ctx.hub.translator, ctx.lang, rsvps))
    page = event_page(feed_urls(ctx.hub.config["http"]["public_url"]), event.id, ctx.lang)
    if page and event.status == "confirmed":
        lines.append(ctx.t("events.web.line", url=f"<{page}>"))
    ctx.reply("\n".join(lines))


event_cmd = event_show


@event_cmd.sub("add", aliases=("dodaj",), role=Role.COORDINATOR)
async def event_add(ctx: Context, first: OptionalRest = None) -> None:
    text = first or ""  # the rest of the message: its first line and the Field: value lines
    if not text.strip():
        raise UsageError("events.error.field_missing", field="Title")
    now = datetime.now(timezone.utc)
    draft = parse_event_form(text, now=now, default_zone=ctx.hub.config["bot"]["timezone"], lang=ctx.lang)
    rooms = await _resolve_rooms(ctx, draft.rooms)
    event = HubEvent(title=draft.title, data=draft_to_json(draft, rooms), status="draft", created_by=ctx.sender,
                     created_room=ctx.room_id, source_event_id=ctx.incoming.event_id)
    ctx.session.add(event)
    await ctx.session.flush()
    ctx.reply(_preview(ctx, event, rooms, await _user_zone(ctx)))


async def _confirm(ctx: Context, event: HubEvent) -> None:
    if event.status == "confirmed":
        raise UsageError("events.already_confirmed", id=event.id)
    if event.status == "cancelled":
        raise UsageError("events.cancelled_already", id=event.id)
    if utcnow() - as_utc(event.created_at) > DRAFT_LIFETIME:
        raise UsageError("events.draft_expired", id=event.id)
    now = utcnow()
    event.status, event.confirmed_at = "confirmed", now
    store = EventStore(ctx.session)
    await store.plan(event, now, now + timedelta(days=ctx.hub.config["events"]["plan_days"]))
    scheduler = _scheduler(ctx)
    if scheduler:
        ctx.after_commit.append(lambda: scheduler.schedule("event", event.id))


@event_cmd.sub("confirm", aliases=("potwierdz", "potwierdź"), role=Role.COORDINATOR)
async def event_confirm(ctx: Context, number: int) -> None:
    event = await _load_event(ctx, number)
    await _confirm(ctx, event)
    ctx.reply(ctx.t("events.confirmed", id=event.id, count=len(draft_from_json(event.data).rooms)))


@event_cmd.sub("cancel", aliases=("odwolaj", "odwołaj"), role=Role.COORDINATOR,
               checks=Chain("events.cancel"))
async def event_cancel(ctx: Context, number: int, reason: OptionalRest = None) -> None:
    event = await _load_event(ctx, number)
    if event.status == "cancelled":
        raise UsageError("events.cancelled_already", id=event.id)
    was_confirmed = event.status == "confirmed"
    store = EventStore(ctx.session)
    planned = [row.id for row in await store.planned("event", event.id)]
    await store.cancel_planned("event", event.id)
    event.status, event.cancel_reason = "cancelled", reason
    if was_confirmed:
        event.sequence += 1  # calendars take the cancellation only as a newer version of the event
    scheduler = _scheduler(ctx)
    if was_confirmed:
        await store.one_off(event, "cancel", f"event:{event.id}:cancel", draft_from_json(event.data).rooms)
    if scheduler:
        async def after() -> None:
            scheduler.unschedule(planned)
            await scheduler.schedule("event", event.id)
        ctx.after_commit.append(after)
    await record_action(ctx, "events.cancel", target=f"event {event.id}", reason=reason)
    ctx.reply(ctx.t("events.cancelled", id=event.id))


@event_cmd.sub("edit", aliases=("zmien", "zmień", "edytuj"), role=Role.COORDINATOR,
               body=True, checks=Chain("events.edit"))
async def event_edit(ctx: Context, number: int) -> None:
    event = await _load_event(ctx, number)
    if event.status == "cancelled":
        raise UsageError("events.cancelled_already", id=event.id)
    base = draft_from_json(event.data)
    draft = parse_event_form("\n".join(ctx.body), now=datetime.now(timezone.utc),
                             default_zone=ctx.hub.config["bot"]["timezone"], lang=ctx.lang, base=base)
    rooms = await _resolve_rooms(ctx, draft.rooms) if draft.rooms != base.rooms else list(base.rooms)
    event.data, event.title = draft_to_json(draft, rooms), draft.title
    if event.status == "draft":
        ctx.reply(ctx.t("events.edited_draft", id=event.id, command=md_code(f"{ctx.prefix}event confirm {event.id}")))
        return
    event.sequence += 1
    store = EventStore(ctx.session)
    stale = [row.id for row in await store.planned("event", event.id)]
    await store.cancel_planned("event", event.id)  # a changed time re-plans every reminder
    now = utcnow()
    await store.plan(event, now, now + timedelta(days=ctx.hub.config["events"]["plan_days"]))
    await store.one_off(event, "update", f"event:{event.id}:update:{event.sequence}", rooms)
    scheduler = _scheduler(ctx)
    if scheduler:
        async def after() -> None:
            scheduler.unschedule(stale)
            await scheduler.schedule("event", event.id)
        ctx.after_commit.append(after)
    await record_action(ctx, "events.edit", target=f"event {event.id}", reason="\n".join(ctx.body))
    ctx.reply(ctx.t("events.edited", id=event.id, sequence=event.sequence))


def _ics_entry(hub, event: HubEvent) -> IcsEntry:
    """The event as the calendars see it; its last change is its DTSTAMP (never the time of the request)."""
    changed = as_utc(event.updated_at or event.confirmed_at or event.created_at)
    return IcsEntry(event_uid(event.id, _domain(hub)), draft_from_json(event.data), changed, event.sequence,
                    cancelled=event.status == "cancelled", confirmed=event.status == "confirmed")


@event_cmd.sub("ics", aliases=("kalendarz",))
async def event_ics(ctx: Context, number: int) -> None:
    event = await _load_event(ctx, number)
    ctx.reply_file(event_calendar(_ics_entry(ctx.hub, event)), f"event-{event.id}.ics", "text/calendar",
                   caption=ctx.t("events.ics.caption", id=event.id))


def _domain(hub) -> str:
    user = hub.config["matrix"]["user_id"] or "@hub:localhost"
    return user.split(":", 1)[1] if ":" in user else "localhost"


@commands.command("events", aliases=("wydarzenia",))
async def events_list(ctx: Context) -> None:
    now = utcnow()
    upcoming = []
    for event in await EventStore(ctx.session).confirmed():
        draft = draft_from_json(event.data)
        start = next_start(draft, now)
        if start is not None:
            upcoming.append((start, event, draft))
    subscribe = subscribe_line(ctx.hub.translator, ctx.lang, feed_urls(ctx.hub.config["http"]["public_url"]))
    if not upcoming:
        ctx.reply("\n\n".join([ctx.t("events.none"), *subscribe]))
        return
    zone = await _user_zone(ctx)
    lines = [ctx.t("events.list.title")]
    for start, event, draft in sorted(upcoming, key=lambda x: x[0].astimezone(timezone.utc))[:20]:
        place = f" · {md_escape(draft.place)}" if draft.place else ""
        lines.append("- " + ctx.t("events.list.line", id=event.id, title=md_escape(draft.title), place=place,
                                  when=when_text(start, ctx.lang, zone)))
    if subscribe:
        lines += ["", *subscribe]
    ctx.reply("\n".join(lines))


_ANSWER_WORDS = {"yes": "yes", "tak": "yes", "y": "yes", "no": "no", "nie": "no", "n": "no", "maybe": "maybe",
                 "moze": "maybe", "może": "maybe", "?": "maybe"}


def _answer(raw: str, _ctx=None) -> str:
    answer = _ANSWER_WORDS.get(fold(raw)) or _ANSWER_WORDS.get(raw.lower())
    if answer is None:
        raise UsageError("error.bad_choice", name="answer", value=md_code(clip(raw)), choices="yes/tak, no/nie, maybe/moze")
    return answer


@commands.command("rsvp", aliases=("zapis",), role=Role.LEADER)
async def rsvp(ctx: Context, number: int, answer: Annotated[str, Arg(converter=_answer)]) -> None:
    event = await _load_event(ctx, number)
    if event.status != "confirmed":
        raise UsageError("events.rsvp.not_open", id=event.id)
    await EventStore(ctx.session).set_rsvp(event.id, ctx.sender, answer)
    _counts_changed(ctx, event.id)
    ctx.reply(ctx.t("events.rsvp.saved", id=event.id, answer=ctx.t(f"events.answer.{answer}")))


def _counts_changed(ctx: Context, event_id: int) -> None:
    """Once the answer is committed, the event's announcements are edited to show the new counts."""
    scheduler = _scheduler(ctx)
    if scheduler.started:  # the running bot's scheduler edits announcements; a stopped one leaves it to its start
        async def after() -> None:
            scheduler.editor.changed(event_id)
        ctx.after_commit.append(after)


my = commands.group("my", aliases=("moje",))


@my.sub("events", aliases=("wydarzenia",))
async def my_events(ctx: Context) -> None:
    now = utcnow()
    rows = []
    for event, answer in await EventStore(ctx.session).events_of(ctx.sender):
        draft = draft_from_json(event.data)
        start = next_start(draft, now)
        if start is not None:
            rows.append((start, event, draft, answer))
    if not rows:
        ctx.reply(ctx.t("events.my.none"))
        return
    zone = await _user_zone(ctx)
    lines = [ctx.t("events.my.title")]
    for start, event, draft, answer in sorted(rows, key=lambda x: x[0].astimezone(timezone.utc)):
        lines.append(f"- **{event.id}** · {when_text(start, ctx.lang, zone)} · {md_escape(draft.title)} · "
                     f"{ctx.t('events.answer.' + answer)}")
    ctx.reply("\n".join(lines))


@commands.command("timezone", aliases=("strefa",))
async def set_timezone(ctx: Context, zone: str) -> None:
    name = get_zone(zone).key  # an unknown zone raises EventError, which names it
    await SettingsRepository(ctx.session).set_timezone(ctx.sender, name)
    ctx.reply(ctx.t("events.timezone.set", zone=md_code(name)))


_ANNOUNCE_OPTION = re.compile(r"^(rooms|pokoje|repeat|powtarzaj)[:=](\S+)\s*", re.IGNORECASE)


def _announce_options(text: str) -> tuple[dict[str, str], str]:
    """Leading ``rooms:…`` and ``repeat:…`` words of ``!announce``, and the text after them."""
    options: dict[str, str] = {}
    while match := _ANNOUNCE_OPTION.match(text):
        name = {"pokoje": "rooms", "powtarzaj": "repeat"}.get(match.group(1).lower(), match.group(1).lower())
        options[name] = match.group(2)
        text = text[match.end():]
    return options, text


@commands.command("announce", aliases=("ogloszenie", "ogłoszenie"), role=Role.COORDINATOR)
async def announce(ctx: Context, when: str, text: Rest) -> None:
    options, text = _announce_options(text)
    draft = build_announcement(when, text, now=datetime.now(timezone.utc), zone=ctx.hub.config["bot"]["timezone"],
                               rooms=options.get("rooms"), repeat=options.get("repeat"), lang=ctx.lang)
    rooms = await _resolve_rooms(ctx, draft.rooms)
    row = Announcement(text=draft.text, data=announcement_to_json(draft, rooms), created_by=ctx.sender,
                       created_room=ctx.room_id)
    ctx.session.add(row)
    await ctx.session.flush()
    now = utcnow()
    await EventStore(ctx.session).plan_announcement(row, now, now + timedelta(days=ctx.hub.config["events"]["plan_days"]))
    scheduler = _scheduler(ctx)
    if scheduler:
        ctx.after_commit.append(lambda: scheduler.schedule("announcement", row.id))
    ctx.reply(ctx.t("events.announce.saved", id=row.id, when=when_text(draft.when, ctx.lang), count=len(rooms)))


@announce.sub("cancel", aliases=("odwolaj", "odwołaj", "usun", "usuń"), role=Role.COORDINATOR)
async def announce_cancel(ctx: Context, number: int) -> None:
    row = await ctx.session.get(Announcement, number)
    if row is None or row.status != "active":
        raise NotFound("events.announce.no_such", id=number)
    store = EventStore(ctx.session)
    planned = [r.id for r in await store.planned("announcement", row.id)]
    await store.cancel_planned("announcement", row.id)
    row.status = "cancelled"
    scheduler = _scheduler(ctx)
    if scheduler:
        ctx.after_commit.append(lambda: _unschedule(scheduler, planned))
    ctx.reply(ctx.t("events.announce.cancelled", id=row.id))


async def _unschedule(scheduler, rows: list[int]) -> None:
    scheduler.unschedule(rows)


@commands.command("announcements", aliases=("ogloszenia", "ogłoszenia"), role=Role.COORDINATOR)
async def announcements(ctx: Context) -> None:
    from .store import announcement_from_row

    rows = await EventStore(ctx.session).announcements()
    if not rows:
        ctx.reply(ctx.t("events.announce.none"))
        return
    lines = []
    for row in rows:
        draft = announcement_from_row(row)
        repeat = f" · 🔁 {md_code(draft.repeat.rule)}" if draft.repeat else ""
        rooms = ", ".join(ctx.room_label(room) for room in draft.rooms)
        lines.append("- " + ctx.t("events.announce.line", id=row.id, when=when_text(draft.when, ctx.lang),
                                  repeat=repeat, text=md_escape(clip(row.text, 80))) + f" · {rooms}")
    ctx.reply("\n".join(lines))


@commands.on_reaction
async def on_reaction(ctx: Context) -> bool:
    """✅ ❔ ❌ on an announcement is an RSVP (taking it back withdraws it); ✅ on a preview confirms it."""
    incoming = ctx.incoming
    answer = RSVP_KEYS.get(incoming.body)
    if answer is None or not incoming.relates_to:
        return False
    store = EventStore(ctx.session)
    event_id = await store.event_of_message(incoming.relates_to)
    if event_id is not None:
        event = await store.get(event_id)
        if event is None or event.status != "confirmed" or ctx.role < Role.LEADER:
            return False
        if incoming.kind == "reaction":
            await store.set_rsvp(event.id, incoming.sender, answer)
        else:
            await store.withdraw_rsvp(event.id, incoming.sender, answer)
        _counts_changed(ctx, event.id)
        return True
    if answer == "yes" and incoming.kind == "reaction":
        source = await InboxRepository(ctx.session).answered_by(incoming.relates_to)
        event = await store.by_source(source) if source else None
        if event is not None and event.status == "draft":
            if ctx.role < Role.COORDINATOR:
                raise PermissionDenied(needed=Role.COORDINATOR, have=ctx.role)
            await _confirm(ctx, event)
            return True
    return False


@commands.route("/events.ics")
async def events_feed(hub, request: web.Request) -> web.Response:
    """The subscription feed: byte-identical while nothing changes, with an ETag (304 when unchanged)."""
    async with hub.sessions() as session:
        events = await EventStore(session).published()
    now = utcnow()

    def build() -> tuple[bytes, datetime | None]:  # ~0.2 ms an event: in a thread, not in the sync loop
        entries = [_ics_entry(hub, e) for e in events]
        return feed_calendar(entries, now=now, zone=hub.config["bot"]["timezone"]), feed_changed(entries, now)

    body, changed = await asyncio.to_thread(build)
    return revalidated(request, body, "text/calendar; charset=utf-8", last_modified=changed)


__all__ = ["commands", "ANSWERS"]
