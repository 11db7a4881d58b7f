"""Assignments: one unit per section at any moment (exclusion constraint), history, 409 and 422."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta

import psycopg
import pytest

from gis.errors import Conflict, InvalidInput, NotFound
from gis.roads.assignments import assign_section, end_assignment, section_history
from gis.roads.cutting import cut_roads
from tests.roads.conftest import add_unit, section_id

D = date(2026, 1, 1)


def test_assign_history_and_end(network):
    cut_roads(network, "intersections")
    sid = section_id(network, "R1-002")
    a, b = add_unit(network, "市城管局"), add_unit(network, "第一中学", "school")
    first = assign_section(network, sid, a, D, D + timedelta(days=89))
    assert first["duty_day"] == 5 and first["valid_to"] == D + timedelta(days=89)
    with pytest.raises(Conflict) as err:
        assign_section(network, sid, b, D + timedelta(days=30))
    assert "市城管局" in str(err.value) and "R1-002" in str(err.value)
    second = assign_section(network, sid, b, D + timedelta(days=90), duty_day=3)
    assert [h["unit_name"] for h in section_history(network, sid)] == ["市城管局", "第一中学"]
    # ending the first earlier frees the days after it; extending it into the second's period clashes
    assert end_assignment(network, first["id"], D + timedelta(days=59))["valid_to"] == D + timedelta(days=59)
    with pytest.raises(Conflict) as err:
        end_assignment(network, first["id"], D + timedelta(days=120))
    assert "第一中学" in str(err.value)
    later = D + timedelta(days=200)
    assert end_assignment(network, second["id"], later)["valid_to"] == later


def test_bad_assignments_name_the_field(network):
    cut_roads(network, "intersections")
    sid = section_id(network, "R1-001")
    unit = add_unit(network, "市城管局")
    with pytest.raises(InvalidInput) as err:
        assign_section(network, sid, unit, D, D - timedelta(days=1))
    assert [p.field for p in err.value.problems] == ["valid_to"]
    with pytest.raises(InvalidInput) as err:
        assign_section(network, sid, 10**12, D)
    assert [p.field for p in err.value.problems] == ["unit_id"]
    with pytest.raises(InvalidInput) as err:
        assign_section(network, sid, unit, D, duty_day=8)
    assert [p.field for p in err.value.problems] == ["duty_day"]
    with pytest.raises(NotFound):
        assign_section(network, 10**12, unit, D)
    first = assign_section(network, sid, unit, D)
    with pytest.raises(InvalidInput) as err:
        end_assignment(network, first["id"], D - timedelta(days=1))
    assert err.value.problems[0].field == "valid_to"


def test_the_database_refuses_two_units_at_once(network):
    """The rule holds even for SQL that bypasses gis/: the exclusion constraint."""
    cut_roads(network, "intersections")
    sid = section_id(network, "R2-001")
    a, b = add_unit(network, "甲单位"), add_unit(network, "乙单位")
    network.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid) "
                    "VALUES (%s, %s, daterange('2026-01-01', NULL))", [sid, a])
    with pytest.raises(psycopg.errors.ExclusionViolation), network.transaction():
        network.execute("INSERT INTO road_section_assignment (section_id, unit_id, valid) "
                        "VALUES (%s, %s, daterange('2030-01-01', '2030-02-01'))", [sid, b])


@pytest.fixture
def committed_sections(database_url):
    """Five committed sections and two units (two planners need to see them), removed afterwards."""
    tag = uuid.uuid4().hex[:6].upper()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO road (ref, name, geom) SELECT %s || '-' || i, '并发路', "
            "ST_SetSRID(ST_MakeLine(ST_MakePoint(100 + i * 0.01, 30),"
            " ST_MakePoint(100 + i * 0.01, 30.001)), 4326)"
            " FROM generate_series(1, 5) i", [f"C{tag}"])
        cut_roads(conn, "intersections", roads=[f"C{tag}-{i}" for i in range(1, 6)])
        ids = [r[0] for r in conn.execute(
            "SELECT s.id FROM road_section s JOIN road r ON r.id = s.road_id WHERE r.ref LIKE %s ORDER BY 1",
            [f"C{tag}-%"])]
        units = [r[0] for r in conn.execute(
            "INSERT INTO responsible_unit (name) VALUES (%s), (%s) RETURNING id", [f"甲{tag}", f"乙{tag}"])]
        conn.commit()
    yield ids, units
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM road WHERE ref LIKE %s", [f"C{tag}-%"])
        conn.execute("DELETE FROM responsible_unit WHERE id = ANY(%s)", [units])


def test_concurrent_assignments_exactly_one_wins(database_url, committed_sections):
    """Two planners assign the same section at the same moment: one commits, the other gets 409."""
    sections, units = committed_sections
    for sid in sections:
        barrier = threading.Barrier(2)
        outcome: dict[int, str] = {}

        def planner(unit: int, sid: int = sid, barrier: threading.Barrier = barrier,
                    outcome: dict[int, str] = outcome) -> None:
            with psycopg.connect(database_url) as conn:
                barrier.wait()
                try:
                    assign_section(conn, sid, unit, D, D + timedelta(days=365))
                    conn.commit()
                    outcome[unit] = "won"
                except Conflict as exc:
                    conn.rollback()
                    outcome[unit] = str(exc)

        threads = [threading.Thread(target=planner, args=(u,)) for u in units]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(v == "won" for v in outcome.values()) == [False, True], outcome
        loser = next(v for v in outcome.values() if v != "won")
        assert "is held by" in loser
        with psycopg.connect(database_url) as conn:
            held = conn.execute("SELECT count(*) FROM road_section_assignment WHERE section_id = %s",
                                [sid]).fetchone()
        assert held == (1,)
