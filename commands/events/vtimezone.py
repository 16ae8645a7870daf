"""VTIMEZONE components written from tzdata (``zoneinfo``), in the shape calendar programs read right.

Why not ``icalendar.Timezone.from_tzid``: in the installed version it writes every
spring onset in the offset *after* the change (an hour late: RFC 5545 §3.6.5 wants
the local time in ``TZOFFSETFROM``), and it lists the later onsets as ``RDATE``
values, which Mozilla's ical.js (Thunderbird) reads as the first one only. No other
maintained library writes RRULE-based VTIMEZONEs from tzdata, so this module does it
itself, in the form Outlook, Apple and Thunderbird's own zone files use:

* the zone's transitions are found by scanning ``zoneinfo`` for changes of offset,
  abbreviation or daylight flag (6-hour steps, then bisection to the second);
* consecutive yearly transitions that follow one rule ("last Sunday of March at
  02:00", "first Sunday of April at 03:00") become one observance with
  ``RRULE:FREQ=YEARLY;BYMONTH=…;BYDAY=…`` (or ``BYMONTHDAY=2,…,8;BYDAY=SU`` for "the first
  Sunday on or after the 2nd"), open-ended when the rule still holds at the
  end of the scan (so a series that goes on for ever stays right), with a UTC
  ``UNTIL`` when tzdata changes the rule later; any other transition is an
  observance of its own (one onset, no ``RDATE`` at all);
* a zone without transitions in the span (Asia/Kolkata) gets one ``STANDARD``
  observance with equal ``TZOFFSETFROM`` and ``TZOFFSETTO`` at the start of the span.

The scan starts on 1 January of the year before the first event (so the autumn
onset before a January event is there: ical.js gives offset 0 to a time before a
zone's first onset) and runs at least to ``UNTIL_YEAR``. Results are cached per zone
and span; the output depends only on tzdata and the span, never on the clock.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .timeparse import get_zone

if TYPE_CHECKING:
    from icalendar import Timezone

UNTIL_YEAR = 2037  # rules are written out at least this far; open-ended RRULEs carry them on
_STEP = 6 * 3600  # no zone of tzdata changes twice within 6 hours
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    """One change of a zone's local time, as tzdata has it."""

    at: datetime  # the UTC instant of the change
    before: timedelta  # UTC offset until then (TZOFFSETFROM)
    after: timedelta  # UTC offset from then on (TZOFFSETTO)
    name: str  # abbreviation from then on (TZNAME)
    dst: bool  # daylight saving time from then on

    @property
    def onset(self) -> datetime:
        """The naive local time of the change in the offset before it (RFC 5545 §3.6.5)."""
        return (self.at + self.before).replace(tzinfo=None)


def _state(zone, ts: int) -> tuple[timedelta, bool, str]:
    local = datetime.fromtimestamp(ts, zone)
    return local.utcoffset(), bool(local.dst()), local.tzname()  # type: ignore[return-value]


@functools.lru_cache(maxsize=256)
def transitions(zone_name: str, first_year: int, last_year: int) -> tuple[Transition, ...]:
    """Every transition of the zone from 1 January ``first_year`` to the end of ``last_year`` (UTC)."""
    zone = get_zone(zone_name)
    ts = int(datetime(first_year, 1, 1, tzinfo=timezone.utc).timestamp())
    end = int(datetime(last_year + 1, 1, 1, tzinfo=timezone.utc).timestamp())
    found: list[Transition] = []
    state = _state(zone, ts)
    while ts < end:
        nxt = min(ts + _STEP, end)
        new = _state(zone, nxt)
        if new != state:
            low, high = ts, nxt  # state(low) is the old one, state(high) the new one
            while high - low > 1:
                mid = (low + high) // 2
                if _state(zone, mid) == state:
                    low = mid
                else:
                    high = mid
            found.append(Transition(datetime.fromtimestamp(high, timezone.utc), state[0], new[0], new[2], new[1]))
            state = new
        ts = nxt
    return tuple(found)


@dataclass(frozen=True)
class Observance:
    """One STANDARD or DAYLIGHT sub-component: its first onset and, for a run of years, its rule."""

    first: Transition
    rule: str | None = None  # e.g. FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
    until: datetime | None = None  # UTC instant of the last onset of a closed rule


def _windows(onset: datetime) -> set[int | str]:
    """The weekday-of-month rules the onset fits: ``"last"`` (its weekday's last in the month) or ``D``
    for "that weekday on or after day D" (D = 1, 8, 15, 22 are the first…fourth ones)."""
    days = calendar.monthrange(onset.year, onset.month)[1]
    fits: set[int | str] = set(range(max(1, onset.day - 6), min(onset.day, days - 6) + 1))
    if onset.day > days - 7:
        fits.add("last")
    return fits


def _byday(month: int, weekday: int, windows: set[int | str]) -> str:
    """The RRULE of a run of onsets that all fit ``windows``: the plainest one that fits."""
    day = _WEEKDAYS[weekday]
    if "last" in windows:
        return f"FREQ=YEARLY;BYMONTH={month};BYDAY=-1{day}"
    starts = sorted(w for w in windows if isinstance(w, int))
    nth = next((d for d in starts if d % 7 == 1), None)
    if nth is not None:
        return f"FREQ=YEARLY;BYMONTH={month};BYDAY={(nth - 1) // 7 + 1}{day}"
    first = starts[0]  # e.g. Chile's "first Sunday on or after the 2nd"
    monthdays = ",".join(str(d) for d in range(first, first + 7))
    return f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={monthdays};BYDAY={day}"


def _same_rule(a: Transition, b: Transition) -> bool:
    return (a.before, a.after, a.name, a.dst) == (b.before, b.after, b.name, b.dst) and (
        (a.onset.month, a.onset.weekday(), a.onset.time()) == (b.onset.month, b.onset.weekday(), b.onset.time()))


def observances(zone_name: str, first_year: int, last_year: int) -> list[Observance]:
    """The zone's transitions in the span, folded into yearly rules where they follow one."""
    found = transitions(zone_name, first_year, last_year)
    runs: list[tuple[list[Transition], set[int | str]]] = []
    open_runs: dict[tuple, int] = {}  # (kind of change) → index in runs of the run it may extend
    for change in found:
        kind = (change.before, change.after, change.name, change.dst)
        index = open_runs.get(kind)
        if index is not None:
            members, windows = runs[index]
            last = members[-1]
            common = windows & _windows(change.onset)
            if change.onset.year == last.onset.year + 1 and _same_rule(last, change) and common:
                members.append(change)
                runs[index] = (members, common)
                continue
        open_runs[kind] = len(runs)
        runs.append(([change], _windows(change.onset)))
    out: list[Observance] = []
    for members, windows in runs:
        first, last = members[0], members[-1]
        if len(members) == 1:
            out.append(Observance(first))
            continue
        rule = _byday(first.onset.month, first.onset.weekday(), windows)
        # Still followed in the last year scanned: the rule goes on (tzdata's own future rule).
        out.append(Observance(first, rule, None if last.onset.year == last_year else last.at))
    return sorted(out, key=lambda o: o.first.at)


def _offset_name(zone_name: str, year: int) -> tuple[timedelta, bool, str]:
    return _state(get_zone(zone_name), int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp()))


def vtimezone(zone_name: str, first_year: int, last_year: int | None = None) -> Timezone:
    """The VTIMEZONE of ``zone_name`` for events from ``first_year`` (scanned from the year before)."""
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

    start, end = first_year - 1, max(last_year or first_year, UNTIL_YEAR)
    component = Timezone()
    component.add("tzid", zone_name)
    rules = observances(zone_name, start, end)
    if not rules:  # no change in the span: one observance, valid from its start
        offset, dst, name = _offset_name(zone_name, start)
        at = datetime(start, 1, 1, tzinfo=timezone.utc) - offset
        rules = [Observance(Transition(at, offset, offset, name, dst))]
    for rule in rules:
        sub = TimezoneDaylight() if rule.first.dst else TimezoneStandard()
        sub.add("dtstart", rule.first.onset)
        if rule.rule:
            recur = vRecur.from_ical(rule.rule)
            if rule.until:
                recur["UNTIL"] = [rule.until]
            sub.add("rrule", recur)
        sub.add("tzoffsetfrom", rule.first.before)
        sub.add("tzoffsetto", rule.first.after)
        sub.add("tzname", rule.first.name)
        component.add_component(sub)
    return component
