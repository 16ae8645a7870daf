// How Mozilla's ical.js (the parser of Thunderbird) reads the bot's iCalendar files.
//
// stdin: {"files": {"<name>": "<ics text>", ...}, "until": <unix seconds>, "max": <occurrences per event>}
// stdout: {"<name>": {"events": [...], "timezones": [...]}} — every instant in unix seconds (UTC).
//
// Each VEVENT: its UID, the TZID of DTSTART, whether ical.js took that zone from the file's own
// VTIMEZONE (and not a floating or UTC fallback), and every occurrence up to "until" (at most "max")
// with start and end as ical.js converts them. Each VTIMEZONE: the changes ical.js derives from it
// (onset instant, offset before and after) up to "until". This script judges nothing: the Python test
// compares its answers with tzdata.
import ICAL from "ical.js";

function readStdin() {
  return new Promise((resolve, reject) => {
    let data = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => { data += chunk; });
    process.stdin.on("end", () => resolve(data));
    process.stdin.on("error", reject);
  });
}

function changeInstant(change) {
  // ical.js keeps a zone's changes as UTC wall-clock fields.
  return Date.UTC(change.year, change.month - 1, change.day, change.hour, change.minute, change.second) / 1000;
}

function describeEvent(component, until, max) {
  const event = new ICAL.Event(component);
  const start = event.startDate;
  const zone = start.zone;
  const fromFile = !!(zone && zone.component && zone.tzid === component.getFirstProperty("dtstart").getParameter("tzid"));
  const occurrences = [];
  const iterator = event.iterator();
  let next;
  while ((next = iterator.next()) && occurrences.length < max) {
    if (next.toUnixTime() >= until) break;
    const details = event.getOccurrenceDetails(next);
    occurrences.push({
      start: details.startDate.toUnixTime(),
      end: details.endDate.toUnixTime(),
      local: details.startDate.toString(),
    });
  }
  return {
    uid: event.uid,
    summary: event.summary,
    tzid: zone ? zone.tzid : null,
    zone_from_file: fromFile,
    recurring: event.isRecurring(),
    occurrences,
  };
}

function describeTimezone(component, until) {
  const tzid = component.getFirstPropertyValue("tzid");
  // A zone of its own (the events' one is cached in the calendar and already expanded some way).
  const zone = new ICAL.Timezone({ component, tzid });
  const untilYear = new Date(until * 1000).getUTCFullYear();
  // Any lookup in a year makes ical.js expand the zone's rules up to it (and a few years beyond).
  zone.utcOffset(ICAL.Time.fromData({ year: untilYear, month: 12, day: 31, hour: 0, minute: 0, second: 0 }));
  const changes = zone.changes
    .map((c) => ({ at: changeInstant(c), before: c.prevUtcOffset, after: c.utcOffset, daylight: c.is_daylight }))
    .filter((c) => c.at < until);
  return { tzid, changes };
}

const request = JSON.parse(await readStdin());
const answer = {};
for (const [name, text] of Object.entries(request.files)) {
  const root = new ICAL.Component(ICAL.parse(text));
  answer[name] = {
    calendar: root.name,
    events: root.getAllSubcomponents("vevent").map((c) => describeEvent(c, request.until, request.max || 400)),
    timezones: root.getAllSubcomponents("vtimezone").map((c) => describeTimezone(c, request.until)),
  };
}
process.stdout.write(JSON.stringify(answer));
