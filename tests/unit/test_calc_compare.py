"""``!calc compare A B``: two saved scenarios side by side, in the reader's language. (Added as the check of the
redesign: the whole command lives in commands/calculator/.)"""

from __future__ import annotations

from bot.compose import create_hub, parse_config
from bot.console import ConsoleTransport
from tests.unit.test_console import write_config


async def test_two_saved_scenarios_side_by_side_in_both_languages(tmp_path, db_url):
    path = write_config(tmp_path, db_url, "en")
    hub = await create_hub(parse_config(path.read_text(), path, env={}))
    try:
        console = ConsoleTransport(hub, "@anna:localhost", tmp_path / "files")
        await console.handle("!calc unemployment people=30")
        await console.handle("!calc unemployment people=30 effect=0.5")
        (text,) = await console.handle("!calc compare 1 2")
        assert text.startswith("#1 and #2 side by side")
        assert "NPV = G − K | PLN 543,998 | PLN 845,330" in text
        assert "#2 saves more net: PLN 301,333 more." in text
        await console.handle("!lang pl")
        (text,) = (await console.handle("!kalkulator porownaj 2 1"))[0].replace("\xa0", " "),
        assert "NPV = G − K | 845 330 zł | 543 998 zł" in text and "#2 daje więcej oszczędności netto" in text
        assert await console.handle("!calc compare 1 9") == ["Nie ma zapisanego scenariusza #9."]
    finally:
        await hub.close()
