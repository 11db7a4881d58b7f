"""Faults beyond a database restart: an oversized upload, an import killed midway, and two grid
workers editing the same household at the same moment."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.errors import Conflict
from gis.register import households as register
from gis.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_upload_over_the_limit_is_413_in_the_error_shape(database_url, settings, admin_token, tmp_path):
    small = Settings(database_url=database_url, data_dir=tmp_path, _env_file=None, max_upload_mb=1)
    body = b"ref,address,lon,lat\n" + b"x,a,113.0,25.8\n" * 80_000  # ~1.2 MB
    with TestClient(create_app(small), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        r = c.post("/imports/households", files={"file": ("big.csv", body, "text/csv")})
    assert r.status_code == 413
    assert "1 MB" in r.json()["detail"] and r.json()["errors"] == []


def test_two_edits_of_one_household_at_once_one_wins_one_gets_409(client, database_url):
    """Two grid workers save the same household (same version) at the same moment, each on its own
    connection: exactly one update lands, the other is told the row changed (Conflict, HTTP 409)."""
    created = client.post("/households", json={"address": "并发路1号", "lon": 113.03, "lat": 25.80})
    assert created.status_code in (200, 201), created.text
    hid, version = created.json()["id"], created.json()["version"]
    bbox = Settings(_env_file=None).region_bbox

    def edit(room: str) -> str:
        with psycopg.connect(database_url) as conn:
            try:
                register.update_household(conn, hid, version, {"room": room}, bbox)
                conn.commit()
                return "saved"
            except Conflict:
                return "conflict"

    with psycopg.connect(database_url, autocommit=True) as blocker:
        # Hold the row so that both edits are in flight at once before either can write.
        blocker.execute("BEGIN")
        blocker.execute("SELECT 1 FROM household WHERE id = %s FOR UPDATE", [hid])
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            edits = [pool.submit(edit, room) for room in ("101", "202")]
            waiting, deadline = 0, time.monotonic() + 20
            while waiting < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
                waiting = blocker.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'UPDATE household SET%'").fetchone()[0]
            blocker.execute("COMMIT")  # release before asserting, or a failure would hang the threads
            results = sorted(f.result(timeout=30) for f in edits)
    assert waiting == 2, "both edits should have been waiting on the row at once"
    assert results == ["conflict", "saved"]
    final = client.get(f"/households/{hid}").json()
    assert final["version"] == version + 1 and final["room"] in ("101", "202")
    client.delete(f"/households/{hid}")


# Where the import is killed: while rows stream into the staging table (the COPY has reported rows),
# and while the INSERT writes the household table itself (it holds the table's row-exclusive lock).
STAGES = {
    "copy": "SELECT p.tuples_processed > 0 FROM pg_stat_progress_copy p WHERE p.pid = %(pid)s",
    "insert": "SELECT a.query ILIKE '%%INSERT INTO household%%' AND EXISTS ("
              " SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.relation = 'household'::regclass"
              " AND l.mode = 'RowExclusiveLock' AND l.granted)"
              " FROM pg_stat_activity a WHERE a.pid = %(pid)s AND a.state = 'active'",
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_an_import_killed_midway_leaves_nothing_behind(database_url, tmp_path, stage):
    """SIGKILL the CLI's import in the middle of loading: the server notices the dead client and rolls
    the one transaction back: no household of the file, no staging table, no backend left."""
    rows = 300_000
    path = tmp_path / "households.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("ref,address,lon,lat\n")
        f.writelines(f"killed-{i},杀进程路{i}号,{113.0 + i % 500 * 1e-4:.6f},{25.8 + i // 500 * 1e-4:.6f}\n"
                     for i in range(rows))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    env["GRIDMAP_DATABASE_URL"] = database_url
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "import", "households", str(path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    with psycopg.connect(database_url, autocommit=True) as watch:
        pid, caught, deadline = None, False, time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not caught:
            if pid is None:
                found = watch.execute("SELECT pid FROM pg_stat_activity WHERE query ILIKE 'COPY staging%%'"
                                      " AND datname = current_database()").fetchone()
                pid = found[0] if found else None
            else:
                found = watch.execute(STAGES[stage], {"pid": pid}).fetchone()
                caught = bool(found and found[0])
            if not caught:
                time.sleep(0.01)
        assert caught and proc.poll() is None, f"the import should be caught in its {stage}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # The server notices the dead client at its next read or write and rolls the transaction back.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]:
            time.sleep(0.1)
        backend = watch.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]
        left = watch.execute("SELECT count(*) FROM household WHERE ref LIKE 'killed-%%'").fetchone()[0]
        staging = watch.execute("SELECT count(*) FROM pg_class WHERE relname = 'staging'"
                                " AND relpersistence = 't'").fetchone()[0]
    assert proc.returncode == -signal.SIGKILL
    assert (backend, left, staging) == (0, 0, 0), f"backend, rows, staging left: {backend, left, staging}"
