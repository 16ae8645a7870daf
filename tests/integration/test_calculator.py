"""The calculator in a real room: the figures, the saved scenario and the uploaded chart."""

from __future__ import annotations

import re

import pytest

from tests.harness import BotProcess, reply_text

pytestmark = pytest.mark.synapse


@pytest.fixture
async def room(homeserver, leader_room, tmp_path, empty_db_url):
    room_id, bot_id, people = await leader_room("leader")
    leader = people["leader"]
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room_id], user_id=bot_id).start()
    yield room_id, leader, bot_id
    bot.stop()


async def test_calc_replies_with_figures_and_a_chart(room):
    room_id, leader, bot_id = room
    command = await leader.send(room_id, "!calc unemployment")
    text = await leader.wait_for(lambda e: e.get("sender") == bot_id and e["content"].get("msgtype") == "m.notice"
                                 and (e["content"].get("m.relates_to") or {}).get("m.in_reply_to", {})
                                 .get("event_id") == command)
    body = text["content"]["body"]
    # Worked example A of calculator.md, as a leader reads it.
    for figure in ("PLN 602,665", "PLN 240,000", "PLN 362,665", "PLN 660,373", "2.51", "151.1%", "year 3"):
        assert figure in body, figure
    assert "Wrong pocket" in body and "gmina" in body
    assert "Saved as scenario #1" in body
    image = await leader.wait_for(lambda e: e.get("sender") == bot_id and e["content"].get("msgtype") == "m.image")
    assert image["content"]["info"]["mimetype"] == "image/png" and image["content"]["info"]["w"] > 300
    downloaded = await leader.client.download(image["content"]["url"])
    assert downloaded.body[:8] == b"\x89PNG\r\n\x1a\n"

    again = reply_text(await leader.ask(room_id, "!calc scenario 1"))
    assert "Scenario #1 by " + leader.user_id in again and "PLN 362,665" in again


async def test_calc_in_polish_with_a_range_and_bad_input(room):
    room_id, leader, _bot = room
    await leader.ask(room_id, "!jezyk pl")
    body = reply_text(await leader.ask(room_id, "!kalkulator bezrobocie action.U.E=0.3..0.5"))
    assert re.search(r"362\s665 zł", body)  # Polish grouping, zł after the number
    assert "Monte Carlo" in body
    assert "#1" in body
    assert "nie może być ujemna" in reply_text(await leader.ask(room_id, "!calc unemployment people=-3"))
    unknown = reply_text(await leader.ask(room_id, "!calc unemployment foo=1"))
    assert "foo" in unknown and "start.<U|E>" in unknown
    assert "Nie ma zapisanego scenariusza #2" in reply_text(await leader.ask(room_id, "!calc scenario 2"))
    models = reply_text(await leader.ask(room_id, "!calc modele"))
    assert all(m in models for m in ("unemployment", "family", "seniors", "prison", "homelessness", "alcohol",
                                     "disability"))
    show = reply_text(await leader.ask(room_id, "!calc show seniors"))
    assert "źródło" in show.lower() or "zrodlo" in show.lower()
