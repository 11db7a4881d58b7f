"""The migration runner records a checksum of each applied file and refuses an edited one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from gis import migrate as runner
from gis.errors import Conflict, GridmapError


@pytest.fixture
def migrated(fresh_database: Callable[[str], str]) -> Iterator[psycopg.Connection]:
    """A connection to a freshly migrated database of this test's own (the tests change its schema)."""
    with psycopg.connect(fresh_database("gridmap_migrate"), autocommit=True) as conn:
        yield conn


def _recorded(conn: psycopg.Connection) -> dict[str, str | None]:
    return dict(conn.execute("SELECT name, sha256 FROM schema_migration").fetchall())


def _with_edited_file(name: str) -> Callable[[], list[tuple[str, str]]]:
    """available() as it would read after someone edited ``name``'s file."""
    files = runner.available()
    assert name in dict(files)
    return lambda: [(n, text + "\n-- edited\n" if n == name else text) for n, text in files]


def test_every_applied_migration_has_the_sha256_of_its_file(migrated):
    expected = {name: runner.checksum(text) for name, text in runner.available()}
    assert _recorded(migrated) == expected
    assert all(len(digest) == 64 for digest in expected.values())
    assert runner.migrate(migrated) == []


def test_a_database_from_before_checksums_gets_them_on_its_first_run(migrated):
    migrated.execute("ALTER TABLE schema_migration DROP COLUMN sha256")
    assert runner.migrate(migrated) == []
    assert _recorded(migrated) == {name: runner.checksum(text) for name, text in runner.available()}
    migrated.execute("UPDATE schema_migration SET sha256 = NULL WHERE name = %s", [runner.available()[0][0]])
    assert runner.migrate(migrated) == []
    assert None not in _recorded(migrated).values()


def test_an_edited_applied_migration_is_refused_naming_the_file(migrated, monkeypatch):
    name = runner.available()[2][0]
    before = _recorded(migrated)
    monkeypatch.setattr(runner, "available", _with_edited_file(name))
    with pytest.raises(Conflict, match=f"{name}.sql changed since it was applied") as caught:
        runner.migrate(migrated)
    assert isinstance(caught.value, GridmapError)  # the CLI prints these as "error: ..."
    assert "new migration" in str(caught.value)
    assert _recorded(migrated) == before  # nothing recorded, nothing applied


def test_a_new_migration_is_applied_and_recorded_but_an_edit_beside_it_stops_both(migrated, monkeypatch):
    files = runner.available()
    new = ("999_test_marker", "CREATE TABLE migrate_test_marker (id int)")
    monkeypatch.setattr(runner, "available", lambda: [*files, new])
    assert runner.migrate(migrated) == ["999_test_marker"]
    assert _recorded(migrated)["999_test_marker"] == runner.checksum(new[1])

    first = files[0][0]
    edited = _with_edited_file(first)
    newer = ("1000_test_marker", "CREATE TABLE migrate_test_marker_2 (id int)")
    monkeypatch.setattr(runner, "available", lambda: [*edited(), new, newer])
    with pytest.raises(Conflict, match=f"{first}.sql"):
        runner.migrate(migrated)
    assert "1000_test_marker" not in _recorded(migrated)
    assert migrated.execute("SELECT to_regclass('migrate_test_marker_2')").fetchone() == (None,)


def test_gridmap_db_migrate_prints_which_file_changed(fresh_database, tmp_path):
    """End to end through the CLI; the stored checksum is altered, as the file cannot be here."""
    url = fresh_database("gridmap_migrate")
    name = runner.available()[2][0]
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE schema_migration SET sha256 = %s WHERE name = %s", ["0" * 64, name])
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url, "COLUMNS": "250"}
    gridmap = Path(sys.executable).with_name("gridmap")
    proc = subprocess.run([str(gridmap), "db", "migrate"], env=env, cwd=tmp_path,  # no stray .env
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert f"error: applied migration {name}.sql changed since it was applied" in proc.stderr
