"""``leaders-hub demo``: a whole hub on this machine, for a newcomer to talk to.

Starts a Synapse homeserver on 127.0.0.1 (kept in ``--dir`` so a second run
reuses it), creates the bot, a leader, a moderator and an admin account and a
leader room ``#leaders:localhost`` made by the bot, writes a config, prints how
to connect, and runs the bot until Ctrl-C; then stops the homeserver.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
import sys
from pathlib import Path

from bot.compose import load_config

SERVER = "localhost"
ROOM_ALIAS = "leaders"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _credentials(directory: Path) -> dict[str, str]:
    path = directory / "credentials.json"
    if path.exists():
        return json.loads(path.read_text())
    creds = {"hub": secrets.token_urlsafe(12), "leader": "leader-demo-pass", "moderator": "moderator-demo-pass",
             "admin": "admin-demo-pass"}
    path.write_text(json.dumps(creds, indent=1))
    path.chmod(0o600)
    return creds


async def _prepare_room(url: str, creds: dict[str, str]) -> str:
    """The leader room, made by the bot (so it holds the power to moderate), with everyone in it."""
    from nio import AsyncClient, RoomCreateResponse, RoomResolveAliasResponse

    async def client(name: str) -> AsyncClient:
        c = AsyncClient(url, f"@{name}:{SERVER}")
        await c.login(creds[name], device_name="demo setup")
        return c

    logging.getLogger("nio").setLevel(logging.ERROR)  # an unknown alias on the first run is expected
    hub, leader, moderator, admin = (await client("hub"), await client("leader"), await client("moderator"),
                                     await client("admin"))
    try:
        resolved = await hub.room_resolve_alias(f"#{ROOM_ALIAS}:{SERVER}")
        if isinstance(resolved, RoomResolveAliasResponse):
            room_id = resolved.room_id
        else:
            created = await hub.room_create(
                name="Leaders Hub — demo", alias=ROOM_ALIAS, topic="Try !help (or !pomoc)",
                invite=[leader.user_id, moderator.user_id, admin.user_id],
                power_level_override={"users": {moderator.user_id: 50}})
            if not isinstance(created, RoomCreateResponse):
                raise RuntimeError(f"could not create the demo room: {created}")
            room_id = created.room_id
        for member in (leader, moderator, admin):  # all three are members, as the greeting says
            await member.join(room_id)
        return room_id
    finally:
        for c in (hub, leader, moderator, admin):
            await c.logout()
            await c.close()


def _write_config(directory: Path, url: str, creds: dict[str, str], http_port: int) -> Path:
    path = directory / "config.toml"
    path.write_text(f"""# Written by `leaders-hub demo`; see config.example.toml for every key.
[matrix]
homeserver = "{url}"
user_id = "@hub:{SERVER}"
password = "{creds['hub']}"
device_name = "Leaders Hub (demo)"
store_path = "store"
rooms = ["#{ROOM_ALIAS}:{SERVER}"]

[bot]
prefix = "!"
language = "pl"
timezone = "Europe/Warsaw"
admins = ["@admin:{SERVER}"]

[database]
url = "sqlite+aiosqlite:///hub.db"

[http]
host = "127.0.0.1"
port = {http_port}
""")
    path.chmod(0o600)
    return path


async def _load_starter_archive(config) -> int:
    """The starter archive, on the demo's first run (an empty archive)."""
    from bot.cli import _with_hub_session
    from storage.archive import ArchiveRepository, import_records
    from storage.search import STARTER_ARCHIVE

    async def work(session) -> int:
        if await ArchiveRepository(session).count():
            return 0
        # The starter archive is reviewed by the project: published, not queued.
        count, _ = await import_records(session, STARTER_ARCHIVE.name, STARTER_ARCHIVE.read_text(encoding="utf-8"),
                                        publish=True)
        await session.commit()
        return count

    return await _with_hub_session(config, work)


def _shown(path: Path) -> str:
    """A path as short as it can be typed from here: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _command() -> str:
    """How to run ``leaders-hub`` from here: the script beside this Python (``.venv/bin/leaders-hub``),
    which is not on the PATH of a shell that did not activate the virtual environment."""
    script = Path(sys.executable).parent / "leaders-hub"
    return _shown(script) if script.exists() else "leaders-hub"


def run_demo(directory: Path, port: int = 8008) -> int:
    try:
        from bot.synapse import Homeserver
        import synapse  # noqa: F401
    except ImportError:
        print("The demo needs Synapse: pip install 'leaders-hub[demo]' (the README's demo command does this).")
        return 1
    from bot.cli import run_bot, setup_logging

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    hs_dir = directory / "synapse"
    saved_port = None
    if (hs_dir / "homeserver.yaml").exists():
        saved_port = json.loads((hs_dir / "homeserver.yaml").read_text())["listeners"][0]["port"]
    port = saved_port or (port if _port_free(port) else 0)
    homeserver = Homeserver(hs_dir, port=port or None)
    if saved_port and not _port_free(saved_port):
        print(f"Port {saved_port} (the demo's homeserver) is taken: is another demo running?")
        return 1
    print(f"Starting a Synapse homeserver on {homeserver.url} (data in {hs_dir}) …", flush=True)
    homeserver.start()
    try:
        creds = _credentials(directory)
        for name, password in creds.items():
            homeserver.register(name, password, admin=False)
        room_id = asyncio.run(_prepare_room(homeserver.url, creds))
        http_port = 8080 if _port_free(8080) else 0
        config = load_config(_write_config(directory, homeserver.url, creds, http_port))
        loaded = asyncio.run(_load_starter_archive(config))
        if loaded:
            print(f"Loaded the starter archive: {loaded} solutions (try !search bezdomność).", flush=True)
        setup_logging(config, "WARNING")
        logging.getLogger("leaders_hub").setLevel(logging.INFO)
        print(f"""
Leaders Hub demo is running.
  Connect with any Matrix client (Element, nheko, gomuks…):
    homeserver: {homeserver.url}
    users:      leader / {creds['leader']}   moderator / {creds['moderator']}   admin / {creds['admin']}
    room:       #{ROOM_ALIAS}:{SERVER}  ({room_id}) — you are already a member
  Then type !help (or !pomoc) in the room.
  Health and metrics: http://127.0.0.1:{http_port or '<port in the log>'}/healthz  /metrics
  Without any client: {_command()} console -c {_shown(directory / 'config.toml')}
Press Ctrl-C to stop the bot and the homeserver.
""", flush=True)
        try:
            asyncio.run(run_bot(config))
        except KeyboardInterrupt:
            pass
    finally:
        print("Stopping the homeserver …", flush=True)
        homeserver.stop()
    return 0
