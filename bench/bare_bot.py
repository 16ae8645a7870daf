"""A bare matrix-nio bot that only answers ``!ping`` with a ``pong`` notice: the baseline of the benchmark.

    python bench/bare_bot.py HOMESERVER_URL USER_ID PASSWORD ROOM_ID inline|tasks

No database, no encryption, no command router: it logs in, joins the room, takes
one ``/sync`` to skip the history, then long-polls ``/sync`` with its own loop.
Every ``!ping`` from someone else in the room gets an ``m.notice`` "pong" in
reply (``m.relates_to`` → ``m.in_reply_to``):

- ``inline``: the send is awaited inside the sync loop (the next ``/sync`` waits
  for it);
- ``tasks``: each send runs in its own asyncio task and the loop syncs again at
  once.

It prints ``ready`` once it is listening and stops cleanly on SIGTERM/SIGINT.
Loopback homeservers only: it is a benchmark tool, not a bot to deploy.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from nio import AsyncClient, AsyncClientConfig, JoinError, LoginResponse, RoomMessageText, SyncResponse

SYNC_TIMEOUT_MS = 30000
# The same timeline limit as Leaders Hub's sync filter.
SYNC_FILTER = {"room": {"timeline": {"limit": 50}}}


async def run(homeserver: str, user_id: str, password: str, room_id: str, mode: str) -> None:
    client = AsyncClient(homeserver, user_id,
                         config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=False))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: set[asyncio.Task] = set()

    async def pong(event_id: str) -> None:
        content = {"msgtype": "m.notice", "body": "pong", "m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}
        for _ in range(5):
            resp = await client.room_send(room_id, "m.room.message", content)
            if hasattr(resp, "event_id"):
                return
            print(f"send failed: {resp}", file=sys.stderr, flush=True)
            await asyncio.sleep(0.5)

    try:
        resp = await client.login(password, device_name="bare-bot")
        if not isinstance(resp, LoginResponse):
            raise SystemExit(f"login failed: {resp}")
        joined = await client.join(room_id)
        if isinstance(joined, JoinError):
            raise SystemExit(f"join failed: {joined.message}")
        first = await client.sync(timeout=0, sync_filter=SYNC_FILTER)  # skip everything before now
        if not isinstance(first, SyncResponse):
            raise SystemExit(f"first sync failed: {first}")
        print("ready", flush=True)
        stopper = asyncio.ensure_future(stop.wait())
        while not stop.is_set():
            syncing = asyncio.ensure_future(client.sync(timeout=SYNC_TIMEOUT_MS, sync_filter=SYNC_FILTER))
            await asyncio.wait({syncing, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                syncing.cancel()
                break
            try:
                resp = syncing.result()
            except Exception as exc:  # a network hiccup: try again
                print(f"sync failed: {exc!r}", file=sys.stderr, flush=True)
                await asyncio.sleep(0.5)
                continue
            if not isinstance(resp, SyncResponse):
                print(f"sync error: {resp}", file=sys.stderr, flush=True)
                await asyncio.sleep(0.5)
                continue
            room = resp.rooms.join.get(room_id)
            if room is None:
                continue
            for event in room.timeline.events:
                if (isinstance(event, RoomMessageText) and event.sender != user_id
                        and event.body.strip() == "!ping"):
                    if mode == "inline":
                        await pong(event.event_id)
                    else:
                        task = asyncio.ensure_future(pong(event.event_id))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
        stopper.cancel()
    finally:
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await client.close()


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[4] not in ("inline", "tasks"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    homeserver, user_id, password, room_id, mode = argv
    asyncio.run(run(homeserver, user_id, password, room_id, mode))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
