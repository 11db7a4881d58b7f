"""The road-section map: one toggle layer per unit, unassigned sections red and dashed, a legend."""

from __future__ import annotations

import json
from datetime import date

import pytest

from gis.settings import Settings
from layers.roads import UNASSIGNED_COLOUR, road_sections_map, unit_colours
from layers.shell import render_html


def _feature(code, unit_id=None, unit_name=None, coords=((111.70, 29.0), (111.71, 29.0))):
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
            "properties": {"code": code, "road_name": "人民路", "from_desc": "K0+000", "to_desc": "K1+000",
                           "length_m": 973.4, "unit_id": unit_id, "unit_name": unit_name, "contact": "张三",
                           "phone": "0736-7221234", "valid_from": "2026-01-01", "valid_to": None,
                           "duty_day": 5}}


def test_map_layers_legend_and_popups():
    sections = {"type": "FeatureCollection", "features": [
        _feature("R1-001", 1, "市城管局"), _feature("R1-002", 2, "第一中学<script>"),
        _feature("R1-003", 1, "市城管局"), _feature("R2-001"),
    ]}
    page = render_html(road_sections_map(sections, date(2026, 6, 1), Settings(_env_file=None)))
    assert "市城管局 (2)" in page and "未分配 unassigned (1)" in page
    assert UNASSIGNED_COLOUR in page and '"dashArray": "8 6"' in page
    assert "第一中学&lt;script&gt;" in page and "<script>\"" not in page  # names are escaped
    # popups travel inside the GeoJSON, JSON-escaped
    assert json.dumps("星期五")[1:-1] in page and json.dumps("长期 open")[1:-1] in page
    assert "https://" not in page.split("<body>")[0]  # no CDN links: assets are local


def test_unit_colours_are_stable_and_never_red():
    colours = unit_colours([(2, "乙"), (1, "甲"), (3, "丙")])
    assert colours == unit_colours([(3, "丙"), (1, "甲"), (2, "乙")])
    assert UNASSIGNED_COLOUR not in colours.values() and len(set(colours.values())) == 3


def test_map_refuses_non_geojson():
    with pytest.raises(ValueError):
        road_sections_map({"features": []}, date(2026, 6, 1), Settings(_env_file=None))


def test_map_says_what_it_draws_and_when_it_draws_fewer():
    sections = {"type": "FeatureCollection", "numberMatched": 3, "features": [_feature("R1-001")]}
    totals = {"sections": 3, "total_m": 1234.5, "assigned_m": 0.0, "assigned_pct": 0.0}
    page = render_html(road_sections_map(sections, date(2026, 6, 1), Settings(_env_file=None), totals=totals,
                                         community="430102001001"))
    assert "3 段 sections, 总长 total 1,234.5 m" in page and "drawn 1 of 3" in page
    legend = page.split('class="gridmap-box gridmap-legend"')[1].split("</details>")[0]
    assert "every section with length in community 430102001001" in legend
    whole = render_html(road_sections_map({"type": "FeatureCollection", "features": [_feature("R1-001")]},
                                          date(2026, 6, 1), Settings(_env_file=None), totals=totals))
    assert "every live section, counted whole" in whole and "drawn 1 of" not in whole
