"""``[http] public_url``: the chat links a solution or an event to its page, and the pages work behind a
reverse proxy that serves them under a path of its own (here a small aiohttp proxy on 127.0.0.1)."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientSession, web

from bot.compose import create_hub, parse_config
from bot.console import ConsoleTransport
from bot.synapse import free_port
from storage.archive import import_records
from storage.search import STARTER_ARCHIVE
from tests.web.conftest import LEADER
from tests.web.site import Site, get
from tests.web.test_pages import Page


def test_a_published_solution_in_chat_links_to_its_page(seeded):
    site = seeded.site
    reply = site.say(f"!solution {seeded.repair}")
    url = f"{site.url}/solutions/{seeded.repair}?lang=pl"
    assert reply.endswith(f"🌐 W internecie: {url}")
    shown = Page(get(url).text)
    assert shown.h1 == "Repair café in the library" and shown.lang == "pl"
    english = site.say("!lang en\n") and site.say(f"!solution {seeded.repair}")
    site.say("!lang pl")
    assert english.endswith(f"🌐 On the web: {site.url}/solutions/{seeded.repair}?lang=en")


def test_search_results_in_chat_link_each_title_to_its_page(seeded):
    site = seeded.site
    reply = site.say("!szukaj repair")
    lines = [line for line in reply.split("\n") if line.startswith("• #")]
    assert lines
    for line in lines:
        number = re.match(r"• #(\d+) ", line).group(1)
        assert f"({site.url}/solutions/{number}?lang=pl)" in line, line
    similar = site.say(f"!similar {seeded.repair}")
    assert f"({site.url}/solutions/{seeded.fridge}?lang=pl)" in similar


def test_a_solution_waiting_for_review_has_no_link(seeded):
    reply = seeded.site.say(f"!solution {seeded.pending}", sender=LEADER)  # its author may read it
    assert "Pending" in reply and "🌐" not in reply and "http" not in reply


def test_an_event_in_chat_links_to_its_place_on_the_events_page(seeded):
    site = seeded.site
    number = seeded.events["warsaw"]
    reply = site.say(f"!event {number}")
    url = f"{site.url}/events?lang=pl#event-{number}"
    assert reply.endswith(f"🌐 W internecie: {url}")
    assert f'id="event-{number}"' in get(url).text
    assert "🌐" not in site.say(f"!event {seeded.events['draft']}")  # a draft is on no page


async def test_without_public_url_the_chat_gives_no_links(tmp_path):
    config = parse_config(f"""
[matrix]
user_id = "@hub:localhost"
password = "x"
[bot]
language = "en"
[database]
url = "sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
""")
    hub = await create_hub(config)
    try:
        async with hub.sessions() as session:
            await import_records(session, "starter.json", STARTER_ARCHIVE.read_text(encoding="utf-8"), publish=True)
            await session.commit()
        console = ConsoleTransport(hub, "@anna:localhost", tmp_path)
        for command in ("!solution 19", "!search housing", "!similar 19"):
            (reply,) = await console.handle(command)
            assert "http://" not in reply and "🌐" not in reply and "#19" in reply + " #19", command
    finally:
        await hub.close()


# ----- behind a reverse proxy under /hub -----------------------------------------------------

@pytest.fixture(scope="module")
def proxied(seeded, tmp_path_factory):
    """A second bot on the same database with ``public_url`` = the proxy's address + ``/hub``, and the proxy,
    which strips ``/hub`` and passes everything else on (as nginx's ``proxy_pass …/;`` does)."""
    port = free_port()
    with Site(tmp_path_factory.mktemp("proxied"), public_url=f"http://127.0.0.1:{port}/hub",
              database=seeded.site.database, store=seeded.site.store) as site:
        async def start():
            client = ClientSession(auto_decompress=False)

            async def forward(request: web.Request) -> web.StreamResponse:
                path = request.path_qs.removeprefix("/hub") or "/"
                async with client.get(site.url + path, headers={"Accept-Encoding": "identity",
                                                                **{k: v for k, v in request.headers.items()
                                                                   if k.lower() in ("cookie", "accept-language")}},
                                      allow_redirects=False) as upstream:
                    body = await upstream.read()
                    headers = {k: v for k, v in upstream.headers.items()
                               if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                                    "content-encoding")}
                    return web.Response(status=upstream.status, body=body, headers=headers)

            app = web.Application()
            app.router.add_get("/hub/{tail:.*}", forward)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            return runner, client

        runner, client = site.run(start())
        try:
            yield site, f"http://127.0.0.1:{port}"
        finally:
            async def stop():
                await client.close()
                await runner.cleanup()
            site.run(stop())


def test_behind_a_proxy_every_link_works_under_its_path(proxied):
    site, proxy = proxied
    response = get(proxy + "/hub/?q=housing&lang=en")
    assert response.status == 200
    shown = Page(response.text)
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', response.text).group(1)
    assert canonical == f"{proxy}/hub/?q=housing&amp;lang=en"
    internal = [link for link in shown.links if not link.startswith(("http", "#", "mailto"))]
    assert internal and all(link.startswith("/hub/") for link in internal), internal
    result = next(link for link in internal if link.startswith("/hub/solutions/"))
    for link in (result, next(link for link in internal if link.startswith("/hub/static/")), "/hub/events?lang=en",
                 "/hub/calculator?lang=en", "/hub/events.ics"):
        assert get(proxy + link).status == 200, link
    settings = next(link for link in internal if link.startswith("/hub/settings?"))
    moved = get(proxy + settings)
    assert moved.status == 303 and moved.headers["Location"] == "/hub/?q=housing&lang=en"
    reply = site.say("!solution 19")
    url = re.search(r"(http://\S+)$", reply).group(1)
    assert url == f"{proxy}/hub/solutions/19?lang=pl" and get(url).status == 200
