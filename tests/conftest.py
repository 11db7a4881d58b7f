"""A throwaway PostGIS for the test session: its own cluster (or GRIDMAP_TEST_DATABASE_URL's server)
and a fresh, migrated database. Tests never touch the demo database.

A test folder that commits rows gets a database of its own (``own_database`` below); the session's
shared database must end the run holding exactly the rows it started with, or the run fails."""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gis.embedded import Cluster
from gis.migrate import migrate
from gis.settings import Settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--reverse", action="store_true",
                     help="run the tests in reverse order (to catch tests that need a predecessor)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--reverse"):
        items.reverse()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_conninfo() -> Iterator[str]:
    """Conninfo of a PostgreSQL server with PostGIS, to its maintenance database."""
    external = os.environ.get("GRIDMAP_TEST_DATABASE_URL")
    if external:
        yield external
        return
    root = Path(tempfile.mkdtemp(prefix="gridmap-test-"))
    os.chmod(root, 0o755)
    cluster = Cluster(root, _free_port())
    cluster.start()
    try:
        yield cluster.conninfo("postgres")
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def fresh_database(server_conninfo: str) -> Iterator[Callable[[str], str]]:
    """Make a migrated database of a test folder's own, named after ``prefix``, for data a test
    commits without disturbing other folders' counts. All are dropped at the end of the session."""
    made: list[str] = []

    def make(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        url = psycopg.conninfo.make_conninfo(server_conninfo, dbname=name)
        with psycopg.connect(url) as conn:
            migrate(conn)
        return url

    yield make
    with psycopg.connect(server_conninfo, autocommit=True) as admin:
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _row_counts(url: str) -> dict[str, int]:
    """Rows in every table of the public schema."""
    with psycopg.connect(url, autocommit=True) as c:
        tables = [r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name")]
        if not tables:
            return {}
        counts = sql.SQL(", ").join(
            sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(t)) for t in tables)
        row = c.execute(sql.SQL("SELECT {}").format(counts)).fetchone()
    assert row is not None
    return dict(zip(tables, row, strict=True))


@pytest.fixture(scope="session")
def shared_database_url(fresh_database: Callable[[str], str]) -> Iterator[str]:
    """The session's shared test database. Tests leave it as they found it: at the end of the session
    every table must hold as many rows as at the start, or the run fails naming the tables (a test
    that commits belongs in a folder with its own database, see ``own_database``)."""
    url = fresh_database("gridmap_test")
    before = _row_counts(url)
    yield url
    after = _row_counts(url)
    changed = {t: (before.get(t, 0), n) for t, n in after.items() if before.get(t, 0) != n}
    if changed:
        pytest.fail("the shared test database changed during the session (rows before -> after): "
                    + ", ".join(f"{t} {a} -> {b}" for t, (a, b) in sorted(changed.items())), pytrace=False)


@pytest.fixture(scope="session")
def database_url(shared_database_url: str) -> str:
    """The test database, every migration applied: the shared one unless the folder has its own."""
    return shared_database_url


def _settings_for(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path_factory.mktemp("data"),
                    _env_file=None)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _settings_for(database_url, tmp_path_factory)


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection whose work is rolled back after the test."""
    with psycopg.connect(database_url) as c:
        c.execute("SET jit = off")
        yield c
        c.rollback()


def sign_in_admin(database_url: str, settings: Settings) -> str:
    """A bearer token of a new admin over everything in that database, for the clients and servers
    tests build themselves (send it as ``Authorization: Bearer``, or as the ``gridmap_token`` cookie)."""
    from datetime import timedelta

    from gis.access import accounts

    username, password = f"test-admin-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with psycopg.connect(database_url) as conn:
        accounts.create_user(conn, username, password)
        accounts.grant(conn, username, "admin", "")
        token, _ = accounts.issue_token(conn, username, password, settings.secret_key, timedelta(hours=12))
        conn.commit()
    return token


@pytest.fixture(scope="session")
def admin_token(database_url: str, settings: Settings) -> str:
    return sign_in_admin(database_url, settings)



def unused_street(conn, district: str) -> int:
    """A street number (100-999) of the 6-digit ``district`` that no community of the database uses yet,
    picked at random among those: the test worlds of a folder's modules share its database, where a
    number drawn blindly collides (one time in 900 per pair of worlds)."""
    row = conn.execute(
        "SELECT n FROM generate_series(100, 999) n WHERE NOT EXISTS (SELECT 1 FROM community"
        " WHERE starts_with(code, %s || n::text)) ORDER BY random() LIMIT 1", [district]).fetchone()
    assert row is not None, f"every street of {district} is taken"
    return int(row[0])


def own_database(prefix: str) -> tuple[Callable, Callable, Callable]:
    """The session fixtures ``database_url``, ``settings`` and ``admin_token`` over a database of a
    test folder's own, for a folder whose tests commit rows. In that folder's conftest.py:
    ``database_url, settings, admin_token = own_database("gridmap_<folder>")``.

    All three are overridden together: a session fixture is built once, so a shared ``settings``
    first built in one folder would carry that folder's database into every other folder."""

    @pytest.fixture(scope="session")
    def database_url(fresh_database: Callable[[str], str]) -> str:
        return fresh_database(prefix)

    @pytest.fixture(scope="session")
    def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
        return _settings_for(database_url, tmp_path_factory)

    @pytest.fixture(scope="session")
    def admin_token(database_url: str, settings: Settings) -> str:
        return sign_in_admin(database_url, settings)

    return database_url, settings, admin_token


@pytest.fixture
def client(settings: Settings, admin_token: str) -> Iterator:
    """The app over HTTP, lifespan included (pool opened and closed), signed in as an admin of everything."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


@contextmanager
def _serving(app) -> Iterator[str]:
    import threading
    import time

    import uvicorn

    from api.cli.server import UVICORN_OPTIONS  # as `gridmap serve` runs it: no X-Forwarded-For from anyone

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           **UVICORN_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def serve_app() -> Callable:
    """Run an ASGI app with uvicorn on a free loopback port in a thread, for real clients (Chromium,
    GDAL): ``with serve_app(app) as base_url: ...``."""
    return _serving


# --- CI: no silent skips --------------------------------------------------------------------------
# CI installs every tool the tests drive (.ci/setup: Chromium, GDAL, Playwright), and .ci/run exports
# GRIDMAP_CI=1. There a test skipped for a missing tool is a failure: a green run must not hide a browser
# or GDAL test that never ran. A skip that is right on any machine (a Shapefile cannot hold a layer
# without geometry; an external server is not ours to restart) is not about a tool, or says so with a
# reason starting with NOT_APPLICABLE.
NOT_APPLICABLE = "not applicable:"
_MISSING_TOOL = re.compile(r"not installed|could not import|no module named|not found|chromium|playwright|"
                           r"gdal|ogr2ogr|ogrinfo|\bwrk\b", re.IGNORECASE)


def _skip_reason(longrepr) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _missing_tool(reason: str) -> bool:
    text = reason.removeprefix("Skipped: ").strip()
    return not text.startswith(NOT_APPLICABLE) and bool(_MISSING_TOOL.search(text))


def _fail_in_ci(report, when: str) -> None:
    if os.environ.get("GRIDMAP_CI") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report.longrepr)
        if _missing_tool(reason):
            report.outcome = "failed"
            report.longrepr = (f"GRIDMAP_CI=1: skipped {when} for a missing tool, which CI installs "
                               f"(.ci/setup): {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    _fail_in_ci(outcome.get_result(), f"at {call.when}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    _fail_in_ci(outcome.get_result(), "at collection")


# Debian's Chromium, headless, without the background services whose connections this closed network
# refuses; each browser test cuts its pages' network to 127.0.0.1 itself.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Headless Chromium driven by Playwright, one per test module."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
