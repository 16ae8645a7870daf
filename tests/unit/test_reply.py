"""What the bot sends: user text stays literal, bot Markdown becomes safe HTML and readable plain text."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.reply import (
    Outgoing,
    edit_content,
    html_to_text,
    md_code,
    md_escape,
    md_user,
    relation,
    render_markdown,
    sanitize_html,
    strip_reply_fallback,
    text_content,
)

TAG_RE = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)")

# Text a user might type to break out: Markdown syntax, HTML, entities, links, indentation, line ends.
MARKDOWNISH = st.lists(
    st.sampled_from(list("ab =-*_#>\n\t 1.)[]<>`~|\\&;:/!\"'(){}+^@%$\r") + [
        "**", "__", "```", "~~", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "<a href='x'>",
        "[link](javascript:alert(1))", "![i](https://evil.example/x.png)", "https://example.org", "&amp;",
        "&#60;b&#62;", "&lt;", "    code", "\n===\n", "\n---\n", "1. ", "- ", "> ", "| a | b |\n|---|---|\n",
        "<https://x.org>", "<strong>", "\u00a0", "ż", "„", "”",
    ]),
    max_size=40,
).map("".join)


def normalised(text: str) -> str:
    return " ".join(text.split())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), MARKDOWNISH))
def test_escaped_user_text_is_shown_exactly_and_never_becomes_markup(text):
    plain, html = render_markdown(md_escape(text))
    # CommonMark turns NUL into U+FFFD; apart from that the user sees what they typed.
    assert normalised(plain) == normalised(text.replace("\x00", "\ufffd"))
    # The only tags are the renderer's own line and paragraph breaks.
    tags = {name.lower() for _slash, name in TAG_RE.findall(html)}
    assert tags <= {"p", "br"}, html


def test_escaped_text_inside_a_bot_sentence():
    title = "**Free** <b>lunch</b> [click](https://evil.example) #1\n    indented\n1. not a list"
    plain, html = render_markdown(f"Saved **{md_escape(title)}** as #7.")
    assert "<strong>" in html and html.count("<strong>") == 1  # only the bot's own bold
    assert "<a" not in html and "<b>" not in html and "<pre" not in html and "<ol" not in html
    assert normalised(plain) == normalised("Saved **Free** <b>lunch</b> [click](https://evil.example) #1 "
                                           "indented 1. not a list as #7.")


def test_md_code_survives_backticks_and_newlines():
    for text in ["a`b", "``", "`start", "end`", "two\nlines", "plain"]:
        plain, html = render_markdown(md_code(text))
        assert plain.strip() == text.replace("\n", " ").strip()
        assert html.startswith("<code>")


def test_bot_markdown_renders_to_matrix_html():
    plain, html = render_markdown("**Bold** *em* ~~gone~~ `code` [site](https://example.org)")
    assert html == ('<strong>Bold</strong> <em>em</em> <s>gone</s> <code>code</code> '
                    '<a href="https://example.org">site</a>')
    assert plain == "Bold em gone code site (https://example.org)"


def test_javascript_and_other_unsafe_links_never_become_links():
    for markdown in ["[x](javascript:alert(1))", "[x](JavaScript:alert(1))", "<javascript:alert(1)>",
                     "[x](vbscript:msgbox(1))", "[x](javascript&#58;alert(1))"]:
        _plain, html = render_markdown(markdown)
        assert "<a" not in html and "href" not in html, markdown
    # A scheme Markdown lets through but Matrix does not allow: the link loses its address.
    plain, html = render_markdown("[x](data:image/png;base64,AAAA)")
    assert html == "<a>x</a>" and plain == "x"


def test_raw_html_in_bot_markdown_is_text_not_tags():
    plain, html = render_markdown('<script>alert(1)</script> <img src=x onerror="alert(1)"> <iframe>')
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert plain == '<script>alert(1)</script> <img src=x onerror="alert(1)"> <iframe>'


def test_the_sanitiser_keeps_only_what_the_matrix_spec_allows():
    dirty = ('<a href="javascript:alert(1)" onclick="steal()">x</a><script>alert(1)</script>'
             '<iframe src="https://evil.example"></iframe><font color="red" data-mx-color="#ff0000" style="x">f</font>'
             '<p lang="en" title="t" class="c">p</p><a href="https://ok.example" title="t" target="_blank">ok</a>'
             '<img src="mxc://example.org/abc" alt="chart" onerror="x()"><ol start="3"><li>three</li></ol>')
    assert sanitize_html(dirty) == (
        '<a>x</a><font color="red" data-mx-color="#ff0000">f</font><p>p</p>'
        '<a href="https://ok.example" target="_blank">ok</a><img src="mxc://example.org/abc" alt="chart">'
        '<ol start="3"><li>three</li></ol>')


def test_a_link_title_from_markdown_is_dropped():
    _plain, html = render_markdown('[t](https://x.example "hover")')
    assert html == '<a href="https://x.example">t</a>'


def test_lists_render_to_readable_plain_text():
    markdown = "**Results** (3):\n\n- first\n- second\n  - detail\n\n1. one\n2. two\n\nSend `!more`."
    plain, html = render_markdown(markdown)
    assert "<ul>" in html and "<ol>" in html
    assert plain == "Results (3):\n\n• first\n• second\n  • detail\n\n1. one\n2. two\n\nSend !more."


def test_line_breaks_are_single_in_plain_text():
    plain, html = render_markdown("Title: Senior café\nArea: elderly\nRegion: Mazowsze")
    assert html == "Title: Senior café<br>\nArea: elderly<br>\nRegion: Mazowsze"
    assert plain == "Title: Senior café\nArea: elderly\nRegion: Mazowsze"


def test_tables_render_as_rows_of_cells():
    plain, html = render_markdown("| model | cost |\n|---|---:|\n| housing | 12 000 zł |\n| care | 3 |\n\nTotal.")
    assert "<table>" in html
    assert plain == "model | cost\nhousing | 12 000 zł\ncare | 3\n\nTotal."


def test_headings_code_blocks_and_quotes():
    plain, _html = render_markdown("# Event\nStarts *soon*.\n\n```\nline 1\n  line 2\n```\n> quoted")
    assert plain == "Event\n\nStarts soon.\n\nline 1\n  line 2\n\nquoted"
    assert html_to_text("<p>a</p><p>b</p>") == "a\n\nb"
    assert html_to_text('<a href="mailto:x@y.org">x@y.org</a>') == "x@y.org"


def test_strip_reply_fallback():
    body = "> <@anna:example.org> !search housing\n> second quoted line\n\n!more"
    assert strip_reply_fallback(body) == "!more"
    assert strip_reply_fallback("!ping") == "!ping"
    assert strip_reply_fallback("!share title\n> a quote inside") == "!share title\n> a quote inside"
    assert strip_reply_fallback(">not a fallback") == ">not a fallback"


def test_a_reply_is_a_notice_with_html_mentions_and_relation():
    message = Outgoing(markdown="Hello **@anna**", mentions=["@anna:example.org"], extra={"pong": {"ms": 3}})
    content = text_content(message, reply_to="$cmd", reply_sender="@bob:example.org")
    assert content == {
        "msgtype": "m.notice",
        "body": "Hello @anna",
        "format": "org.matrix.custom.html",
        "formatted_body": "Hello <strong>@anna</strong>",
        "m.mentions": {"user_ids": ["@anna:example.org", "@bob:example.org"]},
        "m.relates_to": {"m.in_reply_to": {"event_id": "$cmd"}},
        "pong": {"ms": 3},
    }


def test_a_reply_inside_a_thread_stays_in_the_thread():
    content = text_content(Outgoing(markdown="ok"), reply_to="$cmd", thread_root="$root")
    assert content["m.relates_to"] == {
        "rel_type": "m.thread", "event_id": "$root", "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$cmd"},
    }
    assert content["m.mentions"] == {}  # an explicit empty mentions: nobody is pinged


def test_a_message_that_is_not_a_reply_has_no_relation():
    content = text_content(Outgoing(markdown="Announcement"))
    assert "m.relates_to" not in content
    assert relation(None, "$root") == {"rel_type": "m.thread", "event_id": "$root", "is_falling_back": False}
    assert text_content(Outgoing(markdown="x", mentions=["@a:x", "@a:x"]), reply_sender="@a:x")["m.mentions"] == {
        "user_ids": ["@a:x"]}


@settings(max_examples=100, deadline=None)
@given(markdown=st.text(max_size=50), data=st.one_of(st.none(), st.binary(max_size=300)),
       mentions=st.lists(st.text(max_size=10), max_size=3), room=st.one_of(st.none(), st.just("!other:x")))
def test_outgoing_survives_a_json_round_trip(markdown, data, mentions, room):
    kind = "text" if data is None else "image"
    message = Outgoing(markdown=markdown, kind=kind, data=data, filename=None if data is None else "chart.png",
                       mimetype=None if data is None else "image/png", mentions=mentions,
                       extra={"n": 1, "nested": {"a": [1, 2]}}, room_id=room)
    assert Outgoing.from_json(json.loads(json.dumps(message.to_json()))) == message


def test_binary_data_is_base64_in_json():
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    as_json = Outgoing(markdown="chart", kind="image", data=png, filename="c.png", mimetype="image/png").to_json()
    assert as_json["data"] == "iVBORw0KGgoA/w=="
    assert Outgoing.from_json(as_json).data == png
    assert Outgoing.from_json({"markdown": "x"}) == Outgoing(markdown="x")


def test_an_edit_carries_the_new_content_a_star_fallback_and_the_replace_relation():
    content = edit_content(Outgoing(markdown="RSVP: ✅ **2**"), "$original")
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$original"}
    assert content["m.new_content"] == {"msgtype": "m.notice", "body": "RSVP: ✅ 2", "format": "org.matrix.custom.html",
                                        "formatted_body": "RSVP: ✅ <strong>2</strong>", "m.mentions": {}}
    assert (content["msgtype"], content["body"], content["formatted_body"]) == (
        "m.notice", "* RSVP: ✅ 2", "* RSVP: ✅ <strong>2</strong>")
    assert content["m.mentions"] == {} and "m.relates_to" not in content["m.new_content"]


# --- a user's own Markdown (event descriptions) ---------------------------------------------------------

USER_TAGS = {"p", "br", "strong", "em", "s", "del", "code", "a"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), MARKDOWNISH))
def test_user_markdown_keeps_to_inline_formatting_and_never_reaches_outside_itself(text):
    plain, html = render_markdown("**Before**\n\n" + md_user(text) + "\n\nAfter **the** bot")
    # The bot's paragraphs around it are intact, whatever the user left open (a fence, a list, a quote…).
    assert html.startswith("<p><strong>Before</strong></p>") and html.endswith("<p>After <strong>the</strong> bot</p>"), html
    assert plain.endswith("After the bot")
    tags = {name.lower() for _slash, name in TAG_RE.findall(html)}
    assert tags <= USER_TAGS, html
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("http://", "https://", "mailto:")), href


def test_user_markdown_is_rendered_bold_links_lists_and_all():
    plain, html = render_markdown(md_user(
        "# Agenda\n**Bold** and *it*, ~~gone~~, `x=1`, [the form](https://example.org/f) and "
        "[no](javascript:alert(1)) <b>raw</b>\n- one\n- two\n\n```\nunclosed"))
    assert "<strong>Agenda</strong>" in html and "<strong>Bold</strong> and <em>it</em>" in html
    assert "<s>gone</s>" in html and "<code>x=1</code>" in html
    assert '<a href="https://example.org/f">the form</a>' in html
    assert "javascript" not in html.split("[no]")[0] and "<b>" not in html and "&lt;b&gt;raw&lt;/b&gt;" in html
    assert "• one<br>\n• two" in html and "<code>unclosed</code>" in html
    assert "Bold and it, gone, x=1, the form (https://example.org/f) and [no](javascript:alert(1)) <b>raw</b>" in plain
