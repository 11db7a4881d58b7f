"""Importable layers of the road-section capability: road centrelines and responsible units."""

from __future__ import annotations

from functools import partial

from gis.areas import by_geometry
from gis.codes import phone_problem
from gis.interop.layerspec import Field, LayerSpec
from gis.roads.units import UNIT_KINDS, normalise_kind

# A MultiLineString whose parts join end to end is taken as one line; the importer has already
# refused lines GEOS calls invalid (fewer than two distinct points).
_ROAD_LINE = """CASE WHEN GeometryType(s.geom) = 'MULTILINESTRING' THEN ST_LineMerge(s.geom)
                     ELSE s.geom END"""

ROADS = LayerSpec(
    name="roads", table="road", geometry="line",
    description="Road centrelines (道路中心线): road code (ref), road name, line",
    fields=(Field("name", required=True, aliases=("road_name", "路名", "道路名称", "名称")),),
    check_sql=f"""
        SELECT row_no, 'ref', 'a road needs a code (ref: letters, digits, _ . -; up to 40)'
        FROM staging WHERE ref IS NULL OR ref !~ '^[A-Za-z0-9_.-]{{1,40}}$'
        UNION ALL
        SELECT s.row_no, 'geometry', 'a multi-part line whose parts do not join into one line'
        FROM staging s WHERE GeometryType({_ROAD_LINE}) <> 'LINESTRING'
        UNION ALL
        SELECT s.row_no, 'geometry', 'a line needs at least two distinct points'
        FROM staging s WHERE ST_NPoints(ST_RemoveRepeatedPoints(s.geom)) < 2
        UNION ALL
        -- a line that runs back over itself: noding and dissolving it makes it shorter
        SELECT s.row_no, 'geometry', 'the line overlaps itself (runs back over the same stretch)'
        FROM staging s WHERE ST_Length(s.geom) - ST_Length(ST_UnaryUnion(s.geom)) > 1e-7
        ORDER BY 1""",
    insert_sql=f"""
        INSERT INTO road (ref, name, geom)
        SELECT s.ref, s.name, ST_Force2D({_ROAD_LINE}) FROM staging s ORDER BY s.row_no""",
    export_sql="SELECT r.ref, r.name, r.geom FROM road r WHERE " + by_geometry("r.geom") + " ORDER BY r.ref",
)

UNITS = LayerSpec(
    name="units", table="responsible_unit", geometry=None,
    description="Responsible units (责任单位): name, kind, contact person and phone",
    fields=(
        Field("name", required=True, unique=True, aliases=("单位", "单位名称", "责任单位", "名称")),
        Field("kind", choices=UNIT_KINDS, normalise=normalise_kind, aliases=("类型", "单位类型")),
        Field("contact", aliases=("联系人", "负责人")),
        # A unit's phone may hold spaces (the responsible_unit.phone constraint), a person's may not.
        Field("phone", check=partial(phone_problem, spaces=True), aliases=("电话", "联系电话", "手机")),
    ),
    insert_sql="""
        INSERT INTO responsible_unit (ref, name, kind, contact, phone)
        SELECT ref, name, coalesce(kind, 'other'), contact, phone FROM staging ORDER BY row_no""",
    export_sql="SELECT ref, name, kind, contact, phone FROM responsible_unit ORDER BY name",
)

ROAD_LAYERS: dict[str, LayerSpec] = {spec.name: spec for spec in (ROADS, UNITS)}
