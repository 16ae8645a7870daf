"""Judges of the bot's iCalendar files that are not the bot: ical.js (Thunderbird's parser, run with
Node from ``tests/js``), Python ``icalendar`` and ``dateutil``, each compared with tzdata (``zoneinfo``).

Nothing here imports the bot's calendar code: the expected instants come from ``zoneinfo`` and plain
wall-clock arithmetic, so a bug in the producer cannot hide in its own judge.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.conftest import ROOT

CHECKER = ROOT / "tests" / "js" / "ics_check.mjs"


def icaljs(files: dict[str, bytes], until: datetime, max_occurrences: int = 400) -> dict:
    """What ical.js reads in each file: events with every occurrence up to ``until``, zones' changes."""
    node = shutil.which("node")
    assert node, "Node.js 20+ is needed (./test.sh checks for it)"
    assert (ROOT / "node_modules" / "ical.js").is_dir(), "ical.js is missing: run ./test.sh (npm ci)"
    request = {"files": {name: data.decode() for name, data in files.items()},
               "until": int(until.timestamp()), "max": max_occurrences}
    done = subprocess.run([node, str(CHECKER)], input=json.dumps(request), capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass(frozen=True)
class Change:
    at: datetime
    before: timedelta
    after: timedelta


def tzdata_changes(zone: str, start: datetime, end: datetime) -> list[Change]:
    """Every change of UTC offset of ``zone`` in [start, end), from zoneinfo: hourly steps, then to the second."""
    tz = ZoneInfo(zone)

    def offset(ts: int) -> timedelta:
        return datetime.fromtimestamp(ts, tz).utcoffset()  # type: ignore[return-value]

    out = []
    ts, stop = int(start.timestamp()), int(end.timestamp())
    while ts < stop:
        nxt = ts + 3600
        if offset(nxt) != offset(ts):
            low, high = ts, nxt
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if offset(mid) == offset(ts) else (low, mid)
            out.append(Change(datetime.fromtimestamp(high, timezone.utc), offset(ts), offset(high)))
        ts = nxt
    return out


def wall_clock_series(first: datetime, zone: str, step: timedelta | str, until: datetime) -> list[datetime]:
    """The starts of a series repeating on the wall clock of ``zone`` (``step`` a timedelta or "monthly")."""
    tz = ZoneInfo(zone)
    naive = first.replace(tzinfo=None)
    out, index = [], 0
    while True:
        if step == "monthly":
            month = naive.month - 1 + index
            wall = naive.replace(year=naive.year + month // 12, month=month % 12 + 1)
        else:
            wall = naive + index * step  # type: ignore[operator]
        moment = wall.replace(tzinfo=tz)  # fold=0: a repeated hour means the first
        if moment >= until:
            return out
        out.append(moment)
        index += 1


def offsets_match_tzdata(vtimezone_text: str, tzid: str, moments: list[datetime]) -> None:
    """Python ``icalendar`` and ``dateutil``, each reading only the VTIMEZONE (not their IANA copy),
    give every wall time in ``moments`` the UTC offset tzdata gives it."""
    from dateutil import tz as dateutil_tz
    from icalendar import Calendar

    calendar = Calendar.from_ical(vtimezone_text)
    (component,) = [c for c in calendar.walk("VTIMEZONE") if str(c["TZID"]) == tzid]
    by_icalendar = component.to_tz(lookup_tzid=False)  # built from the component, not zoneinfo's copy
    by_dateutil = dateutil_tz.tzical(io.StringIO(component.to_ical().decode())).get(tzid)
    for moment in moments:
        wall = moment.astimezone(ZoneInfo(tzid)).replace(tzinfo=None)
        want = moment.astimezone(ZoneInfo(tzid)).utcoffset()
        assert wall.replace(tzinfo=by_icalendar).utcoffset() == want, ("icalendar", tzid, wall)
        assert wall.replace(tzinfo=by_dateutil).utcoffset() == want, ("dateutil", tzid, wall)


def onsets_match_tzdata(vtimezone_text: str, tzid: str, start: datetime, end: datetime) -> list[Change]:
    """icalendar's reading of the VTIMEZONE's onsets in [start, end) is tzdata's transitions (returned)."""
    from icalendar import Calendar

    calendar = Calendar.from_ical(vtimezone_text)
    (component,) = [c for c in calendar.walk("VTIMEZONE") if str(c["TZID"]) == tzid]
    times, infos = component.get_transitions()
    earliest = min(component.subcomponents, key=lambda sub: sub.decoded("DTSTART"))
    previous = earliest.decoded("TZOFFSETFROM")  # the offset before the first onset
    read = []
    for at, (offset, _dst, _name) in zip(times, infos):
        instant = at.replace(tzinfo=timezone.utc)  # get_transitions gives naive UTC
        if offset != previous and start <= instant < end:
            read.append(Change(instant, previous, offset))
        previous = offset
    truth = tzdata_changes(tzid, start, end)
    assert read == truth, (tzid, read, truth)
    return truth
