"""Core commands: help, ping, language."""

from __future__ import annotations

import time
from typing import Annotated

from bot.args import fold
from bot.checks import Chain, record_action
from bot.context import Context
from bot.i18n import LANGUAGES, number
from bot.reply import clip, md_code, md_escape
from bot.router import Command, CommandSet, OptionalRest, Role, choice
from storage.runtime import RoomSettingsRepository, SettingsRepository

CATALOGUE = {
    "en": {
        "core.help.help": "the commands you may use, or one command's usage",
        "core.ping.help": "checks that the bot is alive and how long your message took to reach it",
        "core.lang.help": "sets the language of my replies to you (pl or en)",
        "core.help.title": "**Commands you can use here** (as {role}):",
        "core.help.footer": "Details of one command: {example}",
        "core.help.unknown": "There is no command {name}. Send {help} for the list.",
        "core.help.usage": "**Usage:** {usage}",
        "core.help.aliases": "Also: {aliases}",
        "core.help.role": "Who may use it: {role}",
        "core.help.subcommands": "Subcommands:",
        "core.ping.pong": "pong! Your message took {ms} ms to reach me.",
        "core.lang.set": "From now on I will answer you in English.",
        "core.lang.room.help": "sets the language of what I post in this room (announcements, reminders, broadcasts): `!lang room pl|en`",
        "core.lang.room_set": "From now on what I post in {room} by myself is in {language}; my replies to each of you stay in your own language.",
        "core.lang.room_detail": "language: {language}",
        "core.language.pl": "Polish",
        "core.language.en": "English",
        "audit.action.lang.room": "room language",
        "core.whoami.help": "who you are to the bot in this room: your role and language",
        "core.whoami.text": "You are {user}; your role in this room: **{role}**; language: {lang}.",
        "core.status.help": "the bot's state: uptime, leader rooms, commands handled, sync lag",
        "core.status.uptime": "{h} h {m} min {s} s",
        "core.status.text": "Up for {uptime}; serving {rooms} leader room(s); {handled} command(s) handled since start; last sync {lag} s ago.",
        "core.status.crypto_ready": "Encryption: identity {master}, this device signed by it; recovery key in {where}.",
        "core.status.crypto_problem": "Encryption: **this device is not signed** (identity {master}): {problem}",
        "core.status.crypto.needs_recovery_key": "the account already has an identity and I have no recovery key ({where}); the operator must put it there and restart, or run `leaders-hub crypto reset`.",
        "core.status.crypto.wrong_recovery_key": "the recovery key ({where}) does not open the account's secret storage; the operator must give the right one, or run `leaders-hub crypto reset`.",
        "core.status.crypto.auth_refused": "the homeserver wants the account's password to publish my keys; the operator must set `[matrix] password` and restart.",
        "core.status.crypto.unsigned": "signing it has not worked yet; see the bot's log or `leaders-hub crypto status`.",
        "core.status.crypto.no_identity": "the account has no cross-signing identity yet; see the bot's log.",
        "core.status.crypto.error": "the homeserver refused or could not be reached; see the bot's log or `leaders-hub crypto status`.",
        "core.status.crypto.unknown": "still being set up.",
        "core.status.crypto_disabled": "Encryption: on, without cross-signing (`cross_signing = false`): Element shows my messages as from an unverified device.",
        "core.status.crypto_off": "Encryption: off.",
    },
    "pl": {
        "core.help.help": "polecenia, których możesz użyć, albo opis jednego polecenia",
        "core.ping.help": "sprawdza, czy bot działa i ile trwała droga Twojej wiadomości",
        "core.lang.help": "ustawia język moich odpowiedzi dla Ciebie (pl lub en)",
        "core.help.title": "**Polecenia, których możesz tu użyć** (jako {role}):",
        "core.help.footer": "Opis jednego polecenia: {example}",
        "core.help.unknown": "Nie ma polecenia {name}. Wyślij {help}, aby zobaczyć listę.",
        "core.help.usage": "**Użycie:** {usage}",
        "core.help.aliases": "Także: {aliases}",
        "core.help.role": "Kto może użyć: {role}",
        "core.help.subcommands": "Podpolecenia:",
        "core.ping.pong": "pong! Twoja wiadomość dotarła do mnie po {ms} ms.",
        "core.lang.set": "Od teraz będę Ci odpowiadać po polsku.",
        "core.lang.room.help": "ustawia język tego, co publikuję w tym pokoju (ogłoszenia, przypomnienia, komunikaty): `!jezyk pokoj pl|en`",
        "core.lang.room_set": "Od teraz to, co sam publikuję w {room}, jest po {language}; odpowiedzi dla każdego z Was zostają w jego języku.",
        "core.lang.room_detail": "język: {language}",
        "core.language.pl": "polsku",
        "core.language.en": "angielsku",
        "audit.action.lang.room": "język pokoju",
        "core.whoami.help": "kim jesteś dla bota w tym pokoju: Twoja rola i język",
        "core.whoami.text": "Jesteś {user}; Twoja rola w tym pokoju: **{role}**; język: {lang}.",
        "core.status.help": "stan bota: czas działania, pokoje liderów, obsłużone polecenia, opóźnienie synchronizacji",
        "core.status.uptime": "{h} godz. {m} min {s} s",
        "core.status.text": "Działam od {uptime}; obsługuję pokoje liderów: {rooms}; obsłużone polecenia od startu: {handled}; ostatnia synchronizacja {lag} s temu.",
        "core.status.crypto_ready": "Szyfrowanie: tożsamość {master}, to urządzenie jest nią podpisane; klucz odzyskiwania: {where}.",
        "core.status.crypto_problem": "Szyfrowanie: **to urządzenie nie jest podpisane** (tożsamość {master}): {problem}",
        "core.status.crypto.needs_recovery_key": "konto ma już tożsamość, a ja nie mam klucza odzyskiwania ({where}); operator musi go tam umieścić i uruchomić mnie ponownie albo użyć `leaders-hub crypto reset`.",
        "core.status.crypto.wrong_recovery_key": "klucz odzyskiwania ({where}) nie otwiera magazynu sekretów konta; operator musi podać właściwy albo użyć `leaders-hub crypto reset`.",
        "core.status.crypto.auth_refused": "serwer chce hasła konta, by opublikować moje klucze; operator musi ustawić `[matrix] password` i uruchomić mnie ponownie.",
        "core.status.crypto.unsigned": "podpisanie jeszcze się nie udało; zobacz dziennik bota albo `leaders-hub crypto status`.",
        "core.status.crypto.no_identity": "konto nie ma jeszcze tożsamości do podpisywania krzyżowego; zobacz dziennik bota.",
        "core.status.crypto.error": "serwer odmówił albo był nieosiągalny; zobacz dziennik bota albo `leaders-hub crypto status`.",
        "core.status.crypto.unknown": "jeszcze trwa konfiguracja.",
        "core.status.crypto_disabled": "Szyfrowanie: włączone, bez podpisywania krzyżowego (`cross_signing = false`): Element pokazuje moje wiadomości jako z niezweryfikowanego urządzenia.",
        "core.status.crypto_off": "Szyfrowanie: wyłączone.",
    },
}

commands = CommandSet("core", CATALOGUE)


def _line(ctx: Context, command: Command) -> str:
    names = md_code(ctx.prefix + command.path)
    aliases = [a for a in command.aliases if fold(a) == a.lower()][:1]  # show one ascii alias
    if aliases:
        parent = f"{command.parent.path} " if command.parent else ""
        names += f" ({md_code(ctx.prefix + parent + aliases[0])})"
    return f"- {names} — {ctx.t(command.key + '.help')}"


@commands.command("help", aliases=("pomoc", "h"))
async def help_(ctx: Context, command: OptionalRest = None) -> None:
    router = ctx.hub.router
    words = (command or "").removeprefix(ctx.prefix).split()
    if not words:  # `!help`, or `!help !` with nothing after the prefix
        lines = [ctx.t("core.help.title", role=ctx.t(ctx.role.key))]
        for cmd in router.visible_to(ctx.role):
            lines.append(_line(ctx, cmd))
            for sub in cmd.subcommands.values():
                if not sub.hidden and sub.role <= ctx.role:
                    lines.append("  " + _line(ctx, sub))
        lines.append("")
        lines.append(ctx.t("core.help.footer", example=md_code(f"{ctx.prefix}help ping")))
        ctx.reply("\n".join(lines))
        return
    target = router.commands.get(fold(words[0]))
    for word in words[1:]:
        if target is None:
            break
        sub = target.find_sub(word)
        if sub is None:
            break
        target = sub
    if target is None:
        ctx.reply(ctx.t("core.help.unknown", name=md_code(clip(words[0])), help=md_code(ctx.prefix + "help")))
        return
    lines = [f"{md_code(ctx.prefix + target.path)} — {ctx.t(target.key + '.help')}",
             "", ctx.t("core.help.usage", usage=md_code(ctx.usage(target)))]
    if target.aliases:
        lines.append(ctx.t("core.help.aliases", aliases=", ".join(md_code(ctx.prefix + a) for a in target.aliases)))
    lines.append(ctx.t("core.help.role", role=ctx.t(target.role.key)))
    if target.details is not None:
        lines += ["", target.details(ctx)]
    subs = [s for s in target.subcommands.values() if not s.hidden and s.role <= ctx.role]
    if subs:
        lines.append(ctx.t("core.help.subcommands"))
        lines.extend(_line(ctx, s) for s in subs)
    ctx.reply("\n".join(lines))


@commands.command("ping")
async def ping(ctx: Context) -> None:
    now_ms = int(time.time() * 1000)
    ms = max(0, now_ms - ctx.incoming.origin_ts)
    server = ctx.sender.split(":", 1)[1] if ":" in ctx.sender else ""
    # maubot/echo convention: clients and bots can read the measured delay from the content.
    ctx.reply(ctx.t("core.ping.pong", ms=ms),
              extra={"pong": {"ms": ms, "from": server, "ping": ctx.incoming.event_id}})


@commands.command("lang", aliases=("jezyk", "język", "language"))
async def lang(ctx: Context, language: Annotated[str, choice(*LANGUAGES)]) -> None:
    await SettingsRepository(ctx.session).set_language(ctx.sender, language)
    ctx.lang = language
    ctx.reply(ctx.t("core.lang.set"))


@lang.sub("room", aliases=("pokoj", "pokój"), role=Role.MODERATOR, checks=Chain("lang.room"))
async def lang_room(ctx: Context, language: Annotated[str, choice(*LANGUAGES)]) -> None:
    """What the bot posts in this room by itself — announcements, reminders, broadcasts — is in ``language``;
    replies to a person stay in that person's language."""
    await RoomSettingsRepository(ctx.session).set_language(ctx.room_id, language, ctx.sender)
    await record_action(ctx, "lang.room", target=ctx.room_id, detail={"key": "core.lang.room_detail",
                                                                        "params": {"language": language}})
    ctx.reply(ctx.t("core.lang.room_set", room=ctx.room_label(ctx.room_id),
                    language=ctx.t(f"core.language.{language}")))


__all__ = ["commands", "md_escape"]


@commands.command("whoami", aliases=("ktoja", "kim-jestem"))
async def whoami(ctx: Context) -> None:
    ctx.reply(ctx.t("core.whoami.text", user=md_code(ctx.sender), role=ctx.t(ctx.role.key),
                    lang=ctx.lang))


@commands.command("status", role=Role.MODERATOR)
async def status(ctx: Context) -> None:
    hub = ctx.hub
    uptime = int(time.time() - hub.started_at)
    handled = sum(sample.value for metric in hub.metrics.commands.collect() for sample in metric.samples
                  if sample.name.endswith("_total"))
    lag = hub.metrics.last_sync
    lag_s = number(time.monotonic() - lag, ctx.lang, "0.0") if lag else "—"
    text = ctx.t("core.status.text", uptime=ctx.t("core.status.uptime", h=uptime // 3600, m=uptime % 3600 // 60,
                                                  s=uptime % 60),
                 rooms=len(ctx.platform.leader_rooms), handled=number(int(handled), ctx.lang), lag=lag_s)
    ctx.reply(text + "\n" + _encryption_line(ctx))


def _encryption_line(ctx: Context) -> str:
    status = ctx.platform.encryption_status()
    if status is None:
        return ctx.t("core.status.crypto_off")
    if status.state == "ready":
        return ctx.t("core.status.crypto_ready", master=md_code(status.master_fingerprint),
                     where=md_code(status.recovery_key_location or "—"))
    if status.state == "disabled":
        return ctx.t("core.status.crypto_disabled")
    state = status.state if status.state in CRYPTO_PROBLEMS else "error"
    return ctx.t("core.status.crypto_problem", master=md_code(status.master_fingerprint or "—"),
                 problem=ctx.t(f"core.status.crypto.{state}", where=md_code(status.recovery_key_location or "—")))


CRYPTO_PROBLEMS = ("needs_recovery_key", "wrong_recovery_key", "auth_refused", "unsigned", "no_identity", "error",
                   "unknown")
