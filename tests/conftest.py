import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import backends  # noqa: E402
from tests.pg import postgres_server  # noqa: E402,F401  (a fixture)


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", choices=backends.NAMES, default=None,
                     help="database backend for the tests that use one (repeatable; default: "
                          f"${backends.ENV}, else both)")


def pytest_configure(config):
    config.addinivalue_line("markers", "one_backend(why): uses a database but tests nothing of it (what it tests "
                            "lives elsewhere, e.g. in the Matrix store): runs on the first selected backend only")


def pytest_generate_tests(metafunc):
    """Every test that uses a database runs once per backend (grouped by module, so a module's own
    servers start once), except those marked ``one_backend`` (see below)."""
    if "backend" in metafunc.fixturenames:
        names = backends.selected(metafunc.config.getoption("backend"))
        metafunc.parametrize("backend", names, indirect=True, scope="module")


def pytest_collection_modifyitems(config, items):
    """A test (or one parameter of it, ``pytest.param(…, marks=one_backend(…))``) marked ``one_backend`` keeps
    only its run on the first selected backend; the others are deselected (counted in the summary)."""
    first = backends.selected(config.getoption("backend"))[0]
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None) and item.callspec.params
        if params and params.get("backend", first) != first and item.get_closest_marker("one_backend"):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def _backends():
    return {}


@pytest.fixture(scope="module")
def backend(request, _backends, tmp_path_factory) -> backends.Backend:
    """The database backend of this test (see tests/backends.py); PostgreSQL starts at its first use."""
    name = request.param
    if name not in _backends:
        if name == "sqlite":
            _backends[name] = backends.SQLite(tmp_path_factory.mktemp("sqlite-template"))
        else:
            _backends[name] = backends.PostgreSQL(request.getfixturevalue("postgres_server"))
    return _backends[name]


@pytest.fixture
def make_db(backend, tmp_path):
    """``make_db(migrated=False)`` → the URL of one more fresh database on this test's backend; all are
    dropped after the test."""
    made: list[str] = []

    def make(migrated: bool = True) -> str:
        made.append(backend.create(tmp_path / "db", migrated))
        return made[-1]

    yield make
    for url in made:
        backend.drop(url)


@pytest.fixture
def db_url(make_db):
    """A fresh database at the head revision, on this test's backend; dropped after the test."""
    return make_db()


@pytest.fixture
def empty_db_url(make_db):
    """A fresh database never migrated (an operator's first start), on this test's backend."""
    return make_db(migrated=False)
