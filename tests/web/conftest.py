"""One bot server for every web test: the starter archive and a few solutions, experiences and events
shared in the leader room as leaders do (one still waiting for review), served on 127.0.0.1."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from storage.archive import import_records
from storage.search import STARTER_ARCHIVE
from tests.web.site import ADMIN, SUMMARY, Site

LEADER = "@ala:localhost"  # shares a solution (waiting for review) and an experience, unnamed
NAMED = "@bea:localhost"  # signs her experiences "Beata Nowak"
XSS_TITLE = "<img src=x onerror=alert(1)>"
PENDING_WORD = "Zyxwvutsrq"  # only the solution waiting for review has it
PRIVATE_EMAIL = "repair.private@example.org"  # a contact whose author did not agree to show it
PUBLIC_EMAIL = "fridge.public@example.org"  # ... and one who did


def pytest_terminal_summary(terminalreporter) -> None:
    for line in SUMMARY:
        terminalreporter.write_line(line, yellow=line.startswith("SKIPPED"))


@dataclass
class Seeded:
    site: Site
    xss: int
    pending: int
    repair: int
    fridge: int
    events: dict[str, int]


def _number(reply: str) -> int:
    return int(re.search(r"#(\d+)", reply).group(1))


def _day(days: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%d")


def seed(site: Site) -> Seeded:
    async def starter() -> None:
        async with site.hub.sessions() as session:
            await import_records(session, "starter.json", STARTER_ARCHIVE.read_text(encoding="utf-8"), publish=True)
            await session.commit()

    site.run(starter())
    site.join(LEADER)
    site.join(NAMED)
    xss = _number(site.say(f"!share {XSS_TITLE}\nProblem: a title with markup in it\n"
                           "Solution: every page shows it as text\nArea: digital\nStage: idea"))
    pending = _number(site.say(f"!share Pending {PENDING_WORD} café\nProblem: {PENDING_WORD} is not reviewed yet\n"
                               "Solution: wait\nArea: housing", sender=LEADER))
    repair = _number(site.say("!share Repair café in the library\nProblem: broken things end up in the bin\n"
                              "Solution: volunteers repair them with residents every month\n"
                              "Results: about 30 things a month are saved from the bin\nCost: 2400 zł a year\n"
                              "Group: seniors\n"
                              f"Area: environment_food\nStage: tested\nRegion: mazowieckie\nContact: {PRIVATE_EMAIL}\n"
                              "Link: https://example.org/repair-cafe"))
    fridge = _number(site.say("!share Community fridge in Radom\nProblem: good food is thrown away\n"
                              "Solution: a shared fridge in the library, open to all\nArea: environment_food\n"
                              f"Stage: tested\nContact: {PUBLIC_EMAIL}\nPublic contact: yes"))
    site.say(f"!experience {repair} We ran it in Radom in 2024; ask @ala:localhost for the details.", sender=LEADER)
    site.say("!experience name Beata Nowak", sender=NAMED)
    site.say(f"!experience {repair} In Płock it brings 40 residents a month.", sender=NAMED)
    events = {}
    for key, form in (
            ("warsaw", f"Title: Housing First training\nStart: {_day(9)} 10:00\nEnd: {_day(9)} 12:30\n"
                       "Timezone: Europe/Warsaw\nPlace: Warsaw, Nowogrodzka 1\nDescription: Bring **your** questions."),
            ("newyork", f"Title: Study visit to New York\nStart: {_day(4)} 09:00\nDuration: 2h\n"
                        "Timezone: America/New_York\nLink: https://example.org/visit"),
            ("draft", f"Title: Secret draft meeting\nStart: {_day(6)} 18:00")):
        events[key] = int(re.search(r"(\d+)", site.say("!event add " + form)).group(1))
        if key != "draft":
            site.say(f"!event confirm {events[key]}")
    return Seeded(site, xss, pending, repair, fridge, events)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory) -> Seeded:
    with Site(tmp_path_factory.mktemp("web")) as site:
        yield seed(site)


@pytest.fixture(scope="session")
def site(seeded) -> Site:
    return seeded.site
