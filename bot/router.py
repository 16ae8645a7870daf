"""Commands declared once — name, aliases, arguments, the role that may run them — and one
path from a message to a reply: parse → find → check role → convert arguments → run,
with every typed error turned into a short translated notice.

A feature module makes a ``CommandSet`` and decorates its handlers::

    commands = CommandSet("core", CATALOGUE)

    @commands.command("lang", aliases=("jezyk",), args=[Arg("language", choices=("pl", "en"))])
    async def lang(ctx, language): ...

    mod = commands.group("mod", role=Role.MODERATOR)

    @mod.sub("queue", aliases=("kolejka",))
    async def queue(ctx): ...
"""

from __future__ import annotations

import enum
import inspect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any, Awaitable, Callable, Iterable, get_args, get_type_hints


from bot.args import Invocation, Token, fold, parse_invocation
from bot.errors import BadQuoting, CommandError, PermissionDenied, UnknownCommand, UsageError
from bot.reply import clip, md_code, md_escape

if TYPE_CHECKING:
    from bot.context import Context


class Role(enum.IntEnum):
    """Ranks, each including the ones below it."""

    ANYONE = 0
    LEADER = 1
    COORDINATOR = 2
    MODERATOR = 3
    ADMIN = 4

    @property
    def key(self) -> str:
        return f"role.{self.name.lower()}"


Converter = Callable[[str, "Context"], Any]


@dataclass
class Arg:
    """One argument, declared on the handler's parameter it fills (its name is the parameter's)::

        async def mute(ctx, checked: Checked, user: Annotated[UserRef, Arg(converter=user_ref)],
                       duration: Annotated[int, Arg(converter=duration)], reason: Rest = None): ...

    ``rest`` takes the raw rest of the message (all following lines too); a parameter with a default is
    optional; a plain ``int`` parameter is converted as a whole number."""

    name: str = ""
    converter: Converter | None = None
    optional: bool = False
    rest: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None

    def usage(self, name_of: Callable[[str], str] = str) -> str:
        """``<name>``, ``<name…>`` or ``a|b``, bracketed when optional; ``name_of`` translates the name."""
        label = "|".join(self.choices) if self.choices else f"<{name_of(self.name)}>"
        if self.rest and not self.choices:
            label = f"<{name_of(self.name)}…>"
        return f"[{label}]" if self.optional else label


Handler = Callable[..., Awaitable[None]]
ReactionHandler = Callable[..., Awaitable[bool]]  # True when the reaction was the feature's
Rest = Annotated[str, Arg(rest=True)]  # the raw rest of the message: ``text: Rest``
OptionalRest = Annotated["str | None", Arg(rest=True)]  # ``reason: OptionalRest = None``


def choice(*choices: str) -> Arg:
    """``language: Annotated[str, choice("pl", "en")]``."""
    return Arg(choices=tuple(choices))


def _declared(handler: Handler) -> dict[str, Any]:
    args, takes_checked = arguments_of(handler)
    return {"args": args, "takes_checked": takes_checked}


def arguments_of(handler: Handler) -> tuple[list[Arg], bool]:
    """The arguments a handler declares (every parameter after ``ctx``), and whether it takes the check
    chain's verdict (a parameter annotated ``Checked``, right after ``ctx``)."""
    params = list(inspect.signature(handler).parameters.values())[1:]
    hints = get_type_hints(handler, include_extras=True)
    args: list[Arg] = []
    takes_checked = False
    for position, param in enumerate(params):
        hint = hints.get(param.name, str)
        if getattr(hint, "__name__", None) == "Checked":  # bot.checks.Checked (which imports this module)
            if position != 0:
                raise TypeError(f"{handler.__qualname__}: the Checked parameter comes right after ctx")
            takes_checked = True
            continue
        meta = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Arg)), None)
        base = get_args(hint)[0] if meta is not None else hint
        arg = replace(meta, name=param.name) if meta is not None else Arg(param.name)
        if arg.converter is None and not arg.choices and (base is int or int in get_args(base)):
            arg.converter = integer
        if param.default is not inspect.Parameter.empty:
            arg.optional, arg.default = True, param.default
        args.append(arg)
    return args, takes_checked


@dataclass
class Command:
    name: str
    feature: str
    handler: Handler | None
    aliases: tuple[str, ...] = ()
    role: Role = Role.ANYONE
    args: list[Arg] = field(default_factory=list)
    options: bool = False  # accepts key=value pairs (into ctx.options)
    body: bool = False  # accepts Field: value lines after the first line (ctx.body)
    parent: "Command | None" = None
    subcommands: dict[str, "Command"] = field(default_factory=dict)
    hidden: bool = False
    inherit_role: bool = False  # added to another feature's group without a role of its own: the group's
    takes_checked: bool = False  # the handler's first parameter after ctx is the check chain's verdict
    # The check chain of a privileged command (bot.checks.Chain): Hub._run asks it before the handler.
    checks: Any = None
    # More for ``!help <command>`` than its usage line: ``fn(ctx) -> Markdown`` (e.g. the fields of !share).
    details: Callable[[Any], str] | None = None

    @property
    def path(self) -> str:
        return f"{self.parent.path} {self.name}" if self.parent else self.name

    @property
    def key(self) -> str:
        """Catalogue key prefix: ``<feature>.<path with dots>``."""
        return f"{self.feature}.{self.path.replace(' ', '.')}"

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def sub(self, name: str, *, aliases: Iterable[str] = (), role: Role | None = None,
            options: bool = False, body: bool = False,
            hidden: bool = False, checks: Any = None) -> Callable[[Handler], "Command"]:
        """A subcommand of this feature's own command (another feature uses ``CommandSet.sub_of``)."""
        def decorator(handler: Handler) -> Command:
            command = Command(name, self.feature, handler, tuple(aliases),
                              self.role if role is None else role, **_declared(handler), options=options, body=body,
                              parent=self, hidden=hidden, checks=checks)
            self.subcommands[name] = command
            return command
        return decorator

    def find_sub(self, word: str) -> "Command | None":
        folded = fold(word)
        for sub in self.subcommands.values():
            if folded in (fold(n) for n in sub.names()):
                return sub
        return None

    def usage(self, prefix: str, name_of: Callable[[str], str] = str, options: str = "[key=value …]") -> str:
        """The usage line; ``name_of`` gives the arguments' names in the reader's language."""
        parts = [f"{prefix}{self.path}"] + [a.usage(name_of) for a in self.args]
        if self.options:
            parts.append(options)
        return " ".join(parts)


class CommandSet:
    """One feature, as the hub sees it: its commands (and subcommands it adds to other features' groups,
    such as ``!mod queue``), its message catalogue, its config section, its services (created once by the
    hub, found by type: ``hub.service(ArchiveIndex)``), background jobs, reaction handlers, web routes and
    command-line tools."""

    def __init__(self, feature: str, catalogue: dict | None = None,
                 config: tuple[str, dict[str, Any]] | None = None):
        self.feature = feature
        self.catalogue = catalogue or {}
        self.config = config  # (section name, {key: bot.config.Key}): the feature's own [section]
        self.commands: list[Command] = []
        self.extensions: list[tuple[str, Command]] = []  # (group name, subcommand) for another feature's group
        self.services: list[type] = []  # classes taking the hub: created once, looked up by their type
        # ``leaders-hub <name> …``: name → (declare its arguments on an argparse parser, or None when it reads
        # its own argv; run(parsed arguments or argv, ToolContext or None) → exit code; help)
        self.cli_tools: dict[str, tuple[Callable[[Any], None] | None, Callable[[Any, Any], int], str]] = {}
        # Passive handlers: ``async fn(ctx) -> bool`` (True when the event was theirs).
        self.reaction_handlers: list[ReactionHandler] = []
        # ``async fn(hub)`` run as background tasks once the transport is connected and synced.
        self.background_jobs: list[Callable[..., Awaitable[None]]] = []
        # HTTP GET routes of the bot's web face: path → ``async fn(hub, request) -> Response``.
        self.routes: dict[str, Callable[..., Awaitable[Any]]] = {}
        # The folder of the feature's page templates (Jinja2), named ``<feature>/<file>`` (bot.web.pages).
        self.templates: Any = None

    def route(self, path: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
        def decorator(handler):
            self.routes[path] = handler
            return handler
        return decorator

    def on_reaction(self, handler: ReactionHandler) -> ReactionHandler:
        """Reactions (``ctx.incoming.kind == "reaction"``, key in ``body``, target in ``relates_to``)
        and their removal (``kind == "unreaction"``, the removed reaction's target and key)."""
        self.reaction_handlers.append(handler)
        return handler

    def background(self, job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        self.background_jobs.append(job)
        return job

    def command(self, name: str, *, aliases: Iterable[str] = (), role: Role = Role.ANYONE,
                options: bool = False, body: bool = False,
                hidden: bool = False, checks: Any = None) -> Callable[[Handler], Command]:
        def decorator(handler: Handler) -> Command:
            command = Command(name, self.feature, handler, tuple(aliases), role, **_declared(handler), options=options,
                              body=body, hidden=hidden, checks=checks)
            self.commands.append(command)
            return command
        return decorator

    def sub_of(self, group: str, name: str, *, aliases: Iterable[str] = (), role: Role | None = None,
               options: bool = False, body: bool = False, hidden: bool = False,
               checks: Any = None) -> Callable[[Handler], Command]:
        """A subcommand of another feature's group (``!mod queue`` of the archive): the router attaches it
        by the group's name, so this feature does not import the other one."""
        def decorator(handler: Handler) -> Command:
            command = Command(name, self.feature, handler, tuple(aliases), role if role is not None else Role.ANYONE,
                              **_declared(handler), options=options, body=body, hidden=hidden, checks=checks)
            command.inherit_role = role is None  # known once attached to the group
            self.extensions.append((group, command))
            return command
        return decorator

    def service(self, cls: type) -> type:
        """A class the hub creates once (``cls(hub)``) and hands out by type (``hub.service(cls)``)."""
        self.services.append(cls)
        return cls

    def cli(self, name: str, arguments: Callable[[Any], None] | None, help: str = "") -> Callable[
            [Callable[[Any, Any], int]], Callable[[Any, Any], int]]:
        """A ``leaders-hub <name>`` tool: ``arguments(parser)`` declares its arguments (None: it reads its own
        argv), and the decorated ``run(args, tools)`` runs it (``tools``: a ``bot.context.ToolContext``)."""
        def decorator(run: Callable[[Any, Any], int]) -> Callable[[Any, Any], int]:
            self.cli_tools[name] = (arguments, run, help)
            return run
        return decorator

    def group(self, name: str, *, aliases: Iterable[str] = (), role: Role = Role.ANYONE) -> Command:
        """A command that only has subcommands (``!mod queue``, ``!mod ban``…)."""
        command = Command(name, self.feature, None, tuple(aliases), role)
        self.commands.append(command)
        return command


@dataclass
class Resolved:
    command: Command
    args_start: int  # index of the first argument token


class Router:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.commands: dict[str, Command] = {}  # folded name or alias → command
        self.ordered: list[Command] = []

    def include(self, command_set: CommandSet) -> None:
        for command in command_set.commands:
            for name in command.names():
                key = fold(name)
                if key in self.commands and self.commands[key] is not command:
                    raise ValueError(f"command name {name!r} declared twice")
                self.commands[key] = command
            self.ordered.append(command)

    def attach(self, command_set: CommandSet) -> None:
        """The subcommands a feature adds to other features' groups (after every feature is included)."""
        for group_name, command in command_set.extensions:
            group = self.commands.get(fold(group_name))
            if group is None:
                raise ValueError(f"{command_set.feature} adds {command.name!r} to a group {group_name!r} no feature has")
            if group.subcommands.get(command.name) is command:
                continue  # attached by an earlier hub of this process
            if command.name in group.subcommands:
                raise ValueError(f"subcommand {group_name} {command.name} declared twice")
            command.parent = group
            if command.inherit_role:
                command.role = group.role
            group.subcommands[command.name] = command

    def is_command(self, body: str) -> bool:
        """A command starts with the prefix followed directly by a letter (``!ping``, not ``! wow``)."""
        return body.startswith(self.prefix) and len(body) > len(self.prefix) and body[len(self.prefix)].isalpha()

    def parse(self, body: str) -> Invocation:
        try:
            return parse_invocation(body[len(self.prefix):])
        except BadQuoting as error:  # count the position in the message as the user typed it
            error.params["position"] += len(self.prefix)
            raise

    def resolve(self, invocation: Invocation) -> Resolved:
        if not invocation.tokens:
            raise UnknownCommand(name="", suggestion="")
        word = invocation.tokens[0].text
        command = self.commands.get(fold(word))
        if command is None:
            raise UnknownCommand(name=clip(word), suggestion=self.suggest(word))
        index = 1
        while command.subcommands and index < len(invocation.tokens):
            sub = command.find_sub(invocation.tokens[index].text)
            if sub is None:
                break
            command, index = sub, index + 1
        return Resolved(command, index)

    def suggest(self, word: str) -> str:
        from rapidfuzz import process  # only for a mistyped command: not loaded at start

        match = process.extractOne(fold(word), list(self.commands), score_cutoff=70)
        return self.commands[match[0]].path if match else ""

    def visible_to(self, role: Role) -> list[Command]:
        return [c for c in self.ordered if not c.hidden and c.role <= role]


def convert_args(command: Command, invocation: Invocation, start: int, ctx: "Context") -> list[Any]:
    """Positional arguments after ``start``; key=value pairs go to ``ctx.options`` when allowed."""
    tokens: list[Token] = invocation.tokens[start:]
    rest_pos = _rest_position(command)
    positional: list[Token] = []
    options: dict[str, str] = {}
    rest_index = len(invocation.tokens)
    for offset, token in enumerate(tokens):
        if rest_pos >= 0 and len(positional) == rest_pos:
            rest_index = start + offset
            break
        pair = token.pair if command.options else None
        if pair:
            options[pair[0]] = pair[1]
        else:
            positional.append(token)
    ctx.options = options
    ctx.body = invocation.body if command.body else []
    values: list[Any] = []
    for position, arg in enumerate(command.args):
        if arg.rest:
            raw = invocation.rest_from(rest_index)
            if not raw:
                if arg.optional:
                    values.append(arg.default)
                    continue
                raise UsageError("error.missing_argument", name=arg.name)
            values.append(_convert(arg, raw, ctx))
            return values
        if position >= len(positional):
            if arg.optional:
                values.append(arg.default)
                continue
            raise UsageError("error.missing_argument", name=arg.name)
        values.append(_convert(arg, positional[position].text, ctx))
    extra = positional[len(command.args):]
    if extra and not command.body:
        raise UsageError("error.extra_arguments", words=md_code(clip(" ".join(t.text for t in extra))))
    if invocation.body and not command.body and not any(a.rest for a in command.args):
        raise UsageError("error.unexpected_lines")
    return values


def _rest_position(command: Command) -> int:
    for position, arg in enumerate(command.args):
        if arg.rest:
            return position
    return -1


def _convert(arg: Arg, raw: str, ctx: "Context") -> Any:
    if arg.choices:
        folded = fold(raw)
        for choice in arg.choices:
            if fold(choice) == folded:
                return choice
        raise UsageError("error.bad_choice", name=arg.name, value=md_code(clip(raw)),
                         choices=", ".join(md_code(c) for c in arg.choices))
    if arg.converter is None:
        return raw
    try:
        return arg.converter(raw, ctx)
    except CommandError:
        raise
    except (ValueError, TypeError):
        raise UsageError("error.bad_value", name=arg.name, value=md_code(clip(raw))) from None


def integer(raw: str, _ctx: Any = None) -> int:
    """A whole number; ``#12`` is accepted for ids."""
    return int(raw.lstrip("#"))


def require_role(role: Role, needed: Role) -> None:
    if role < needed:
        raise PermissionDenied(needed=needed, have=role)


__all__ = ["Arg", "Command", "CommandSet", "Role", "Router", "convert_args", "integer", "md_escape"]
