"""What events look like in a room: previews, announcements, reminders, details."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.reply import md_code, md_escape, md_user

from .form import EventDraft
from .timeparse import format_duration, get_zone

RSVP_KEYS = {"✅": "yes", "✔️": "yes", "👍": "yes", "❔": "maybe", "❓": "maybe", "❌": "no", "👎": "no"}


def when_text(moment: datetime, lang: str, zone: str | None = None) -> str:
    from babel.dates import format_datetime  # Babel's locale data: loaded when first needed, not at start

    local = moment.astimezone(get_zone(zone)) if zone else moment
    return f"{format_datetime(local, 'EEEE d MMMM y, HH:mm', locale=lang)} ({local.tzinfo.key})"  # type: ignore[union-attr]


def times_line(lang: str, moment: datetime, bot_zone: str, user_zone: str | None = None) -> str:
    """The time in the event's zone and, where different, in the reader's or the bot's zone."""
    text = when_text(moment, lang)
    other = user_zone or bot_zone
    if other and other != moment.tzinfo.key:  # type: ignore[union-attr]
        text += " = " + when_text(moment, lang, other)
    return text


def feed_urls(public_url: str | None) -> tuple[str, str] | None:
    """The feed's subscription links, ``webcal://…`` and ``https://…``, from ``[http] public_url``; None when
    it is unset (the bot cannot know the address its readers reach it at)."""
    if not public_url:
        return None
    https = public_url.rstrip("/") + "/events.ics"
    return "webcal://" + https.split("://", 1)[1], https


def event_page(links: tuple[str, str] | None, event_id: int, lang: str) -> str | None:
    """An event's place on the public events page (``/events#event-N``), beside the feed of ``links``."""
    if links is None:
        return None
    return links[1].removesuffix("/events.ics") + f"/events?lang={lang}#event-{event_id}"


def subscribe_line(t, lang: str, links: tuple[str, str] | None) -> list[str]:
    """One line with both links (none without ``public_url``). webcal:// is code, to copy: the HTML
    sanitisers of Matrix clients drop links with schemes other than http(s), mailto and a few more."""
    if links is None:
        return []
    webcal, https = links
    return [t(lang, "events.feed.subscribe", webcal=md_code(webcal), https=f"<{https}>")]


def describe(t, lang: str, draft: EventDraft, bot_zone: str, rooms: list[str] | None = None,
             user_zone: str | None = None, start: datetime | None = None, room_label=md_code) -> list[str]:
    """``room_label(room_id)``: how a room is named (its name rather than its id, where known)."""
    start = start or draft.start
    lines = [t(lang, "events.show.start", value=times_line(lang, start, bot_zone, user_zone))]
    if draft.duration:
        lines.append(t(lang, "events.show.end", value=when_text(draft.end_of(start), lang),
                       duration=format_duration(draft.duration)))
    if draft.place:
        lines.append(t(lang, "events.show.place", value=md_escape(draft.place)))
    if draft.link:
        lines.append(t(lang, "events.show.link", value=draft.link))
    if draft.registration_until:
        lines.append(t(lang, "events.show.registration", value=when_text(draft.registration_until, lang)))
    if draft.registration_link:
        lines.append(t(lang, "events.show.registration_link", value=draft.registration_link))
    if draft.repeat:
        lines.append(t(lang, "events.show.repeat", value=md_code(draft.repeat.rule)))
    if draft.reminders:
        lines.append(t(lang, "events.show.reminders",
                       value=", ".join(format_duration(r) for r in draft.reminders)))
    if rooms is not None:
        lines.append(t(lang, "events.show.rooms", value=", ".join(room_label(r) for r in rooms)))
    if draft.description:  # the organiser's Markdown: bold, links… but nothing that reaches past it
        lines.append("")
        lines.append(md_user(draft.description))
    return lines


def counts_line(t, lang: str, rsvps: dict[str, list[str]]) -> str:
    """``RSVP: ✅ 3 · ❔ 1 · ❌ 0``, the numbers in the reader's format."""
    from babel.numbers import format_decimal  # Babel's locale data: loaded when first needed, not at start

    return t(lang, "events.rsvp.counts", **{answer: format_decimal(len(rsvps.get(answer, ())), locale=lang)
                                            for answer in ("yes", "maybe", "no")})


def announcement_text(t, lang: str, event, draft: EventDraft, rsvps: dict[str, list[str]], late: bool,
                      links: tuple[str, str] | None) -> str:
    """The announcement of an event: sent when it is confirmed, edited as the RSVPs change."""
    late_mark = " " + t(lang, "events.late") if late else ""
    lines = [t(lang, "events.post.announce", title=md_escape(draft.title), id=event.id) + late_mark, ""]
    lines += describe(t, lang, draft, draft.zone)
    lines += ["", counts_line(t, lang, rsvps), t(lang, "events.post.rsvp_hint", id=event.id)]
    page = event_page(links, event.id, lang)
    if page:
        lines.append(t(lang, "events.web.line", url=f"<{page}>"))
    lines += subscribe_line(t, lang, links)
    return "\n".join(lines)


def render_send(t, lang, row, event, draft: EventDraft | None, announcement, rsvps, late: bool,
                links: tuple[str, str] | None = None):
    """The text of one scheduled send and whom it mentions; ``links``: the feed's (``feed_urls``)."""
    late_mark = " " + t(lang, "events.late") if late else ""
    mentions: list[str] = []
    if announcement is not None:
        return f"📣{late_mark} " + md_escape(announcement.text), mentions
    assert event is not None and draft is not None
    title = md_escape(draft.title)
    occurrence = row.occurrence.astimezone(draft.start.tzinfo) if row.occurrence else draft.start
    if row.kind == "announce":
        return announcement_text(t, lang, event, draft, rsvps, late, links), mentions
    if row.kind == "reminder":
        yes = rsvps.get("yes", [])
        mentions = list(yes)
        lines = [t(lang, "events.post.reminder", title=title, id=event.id,
                   when=when_text(occurrence, lang)) + late_mark]
        if draft.place:
            lines.append(t(lang, "events.show.place", value=md_escape(draft.place)))
        if draft.link:
            lines.append(t(lang, "events.show.link", value=draft.link))
        if draft.registration_link:
            lines.append(t(lang, "events.show.registration_link", value=draft.registration_link))
        if yes:
            lines.append(t(lang, "events.post.coming", users=", ".join(yes)))
    elif row.kind == "registration":
        lines = [t(lang, "events.post.registration", title=title, id=event.id,
                   when=when_text(draft.registration_until, lang) if draft.registration_until else "—") + late_mark]
        if draft.registration_link:
            lines.append(t(lang, "events.show.registration_link", value=draft.registration_link))
    elif row.kind == "cancel":
        lines = [t(lang, "events.post.cancelled", title=title, id=event.id, when=when_text(draft.start, lang))]
        if event.cancel_reason:
            lines.append(t(lang, "events.post.reason", reason=md_escape(event.cancel_reason)))
    else:  # update
        lines = [t(lang, "events.post.updated", title=title, id=event.id), ""]
        lines += describe(t, lang, draft, draft.zone)
    return "\n".join(lines), mentions


def skipped_notice(t, lang, row, event, announcement, room_label=md_code) -> str:
    what = md_escape(event.title) if event else md_escape((announcement.text or "")[:60])
    return t(lang, "events.post.skipped", what=what, kind=t(lang, f"events.kind.{row.kind}"), room=room_label(row.room_id),
             due=row.due_at.strftime("%Y-%m-%d %H:%M UTC"))


def next_start(draft: EventDraft, now: datetime) -> datetime | None:
    """The next occurrence that has not ended (a single event: its start until it is over)."""
    from .recurrence import next_occurrence
    from .timeparse import utc

    length = draft.duration or timedelta(0)
    if draft.repeat is None:
        return draft.start if utc(draft.start) + length > utc(now) else None
    return next_occurrence(draft.start, draft.repeat, utc(now) - length)
