"""What a leader reads in a real room: their language only, names they know, what they may type."""

from __future__ import annotations

import re

import pytest

from tests.harness import BotProcess, reply_text

pytestmark = pytest.mark.synapse


@pytest.fixture
async def hub_room(homeserver, leader_room, tmp_path, empty_db_url):
    room, bot_id, people = await leader_room("coord", "leader", power={"coord": 50})
    bot = BotProcess(tmp_path / "bot", homeserver, database=empty_db_url, rooms=[room], user_id=bot_id).start()
    yield room, bot_id, people["coord"], people["leader"]
    bot.stop()


async def test_polish_replies_have_no_english_and_rooms_have_names(hub_room):
    room, bot_id, coord, leader = hub_room
    for member in (coord, leader):
        assert "po polsku" in reply_text(await member.ask(room, "!jezyk pl"))

    unknown = reply_text(await leader.ask(room, "!dodaj Kawiarenka\nProblem: zepsute rzeczy\nObszar: kosmos"))
    assert unknown.startswith("Obszar: nie znam wartości kosmos. Najbliższe: ") and "unknown" not in unknown
    shared = reply_text(await leader.ask(room, "!dodaj Kawiarenka naprawcza\nProblem: zepsute rzeczy\n"
                                               "Obszar: środowisko\nGrupa: seniorzy\nEtap: przetestowana"))
    assert "czeka na przegląd" in shared and "niemarnowanie" in shared and "seniorzy" in shared

    usage = reply_text(await coord.ask(room, "!mod dziennik zzz"))
    assert "Użycie: !mod audit [<filtry…>]" in usage and "filters" not in usage
    status = reply_text(await coord.ask(room, "!status"))
    assert re.search(r"Działam od \d+ godz\. \d+ min \d+ s;.* ostatnia synchronizacja \d+,\d s temu\.$", status.splitlines()[0]), status

    preview = reply_text(await coord.ask(room, "!wydarzenie dodaj\nTytuł: Spotkanie liderów\nPoczątek: jutro 18:00\n"
                                               "Pokoje: this"))
    assert "Pokoje: Leaders" in preview and room not in preview
    await coord.ask(room, "!wydarzenie potwierdz 1")
    shown = reply_text(await leader.ask(room, "!wydarzenie 1"))
    assert "Stan: zatwierdzone" in shown and "Pokoje: Leaders" in shown and "confirmed" not in shown
    await coord.ask(room, '!ogloszenie "za 2 dni" Zapisy trwają')
    assert "· Leaders" in reply_text(await coord.ask(room, "!ogloszenia"))

    roles = reply_text(await coord.ask(room, "!role"))
    assert roles.startswith("Role w tym pokoju (Leaders):") and room not in roles
    verify = reply_text(await coord.ask(room, "!mod sprawdz"))
    assert "Leaders: mój poziom uprawnień to" in verify and room not in verify
    broadcast = reply_text(await coord.ask(room, "!mod ogloszenie Szkolenie w piątek"))
    assert "Leaders" in broadcast and room not in broadcast
    audit = reply_text(await coord.ask(room, "!mod dziennik 3"))
    assert "w pokoju Leaders" in audit and room not in audit


async def test_calculator_help_and_long_input(hub_room):
    room, bot_id, coord, leader = hub_room
    english = reply_text(await coord.ask(room, "!calc unemployment"))
    assert "PLN " in english and "zł" not in english
    await leader.ask(room, "!lang pl")
    polish = reply_text(await leader.ask(room, "!kalkulator unemployment"))
    assert " zł" in polish and "PLN" not in polish
    draws = reply_text(await coord.ask(room, "!calc unemployment draws=100000000"))
    assert "“draws” = 100,000,000: allowed from 1 to 1,000,000." in draws and "e+" not in draws

    asked = await coord.send(room, "!calc sensitivity family")
    text = await coord.wait_reply(asked)
    assert "What matters most" in reply_text(text)
    image = await coord.wait_for(lambda e: e.get("sender") == bot_id and e.get("content", {}).get("msgtype") == "m.image"
                                 and e["content"].get("body", "").startswith("tornado-family"))
    assert image["content"]["info"]["mimetype"] == "image/png"

    help_share = reply_text(await coord.ask(room, "!help share"))
    assert "Group (Grupa), Area (Obszar), Stage (Etap)" in help_share and "!share fields" in help_share
    fields = reply_text(await coord.ask(room, "!share fields"))
    assert "seniors — older people / seniorzy" in fields and "tested — tested / przetestowana" in fields
    assert "environment_food — food waste and circular economy / niemarnowanie" in fields
    polish = reply_text(await leader.ask(room, "!szukaj pola"))
    assert "seniors — seniorzy / older people" in polish

    long = reply_text(await coord.ask(room, "!" + "x" * 5000))
    assert "xxx…" in long and len(long) < 300
    long_value = reply_text(await coord.ask(room, "!calc unemployment people=" + "9" * 5000))
    assert "…" in long_value and len(long_value) < 400
