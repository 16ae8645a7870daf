"""The archive in a real room: share, moderate, search in both languages, experiences, escaping."""

from __future__ import annotations

import subprocess
import sys

import pytest

from storage.search import STARTER_ARCHIVE
from tests.harness import BotProcess, reply_text

pytestmark = pytest.mark.synapse


@pytest.fixture
async def archive_room(homeserver, leader_room, tmp_path, empty_db_url):
    room, bot_id, people = await leader_room("mod", "leader", power={"mod": 50})
    moderator, leader = people["mod"], people["leader"]
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room], user_id=bot_id)
    loaded = subprocess.run([sys.executable, "-m", "bot.cli", "archive", "import", str(STARTER_ARCHIVE), "--publish", "-c",
                             str(bot.config_path)], cwd=bot.workdir, capture_output=True, text=True, timeout=120)
    assert "Imported 36 solution(s)" in loaded.stdout, loaded.stderr
    bot.start()
    yield room, bot_id, moderator, leader
    bot.stop()


async def test_share_moderate_search_and_experiences(archive_room):
    room, bot_id, moderator, leader = archive_room
    shared = reply_text(await leader.ask(room, "!share Repair café in the library\nProblem: broken things end up "
                                               "in the bin\nSolution: volunteers repair them every month\n"
                                               "Group: seniors, local community\nStage: tested\nTags: repair"))
    assert "#37" in shared and "waits for a moderator" in shared and "Areas" in shared  # asks for what is missing
    assert "#37" not in reply_text(await leader.ask(room, "!search repair café library"))  # not yet published

    assert "the moderator role" in reply_text(await leader.ask(room, "!mod approve 37"))
    assert "#37 Repair café in the library" in reply_text(await moderator.ask(room, "!mod queue"))
    assert "#37 is published" in reply_text(await moderator.ask(room, "!mod approve 37"))
    found = await leader.ask(room, "!search repair cafe library")
    assert "#37 Repair café in the library" in reply_text(found)
    assert "<strong>" in found["content"]["formatted_body"]  # the matching words are highlighted

    # Polish query, English record and the other way round; typos and missing diacritics.
    assert "#37 Repair café in the library" in reply_text(await leader.ask(room, "!szukaj kawiarenka naprawcza"))
    homeless = await leader.ask(room, "!szukaj bezdomność")
    assert "Housing First" in reply_text(homeless)
    # #30 matches only through its area's label: the snippet says so, the word in bold.
    assert "#30" in reply_text(homeless) and "Areas: housing and <strong>homelessness</strong>" in \
        homeless["content"]["formatted_body"]
    assert "Housing First" in reply_text(await leader.ask(room, "!search bezdomnosc"))
    english = reply_text(await leader.ask(room, "!search long-term unemployed"))
    assert "Social Integration Club" in english or "Centrum Integracji" in english
    page = reply_text(await leader.ask(room, "!search seniors"))
    assert "page 1 of" in page and "!more" in page
    assert "page 2 of" in reply_text(await leader.ask(room, "!wiecej"))
    filtered = reply_text(await leader.ask(room, "!search opieka group:seniorzy"))
    assert "result(s)" in filtered

    assert "added to #19" in reply_text(await leader.ask(room, "!experience 19 We piloted it in Radom: 15 flats."))
    full = reply_text(await leader.ask(room, "!solution 19"))
    assert "Housing First" in full and "We piloted it in Radom" in full and leader.user_id in full
    assert "Solutions like #19" in reply_text(await leader.ask(room, "!similar 19"))

    await leader.ask(room, "!lang pl")
    assert "Wyniki" in reply_text(await leader.ask(room, "!szukaj rodzinom"))


async def test_rejection_tells_the_author_and_shared_text_is_never_html(archive_room):
    room, bot_id, moderator, leader = archive_room
    hostile = await leader.ask(room, "!share <img src=x onerror=alert(1)> **bold**\nProblem: testing escapes")
    assert "<img" not in hostile["content"]["formatted_body"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile["content"]["formatted_body"]
    rejected = await moderator.ask(room, "!mod reject 37 a test, not a solution")
    assert "#37 is rejected" in reply_text(rejected)
    told = await leader.wait_for(lambda e: e.get("sender") == bot_id and "was not published" in
                                 e["content"].get("body", ""))
    assert "a test, not a solution" in told["content"]["body"]
    assert leader.user_id in told["content"]["m.mentions"]["user_ids"]
    audit = reply_text(await moderator.ask(room, "!mod audit 5"))
    assert "archive.reject" in audit or "reject" in audit


async def test_the_author_hears_of_decisions_in_their_own_language(archive_room):
    """The author chose Polish; the moderator reads English: the notices to the author are Polish,
    and an approval is told too (here, in the room where both are)."""
    room, bot_id, moderator, leader = archive_room
    assert "po polsku" in reply_text(await leader.ask(room, "!lang pl"))
    await leader.ask(room, "!dodaj Kawiarenka naprawcza\nProblem: zepsute rzeczy trafiają na śmietnik")
    await leader.ask(room, "!dodaj Bank czasu\nProblem: sąsiedzi nie znają się nawzajem")
    assert "#37 is rejected" in reply_text(await moderator.ask(room, "!mod reject 37 to duplikat #12"))
    told = await leader.wait_for(lambda e: e.get("sender") == bot_id and "#37 „" in e["content"].get("body", ""))
    assert "nie zostało opublikowane. Powód: to duplikat #12" in told["content"]["body"]
    assert leader.user_id in told["content"]["m.mentions"]["user_ids"]
    assert "#38 is published" in reply_text(await moderator.ask(room, "!mod approve 38"))
    told = await leader.wait_for(lambda e: e.get("sender") == bot_id and "#38 „" in e["content"].get("body", ""))
    assert "Twoje rozwiązanie #38 „Bank czasu” zostało opublikowane." in told["content"]["body"]
    assert leader.user_id in told["content"]["m.mentions"]["user_ids"]


async def test_each_field_in_the_readers_language_or_marked(archive_room):
    room, bot_id, moderator, leader = archive_room
    await leader.ask(room, "!lang pl")
    polish = reply_text(await leader.ask(room, "!rozwiazanie 19"))  # Asunto ensin: an English title, no Polish
    assert polish.startswith("#19 Housing First: Finland's national programme to end long-term homelessness (en)")
    assert "Asunto ensin (fi)" in polish
    english = reply_text(await moderator.ask(room, "!solution 1"))  # a Polish record with an English title
    first_line, _, rest = english.partition("\n")
    assert not first_line.endswith("(pl)") and "(pl)" in rest  # the title is English, the description marked
    assert "(en)" in reply_text(await leader.ask(room, "!podobne 19"))
