"""The bot in a terminal: the same commands and replies as in a Matrix room, over a real database (each
test on SQLite and on PostgreSQL, see tests/backends.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import Hub
from bot.compose import create_hub, parse_config
from bot.console import CONSOLE_ROOM, ConsoleTransport
from bot.context import Incoming
from bot.reply import render_markdown
from storage import db
from storage.runtime import RoleRepository, SettingsRepository
from tests.backends import rows

ADMIN = "@admin:localhost"
LEADER = "@anna:localhost"


def write_config(folder: Path, url: str, language: str = "pl") -> Path:
    path = folder / "config.toml"
    path.write_text(f"""\
[matrix]
user_id = "@hub:localhost"
password = "console-test-password"
rooms = ["#leaders:localhost"]

[bot]
language = "{language}"
admins = ["{ADMIN}"]

[database]
url = "{url}"
""")
    return path


@pytest.fixture
async def open_console(tmp_path, db_url):
    """``await open_console(user)`` → a console transport on a Hub over one database (every call the same)."""
    hubs: list[Hub] = []

    async def make(user: str = LEADER, language: str = "pl") -> ConsoleTransport:
        path = write_config(tmp_path, db_url, language)
        hub = await create_hub(parse_config(path.read_text(), path, env={}))
        hubs.append(hub)
        return ConsoleTransport(hub, user, tmp_path / "files")

    yield make
    for hub in hubs:
        await hub.close()


async def say(console: ConsoleTransport, text: str) -> str:
    """Send one message; the bot's single reply, as the user would read it."""
    replies = await console.handle(text)
    assert len(replies) == 1, replies
    return replies[0]


async def test_help_lists_the_commands_this_user_may_use(open_console, tmp_path):
    leader = await open_console(LEADER, language="en")
    text = await say(leader, "!help")
    assert text.startswith("Commands you can use here (as leader):")
    for line in ["• !help (!pomoc) — the commands you may use, or one command's usage",
                 "• !ping — checks that the bot is alive and how long your message took to reach it",
                 "• !lang (!jezyk) — sets the language of my replies to you (pl or en)"]:
        assert line in text.splitlines()
    assert "!status" not in text  # a moderator's command
    assert text.endswith("Details of one command: !help ping")

    admin = await open_console(ADMIN, language="en")
    text = await say(admin, "!pomoc")
    assert text.startswith("Commands you can use here (as admin):")
    assert "• !status — the bot's state" in text


async def test_help_for_one_command(open_console):
    console = await open_console(LEADER, language="en")
    assert await say(console, "!help lang") == (
        "!lang — sets the language of my replies to you (pl or en)\n\n"
        "Usage: !lang pl|en\n"
        "Also: !jezyk, !język, !language\n"
        "Who may use it: anyone")
    assert await say(console, "!help !ping") == await say(console, "!help ping")
    assert await say(console, "!help nothing") == "There is no command nothing. Send !help for the list."
    # Nothing after the prefix: the list, not a crash.
    assert (await say(console, "!help !")).startswith("Commands you can use here")


async def test_ping_answers_pong(open_console):
    console = await open_console()
    text = await say(console, "!ping")
    assert text.startswith("pong! Twoja wiadomość dotarła do mnie po ") and text.endswith(" ms.")


async def test_cached_languages_and_roles_follow_what_is_committed(open_console):
    """The hub keeps languages and granted roles in memory: a commit from any session is seen at once,
    a write not yet committed (or rolled back) is not, and a read racing a commit caches nothing stale."""
    console = await open_console(LEADER)
    whoami = "Jesteś @anna:localhost; Twoja rola w tym pokoju: {role}; język: {lang}."
    assert await say(console, "!whoami") == whoami.format(role="lider", lang="pl")  # now cached
    sessions = db.make_sessionmaker(console.hub.engine)  # a session the hub knows nothing of

    async with sessions() as session:
        await RoleRepository(session).grant(LEADER, "coordinator", by=ADMIN)
        await SettingsRepository(session).set_language(LEADER, "en")
        await session.flush()
        # Written, not committed: the bot still sees the committed truth, and must not keep it after.
        assert await say(console, "!whoami") == whoami.format(role="lider", lang="pl")
        await session.commit()
    assert await say(console, "!whoami") == "You are @anna:localhost; your role in this room: coordinator; language: en."

    async with sessions() as session:
        await RoleRepository(session).revoke(LEADER, "coordinator")
        await session.rollback()
    assert await say(console, "!whoami") == "You are @anna:localhost; your role in this room: coordinator; language: en."
    async with sessions() as session:
        await RoleRepository(session).revoke(LEADER, "coordinator")
        await session.commit()
    assert await say(console, "!whoami") == "You are @anna:localhost; your role in this room: leader; language: en."


async def test_text_that_is_not_a_command_is_ignored(open_console):
    console = await open_console()
    for text in ["hello", "! wow", "!1 point", "", "ping!", "  !ping"]:
        assert await console.handle(text) == []


async def test_language_switch_is_remembered_across_a_restart(open_console):
    console = await open_console(LEADER)
    assert await say(console, "!whoami") == "Jesteś @anna:localhost; Twoja rola w tym pokoju: lider; język: pl."
    assert await say(console, "!LANG EN") == "From now on I will answer you in English."
    assert (await say(console, "!ping")).startswith("pong! Your message took")
    await console.hub.close()

    # A new process on the same database file: still English for Anna, Polish for everyone else.
    restarted = await open_console(LEADER)
    assert await say(restarted, "!whoami") == "You are @anna:localhost; your role in this room: leader; language: en."
    other = ConsoleTransport(restarted.hub, "@bob:localhost")
    assert (await say(other, "!ping")).startswith("pong! Twoja wiadomość")
    assert await say(restarted, "!język pl") == "Od teraz będę Ci odpowiadać po polsku."
    assert (await say(restarted, "!ping")).startswith("pong! Twoja wiadomość")


ERRORS = [
    ("!xyzzy",
     "I don't know the command xyzzy. Send !help to see what you can use.",
     "Nie znam polecenia xyzzy. Wyślij !help, aby zobaczyć dostępne polecenia."),
    ("!pnig",
     "I don't know the command pnig. Did you mean !ping? Send !help for the list.",
     "Nie znam polecenia pnig. Czy chodziło o !ping? Listę pokaże !help."),
    ("!lang",
     "Missing argument: language.\n\nUsage: !lang pl|en — more with !help lang",
     "Brakuje argumentu: język.\n\nUżycie: !lang pl|en — więcej: !help lang"),
    ("!lang de",
     "language cannot be de; choose one of: pl, en.\n\nUsage: !lang pl|en — more with !help lang",
     "język nie może mieć wartości de; wybierz jedną z: pl, en.\n\nUżycie: !lang pl|en — więcej: !help lang"),
    ("!ping **now** <b>x</b>",
     "I did not expect: **now** <b>x</b>\n\nUsage: !ping — more with !help ping",
     "Nie spodziewałem się: **now** <b>x</b>\n\nUżycie: !ping — więcej: !help ping"),
    ('!help "social housing',
     'A quote opened at character 7 is never closed ("). Close it or remove it.',
     'Cudzysłów otwarty na znaku 7 nie został zamknięty ("). Zamknij go albo usuń.'),
    ("!ping\nsecond line",
     "This command takes one line only.\n\nUsage: !ping — more with !help ping",
     "To polecenie przyjmuje tylko jedną linię.\n\nUżycie: !ping — więcej: !help ping"),
    ("!status",
     "Only a user with the moderator role (or higher) may use this command here; in this room you are: leader.",
     "Tego polecenia może tu użyć tylko moderator (lub wyższa rola); w tym pokoju jesteś: lider."),
]


@pytest.mark.parametrize("message, english, polish", ERRORS, ids=[e[0].split("\n")[0] for e in ERRORS])
async def test_errors_are_short_and_clear_in_both_languages(open_console, message, english, polish):
    console = await open_console(LEADER, language="en")
    assert await say(console, message) == english
    await say(console, "!lang pl")
    assert await say(console, message) == polish


async def test_status_is_for_admins(open_console):
    admin = await open_console(ADMIN, language="en")
    await say(admin, "!ping")
    text = await say(admin, "!status")
    assert text.startswith("Up for 0 h 0 min ")
    assert "serving 1 leader room(s); 1 command(s) handled since start; last sync — s ago." in text


async def test_user_text_in_a_reply_is_escaped_in_html(open_console):
    console = await open_console(LEADER, language="en")
    incoming_text = "!ping [click](https://evil.example) <img src=x>"
    outgoing = await console.hub.execute(Incoming("$e", CONSOLE_ROOM, LEADER, incoming_text, 0))
    _plain, html = render_markdown(outgoing[0].markdown)
    assert "<a" not in html and "<img" not in html
    assert "[click](https://evil.example) &lt;img src=x&gt;" in html


# --- leaders-hub console as a process --------------------------------------------------------------


def run_console(config: Path, stdin: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERS_HUB_")}
    return subprocess.run([sys.executable, "-m", "bot.cli", "console", "-c", str(config), *args],
                          input=stdin, capture_output=True, text=True, env=env, cwd=config.parent, timeout=120)


def test_the_console_command_reads_stdin_and_prints_replies(tmp_path, db_url):
    config = write_config(tmp_path, db_url)
    result = run_console(config, "!ping\nhello there\n!lang en\n!whoami\n!status\n!help \\\nping\n",
                         "--user", ADMIN)
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.rstrip("\n").split("\n\n")
    assert blocks[0].startswith("pong! Twoja wiadomość dotarła do mnie po ")
    assert blocks[1] == "From now on I will answer you in English."
    assert blocks[2] == "You are @admin:localhost; your role in this room: admin; language: en."
    assert blocks[3].startswith("Up for ")
    # A line ending in a backslash continues on the next one: `!help` + `ping` on a second line.
    assert blocks[4].startswith("!ping — checks that the bot is alive")
    assert len(blocks) == 6  # help ping has two paragraphs; "hello there" got no answer
    assert "console-test-password" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # What the process stored is in the database for the next one.
    assert asyncio.run(rows(db_url, "SELECT user_id, language FROM user_settings")) == [(ADMIN, "en")]


def test_the_console_with_a_broken_config_says_what_is_wrong(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[matrix]\nuser_id = "hub"\npassword = "p"\n')
    result = run_console(config, "!ping\n")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{config}:2: [matrix] user_id must be a Matrix user id like @hub:example.org" in result.stderr


def test_without_user_the_console_is_a_leader_and_what_it_shares_waits_for_review(tmp_path, db_url):
    """The console works on the live database: by default nothing it shares is published unreviewed."""
    config = write_config(tmp_path, db_url, language="en")
    result = run_console(config, "!whoami\n!share Repair café\\\nProblem: broken things end up in the bin\n"
                                 "!mod queue\n")
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.rstrip("\n").split("\n\n")
    assert blocks[0] == "You are @console:localhost; your role in this room: leader; language: en."
    assert blocks[1].startswith("Thank you! Your solution is #1; it waits for a moderator's review.")
    assert "Only a user with the moderator role" in result.stdout
    assert asyncio.run(rows(db_url, "SELECT status FROM solutions")) == [("pending",)]


def _console_at_a_terminal(config: Path, *args: str) -> str:
    """The console started at a real pseudo-terminal: what it prints before the first prompt."""
    import pty
    import select

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERS_HUB_")}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "console", "-c", str(config), *args],
                               stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env, cwd=config.parent)
    os.close(slave)
    seen = b""
    try:
        while b"> " not in seen and select.select([master], [], [], 60)[0]:
            seen += os.read(master, 4096)
        os.write(master, b"\x04")  # Ctrl-D
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return seen.decode().replace("\r\n", "\n")


def test_the_console_greeting_says_who_you_are_and_what_it_means(tmp_path, db_url):
    config = write_config(tmp_path, db_url)
    leader = _console_at_a_terminal(config)
    assert "you are @console:localhost (leader)" in leader and "waits in the moderation queue" in leader
    assert "--user" in leader
    admin = _console_at_a_terminal(config, "--user", ADMIN)
    assert f"you are {ADMIN} (admin)" in admin and "published at once" in admin


def test_the_console_on_a_new_database_exits_at_the_end_of_its_input(tmp_path, empty_db_url):
    config = write_config(tmp_path, empty_db_url)
    started = time.monotonic()
    result = run_console(config, "!ping\n!search bezdomność\n!events\n")  # run_console's timeout: 120 s
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("pong!") and "Brak nadchodzących wydarzeń." in result.stdout
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("inherited", ["default", "ignored"])
def test_an_interrupted_console_exits_although_it_was_waiting_for_input(tmp_path, db_url, inherited):
    """Ctrl-C while the console waits for a line (its input still open) ends it: the reader of the
    input is not a thread the event loop waits for at exit. Also when it was started with SIGINT
    ignored (as a shell starts background jobs, or a test runner may), because the console is the
    operator's interactive tool."""
    import signal

    config = write_config(tmp_path, db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERS_HUB_")}
    disposition = signal.SIG_IGN if inherited == "ignored" else signal.SIG_DFL
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "console", "-c", str(config)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, disposition))
    try:
        process.stdin.write("!ping\n")
        process.stdin.flush()
        assert process.stdout.readline().startswith("pong!")
        time.sleep(1)  # it is waiting for the next line now
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdin.close()


async def test_moderation_commands_run_in_the_console_against_its_rooms(open_console):
    """The console's room keeps members and power levels with the homeserver's rules, so an admin at the
    terminal kicks, mutes and checks the bot's power as in a Matrix room."""
    admin = await open_console(ADMIN, language="en")
    room = admin.rooms.rooms[CONSOLE_ROOM]
    room.join("@spam:localhost", "Spammer")
    room.join("@ala:localhost", "Ala")
    assert await say(admin, "!mod kick Spammer selling things") == "Removed @spam:localhost from console. (case #1)"
    assert room.members["@spam:localhost"].membership == "leave"
    assert "Muted @ala:localhost in console for 10m" in await say(admin, "!mod mute @ala:localhost 10m")
    assert room.levels.level("@ala:localhost") == -1 < room.levels.message_level
    assert "@ala:localhost may speak again in console" in await say(admin, "!mod unmute Ala")
    assert room.levels.entry("@ala:localhost") is None  # back to the room's default, as before the mute
    verify = await say(admin, "!mod verify")
    assert "room creator (above every level)" in verify and "Everything is in place." in verify
    audit = await say(admin, "!mod audit 5")
    assert "#1" in audit and "#3" in audit
