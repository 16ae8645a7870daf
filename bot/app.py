"""The hub: configuration, database, translations, commands and metrics wired together.

Platforms (Matrix, console) hand it an ``Incoming`` event; ``execute`` runs the
command in one database transaction and returns what to send. The reply is
recorded in that same transaction by the platform's ``record`` callback, so a
command's writes and its answer are committed together or not at all. A command
that never touched the database has no transaction: ``record`` is told so.

Users' languages and granted roles, needed by every command, are cached here;
a commit that changes them (``storage.hotpath.mark_changed``) drops the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot import checks, messages
from bot.checks import Checked
from bot.config import Config, cache_dir, sqlite_url_resolved
from bot.context import Context, Incoming
from bot.errors import CommandError, PermissionDenied, UsageError
from bot.i18n import Translator
from bot.metrics import Metrics
from bot.platform import Platform
from bot.reply import Outgoing, md_code
from bot.roles import resolve_role
from bot.router import Command, CommandSet, Role, Router, convert_args, require_role
from storage import db, hotpath

log = logging.getLogger(__name__)

Recorder = Callable[[AsyncSession | None, str | None, str, list[Outgoing]], Awaitable[None]]
CACHE_LIMIT = 50_000  # users' languages kept in memory
S = TypeVar("S")


class Hub:
    def __init__(self, config: Config, engine: AsyncEngine, features: list[CommandSet]):
        self.config = config
        self.engine = engine
        self.sessions = db.make_sessionmaker(engine)
        self.versions = hotpath.CacheVersions.of(engine)  # moved by every commit that changes settings or grants
        self.store = hotpath.RuntimeStore(engine)
        self._languages: dict[str, str | None] = {}
        self._languages_version = -1
        self._grants: dict[str, set[str]] = {}
        self._grants_version = -1
        self._room_languages: dict[str, str] = {}
        self._room_languages_version = -1
        self.translator = Translator()
        self.router = Router(config.prefix)
        self.metrics = Metrics()
        self.platform: Platform | None = None
        self.started_at = time.time()
        self.features = features
        self.translator.register(messages.CATALOGUE)
        self.translator.register(checks.CATALOGUE)  # the check chain is the runtime's, whatever feature uses it
        self.reaction_handlers: list[Callable[..., Awaitable[bool]]] = []
        self.background_jobs: list[Callable[..., Awaitable[None]]] = []
        self.routes: dict[str, Callable[..., Awaitable[Any]]] = {}
        for command_set in features:
            self.translator.register(command_set.catalogue)
            self.router.include(command_set)
            self.reaction_handlers.extend(command_set.reaction_handlers)
            self.background_jobs.extend(command_set.background_jobs)
            self.routes.update(command_set.routes)
        for command_set in features:
            self.router.attach(command_set)
        for command_set in features:  # a config read without the features' sections gets their defaults
            if command_set.config is not None:
                name, keys = command_set.config
                config.values.setdefault(name, {key: spec.default for key, spec in keys.items()})
        self._services: dict[type, Any] = {}
        for command_set in features:
            for cls in command_set.services:
                self._services[cls] = cls(self)

    @property
    def cache_dir(self) -> Path:
        """Where features keep files they can rebuild (the search's dictionaries)."""
        return cache_dir(self.config)

    def service(self, cls: type[S]) -> S:
        """The one instance of a feature's service class (``hub.service(ArchiveIndex)``)."""
        return self._services[cls]

    @classmethod
    async def create(cls, config: Config, features: list[CommandSet], migrate: bool = True) -> "Hub":
        engine = db.make_engine(sqlite_url_resolved(config))
        if migrate:
            await db.upgrade(engine)
        return cls(config, engine, features)

    async def close(self) -> None:
        await asyncio.to_thread(self.store.close)
        await self.engine.dispose()

    def drop_caches(self) -> None:
        """Forget the cached languages and grants (another instance may have changed them)."""
        self._languages_version = self._grants_version = self._room_languages_version = -1

    async def language_of(self, user_id: str) -> str:
        """The user's reply language (cached; a committed ``!lang`` drops the cache)."""
        version = self.versions["settings"]
        if version != self._languages_version or len(self._languages) > CACHE_LIMIT:
            self._languages, self._languages_version = {}, version
        if user_id in self._languages:
            language = self._languages[user_id]
        else:
            language = await self.store.run(hotpath.language, user_id)
            if self.versions["settings"] == version:  # not changed while we read
                self._languages[user_id] = language
        return language or self.config.language

    async def grants_of(self, user_id: str) -> set[str]:
        """The roles granted to a user (all grants cached; a committed grant or revoke drops them)."""
        version = self.versions["grants"]
        grants = self._grants if version == self._grants_version else None
        if grants is None:
            grants = await self.store.run(hotpath.grants)
            if self.versions["grants"] == version:
                self._grants, self._grants_version = grants, version
        return grants.get(user_id, set())

    async def room_language(self, room_id: str) -> str:
        """The language of what the bot posts in a room (``!lang room``; cached like users' languages)."""
        version = self.versions["rooms"]
        if version != self._room_languages_version:
            languages = await self.store.run(hotpath.room_languages)
            if self.versions["rooms"] == version:
                self._room_languages, self._room_languages_version = languages, version
            return languages.get(room_id) or self.config.language
        return self._room_languages.get(room_id) or self.config.language

    async def post(self, room_id: str, kind: str, key: str, compose: Callable[[str], "str | Outgoing"],
                   language: str | None = None) -> str:
        """A message not in reply to a command — an announcement, a reminder, a broadcast — the way every post
        goes: ``compose(language)`` writes it in the room's language (or ``language``, a person's), it is sent
        once per ``key``, and counted in ``leaders_hub_posts_total{kind,outcome}``. Returns its event id."""
        assert self.platform is not None, "a platform must be attached first"
        message = compose(language or await self.room_language(room_id))
        if isinstance(message, str):
            message = Outgoing(markdown=message)
        try:
            event_id = await self.platform.send_outgoing(room_id, message, key)
        except Exception:
            self.metrics.posts.labels(kind, "failed").inc()
            raise
        self.metrics.posts.labels(kind, "ok").inc()
        return event_id

    async def edit_post(self, room_id: str, event_id: str, kind: str, key: str,
                        compose: Callable[[str], str]) -> str:
        """A new text for a post of the bot's (an ``m.replace`` edit), in the room's language; once per ``key``."""
        assert self.platform is not None, "a platform must be attached first"
        text = compose(await self.room_language(room_id))
        try:
            edited = await self.platform.edit_notice(room_id, event_id, text, key)
        except Exception:
            self.metrics.posts.labels(kind, "failed").inc()
            raise
        self.metrics.posts.labels(kind, "ok").inc()
        return edited

    async def role_of(self, room_id: str, user_id: str) -> Role:
        assert self.platform is not None
        return await resolve_role(self.config.admins, self.platform, self.grants_of, room_id, user_id)

    async def execute(self, incoming: Incoming, record: Recorder | None = None) -> list[Outgoing]:
        """Run one command; never raises for anything a user typed."""
        assert self.platform is not None, "a platform must be attached first"
        name: str | None = None
        lang = await self.language_of(incoming.sender)
        async with self.sessions() as session:
            ctx = Context(self, session, self.platform, incoming, lang)
            try:
                if incoming.kind == "undecryptable":  # the transport says why in ``body`` (a catalogue key)
                    reason = incoming.body if incoming.body.startswith("runtime.undecryptable") else None
                    ctx.reply(ctx.t(reason or "runtime.undecryptable"))
                    outcome = "undecryptable"
                elif incoming.kind in ("reaction", "unreaction"):
                    outcome = "ignored"
                    ctx.role = await self.role_of(incoming.room_id, incoming.sender)
                    for handler in self.reaction_handlers:
                        if await handler(ctx):
                            outcome, name = "ok", incoming.kind
                            break
                else:
                    outcome = "ok"
                    name = await self._run(ctx, incoming.body)
            except CommandError as error:
                await session.rollback()  # nothing half-done is kept
                ctx.outgoing = [Outgoing(markdown=self.error_text(ctx, error))]
                outcome = error.outcome
                name = ctx.command.path if ctx.command else None
            except Exception:  # a bug: say so briefly, keep running, log the trace
                log.exception("command %r in %s failed", (incoming.body or "")[:80], incoming.room_id)
                await session.rollback()
                ctx.outgoing = [Outgoing(markdown=ctx.t("error.internal"))]
                outcome = "crash"
                name = ctx.command.path if ctx.command else None
            # A command that never touched the database (most answers) has nothing to commit: its
            # reply is recorded when it is marked done (``record`` gets no session).
            used = session.in_transaction()
            if record is not None:
                await record(session if used else None, name, outcome, ctx.outgoing)
            if used:
                await session.commit()
        if outcome == "ok":
            for callback in ctx.after_commit:
                try:
                    await callback()
                except Exception:  # the database is the truth: a restart redoes what this missed
                    log.exception("after-commit step of %s failed", name)
        self.metrics.commands.labels(name or "unknown", outcome).inc()
        return ctx.outgoing

    async def _run(self, ctx: Context, body: str) -> str:
        invocation = self.router.parse(body)
        resolved = self.router.resolve(invocation)
        command = ctx.command = resolved.command
        ctx.role = await self.role_of(ctx.room_id, ctx.sender)
        # The role, checked once: by the command's check chain (which audits a refusal), or plainly.
        if command.checks is not None:
            await command.checks.check_role(ctx)
        else:
            require_role(ctx.role, command.role)
        if command.handler is None:
            raise UsageError("error.choose_subcommand", subcommands=self._subcommand_list(ctx, command))
        values = convert_args(command, invocation, resolved.args_start, ctx)
        checked = None
        if command.checks is not None:  # what the arguments need: target, rank, not self, not the bot, its power
            checked = await command.checks.check_arguments(ctx, values)
        if command.takes_checked:
            await command.handler(ctx, checked or Checked(), *values)
        else:
            await command.handler(ctx, *values)
        return command.path

    def _subcommand_list(self, ctx: Context, command: Command) -> str:
        subs = [s for s in command.subcommands.values() if not s.hidden and s.role <= ctx.role]
        return ", ".join(md_code(f"{ctx.prefix}{s.path}") for s in subs)

    def error_text(self, ctx: Context, error: CommandError) -> str:
        params = dict(error.params)
        if isinstance(error, PermissionDenied):
            params = {"needed": ctx.t(Role(params["needed"]).key), "have": ctx.t(Role(params["have"]).key), **{
                k: v for k, v in params.items() if k not in ("needed", "have")}}
        if error.key == "error.unknown_command":
            if params.get("suggestion"):
                return ctx.t("error.unknown_command_suggest", name=md_code(params["name"]),
                             suggestion=md_code(ctx.prefix + params["suggestion"]), help=md_code(ctx.prefix + "help"))
            return ctx.t("error.unknown_command", name=md_code(params.get("name", "")),
                         help=md_code(ctx.prefix + "help"))
        if error.key in ("error.missing_argument", "error.bad_choice", "error.bad_value") and "name" in params:
            params["name"] = ctx.arg_name(params["name"])
        text = ctx.t(error.key, **params)
        if isinstance(error, UsageError) and ctx.command is not None:
            text += "\n\n" + ctx.t("error.usage_line", usage=md_code(ctx.usage(ctx.command)),
                                   help=md_code(f"{ctx.prefix}help {ctx.command.path}"))
        return text
