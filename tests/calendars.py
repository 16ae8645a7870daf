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


@dataclass(frozen=True)
class Expected:
    """What a calendar must show for one event: its zone, every start up to the end of the check, its length."""

    zone: str
    starts: list[datetime]
    length: timedelta


def assert_icaljs_reads(read: dict, expected: dict[str, Expected], until: datetime) -> None:
    """ical.js's reading of each file (``icaljs``) is tzdata's: every VEVENT (by UID) starts and ends at the
    expected instants, in the zone of the file's own VTIMEZONE; every VTIMEZONE of the file is used, and its
    changes from a year before its first event to ``until`` are exactly tzdata's transitions, with no onset
    anywhere that tzdata does not have."""
    for name, calendar in read.items():
        assert calendar["calendar"] == "vcalendar", name
        for event in calendar["events"]:
            want = expected[event["uid"]]
            assert event["tzid"] == want.zone and event["zone_from_file"], (name, event["uid"], event["tzid"])
            assert [o["start"] for o in event["occurrences"]] == [int(s.timestamp()) for s in want.starts], (
                name, event["uid"])
            assert [o["end"] - o["start"] for o in event["occurrences"]] == (
                [want.length.total_seconds()] * len(want.starts)), (name, event["uid"])
        zones = {tz["tzid"]: tz["changes"] for tz in calendar["timezones"]}
        assert sorted(zones) == sorted({e["tzid"] for e in calendar["events"]}), name
        for tzid, changes in zones.items():
            real = [c for c in changes if c["before"] != c["after"]]
            first = min(o["start"] for e in calendar["events"] if e["tzid"] == tzid for o in e["occurrences"])
            since = datetime.fromtimestamp(first, timezone.utc) - timedelta(days=366)
            truth = tzdata_changes(tzid, since, until)
            assert [(c["at"], c["before"], c["after"]) for c in real if c["at"] >= since.timestamp()] == [
                (int(t.at.timestamp()), t.before.total_seconds(), t.after.total_seconds()) for t in truth], (name, tzid)
            for change in real:
                at = datetime.fromtimestamp(change["at"], timezone.utc)
                assert (at - timedelta(seconds=1)).astimezone(ZoneInfo(tzid)).utcoffset().total_seconds() == (
                    change["before"]), (name, tzid, at)
                assert at.astimezone(ZoneInfo(tzid)).utcoffset().total_seconds() == change["after"], (name, tzid, at)


def assert_python_libraries_read(files: dict[str, bytes], expected: dict[str, Expected], until: datetime) -> None:
    """icalendar and dateutil, reading only each file's VTIMEZONEs, agree with tzdata: icalendar's onsets
    are its transitions (from a year before the first event), and both give every occurrence and every
    time two hours either side of a change the tzdata offset."""
    from icalendar import Calendar

    for name, data in files.items():
        text = data.decode()
        for component in Calendar.from_ical(data).walk("VTIMEZONE"):
            tzid = str(component["TZID"])
            starts = [s for e in expected.values() if e.zone == tzid for s in e.starts]
            since = min(starts) - timedelta(days=366)
            truth = onsets_match_tzdata(text, tzid, since, until)
            around = [t.at + d for t in truth for d in (timedelta(hours=-2), timedelta(hours=2))
                      if t.at + d > truth[0].at]  # not before the first: the zone's span starts there
            offsets_match_tzdata(text, tzid, around + starts)
