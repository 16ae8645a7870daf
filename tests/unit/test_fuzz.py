"""Anything typed into a room: the bot ignores it or answers clearly, never with an internal error."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.compose import create_hub, features
from bot.compose import parse_config
from bot.console import ConsoleTransport
from bot.messages import CATALOGUE
from tests.backends import rows

INTERNAL = {CATALOGUE["en"]["error.internal"], CATALOGUE["pl"]["error.internal"]}


def command_words() -> list[str]:
    """Every command, alias and subcommand name the hub knows, so the fuzzer reaches real handlers."""
    words: set[str] = set()

    def walk(commands):
        for command in commands:
            words.update(command.names())
            walk(command.subcommands.values())

    for command_set in features():
        walk(command_set.commands)
    return sorted(words)


WORDS = command_words()
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(["pl", "en", "EN", "#1", "#0", "-1", "1e309", "nan", "0", "999999999999999999999", "x=1",
                     "key=", "=v", 'a="b c"', "„cytat”", "“quote”", '"', "„", "«", "»", "”", "\\", "`", "**",
                     "<b>", "[x](javascript:alert(1))", "\n", "\n\n", "\t", "Tytuł: x", "Field: value", "!", "!!",
                     "@anna:localhost", "!room:x", "#room:x", "ąćęłńóśźż", "🌼", "\u202e", "\x00", "\r\n"]),
    st.text(max_size=12),
)
COMMANDS = st.builds(
    lambda prefix, words, seps: prefix + "".join(w + s for w, s in zip(words, seps)),
    st.sampled_from(["!", "!", "!", "! ", "!1", ""]),
    st.lists(PIECES, min_size=1, max_size=8),
    st.lists(st.sampled_from([" ", " ", "", "\n", "  "]), min_size=8, max_size=8),
)
LONG = st.builds(lambda word, n, tail: f"!{word} " + tail * n, st.sampled_from(WORDS),
                 st.integers(min_value=1_000, max_value=20_000), st.sampled_from(["a ", "„x ", "ż", "\n", "k=v "]))
MESSAGES = st.one_of(COMMANDS, st.text(max_size=300), st.text(max_size=50).map(lambda t: "!" + t), LONG)


def test_any_message_is_ignored_or_answered_never_an_internal_error(tmp_path, backend, db_url):
    config = parse_config(f"""
[matrix]
user_id = "@hub:localhost"
password = "fuzz-password"
[bot]
admins = ["@admin:localhost"]
[database]
url = "{db_url}"
""", tmp_path / "config.toml", env={})

    with asyncio.Runner() as runner:
        hub = runner.run(create_hub(config))
        leader = ConsoleTransport(hub, "@anna:localhost", tmp_path / "files")
        admin = ConsoleTransport(hub, "@admin:localhost", tmp_path / "files")
        answered = ignored = 0

        @settings(max_examples=300, deadline=None, database=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(MESSAGES, st.booleans())
        def check(text, as_admin):
            nonlocal answered, ignored
            console = admin if as_admin else leader
            hub.platform = console  # the hub asks its transport about rooms and roles
            replies = runner.run(console.handle(text))
            if not hub.router.is_command(text):
                assert replies == [], (text, replies)
                ignored += 1
                return
            assert replies, f"no answer to {text[:200]!r}"
            for reply in replies:
                assert reply.strip(), f"an empty answer to {text[:200]!r}"
                assert reply not in INTERNAL, f"internal error on {text[:200]!r}"
            answered += 1

        try:
            check()
            assert answered > 50 and ignored > 10, (answered, ignored)
            # Afterwards the bot and its database still work.
            hub.platform = leader
            runner.run(leader.handle("!lang en"))
            assert runner.run(leader.handle("!whoami")) == [
                "You are @anna:localhost; your role in this room: leader; language: en."]
            assert runner.run(leader.handle("!ping"))[0].startswith("pong!")
            assert runner.run(rows(db_url, "SELECT language FROM user_settings WHERE user_id = '@anna:localhost'")) == [
                ("en",)]
            if backend.name == "sqlite":
                assert runner.run(rows(db_url, "PRAGMA integrity_check")) == [("ok",)]
        finally:
            runner.run(hub.close())
