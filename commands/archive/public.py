"""What a leader opts in to showing on the public pages: the name their experiences are signed with
(``!experience name``). Without it an experience is shown as a leader's, unnamed; never by a Matrix id."""

from __future__ import annotations

from bot.args import fold
from bot.context import Context
from bot.errors import CommandError
from bot.reply import md_code, md_escape
from bot.router import OptionalRest, Role
from bot.web.pages import MATRIX_ID, add_messages
from storage.archive import ArchiveRepository

from . import commands
from .chat import experience

NAME_LIMIT = 80
OFF_WORDS = ("off", "none", "no", "wylacz", "nie", "brak", "usun")

add_messages(commands, {
    "en": {
        "archive.experience.name.help": "the name your experiences are signed with on the public pages: "
                                        "`!experience name <name>`, or `off`",
        "archive.public_name.set": "On the public pages your experiences are now signed: {name}. "
                                   "Send {off} to be unnamed again.",
        "archive.public_name.off": "Your experiences are shown unnamed on the public pages.",
        "archive.public_name.none": "Your experiences are shown unnamed on the public pages. To sign them, "
                                    "send {command}.",
        "archive.public_name.is": "On the public pages your experiences are signed: {name}. {off} removes it.",
        "archive.public_name.bad": "A name has at most {limit} characters and no Matrix user id.",
    },
    "pl": {
        "archive.experience.name.help": "podpis Twoich doświadczeń na stronach publicznych: "
                                        "`!doswiadczenie podpis <imię i nazwisko>` albo `wyłącz`",
        "archive.public_name.set": "Na stronach publicznych Twoje doświadczenia są teraz podpisane: {name}. "
                                   "Wyślij {off}, aby znów były bez podpisu.",
        "archive.public_name.off": "Twoje doświadczenia są na stronach publicznych bez podpisu.",
        "archive.public_name.none": "Twoje doświadczenia są na stronach publicznych bez podpisu. Aby je "
                                    "podpisać, wyślij {command}.",
        "archive.public_name.is": "Na stronach publicznych Twoje doświadczenia są podpisane: {name}. {off} usuwa podpis.",
        "archive.public_name.bad": "Podpis ma najwyżej {limit} znaków i nie zawiera identyfikatora Matrix.",
    },
})


def _commands(ctx: Context) -> tuple[str, str]:
    if ctx.lang == "pl":
        return md_code(f"{ctx.prefix}doswiadczenie podpis wyłącz"), md_code(f"{ctx.prefix}doswiadczenie podpis Ala Nowak")
    return md_code(f"{ctx.prefix}experience name off"), md_code(f"{ctx.prefix}experience name Ala Nowak")


@experience.sub("name", aliases=("podpis", "imie", "imię"), role=Role.LEADER)
async def experience_name(ctx: Context, name: OptionalRest = None) -> None:
    repo = ArchiveRepository(ctx.session)
    off, example = _commands(ctx)
    if name is None or not name.strip():
        current = (await repo.public_names([ctx.sender])).get(ctx.sender)
        ctx.reply(ctx.t("archive.public_name.is", name=md_escape(current), off=off) if current
                  else ctx.t("archive.public_name.none", command=example))
        return
    name = " ".join(name.split())
    if fold(name) in OFF_WORDS:
        await repo.set_public_name(ctx.sender, None)
        ctx.reply(ctx.t("archive.public_name.off"))
        return
    if len(name) > NAME_LIMIT or MATRIX_ID.search(name):
        raise CommandError("archive.public_name.bad", limit=NAME_LIMIT)
    await repo.set_public_name(ctx.sender, name)
    ctx.reply(ctx.t("archive.public_name.set", name=md_escape(name), off=off))
