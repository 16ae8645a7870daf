"""Splitting a command line into words, "quoted phrases" and key=value pairs.

Word boundaries are whitespace; a quote (", „…”, “…”, «…») may start anywhere in
a word, so ``title="Long title"`` is one pair. The raw text after each word is
kept, so a command can take "the rest of the message" verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.errors import BadQuoting
from basics.text import fold  # re-exported: the router and the features fold with it

# Opening quote → the closing quotes that may end it (Polish „…” and ”…”, English “…”).
QUOTES = {'"': '"”“', "„": "”\"“", "“": "”\"", "”": "”\"", "«": "»", "»": "«"}
KEY_RE = re.compile(r"^[A-Za-z_][\w.\-]*$")


@dataclass
class Token:
    text: str
    start: int
    end: int
    quoted: bool = False
    quote_at: int | None = None  # offset in ``text`` where the first quoted part begins

    @property
    def pair(self) -> tuple[str, str] | None:
        """``(key, value)`` if this is an unquoted-key ``key=value`` word (the value may be quoted)."""
        if "=" not in self.text:
            return None
        if self.quote_at is not None and self.text.index("=") >= self.quote_at:
            return None  # "a=b" in quotes is a phrase, not a pair
        key, value = self.text.split("=", 1)
        if not KEY_RE.match(key):
            return None
        return key, value


def tokenize(line: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        buf: list[str] = []
        start, quoted = i, False
        quote_at: int | None = None
        while i < n and not line[i].isspace():
            ch = line[i]
            if ch in QUOTES:
                closers = QUOTES[ch]
                j = i + 1
                while j < n and line[j] not in closers:
                    j += 1
                if j >= n:
                    raise BadQuoting(position=i + 1, quote=ch)
                if quote_at is None:
                    quote_at = sum(len(part) for part in buf)
                buf.append(line[i + 1 : j])
                quoted = True
                i = j + 1
            else:
                buf.append(ch)
                i += 1
        tokens.append(Token("".join(buf), start, i, quoted, quote_at))
    return tokens




@dataclass
class Invocation:
    """A parsed message: the command words, positional arguments, key=value options, body lines."""

    text: str  # the whole message without the prefix
    first_line: str
    tokens: list[Token]
    body: list[str] = field(default_factory=list)

    def rest_from(self, index: int) -> str:
        """The raw text from token ``index`` on, including the following lines."""
        if index >= len(self.tokens):
            tail = ""
        else:
            tail = self.first_line[self.tokens[index].start :]
        if self.body:
            tail = (tail + "\n" if tail else "") + "\n".join(self.body)
        return tail.strip()


def parse_invocation(text: str) -> Invocation:
    first, _, rest = text.partition("\n")
    body = rest.split("\n") if rest else []
    return Invocation(text=text, first_line=first, tokens=tokenize(first), body=body)

__all__ = ["Invocation", "Token", "fold", "parse_invocation", "tokenize"]
