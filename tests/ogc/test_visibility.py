"""Which collections a caller is offered: personal ones (households) only to the register roles."""

from __future__ import annotations

from gis.ogc.collections import visible_collections


def ids(db, roles: frozenset[str] = frozenset()) -> set[str]:
    return {c.id for c in visible_collections(db, roles)}


def test_nobody_sees_households_without_a_register_role(db):
    assert "households" not in ids(db)
    assert "households" not in ids(db, frozenset({"viewer", "inspector", "planner"}))


def test_register_roles_see_households(db):
    assert "households" in ids(db, frozenset({"grid_worker"}))
    assert "households" in ids(db, frozenset({"admin"}))


def test_collections_whose_tables_are_missing_are_left_out(db):
    db.execute("DROP TABLE violation CASCADE")  # rolled back after the test
    assert "perimeter_violations" not in ids(db, frozenset({"viewer"}))
    assert "places" in ids(db, frozenset({"viewer"}))
