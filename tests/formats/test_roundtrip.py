"""Every importable layer through every format: exported from one database, imported into an empty
one, the stored rows are equal field by field and the geometries within 1e-7 degrees."""

from __future__ import annotations

import pytest
import shapely

from gis.catalog import LAYERS, export_layer, import_file, load_frame
from gis.errors import InvalidInput
from gis.interop.exporting import layer_frame

FORMATS = {  # name -> (extension, CSV encoding)
    "geojson": ("geojson", "utf-8"), "gpkg": ("gpkg", "utf-8"), "shapefile": ("zip", "utf-8"),
    "csv-utf8": ("csv", "utf-8"), "csv-gbk": ("csv", "gbk"), "xlsx": ("xlsx", "utf-8"),
}
MIXED = {"buildings", "schools"}  # the fixture holds polygons and points, as real files do
TOLERANCE_DEG = 1e-7

# Each layer's stored rows as tuples keyed by their first column (geometry last, as WKB).
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
    "schools": "SELECT ref, name, level, ST_AsText(gates), ST_AsBinary(geom) FROM school",
    "places": "SELECT ref, name, category, address, ST_AsBinary(geom) FROM place",
    "licences": """SELECT p.ref || '/' || l.kind, l.number, l.valid_until, l.displayed
                   FROM licence l JOIN place p ON p.id = l.place_id""",
    "roads": "SELECT ref, name, ST_AsBinary(geom) FROM road",
    "units": "SELECT ref, name, kind, contact, phone FROM responsible_unit",
    "facilities": """SELECT f.name, f.kind, f.address, f.owner_community, u.name, f.community_code, f.active,
                            ST_AsBinary(f.geom)
                     FROM facility f LEFT JOIN responsible_unit u ON u.id = f.owner_unit""",
    "compounds": "SELECT ref, name, management, households, note, ST_AsBinary(geom) FROM compound",
}


def stored(conn, layer: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in conn.execute(STORED[layer])}


def assert_same_rows(before: dict[str, tuple], after: dict[str, tuple]) -> None:
    assert sorted(before) == sorted(after)
    for key, left in before.items():
        right = after[key]
        if left and isinstance(left[-1], bytes):
            a, b = shapely.from_wkb(left[-1]), shapely.from_wkb(right[-1])
            assert a.geom_type == b.geom_type, key
            # Shapefiles store outer rings clockwise: the same shape, its rings reversed
            distance = shapely.hausdorff_distance(shapely.normalize(a), shapely.normalize(b))
            assert distance <= TOLERANCE_DEG, (key, distance)
            left, right = left[:-1], right[:-1]
        assert left == right, key


def test_every_layer_has_fixture_rows(layer_needs):
    assert set(layer_needs) == set(LAYERS), "add rows for new layers to tests/formats/conftest.py"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_export_then_import_gives_equal_rows(source, target, tmp_path, layer_needs, layer, fmt):
    ext, encoding = FORMATS[fmt]
    path = tmp_path / f"{layer}.{ext}"
    spec = LAYERS[layer]
    if fmt == "shapefile" and spec.geometry is None:
        with pytest.raises(InvalidInput, match="no geometry"):
            export_layer(source, layer, path)
        pytest.skip(f"a Shapefile is a geometry file and {layer} has no geometry: "
                    "use CSV, XLSX, GeoJSON or GPKG")
    if fmt == "shapefile" and layer in MIXED:
        with pytest.raises(InvalidInput, match="one geometry type"):
            export_layer(source, layer, path)
        pytest.skip(f"a Shapefile holds one geometry type and {layer} mixes polygons and points: use GPKG")
    for needed in layer_needs.get(layer, []):  # what the layer refers to, loaded straight from the source
        load_frame(target, needed, layer_frame(source, LAYERS[needed], unmasked=True))
    written = export_layer(source, layer, path, unmasked=True, encoding=encoding)
    if fmt == "csv-gbk":
        data = path.read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really GBK: the Chinese text is not valid UTF-8
        assert data.decode("gbk").splitlines()[0].startswith(("ref", "place_ref", "kind"))
    if fmt == "shapefile":
        import zipfile

        with zipfile.ZipFile(path) as archive:
            cpg = [n for n in archive.namelist() if n.endswith(".cpg")]
            assert cpg and archive.read(cpg[0]).strip().upper() in (b"UTF-8", b"UTF8")
    report = import_file(target, layer, path)
    assert report.rows == written == len(stored(source, layer))
    assert_same_rows(stored(source, layer), stored(target, layer))


def test_gbk_export_refuses_text_gbk_cannot_hold(source, tmp_path):
    source.execute("UPDATE place SET name = '😀网吧' WHERE ref = 'pl1'")
    with pytest.raises(InvalidInput, match="GBK"):
        export_layer(source, "places", tmp_path / "places.csv", encoding="gbk")
    with pytest.raises(InvalidInput, match="CSV only"):
        export_layer(source, "places", tmp_path / "places.gpkg", encoding="gbk")
    with pytest.raises(InvalidInput, match="unknown encoding"):
        export_layer(source, "places", tmp_path / "places.csv", encoding="latin-1")
