"""The wall map (一图上墙, issue 15) read back from its PDF: ISO page, true scale (the scale bar and two
households measured on the paper), every household a symbol, the texts, embedded fonts, the profiles;
a PNG preview of each kind of sheet kept as a test artefact."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from pyproj import Geod

from gis.errors import InvalidInput
from gis.maps import grids as mapdata
from gis.maps.symbology import HOUSEHOLD_COLOUR, TAG_STYLES
from gis.maps.wallmap import HOUSEHOLD_MM, SCALE_BAR_MM, render_pdf
from gis.maps.wallmap_data import build_sheet
from gis.maps.wallmap_sheet import MM, PAPERS, fit_layout
from tests.maps.wallmap_pdf import PT_M, filled_rects, fonts, page_size, preview, text

REF = "wmtest-"
SERVICE_PHONE = "0731-8888 0001"
STREET = "439901007"

# A school in grid 003 with an internet cafe 100 m east of it, two roads with names, buildings, and
# a street's two road sections, one held by a unit. Committed (the API's pool reads it), removed after.
_SETUP = f"""
UPDATE grid_worker SET service_phone = '{SERVICE_PHONE}' WHERE ref = 'mapstest-w1';
INSERT INTO road (ref, name, geom) VALUES
    ('{REF}r1', '测试大道', ST_GeomFromText('LINESTRING(112.899 28.2041, 112.911 28.2041)', 4326)),
    ('{REF}r2', '西环路', ST_GeomFromText('LINESTRING(112.9026 28.199, 112.9026 28.209)', 4326));
INSERT INTO building (ref, name, geom)
SELECT '{REF}b' || i, '楼' || i,
       ST_Expand(ST_SetSRID(ST_MakePoint(112.9005 + i * 0.0005, 28.2010), 4326), 0.00012)
FROM generate_series(0, 8) AS i;
INSERT INTO school (ref, name, level, geom) VALUES
    ('{REF}s1', '测试小学', 'primary',
     ST_SetSRID(ST_MakeEnvelope(112.9060, 28.2050, 112.9072, 28.2060, 4326), 4326));
INSERT INTO place (ref, name, category, geom) VALUES
    ('{REF}p1', '星空网吧', 'internet_cafe', ST_SetSRID(ST_MakePoint(112.9082, 28.2055), 4326));
INSERT INTO responsible_unit (ref, name, kind) VALUES ('{REF}u1', '测试责任单位', 'enterprise');
INSERT INTO road_section (road_id, code, road_name, length_m, community_code, geom)
SELECT r.id, '{REF}r1-00' || n, r.name, 500, '439901007001',
       ST_LineSubstring(r.geom, (n - 1) * 0.5, n * 0.5)
FROM road r CROSS JOIN generate_series(1, 2) AS n WHERE r.ref = '{REF}r1';
INSERT INTO road_section_assignment (section_id, unit_id, valid)
SELECT s.id, u.id, daterange('2020-01-01', NULL)
FROM road_section s, responsible_unit u WHERE s.code = '{REF}r1-001' AND u.ref = '{REF}u1';
"""

_TEARDOWN = f"""
DELETE FROM road_section_assignment
WHERE unit_id IN (SELECT id FROM responsible_unit WHERE ref LIKE '{REF}%');
DELETE FROM road_section WHERE code LIKE '{REF}%';
DELETE FROM responsible_unit WHERE ref LIKE '{REF}%';
DELETE FROM road WHERE ref LIKE '{REF}%';
DELETE FROM building WHERE ref LIKE '{REF}%';
DELETE FROM place WHERE ref LIKE '{REF}%';
DELETE FROM school WHERE ref LIKE '{REF}%';
"""


@pytest.fixture(scope="module")
def wall(database_url: str, map_fixture) -> Iterator:
    with psycopg.connect(database_url) as conn:
        conn.execute(_SETUP)  # type: ignore[arg-type]
        conn.commit()
    yield map_fixture
    with psycopg.connect(database_url) as conn:
        conn.execute(_TEARDOWN)  # type: ignore[arg-type]
        conn.execute("UPDATE grid_worker SET service_phone = NULL WHERE ref = 'mapstest-w1'")


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("wallmap-previews")
    print(f"\nwall map previews: {folder}")
    return folder


def _sheet_pdf(conn, kind: str, code: str, profile: str = "public", paper: str = "A1"):
    sheet = build_sheet(conn, kind, code, profile, paper)
    return sheet, render_pdf(sheet)


def _scale(pdf_text: str) -> int:
    return int(re.search(r"1:([\d,]+)", pdf_text).group(1).replace(",", ""))  # type: ignore[union-attr]


def _household_squares(sheet, pdf: bytes) -> list:
    side = HOUSEHOLD_MM * MM * sheet.layout.factor
    x0, y0, x1, y1 = sheet.layout.frame
    return [r for r in filled_rects(pdf) if r.filled(HOUSEHOLD_COLOUR) and abs(r.w - side) < 0.01
            and x0 <= r.centre[0] <= x1 and y0 <= r.centre[1] <= y1]


def test_the_page_is_iso_paper_exactly(conn, wall):
    for paper in ("A4", "A3", "A1"):
        try:
            sheet, pdf = _sheet_pdf(conn, "grid", wall.grids[0], paper=paper)
        except InvalidInput:
            continue  # too small a paper for this grid even at 1:10,000: said, not drawn
        short, long_ = PAPERS[paper]
        w, h = page_size(pdf)
        assert abs(min(w, h) - short * MM) <= 0.5 and abs(max(w, h) - long_ * MM) <= 0.5
        assert (w > h) == sheet.layout.landscape


def test_the_scale_bar_is_its_ground_length_over_n(conn, wall):
    sheet, pdf = _sheet_pdf(conn, "grid", wall.grids[0])
    n = _scale(text(pdf))
    assert n == sheet.layout.scale == 2_000  # a 500 × 900 m grid on A1: 1:2,000 is the largest that fits
    bar_h = SCALE_BAR_MM * MM * sheet.layout.factor
    bar = [r for r in filled_rects(pdf) if abs(r.h - bar_h) < 0.01 and (r.filled("#000") or r.filled("#fff"))]
    assert len(bar) == 4
    paper_m = (max(r.x + r.w for r in bar) - min(r.x for r in bar)) * PT_M
    ground = paper_m * n
    printed = [float(m) for m in re.findall(r"([\d.]+) 米", text(pdf))]
    label = min(printed, key=lambda v: abs(v - ground))
    assert abs(ground - label) / label < 0.005, (ground, label)


def test_two_households_lie_their_ground_distance_over_n_apart(conn, wall):
    sheet, pdf = _sheet_pdf(conn, "grid", wall.grids[0])
    n = sheet.layout.scale
    squares = sorted(_household_squares(sheet, pdf), key=lambda r: (round(r.centre[1], 1), r.centre[0]))
    # The lowest row is the lattice's first (28.2003°N); its first and third households are 0.001° of
    # longitude apart: ~98 m on the ground.
    row = [r for r in squares if abs(r.centre[1] - squares[0].centre[1]) < 0.5]
    a, b = row[0].centre, row[2].centre
    paper_m = ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 * PT_M
    _az, _baz, ground = Geod(ellps="WGS84").inv(112.9003, 28.2003, 112.9013, 28.2003)
    assert 90 < ground < 110
    assert abs(paper_m - ground / n) / (ground / n) < 0.005, (paper_m * n, ground)


def test_every_household_is_a_symbol(conn, wall):
    sheet, pdf = _sheet_pdf(conn, "grid", wall.grids[0], profile="office")
    data = mapdata.grid_map_data(conn, wall.grids[0], base=False)
    assigned = conn.execute("SELECT count(*) FROM household WHERE grid_code = %s",
                            [wall.grids[0]]).fetchone()[0]
    assert len(_household_squares(sheet, pdf)) == len(data.households) >= assigned > 100
    community, cpdf = _sheet_pdf(conn, "community", wall.community)
    shown = len(mapdata.community_map_data(conn, wall.community, base=False).households)
    assert len(_household_squares(community, cpdf)) == shown


def test_the_text_holds_title_legend_worker_phone_scale_date_source(conn, wall):
    sheet, pdf = _sheet_pdf(conn, "grid", wall.grids[0])
    words = text(pdf)
    for expected in ("西区网格 网格图", wall.grids[0], "测试社区", "图例", "本网格", "相邻网格", "住户",
                     "道路", "建筑", "测试大道", "张伟", SERVICE_PHONE, "比例尺 1:2,000", "北",
                     "制图日期", "数据来源"):
        assert expected in words, expected
    assert "13900000001" not in words  # the personal phone is not the service phone
    for absent in ("校园", "社区边界", "周边范围"):  # legend only of the layers drawn
        assert absent not in words


def test_every_font_is_embedded(conn, wall):
    for kind, code in (("grid", wall.grids[0]), ("school", f"{REF}s1")):
        _sheet, pdf = _sheet_pdf(conn, kind, code)
        embedded = fonts(pdf)
        assert embedded and all(embedded.values()), embedded


def test_the_public_sheet_has_no_names_and_no_tags_the_office_sheet_counts_and_is_audited(conn, wall):
    names = [r[0] for r in conn.execute("SELECT name FROM person WHERE ref LIKE 'mapstest-%'")]
    _sheet, public = _sheet_pdf(conn, "grid", wall.grids[0])
    words = text(public)
    assert names and not any(name in words for name in names) and "居民" not in words
    assert not any(style.label in words for style in TAG_STYLES.values())
    assert b"mapstest" not in public
    before = conn.execute("SELECT count(*) FROM audit_log WHERE object = 'wallmap:grid'").fetchone()[0]
    _sheet, office = _sheet_pdf(conn, "grid", wall.grids[0], profile="office")
    words = text(office)
    assert not any(name in words for name in names)
    assert "重点人员" in words and "住户 " in words and "内部版" in words
    after = conn.execute("SELECT count(*) FROM audit_log WHERE object = 'wallmap:grid'").fetchone()[0]
    assert after == before + 1


def test_each_kind_of_sheet_and_its_preview(conn, wall, artefacts):
    expected = {"grid": ("西区网格", "本网格"), "community": ("测试社区 社区网格图", "社区边界"),
                "school": ("测试小学 校园周边图", "周边范围"),
                "sections": ("测试街道 责任路段图", "测试责任单位")}
    codes = {"grid": wall.grids[0], "community": wall.community, "school": f"{REF}s1", "sections": STREET}
    for kind, code in codes.items():
        _sheet, pdf = _sheet_pdf(conn, kind, code, paper="A3")
        words = text(pdf)
        assert all(e in words for e in expected[kind]), (kind, words[:400])
        path = preview(pdf, f"wallmap-{kind}", artefacts)
        assert path.stat().st_size > 10_000
    _sheet, pdf = _sheet_pdf(conn, "sections", STREET, paper="A3")
    assert "未分配" in text(pdf)  # the second section has no unit


def test_bad_input_names_the_field(conn, wall):
    with pytest.raises(InvalidInput) as paper:
        build_sheet(conn, "grid", wall.grids[0], "public", "B2")
    assert paper.value.problems[0].field == "paper"
    with pytest.raises(InvalidInput) as profile:
        build_sheet(conn, "grid", wall.grids[0], "everyone", "A3")
    assert profile.value.problems[0].field == "profile"
    with pytest.raises(InvalidInput) as scale:
        build_sheet(conn, "community", wall.community, "public", "A4", scale=500)
    assert scale.value.problems[0].field == "scale"
    with pytest.raises(InvalidInput) as small:
        fit_layout((40_000, 40_000), "A4")
    assert small.value.problems[0].field == "paper" and "larger paper" in str(small.value)
