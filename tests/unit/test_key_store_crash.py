"""A room key survives the bot's process being killed while it reads the to-device message that brings it.

What a failover does: kill -9 lands while the active device reads a sync. The homeserver then sends that
sync's to-device messages again (the device's sync token was not saved yet). nio writes the Olm session the
message moved on and the room key it carried one after the other; killed in between, the device kept the
session but not the key, and the message, sent again, no longer decrypts with that session — the key is
gone and the device can never read the room's messages of that session. The bot's Olm machine
(``bot.matrix.crypto.nio_client.PolicyOlm``) writes both in one transaction.

Each step runs in a process of its own, on real nio key stores (SQLite files), and the crash is a real
``os._exit`` in the middle of the write, as a kill would leave the files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("nio.crypto", reason="matrix-nio's e2e extra")

ROOT = Path(__file__).resolve().parents[2]
ROOM = "!room:localhost"

STEPS = textwrap.dedent('''
    import json, os, sys
    from nio import AsyncClient, AsyncClientConfig
    from nio.crypto import OlmDevice
    from nio.events import ToDeviceEvent
    from nio.store import DefaultStore
    from bot.matrix.crypto.nio_client import HubClient

    folder, step, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    ROOM = "!room:localhost"

    def client(cls, user, device, name):
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        c = cls("http://127.0.0.1:9", user, device_id=device, store_path=os.path.join(folder, name),
                config=AsyncClientConfig(store=DefaultStore, pickle_key="test", encryption_enabled=True))
        c.user_id = user  # as a login would
        c.load_store()
        return c

    bot_class = HubClient if kind == "hub" else AsyncClient  # "nio": nio's own Olm machine, for comparison
    bot = client(bot_class, "@hub:localhost", "BOTDEVICE", "bot")
    if step == "prepare":
        ala = client(AsyncClient, "@ala:localhost", "ALADEVICE", "ala")
        bot.olm.account.generate_one_time_keys(1)
        one_time_key = next(iter(bot.olm.account.one_time_keys["curve25519"].values()))
        bot.olm.mark_keys_as_published()
        bot.olm.save_account()
        bot_keys = bot.olm.account.identity_keys
        session = ala.olm.create_session(one_time_key, bot_keys["curve25519"])
        device = OlmDevice("@hub:localhost", "BOTDEVICE", {"ed25519": bot_keys["ed25519"],
                                                           "curve25519": bot_keys["curve25519"]})
        ala.olm.create_outbound_group_session(ROOM)
        group = ala.olm.outbound_group_sessions[ROOM]
        content = {"algorithm": "m.megolm.v1.aes-sha2", "room_id": ROOM, "session_id": group.id,
                   "session_key": group.session_key}
        event = {"sender": "@ala:localhost", "type": "m.room.encrypted",
                 "content": ala.olm._olm_encrypt(session, device, "m.room_key", content)}
        json.dump({"event": event, "session_id": group.id, "sender_key": ala.olm.account.identity_keys["curve25519"]},
                  open(os.path.join(folder, "message.json"), "w"))
        sys.exit(0)

    saved = json.load(open(os.path.join(folder, "message.json")))
    event = ToDeviceEvent.parse_event(saved["event"])
    if step == "crash":  # killed after the Olm session is written, while the room key is being written
        def killed(session):
            os._exit(9)
        bot.olm.store.save_inbound_group_session = killed
        bot._handle_decrypt_to_device(event)
        sys.exit(1)  # not reached: the key was never written
    bot._handle_decrypt_to_device(event)  # step "again": the homeserver sends the message again
    key = bot.olm.inbound_group_store.get(ROOM, saved["sender_key"], saved["session_id"])
    print(json.dumps({"key": key is not None}))
''')


def _run(script: Path, folder: Path, step: str, kind: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), str(folder), step, kind], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def _killed_then_sent_again(tmp_path: Path, kind: str) -> bool:
    script = tmp_path / "steps.py"
    script.write_text(STEPS)
    folder = tmp_path / kind
    folder.mkdir()
    prepared = _run(script, folder, "prepare", kind)
    assert prepared.returncode == 0, prepared.stderr
    crashed = _run(script, folder, "crash", kind)
    assert crashed.returncode == 9, crashed.stderr
    again = _run(script, folder, "again", kind)
    assert again.returncode == 0, again.stderr
    return json.loads(again.stdout.strip().splitlines()[-1])["key"]


def test_a_room_key_read_again_after_a_kill_mid_write_is_kept(tmp_path):
    assert _killed_then_sent_again(tmp_path, "hub"), "the bot lost the room key"


def test_nio_alone_loses_it_which_is_why_the_bot_writes_both_at_once(tmp_path):
    # The same steps with nio's own Olm machine: the Olm session was written, the key was not, and the
    # message sent again no longer decrypts. (If this starts failing, nio has fixed it itself.)
    assert not _killed_then_sent_again(tmp_path, "nio")
