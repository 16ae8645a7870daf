"""matrix-nio's client, taught what Element's crypto does and nio does not:

- ``[matrix] share_keys_with = "cross-signed"``: room keys go only to devices signed by their owner's
  self-signing key (what Element's "signed devices only" mode does); the others get
  ``m.room_key.withheld`` with the code ``m.unverified``, so their client can say why;
- ``/keys/query`` answers are read for the cross-signing keys nio ignores, to know which devices are
  signed by their owner;
- nio's own handling of to-device verification events is switched off: the bot's verification
  (``bot.matrix.crypto.verification``) answers them, and nio's would cancel what it does not understand;
- each to-device message changes the key store in one transaction (nio writes each change on its own).
"""

from __future__ import annotations

import logging
from typing import Any

from nio import AsyncClient, KeysQueryResponse
from nio.api import Api
from nio.crypto import ENCRYPTION_ENABLED
from nio.event_builders import ToDeviceMessage
from nio.exceptions import LocalProtocolError

from bot.matrix.crypto.cross_signing import signed_devices

log = logging.getLogger(__name__)

SHARE_POLICIES = ("all", "cross-signed")
WITHHELD_UNVERIFIED = "The sender has disabled encrypting to unverified devices."


class KeysQueryWithIdentities(KeysQueryResponse):
    """nio's ``/keys/query`` response, keeping the whole answer (master and self-signing keys too)."""

    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, parsed_dict: dict[Any, Any]):
        response = KeysQueryResponse.from_dict(parsed_dict)
        if isinstance(response, KeysQueryResponse):
            response.__class__ = cls
            response.raw = parsed_dict
        return response


class SignedDevices:
    """Which devices are signed by their owner: ``(user, device) → ed25519 key``, per queried user."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], str] = {}
        self.queried: set[str] = set()

    def update(self, response: dict[str, Any]) -> set[str]:
        """Take in a ``/keys/query`` answer; return the users with a device that became signed."""
        users = set((response.get("device_keys") or {}).keys())
        before = {k: v for k, v in self.keys.items() if k[0] in users}
        for key in before:
            del self.keys[key]
        found = signed_devices(response)
        self.keys.update(found)
        self.queried |= users
        return {user for (user, device), key in found.items() if before.get((user, device)) != key}

    def is_signed(self, user_id: str, device_id: str, ed25519: str | None) -> bool:
        return ed25519 is not None and self.keys.get((user_id, device_id)) == ed25519


if ENCRYPTION_ENABLED:
    from nio.crypto import Olm

    class PolicyOlm(Olm):
        """nio's Olm machine with the bot's key-sharing policy."""

        share_policy = "all"
        signed: SignedDevices
        withheld_sent: set[tuple[str, str, str]]

        def is_device_blacklisted(self, device) -> bool:
            if super().is_device_blacklisted(device):
                return True
            if self.share_policy == "cross-signed":
                return not self.signed.is_signed(device.user_id, device.id, device.ed25519)
            return False

        def share_group_session_parallel(self, room_id, users, ignore_unverified_devices=False):
            yield from super().share_group_session_parallel(room_id, users, ignore_unverified_devices)
            if self.share_policy == "cross-signed":
                self._withhold_from_unsigned(room_id, users)

        def _withhold_from_unsigned(self, room_id: str, users: list[str]) -> None:
            session = self.outbound_group_sessions.get(room_id)
            if session is None:
                return
            for user_id in users:
                for device in self.device_store.active_user_devices(user_id):
                    if device.id == self.device_id and user_id == self.user_id:
                        continue
                    mark = (session.id, user_id, device.id)
                    if mark in self.withheld_sent or self.signed.is_signed(user_id, device.id, device.ed25519):
                        continue
                    self.withheld_sent.add(mark)
                    self.outgoing_to_device_messages.append(ToDeviceMessage(
                        "m.room_key.withheld", user_id, device.id,
                        {"algorithm": self._megolm_algorithm, "room_id": room_id, "session_id": session.id,
                         "sender_key": self.account.identity_keys["curve25519"], "code": "m.unverified",
                         "reason": WITHHELD_UNVERIFIED}))

        def handle_to_device_event(self, event):
            """One to-device message, and what it changes in the key store — the Olm session it moved on, the
            room key it carried, the one-time key it used up — written in one SQLite transaction.

            nio commits each of those on its own. A process killed between them (kill -9 while a sync is being
            read, which is when a failover kills it) kept the moved-on Olm session but not the room key; the
            homeserver sends the message again (the sync token was not saved yet), and the Olm session can no
            longer decrypt it ("Found matching session yet decryption failed"): the key was lost for good and
            the device could never read the messages of that session. All or nothing, the message is read
            again after the restart."""
            database = getattr(self.store, "database", None)
            if database is None or not hasattr(database, "atomic"):
                return super().handle_to_device_event(event)
            with database.bind_ctx(self.store.models), database.atomic():
                return super().handle_to_device_event(event)

        def handle_key_verification(self, event) -> None:
            """Verification is the bot's own (bot.matrix.crypto.verification): nio's must not answer or cancel."""
            return None
else:  # pragma: no cover - the e2e extra is a dependency
    PolicyOlm = None  # type: ignore[assignment,misc]


class HubClient(AsyncClient):
    """The bot's nio client: its Olm machine follows ``share_policy`` and knows who is cross-signed."""

    def __init__(self, *args: Any, share_policy: str = "all", **kwargs: Any):
        super().__init__(*args, **kwargs)
        if share_policy not in SHARE_POLICIES:
            raise ValueError(f"share_keys_with must be one of {SHARE_POLICIES}")
        self.share_policy = share_policy
        self.signed_devices = SignedDevices()

    def load_store(self) -> None:
        super().load_store()
        if self.olm is not None and PolicyOlm is not None and not isinstance(self.olm, PolicyOlm):
            self.olm.__class__ = PolicyOlm
            self.olm.share_policy = self.share_policy
            self.olm.signed = self.signed_devices
            self.olm.withheld_sent = set()

    async def keys_query(self):
        user_list = self.users_for_key_query
        if not user_list:
            raise LocalProtocolError("No key query required.")
        method, path, data = Api.keys_query(self.access_token, user_list)
        response = await self._send(KeysQueryWithIdentities, method, path, data)
        if isinstance(response, KeysQueryWithIdentities):
            self.learn_identities(response.raw)
        return response

    def learn_identities(self, response: dict[str, Any]) -> None:
        """Take in who is cross-signed; a device that became signed gets the next room key at once."""
        newly_signed = self.signed_devices.update(response)
        if newly_signed and self.olm is not None and self.share_policy == "cross-signed":
            for room in self.rooms.values():
                if newly_signed & set(room.users):
                    self.olm.outbound_group_sessions.pop(room.room_id, None)

    def users_without_identity(self, room_id: str) -> list[str]:
        """Members of a room whose cross-signing this process has not looked up yet."""
        room = self.rooms.get(room_id)
        return [u for u in (room.users if room else {}) if u not in self.signed_devices.queried]
