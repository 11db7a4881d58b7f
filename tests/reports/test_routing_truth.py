"""Routing against the truth: 500 sightings whose owners follow from how the street was built
(tests/reports/truth.py), at junctions, 29.9 m and 30.1 m off a section, on and beside grid borders,
outside every grid, outside every community, the day before, of and after an assignment changes hands.
The expected owners never come from the routing SQL."""

from __future__ import annotations

from collections import Counter

import psycopg

from gis.reports import routing
from tests.reports import truth


def test_every_one_of_500_owners_is_the_constructions(conn: psycopg.Connection) -> None:
    w = truth.build(conn)
    rows = routing.owners(conn, truth.sightings(w))
    wrong = truth.wrong_owners(w, rows)
    kinds = Counter(c.kind for c in w.cases)
    print(f"\nFIGURES routing truth: {len(w.cases) - len(wrong)}/{len(w.cases)} right ({dict(kinds)})")
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(wrong[:40])
    # the construction covers every rule and both sides of every threshold
    assert set(kinds) == {"unit", "grid", "community", "street"}
    whats = Counter(c.what.split(" off ")[0] for c in w.cases)
    assert whats["29.9 m"] == whats["30.1 m"] == 88


def test_a_retired_section_and_a_team_member_route_nothing(conn: psycopg.Connection) -> None:
    """The traps the truth relies on are really there: the retired section (lowest id, held all along)
    lies under a live one, and grid (2, 0) has a 'team' member but no worker."""
    w = truth.build(conn)
    retired = conn.execute("SELECT count(*) FROM road_section WHERE code LIKE %s AND retired_on IS NOT NULL",
                           [f"{w.tag}-%"]).fetchone()[0]
    assert retired == 1
    team = conn.execute("SELECT role FROM grid_worker_grid WHERE grid_code = %s", [w.grids[2, 0]]).fetchall()
    assert team == [("team",)]
    assert w.grids[2, 0] not in w.staffed and w.grids[1, 1] not in w.staffed
    routed = {r["id"]: r for r in routing.owners(conn, truth.sightings(w))}
    assert not any(r["routed_unit"] == w.units[3] for r in routed.values())
    in_team_grid = [c for c in w.cases if c.grid == w.grids[2, 0] and c.kind != "unit"]
    assert in_team_grid and all(routed[c.id]["owner_kind"] == "community" for c in in_team_grid)
