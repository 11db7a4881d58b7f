"""gis.maps.grids: which households and people a map gets, masked, counted and tagged."""

from __future__ import annotations

import pytest

from gis.codes import mask_id_number, mask_phone
from gis.errors import InvalidInput, NotFound
from gis.maps import grids as mapdata


def test_grid_map_data_has_its_households_and_the_highlighted_neighbours(conn, map_fixture):
    data = mapdata.grid_map_data(conn, map_fixture.grids[1])
    assigned = conn.execute("SELECT count(*) FROM household WHERE grid_code = %s",
                            [map_fixture.grids[1]]).fetchone()[0]
    placements = [h["placement"] for h in data.households]
    # The border household belongs to grid 001 (lowest code) but also shows on 002's map, and the
    # household 40 m east of the community is within 100 m of grid 002.
    assert {h["address"] for h in data.households if h["placement"] != "inside"} == {"边界路1号", "界外路1号"}
    assert len(data.households) == assigned + 2
    assert data.counts["households"] == len(data.households)
    assert data.counts["border"] == placements.count("border") == 1
    assert data.counts["outside"] == 1
    assert data.workers == ["李娜"] and data.team == []
    assert data.community_name == "测试社区"
    minlon, minlat, maxlon, maxlat = data.bbox
    assert (minlon, minlat, maxlon, maxlat) == pytest.approx((112.905, 28.200, 112.910, 28.204))
    focus = [f["properties"]["code"] for f in data.grids["features"] if f["properties"]["focus"]]
    assert focus == [map_fixture.grids[1]] and len(data.grids["features"]) == 3


def test_community_map_data_has_all_households_but_the_far_one(conn, map_fixture):
    data = mapdata.community_map_data(conn, map_fixture.community)
    assert data.counts["households"] == map_fixture.households - 1
    assert data.counts["persons"] == sum(len(h["members"]) for h in data.households)
    assert "远方路1号" not in {h["address"] for h in data.households}
    assert data.counts["outside"] == 2  # the gap household and the one 40 m east
    assert data.workers == ["张伟", "李娜"]
    assert data.community["type"] == "MultiPolygon"


def test_members_are_masked_and_head_first(conn, map_fixture):
    data = mapdata.community_map_data(conn, map_fixture.community)
    raw = dict(conn.execute("SELECT name, id_number FROM person WHERE ref LIKE 'mapstest-%'").fetchall())
    phones = dict(conn.execute("SELECT name, phone FROM person WHERE ref LIKE 'mapstest-%'").fetchall())
    members = [m for h in data.households for m in h["members"]]
    assert members and all(m["id_number"] == mask_id_number(raw[m["name"]]) for m in members)
    assert all(m["phone"] == mask_phone(phones[m["name"]]) for m in members)
    assert all("*" in m["id_number"] and m["id_number"] != raw[m["name"]] for m in members)
    assert all(h["members"][0]["relation"] == "head" for h in data.households)


def test_tag_bits_match_the_register(conn, map_fixture):
    """Each tag's count on the map equals a direct count in the register (TAGS order = SQL bits)."""
    data = mapdata.community_map_data(conn, map_fixture.community)
    ids = [h["id"] for h in data.households]
    expected = conn.execute(
        """SELECT count(kp.person_id), count(*) FILTER (WHERE residence = 'floating'),
                  count(poverty), count(*) FILTER (WHERE elderly_alone), count(*) FILTER (WHERE disabled),
                  count(*) FILTER (WHERE activist OR volunteer)
           FROM person p LEFT JOIN key_person kp ON kp.person_id = p.id WHERE p.household_id = ANY(%s)""",
        [ids]).fetchone()
    assert mapdata.TAGS == ("key_person", "floating", "poverty", "elderly_alone", "disabled", "activist")
    assert tuple(data.counts[t] for t in mapdata.TAGS) == expected
    assert all(n > 0 for n in expected)
    key_heads = [m for h in data.households for m in h["members"] if m["tags"] & 1]
    assert all(m["note"].startswith("社区矫正人员") for m in key_heads)
    household_bits = {h["id"]: h["tags"] for h in data.households}
    assert all(household_bits[h["id"]] == _or(m["tags"] for m in h["members"]) for h in data.households)


def _or(values):
    out = 0
    for v in values:
        out |= v
    return out


@pytest.mark.parametrize("code", ["43990100700", "abc", "439901007001000", "439901007001001'; DROP TABLE x"])
def test_malformed_grid_code_is_invalid_input(conn, code):
    with pytest.raises(InvalidInput) as err:
        mapdata.grid_map_data(conn, code)
    assert err.value.problems[0].field == "code"


def test_unknown_codes_are_not_found(conn, map_fixture):
    with pytest.raises(NotFound):
        mapdata.grid_map_data(conn, "439901007001009")
    with pytest.raises(NotFound):
        mapdata.community_map_data(conn, "439901007002")


def test_map_index_lists_communities_with_grids(conn, map_fixture):
    index = {c["code"]: c for c in mapdata.map_index(conn)}
    ours = index[map_fixture.community]
    assert [g["code"] for g in ours["grids"]] == list(map_fixture.grids)
    assert ours["grids"][0]["workers"] == ["张伟"]
    assert sum(g["households"] for g in ours["grids"]) > 200


def test_every_map_look_is_audited(conn, map_fixture):
    """Maps show key persons (重点人员): each one fetched leaves an entry in the audit log."""
    before = conn.execute("SELECT count(*) FROM audit_log WHERE object = 'map:grid'").fetchone()[0]
    data = mapdata.grid_map_data(conn, map_fixture.grids[0])
    rows = conn.execute(
        "SELECT action, detail FROM audit_log WHERE object = 'map:grid' ORDER BY id").fetchall()
    assert len(rows) == before + 1
    action, detail = rows[-1]
    assert action == "read" and detail["code"] == map_fixture.grids[0]
    assert detail["key_persons"] == data.counts["key_person"] > 0
