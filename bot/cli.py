"""``leaders-hub``: the operator's command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config, ConfigError, cache_dir, find_config, sqlite_url_resolved

if TYPE_CHECKING:
    from bot.context import ToolContext

log = logging.getLogger("leaders_hub")


class SecretFilter(logging.Filter):
    """Belt and braces: whatever a library logs, the configured secrets never reach the log."""

    def __init__(self, secrets: list[str | None]):
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]
        self.token_re = re.compile(r"(access_token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.token_re.sub(r"\1***", message)
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "***")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(config: Config | None, level: str | None = None) -> None:
    level = level or (config["logging"]["level"] if config else "INFO")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if config:
        m = config["matrix"]
        handler.addFilter(SecretFilter([m.get("password"), m.get("access_token"), m.get("pickle_key"),
                                        os.environ.get("LEADERS_HUB_MATRIX_RECOVERY_KEY"),
                                        _db_password(config.database_url)]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("nio", "peewee", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _db_password(url: str) -> str | None:
    match = re.match(r"^[^:]+://[^:/@]+:([^@]+)@", url)
    return match.group(1) if match else None


def _load(args) -> Config:
    from bot.compose import load_config  # with the sections the features declare

    path = find_config(getattr(args, "config", None))
    return load_config(path)


async def run_bot(config: Config, ready: asyncio.Event | None = None) -> None:
    from bot.compose import create_hub, matrix_platform
    from bot.leader import Leadership
    from bot.web import start_web

    from storage import db
    from storage.lease import make_lease

    url = sqlite_url_resolved(config)
    await db.upgrade_in_child(url)  # this process never loads Alembic (memory)
    hub = await create_hub(config, migrate=False)
    transport = matrix_platform(hub)
    # Of the instances on one database, the one holding the lease is active; the others wait (bot/leader.py).
    leadership = Leadership(make_lease(url), hub.metrics)
    transport.leadership = leadership
    web = await start_web(hub, lambda: leadership.healthy(transport.healthy), lambda: leadership.role)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    runner = asyncio.ensure_future(leadership.run(transport))
    stopper = asyncio.ensure_future(stop.wait())
    if ready is not None:
        transport.after_first_sync(lambda: _set(ready))
    try:
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()  # a fatal error (e.g. the token was refused) ends the process with its message
    finally:
        log.info("stopping")
        runner.cancel()
        stopper.cancel()
        await transport.stop()
        await leadership.release()
        if web:
            await web.cleanup()
        await hub.close()


async def _set(event: asyncio.Event) -> None:
    event.set()


def cmd_run(args) -> int:
    config = _load(args)
    setup_logging(config)
    log.info("starting Leaders Hub as %s on %s", config["matrix"]["user_id"], config["matrix"]["homeserver"])
    try:
        asyncio.run(run_bot(config))
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    return 0


def cmd_console(args) -> int:
    config = _load(args)
    setup_logging(config, "WARNING")
    # Ctrl-C ends the console even when it was started with SIGINT ignored (a background job of a shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    async def main() -> None:
        from bot.compose import create_hub
        from bot.console import ConsoleTransport

        from storage import db

        await db.upgrade_in_child(sqlite_url_resolved(config))  # a new database is migrated first, as by run
        hub = await create_hub(config, migrate=False)
        user = args.user or console_user(config)
        try:
            await ConsoleTransport(hub, user, Path(args.files) if args.files else None).run()
        finally:
            await hub.close()

    asyncio.run(main())
    return 0


def console_user(config: Config) -> str:
    """Who the console acts as without ``--user``: a leader, not an admin. The console works on the live
    database, so by default what the operator shares waits in the moderation queue like anyone's; an
    admin's powers are asked for by name (``--user @admin:…``)."""
    server = config["matrix"]["user_id"].split(":", 1)[-1] or "localhost"
    return f"@console:{server}"


def cmd_check_config(args) -> int:
    from bot.compose import load_config

    path = find_config(args.config)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found.")
        return 1
    print(f"{path}: OK ({len(config['matrix']['rooms'])} leader room(s), {len(config.admins)} admin(s)).")
    return 0


def cmd_db_upgrade(args) -> int:
    config = _load(args)
    setup_logging(config, None if args.verbose else "WARNING")  # Alembic's INFO lines only when asked for

    async def main() -> str | None:
        from bot.config import sqlite_url_resolved
        from storage import db

        engine = db.make_engine(sqlite_url_resolved(config))
        try:
            await db.upgrade(engine)
            return await db.current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(main())
    print(f"database is at revision {revision}")
    return 0


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _no_sqlite_file(url: str) -> str | None:
    """Why a database to read is not there: a SQLite URL whose file does not exist (opening it would make one)."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url and not Path(url[len(prefix):]).exists():
        return f"there is no database at {url[len(prefix):]}"
    return None


def _counts_table(rows: dict[str, int], other: dict[str, int] | None = None) -> list[str]:
    width = max([len(name) for name in rows] + [5])
    if other is None:
        return [f"  {name:<{width}} {count:>9}" for name, count in rows.items()]
    lines = [f"  {'table':<{width}} {'from':>9} {'to':>9}"]
    for name in dict.fromkeys([*rows, *other]):
        lines.append(f"  {name:<{width}} {rows.get(name, 0):>9} {other.get(name, 0):>9}"
                     + ("" if rows.get(name, 0) == other.get(name, 0) else "   ← differs"))
    return lines


def _run_db(command: str, work) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from storage.backup import BackupError

    try:
        return asyncio.run(work())
    except BackupError as exc:
        print(f"leaders-hub db {command}: {exc}", file=sys.stderr)
    except (OSError, SQLAlchemyError) as exc:  # a server that is not there, a file that cannot be written
        print(f"leaders-hub db {command}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
              file=sys.stderr)
    return 1


def cmd_db_backup(args) -> int:
    config = _load(args)
    setup_logging(config, "WARNING")
    url, path = sqlite_url_resolved(config), Path(args.file)

    async def main() -> int:
        from storage import backup, db

        missing = _no_sqlite_file(url)
        if missing:
            raise backup.BackupError(missing)
        engine = db.make_engine(url)
        try:
            report = await backup.backup(engine, path)
        finally:
            await engine.dispose()
        print("\n".join(_counts_table(report.rows)))
        print(f"Backed up {report.total} row(s) of {len(report.rows)} table(s) at revision {report.revision} "
              f"to {path}.")
        return 0

    return _run_db("backup", main)


def cmd_db_restore(args) -> int:
    config = _load(args)
    setup_logging(config, None if args.verbose else "WARNING")
    url, path = sqlite_url_resolved(config), Path(args.file)

    async def main() -> int:
        from storage import backup, db

        if not path.exists():
            raise backup.BackupError(f"there is no file {path}")
        engine = db.make_engine(url)
        try:
            report = await backup.restore(engine, path, force=args.force)
        finally:
            await engine.dispose()
        print("\n".join(_counts_table(report.rows)))
        print(f"Restored {report.total} row(s) of {len(report.rows)} table(s) from {path} (taken at revision "
              f"{report.revision}; the database is now at revision {report.migrated_to}).")
        return 0

    return _run_db("restore", main)


def cmd_db_copy(args) -> int:
    setup_logging(None, None if args.verbose else "WARNING")

    async def main() -> int:
        from storage import backup, db

        missing = _no_sqlite_file(args.source)
        if missing:
            raise backup.BackupError(missing)
        prefix = "sqlite+aiosqlite:///"
        if args.target.startswith(prefix):
            Path(args.target[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
        source, target = db.make_engine(args.source), db.make_engine(args.target)
        try:
            report, counted = await backup.copy(source, target, force=args.force)
        finally:
            await source.dispose()
            await target.dispose()
        print("\n".join(_counts_table(report.rows, counted)))
        differ = [name for name in dict.fromkeys([*report.rows, *counted])
                  if report.rows.get(name, 0) != counted.get(name, 0)]
        where = f"from {_shown(args.source)} to {_shown(args.target)}"
        if differ:
            print(f"Copied {where}, but the rows of {', '.join(differ)} differ: check the target before using "
                  "it.", file=sys.stderr)
            return 1
        print(f"Copied {report.total} row(s) of {len(report.rows)} table(s) {where} (revision {report.revision}; "
              f"the target is now at revision {report.migrated_to}); every table's rows match.")
        return 0

    return _run_db("copy", main)


def cmd_demo(args) -> int:
    from bot.compose import matrix_tools

    _operator, run_demo = matrix_tools()

    return run_demo(Path(args.dir), port=args.port)


async def _with_hub_session(config: Config, work):
    from bot.config import sqlite_url_resolved
    from storage import db

    engine = db.make_engine(sqlite_url_resolved(config))
    try:
        await db.upgrade(engine)
        async with db.make_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def cmd_crypto_status(args) -> int:
    from bot.compose import matrix_tools

    cmd_status = matrix_tools()[0].cmd_status

    return cmd_status(_load(args), args.json)


def cmd_crypto_reset(args) -> int:
    from bot.compose import matrix_tools

    cmd_reset = matrix_tools()[0].cmd_reset

    config = _load(args)
    setup_logging(config, "WARNING")
    return cmd_reset(config, args.yes)


def cmd_crypto_verify(args) -> int:
    from bot.compose import matrix_tools

    cmd_verify = matrix_tools()[0].cmd_verify

    return cmd_verify(_load(args), args.timeout)


def _tool_context(args) -> "ToolContext":
    from bot.context import ToolContext

    config = _load(args)
    return ToolContext(config, cache_dir(config), lambda work: _with_hub_session(config, work))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leaders-hub", description="Leaders Hub: a Matrix bot for a network of "
                                     "social-innovation leaders.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("-c", "--config", help="config file (default: ./config.toml, then $LEADERS_HUB_CONFIG)")
        return p

    with_config(sub.add_parser("run", help="run the bot against the configured homeserver")).set_defaults(func=cmd_run)
    console = with_config(sub.add_parser("console", help="the same commands in this terminal, no homeserver"))
    console.add_argument("--user", help="act as this Matrix user id (default: @console:<the bot's server>, a "
                         "leader; give an admin's id to moderate)")
    console.add_argument("--files", help="folder for images and files the bot sends")
    console.set_defaults(func=cmd_console)
    with_config(sub.add_parser("check-config", help="validate a config file")).set_defaults(func=cmd_check_config)
    dbp = sub.add_parser("db", help="database maintenance")
    dbsub = dbp.add_subparsers(dest="db_command", required=True)
    upgrade = with_config(dbsub.add_parser("upgrade", help="apply database migrations"))
    upgrade.add_argument("-v", "--verbose", action="store_true", help="log each migration applied")
    upgrade.set_defaults(func=cmd_db_upgrade)
    dbackup = with_config(dbsub.add_parser("backup", help="write the whole database to FILE (consistent while "
                                           "the bot runs; .gz compresses)"))
    dbackup.add_argument("file", metavar="FILE")
    dbackup.set_defaults(func=cmd_db_backup)
    drestore = with_config(dbsub.add_parser("restore", help="load a backup into the configured database (stop "
                                            "the bot first)"))
    drestore.add_argument("file", metavar="FILE")
    drestore.add_argument("--force", action="store_true", help="delete what the database holds first (without "
                          "it, a database that is not empty is refused)")
    drestore.add_argument("-v", "--verbose", action="store_true", help="log each migration applied")
    drestore.set_defaults(func=cmd_db_restore)
    dcopy = dbsub.add_parser("copy", help="copy a hub's database to another (e.g. SQLite to PostgreSQL)")
    dcopy.add_argument("--from", dest="source", required=True, metavar="URL", help="the database to copy (read "
                       "in one snapshot; it is not changed)")
    dcopy.add_argument("--to", dest="target", required=True, metavar="URL", help="the new database (must be "
                       "empty unless --force)")
    dcopy.add_argument("--force", action="store_true", help="delete what the target holds first")
    dcopy.add_argument("-v", "--verbose", action="store_true", help="log each migration applied")
    dcopy.set_defaults(func=cmd_db_copy)
    demo = sub.add_parser("demo", help="a local demo: homeserver, users, a leader room and the bot")
    demo.add_argument("--dir", default="demo-data", help="where the demo keeps its homeserver and database")
    demo.add_argument("--port", type=int, default=8008, help="homeserver port (a free one if taken)")
    demo.set_defaults(func=cmd_demo)
    crypto = sub.add_parser("crypto", help="the bot's encryption identity (cross-signing, recovery key)")
    crypto_sub = crypto.add_subparsers(dest="crypto_command", required=True)
    cstatus = with_config(crypto_sub.add_parser("status", help="identity, whether this device is signed, the "
                                                "recovery key"))
    cstatus.add_argument("--json", action="store_true")
    cstatus.set_defaults(func=cmd_crypto_status)
    creset = with_config(crypto_sub.add_parser("reset", help="replace the cross-signing identity on purpose"))
    creset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    creset.set_defaults(func=cmd_crypto_reset)
    cverify = with_config(crypto_sub.add_parser("verify", help="confirm the emoji of a verification of the bot "
                                                "started in Element"))
    cverify.add_argument("--timeout", type=float, default=600, help="seconds to wait for a request (default 600)")
    cverify.set_defaults(func=cmd_crypto_verify)
    for name, (arguments, run, help_text) in feature_tools().items():  # the features' own tools
        tool = sub.add_parser(name, help=help_text, add_help=arguments is not None)
        if arguments is not None:
            arguments(tool)
        tool.set_defaults(func=lambda args, run=run: run(args, _tool_context(args)))
    return parser


def feature_tools() -> dict:
    from bot.compose import features

    return {name: tool for feature in features() for name, tool in feature.cli_tools.items()}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tools = feature_tools()
    if argv and argv[0] in tools and tools[argv[0]][0] is None:  # a tool that reads its own arguments
        return tools[argv[0]][1](argv[1:], None)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
