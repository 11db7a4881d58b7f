"""Where a record counts (issue 16 part C, second pass): a record photo on the shared edge of two
communities is evidence of exactly one, the lowest code (as facility_place() and the compounds'
placing decide); and the gap report of a street, one statement for all its communities, lists what
the per-community scorecards list."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from gis.assessment import evidence, gap, scorecard, sheet
from gis.demo.scoring import demo_sheet_xlsx


@pytest.fixture(scope="module")
def border_photo(world, database_url, quarter) -> dict:
    """An inspection of a place standing exactly on the edge A and B share (x = x0 + 0.02), with a photo."""
    x, y = world["x0"] + 0.02, world["y0"] + 0.005
    content = f"border photo {world['tag']}".encode()
    sha = hashlib.sha256(content).hexdigest()
    with psycopg.connect(database_url) as conn:
        both = conn.execute("SELECT array_agg(code ORDER BY code) FROM community"
                            " WHERE ST_Intersects(geom, ST_Point(%s, %s, 4326))", [x, y]).fetchone()[0]
        assert both == [world["a"], world["b"]], "the point must lie on both communities' edge"
        place = conn.execute("INSERT INTO place (ref, name, category, address, geom) VALUES"
                             " (%s, '界边小店', 'food_shop', '界路 1 号', ST_Point(%s, %s, 4326))"
                             " RETURNING id",
                             [f"{world['tag']}-border", x, y]).fetchone()[0]
        inspection = conn.execute("INSERT INTO inspection (place_id, inspector, result) VALUES"
                                  " (%s, '督查员', 'compliant') RETURNING id", [place]).fetchone()[0]
        conn.execute("INSERT INTO media (sha256, mime, bytes, width, height, stored_by)"
                     " VALUES (%s, 'image/png', %s, 1, 1, 'test')", [sha, len(content)])
        conn.execute("INSERT INTO inspection_photo (inspection_id, sha256, file_name)"
                     " VALUES (%s, %s, 'b.png')",
                     [inspection, sha])
        conn.commit()
    return {"inspection": inspection, "sha256": sha}


def test_a_record_photo_on_a_shared_edge_counts_in_the_lowest_code_only(api, as_user, world, database_url,
                                                                      quarter, border_photo) -> None:
    a, b, street = world["a"], world["b"], world["street"]
    assert a < b

    def inspections(found: list[dict]) -> list[int]:
        return [p["record_id"] for p in found if p["record_kind"] == "inspection"]

    with psycopg.connect(database_url) as owner:
        assert inspections(evidence.record_photos(owner, quarter, a)) == [border_photo["inspection"]]
        assert inspections(evidence.record_photos(owner, quarter, b)) == []
        in_street = evidence.record_photos(owner, quarter, street)
    assert [(p["community_code"], p["record_id"]) for p in in_street if p["record_kind"] == "inspection"] \
        == [(a, border_photo["inspection"])]
    # over HTTP, as each community's admin
    for who, code, expected in (("admin", a, [border_photo["inspection"]]), ("admin_b", b, [])):
        r = api.get(f"/communities/{code}/assessment/{quarter}/evidence", headers=as_user(who))
        assert r.status_code == 200, r.text
        assert inspections(r.json()["record_photos"]) == expected


def test_the_gap_report_is_one_statement_equal_to_the_per_community_scorecards(world, database_url, settings,
                                                                               quarter, border_photo) -> None:
    with psycopg.connect(database_url) as owner:
        sheet.import_sheet(owner, settings.data_dir, demo_sheet_xlsx(), quarter=quarter,
                           scope=world["street"], title="考核评分细则", stored_by="owner")
        owner.commit()
        statements: list[str] = []
        cursor_execute = psycopg.Cursor.execute

        def counting(self, query, params=None, **kw):  # type: ignore[no-untyped-def]
            statements.append(str(query)[:80])
            return cursor_execute(self, query, params, **kw)

        psycopg.Cursor.execute = counting  # type: ignore[method-assign]
        try:
            rows = gap.gap_rows(owner, quarter, world["street"])
        finally:
            psycopg.Cursor.execute = cursor_execute  # type: ignore[method-assign]
        loop = []
        for code, name in gap.communities(owner, world["street"]):
            card = scorecard.scorecard(owner, quarter, code)
            loop += [(code, name, it["item_no"], it["value"], it["evidence"], it["gaps"])
                     for it in card["items"] if it["gaps"]]
    # the report itself once, and the local TM's lookup (registering it the first time): not one
    # statement per community
    assert len([s for s in statements if "scorecards of every community" in s]) == 1, statements
    assert len(statements) <= 6, statements
    assert [(r["community"], r["community_name"], r["item_no"], r["value"], r["evidence"], r["gaps"])
            for r in rows] == loop
    assert {r["community"] for r in rows} == {world["a"], world["b"]}
    # the border photo is item 28's evidence (校园周边, from inspections) in A only
    by = {(r["community"], r["item_no"]): r for r in rows}
    assert (world["a"], "28") not in by or "无佐证材料" not in by[(world["a"], "28")]["gaps"]
    assert "无佐证材料" in by[(world["b"], "28")]["gaps"]
