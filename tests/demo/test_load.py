"""Loading the demo street through the importer, and the `gridmap demo` command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gis.catalog import LAYERS
from gis.demo.street import clear_register, database_has_communities, load_demo


def _count(conn, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # table names are literals here
    return row[0]


def test_load_demo_writes_every_layer(conn, small_street):
    seen: dict[str, tuple[int, int]] = {}

    def progress(layer: str, done: int, total: int) -> None:
        seen[layer] = (done, total)

    counts = load_demo(conn, small_street, progress=progress)
    s = small_street
    assert counts["communities"] == _count(conn, "community") == len(s.communities)
    assert counts["grids"] == _count(conn, "grid") == len(s.grids)
    assert counts["grid_workers"] == _count(conn, "grid_worker") == len(s.grid_workers)
    assert _count(conn, "grid_worker_grid") == len(s.grids)
    assert counts["buildings"] == _count(conn, "building") == len(s.buildings)
    assert counts["households"] == _count(conn, "household") == len(s.households)
    assert counts["persons"] == _count(conn, "person") == len(s.persons)
    assert _count(conn, "key_person") == s.persons["key_person"].notna().sum()
    assert seen["persons"] == (len(s.persons), len(s.persons))
    if "schools" in LAYERS:
        assert counts["schools"] == _count(conn, "school") == len(s.schools)
        assert counts["places"] == _count(conn, "place") == len(s.places)
        assert _count(conn, "licence") == s.places["licence_kind"].notna().sum()
    if "roads" in LAYERS:
        assert counts["roads"] == _count(conn, "road") == len(s.roads)
    assert database_has_communities(conn)


def test_households_land_where_the_generator_put_them(conn, small_street):
    counts = load_demo(conn, small_street)
    h = small_street.households
    placed = dict(conn.execute("SELECT ref, placement::text FROM household").fetchall())
    assert {ref: placed[ref] for ref in h["ref"]} == dict(zip(h["ref"], h["expected_placement"], strict=True))
    assert counts["households_border"] == (h["expected_placement"] == "border").sum() > 0
    assert counts["households_outside"] == (h["expected_placement"] == "outside").sum() > 0
    grid_of = dict(conn.execute("SELECT ref, grid_code FROM household WHERE placement = 'inside'").fetchall())
    inside = h[h["expected_placement"] == "inside"]
    assert all(grid_of[r] == g for r, g in zip(inside["ref"], inside["grid_code"], strict=True))
    # Buildings were placed in their grid by the importer too.
    wrong = conn.execute("SELECT count(*) FROM building b WHERE b.grid_code IS NULL").fetchone()
    assert wrong == (0,)


def test_the_division_check_finds_nothing_in_the_demo_and_both_faults_with_defects(conn, small_street,
                                                                                  defect_street):
    from gis.division.check import check_division

    load_demo(conn, small_street)
    for code in small_street.communities["code"]:
        assert check_division(conn, code)["features"] == []
    clear_register(conn)
    assert not database_has_communities(conn)
    load_demo(conn, defect_street)
    first = defect_street.communities["code"].iloc[0]
    kinds = sorted(f["properties"]["kind"] for f in check_division(conn, first)["features"])
    assert kinds == ["gap", "overlap"]
    for code in defect_street.communities["code"][1:]:
        assert check_division(conn, code)["features"] == []


def test_person_vocabularies_match_the_database(conn, small_street):
    categories = {r[0] for r in conn.execute("SELECT code FROM key_person_category")}
    assert set(small_street.persons["key_person"].dropna()) <= categories
    statuses = {r[0] for r in conn.execute("SELECT code FROM poverty_status")}
    assert set(small_street.persons["poverty"].dropna()) <= statuses


def test_cli_demo_loads_refuses_a_second_time_and_replaces(own_database_url, monkeypatch):
    from api.cli import app

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", own_database_url)
    runner = CliRunner()
    args = ["demo", "--communities", "2", "--grids", "6", "--households", "300", "--persons", "700"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "households: 300" in first.output and "persons: 700" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--replace" in again.output
    replaced = runner.invoke(app, [*args, "--replace", "--seed", "5", "--scale", "2"])
    assert replaced.exit_code == 0, replaced.output
    import psycopg

    with psycopg.connect(own_database_url) as c:
        assert c.execute("SELECT count(*) FROM household").fetchone() == (600,)
        assert c.execute("SELECT count(*) FROM grid").fetchone() == (12,)
        assert c.execute("SELECT min(id) FROM household").fetchone() == (1,)  # identities restarted


@pytest.mark.parametrize("flags", [["--grids", "1", "--communities", "2"], ["--scale", "0"]])
def test_cli_demo_refuses_impossible_sizes(own_database_url, monkeypatch, flags):
    from api.cli import app

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", own_database_url)
    result = CliRunner().invoke(app, ["demo", *flags])
    assert result.exit_code == 2
