"""The events catalogue: complete in both languages and covering every key the code raises."""

import re
import string
from pathlib import Path

from bot.errors import CommandError
from bot.i18n import Translator
from commands.events.messages import CATALOGUE, FIELD_LABELS, EventError

SOURCES = Path(__file__).resolve().parents[2] / "commands" / "events"


def placeholders(template):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys_and_placeholders():
    assert CATALOGUE["en"].keys() == CATALOGUE["pl"].keys()
    for key in CATALOGUE["en"]:
        assert key.startswith("events.")
        assert placeholders(CATALOGUE["en"][key]) == placeholders(CATALOGUE["pl"][key]), key


def test_every_key_raised_in_the_code_is_in_the_catalogue():
    raised = set()
    for path in SOURCES.glob("*.py"):
        raised |= set(re.findall(r'"(events\.error\.[a-z_]+)"', path.read_text()))
    assert raised, "no keys found"
    assert raised <= CATALOGUE["en"].keys()


def test_catalogue_registers_and_field_labels_translate():
    tr = Translator()
    tr.register(CATALOGUE)
    assert tr("pl", "events.field.registration_until") == "Zapisy do"
    assert tr("en", "events.field.start") == "Start"
    assert set(FIELD_LABELS) >= {"title", "start", "end", "duration", "timezone", "place", "link", "description",
                                 "registration_until", "registration_link", "rooms", "reminders", "repeat"}


def test_event_error_is_a_command_error_for_the_router():
    err = EventError("events.error.in_past", field="start", value="2020-01-01 10:00")
    assert isinstance(err, CommandError)
    labelled = err.labelled("pl")
    assert labelled.params["field"] == "Początek" and labelled.field_id == "start"
    assert err.labelled("en", {"start": "START"}).params["field"] == "START"
