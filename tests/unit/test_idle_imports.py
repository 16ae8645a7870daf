"""An idle bot does not load what it only needs for a page, a reply, or another database (issue 16: memory).

A new Python process takes the steps ``leaders-hub run`` takes before it logs in (``bot.cli.run_bot``: the
database migrated in a child process, the hub with every feature, the Matrix platform, the lease, the web
server) and then runs the features' background jobs as after a first sync (the archive's index, the events
scheduler). What it then holds in ``sys.modules`` must not include:

- ``cryptography``: the bot's Ed25519/AES/HKDF are PyCryptodome's, which matrix-nio loads anyway;
- ``jinja2``: the pages' environment is made at the first page;
- ``markdown_it``, ``nh3``: made at the first message rendered;
- SQLAlchemy's dialect of the backend not in use.

bench/memory.py --live measures what each costs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bot.synapse import free_port

ROOT = Path(__file__).resolve().parents[2]
NEVER_AT_IDLE = ("cryptography", "jinja2", "markupsafe", "markdown_it", "nh3")
DIALECTS = {"sqlite": "sqlalchemy.dialects.sqlite", "postgresql": "sqlalchemy.dialects.postgresql"}

CHILD = textwrap.dedent("""
    import asyncio, json, sys
    from pathlib import Path

    import bot.cli  # noqa: F401  (what `leaders-hub run` imports, in its order)
    from bot.compose import create_hub, load_config, matrix_platform
    from bot.config import sqlite_url_resolved
    from bot.leader import Leadership
    from bot.web import start_web
    from storage import db
    from storage.lease import make_lease

    async def main():
        config = load_config(Path(sys.argv[1]))
        url = sqlite_url_resolved(config)
        await db.upgrade_in_child(url)
        hub = await create_hub(config, migrate=False)
        transport = matrix_platform(hub)
        leadership = Leadership(make_lease(url), hub.metrics)
        web = await start_web(hub, lambda: True, lambda: leadership.role)
        jobs = [asyncio.ensure_future(job(hub)) for job in hub.background_jobs]
        try:
            from commands.archive import ArchiveIndex

            await hub.service(ArchiveIndex).ready(analyse=False)
            await asyncio.sleep(0.5)  # the events scheduler's rebuild
            print(json.dumps(sorted(sys.modules)))
        finally:
            transport.stopping.set()
            await asyncio.wait(jobs, timeout=10)
            await web.cleanup()
            await hub.close()

    asyncio.run(main())
""")


def idle_modules(tmp_path: Path, db_url: str) -> set[str]:
    config = tmp_path / "config.toml"
    config.write_text("\n".join([
        "[matrix]", 'homeserver = "http://127.0.0.1:9"', 'user_id = "@hub:localhost"', 'password = "not-used"',
        'store_path = "store"',
        "[database]", f"url = {json.dumps(db_url)}",
        "[http]", 'host = "127.0.0.1"', f"port = {free_port()}",
        "[logging]", 'level = "WARNING"',
    ]) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERS_HUB_")}  # only this config
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code
    done = subprocess.run([sys.executable, "-c", CHILD, str(config)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


async def test_an_idle_bot_holds_no_page_reply_or_second_crypto_library_nor_the_other_dialect(backend, db_url,
                                                                                            tmp_path):
    modules = idle_modules(tmp_path, db_url)
    # What it must hold, so that the test is about a process that really got that far.
    for needed in ("nio", "aiohttp.web", "sqlalchemy.orm", "Crypto", "bot.matrix.crypto.identity",
                   "commands.archive", DIALECTS[backend.name]):
        assert needed in modules, needed
    for package in NEVER_AT_IDLE:
        assert not loaded(modules, package), f"{package} is loaded at idle: {loaded(modules, package)[:5]}"
    other = next(d for name, d in DIALECTS.items() if name != backend.name)
    assert not loaded(modules, other), f"the unused dialect is loaded: {loaded(modules, other)[:5]}"
