"""Export then import into a clean database gives the same rows, for every register layer and format."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely

from gis.catalog import LAYERS, export_layer, import_file, load_frame
from gis.codes import id_number_check_digit
from gis.errors import InvalidInput
from gis.interop.exporting import layer_frame

ORDER = ["communities", "grids", "grid_workers", "buildings", "households", "persons"]
SPATIAL = {"communities", "grids", "buildings", "households"}
# Each layer's stored rows, as comparable tuples (geometry last, as WKB) keyed by ref.
STORED = {
    "communities": "SELECT ref, code, name, street_name, ST_AsBinary(geom) FROM community",
    "grids": "SELECT ref, code, name, community_code, ST_AsBinary(geom) FROM grid",
    "grid_workers": """SELECT w.ref, w.name, w.phone, array_agg(l.grid_code ORDER BY l.grid_code)
                       FROM grid_worker w JOIN grid_worker_grid l ON l.worker_id = w.id GROUP BY w.id""",
    "buildings": "SELECT ref, name, floors, grid_code, ST_AsBinary(geom) FROM building",
    "households": "SELECT ref, address, building, unit, room, grid_code, placement::text, ST_AsBinary(geom) "
                  "FROM household",
    "persons": """SELECT p.ref, h.ref, p.name, p.id_number, p.phone, p.sex, p.birth_date, p.relation,
                         p.residence, p.employment, p.poverty, k.category, p.elderly_alone, p.disabled,
                         p.activist, p.volunteer
                  FROM person p JOIN household h ON h.id = p.household_id
                  LEFT JOIN key_person k ON k.person_id = p.id""",
}


def _id(first17: str) -> str:
    return first17 + id_number_check_digit(first17)


def _populate(conn: psycopg.Connection) -> None:
    rng = pd.Series(range(30))
    load_frame(conn, "grid_workers", pd.DataFrame({
        "ref": ["w1", "w2"], "name": ["王五", "赵六"], "phone": ["13800138000", None],
        "grid_codes": ["431002001001001;431002001001002", "431002001001004"]}))
    load_frame(conn, "buildings", gpd.GeoDataFrame(
        {"ref": ["b1", "b2"], "name": ["1栋", "2栋"], "floors": [6, None]},
        geometry=[shapely.box(113.0011, 25.7811, 113.0023456789, 25.7822),
                  shapely.box(113.0151, 25.7951, 113.0162, 25.7962)], crs=4326))
    points = shapely.points(113.0003 + rng * 0.000671234567, 25.7803 + rng * 0.000655555551)
    load_frame(conn, "households", gpd.GeoDataFrame(
        {"ref": [f"h{i}" for i in rng], "address": [f"人民路{i}号, \"东\"" for i in rng],
         "building": [f"{i % 3}栋" if i % 4 else None for i in rng],
         "unit": ["1"] * 30, "room": ["101"] * 30},
        geometry=points, crs=4326))
    load_frame(conn, "persons", pd.DataFrame({
        "ref": ["p1", "p2", "p3"], "household_ref": ["h1", "h1", "h29"], "name": ["张三", "李梅", "王小"],
        "id_number": [_id("43100219800102001"), _id("43100219850607002"), None],
        "phone": ["13912345678", None, "0735-2222222"], "relation": ["head", "spouse", "other"],
        "residence": ["registered", "floating", "registered"], "employment": ["retired", None, "student"],
        "poverty": ["dibao", None, None], "key_person": [None, "released_prisoner", None],
        "elderly_alone": ["true", "false", "false"], "disabled": ["0", "1", "0"],
        "activist": ["是", "否", "否"], "volunteer": [None, "yes", None],
        "birth_date": [None, None, "2010-03-04"]}))


def _stored(conn: psycopg.Connection, layer: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in conn.execute(STORED[layer])}


def _same(a: dict[str, tuple], b: dict[str, tuple]) -> None:
    assert sorted(a) == sorted(b)
    for ref in a:
        left, right = a[ref], b[ref]
        if isinstance(left[-1], bytes):
            ga, gb = shapely.from_wkb(left[-1]), shapely.from_wkb(right[-1])
            # Shapefiles store outer rings clockwise: the same shape, its rings reversed
            assert shapely.equals_exact(shapely.normalize(ga), shapely.normalize(gb), tolerance=1e-9), ref
            left, right = left[:-1], right[:-1]
        assert left == right, ref


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "zip", "csv", "xlsx"])
def test_export_then_import_gives_equal_rows(division, clean_db, tmp_path, ext):
    _populate(division)
    with psycopg.connect(clean_db) as target:
        for layer in ORDER:
            suffix = ext if layer in SPATIAL or ext != "zip" else "gpkg"  # Shapefiles need a geometry
            path = tmp_path / f"{layer}.{suffix}"
            export_layer(division, layer, path, unmasked=True)
            import_file(target, layer, path)
            _same(_stored(division, layer), _stored(target, layer))


def test_round_trip_through_gcj02(division, clean_db, tmp_path):
    _populate(division)
    with psycopg.connect(clean_db) as target:
        for layer in ["communities", "grids", "households"]:
            path = tmp_path / f"{layer}.gpkg"
            export_layer(division, layer, path, crs="gcj02")
            import_file(target, layer, path, crs="gcj02")
            before, after = _stored(division, layer), _stored(target, layer)
            for ref in before:
                # GCJ-02's inverse is iterative: equal to well under a millimetre, not bit for bit
                a, b = shapely.from_wkb(before[ref][-1]), shapely.from_wkb(after[ref][-1])
                assert shapely.hausdorff_distance(a, b) < 1e-8
                assert before[ref][:-1] == after[ref][:-1]


def test_personal_fields_are_masked_unless_asked(division):
    _populate(division)
    masked = layer_frame(division, LAYERS["persons"]).set_index("ref")
    assert masked.at["p1", "id_number"] == "431002********0010"[:6] + "*" * 8 + _id("43100219800102001")[-4:]
    assert masked.at["p1", "phone"] == "139****5678"
    full = layer_frame(division, LAYERS["persons"], unmasked=True).set_index("ref")
    assert full.at["p1", "id_number"] == _id("43100219800102001")


def test_export_filters_by_community_and_grid_and_converts_crs(division, tmp_path):
    _populate(division)
    everything = layer_frame(division, LAYERS["households"])
    one_grid = layer_frame(division, LAYERS["households"], grid="431002001001003")
    assert 0 < len(one_grid) < len(everything)
    assert set(one_grid["grid_code"]) == {"431002001001003"}
    assert len(layer_frame(division, LAYERS["households"], community="431002001009")) == 0
    gcj = layer_frame(division, LAYERS["households"], crs="gcj02")
    shift = shapely.distance(gcj.geometry.to_numpy(), everything.geometry.to_numpy())
    assert (shift > 0.001).all()  # hundreds of metres, in degrees


def test_csv_export_is_excel_friendly(division, tmp_path):
    _populate(division)
    path = tmp_path / "households.csv"
    export_layer(division, "households", path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs
    header = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "ref" and header[-2:] == ["lon", "lat"]


def test_unknown_export_format_and_shapefile_without_geometry(division, tmp_path):
    with pytest.raises(InvalidInput, match="unknown format"):
        export_layer(division, "households", tmp_path / "x.kml")
    with pytest.raises(InvalidInput, match="no geometry"):
        export_layer(division, "persons", tmp_path / "x.zip")


def test_shapefile_refuses_mixed_geometry_types(division, tmp_path):
    load_frame(division, "buildings", gpd.GeoDataFrame(
        {"ref": ["b1", "b2"], "name": ["1栋", "2栋"]},
        geometry=[shapely.box(113.001, 25.781, 113.002, 25.782), shapely.Point(113.015, 25.795)], crs=4326))
    with pytest.raises(InvalidInput, match="one geometry type"):
        export_layer(division, "buildings", tmp_path / "b.zip")
    assert export_layer(division, "buildings", tmp_path / "b.gpkg") == 2
