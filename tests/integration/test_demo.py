"""``leaders-hub demo`` as a newcomer runs it: what it prints is true."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nio import AsyncClient, JoinedRoomsResponse, LoginResponse

from bot.synapse import free_port

pytestmark = pytest.mark.synapse
ROOT = Path(__file__).resolve().parents[2]


async def _joined_rooms(url: str, user: str, password: str) -> list[str]:
    client = AsyncClient(url, f"@{user}:localhost")
    try:
        assert isinstance(await client.login(password), LoginResponse)
        joined = await client.joined_rooms()
        assert isinstance(joined, JoinedRoomsResponse), joined
        return joined.rooms
    finally:
        await client.close()


async def test_the_demo_joins_every_user_and_prints_a_command_that_runs(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERS_HUB_")}
    demo = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo", "--dir", str(tmp_path / "demo-data"),
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)
    printed = ""
    try:
        deadline = time.monotonic() + 240
        while "Press Ctrl-C" not in printed and time.monotonic() < deadline and demo.poll() is None:
            printed += await asyncio.to_thread(demo.stdout.readline)
        assert "Leaders Hub demo is running." in printed, printed
        room_id = re.search(r"\((![^)]+)\) — you are already a member", printed).group(1)
        url = re.search(r"homeserver: (http://127\.0\.0\.1:\d+)", printed).group(1)
        for user in ("leader", "moderator", "admin"):
            assert room_id in await _joined_rooms(url, user, f"{user}-demo-pass"), user
        command = re.search(r"Without any client: (\S+) console -c (\S+)", printed)
        assert command.group(1) != "leaders-hub" and (ROOT / command.group(1)).exists()
        console = subprocess.run([str(ROOT / command.group(1)), "console", "-c", command.group(2)], cwd=ROOT,
                                 input="!ping\n", capture_output=True, text=True, timeout=120, env=env)
        assert console.stdout.startswith("pong!"), console.stderr
    finally:
        demo.send_signal(signal.SIGINT)  # as Ctrl-C: the demo stops the bot and its homeserver
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
