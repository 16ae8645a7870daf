"""How a message becomes a command: words, quotes, key=value, subcommands, roles and the errors a user gets."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated

import pytest

from bot.args import fold, parse_invocation, tokenize
from bot.checks import Checked, TargetUser
from bot.errors import BadQuoting, PermissionDenied, UnknownCommand, UsageError
from bot.router import CommandSet, Rest, Role, Router, choice, convert_args, integer, require_role

# A tiny feature, as a feature module would declare it.
demo = CommandSet("demo", {})


@demo.command("echo", aliases=("powtorz", "powtórz"))
async def echo(ctx, text: Rest):
    pass


@demo.command("lang", aliases=("jezyk", "język"))
async def lang(ctx, language: Annotated[str, choice('pl', 'en')]):
    pass


@demo.command("calc", options=True)
async def calc(ctx, model: str, years: int | None = 1):
    pass


@demo.command("share", role=Role.LEADER, body=True)
async def share(ctx, title: Rest):
    pass


mod = demo.group("mod", aliases=("moderacja",), role=Role.MODERATOR)


@mod.sub("queue", aliases=("kolejka",))
async def queue(ctx):
    pass


@mod.sub("reject", aliases=("odrzuc", "odrzuć"))
async def reject(ctx, id: int, reason: Rest):
    pass


@mod.sub("purge", role=Role.ADMIN)
async def purge(ctx):
    pass


router = Router("!")
router.include(demo)


def run(message: str, role: Role = Role.ADMIN):
    """What the hub does with a message, up to calling the handler: returns the handler and its values."""
    assert router.is_command(message), message
    invocation = router.parse(message)
    resolved = router.resolve(invocation)
    require_role(role, resolved.command.role)
    ctx = SimpleNamespace(options={}, body=[])
    values = convert_args(resolved.command, invocation, resolved.args_start, ctx)
    return resolved.command.path, values, ctx


def error_of(message: str, role: Role = Role.ADMIN):
    with pytest.raises((UsageError, UnknownCommand, PermissionDenied)) as caught:
        run(message, role)
    return caught.value


# --- the tokenizer -------------------------------------------------------------------------------


def test_words_and_quoted_phrases():
    tokens = tokenize('search "social housing" elderly   Warsaw')
    assert [t.text for t in tokens] == ["search", "social housing", "elderly", "Warsaw"]
    assert [t.quoted for t in tokens] == [False, True, False, False]
    assert tokens[1].start == 7 and tokens[1].end == 23


@pytest.mark.parametrize("line", [
    "szukaj „mieszkania wspomagane” Mazowsze",
    "szukaj ”mieszkania wspomagane” Mazowsze",
    "szukaj „mieszkania wspomagane“ Mazowsze",
    "szukaj “mieszkania wspomagane” Mazowsze",
    "szukaj «mieszkania wspomagane» Mazowsze",
])
def test_typographic_quotes_as_phones_and_word_processors_type_them(line):
    assert [t.text for t in tokenize(line)] == ["szukaj", "mieszkania wspomagane", "Mazowsze"]


def test_key_equals_quoted_value_is_one_pair():
    tokens = tokenize('calc housing title="Long title here" years=5 "not=a pair"')
    assert [t.text for t in tokens] == ["calc", "housing", "title=Long title here", "years=5", "not=a pair"]
    assert tokens[2].pair == ("title", "Long title here")
    assert tokens[3].pair == ("years", "5")
    assert tokens[1].pair is None
    assert tokenize("=5")[0].pair is None  # no key
    assert tokenize("2+2=4")[0].pair is None  # not a key
    assert tokenize('"title"=x')[0].pair is None  # a quoted key is a phrase
    assert tokenize("region=„Mazowsze Zachodnie”")[0].pair == ("region", "Mazowsze Zachodnie")


def test_an_unterminated_quote_says_where_it_opened():
    with pytest.raises(BadQuoting) as caught:
        tokenize('search "social housing')
    assert caught.value.params == {"position": 8, "quote": '"'}
    with pytest.raises(BadQuoting) as caught:
        tokenize("szukaj „mieszkania")
    assert caught.value.params["quote"] == "„"


def test_the_quote_position_counts_the_prefix_the_user_typed():
    with pytest.raises(BadQuoting) as caught:
        router.parse('!echo "abc')
    assert caught.value.params["position"] == '!echo "abc'.index('"') + 1
    long_prefix = Router("hub:")
    with pytest.raises(BadQuoting) as caught:
        long_prefix.parse('hub:echo "abc')
    assert caught.value.params["position"] == 10


def test_fold_finds_polish_names_typed_any_way():
    assert fold("Język") == fold("JEZYK") == "jezyk"
    assert fold("ODRZUĆ") == "odrzuc"
    assert fold("Łódź") == "lodz"


# --- what is a command ---------------------------------------------------------------------------


@pytest.mark.parametrize("message, is_command", [
    ("!ping", True),
    ("!Ping now", True),
    ("!język pl", True),
    ("! wow, great news", False),
    ("!5 people came", False),
    ("!", False),
    ("!!!", False),
    ("hello !ping", False),
    ("", False),
    (" !ping", False),
])
def test_prefix_followed_by_a_letter_is_a_command(message, is_command):
    assert router.is_command(message) is is_command


# --- arguments -----------------------------------------------------------------------------------


def test_rest_of_message_keeps_the_raw_text_including_following_lines():
    path, values, _ = run('!echo  Hello, "world"  and **all**\nsecond line\n\nfourth')
    assert path == "echo"
    assert values == ['Hello, "world"  and **all**\nsecond line\n\nfourth']
    assert run("!echo\njust the body")[1] == ["just the body"]


def test_a_rest_argument_after_positional_ones():
    path, values, _ = run("!mod reject #12 duplicate of #7, see „guide”\nThanks!")
    assert path == "mod reject"
    assert values == [12, "duplicate of #7, see „guide”\nThanks!"]


def test_key_value_options_go_to_the_context():
    path, values, ctx = run('!calc housing years=3 3 region="Mazowsze Zachodnie"')
    assert values == ["housing", 3]
    assert ctx.options == {"years": "3", "region": "Mazowsze Zachodnie"}
    # Quoted, it is a plain argument again.
    _, values, ctx = run('!calc "a=b"')
    assert values == ["a=b", 1] and ctx.options == {}


def test_options_are_not_accepted_where_the_command_takes_none():
    error = error_of("!lang pl x=1")
    assert error.key == "error.extra_arguments" and "x=1" in error.params["words"]


@pytest.mark.parametrize("message, choice", [("!lang EN", "en"), ("!LANG en", "en"), ("!język pl", "pl"),
                                             ("!JĘZYK PL", "pl"), ("!jezyk Pl", "pl")])
def test_choices_and_names_are_folded(message, choice):
    assert run(message)[:2] == ("lang", [choice])


def test_a_wrong_choice_lists_the_choices():
    error = error_of("!lang de")
    assert error.key == "error.bad_choice"
    assert error.params == {"name": "language", "value": "`de`", "choices": "`pl`, `en`"}


def test_a_value_the_converter_refuses():
    error = error_of("!calc housing many")
    assert error.key == "error.bad_value" and error.params == {"name": "years", "value": "`many`"}
    assert integer("#12") == 12


def test_missing_and_extra_arguments():
    assert error_of("!lang").key == "error.missing_argument"
    assert error_of("!lang").params == {"name": "language"}
    assert error_of("!mod reject 12").params == {"name": "reason"}
    extra = error_of("!lang pl en **bold**")
    assert extra.key == "error.extra_arguments"
    assert extra.params["words"] == "`en **bold**`"  # user text shown as code, never as Markdown
    assert error_of("!mod queue now").key == "error.extra_arguments"


def test_lines_after_a_one_line_command():
    assert error_of("!lang pl\nplease").key == "error.unexpected_lines"
    path, values, ctx = run("!share Senior café\nArea: elderly\nRegion: Mazowsze", Role.LEADER)
    assert values == ["Senior café\nArea: elderly\nRegion: Mazowsze"]
    assert ctx.body == ["Area: elderly", "Region: Mazowsze"]


# --- finding the command -------------------------------------------------------------------------


def test_an_unknown_command_suggests_the_nearest_one():
    error = error_of("!ehco hi")
    assert isinstance(error, UnknownCommand)
    assert error.params == {"name": "ehco", "suggestion": "echo"}
    assert error_of("!xyzzy").params == {"name": "xyzzy", "suggestion": ""}
    assert error_of("!kolejkaa").params["suggestion"] == ""  # subcommand aliases are not commands


def test_subcommands_by_name_and_by_alias():
    assert run("!mod queue")[:2] == ("mod queue", [])
    assert run("!moderacja KOLEJKA")[:2] == ("mod queue", [])
    assert run("!mod odrzuć 3 spam")[:2] == ("mod reject", [3, "spam"])
    # A group alone (or with an unknown word) resolves to the group, which has no handler.
    resolved = router.resolve(router.parse("!mod dance"))
    assert resolved.command.path == "mod" and resolved.command.handler is None and resolved.args_start == 1


def test_usage_lines():
    assert router.commands["calc"].usage("!") == "!calc <model> [<years>] [key=value …]"
    assert router.commands["lang"].usage("!") == "!lang pl|en"
    assert router.commands["mod"].find_sub("reject").usage("!") == "!mod reject <id> <reason…>"


def test_declaring_a_name_twice_is_refused():
    other = CommandSet("other", {})

    @other.command("ECHO")
    async def clash(ctx):
        pass

    fresh = Router("!")
    fresh.include(demo)
    with pytest.raises(ValueError, match="declared twice"):
        fresh.include(other)


# --- roles ---------------------------------------------------------------------------------------


def test_a_role_below_the_command_is_refused():
    error = error_of("!mod queue", Role.COORDINATOR)
    assert isinstance(error, PermissionDenied)
    assert error.params == {"needed": Role.MODERATOR, "have": Role.COORDINATOR}
    assert run("!mod queue", Role.MODERATOR)[0] == "mod queue"
    assert isinstance(error_of("!mod purge", Role.MODERATOR), PermissionDenied)
    assert isinstance(error_of("!share x", Role.ANYONE), PermissionDenied)


def test_the_role_is_checked_before_the_arguments():
    # Someone without the role learns nothing about the arguments.
    assert isinstance(error_of("!mod reject", Role.LEADER), PermissionDenied)


def test_visible_commands_depend_on_the_role():
    assert [c.name for c in router.visible_to(Role.ANYONE)] == ["echo", "lang", "calc"]
    assert [c.name for c in router.visible_to(Role.MODERATOR)] == ["echo", "lang", "calc", "share", "mod"]


def test_parse_invocation_splits_the_first_line_and_the_body():
    invocation = parse_invocation("share  Title here \nArea: x\nRegion: y\n")
    assert [t.text for t in invocation.tokens] == ["share", "Title", "here"]
    assert invocation.body == ["Area: x", "Region: y", ""]
    assert invocation.rest_from(1) == "Title here \nArea: x\nRegion: y"
    assert invocation.rest_from(3) == "Area: x\nRegion: y"


def test_arguments_are_the_handlers_parameters_so_their_names_cannot_drift():
    assert [(a.name, a.rest, a.optional) for a in reject.args] == [("id", False, False), ("reason", True, False)]
    assert [(a.name, a.optional, a.default) for a in calc.args] == [("model", False, None), ("years", True, 1)]
    assert reject.args[0].converter is integer and lang.args[0].choices == ("pl", "en")
    assert reject.usage("!") == "!mod reject <id> <reason…>"


def test_the_check_chains_verdict_is_a_declared_parameter_right_after_ctx():
    feature = CommandSet("x", {})

    @feature.command("kick")
    async def kick(ctx, checked: Checked, user: TargetUser):
        pass

    assert kick.takes_checked and [a.name for a in kick.args] == ["user"]
    with pytest.raises(TypeError, match="right after ctx"):
        @feature.command("wrong")
        async def wrong(ctx, user: TargetUser, checked: Checked):
            pass
