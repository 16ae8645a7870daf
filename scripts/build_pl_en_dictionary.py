"""Derive storage/search/data/pl_en.tsv, the search's Polish-English dictionary, from Debian's
`dict-freedict-pol-eng` package (FreeDict + WikDict, built from Wiktionary; CC BY-SA 3.0).

Run by a maintainer when the dictionary is to be refreshed, not at install or run time: the
derived file is committed and ships in the wheel, so an operator who installs with pip has it.

    apt-get install dict-freedict-pol-eng    # or: apt-get download it and pass the .deb
    .venv/bin/python scripts/build_pl_en_dictionary.py [--source /usr/share/dictd | FILE.deb]

Each line of the output is a Polish headword, a tab, and its English translations separated by
" | ", in the dictionary's order of senses (the first sense first). Suffixes and prefixes, and
translations that only repeat the headword, are left out; nothing else is changed.
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "storage" / "search" / "data" / "pl_en.tsv"
NAME = "freedict-pol-eng"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_SENSE = re.compile(r"^\d+\.\s+")     # "2. bookcase, library": a new sense's translations
_GLOSS_NUMBER = re.compile(r"^\s+\d+\.$")  # " 3.": a further Polish gloss of the same sense
_TRAILING_NUMBER = re.compile(r"\s+\d+\.$")  # "library 2.": the number of the gloss that follows
_POS = re.compile(r"\s*<([^<>/]*)>$")  # "<n>" ending the head line (a pronunciation may hold <sup>)

HEADER = """\
# Polish-English dictionary of the archive search (storage/search/translations.py).
# Derived by scripts/build_pl_en_dictionary.py from Debian's dict-freedict-pol-eng {version}:
# "język polski-English FreeDict+WikDict dictionary", edition {edition}, by Karl Bartel,
# made by WikDict (https://www.wikdict.com/) from Wiktionary (https://www.wiktionary.org/)
# via DBnary; FreeDict project, https://freedict.org/.
# Licence: Creative Commons Attribution-ShareAlike 3.0 Unported,
# https://creativecommons.org/licenses/by-sa/3.0/ — this derived file is shared under the same
# licence. Changes: only the headwords and their English translations are kept (no
# pronunciations or Polish glosses), suffix and prefix entries and translations identical to
# their headword are dropped.
# Format: Polish headword <TAB> English translations separated by " | ", first sense first.
"""


def _number(text: str) -> int:
    n = 0
    for char in text:
        n = n * 64 + _B64.index(char)
    return n


def _texts(folder: Path):
    """(index word, entry text) of every entry of the dictd files, in the index's order."""
    data = gzip.open(folder / f"{NAME}.dict.dz").read()
    for line in (folder / f"{NAME}.index").read_text("utf-8").splitlines():
        word, offset, length = line.split("\t")
        start = _number(offset)
        yield word, data[start: start + _number(length)].decode("utf-8")


def parse(text: str) -> tuple[str, str, list[str]]:
    """One entry's text: a head line ("naprawa /naˈprava/ <n>"), then for each sense a line of
    translations (numbered "1. …" when there are several) followed by Polish glosses."""
    lines = text.rstrip("\n").split("\n")
    head = lines[0].strip()
    pos = _POS.search(head)
    headword = (head.split(" /", 1)[0] if " /" in head else head[: pos.start()] if pos else head).strip()
    pos = pos.group(1).strip() if pos else ""
    translations: list[str] = []
    expect = True  # the line after the head line, and every "N. …" line, holds translations
    for line in lines[1:]:
        if _GLOSS_NUMBER.match(line):
            expect = False
            continue
        if expect or _SENSE.match(line):
            line = _TRAILING_NUMBER.sub("", _SENSE.sub("", line.strip()))
            translations += [t.strip() for t in line.split(", ") if t.strip()]
            expect = False
    return headword, pos, translations


def _edition(texts: dict[str, str]) -> str:
    match = re.search(r"ver\. (\S+)", texts.get("00databaseshort", ""))
    return match.group(1) if match else "unknown"


def build(folder: Path, version: str) -> str:
    merged: dict[str, list[str]] = {}
    meta: dict[str, str] = {}
    for word, text in _texts(folder):
        if word.startswith("00database"):
            meta[word] = text
            continue
        headword, pos, translations = parse(text)
        if pos in ("suffix", "prefix") or headword.startswith("-") or headword.endswith("-"):
            continue
        kept = merged.setdefault(headword, [])
        for translation in translations:
            if translation.casefold() != headword.casefold() and translation not in kept \
                    and "\t" not in translation and "|" not in translation:
                kept.append(translation)
    lines = [f"{word}\t{' | '.join(found)}" for word, found in merged.items() if found]
    lines.sort(key=lambda line: (line.casefold(), line))
    return HEADER.format(version=version, edition=_edition(meta)) + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path("/usr/share/dictd"),
                        help="the folder with freedict-pol-eng.index and .dict.dz, or the package's .deb")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, version = args.source, "(installed)"
        if args.source.suffix == ".deb":
            subprocess.run(["dpkg-deb", "-x", str(args.source), tmp], check=True)
            folder = Path(tmp) / "usr" / "share" / "dictd"
            version = args.source.name.split("_")[1]
        else:
            query = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dict-freedict-pol-eng"],
                                   capture_output=True, text=True)
            version = query.stdout.strip() or version
        if not (folder / f"{NAME}.index").exists():
            print(f"no {NAME}.index in {folder}: install dict-freedict-pol-eng or pass its .deb", file=sys.stderr)
            return 1
        text = build(folder, version)
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {text.count(chr(10)) - HEADER.count(chr(10))} headwords, {len(text.encode()) // 1024} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
