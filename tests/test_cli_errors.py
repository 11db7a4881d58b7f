"""Every user mistake ends a gridmap command with `error: <reason>` on stderr and exit status 2,
never a traceback: one real mistake per command group, run as a user runs it (the installed
`gridmap` script in a subprocess, against a database of this module's own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GRIDMAP = str(Path(sys.executable).with_name("gridmap"))
GRID = "439901001001999"  # well formed, not stored
COMMUNITY = "439901001999"


@pytest.fixture(scope="module")
def cli_database(fresh_database) -> str:
    return fresh_database("gridmap_cli_errors")


@pytest.fixture
def gridmap(cli_database: str, tmp_path: Path):
    """``gridmap(*args, env={...})``: the finished process; GRIDMAP_* from the caller only."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
        clean |= {"GRIDMAP_DATABASE_URL": cli_database, "COLUMNS": "200", **(env or {})}
        return subprocess.run([GRIDMAP, *args], cwd=tmp_path, env=clean, capture_output=True, text=True,
                              timeout=120)

    return run


def assert_user_mistake(r: subprocess.CompletedProcess[str], *reason: str) -> None:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "error:" in r.stderr
    for part in reason:
        assert part in r.stderr, (part, r.stderr)


# (command line, what the message must say): one or more per command group
MISTAKES = [
    # top level: stats, export, import, demo, map, register, serve
    (["stats", "--grid", GRID], [f"grid '{GRID}' not found"]),
    (["stats", "--grid", GRID, "--community", COMMUNITY], ["not both"]),
    (["export", "no_such_layer", "out.csv"], ["layer 'no_such_layer' not found"]),
    (["export", "households", "no-such-dir/out.csv"], ["no-such-dir/out.csv", "No such file or directory"]),
    (["import", "households", "missing.csv"], ["missing.csv", "no such file"]),
    (["demo", "--scale", "0"], ["--scale must be positive"]),
    (["map", "grid", GRID, "-o", "grid.html"], [f"grid '{GRID}' not found"]),
    (["map", "community", COMMUNITY, "-o", "c.pdf"], [".html"]),
    (["register", "export", "--grid", GRID, "-o", "r.xlsx"], [f"grid '{GRID}' not found"]),
    (["serve", "--host", "0.0.0.0"], ["GRIDMAP_SECRET_KEY"]),
    # db
    (["db", "stop"], ["GRIDMAP_DATABASE_URL is set"]),
    # check
    (["check", "division", COMMUNITY], [f"community '{COMMUNITY}' not found"]),
    (["check", "perimeter", "--date", "2024-13-45"], ["not a date"]),
    (["check", "perimeter", "--format", "shp"], ["--format must be"]),
    # roads
    (["roads", "assign", "R404-001", "no such unit", "--from", "2024-01-01"],
     ["road section 'R404-001' not found"]),
    (["roads", "roster", "no such unit", "-o", "r.xlsx"], ["unit 'no such unit' not found"]),
    (["roads", "cut", "--method", "max_length"], ["max_length"]),
    # user
    (["user", "disable", "nobody-here"], ["user 'nobody-here' not found"]),
    (["user", "grant", "nobody-here", "admin"], ["nobody-here"]),
    # rules: not found, conflict (the national 网吧 rule, levels in the other order), invalid input
    (["rules", "remove", "999999"], ["perimeter rule 999999 not found"]),
    (["rules", "change", "999999", "--distance", "100"], ["perimeter rule 999999 not found"]),
    (["rules", "add", "--category", "internet_cafe", "--level", "middle,primary", "--distance", "200",
      "--kind", "forbidden"], ["has this region, category, kind and school levels already"]),
    (["rules", "add", "--category", "karaoke", "--level", "primary", "--distance", "200", "--kind",
      "forbidden"], ["category: unknown", "--category-name"]),
    (["rules", "add", "--category", "bar", "--level", "primary", "--distance", "5000", "--kind",
      "forbidden"], ["distance_m"]),
    (["rules", "add", "--category", "bar"], ["a rule needs --level, --distance, --kind"]),
    (["rules", "list", "--format", "xml"], ["--format must be one of table, json"]),
    # assess: a quarter that does not exist
    (["assess", "freeze", COMMUNITY, "--quarter", "2026Q5"], ["--quarter", "2026Q1"]),
]


def _args(case) -> list[str]:
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize(("args", "reason"), MISTAKES, ids=[" ".join(_args(c)) for c in MISTAKES])
def test_a_user_mistake_is_one_clean_error(gridmap, args: list[str], reason: list[str]) -> None:
    assert_user_mistake(gridmap(*args), *reason)


def test_every_command_group_is_covered() -> None:
    from api.cli import app

    groups = {g.name for g in app.registered_groups if g.name}
    assert groups <= {_args(case)[0] for case in MISTAKES}


@pytest.mark.parametrize(("variable", "value", "reason"), [
    ("GRIDMAP_REGION_BBOX", "73.4,17.9,135.2", "GRIDMAP_REGION_BBOX (given '73.4,17.9,135.2')"),
    ("GRIDMAP_REGION_BBOX", "[135.2,17.9,73.4,53.6]", "with min < max"),  # [ ] shown as written
    ("GRIDMAP_PORT", "eighty", "GRIDMAP_PORT (given 'eighty')"),
    ("GRIDMAP_MAX_UPLOAD_MB", "0", "GRIDMAP_MAX_UPLOAD_MB"),
    ("GRIDMAP_BASEMAP", "tianditu", "GRIDMAP_BASEMAP=tianditu needs GRIDMAP_TIANDITU_KEY"),
    ("GRIDMAP_PUBLIC_URL", "gridmap.example.org", "must start with http:// or https://"),
])
def test_a_bad_setting_is_named(gridmap, variable: str, value: str, reason: str) -> None:
    r = gridmap("stats", env={variable: value})
    assert_user_mistake(r, "invalid setting", reason)


def test_an_unreachable_database_says_where_and_what_to_check(gridmap) -> None:
    # port 1 on this machine: refused at once; the password never shows
    r = gridmap("stats", env={"GRIDMAP_DATABASE_URL": "postgresql://gridmap:s3cret-pw@127.0.0.1:1/gridmap"})
    assert_user_mistake(r, "cannot reach the database gridmap on 127.0.0.1:1", "refused", "hint:",
                        "GRIDMAP_DATABASE_URL")
    assert "s3cret-pw" not in r.stderr + r.stdout
    r = gridmap("rules", "list", env={"GRIDMAP_DATABASE_URL": "not a url"})
    assert_user_mistake(r, "GRIDMAP_DATABASE_URL is not a connection string",
                        "postgresql://USER:PASSWORD@HOST:PORT/DBNAME")
    # status reports instead of failing: down, with the reason
    r = gridmap("db", "status", env={"GRIDMAP_DATABASE_URL": "postgresql://gridmap@127.0.0.1:1/gridmap"})
    assert r.returncode == 1 and "down (cannot reach the database" in r.stdout and "Traceback" not in r.stderr


def test_a_missing_database_is_named(gridmap, cli_database: str) -> None:
    import psycopg.conninfo

    missing = psycopg.conninfo.make_conninfo(cli_database, dbname="gridmap_no_such_db")
    r = gridmap("user", "list", env={"GRIDMAP_DATABASE_URL": missing})
    assert_user_mistake(r, "cannot reach the database gridmap_no_such_db", 'database "gridmap_no_such_db" '
                        "does not exist")


def test_click_usage_errors_stay_exit_2_without_traceback(gridmap) -> None:
    r = gridmap("rules", "add", "--distance", "far")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "Invalid value for '--distance'" in r.stderr
    r = gridmap("no-such-command")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_a_bug_keeps_its_traceback() -> None:
    """Only user mistakes are softened: an unexpected error is not reported as one."""
    from api.cli.errors import user_message

    assert user_message(KeyError("x")) is None and user_message(OSError("no filename")) is None
