"""The Matrix transport: login, joins and invites, the sync loop, and sending replies.

How nothing is lost and nothing is answered twice:

1. After each ``/sync`` the commands in it are written to the ``inbox`` table
   *in the same transaction* as the new sync token. Events already in the inbox
   are skipped (event-id dedup); commands older than ``catch_up_seconds`` are
   ignored. A gap in the timeline (``limited``) is filled from ``/messages``.
2. Each new inbox row is handled in its own task (bounded by a semaphore), never
   inside the sync loop. The command's writes and its reply are committed
   together (status ``replied``). A command that wrote nothing skips that step:
   run again after a crash, it changes nothing and sends the same transaction ids.
3. The reply is sent with a transaction id derived from the command's event id,
   so a send retried after a crash is deduplicated by the homeserver; then the
   row is marked ``done``. At start, rows left ``pending`` are run and rows left
   ``replied`` are sent again with the same transaction ids.

Step 1 is one database round trip (``storage.hotpath``). The done-marks of step 3
wait up to ``FINISH_DELAY`` to share it (or one of their own): losing them in a
crash only means a reply is sent again with the same transaction id, which the
homeserver deduplicates.

We keep our own sync token (nio's ``store_sync_tokens`` saves it before callbacks
run) and our own loop, so the encryption housekeeping that ``sync_forever`` would
do is done here after every sync.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import ClientConnectionError, ClientError
from nio import (
    AsyncClientConfig,
    ForwardedRoomKeyEvent,
    ErrorResponse,
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    LoginResponse,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomMessageText,
    RoomKeyEvent,
    RoomResolveAliasResponse,
    SyncError,
    SyncResponse,
    UnknownToDeviceEvent,
    UploadResponse,
    WhoamiResponse,
)
from nio.crypto import ENCRYPTION_ENABLED
from nio.exceptions import OlmUnverifiedDeviceError, SendRetryError

from bot.app import Hub
from basics.ids import txn_id
from bot.config import resolve_path
from bot.context import Incoming
from bot.leader import ACTIVE
from bot.matrix.crypto import withheld
from bot.matrix.crypto.api import ApiError, MatrixApi
from bot.matrix.crypto.identity import CrossSigning, IdentityStatus, LocalKeys, RecoveryKeySource
from bot.matrix.crypto.nio_client import HubClient
from bot.matrix.crypto.verification import Verifications
from bot.matrix.admin import RoomAdmin
from bot.matrix.pills import pills_to_ids
from bot.reply import Outgoing, address, edit_content, strip_reply_fallback, text_content
from storage import hotpath
from storage.runtime import InboxRepository

log = logging.getLogger(__name__)

SYNC_TOKEN_KEY = "next_batch"  # + ":<device id>": each device's own (a token carries its to-device position)
ACTIVE_DEVICE_KEY = "active_device"  # the device of the instance that was active last
TXN_FIELD = "org.leaders_hub.txn"  # in each message's content: its transaction id, so a new device sees it was sent
LOOK_BACK_PAGES = 5  # pages of 100 of the bot's messages per room a new active device reads
# Errors that retrying cannot fix: give up on that one message and log it.
PERMANENT_ERRORS = {"M_FORBIDDEN", "M_NOT_FOUND", "M_BAD_JSON", "M_NOT_JSON", "M_TOO_LARGE", "M_UNKNOWN_TOKEN",
                    "M_MISSING_TOKEN", "M_INVALID_PARAM", "M_UNKNOWN"}
NETWORK_ERRORS = (ClientConnectionError, ClientError, asyncio.TimeoutError, TimeoutError, OSError)
MAX_BACKOFF = 30.0
TIMELINE_LIMIT = 50
BACKFILL_PAGES = 20
TOKEN_SAVE_EVERY = 10.0  # seconds: syncs with nothing to record save the token at most this often
FINISH_DELAY = 0.5  # seconds a reply's done-mark may wait to share a transaction with others
LATE_SUFFIX = "#decrypted"  # the inbox row of a command answered after its key came late (after a notice)
KEY_GRACE = 4.0  # seconds an undecryptable command waits for its key (or a withheld notice) before the notice


if ENCRYPTION_ENABLED:
    from nio.store import DefaultStore

    class KeyStore(DefaultStore):
        """nio's key store, except that it does not save the set of newly encrypted rooms when it is
        empty: nio does after every sync, a query on the store (~9 % of the bot's CPU) for nothing."""

        def save_encrypted_rooms(self, rooms):
            if rooms:
                super().save_encrypted_rooms(rooms)
else:  # pragma: no cover - the e2e extra is a dependency
    KeyStore = None  # type: ignore[assignment,misc]


class PermanentSendError(Exception):
    pass


class Fenced(Exception):
    """This instance is no longer the active one (``bot.leader``): it sends nothing more."""


def txn_id_for(key: str, index: int = 0) -> str:
    """A transaction id that is the same every time the same thing is sent."""
    return txn_id(key, index=index)


def backoff_delays(start: float = 0.5, cap: float = MAX_BACKOFF):
    """0.5 s, 1 s, 2 s … up to ``cap``, each with ±20 % jitter so many clients don't stampede."""
    delay = start
    while True:
        yield delay * random.uniform(0.8, 1.2)
        delay = min(delay * 2, cap)


class MatrixTransport(RoomAdmin):
    """The Matrix platform (``bot.platform.Platform``) on a homeserver, through matrix-nio."""

    def __init__(self, hub: Hub):
        self.hub = hub
        cfg = hub.config["matrix"]
        self.cfg = cfg
        self.user_id: str = cfg["user_id"]
        self.store_path = resolve_path(hub.config, cfg["store_path"])
        self.store_path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.store_path, 0o700)
        self.encryption = bool(cfg["encryption"]) and ENCRYPTION_ENABLED
        client_config = AsyncClientConfig(
            store_sync_tokens=False,
            encryption_enabled=self.encryption,
            pickle_key=self._pickle_key(),
            store=KeyStore,
            max_limit_exceeded=None,  # nio waits out every 429 for retry_after_ms
            max_timeouts=0,  # connection errors come to us: we back off and reconnect
            request_timeout=60,
        )
        self.client = HubClient(cfg["homeserver"], self.user_id, store_path=str(self.store_path),
                                config=client_config, share_policy=cfg["share_keys_with"])
        self.identity: CrossSigning | None = None
        self.api: MatrixApi | None = None
        self.verifications: Verifications | None = None
        self.keys = withheld.KeyWaits()
        self.leader_rooms: set[str] = set()
        self.semaphore = asyncio.Semaphore(hub.config["bot"]["max_concurrent_commands"])
        self.tasks: set[asyncio.Task] = set()
        self.first_sync_done = asyncio.Event()
        self.stopping = asyncio.Event()
        self.logged_in = False
        self.connected = False  # the last sync reached the homeserver
        self._room_creators: dict[str, set[str]] = {}
        self._power_locks: dict[str, asyncio.Lock] = {}
        self._token_saved_at = 0.0
        self._finished: list[tuple] = []  # done-marks not yet written (hotpath.finish arguments)
        self._finish_task: asyncio.Task | None = None
        self._after_first_sync: list[Callable[[], Awaitable[None]]] = []
        self.leadership: Any = None  # bot.leader.Leadership when run by ``leaders-hub run``: the fence
        self._sent_before: dict[str, str] = {}  # transaction id → event id, of messages another device sent
        self._previous_device: str | None = None  # the device of the instance active before this one
        self._standby_ready = False
        hub.platform = self

    # ----- identity and roles -------------------------------------------------------------

    def _pickle_key(self) -> str:
        """The secret that encrypts the key store: from the config, else one generated once and kept private."""
        if self.cfg.get("pickle_key"):
            return self.cfg["pickle_key"]
        key_file = self.store_path / "pickle.key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(32))
            os.chmod(key_file, 0o600)
        return key_file.read_text().strip()

    def power_level(self, room_id: str, user_id: str) -> int:
        room = self.client.rooms.get(room_id)
        return room.power_levels.get_user_level(user_id) if room else 0

    def is_room_creator(self, room_id: str, user_id: str) -> bool:
        return user_id in self._room_creators.get(room_id, set())

    def room_display_name(self, room_id: str) -> str:
        room = self.client.rooms.get(room_id)
        return room.display_name if room else room_id

    def member_display_name(self, room_id: str, user_id: str) -> str | None:
        room = self.client.rooms.get(room_id)
        user = room.users.get(user_id) if room else None
        return user.display_name if user else None

    async def resolve_room(self, room: str) -> str | None:
        """A room id for an id or an alias (None when the alias is unknown)."""
        if room.startswith("!"):
            return room
        resp = await self._retry_network(lambda: self.client.room_resolve_alias(room))
        return resp.room_id if isinstance(resp, RoomResolveAliasResponse) else None

    def _note_create_event(self, room_id: str, source: dict[str, Any]) -> None:
        """Room-version-12 creators outrank everyone without being in m.room.power_levels."""
        content = source.get("content", {})
        version = str(content.get("room_version", "1"))
        numeric = version.isdigit() and int(version) >= 12
        if numeric or "hydra" in version:
            creators = {source.get("sender", "")} | set(content.get("additional_creators", []) or [])
            self._room_creators[room_id] = {c for c in creators if c}
        else:
            self._room_creators[room_id] = set()

    async def _ensure_room_meta(self, room_id: str) -> None:
        """Learn a room's creators once (the first sync after a restart may not carry its state)."""
        if room_id in self._room_creators:
            return
        try:
            state = await self.client.room_get_state(room_id)
        except NETWORK_ERRORS:
            return
        for event in getattr(state, "events", None) or []:
            if event.get("type") == "m.room.create":
                self._note_create_event(room_id, event)
                return

    # ----- login --------------------------------------------------------------------------

    @property
    def session_file(self) -> Path:
        return self.store_path / "session.json"

    def _crypto_store_exists(self, device_id: str) -> bool:
        return (self.store_path / f"{self.user_id}_{device_id}.db").exists()

    async def login(self) -> None:
        """Password once, then the stored token and device; a lost key store means a new device."""
        saved = None
        if self.session_file.exists():
            try:
                saved = json.loads(self.session_file.read_text())
            except (OSError, ValueError):
                log.warning("the stored session in %s is unreadable; logging in again", self.session_file)
        if saved and saved.get("user_id") == self.user_id:
            if self.encryption and not self._crypto_store_exists(saved["device_id"]):
                # Reusing a device id without its keys makes every later message undecryptable.
                log.warning("the encryption store of device %s is gone; logging in as a new device",
                            saved["device_id"])
            else:
                self.client.restore_login(self.user_id, saved["device_id"], saved["access_token"])
                if await self._token_works():
                    log.info("restored session of %s on device %s", self.user_id, saved["device_id"])
                    self.logged_in = True
                    return
                log.warning("the stored access token was refused; logging in again")
        if self.cfg.get("access_token") and not self.cfg.get("password"):
            await self._login_with_token(self.cfg["access_token"])
            return
        if not self.cfg.get("password"):
            raise RuntimeError("no usable stored session and no password or access_token in the config")
        if self.cfg.get("device_id"):
            self.client.device_id = self.cfg["device_id"]
        resp = await self._retry_network(lambda: self.client.login(self.cfg["password"],
                                                                   device_name=self.cfg["device_name"]))
        if not isinstance(resp, LoginResponse):
            raise RuntimeError(f"login failed: {getattr(resp, 'message', resp)}")
        self._save_session(resp.device_id, resp.access_token)
        self.logged_in = True
        log.info("logged in as %s, device %s", self.user_id, resp.device_id)

    async def _login_with_token(self, token: str) -> None:
        self.client.access_token = token
        resp = await self._retry_network(self.client.whoami)
        if not isinstance(resp, WhoamiResponse) or not resp.device_id:
            raise RuntimeError(f"the access token was refused: {getattr(resp, 'message', resp)}")
        self.client.restore_login(self.user_id, resp.device_id, token)
        self._save_session(resp.device_id, token)
        self.logged_in = True

    async def _token_works(self) -> bool:
        resp = await self._retry_network(self.client.whoami)
        return isinstance(resp, WhoamiResponse)

    def _save_session(self, device_id: str, access_token: str) -> None:
        tmp = self.session_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"user_id": self.user_id, "device_id": device_id, "access_token": access_token}))
        os.chmod(tmp, 0o600)
        tmp.replace(self.session_file)

    async def _retry_network(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Retry a request while the homeserver is unreachable; return whatever it answers."""
        for delay in backoff_delays():
            try:
                return await call()
            except NETWORK_ERRORS as exc:
                if self.stopping.is_set():
                    raise
                log.warning("homeserver unreachable (%s); retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)

    async def _fence(self) -> None:
        """Before every send: only the active instance with a fresh lease sends. A lease being renewed late
        holds the send back a moment; a lease lost ends it (``Fenced``)."""
        lead = self.leadership
        if lead is None:
            return
        while not lead.may_send():
            if lead.role != ACTIVE or self.stopping.is_set():
                raise Fenced("this instance is not the active one")
            await asyncio.sleep(0.05)

    # ----- rooms and invites --------------------------------------------------------------

    async def join_configured_rooms(self) -> None:
        for room in self.cfg["rooms"]:
            room_id = room
            if room.startswith("#"):
                resp = await self._retry_network(lambda: self.client.room_resolve_alias(room))
                if not isinstance(resp, RoomResolveAliasResponse):
                    log.error("cannot resolve the room alias %s: %s", room, getattr(resp, "message", resp))
                    continue
                room_id = resp.room_id
            self.leader_rooms.add(room_id)
            resp = await self._retry_network(lambda: self.client.join(room_id))
            if isinstance(resp, JoinError):
                log.error("cannot join the leader room %s: %s (invite the bot there)", room, resp.message)

    def _may_invite(self, inviter: str) -> bool:
        if inviter in self.hub.config.admins:
            return True
        server = inviter.split(":", 1)[1] if ":" in inviter else ""
        return server in set(self.cfg["allowed_servers"])

    async def _on_invite(self, room_id: str, events: list[Any]) -> None:
        inviter = next((e.sender for e in events if isinstance(e, InviteMemberEvent)
                        and e.state_key == self.user_id and e.membership == "invite"), None)
        if room_id in self.leader_rooms or (inviter and self._may_invite(inviter)):
            log.info("accepting the invite of %s to %s", inviter, room_id)
            await self._retry_network(lambda: self.client.join(room_id))
        else:
            log.info("declining the invite of %s to %s", inviter, room_id)
            await self._retry_network(lambda: self.client.room_leave(room_id))

    def _serves(self, room_id: str, sender: str) -> bool:
        """Leader rooms, and direct chats with an admin."""
        if room_id in self.leader_rooms:
            return True
        if sender in self.hub.config.admins:
            room = self.client.rooms.get(room_id)
            return room is not None and room.member_count <= 2
        return False

    # ----- the sync loop ------------------------------------------------------------------

    @property
    def _token_key(self) -> str:
        return f"{SYNC_TOKEN_KEY}:{self.client.device_id}"

    async def _load_token(self) -> str | None:
        """This device's sync token. Tokens are per device: a token also says which to-device messages (room
        keys) its device has had, and the homeserver deletes those a sync's token is past — another device's
        token would lose this one's keys. With none of its own, a device starts with an initial sync."""
        token = await self.hub.store.run(hotpath.get_state, self._token_key)
        if token is None and self._previous_device in (None, self.client.device_id):
            token = await self.hub.store.run(hotpath.get_state, SYNC_TOKEN_KEY)  # kept before tokens were per device
        return token

    async def sync_loop(self) -> None:
        token = await self._load_token()
        first = True
        delays = backoff_delays()
        # Not our own events (the bot need not wake up for its replies), and none of the typing
        # notices, read receipts and presence it never uses: Synapse sends less, the bot parses less.
        sync_filter = {"room": {"timeline": {"limit": TIMELINE_LIMIT, "not_senders": [self.user_id]},
                                "ephemeral": {"not_types": ["*"]}},
                       "presence": {"not_types": ["*"]}}
        while not self.stopping.is_set():
            try:
                resp = await self.client.sync(timeout=0 if first else self.cfg["sync_timeout_ms"], since=token,
                                              full_state=True if first else None, sync_filter=sync_filter)
            except NETWORK_ERRORS as exc:
                self.connected = False
                delay = next(delays)
                log.warning("sync failed (%s: %s); reconnecting in %.1f s", type(exc).__name__, exc, delay)
                await self._sleep(delay)
                continue
            if isinstance(resp, SyncError) or not isinstance(resp, SyncResponse):
                if getattr(resp, "status_code", None) in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                    raise RuntimeError("the homeserver refused the access token; delete session.json and log in again")
                self.connected = False
                delay = next(delays)
                log.warning("sync error (%s); retrying in %.1f s", getattr(resp, "message", resp), delay)
                await self._sleep(delay)
                continue
            delays = backoff_delays()
            self.connected = True
            if first and self._previous_device not in (None, self.client.device_id):
                await self._look_back(resp)
            if first:
                # The rows left unfinished before this start — read before this batch records its own new
                # rows, which it hands on itself: read after, a new command would run twice.
                await self._resume_unfinished()
            await self._handle_sync(resp, since=token)
            await self._on_verification_events(resp)
            token = resp.next_batch
            self.hub.metrics.synced()
            await self._crypto_housekeeping()
            if first:
                first = False
                self.first_sync_done.set()
                for job in self.hub.background_jobs:
                    self._spawn(self._run_job(job))
                self._spawn(self._verification_answers())
                for hook in self._after_first_sync:
                    await hook()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _crypto_housekeeping(self) -> None:
        if not self.client.olm:
            return
        try:
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            if self.client.should_query_keys:
                await self.client.keys_query()
            if self.client.should_claim_keys:
                await self.client.keys_claim(self.client.get_users_for_key_claiming())
            await self.client.send_to_device_messages()
        except NETWORK_ERRORS as exc:
            log.warning("key exchange postponed: %s", exc)
        except LocalProtocolError as exc:
            log.warning("key exchange problem: %s", exc)

    async def _handle_sync(self, resp: SyncResponse, since: str | None) -> None:
        cutoff = time.time() * 1000 - self.hub.config["bot"]["catch_up_seconds"] * 1000
        for room_id, info in resp.rooms.invite.items():
            self._spawn(self._on_invite(room_id, list(info.invite_state)))
        arrived = self._note_to_device(resp)
        candidates: list[Incoming] = self._late_commands(arrived, cutoff) if arrived else []
        redactions: list[tuple[str, Any]] = []
        for room_id, info in resp.rooms.join.items():
            for event in info.state:
                if getattr(event, "source", {}).get("type") == "m.room.create":
                    self._note_create_event(room_id, event.source)
            events = list(info.timeline.events)
            for event in events:
                if getattr(event, "source", {}).get("type") == "m.room.create":
                    self._note_create_event(room_id, event.source)
            if info.timeline.limited and info.timeline.prev_batch and (since or self._previous_device):
                events = await self._backfill(room_id, info.timeline.prev_batch, cutoff) + events
            for event in events:
                if isinstance(event, RedactionEvent) and self.hub.reaction_handlers:
                    if event.server_timestamp >= cutoff and self._serves(room_id, event.sender):
                        redactions.append((room_id, event))
                    continue
                incoming = self._to_incoming(room_id, event, cutoff)
                if incoming:
                    candidates.append(incoming)
        # Nothing to record: a replay of this batch from the older token would find nothing new. Except
        # to-device messages (room keys): nio has already taken them into the key store, and read a second
        # time after a restart an Olm message no longer decrypts (its message key is used up) — harmless, as
        # the store has what it carried, but noisy, and nio may take the Olm session for broken.
        if (not candidates and not redactions and not getattr(resp, "to_device_events", None)
                and time.monotonic() - self._token_saved_at < TOKEN_SAVE_EVERY):
            return
        if redactions:
            # A redacted reaction is a reaction taken back: tell the features what it was.
            taken_back = [e.redacts for _room, e in redactions]
            reactions = await self.hub.store.run(hotpath.stored_reactions, taken_back)
            reactions.update({c.event_id: (c.sender, c.body, c.relates_to) for c in candidates if c.kind == "reaction"})
            for room_id, event in redactions:
                if event.redacts in reactions:
                    sender, key, target = reactions[event.redacts]
                    candidates.append(Incoming(event.event_id, room_id, sender, key, event.server_timestamp,
                                               kind="unreaction", relates_to=target))
        rows = [{"event_id": c.event_id, "room_id": c.room_id, "sender": c.sender, "kind": c.kind, "body": c.body,
                 "thread_root": c.thread_root, "relates_to": c.relates_to, "origin_ts": c.origin_ts}
                for c in candidates]
        # One transaction: the new inbox rows, the token that moves past them, and the waiting done-marks.
        finished, self._finished = self._finished, []
        try:
            new_ids = set(await self.hub.store.run(hotpath.record_batch, rows, self._token_key, resp.next_batch,
                                                   finished))
        except BaseException:
            self._finished[:0] = finished
            raise
        self._token_saved_at = time.monotonic()
        for incoming in candidates:
            if incoming.event_id in new_ids:
                new_ids.discard(incoming.event_id)
                self._spawn(self._process(incoming))

    async def _backfill(self, room_id: str, start: str, cutoff: float) -> list[Any]:
        """Events of a gap in the timeline (the bot was away long), oldest first, back to the cut-off."""
        found: list[Any] = []
        token = start
        for _ in range(BACKFILL_PAGES):
            resp = await self._retry_network(lambda: self.client.room_messages(room_id, start=token, limit=100))
            chunk = getattr(resp, "chunk", None)
            if not chunk:
                break
            found.extend(chunk)
            token = resp.end
            if not token or chunk[-1].server_timestamp < cutoff:
                break
        found.reverse()
        return found

    def _to_incoming(self, room_id: str, event: Any, cutoff: float) -> Incoming | None:
        sender = getattr(event, "sender", None)
        if not sender or sender == self.user_id or getattr(event, "server_timestamp", 0) < cutoff:
            return None
        if not self._serves(room_id, sender):
            return None
        if isinstance(event, MegolmEvent):
            # The whole event is kept, so that its key (arriving late, or after a restart) can still open it.
            source = {k: v for k, v in event.source.items() if k != "room_id"}
            return Incoming(event.event_id, room_id, sender, json.dumps({"event": source}), event.server_timestamp,
                            kind="undecryptable")
        if isinstance(event, ReactionEvent):
            if not self.hub.reaction_handlers:
                return None
            return Incoming(event.event_id, room_id, sender, event.key, event.server_timestamp, kind="reaction",
                            relates_to=event.reacts_to)
        if not isinstance(event, RoomMessageText):  # notices, emotes, media, state: never commands
            return None
        content = event.source.get("content", {})
        relates = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            return None  # an edit of an earlier message is not a new command
        body = event.body or ""
        if relates.get("m.in_reply_to"):
            body = strip_reply_fallback(body)
        # A mention pill shows a display name in the body; the user id is in the HTML link.
        body = pills_to_ids(body, content.get("formatted_body")
                            if content.get("format") == "org.matrix.custom.html" else None)
        if not self.hub.router.is_command(body):
            return None
        thread_root = relates.get("event_id") if relates.get("rel_type") == "m.thread" else None
        return Incoming(event.event_id, room_id, sender, body, event.server_timestamp, thread_root)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # ----- handling and replying ----------------------------------------------------------

    async def _process(self, incoming: Incoming) -> None:
        if incoming.kind == "undecryptable":  # waits for its key outside the semaphore
            settled = await self._settle_undecryptable(incoming)
            if settled is None:  # it was no command after all
                self._finish(incoming.event_id, [], None, "ignored")
                return
            incoming = settled
        async with self.semaphore:
            try:
                await self._ensure_room_meta(incoming.room_id)
                unrecorded: dict[str, Any] = {}

                async def record(session, name, outcome, messages):
                    if session is None:  # the command wrote nothing: say what it was when it is done
                        unrecorded.update(command=name, outcome=outcome)
                    else:  # committed with the command's own writes
                        await InboxRepository(session).record_reply(
                            incoming.event_id, name, outcome, [m.to_json() for m in messages])

                outgoing = await self.hub.execute(incoming, record=record)
                await self._deliver(incoming, outgoing, **unrecorded)
            except Exception:
                log.exception("handling %s failed; it will be retried at the next start", incoming.event_id)

    async def _resume_unfinished(self) -> None:
        async with self.hub.sessions() as session:
            rows = await InboxRepository(session).unfinished()
        for row in rows:
            incoming = Incoming(row.event_id, row.room_id, row.sender, row.body, row.origin_ts, row.thread_root,
                                row.kind, row.relates_to)
            if row.status == "pending":
                log.info("answering %s, received before a restart", row.event_id)
                self._spawn(self._process(incoming))
            else:
                messages = [Outgoing.from_json(m) for m in json.loads(row.reply or "[]")]
                log.info("re-sending the reply to %s (same transaction ids)", row.event_id)
                self._spawn(self._deliver_guarded(incoming, messages))

    async def _deliver_guarded(self, incoming: Incoming, messages: list[Outgoing]) -> None:
        async with self.semaphore:
            try:
                await self._deliver(incoming, messages)
            except Exception:
                log.exception("re-sending the reply to %s failed", incoming.event_id)

    async def _deliver(self, incoming: Incoming, messages: list[Outgoing], command: str | None = None,
                       outcome: str | None = None) -> None:
        started = time.time()
        sent: list[tuple[str, str]] = []
        for index, message in enumerate(messages):
            room_id = message.room_id or incoming.room_id
            reply_to = incoming.event_id.removesuffix(LATE_SUFFIX) if room_id == incoming.room_id else None
            thread = incoming.thread_root if room_id == incoming.room_id else None
            try:
                sent_id = await self.send_message(room_id, message, txn_id_for(incoming.event_id, index),
                                                  reply_to=reply_to, thread_root=thread,
                                                  reply_sender=incoming.sender if reply_to else None)
                sent.append((sent_id, room_id))
            except PermanentSendError as exc:
                log.error("could not send the reply to %s in %s: %s", incoming.event_id, room_id, exc)
        # Which command a message answers is kept only when the command stored something (a reaction to
        # the reply may act on that, e.g. a ✅ confirming a draft); a reply to !ping needs no row.
        self._finish(incoming.event_id, sent if outcome is None else [], command, outcome)
        self.hub.metrics.reply_latency.observe(max(0.0, time.time() - incoming.origin_ts / 1000)
                                               if incoming.origin_ts else time.time() - started)

    def _finish(self, event_id: str, sent: list[tuple[str, str]], command: str | None, outcome: str | None) -> None:
        """Mark an inbox row done, in the next sync batch's transaction or one of its own within FINISH_DELAY."""
        self._finished.append((event_id, sent, command, outcome))
        if self._finish_task is None or self._finish_task.done():
            self._finish_task = asyncio.ensure_future(self._write_finished(FINISH_DELAY))

    async def _write_finished(self, delay: float = 0.0) -> None:
        """Write the done-marks that no sync batch took along meanwhile."""
        if delay:
            await self._sleep(delay)
        finished, self._finished = self._finished, []
        if not finished:
            return
        try:
            await self.hub.store.run(hotpath.finish_all, finished)
        except Exception:
            self._finished[:0] = finished
            log.exception("marking %d replies done failed; retrying", len(finished))
            if not self.stopping.is_set():
                self._finish_task = asyncio.ensure_future(self._write_finished(FINISH_DELAY))

    async def send_message(self, room_id: str, message: Outgoing, txn_id: str, reply_to: str | None = None,
                           thread_root: str | None = None, reply_sender: str | None = None) -> str:
        """Send one message (uploading its file first); retries until the homeserver takes it."""
        if message.data is not None:
            content = address(await self._media_content(room_id, message), message.mentions, reply_to,
                              thread_root, reply_sender)
            caption = message.markdown
        else:
            content = text_content(message, reply_to, thread_root, reply_sender)
            caption = ""
        event_id = await self.send_event(room_id, "m.room.message", content, txn_id)
        if caption:  # the notice under a file answers the command like any reply: same mentions
            await self.send_message(room_id, Outgoing(markdown=caption, mentions=message.mentions),
                                    txn_id + "-caption", reply_to, thread_root, reply_sender)
        return event_id

    async def _media_content(self, room_id: str, message: Outgoing) -> dict[str, Any]:
        data = message.data or b""
        room = self.client.rooms.get(room_id)
        encrypt = bool(room and room.encrypted and self.client.olm)

        async def upload():
            return await self.client.upload(lambda *_: io.BytesIO(data), content_type=message.mimetype or
                                            "application/octet-stream", filename=message.filename,
                                            encrypt=encrypt, filesize=len(data))

        for delay in backoff_delays():
            await self._fence()
            try:
                resp, keys = await upload()
                if isinstance(resp, UploadResponse):
                    break
                if getattr(resp, "status_code", None) in PERMANENT_ERRORS:
                    raise PermanentSendError(f"upload refused: {resp.message}")
            except NETWORK_ERRORS:
                if self.stopping.is_set():
                    raise
            self.hub.metrics.send_retries.inc()
            await asyncio.sleep(delay)
        info: dict[str, Any] = {"mimetype": message.mimetype, "size": len(data)}
        if message.kind == "image" and data[:8] == b"\x89PNG\r\n\x1a\n":
            info["w"] = int.from_bytes(data[16:20], "big")
            info["h"] = int.from_bytes(data[20:24], "big")
        content: dict[str, Any] = {"msgtype": "m.image" if message.kind == "image" else "m.file",
                                   "body": message.filename or "file", "info": info}
        if encrypt and keys:
            content["file"] = {"url": resp.content_uri, **keys}
        else:
            content["url"] = resp.content_uri
        return content

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str) -> str:
        """Send until the homeserver takes it; 429s are waited out (nio), outages backed off.

        A message carries its transaction id (``TXN_FIELD``): the homeserver deduplicates a transaction id
        only for the device that sent it, so a device taking over reads them (``_look_back``) and does not
        send again what the one before it sent."""
        if event_type == "m.room.message":
            if txn_id in self._sent_before:
                log.info("not sending %s again in %s: the previous active device sent it", txn_id, room_id)
                return self._sent_before[txn_id]
            content = {**content, TXN_FIELD: txn_id}
        await self._learn_identities(room_id)
        for delay in backoff_delays():
            await self._fence()
            try:
                resp = await self.client.room_send(room_id, event_type, content, tx_id=txn_id,
                                                   ignore_unverified_devices=True)
                if not isinstance(resp, ErrorResponse):
                    if self.client.olm and self.client.outgoing_to_device_messages:
                        await self._send_to_device()  # e.g. m.room_key.withheld to the devices left out
                    return resp.event_id
                if resp.status_code in PERMANENT_ERRORS:
                    raise PermanentSendError(f"{resp.status_code}: {resp.message}")
                log.warning("send to %s failed (%s); retrying in %.1f s", room_id, resp.message, delay)
            except (SendRetryError, OlmUnverifiedDeviceError) as exc:
                log.warning("encrypting for %s failed (%s); retrying in %.1f s", room_id, exc, delay)
            except LocalProtocolError as exc:
                raise PermanentSendError(str(exc)) from None
            except NETWORK_ERRORS as exc:
                if self.stopping.is_set():
                    raise
                log.warning("homeserver unreachable while sending (%s); retrying in %.1f s", type(exc).__name__,
                            delay)
            self.hub.metrics.send_retries.inc()
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def send_outgoing(self, room_id: str, message: Outgoing, key: str) -> str:
        """A prepared message (text, image, file) that is not a reply; ``key`` makes it idempotent."""
        return await self.send_message(room_id, message, txn_id_for(key))

    async def send_notice(self, room_id: str, markdown: str, key: str, mentions: list[str] | None = None,
                          extra: dict[str, Any] | None = None) -> str:
        """A notice not in reply to anything (announcements, broadcasts); ``key`` makes it idempotent."""
        return await self.send_message(room_id, Outgoing(markdown=markdown, mentions=mentions or [],
                                                         extra=extra or {}), txn_id_for(key))

    async def edit_notice(self, room_id: str, event_id: str, markdown: str, key: str) -> str:
        """Replace the text of the bot's notice ``event_id`` (an ``m.replace`` edit); ``key`` makes it idempotent."""
        content = edit_content(Outgoing(markdown=markdown), event_id)
        return await self.send_event(room_id, "m.room.message", content, txn_id_for(key))

    async def _run_job(self, job: Callable[..., Awaitable[None]]) -> None:
        try:
            await job(self.hub)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job %s stopped", getattr(job, "__name__", job))

    # ----- lifecycle ----------------------------------------------------------------------

    def after_first_sync(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run ``hook`` once the first (full-state) sync is in: schedulers start here, not before."""
        self._after_first_sync.append(hook)

    @property
    def healthy(self) -> bool:
        last = self.hub.metrics.last_sync
        limit = self.cfg["sync_timeout_ms"] / 1000 + 30
        return self.logged_in and self.connected and last is not None and time.monotonic() - last < limit

    async def run(self) -> None:
        """The only instance (the console's tests, the demo): log in and run as the active one."""
        await self.login()
        await self.run_active()

    async def login_once(self) -> None:
        if not self.logged_in:
            await self.login()
        self.hub.metrics.logged_in.set(1)

    async def prepare_standby(self) -> None:
        """A standby's device: logged in, its keys uploaded and signed with the account's cross-signing
        identity (restored, never created: the active instance made it), so that leaders' clients share room
        keys with it too. It does not sync: the homeserver keeps its to-device messages (those keys) until
        it does, as the active one. Then it keeps the device's one-time keys topped up until the takeover
        cancels it."""
        await self.login_once()
        while not self.stopping.is_set():
            await self.set_up_encryption(create=False)
            if self.identity is None or self.identity.status.state == "ready" or not self.cfg["cross_signing"]:
                self._standby_ready = True
                break
            await self._sleep(5)  # the active instance may still be creating the identity
        while not self.stopping.is_set():
            await self._sleep(self.cfg["standby_key_check_seconds"])
            # Shielded: the takeover cancels this task, but not an upload half done.
            await asyncio.shield(self._standby_one_time_keys())

    async def _standby_one_time_keys(self) -> None:
        """A standby does not sync, so it does not hear how many of its one-time keys are left: each client
        that starts an Olm session with its device claims one, and with none left a new leader's client could
        not share its room keys with it. It asks (an empty key upload answers the counts) and uploads more."""
        if not self.client.olm or self.api is None:
            return
        try:
            _, counts = await self.api.request("POST", "/_matrix/client/v3/keys/upload", {})
            left = int((counts.get("one_time_key_counts") or {}).get("signed_curve25519", 0))
            self.client.olm.uploaded_key_count = left
            if self.client.should_upload_keys:
                log.info("the standby device has %d one-time keys left; uploading more", left)
                await self.client.keys_upload()
        except (ApiError, *NETWORK_ERRORS) as exc:
            log.warning("one-time keys of the standby device not checked: %s", exc)
        except LocalProtocolError as exc:
            log.warning("one-time keys of the standby device not uploaded: %s", exc)

    async def run_active(self) -> None:
        await self.login_once()
        self._previous_device = await self.hub.store.run(hotpath.get_state, ACTIVE_DEVICE_KEY)
        await self.hub.store.run(hotpath.put_state, ACTIVE_DEVICE_KEY, self.client.device_id)
        if self._previous_device not in (None, self.client.device_id):
            log.info("taking over from device %s", self._previous_device)
        self.hub.drop_caches()  # what the other instance changed (languages, roles) is read anew
        if not self._standby_ready:
            await self.set_up_encryption()
        await self.join_configured_rooms()
        await self.sync_loop()

    async def _look_back(self, resp: SyncResponse) -> None:
        """A device taking over from another reads the bot's recent messages in each room: what the other sent
        just before it stopped — a reply, an announcement — is not sent again (``send_event``)."""
        horizon = time.time() * 1000 - max(self.hub.config["bot"]["catch_up_seconds"], 600) * 1000
        unreadable = 0
        for room_id in list(self.client.rooms):
            start: str | None = resp.next_batch
            for _page in range(LOOK_BACK_PAGES):
                page = await self._retry_network(lambda: self.client.room_messages(
                    room_id, start=start, limit=100,
                    message_filter={"senders": [self.user_id], "types": ["m.room.message", "m.room.encrypted"]}))
                chunk = list(getattr(page, "chunk", None) or [])
                for event in chunk:
                    source = getattr(event, "source", None) or {}
                    txn = (source.get("content") or {}).get(TXN_FIELD)
                    if txn:
                        self._sent_before.setdefault(txn, event.event_id)
                    elif isinstance(event, MegolmEvent):
                        unreadable += 1
                oldest = min((getattr(e, "server_timestamp", 0) for e in chunk), default=0)
                start = getattr(page, "end", None)
                if not chunk or not start or oldest < horizon:
                    break
        log.info("read %d recent messages of the previous active device%s", len(self._sent_before),
                 f"; {unreadable} could not be decrypted" if unreadable else "")

    # ----- encryption: device keys, cross-signing, undecryptable messages ----------------------------

    async def set_up_encryption(self, create: bool = True) -> None:
        """Upload this device's keys, then create, restore or check the account's cross-signing identity
        and sign this device with it, before the first command is read (Element trusts only signed devices)."""
        if not self.client.olm:
            return
        started = time.monotonic()
        if self.client.should_upload_keys:
            await self._retry_network(self.client.keys_upload)
        if self.api is not None:  # set up again (a standby waiting for the identity)
            await self.api.close()
        self.api = api = MatrixApi(self.cfg["homeserver"], self.client.access_token, stopping=self.stopping)
        if not self.cfg["cross_signing"]:
            return
        self.identity = CrossSigning(api, self.user_id, self.client.device_id,
                                     LocalKeys(self.store_path / "cross_signing.json", self._pickle_key()),
                                     RecoveryKeySource(resolve_path(self.hub.config, self.cfg["recovery_key_file"])),
                                     password=self.cfg.get("password"))
        try:
            status = await self.identity.ensure(create=create)
        except NETWORK_ERRORS as exc:
            log.error("cross-signing postponed: the homeserver is unreachable (%s)", exc)
            return
        log.info("cross-signing: %s, master key %s, device %s %s (%.0f ms)", status.state,
                 status.master_fingerprint or "none", self.client.device_id,
                 "signed" if status.device_signed else "NOT signed", (time.monotonic() - started) * 1000)
        identity = self.identity
        self.verifications = Verifications(
            self.user_id, self.client.device_id, self.client.olm.account.identity_keys["ed25519"],
            self.hub.config.admins, self.store_path / "verification", self._send_verification_event,
            self._send_verification_to_device, self._keys_of,
            lambda: identity.keys.master.public if identity.keys else None, identity.sign_user)

    async def _send_verification_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> None:
        relates = content.get("m.relates_to") or {}
        await self.send_event(room_id, event_type, content, txn_id_for(f"{relates.get('event_id')}|{event_type}"))

    async def _send_verification_to_device(self, user_id: str, device_id: str, event_type: str,
                                           content: dict[str, Any]) -> None:
        assert self.api is not None
        await self.api.send_to_device(event_type, {user_id: {device_id: content}},
                                      txn_id_for(f"{content.get('transaction_id')}|{event_type}"))

    async def _keys_of(self, user_id: str, device_id: str) -> tuple[str | None, dict[str, Any] | None]:
        """A user's device key and master key object, as the homeserver has them now."""
        assert self.api is not None
        response = await self.api.query_keys([user_id])
        device = ((response.get("device_keys") or {}).get(user_id) or {}).get(device_id) or {}
        return ((device.get("keys") or {}).get(f"ed25519:{device_id}"),
                (response.get("master_keys") or {}).get(user_id))

    async def _on_verification_events(self, resp: SyncResponse) -> None:
        """Verification requests and their steps, to-device and in rooms, handled in order."""
        if self.verifications is None:
            return
        try:
            for event in getattr(resp, "to_device_events", None) or []:
                source = getattr(event, "source", None) or {}
                if str(source.get("type", "")).startswith("m.key.verification."):
                    await self.verifications.handle_to_device(source.get("sender", ""), source["type"],
                                                              source.get("content") or {})
            now = time.time() * 1000
            for room_id, info in resp.rooms.join.items():
                for event in info.timeline.events:
                    source = getattr(event, "source", None) or {}
                    kind, content = str(source.get("type", "")), source.get("content") or {}
                    if kind.startswith("m.key.verification.") or (
                            kind == "m.room.message" and content.get("msgtype") == "m.key.verification.request"):
                        await self.verifications.handle_room_event(
                            room_id, source.get("sender", ""), source.get("event_id", ""), kind, content,
                            now - (source.get("origin_server_ts") or 0))
        except (ApiError, PermanentSendError, *NETWORK_ERRORS) as exc:
            log.warning("a verification step failed: %s", exc)

    async def _verification_answers(self) -> None:
        """Pick up the operator's answers (``leaders-hub crypto verify``) while a verification waits."""
        while not self.stopping.is_set():
            await self._sleep(0.3)
            if self.verifications is not None and self.verifications.waiting:
                try:
                    await self.verifications.tick()
                except (ApiError, PermanentSendError, *NETWORK_ERRORS) as exc:
                    log.warning("a verification step failed: %s", exc)

    def encryption_status(self) -> IdentityStatus | None:
        """What ``!status`` and ``leaders-hub crypto status`` show; None when encryption is off."""
        if not self.client.olm:
            return None
        if self.identity is None:
            return IdentityStatus("disabled")
        return self.identity.status

    @property
    def own_device_signed(self) -> bool:
        return bool(self.identity and self.identity.status.device_signed)

    async def _learn_identities(self, room_id: str) -> None:
        """With ``share_keys_with = "cross-signed"``: know who in an encrypted room is cross-signed before
        sending there (nio only queries users whose devices changed, so a restart would forget everyone)."""
        room = self.client.rooms.get(room_id)
        if self.client.share_policy != "cross-signed" or self.api is None or not (room and room.encrypted):
            return
        missing = self.client.users_without_identity(room_id)
        if missing:
            try:
                self.client.learn_identities(await self.api.query_keys(missing))
            except (ApiError, *NETWORK_ERRORS) as exc:
                log.warning("cannot look up who is cross-signed in %s (%s); their devices get no key yet", room_id,
                            exc)

    async def _send_to_device(self) -> None:
        try:
            await self.client.send_to_device_messages()
        except NETWORK_ERRORS as exc:  # they go out with the next sync's housekeeping
            log.warning("to-device messages postponed: %s", exc)

    def _note_to_device(self, resp: SyncResponse) -> set[str]:
        """Withheld notices and room keys of this sync; returns the sessions whose keys arrived."""
        arrived: set[str] = set()
        for event in getattr(resp, "to_device_events", None) or []:
            if isinstance(event, (RoomKeyEvent, ForwardedRoomKeyEvent)):
                arrived.add(event.session_id)
            elif isinstance(event, UnknownToDeviceEvent) and event.source.get("type") in withheld.WITHHELD_TYPES:
                self.keys.note_withheld(event.source.get("content") or {})
        if arrived:
            self.keys.pulse()
        return arrived

    def _try_decrypt(self, room_id: str, source: dict[str, Any]) -> Any | None:
        try:
            return self.client.decrypt_event(MegolmEvent.from_dict({**source, "room_id": room_id}))
        except Exception:  # EncryptionError, or a malformed event: still undecryptable
            return None

    def _late_commands(self, sessions: set[str], cutoff: float) -> list[Incoming]:
        """Commands that could not be decrypted (and got a notice), now that their keys came: answer them."""
        found = []
        max_age = self.hub.config["bot"]["catch_up_seconds"]
        for event_id, waiting in self.keys.for_sessions(sessions, max_age):
            decrypted = self._try_decrypt(waiting.room_id, waiting.source)
            incoming = self._to_incoming(waiting.room_id, decrypted, cutoff) if decrypted is not None else None
            if incoming is not None and incoming.kind == "command":
                log.info("the key of %s came late; answering it now", event_id)
                incoming.event_id = event_id + LATE_SUFFIX
                found.append(incoming)
        return found

    async def _settle_undecryptable(self, incoming: Incoming) -> Incoming | None:
        """An undecryptable command: wait briefly for its key. The command decrypted (to run), a notice saying
        why it cannot be read (the reason code in ``body``), or None when it was decrypted and is no command."""
        try:
            info = json.loads(incoming.body or "{}")
        except ValueError:
            info = {}
        source = info.get("event") if isinstance(info, dict) else None
        if not isinstance(source, dict):
            return incoming  # a row from before this version: say it could not be read
        session_id = (source.get("content") or {}).get("session_id")
        deadline = time.monotonic() + KEY_GRACE
        while True:
            decrypted = self._try_decrypt(incoming.room_id, source)
            if decrypted is not None:
                command = self._to_incoming(incoming.room_id, decrypted, cutoff=0)
                if command is None or command.kind != "command":
                    return None
                command.event_id = incoming.event_id
                return command
            code = self.keys.withheld.get(session_id) if isinstance(session_id, str) else None
            left = deadline - time.monotonic()
            if code or left <= 0 or self.stopping.is_set():
                break
            await self.keys.changed(left)
        self.keys.wait_later(incoming.event_id, incoming.room_id, source)
        notice_key = withheld.notice_key(code, self.own_device_signed)
        return Incoming(incoming.event_id, incoming.room_id, incoming.sender, notice_key, incoming.origin_ts,
                        incoming.thread_root, kind="undecryptable")

    async def stop(self, grace: float = 10.0) -> None:
        self.stopping.set()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace)
        for task in list(self.tasks):  # background jobs run until told to stop
            task.cancel()
        await self._write_finished()
        if self.api is not None:
            await self.api.close()
        await self.client.close()
