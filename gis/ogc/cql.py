"""CQL2 filters (OGC API - Features Part 3), text or JSON, translated to bound SQL.

Both encodings are parsed into pygeofilter's AST (gis/ogc/cql_text.py, gis/ogc/cql_json.py).
pygeofilter's own SQL backend writes literal values into the SQL string; this translator walks the
AST but emits psycopg.sql compositions: properties become identifiers only when they are in the
collection's whitelist, every value becomes a bound parameter cast to the property's type. Anything
unknown or unsupported is InvalidInput, so a client's typo is a 400, never a database error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

import shapely.geometry
from psycopg import sql
from pygeofilter import ast, values

from gis.errors import InvalidInput
from gis.ogc import cql_json, cql_text

SQL_TYPE = {"string": "text", "integer": "bigint", "number": "double precision", "boolean": "boolean",
            "date": "date"}
FILTER_LANGS = ("cql2-text", "cql2-json")
_COMPARISON = {
    ast.ComparisonOp.EQ: "=", ast.ComparisonOp.NE: "<>", ast.ComparisonOp.LT: "<",
    ast.ComparisonOp.LE: "<=", ast.ComparisonOp.GT: ">", ast.ComparisonOp.GE: ">=",
}
_SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: "ST_Intersects", ast.SpatialComparisonOp.DISJOINT: "ST_Disjoint",
    ast.SpatialComparisonOp.CONTAINS: "ST_Contains", ast.SpatialComparisonOp.WITHIN: "ST_Within",
    ast.SpatialComparisonOp.TOUCHES: "ST_Touches", ast.SpatialComparisonOp.CROSSES: "ST_Crosses",
    ast.SpatialComparisonOp.OVERLAPS: "ST_Overlaps", ast.SpatialComparisonOp.EQUALS: "ST_Equals",
}
# Bounds on a filter's shape, checked on the text before the parser sees it: the parser and this
# translator recurse once per level, so a deep or long chain of conditions would end in Python's
# recursion limit (a 500) instead of an answer.
MAX_FILTER_CHARS = 20_000
MAX_NESTING = 32  # parentheses inside parentheses (a MULTIPOLYGON literal takes 4)
MAX_LOGICAL = 100  # AND / OR / NOT in the whole filter: each is one more level of the tree
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")  # 'text' and "identifier", linear
_LOGICAL = re.compile(r"\b(?:AND|OR|NOT)\b", re.IGNORECASE)
_CASE_FOLD = {"lower", "casei"}  # CASEI(x) compares lower(x): case-insensitive for every script
GEOMETRY_NAMES = {"geom", "geometry"}


class QueryableProperty(Protocol):
    """What the translator needs of a property (gis.ogc.Property)."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def source(self) -> str: ...


_EXPECTED = {"string": "text", "integer": "an integer", "number": "a number", "boolean": "true or false",
             "date": "a date (YYYY-MM-DD)"}


# GDAL holds a JSON boolean as an integer field (OFSTBoolean): its -where "helped = 1" arrives as
# ?helped=1, or as the number 1 in a CQL2 filter. 1 and 0 are taken for true and false, nothing else.
_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _boolean_text(text: str) -> bool:
    found = _BOOLEAN_TEXT.get(text.lower())
    if found is None:
        raise ValueError(text)
    return found


def _midnight_date(stamp: datetime) -> date:
    """A timestamp as a date only when it is a whole day (UTC midnight); any other time of day
    compared with a date would have to be rounded one way or the other, so it is refused."""
    utc = stamp.astimezone(UTC)
    if utc.time() != time(0):
        raise ValueError(stamp.isoformat())
    return utc.date()


def _date_text(text: str) -> date:
    # GDAL writes a date as '2000-01-01T' (its timestamp form without a time)
    text = text.strip().removesuffix("T").removesuffix("t")
    return date.fromisoformat(text) if len(text) <= 10 else _midnight_date(cql_text.parse_timestamp(text))


# How a property type reads its value from text (query parameters, CQL2 strings); surrounding
# blanks are ignored except in a string.
_FROM_TEXT: dict[str, Callable[[str], Any]] = {
    "string": lambda text: text, "integer": lambda text: int(text.strip()),
    "number": lambda text: float(text.strip()), "boolean": lambda text: _boolean_text(text.strip()),
    "date": _date_text,
}


def _from_python(kind: str, value: Any) -> Any:
    """A non-text value already of the property's type (an integral float counts as an integer, a
    timestamp as its date), or None."""
    if isinstance(value, bool):
        return value if kind == "boolean" else None
    if kind == "boolean" and isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if kind == "integer" and isinstance(value, int | float):
        return value if isinstance(value, int) else int(value) if value.is_integer() else None
    if kind == "number" and isinstance(value, int | float):
        return float(value)
    if kind == "date" and isinstance(value, date):
        try:
            return _midnight_date(value) if isinstance(value, datetime) else value
        except ValueError:
            return None
    return None


def coerce_literal(kind: str, value: Any) -> Any:
    """A value as the Python type of a property type; ValueError says why it does not fit."""
    if value is None:
        return None
    if kind not in _EXPECTED:
        raise ValueError(f"unknown property type {kind}")
    if isinstance(value, str):
        try:
            return _FROM_TEXT[kind](value)
        except ValueError:
            pass
    elif (found := _from_python(kind, value)) is not None:
        return found
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
    raise ValueError(f"expected {_EXPECTED[kind]}, got {shown}")


@dataclass
class Translated:
    where: sql.Composable
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Value:
    """A translated operand: its SQL and its type (None: a literal whose type the other side decides)."""

    sql: sql.Composable
    kind: str | None
    literal: Any = None
    is_literal: bool = False


class _Translator:
    def __init__(self, properties: Sequence[QueryableProperty], geometry_column: str, filter_srid: int,
                 lat_first: bool) -> None:
        self.properties = {p.name: p for p in properties}
        self.geometry_column = geometry_column
        self.filter_srid = filter_srid
        self.lat_first = lat_first
        self.params: dict[str, Any] = {}

    def fail(self, reason: str) -> InvalidInput:
        return InvalidInput.one("filter", reason)

    def bind(self, value: Any, kind: str | None) -> sql.Composable:
        name = f"f{len(self.params)}"
        self.params[name] = value
        if kind is None:
            return sql.Placeholder(name)
        return sql.SQL("{}::{}").format(sql.Placeholder(name), sql.SQL(SQL_TYPE[kind]))  # type: ignore[arg-type]

    # --- conditions ---
    def condition(self, node: Any) -> sql.Composable:
        if isinstance(node, ast.And | ast.Or):
            op = sql.SQL(" AND " if isinstance(node, ast.And) else " OR ")
            return sql.SQL("({})").format(op.join([self.condition(node.lhs), self.condition(node.rhs)]))
        if isinstance(node, ast.Not):
            return sql.SQL("(NOT {})").format(self.condition(node.sub_node))
        if isinstance(node, ast.Include):
            return sql.SQL("false" if node.not_ else "true")
        if isinstance(node, ast.Comparison):
            lhs, rhs = self.pair(node.lhs, node.rhs)
            return sql.SQL("({} {} {})").format(lhs, sql.SQL(_COMPARISON[node.op]), rhs)
        if isinstance(node, ast.Between):
            value = self.operand(node.lhs)
            low, high = self.typed(node.low, value.kind), self.typed(node.high, value.kind)
            negate = sql.SQL("NOT " if node.not_ else "")
            return sql.SQL("({} {}BETWEEN {} AND {})").format(value.sql, negate, low.sql, high.sql)
        if isinstance(node, ast.In):
            value = self.operand(node.lhs)
            options = [self.typed(o, value.kind).sql for o in node.sub_nodes]
            negate = sql.SQL("NOT " if node.not_ else "")
            return sql.SQL("({} {}IN ({}))").format(value.sql, negate, sql.SQL(", ").join(options))
        if isinstance(node, ast.Like):
            value = self.operand(node.lhs)
            if value.kind != "string":
                raise self.fail("LIKE needs a text property")
            pattern = self.operand(node.pattern) if isinstance(node.pattern, ast.Function) else None
            pattern_sql = pattern.sql if pattern else self.bind(node.pattern, "string")
            # CQL2 wildcards (% and _, escaped by a backslash) are PostgreSQL's LIKE wildcards.
            op = sql.SQL("NOT LIKE" if node.not_ else "LIKE")
            return sql.SQL("({} {} {} ESCAPE '\\')").format(value.sql, op, pattern_sql)
        if isinstance(node, ast.IsNull):
            value = self.operand(node.lhs)
            return sql.SQL("({} IS {}NULL)").format(value.sql, sql.SQL("NOT " if node.not_ else ""))
        if isinstance(node, ast.SpatialComparisonPredicate):
            lhs, rhs = self.spatial(node.lhs), self.spatial(node.rhs)
            return sql.SQL("{}({}, {})").format(sql.SQL(_SPATIAL[node.op]), lhs, rhs)
        if isinstance(node, ast.BBox):
            lhs = self.spatial(node.lhs)
            return sql.SQL("ST_Intersects({}, {})").format(
                lhs, self.envelope(node.minx, node.miny, node.maxx, node.maxy))
        if isinstance(node, bool):
            return sql.SQL("true" if node else "false")
        raise self.fail(f"{type(node).__name__} is not supported; use comparisons, LIKE, BETWEEN, IN, "
                        "IS NULL, AND/OR/NOT and the S_* spatial predicates")

    # --- operands ---
    def attribute(self, name: str) -> _Value:
        prop = self.properties.get(name)
        if prop is None:
            raise self.fail(f"unknown property {name[:40]!r}; "
                            f"queryables: {', '.join(sorted(self.properties))}")
        return _Value(sql.SQL("t.{}").format(sql.Identifier(prop.source)), prop.type)

    def operand(self, node: Any) -> _Value:
        if isinstance(node, ast.Attribute):
            if node.name in GEOMETRY_NAMES:
                raise self.fail(f"{node.name} can only be used in a spatial predicate")
            return self.attribute(node.name)
        if isinstance(node, ast.Function) and node.name.lower() in _CASE_FOLD and len(node.arguments) == 1:
            inner = self.operand(node.arguments[0])
            if inner.kind not in ("string", None):
                raise self.fail("CASEI needs text")
            arg = inner.sql if not inner.is_literal else self.bind(inner.literal, "string")
            return _Value(sql.SQL("lower({})").format(arg), "string")
        if isinstance(node, ast.Function):
            raise self.fail(f"function {node.name[:40]!r} is not supported; CASEI(...) is")
        if isinstance(node, ast.Node | values.Geometry | values.Envelope):
            raise self.fail(f"{type(node).__name__} is not supported as a value here")
        if isinstance(node, str | int | float | bool | date):
            return _Value(sql.SQL(""), None, node, is_literal=True)
        raise self.fail(f"unsupported value {repr(node)[:40]}")

    def typed(self, node: Any, kind: str | None) -> _Value:
        value = self.operand(node)
        if not value.is_literal:
            if kind is not None and value.kind is not None and not _compatible(kind, value.kind):
                raise self.fail(f"cannot compare {kind} with {value.kind}")
            return value
        if kind is None:
            raise self.fail("a comparison needs at least one property")
        try:
            coerced = coerce_literal(kind, value.literal)
        except ValueError as exc:
            raise self.fail(str(exc)) from None
        return _Value(self.bind(coerced, kind), kind)

    def pair(self, lhs_node: Any, rhs_node: Any) -> tuple[sql.Composable, sql.Composable]:
        lhs = self.operand(lhs_node)
        if lhs.is_literal:
            rhs = self.operand(rhs_node)
            rhs_kind = None if rhs.is_literal else rhs.kind
            return self.typed(lhs_node, rhs.kind).sql, self.typed(rhs_node, rhs_kind).sql
        return lhs.sql, self.typed(rhs_node, lhs.kind).sql

    def spatial(self, node: Any) -> sql.Composable:
        if isinstance(node, ast.Attribute):
            if node.name not in GEOMETRY_NAMES:
                raise self.fail(f"{node.name!r} is not the geometry; use geom")
            return sql.SQL("t.{}").format(sql.Identifier(self.geometry_column))
        if isinstance(node, values.Envelope):
            return self.envelope(node.x1, node.y1, node.x2, node.y2)
        if isinstance(node, values.Geometry):
            try:
                geometry = shapely.geometry.shape(node.geometry)
            except Exception:  # noqa: BLE001 - shapely raises several types for bad coordinates
                raise self.fail("invalid geometry literal") from None
            if geometry.is_empty or not geometry.is_valid:
                raise self.fail("geometry literal is empty or invalid")
            self.check_range(*geometry.bounds)
            geom = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}), {})").format(
                self.bind(json.dumps(shapely.geometry.mapping(geometry)), "string"),
                sql.Literal(self.filter_srid))
            return self.to_storage(geom)
        raise self.fail(f"{type(node).__name__} is not a geometry")

    def check_range(self, minx: float, miny: float, maxx: float, maxy: float) -> None:
        """Degrees in range, so ST_Transform never sees a coordinate it cannot project (a 500)."""
        if self.lat_first:
            minx, miny, maxx, maxy = miny, minx, maxy, maxx
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise self.fail("coordinates must be longitude -180..180 and latitude -90..90 "
                            "(in the axis order of filter-crs)")

    def envelope(self, x1: float, y1: float, x2: float, y2: float) -> sql.Composable:
        coords = [float(x1), float(y1), float(x2), float(y2)]
        self.check_range(*coords)
        env = sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(
            *(self.bind(c, "number") for c in coords), sql.Literal(self.filter_srid))
        return self.to_storage(env)

    def to_storage(self, geom: sql.Composable) -> sql.Composable:
        """A filter geometry in the filter CRS's axis order, to lon/lat EPSG:4326 as stored."""
        if self.lat_first:
            geom = sql.SQL("ST_FlipCoordinates({})").format(geom)
        if self.filter_srid != 4326:
            geom = sql.SQL("ST_Transform({}, 4326)").format(geom)
        return geom


def _compatible(a: str, b: str) -> bool:
    numeric = {"integer", "number"}
    return a == b or (a in numeric and b in numeric)


def check_shape(text: str) -> None:
    """Refuse (400) a filter too long, too deeply nested or with too many AND/OR/NOT, in one linear
    pass over its text, outside its quoted strings and identifiers."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput.one("filter", f"longer than {MAX_FILTER_CHARS} characters")
    bare = _QUOTED.sub("''", text)
    depth = deepest = 0
    for ch in bare:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    if deepest > MAX_NESTING:
        raise InvalidInput.one("filter", f"nested {deepest} parentheses deep; at most {MAX_NESTING}")
    if len(_LOGICAL.findall(bare)) > MAX_LOGICAL:
        raise InvalidInput.one("filter", f"more than {MAX_LOGICAL} AND/OR/NOT; use IN (...) for lists")


def parse(text: str, lang: str = "cql2-text") -> Any:
    """A filter in one of FILTER_LANGS as pygeofilter's AST, its shape checked first; InvalidInput
    says what is wrong."""
    if lang == "cql2-json":
        cql_json.check_shape(text)
        parser, name = cql_json.parse, "CQL2-JSON"
    else:
        check_shape(text)
        parser, name = cql_text.parse, "CQL2-text"
    try:
        return parser(text)
    except ValueError as exc:
        raise InvalidInput.one("filter", f"not valid {name}: {exc}") from None


def to_sql(text: str, properties: Sequence[QueryableProperty], geometry_column: str = "geom",
           filter_srid: int = 4326, lat_first: bool = False, lang: str = "cql2-text") -> Translated:
    """A CQL2 filter as an SQL condition on alias ``t`` with its bound parameters."""
    tree = parse(text, lang)
    translator = _Translator(properties, geometry_column, filter_srid, lat_first)
    # Placeholders are named f0, f1 ...: the items query's own (bbox, limit, eq0 ...) never clash.
    return Translated(translator.condition(tree), translator.params)
