"""OGC API - Features items over PostGIS: output CRS (Part 2), request parsing, items, one item, extents.

GeoJSON is built in SQL (FIELD-NOTES: 5x faster than going through geopandas) and handed back as
text. Identifiers come only from the collection definitions (gis/ogc/collections.py); every value
from a request is a bound parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import psycopg
from psycopg import sql

from gis.errors import InvalidInput, NotFound, Problem
from gis.ogc import cql, cql_text
from gis.ogc.collections import Collection, Property

SQL_TYPE = cql.SQL_TYPE  # JSON type of a property -> the SQL type its values are cast to
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
COORD_DIGITS = 7  # ~1 cm in degrees; what a register needs, and 20 % less JSON than the default 9


# --- CRS (Part 2) ------------------------------------------------------------------------------

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@dataclass(frozen=True)
class OutputCRS:
    uri: str
    srid: int
    lat_first: bool  # EPSG:4326 and EPSG:4490 are latitude-first; CRS84 is longitude-first


SUPPORTED_CRS: tuple[OutputCRS, ...] = (
    OutputCRS(CRS84, 4326, False),
    OutputCRS("http://www.opengis.net/def/crs/EPSG/0/4326", 4326, True),
    OutputCRS("http://www.opengis.net/def/crs/EPSG/0/4490", 4490, True),  # CGCS2000 (国家2000)
)
_CRS_ALIASES = {"crs84": CRS84, "ogc:crs84": CRS84, "epsg:4326": SUPPORTED_CRS[1].uri,
                "epsg:4490": SUPPORTED_CRS[2].uri}


def parse_crs(value: str | None, param: str) -> OutputCRS:
    """A CRS URI (or its EPSG:n / CRS84 shorthand, with the same axis order as the URI)."""
    if value is None or value == "":
        return SUPPORTED_CRS[0]
    key = value.strip().strip("[]")
    key = _CRS_ALIASES.get(key.lower(), key).replace("https://", "http://")
    found = next((c for c in SUPPORTED_CRS if c.uri == key), None)
    if found is None:
        supported = ", ".join(c.uri for c in SUPPORTED_CRS)
        raise InvalidInput.one(param, f"unsupported CRS {value!r}; use one of {supported}")
    return found


def parse_bbox(value: str | None, crs: OutputCRS) -> tuple[float, float, float, float] | None:
    """bbox=minx,miny,maxx,maxy (or 6 numbers with heights) in the axis order of ``crs``; back as lon/lat."""
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise InvalidInput.one("bbox", "must be 4 (or 6) comma-separated numbers") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput.one("bbox", "must be 4 (or 6) comma-separated numbers")
    if crs.lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    # CGCS2000 and WGS 84 coordinates differ by centimetres (PROJ's transformation between them is the
    # identity), so a box in EPSG:4490 is used as lon/lat directly once its axes are in x/y order.
    minx, miny, maxx, maxy = numbers
    # minx > maxx is legal in OGC (a box across the antimeridian) but meaningless for a city.
    if minx > maxx or miny > maxy or not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput.one("bbox", "lower corner must be below and left of the upper corner, "
                                       "latitudes within -90..90")
    return minx, miny, maxx, maxy


def parse_paging(limit: str | None, offset: str | None) -> tuple[int, int]:
    """limit defaults to 100; a limit over 10,000 is served as 10,000 (as the standard asks)."""
    problems = []
    lim, off = DEFAULT_LIMIT, 0
    try:
        lim = int(limit) if limit not in (None, "") else DEFAULT_LIMIT
        if lim < 1:
            problems.append(Problem("limit", "must be at least 1"))
    except ValueError:
        problems.append(Problem("limit", "must be an integer"))
    try:
        off = int(offset) if offset not in (None, "") else 0
        if off < 0:
            problems.append(Problem("offset", "must be 0 or more"))
    except ValueError:
        problems.append(Problem("offset", "must be an integer"))
    if problems:
        raise InvalidInput(problems)
    return min(lim, MAX_LIMIT), off


def coerce(prop: Property, value: Any, where: str) -> Any:
    """A request value as the property's type, or InvalidInput (so the database never sees a bad cast)."""
    try:
        return cql.coerce_literal(prop.type, value)
    except ValueError as exc:
        raise InvalidInput.one(where, f"{prop.name}: {exc}") from None


# --- datetime, sortby, properties, skipGeometry ---------------------------------------------------

Instant = date | datetime  # a date, or a timestamp with its zone
Interval = tuple[Instant | None, Instant | None]  # None: open at that end


def _instant(text: str) -> Instant:
    text = text.strip().removesuffix("T")  # GDAL writes a bare date as 2000-01-01T
    if len(text) <= 10:
        return date.fromisoformat(text)
    return cql_text.parse_timestamp(text)


def parse_datetime(value: str | None, coll: Collection) -> Interval | None:
    """datetime=instant, start/end, ../end or start/.. (an empty end is open too), for a collection
    with a temporal property; refused (400) where the collection has none or the text is no date."""
    if value is None:
        return None
    if coll.temporal is None:
        raise InvalidInput.one("datetime", f"collection {coll.id} has no temporal property to filter on")
    ends = value.split("/")
    try:
        if len(ends) == 1:
            instant = _instant(ends[0])
            return instant, instant
        if len(ends) == 2:
            start, end = (None if e.strip() in ("", "..") else _instant(e) for e in ends)
            if start is not None and end is not None and _first_moment(start) > _first_moment(end):
                raise ValueError("start after end")
            return start, end
    except ValueError as exc:
        raise InvalidInput.one("datetime", f"must be an RFC 3339 date or timestamp, or an interval "
                                           f"start/end with .. for an open end ({exc})") from None
    raise InvalidInput.one("datetime", "at most one / between start and end")


def _first_moment(instant: Instant) -> datetime:
    return instant if isinstance(instant, datetime) else datetime.combine(instant, time(0), UTC)


def parse_sortby(value: str | None, coll: Collection) -> list[tuple[str, bool]]:
    """sortby=name,-floors: queryables, ascending unless prefixed by - (a + arrives as a blank)."""
    if not value:
        return []
    queryable = {p.name for p in coll.queryable_properties()}
    keys: list[tuple[str, bool]] = []
    for raw in value.split(","):
        key = raw.strip()
        descending = key.startswith("-")
        name = key.lstrip("+-").strip()
        if name not in queryable:
            raise InvalidInput.one("sortby", f"cannot sort by {name[:40]!r}; "
                                             f"sortable: {', '.join(sorted(queryable))}")
        keys.append((name, descending))
    return keys


def parse_properties(value: str | None, coll: Collection) -> tuple[str, ...] | None:
    """properties=a,b: the properties each feature carries (empty: none)."""
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if coll.property(n) is None]
    if unknown:
        raise InvalidInput.one("properties", f"unknown property {unknown[0][:40]!r}; properties: "
                                             f"{', '.join(p.name for p in coll.properties)}")
    return names


def parse_flag(value: str | None, param: str) -> bool:
    if value is None or value.lower() == "false":
        return False
    if value.lower() == "true":
        return True
    raise InvalidInput.one(param, "must be true or false")


# --- queries -----------------------------------------------------------------------------------

@dataclass
class ItemsQuery:
    """The parsed query of /collections/{id}/items."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    crs: OutputCRS = SUPPORTED_CRS[0]
    equals: dict[str, Any] = field(default_factory=dict)  # queryable property -> value
    filter: str | None = None
    filter_lang: str = "cql2-text"
    filter_crs: OutputCRS = SUPPORTED_CRS[0]
    datetime: Interval | None = None  # on the collection's temporal property
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    properties: tuple[str, ...] | None = None  # None: every property
    skip_geometry: bool = False


def _geometry_out(coll: Collection, crs: OutputCRS) -> sql.Composable:
    # RFC 7946: outer rings counter-clockwise, holes clockwise, decided in lon/lat before any flip
    # of the axes (which mirrors the rings); options 0: no GeoJSON-2008 "crs" member per feature.
    geom: sql.Composable = sql.SQL("ST_ForcePolygonCCW(t.{})").format(sql.Identifier(coll.geometry_column))
    if crs.srid != 4326:
        geom = sql.SQL("ST_Transform({}, {})").format(geom, sql.Literal(crs.srid))
    if crs.lat_first:
        geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
    return sql.SQL("ST_AsGeoJSON({}, {}, 0)").format(geom, sql.Literal(COORD_DIGITS))


def _feature_text(coll: Collection, crs: OutputCRS, properties: tuple[str, ...] | None = None,
                  skip_geometry: bool = False) -> sql.Composable:
    """One feature as GeoJSON text; string concatenation skips re-parsing ST_AsGeoJSON's output.
    ``properties`` names the subset to write (None: all), ``skip_geometry`` writes a null geometry."""
    chosen = [p for p in coll.properties if properties is None or p.name in properties]
    props = sql.SQL(", ").join(
        sql.SQL("{}, t.{}").format(sql.Literal(p.name), sql.Identifier(p.source)) for p in chosen
    )
    geom = sql.SQL("NULL") if skip_geometry else _geometry_out(coll, crs)
    return sql.SQL(
        """'{{"type":"Feature","id":' || to_json(t.{id})::text"""
        """ || ',"geometry":' || coalesce({geom}, 'null')"""
        """ || ',"properties":' || json_build_object({props})::text || '}}'"""
    ).format(id=sql.Identifier(coll.id_column), geom=geom, props=props)


def _where(coll: Collection, q: ItemsQuery, params: dict[str, Any]) -> sql.Composable:
    parts: list[sql.Composable] = []
    if q.bbox is not None:
        params["bbox"] = list(q.bbox)
        parts.append(sql.SQL(
            "ST_Intersects(t.{}, ST_MakeEnvelope(%(bbox)s[1], %(bbox)s[2], %(bbox)s[3], %(bbox)s[4], 4326))"
        ).format(sql.Identifier(coll.geometry_column)))
    for i, (name, value) in enumerate(sorted(q.equals.items())):
        prop = coll.property(name)
        assert prop is not None  # checked by the caller against the queryables
        params[f"eq{i}"] = value
        parts.append(sql.SQL("t.{} = {}::{}").format(
            sql.Identifier(prop.source), sql.Placeholder(f"eq{i}"), sql.SQL(SQL_TYPE[prop.type])))  # type: ignore[arg-type]
    if q.datetime is not None:
        parts.extend(_datetime_where(coll, q.datetime, params))
    if q.filter:
        translated = cql.to_sql(q.filter, coll.queryable_properties(), coll.geometry_column,
                                filter_srid=q.filter_crs.srid, lat_first=q.filter_crs.lat_first,
                                lang=q.filter_lang)
        params.update(translated.params)
        parts.append(translated.where)
    if not parts:
        return sql.SQL("true")
    return sql.SQL(" AND ").join(parts)


def _datetime_where(coll: Collection, interval: Interval, params: dict[str, Any]) -> list[sql.Composable]:
    """The temporal property (a date) within the interval, ends included: a day matches when it
    contains an instant of the interval, so a timestamp bound counts by its day in UTC."""
    assert coll.temporal is not None
    prop = coll.property(coll.temporal)
    assert prop is not None and prop.type == "date"
    column = sql.SQL("t.{}").format(sql.Identifier(prop.source))
    parts: list[sql.Composable] = []
    for name, bound, op in (("dt_start", interval[0], ">="), ("dt_end", interval[1], "<=")):
        if bound is not None:
            params[name] = bound.astimezone(UTC).date() if isinstance(bound, datetime) else bound
            parts.append(sql.SQL("{} {} {}::date").format(column, sql.SQL(op), sql.Placeholder(name)))
    return parts or [sql.SQL("{} IS NOT NULL").format(column)]


def _order_by(coll: Collection, q: ItemsQuery) -> sql.Composable:
    """sortby keys (text by code point, so every client and locale agrees; empty values last),
    then the id, so that pages never overlap."""
    keys: list[sql.Composable] = []
    for name, descending in q.sortby:
        prop = coll.property(name)
        assert prop is not None
        column = sql.SQL("t.{}").format(sql.Identifier(prop.source))
        if prop.type == "string":
            column = sql.SQL('{} COLLATE "C"').format(column)
        keys.append(sql.SQL("{} {} NULLS LAST").format(column, sql.SQL("DESC" if descending else "ASC")))
    keys.append(sql.SQL("t.{}").format(sql.Identifier(coll.id_column)))
    return sql.SQL(", ").join(keys)


def items_sql(coll: Collection, q: ItemsQuery) -> tuple[sql.Composed, dict[str, Any]]:
    """The items statement and its parameters: numberMatched, numberReturned, the features' JSON."""
    params: dict[str, Any] = {"limit": q.limit, "offset": q.offset}
    where = _where(coll, q, params)
    query = sql.SQL(
        """SELECT (SELECT count(*) FROM {src} WHERE {where}),
                  page.n, page.features
           FROM (SELECT count(*) AS n, '[' || coalesce(string_agg(f, ','), '') || ']' AS features
                 FROM (SELECT {feature} AS f FROM {src} WHERE {where}
                       ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) AS rows) AS page"""
    ).format(src=coll.from_clause(), where=where,
             feature=_feature_text(coll, q.crs, q.properties, q.skip_geometry), order=_order_by(coll, q))
    return query, params


def items(conn: psycopg.Connection, coll: Collection, q: ItemsQuery) -> tuple[int, int, str]:
    """(numberMatched, numberReturned, the features as a JSON array text), in one round trip."""
    query, params = items_sql(coll, q)
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


def item(conn: psycopg.Connection, coll: Collection, feature_id: str, crs: OutputCRS) -> str:
    """One feature as GeoJSON text, or NotFound."""
    try:
        key = cql.coerce_literal(coll.id_type, feature_id)
    except ValueError:
        raise NotFound(f"{coll.id} item", feature_id) from None
    query = sql.SQL("SELECT {feature} FROM {src} WHERE t.{id} = %s").format(
        feature=_feature_text(coll, crs), src=coll.from_clause(), id=sql.Identifier(coll.id_column))
    row = conn.execute(query, [key]).fetchone()
    if row is None:
        raise NotFound(f"{coll.id} item", feature_id)
    return row[0]


def _temporal_bounds(c: Collection) -> sql.Composable:
    """The first and last day of the temporal property as RFC 3339 UTC text (whole days)."""
    prop = c.property(c.temporal) if c.temporal else None
    if prop is None:
        return sql.SQL("NULL::text, NULL::text")
    return sql.SQL("""to_char(min(t.{c}), 'YYYY-MM-DD"T00:00:00Z"'), """
                   """to_char(max(t.{c}), 'YYYY-MM-DD"T23:59:59Z"')""").format(c=sql.Identifier(prop.source))


@dataclass
class Extent:
    bbox: list[float] | None  # lon/lat
    interval: list[str | None] | None  # the temporal property's [first, last], RFC 3339


def extents(conn: psycopg.Connection, colls: list[Collection]) -> dict[str, Extent]:
    """The lon/lat bounding box and the temporal interval of each collection, in one statement."""
    if not colls:
        return {}
    parts = [
        sql.SQL("SELECT {name}::text, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 "
                "FROM (SELECT ST_Extent(t.{geom}) AS e, {temporal} FROM {src}) AS x(e, t0, t1)").format(
            name=sql.Literal(c.id), geom=sql.Identifier(c.geometry_column), src=c.from_clause(),
            temporal=_temporal_bounds(c))
        for c in colls
    ]
    rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    temporal = {c.id for c in colls if c.temporal}
    return {r[0]: Extent(None if r[1] is None else [r[1], r[2], r[3], r[4]],
                         [r[5], r[6]] if r[0] in temporal else None) for r in rows}
