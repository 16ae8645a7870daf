"""The one check chain of privileged commands, declared once per command.

    @mod.sub("kick", checks=Chain("kick", target="user", bot_power="kick"))
    async def kick(ctx, checked: Checked, user: TargetUser, reason: ScopedReason = None): ...

Before the handler runs, the router asks the chain, in this order (Red-DiscordBot's Mod cog):

1. **role** — the caller's role in this room is at least the command's (or, with ``role_for``,
   the one its arguments need: only an admin grants ``moderator``);
2. **target** — the user named (full id, mention pill, matrix.to link or a display name unique in the
   room; an event link for ``redact``) is not the caller, not the bot, and ranks below the caller;
3. **the bot's power** — its power level in the room is enough for the Matrix action, and above
   the target's where the homeserver requires that.

Every refusal is a typed error with its own message (which role is needed; both ranks; the bot's
level and the level needed) and is written to the audit log as a ``refused`` case — in its own
transaction, because the command's transaction is rolled back on an error. With ``in:all`` the chain
judges every leader room separately (power levels count only where they are held) and the handler
acts where it was allowed. A chain with a target, a bot power or ``everywhere`` hands its verdict
(``Checked``) to the handler as its first argument; a chain of the role alone leaves the arguments as
they are.

Other features use the same chain — ``checks=Chain("archive.approve")`` on a command is enough for its
refusals to be audited, with no change to the handler — and write their successful actions with
``record_action(ctx, "archive.approve", target="#12")``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterable


from bot.args import fold
from bot.errors import CommandError, PermissionDenied
from bot.ids import parse_event_ref, user_id_in
from bot.platform import CREATOR_LEVEL, PlatformError, RoomState, Shortfall
from bot.reply import clip, md_code, md_escape
from bot.roles import resolve_role
from bot.router import Arg, Role
from storage.audit import AuditRepository

if TYPE_CHECKING:
    from bot.context import Context

EVERYWHERE = ("in:all", "w:wszystkich", "w:wszystkie")


class Refused(CommandError):
    """A check of the chain said no; the reply says which one and why."""

    key = "checks.refused"
    outcome = "refused"


class TargetUnclear(CommandError):
    """The user or event named cannot be told apart or found."""

    key = "checks.user_unknown"
    outcome = "usage"


@dataclass(frozen=True)
class Refusal:
    """Why the chain said no, as a message key and raw parameters (role keys, ids, numbers), so it can
    be shown now in the caller's language and later, from the audit log, in the reader's."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        return {"key": self.key, "params": self.params}

    def text(self, ctx: "Context") -> str:
        return ctx.t(self.key, **render_params(ctx, self.params))

    def error(self, ctx: "Context") -> CommandError:
        if self.key == "error.permission":
            return PermissionDenied(needed=Role[self.params["needed"].split(".")[1].upper()],
                                    have=Role[self.params["have"].split(".")[1].upper()])
        return Refused(self.key, **render_params(ctx, self.params))


def render_params(ctx: "Context", params: dict[str, Any]) -> dict[str, Any]:
    """Message keys (role names…) translated, ids in code, other text escaped."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, str) and "." in value and " " not in value and ctx.hub.translator.has(value):
            shown[name] = ctx.t(value)  # a message key: role.moderator, moderation.level.none…
        elif isinstance(value, str) and name == "action":
            shown[name] = action_name(ctx, value)
        elif isinstance(value, str) and value[:1] in "@!#$":
            shown[name] = md_code(value)
        elif isinstance(value, str):
            shown[name] = md_escape(value)
        elif isinstance(value, list):
            shown[name] = ", ".join(md_code(v) for v in value)
        else:
            shown[name] = value
    return shown


def action_name(ctx: "Context", action: str) -> str:
    key = f"audit.action.{action}"
    return ctx.t(key) if ctx.hub.translator.has(key) else action


def power_text(ctx: "Context", level: int) -> str:
    return ctx.t("checks.creator_level") if level >= CREATOR_LEVEL else str(level)


# ----- argument types ------------------------------------------------------------------------

@dataclass(frozen=True)
class UserRef:
    """A user as typed; the chain resolves it against the room's members."""

    raw: str


@dataclass(frozen=True)
class EventRef:
    raw: str
    room: str | None  # a room id or alias from a permalink; None: this room
    event_id: str


@dataclass(frozen=True)
class Scoped:
    """A free-text reason, with ``in:all`` (first or last word) taken out of it."""

    text: str | None = None
    everywhere: bool = False


def user_ref(raw: str, _ctx: Any = None) -> UserRef:
    if not raw.strip():
        raise ValueError("empty")
    return UserRef(raw.strip())


def event_ref(raw: str, _ctx: Any = None) -> EventRef:
    parsed = parse_event_ref(raw)
    if parsed is None:
        raise ValueError(raw)
    return EventRef(raw, parsed[0], parsed[1])


def scoped_reason(raw: str, _ctx: Any = None) -> Scoped:
    words = raw.split()
    everywhere = False
    if words and fold(words[0]) in EVERYWHERE:
        everywhere, raw = True, raw.strip()[len(words[0]):]
    elif words and fold(words[-1]) in EVERYWHERE:
        everywhere, raw = True, raw.strip()[: -len(words[-1])]
    return Scoped(raw.strip() or None, everywhere)


# What privileged commands' parameters are annotated with (the router reads them).
TargetUser = Annotated[UserRef, Arg(converter=user_ref)]
TargetEvent = Annotated[EventRef, Arg(converter=event_ref)]
ScopedReason = Annotated[Scoped | None, Arg(rest=True, converter=scoped_reason)]


# ----- the verdict ---------------------------------------------------------------------------

@dataclass
class Checked:
    """What the chain found, handed to the handler: the target, and per room allowed or refused."""

    user_id: str | None = None
    rooms: list[str] = field(default_factory=list)  # where the action is allowed, this room first
    refused: dict[str, Refusal] = field(default_factory=dict)
    states: dict[str, RoomState] = field(default_factory=dict)
    event: dict[str, Any] | None = None  # the event named (redact)
    everywhere: bool = False


class _StateView:
    """The platform's face that ``resolve_role`` needs, answered from fresh room states."""

    def __init__(self, platform: Any, states: dict[str, RoomState]):
        self.platform = platform
        self.states = states
        self.leader_rooms = platform.leader_rooms

    def power_level(self, room_id: str, user_id: str) -> int:
        state = self.states.get(room_id)
        if state is None:
            return self.platform.power_level(room_id, user_id)
        return state.power.level(user_id)

    def is_room_creator(self, room_id: str, user_id: str) -> bool:
        state = self.states.get(room_id)
        if state is None:
            return self.platform.is_room_creator(room_id, user_id)
        return user_id in state.power.creators


# ----- the chain -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Chain:
    """The checks of one privileged command.

    ``action``: its name in the audit log. ``target``: the argument naming whom (or which event)
    it acts on. ``bot_power``: the Matrix power the bot needs (see ``ACTIONS``).
    ``role_for``: the role its arguments need, when more than the command's (given the arguments
    by name). ``allow_self`` / ``allow_bot``: the target may be the caller / the bot.
    ``everywhere``: it always acts in every leader room (``broadcast``); otherwise ``in:all`` in a
    ``Scoped`` argument asks for that.
    """

    action: str
    target: str | None = None
    bot_power: str | None = None
    role_for: Callable[[dict[str, Any]], Role] | None = None
    allow_self: bool = False
    allow_bot: bool = False
    everywhere: bool = False
    members: tuple[str, ...] = ("join", "invite")  # whose display names may name the target

    # -- step 1, before the arguments are read ---------------------------------------------

    async def check_role(self, ctx: "Context") -> None:
        assert ctx.command is not None
        if ctx.role < ctx.command.role:
            await self._refuse(ctx, Refusal("error.permission", {"needed": ctx.command.role.key,
                                                                 "have": ctx.role.key}), ctx.room_id, None)

    # -- step 2, with the arguments --------------------------------------------------------

    async def check_arguments(self, ctx: "Context", values: list[Any]) -> "Checked | None":
        """The verdict the handler gets (its ``checked: Checked`` parameter); None when the role was all there
        was to check. The command's own role was checked before (``check_role``): only a role the arguments
        need beyond it (``role_for``) is checked here."""
        assert ctx.command is not None
        named = {arg.name: value for arg, value in zip(ctx.command.args, values)}
        needed = self.role_for(named) if self.role_for else ctx.command.role
        if self.role_for and ctx.role < needed:
            await self._refuse(ctx, Refusal("error.permission", {"needed": needed.key, "have": ctx.role.key}),
                               ctx.room_id, None)
        everywhere = self.everywhere or any(isinstance(v, Scoped) and v.everywhere for v in values)
        checked = Checked(everywhere=everywhere)
        needs_state = bool(self.target or self.bot_power)
        if not needs_state and not everywhere:  # the role was all there was to check
            return None
        leader_rooms = list(ctx.platform.leader_rooms)
        ref = named.get(self.target) if self.target else None
        if isinstance(ref, EventRef):
            rooms = [await self._event_room(ctx, ref)]
        elif everywhere:
            rooms = sorted(leader_rooms, key=lambda r: (r != ctx.room_id, r))
        else:
            rooms = [ctx.room_id]
        if needs_state:
            checked.states = await self._states(ctx, rooms)
        if isinstance(ref, EventRef):
            checked.event = await self._fetch_event(ctx, rooms[0], ref)
            checked.user_id = checked.event.get("sender")
        elif isinstance(ref, UserRef):
            checked.user_id = resolve_user(ref.raw, [checked.states[r] for r in rooms if r in checked.states],
                                           self.members)
        for room_id in rooms:
            refusal = await self.evaluate(ctx, room_id, checked.user_id, checked.states.get(room_id), needed)
            if refusal is None:
                checked.rooms.append(room_id)
            else:
                checked.refused[room_id] = refusal
        if not everywhere and checked.refused:
            await self._refuse(ctx, checked.refused[rooms[0]], rooms[0], checked.user_id)
        return checked

    async def evaluate(self, ctx: "Context", room_id: str, target: str | None,
                       state: RoomState | None, needed: Role) -> Refusal | None:
        """The chain for one room: None when allowed, else the first check that says no."""
        platform = ctx.platform
        if room_id not in platform.leader_rooms:
            return Refusal("checks.not_leader_room", {"room": room_id})
        view = _StateView(platform, {room_id: state} if state else {})
        admins = ctx.hub.config.admins
        caller = await resolve_role(admins, view, ctx.hub.grants_of, room_id, ctx.sender)
        if caller < needed:
            return Refusal("error.permission", {"needed": needed.key, "have": caller.key})
        bot_id = platform.user_id
        if target is not None:
            if target == ctx.sender and not self.allow_self:
                return Refusal("checks.self")
            if target == bot_id and not self.allow_bot:
                return Refusal("checks.bot")
            if target not in (ctx.sender, bot_id):
                rank = await resolve_role(admins, view, ctx.hub.grants_of, room_id, target)
                if rank >= caller:
                    return Refusal("checks.rank", {"user": target, "target_rank": rank.key,
                                                   "caller_rank": caller.key})
        if self.bot_power:
            if state is None:
                return Refusal("checks.bot_absent", {"bot": bot_id})
            if not state.is_joined(bot_id):
                return Refusal("checks.bot_absent", {"bot": bot_id})
            over = target if target not in (None, bot_id) else None
            if self.bot_power == "redact" and target == bot_id:
                return None  # the bot may always redact its own events
            short = state.power.shortfall(bot_id, self.bot_power, over)
            if short is not None:
                return shortfall_refusal(short, over)
        return None

    # -- helpers ---------------------------------------------------------------------------

    async def _states(self, ctx: "Context", rooms: Iterable[str]) -> dict[str, RoomState]:
        states: dict[str, RoomState] = {}
        for room_id in rooms:
            try:
                states[room_id] = await ctx.platform.room_state(room_id)
            except PlatformError:
                continue  # not in the room (or gone): judged without a state, the bot-power step says so
        return states

    async def _event_room(self, ctx: "Context", ref: EventRef) -> str:
        if ref.room is None:
            return ctx.room_id
        if ref.room.startswith("#"):
            room_id = await ctx.platform.resolve_room(ref.room)
            if room_id is None:
                raise TargetUnclear("checks.event_unknown", event=md_code(clip(ref.raw)))
            return room_id
        return ref.room

    async def _fetch_event(self, ctx: "Context", room_id: str, ref: EventRef) -> dict[str, Any]:
        event = await ctx.platform.fetch_event(room_id, ref.event_id)
        if not event.get("sender"):
            raise TargetUnclear("checks.event_unknown", event=md_code(clip(ref.raw)))
        return event

    async def _refuse(self, ctx: "Context", refusal: Refusal, room_id: str | None, target: str | None) -> None:
        """Write the refusal to the audit log in its own transaction (the command's is rolled back), then raise."""
        await record_refusal(ctx, self.action, refusal, room_id=room_id, target=target)
        raise refusal.error(ctx)


def shortfall_refusal(short: Shortfall, target: str | None) -> Refusal:
    if short.target_level is not None:
        return Refusal("checks.bot_below_target", {"user": target or "", "target_level": short.target_level,
                                                   "have": short.have, "action": short.action})
    return Refusal("checks.bot_power", {"action": short.action, "have": short.have, "need": short.need})


# ----- naming users --------------------------------------------------------------------------

def resolve_user(raw: str, states: list[RoomState], memberships: tuple[str, ...]) -> str:
    """A user id from what was typed: a full id, a matrix.to link, or a display name (or the part of the
    id before ``:``) that exactly one member of these rooms has."""
    full = user_id_in(raw)
    if full:
        return full
    name = fold(raw.strip().strip("<>").rstrip(":,").lstrip("@"))
    if not states:
        raise TargetUnclear("checks.user_full_id", name=md_code(clip(raw)))
    found: dict[str, str] = {}
    labels: dict[str, str] = {}
    for state in states:
        for member in state.members.values():
            local = member.user_id[1:].split(":", 1)[0]
            label = member.display_name or local
            labels.setdefault(member.user_id, label)
            by_name = member.membership in memberships and member.display_name and fold(member.display_name) == name
            if by_name or fold(local) == name:
                found[member.user_id] = label
    if len(found) == 1:
        return next(iter(found))
    if found:
        raise TargetUnclear("checks.user_ambiguous", name=md_code(clip(raw)), candidates=_people(found))
    choices = {uid: fold(label) for uid, label in labels.items()}
    from rapidfuzz import process  # only for a name nobody has: not loaded at start

    close = process.extract(name, choices, limit=5, score_cutoff=60)
    if close:
        raise TargetUnclear("checks.user_unknown_suggest", name=md_code(clip(raw)),
                            candidates=_people({uid: labels[uid] for _label, _score, uid in close}))
    raise TargetUnclear("checks.user_unknown", name=md_code(clip(raw)))


def _people(found: dict[str, str]) -> str:
    return ", ".join(f"{md_escape(label)} ({md_code(uid)})" for uid, label in sorted(found.items()))


# ----- the audit log -------------------------------------------------------------------------

async def record_action(ctx: "Context", action: str, *, outcome: str = "done", target: str | None = None,
                        room_id: str | None = None, reason: str | None = None,
                        detail: dict[str, Any] | str | None = None) -> int:
    """Write a case of the caller's action in the command's own transaction; returns its number.

    For every admin action of every feature: ``await record_action(ctx, "archive.approve", target="#12")``.
    """
    entry = await AuditRepository(ctx.session).record(
        actor=ctx.sender, action=action, outcome=outcome, target=target,
        room_id=ctx.room_id if room_id is None else room_id, reason=reason, detail=detail,
        event_id=ctx.incoming.event_id, command=ctx.incoming.body)
    return entry.id


async def record_refusal(ctx: "Context", action: str, refusal: Refusal, *, room_id: str | None,
                         target: str | None) -> None:
    """A refused case, committed at once in a session of its own, and only once per command
    (a command run again after a crash finds it already written)."""
    async with ctx.hub.sessions() as session:
        audit = AuditRepository(session)
        if await audit.exists(event_id=ctx.incoming.event_id, action=action, outcome="refused", room_id=room_id,
                              target=target):
            return
        await audit.record(actor=ctx.sender, action=action, outcome="refused", target=target, room_id=room_id,
                           detail=refusal.detail(), event_id=ctx.incoming.event_id, command=ctx.incoming.body)
        await session.commit()


def detail_text(ctx: "Context", detail: str | None) -> str:
    """A stored detail (message key and parameters, or plain text) in the reader's language."""
    if not detail:
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return md_escape(detail)
    if isinstance(data, dict) and "key" in data:
        return ctx.t(data["key"], **render_params(ctx, data.get("params") or {}))
    return md_escape(detail)


CATALOGUE = {
    "en": {
        "checks.refused": "I cannot do that.",
        "checks.self": "You cannot do this to yourself.",
        "checks.bot": "I will not do this to myself (the bot).",
        "checks.rank": "{user} is **{target_rank}** in this room and you are **{caller_rank}**: you can act only on someone of a lower rank than yours.",
        "checks.not_leader_room": "{room} is not a leader room: I act only in leader rooms. Run this in a leader room, or add `in:all` to act in every leader room.",
        "checks.bot_absent": "I ({bot}) am not a member of this room, so I cannot act here. Invite me and give me the power level I need (see `!mod verify`).",
        "checks.bot_power": "I cannot {action} here: my power level is {have} and {action} needs {need}. Give me power level {need} or more (room settings → Roles & permissions), or lower what {action} needs.",
        "checks.bot_below_target": "I cannot {action} {user} here: their power level is {target_level} and mine is {have}; the homeserver lets me act only on users below my own level. Give me a power level above {target_level}.",
        "checks.creator_level": "room creator (above every level)",
        "checks.user_full_id": "I cannot tell who {name} is here: name the user by their full id, like `@ala:example.org`.",
        "checks.user_unknown": "Nobody in this room is called {name}. Name the user by their full id (`@ala:example.org`) or by their display name.",
        "checks.user_unknown_suggest": "Nobody in this room is called {name}. Did you mean: {candidates}? Use the full id to be sure.",
        "checks.user_ambiguous": "More than one member here is called {name}: {candidates}. Name the one you mean by their full id.",
        "checks.event_unknown": "I cannot find the message {event}: give its event id (`$…`) or its link (Share → Copy link).",
    },
    "pl": {
        "checks.refused": "Nie mogę tego zrobić.",
        "checks.self": "Nie możesz tego zrobić samemu sobie.",
        "checks.bot": "Nie zrobię tego sobie (botowi).",
        "checks.rank": "{user} ma w tym pokoju rolę **{target_rank}**, a Ty: **{caller_rank}**: możesz działać tylko wobec osób o niższej roli niż Twoja.",
        "checks.not_leader_room": "{room} nie jest pokojem liderów: działam tylko w pokojach liderów. Użyj polecenia w pokoju liderów albo dodaj `in:all`, aby działać we wszystkich pokojach liderów.",
        "checks.bot_absent": "Nie jestem ({bot}) członkiem tego pokoju, więc nie mogę tu działać. Zaproś mnie i nadaj mi potrzebny poziom uprawnień (zob. `!mod sprawdz`).",
        "checks.bot_power": "Nie mogę tu wykonać akcji „{action}”: mój poziom uprawnień to {have}, a ta akcja wymaga {need}. Nadaj mi poziom {need} lub wyższy (ustawienia pokoju → Role i uprawnienia) albo obniż poziom wymagany do tej akcji.",
        "checks.bot_below_target": "Nie mogę wykonać akcji „{action}” wobec {user}: ma poziom uprawnień {target_level}, a ja {have}; serwer pozwala mi działać tylko wobec osób poniżej mojego poziomu. Nadaj mi poziom wyższy niż {target_level}.",
        "checks.creator_level": "twórca pokoju (ponad wszystkimi poziomami)",
        "checks.user_full_id": "Nie wiem, kim jest {name}: podaj pełny identyfikator użytkownika, np. `@ala:example.org`.",
        "checks.user_unknown": "Nikt w tym pokoju nie nazywa się {name}. Podaj pełny identyfikator (`@ala:example.org`) albo nazwę wyświetlaną.",
        "checks.user_unknown_suggest": "Nikt w tym pokoju nie nazywa się {name}. Czy chodziło o: {candidates}? Dla pewności podaj pełny identyfikator.",
        "checks.user_ambiguous": "Więcej niż jedna osoba nazywa się tu {name}: {candidates}. Wskaż właściwą pełnym identyfikatorem.",
        "checks.event_unknown": "Nie mogę znaleźć wiadomości {event}: podaj jej identyfikator (`$…`) albo link (Udostępnij → Kopiuj link).",
    },
}

__all__ = ["CATALOGUE", "Chain", "Checked", "EventRef", "Refusal", "Refused", "Scoped", "TargetUnclear", "UserRef",
           "ScopedReason", "TargetEvent", "TargetUser", "detail_text", "event_ref", "record_action", "record_refusal",
           "resolve_user", "scoped_reason", "user_ref"]
