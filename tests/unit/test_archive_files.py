"""Archive import and export: lossless JSON/CSV round trips, bad records named, all-or-nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from storage.archive import ImportError_, dump_csv, parse_file, validate
from storage.search import load_starter_archive

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


def _config_in(folder, url: str):
    folder.mkdir(exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f'[matrix]\nuser_id = "@hub:localhost"\npassword = "x"\n[database]\nurl = "{url}"\n')
    return path


@pytest.fixture
def config(tmp_path, empty_db_url):
    return _config_in(tmp_path, empty_db_url)


def test_csv_round_trip_keeps_every_field_of_the_starter_archive():
    records = load_starter_archive()
    records[0] = {**records[0], "x_local_note": "kept; even with a semicolon", "x_numbers": [1, 2]}
    back = [record for _, record in parse_file("a.csv", dump_csv(records))]
    assert back == records


def test_bad_records_are_named_with_their_position_and_reason():
    records = [{"title_original": "Fine", "description": "Works."},
               {"description": "No title"},
               {"title_original": "Bad code", "description": "x", "stage": "finished"},
               "not an object"]
    good, problems = validate(parse_file("a.json", json.dumps(records)))
    assert [p for p, _ in good] == [1]
    assert [str(p) for p in problems] == ["record 2: title_original: missing",
                                          "record 3: stage: unknown code 'finished'",
                                          "record 4: is not an object"]


def test_a_broken_file_says_so():
    with pytest.raises(ImportError_, match="not valid JSON"):
        parse_file("a.json", "[{")
    with pytest.raises(ImportError_, match=".json or .csv"):
        parse_file("a.xlsx", "")


def test_cli_import_is_all_or_nothing_unless_skip_invalid(tmp_path, config):
    records = load_starter_archive()[:3] + [{"description": "no title"}]
    source = tmp_path / "in.json"
    source.write_text(json.dumps(records, ensure_ascii=False))
    refused = _cli("archive", "import", str(source), "-c", str(config), cwd=tmp_path)
    assert refused.returncode == 1
    assert "record 4: title_original: missing" in refused.stderr and "Nothing imported" in refused.stderr
    exported = tmp_path / "out.json"
    _cli("archive", "export", str(exported), "-c", str(config), cwd=tmp_path)
    assert json.loads(exported.read_text()) == []

    done = _cli("archive", "import", str(source), "--skip-invalid", "--publish", "-c", str(config), cwd=tmp_path)
    assert done.returncode == 0 and "Imported 3 solution(s)" in done.stdout and "skipped record 4" in done.stderr
    _cli("archive", "export", str(exported), "-c", str(config), cwd=tmp_path)
    back = json.loads(exported.read_text())
    assert [record["moderation"]["status"] for record in back] == ["approved"] * 3
    assert [{k: v for k, v in record.items() if k != "moderation"} for record in back] == records[:3]

    found = _cli("archive", "search", "rodzinom", "--json", "-c", str(config), cwd=tmp_path)
    ranked = json.loads(found.stdout)
    assert "inn-001" in [r["id"] for r in ranked["results"]] and all(set(r) == {"id", "number", "score"} for r in ranked["results"])


def _published(config, cwd) -> list[str]:
    found = _cli("archive", "search", "klub", "--json", "--limit", "50", "-c", str(config), cwd=cwd)
    assert found.returncode == 0, found.stderr
    return sorted(r["id"] for r in json.loads(found.stdout)["results"])


@pytest.mark.parametrize("extension", ["json", pytest.param("csv", marks=pytest.mark.one_backend(
    "the file format is not the database's business: JSON runs on both"))])
def test_export_and_import_keep_the_moderation_state(tmp_path, make_db, extension):
    """A rejected or pending solution must not become public by export → import into a fresh database."""
    import asyncio

    from storage import db
    from storage.archive import ArchiveRepository

    first_url = make_db(migrated=False)
    first = _config_in(tmp_path / "first", first_url)
    base = {"description": "Klub sąsiedzki dla seniorów: spotkania co tydzień.", "areas": ["loneliness"]}
    records = [{"id": f"x-{s}", "title_original": f"Klub {s}", **base} for s in ("ok", "wait", "no")]
    source = tmp_path / "in.json"
    source.write_text(json.dumps(records, ensure_ascii=False))
    assert _cli("archive", "import", str(source), "-c", str(first), cwd=tmp_path).returncode == 0
    assert _published(first, tmp_path) == []  # no moderation state: they wait in the queue

    async def moderate():  # what !mod approve 1 and !mod reject 3 … store
        engine = db.make_engine(first_url)
        async with db.make_sessionmaker(engine)() as session:
            repo = ArchiveRepository(session)
            ArchiveRepository.decide(await repo.get("x-ok"), "approved", "@mod:localhost")
            ArchiveRepository.decide(await repo.get("x-no"), "rejected", "@mod:localhost", "a duplicate of #12")
            await session.commit()
        await engine.dispose()

    asyncio.run(moderate())
    assert _published(first, tmp_path) == ["x-ok"]

    exported = tmp_path / f"out.{extension}"
    assert _cli("archive", "export", str(exported), "-c", str(first), cwd=tmp_path).returncode == 0
    state = {r["id"]: r["moderation"] for _, r in parse_file(exported.name, exported.read_text())}
    assert {k: v["status"] for k, v in state.items()} == {"x-ok": "approved", "x-wait": "pending", "x-no": "rejected"}
    assert state["x-no"]["decisions"][-1]["by"] == "@mod:localhost"
    assert state["x-no"]["reason"] == "a duplicate of #12" and state["x-no"]["decisions"][-1]["at"]

    second_url = make_db(migrated=False)
    second = _config_in(tmp_path / "second", second_url)
    assert _cli("archive", "import", str(exported), "--publish", "-c", str(second), cwd=tmp_path).returncode == 0
    assert _published(second, tmp_path) == ["x-ok"]  # --publish never overrides a stored state
    again = tmp_path / f"again.{extension}"
    _cli("archive", "export", str(again), "-c", str(second), cwd=tmp_path)
    assert parse_file(again.name, again.read_text()) == parse_file(exported.name, exported.read_text())


def test_a_bad_moderation_state_is_refused():
    records = [{"title_original": "A", "description": "x", "moderation": {"status": "published"}},
               {"title_original": "B", "description": "x", "moderation": "approved"}]
    _, problems = validate(parse_file("a.json", json.dumps(records)))
    assert [str(p) for p in problems] == [
        "record 1: moderation.status: expected one of pending, approved, rejected",
        "record 2: moderation: expected an object"]


async def test_an_id_longer_than_its_column_is_a_problem_of_the_file_on_every_backend(db_url):
    """PostgreSQL refuses a value longer than its column where SQLite would keep it: the import says so, the
    same on both, instead of failing in the database."""
    from storage import db
    from storage.archive import import_records

    base = {"title_original": "Klub", "description": "Klub sąsiedzki dla seniorów.", "areas": ["loneliness"]}
    records = [{"id": "x" * 256, **base}, {"id": "by-long", **base, "moderation": {"status": "pending",
                                                                                  "author": "@" + "a" * 255}},
               {"id": "y" * 255, **base}]
    engine = db.make_engine(db_url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            with pytest.raises(ImportError_) as refused:
                await import_records(session, "in.json", json.dumps(records))
            assert [f"{p.position}: {p.reason}" for p in refused.value.problems] == [
                "1: id: at most 255 characters", "2: moderation.author: at most 255 characters"]
            assert (await import_records(session, "in.json", json.dumps(records), skip_invalid=True))[0] == 1
            await session.commit()
    finally:
        await engine.dispose()
