"""Messages the bot cannot decrypt: why (``m.room_key.withheld``), and waiting for keys that come late.

A sender's client may withhold a room key from the bot's device and say why, in a to-device
``m.room_key.withheld`` event: ``m.unverified`` (it only shares with verified or signed devices),
``m.blacklisted`` (it blocked the bot's device), ``m.unauthorised`` (it decided the bot may not read
that part of the room), ``m.unavailable`` (asked for a key it does not have), ``m.no_olm`` (it could not
set up an encrypted channel to the bot's device). Only the last, and a key that simply has not
arrived yet, are helped by sending the message again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

CODES = ("m.unverified", "m.blacklisted", "m.unauthorised", "m.unavailable", "m.no_olm")
WITHHELD_TYPES = ("m.room_key.withheld", "org.matrix.room_key.withheld")
REMEMBER = 10_000  # withheld notices and waiting events kept in memory


def notice_key(code: str | None, own_device_signed: bool) -> str:
    """The catalogue key of the notice for an undecryptable command (``runtime.undecryptable.*``)."""
    if code == "m.unverified":
        return "runtime.undecryptable.unverified" if own_device_signed else "runtime.undecryptable.unsigned"
    if code in ("m.blacklisted", "m.unauthorised", "m.no_olm"):
        return "runtime.undecryptable." + code.removeprefix("m.")
    return "runtime.undecryptable"  # no reason given (or m.unavailable): the key may still come


@dataclass
class Waiting:
    """An event received undecryptable, kept so that a key arriving later still gets it answered."""

    room_id: str
    source: dict[str, Any]
    received: float


class KeyWaits:
    """Withheld codes and room keys as they arrive; undecryptable events waiting for their key."""

    def __init__(self) -> None:
        self.withheld: OrderedDict[str, str] = OrderedDict()  # session id → code
        self.waiting: OrderedDict[str, Waiting] = OrderedDict()  # event id → the encrypted event
        self._pulse = asyncio.Event()

    def note_withheld(self, content: dict[str, Any]) -> None:
        session_id, code = content.get("session_id"), content.get("code")
        if isinstance(session_id, str) and isinstance(code, str):
            self.withheld[session_id] = code
            self.withheld.move_to_end(session_id)
            while len(self.withheld) > REMEMBER:
                self.withheld.popitem(last=False)
            self.pulse()

    def pulse(self) -> None:
        """Wake whoever waits: a key or a withheld notice came in."""
        self._pulse.set()
        self._pulse = asyncio.Event()

    async def changed(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._pulse.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def wait_later(self, event_id: str, room_id: str, source: dict[str, Any]) -> None:
        self.waiting[event_id] = Waiting(room_id, source, time.time())
        while len(self.waiting) > REMEMBER:
            self.waiting.popitem(last=False)

    def for_sessions(self, session_ids: set[str], max_age: float) -> list[tuple[str, Waiting]]:
        """The waiting events of these sessions (taken out), dropping the ones older than ``max_age``."""
        now = time.time()
        found = []
        for event_id, waiting in list(self.waiting.items()):
            if now - waiting.received > max_age:
                del self.waiting[event_id]
            elif (waiting.source.get("content") or {}).get("session_id") in session_ids:
                del self.waiting[event_id]
                found.append((event_id, waiting))
        return found
