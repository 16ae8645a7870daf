"""Interactive verification of the bot by a person (SAS, ``m.sas.v1``), as Element starts it.

An admin opens the bot's profile in Element and chooses Verify. Element sends
``m.key.verification.request`` — in a direct message (room events, related to the request by
``m.reference``) or to the bot's device (to-device, with a ``transaction_id``). The bot answers
``ready``; Element sends ``start``; the bot ``accept``s with a commitment to its ephemeral key; both
exchange ``key``; both sides now show the same seven emoji (or three numbers). The bot shows them
where its operator sees them — the log, and ``leaders-hub crypto verify`` in a terminal, which asks
whether they match — and only on the operator's yes sends its ``mac`` over its device key and its
master key. When Element's ``mac`` checks out against the admin's device and master keys, the bot
sends ``done`` and signs the admin's master key with its user-signing key; Element, having checked
the bot's keys the same way, shows the bot as verified.

Only admins from the config may verify the bot; other requests are cancelled. The operator's answer
travels through files in ``store_path/verification/`` (``pending-<id>.json`` written by the bot,
``answer-<id>.json`` by the terminal), so no port is opened for it. Crypto: vodozemac (the library
Element's Rust crypto uses) for the curve25519 exchange and the HKDF/HMAC of the SAS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import vodozemac

from bot.matrix.crypto.signing import b64encode, canonical_json

log = logging.getLogger(__name__)

METHOD = "m.sas.v1"
KEY_AGREEMENT = "curve25519-hkdf-sha256"
MACS = ("hkdf-hmac-sha256.v2", "org.matrix.msc3783.hkdf-hmac-sha256", "hkdf-hmac-sha256")  # best first
SAS_KINDS = ("emoji", "decimal")
TIMEOUT = 600.0  # the spec's ten minutes
REQUEST_MAX_AGE = 600.0

# The spec's 64 SAS emoji (data-definitions/sas-emoji.json), by index.
EMOJI = [("🐶", "Dog"), ("🐱", "Cat"), ("🦁", "Lion"), ("🐎", "Horse"), ("🦄", "Unicorn"), ("🐷", "Pig"),
         ("🐘", "Elephant"), ("🐰", "Rabbit"), ("🐼", "Panda"), ("🐓", "Rooster"), ("🐧", "Penguin"),
         ("🐢", "Turtle"), ("🐟", "Fish"), ("🐙", "Octopus"), ("🦋", "Butterfly"), ("🌷", "Flower"), ("🌳", "Tree"),
         ("🌵", "Cactus"), ("🍄", "Mushroom"), ("🌏", "Globe"), ("🌙", "Moon"), ("☁️", "Cloud"), ("🔥", "Fire"),
         ("🍌", "Banana"), ("🍎", "Apple"), ("🍓", "Strawberry"), ("🌽", "Corn"), ("🍕", "Pizza"), ("🎂", "Cake"),
         ("❤️", "Heart"), ("😀", "Smiley"), ("🤖", "Robot"), ("🎩", "Hat"), ("👓", "Glasses"), ("🔧", "Spanner"),
         ("🎅", "Santa"), ("👍", "Thumbs Up"), ("☂️", "Umbrella"), ("⌛", "Hourglass"), ("⏰", "Clock"), ("🎁", "Gift"),
         ("💡", "Light Bulb"), ("📕", "Book"), ("✏️", "Pencil"), ("📎", "Paperclip"), ("✂️", "Scissors"),
         ("🔒", "Lock"), ("🔑", "Key"), ("🔨", "Hammer"), ("☎️", "Telephone"), ("🏁", "Flag"), ("🚂", "Train"),
         ("🚲", "Bicycle"), ("✈️", "Aeroplane"), ("🚀", "Rocket"), ("🏆", "Trophy"), ("⚽", "Ball"), ("🎸", "Guitar"),
         ("🎺", "Trumpet"), ("🔔", "Bell"), ("⚓", "Anchor"), ("🎧", "Headphones"), ("📁", "Folder"), ("📌", "Pin")]


class Cancel(Exception):
    def __init__(self, code: str, reason: str):
        self.code, self.reason = code, reason
        super().__init__(f"{code}: {reason}")


def emoji_of(indices: list[int] | bytes) -> list[tuple[str, str]]:
    """Seven emoji from the first 42 bits of the SAS bytes (vodozemac gives them as indices)."""
    return [EMOJI[i] for i in indices]


def commitment(public_key: str, start_content: dict[str, Any]) -> str:
    """What ``accept`` commits to: SHA-256 of our ephemeral key (base64) and the canonical ``start``."""
    return b64encode(hashlib.sha256(public_key.encode() + canonical_json(start_content)).digest())


@dataclass
class Flow:
    """One verification: in a room (``room_id`` set; ``flow_id`` is the request's event id) or to-device."""

    flow_id: str
    other_user: str
    other_device: str
    room_id: str | None = None
    state: str = "requested"  # requested → ready → accepted → keys → shown → confirmed → done | cancelled
    started: float = field(default_factory=time.monotonic)
    sas: Any = None
    established: Any = None
    their_key: str | None = None
    mac_method: str | None = None
    start_content: dict[str, Any] | None = None
    their_mac: dict[str, Any] | None = None
    confirmed: bool = False
    their_done: bool = False
    we_sent_done: bool = False
    emoji: list[tuple[str, str]] = field(default_factory=list)
    decimals: tuple[int, ...] = ()
    cancel_code: str | None = None

    @property
    def label(self) -> str:
        return hashlib.sha256(self.flow_id.encode()).hexdigest()[:12]


SendRoom = Callable[[str, str, dict[str, Any]], Awaitable[None]]
SendToDevice = Callable[[str, str, str, dict[str, Any]], Awaitable[None]]
KeysOf = Callable[[str, str], Awaitable[tuple[str | None, dict[str, Any] | None]]]


class Verifications:
    """Every verification the bot takes part in. ``handle_*`` take events; the operator's answers come
    from ``answers_dir``; ``tick()`` (called often) picks them up and times flows out."""

    def __init__(self, user_id: str, device_id: str, device_ed25519: str, admins: set[str], folder: Path,
                 send_room: SendRoom, send_to_device: SendToDevice, keys_of: KeysOf,
                 own_master: Callable[[], str | None], sign_user: Callable[[str, dict[str, Any]], Awaitable[None]]):
        self.user_id, self.device_id, self.device_ed25519 = user_id, device_id, device_ed25519
        self.admins = admins
        self.folder = folder
        self.send_room, self.send_to_device, self.keys_of = send_room, send_to_device, keys_of
        self.own_master, self.sign_user = own_master, sign_user
        self.flows: dict[str, Flow] = {}
        self.finished: list[Flow] = []

    # ----- events in -------------------------------------------------------------------------

    async def handle_to_device(self, sender: str, event_type: str, content: dict[str, Any]) -> None:
        flow_id = content.get("transaction_id")
        if not isinstance(flow_id, str):
            return
        await self._handle(sender, event_type, content, flow_id, None)

    async def handle_room_event(self, room_id: str, sender: str, event_id: str, event_type: str,
                                content: dict[str, Any], age_ms: float) -> None:
        if sender == self.user_id:
            return
        if event_type == "m.room.message" and content.get("msgtype") == "m.key.verification.request":
            if content.get("to") != self.user_id or age_ms > REQUEST_MAX_AGE * 1000:
                return
            await self._handle(sender, "m.key.verification.request", content, event_id, room_id)
            return
        relates = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.reference" and isinstance(relates.get("event_id"), str):
            await self._handle(sender, event_type, content, relates["event_id"], room_id)

    async def _handle(self, sender: str, event_type: str, content: dict[str, Any], flow_id: str,
                      room_id: str | None) -> None:
        kind = event_type.removeprefix("m.key.verification.")
        flow = self.flows.get(flow_id)
        try:
            if kind == "request":
                await self._on_request(sender, content, flow_id, room_id)
                return
            if flow is None or sender != flow.other_user:
                return
            if kind == "cancel":
                self._end(flow, "cancelled", content.get("code") or "m.user")
                log.info("verification with %s cancelled by them: %s", sender, content.get("reason") or "")
                return
            if kind == "start":
                await self._on_start(flow, content)
            elif kind == "key":
                await self._on_key(flow, content)
            elif kind == "mac":
                flow.their_mac = content
                await self._maybe_finish(flow)
            elif kind == "done":
                flow.their_done = True
        except Cancel as cancel:
            if flow is not None or kind == "request":
                await self._cancel(flow or Flow(flow_id, sender, content.get("from_device") or "*", room_id), cancel)

    async def _on_request(self, sender: str, content: dict[str, Any], flow_id: str, room_id: str | None) -> None:
        device = content.get("from_device")
        if not isinstance(device, str):
            return
        flow = Flow(flow_id, sender, device, room_id)
        if sender not in self.admins:
            log.info("verification request from %s refused: only admins may verify the bot", sender)
            raise Cancel("m.user", "Only the bot's admins may verify it.")
        if METHOD not in (content.get("methods") or []):
            raise Cancel("m.unknown_method", "The bot verifies with emoji (m.sas.v1) only.")
        self.flows[flow_id] = flow
        flow.state = "ready"
        await self._send(flow, "ready", {"from_device": self.device_id, "methods": [METHOD]})
        log.info("verification request from %s (device %s): ready", sender, device)

    async def _on_start(self, flow: Flow, content: dict[str, Any]) -> None:
        if flow.state != "ready":
            raise Cancel("m.unexpected_message", "The verification was started twice.")
        if content.get("method") != METHOD:
            raise Cancel("m.unknown_method", "The bot verifies with emoji (m.sas.v1) only.")
        if KEY_AGREEMENT not in (content.get("key_agreement_protocols") or []) or "sha256" not in (
                content.get("hashes") or []):
            raise Cancel("m.unknown_method", "No key agreement the bot supports.")
        macs = [m for m in MACS if m in (content.get("message_authentication_codes") or [])]
        kinds = [k for k in SAS_KINDS if k in (content.get("short_authentication_string") or [])]
        if not macs or not kinds:
            raise Cancel("m.unknown_method", "No MAC or SAS method the bot supports.")
        flow.mac_method = macs[0]
        flow.start_content = content
        flow.sas = vodozemac.Sas()
        public = flow.sas.public_key.to_base64()
        flow.state = "accepted"
        await self._send(flow, "accept", {
            "method": METHOD, "key_agreement_protocol": KEY_AGREEMENT, "hash": "sha256",
            "message_authentication_code": flow.mac_method, "short_authentication_string": kinds,
            "commitment": commitment(public, content)})

    async def _on_key(self, flow: Flow, content: dict[str, Any]) -> None:
        key = content.get("key")
        if flow.state != "accepted" or not isinstance(key, str):
            raise Cancel("m.unexpected_message", "A key out of turn.")
        own = flow.sas.public_key.to_base64()
        try:
            flow.established = flow.sas.diffie_hellman(vodozemac.Curve25519PublicKey.from_base64(key))
        except Exception:
            raise Cancel("m.invalid_message", "That is not a curve25519 key.") from None
        flow.their_key = key
        flow.state = "keys"
        await self._send(flow, "key", {"key": own})
        # Element started, so its side comes first in the info string.
        info = (f"MATRIX_KEY_VERIFICATION_SAS|{flow.other_user}|{flow.other_device}|{key}|"
                f"{self.user_id}|{self.device_id}|{own}|{flow.flow_id}")
        sas_bytes = flow.established.bytes(info)
        flow.emoji = emoji_of(list(sas_bytes.emoji_indices))
        flow.decimals = tuple(sas_bytes.decimals)
        flow.state = "shown"
        self._write_pending(flow)
        log.warning("VERIFICATION by %s (device %s): do these match Element? %s  or  %s — confirm with "
                    "`leaders-hub crypto verify`", flow.other_user, flow.other_device,
                    "  ".join(f"{e} {name}" for e, name in flow.emoji), " ".join(map(str, flow.decimals)))

    # ----- the operator ----------------------------------------------------------------------

    def _write_pending(self, flow: Flow) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        data = {"id": flow.label, "user": flow.other_user, "device": flow.other_device, "room": flow.room_id,
                "emoji": [list(e) for e in flow.emoji], "decimals": list(flow.decimals), "created": time.time()}
        tmp = self.folder / f".pending-{flow.label}.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False))
        tmp.replace(self.folder / f"pending-{flow.label}.json")

    async def confirm(self, flow: Flow, match: bool) -> None:
        if flow.state != "shown":
            return
        if not match:
            await self._cancel(flow, Cancel("m.mismatched_sas", "The operator said the emoji do not match."))
            return
        flow.confirmed = True
        flow.state = "confirmed"
        await self._send(flow, "mac", self._our_mac(flow))
        await self._maybe_finish(flow)

    async def tick(self) -> None:
        """Pick up the operator's answers; time out flows older than ten minutes."""
        for flow in list(self.flows.values()):
            if time.monotonic() - flow.started > TIMEOUT:
                await self._cancel(flow, Cancel("m.timeout", "The verification took too long."))
                continue
            answer = self.folder / f"answer-{flow.label}.json"
            if flow.state == "shown" and answer.exists():
                try:
                    match = bool(json.loads(answer.read_text()).get("match"))
                except (OSError, ValueError):
                    match = False
                answer.unlink(missing_ok=True)
                try:
                    await self.confirm(flow, match)
                except Cancel as cancel:
                    await self._cancel(flow, cancel)

    @property
    def waiting(self) -> bool:
        return bool(self.flows)

    # ----- MACs ------------------------------------------------------------------------------

    def _mac(self, flow: Flow, text: str, info: str) -> str:
        if flow.mac_method == "hkdf-hmac-sha256":  # the old method's base64 is not quite base64
            return flow.established.calculate_mac_invalid_base64(text, info)
        return flow.established.calculate_mac(text, info)

    def _our_mac(self, flow: Flow) -> dict[str, Any]:
        info = (f"MATRIX_KEY_VERIFICATION_MAC{self.user_id}{self.device_id}{flow.other_user}{flow.other_device}"
                f"{flow.flow_id}")
        macs = {f"ed25519:{self.device_id}": self._mac(flow, self.device_ed25519, info + f"ed25519:{self.device_id}")}
        master = self.own_master()
        if master:
            macs[f"ed25519:{master}"] = self._mac(flow, master, info + f"ed25519:{master}")
        return {"mac": macs, "keys": self._mac(flow, ",".join(sorted(macs)), info + "KEY_IDS")}

    async def _check_their_mac(self, flow: Flow) -> dict[str, Any] | None:
        """The other side's MAC checked against their device key and master key; their master key object
        when it was among the verified keys. Raises ``Cancel`` on any mismatch."""
        content = flow.their_mac or {}
        macs = content.get("mac") or {}
        if not isinstance(macs, dict) or not macs:
            raise Cancel("m.key_mismatch", "No MAC.")
        info = (f"MATRIX_KEY_VERIFICATION_MAC{flow.other_user}{flow.other_device}{self.user_id}{self.device_id}"
                f"{flow.flow_id}")
        if self._mac(flow, ",".join(sorted(macs)), info + "KEY_IDS") != content.get("keys"):
            raise Cancel("m.key_mismatch", "The list of keys does not match its MAC.")
        device_key, master_obj = await self.keys_of(flow.other_user, flow.other_device)
        master = next(iter((master_obj or {}).get("keys", {}).values()), None)
        verified_master = None
        for key_id, mac in macs.items():
            if key_id == f"ed25519:{flow.other_device}" and device_key:
                key = device_key
            elif master and key_id == f"ed25519:{master}":
                key, verified_master = master, master_obj
            else:
                continue  # a key we do not know is not trusted, nor a reason to fail (the spec)
            if self._mac(flow, key, info + key_id) != mac:
                raise Cancel("m.key_mismatch", f"The MAC of {key_id} does not match.")
        if f"ed25519:{flow.other_device}" not in macs:
            raise Cancel("m.key_mismatch", "The device key was not among the verified keys.")
        return verified_master

    async def _maybe_finish(self, flow: Flow) -> None:
        if not flow.confirmed or flow.their_mac is None:
            return
        if flow.we_sent_done:
            return
        master_obj = await self._check_their_mac(flow)
        flow.we_sent_done = True
        await self._send(flow, "done", {})
        if master_obj is not None:
            try:
                await self.sign_user(flow.other_user, master_obj)
                log.info("signed the master key of %s with the bot's user-signing key", flow.other_user)
            except Exception as exc:  # the verification stands; Element can ask again later
                log.error("could not sign the master key of %s: %s", flow.other_user, exc)
        # Their MAC checked and our done sent: verified (their own done, if it comes, changes nothing).
        self._end(flow, "done")
        log.info("verification with %s (device %s) done", flow.other_user, flow.other_device)

    # ----- sending and ending ----------------------------------------------------------------

    async def _send(self, flow: Flow, kind: str, content: dict[str, Any]) -> None:
        event_type = f"m.key.verification.{kind}"
        if flow.room_id is not None:
            body = {**content, "m.relates_to": {"rel_type": "m.reference", "event_id": flow.flow_id}}
            await self.send_room(flow.room_id, event_type, body)
        else:
            await self.send_to_device(flow.other_user, flow.other_device, event_type,
                                      {**content, "transaction_id": flow.flow_id})

    async def _cancel(self, flow: Flow, cancel: Cancel) -> None:
        log.info("verification with %s cancelled: %s", flow.other_user, cancel)
        try:
            await self._send(flow, "cancel", {"code": cancel.code, "reason": cancel.reason})
        finally:
            self._end(flow, "cancelled", cancel.code)

    def _end(self, flow: Flow, state: str, code: str | None = None) -> None:
        flow.state, flow.cancel_code = state, code
        self.flows.pop(flow.flow_id, None)
        self.finished.append(flow)
        del self.finished[:-50]
        (self.folder / f"pending-{flow.label}.json").unlink(missing_ok=True)
        if self.folder.exists():
            result = {"id": flow.label, "user": flow.other_user, "state": state, "code": code}
            (self.folder / f"result-{flow.label}.json").write_text(json.dumps(result))
