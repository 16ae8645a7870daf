"""The README and docs/ are true for a clone: nothing points outside the repository, the examples run
as written, and the documented figures and codes are the program's own."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)]+)\)", text)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_nothing_points_outside_the_repository(document):
    text = document.read_text(encoding="utf-8")
    assert "../" not in text and "shared/docs" not in text
    for target in _links(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        assert (document.parent / target.split("#")[0]).resolve().is_relative_to(ROOT), target
        assert (document.parent / target.split("#")[0]).exists(), target
    for name in re.findall(r"`((?:docs|storage|bench|commands|bot|tests|scripts)/[\w./-]+)`", text):
        assert (ROOT / name).exists(), name


def test_the_readme_lists_the_pages_the_server_has():
    """The table of the public pages: each path one the bot serves, and each page route in the table."""
    from bot.compose import features

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The public pages"):]
    section = section[:section.index("\n#")]
    listed = re.findall(r"^\| `(/[^`]*)` \|", section, re.MULTILINE)
    routes = {path for feature in features() for path in feature.routes}
    shown = {re.sub(r"\{\w+[^}]*\}", "N", path) for path in routes}  # /solutions/{ref} → /solutions/N
    assert set(listed) == shown, (listed, sorted(routes))


def _readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Try it from the command line"):]
    block = section[section.index("```sh\n") + 6:]
    return [line for line in block[:block.index("```")].splitlines() if line.strip()]


@pytest.fixture(scope="module")
def clone_after_demo(tmp_path_factory):
    """A folder like a clone after ./demo.sh: .venv, docs/, and demo-data/ with the starter archive."""
    folder = tmp_path_factory.mktemp("clone")
    (folder / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (folder / "docs").symlink_to(ROOT / "docs")
    demo = folder / "demo-data"
    demo.mkdir()
    (demo / "config.toml").write_text('[matrix]\nhomeserver = "http://127.0.0.1:8008"\nuser_id = "@hub:localhost"\n'
                                      'password = "demo-test"\nstore_path = "store"\nrooms = ["#leaders:localhost"]\n'
                                      '[bot]\nadmins = ["@admin:localhost"]\n'
                                      '[database]\nurl = "sqlite+aiosqlite:///hub.db"\n')
    from storage.search import STARTER_ARCHIVE

    loaded = subprocess.run([sys.executable, "-m", "bot.cli", "archive", "import", str(STARTER_ARCHIVE), "--publish",
                             "-c", str(demo / "config.toml")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    return folder


@pytest.mark.parametrize("example", _readme_examples())
def test_every_example_of_the_readme_runs_as_written(clone_after_demo, example):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERS_HUB_")}
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {example}"], cwd=clone_after_demo, capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() and "Traceback" not in done.stderr
    if "archive search" in example and "--json" not in example:
        assert "inn-019" in done.stdout  # Housing First of the starter archive, found without -c


def test_the_archive_doc_lists_every_code_with_both_labels():
    from storage.search.taxonomy import AREAS, STAGES, TARGET_GROUPS

    text = (ROOT / "docs" / "archive.md").read_text(encoding="utf-8")
    for terms in (TARGET_GROUPS, AREAS, STAGES):
        for term in terms.values():
            assert f"| `{term.code}` | {term.pl} | {term.en} |" in text, term.code


def test_the_worked_example_of_the_calculator_doc_is_what_the_calculator_computes():
    doc = (ROOT / "docs" / "calculator.md").read_text(encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "calc", "--scenario", str(ROOT / "docs" / "examples" /
                           "case-a.toml"), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    result = json.loads(done.stdout)

    def zl(x: float) -> str:
        return f"{x:,.2f}".replace(",", " ")

    for key in ("gross_savings", "programme_cost", "npv", "cost_of_inaction_undiscounted"):
        assert zl(result[key]) + " zł" in doc, key
    assert f"BCR = {result['bcr']}" in doc and f"break-even in year {result['break_even_year']}" in doc
    for payer, figures in result["by_payer"].items():
        if figures["gross_savings"]:
            assert f"{payer} {zl(figures['gross_savings'])} zł" in doc
    for key in result:
        assert f"`{key}`" in doc, key  # every key of the JSON is described
