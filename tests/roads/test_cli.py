"""The `gridmap roads` commands against the test database."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def cli_env(database_url, monkeypatch, tmp_path):
    tag = "C" + uuid.uuid4().hex[:6].upper()
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO road (ref, name, geom) VALUES "
                     "(%s, '人民路', 'SRID=4326;LINESTRING(113.70 29.00, 113.72 29.00)'),"
                     "(%s, '建设路', 'SRID=4326;LINESTRING(113.71 28.99, 113.71 29.01)')",
                     [f"{tag}-1", f"{tag}-2"])
        conn.execute("INSERT INTO responsible_unit (name) VALUES (%s)", [f"{tag}局"])
    yield tag
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM road WHERE ref LIKE %s", [f"{tag}%"])
        conn.execute("DELETE FROM responsible_unit WHERE name LIKE %s", [f"{tag}%"])


def test_roads_commands(cli_env, tmp_path):
    tag, runner = cli_env, CliRunner()
    result = runner.invoke(app, ["roads", "cut", "--road", f"{tag}-1", "--road", f"{tag}-2"])
    assert result.exit_code == 0, result.output
    assert "4 new sections" in result.output
    result = runner.invoke(app, ["roads", "assign", f"{tag}-1-001", f"{tag}局", "--from", "2026-01-01"])
    assert result.exit_code == 0, result.output
    assert f"{tag}-1-001 -> {tag}局" in result.output
    result = runner.invoke(app, ["roads", "assign", f"{tag}-1-001", f"{tag}局", "--from", "2026-05-01"])
    assert result.exit_code == 2 and "is held by" in result.output  # a conflict: a user mistake, exit 2
    result = runner.invoke(app, ["roads", "coverage", "--on", "2026-06-01"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "roster.xlsx"
    result = runner.invoke(app, ["roads", "roster", f"{tag}局", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_workbook(out)["值勤表 Roster"]["A5"].value == f"{tag}-1-001"
