"""``python -m storage.migrations``: migrate the database named by ``$LEADERS_HUB_MIGRATE_URL`` to the
head revision (``storage.db.upgrade_in_child`` runs this, so the bot process never loads Alembic)."""

from __future__ import annotations

import asyncio
import os
import sys

from storage import db


async def main(url: str) -> None:
    engine = db.make_engine(url)
    try:
        await db.upgrade(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    url = os.environ.get(db.MIGRATE_URL_ENV)
    if not url:
        sys.exit(f"set {db.MIGRATE_URL_ENV} to the database URL to migrate")
    try:
        asyncio.run(main(url))
    except Exception as exc:  # one line for the operator (storage.db.upgrade_in_child passes it on)
        sys.exit(f"{type(exc).__name__}: {exc}")
