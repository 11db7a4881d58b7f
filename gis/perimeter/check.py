"""The school-perimeter check (校园周边200米): places that break a rule, with the nearest school."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.areas import Area, by_geometry
from gis.errors import InvalidInput, NotFound, Problem
from gis.local_tm import local_tm_srid
from gis.perimeter.export import Column, Listing, rows
from gis.sql_files import sql_text

CHECK_SQL = sql.SQL(sql_text("gis.perimeter", "check")).format(
    place_in_area=sql.SQL(by_geometry("p.geom")))
# The check narrowed to a category, a rule and a licence state (each NULL: any), still nearest first.
# Only used when a narrowing is asked for: the plain check stays the statement the benchmark measures.
NARROWED_SQL = sql.SQL("""SELECT * FROM ({check}) c
    WHERE (%(category)s::text IS NULL OR c.category = %(category)s::text)
      AND (%(rule)s::bigint IS NULL OR c.rule_id = %(rule)s::bigint)
      AND (%(licence_state)s::text IS NULL OR c.licence_state = %(licence_state)s::text)
    ORDER BY distance_m, place_id""").format(check=CHECK_SQL)
LICENCE_STATES = ("missing", "expired", "not_displayed", "valid")
# CSV and XLSX (also the CLI's): Chinese headers and words, for Excel on a Chinese PC; the JSON and
# GeoJSON keep the query's field names and codes. The codes follow in the XLSX, for a later filter.
COLUMNS = (
    Column("place_ref", "场所编号"), Column("place_name", "场所名称"), Column("category_name", "类别"),
    Column("address", "地址"), Column("school_ref", "学校编号"), Column("school_name", "学校名称"),
    Column("rule_name", "违反规则"), Column("distance_m", "距离（米）", 2),
    Column("licence_state_name", "证照状态"), Column("lon", "经度", 7), Column("lat", "纬度", 7),
)
XLSX_EXTRA = (Column("category", "类别代码"), Column("rule_id", "规则编号"), Column("kind", "规则类型代码"),
              Column("method", "量法代码"), Column("licence_state", "证照状态代码"),
              Column("rule", "规则（英文）"))
PROPERTIES = ("place_id", "place_ref", "place_name", "category", "category_name", "address", "school_id",
              "school_ref", "school_name", "school_level", "rule_id", "rule", "rule_name", "kind", "method",
              "distance_m", "licence_state", "licence_state_name")


@dataclass(frozen=True)
class Scope:
    """Which violations to list: all (the district), a community, a grid or one school (ref or id);
    and among them, optionally, one place category, one rule (its id) and one licence state."""

    community: str | None = None
    grid: str | None = None
    school: str | None = None
    place_id: int | None = None  # one place only: the re-check after an inspection
    category: str | None = None
    rule_id: int | None = None
    licence_state: str | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.community, self.grid, self.school)) > 1:
            raise InvalidInput.one("scope", "give at most one of community, grid, school")
        if self.licence_state is not None and self.licence_state not in LICENCE_STATES:
            raise InvalidInput.one("licence_state", f"one of {', '.join(LICENCE_STATES)}")

    @property
    def narrowed(self) -> bool:
        return any(x is not None for x in (self.category, self.rule_id, self.licence_state))


def _check_narrowing(conn: psycopg.Connection, scope: Scope) -> None:
    """An unknown category or rule is a mistake (a 422 naming the field), not an empty listing."""
    problems = []
    if scope.category is not None and conn.execute(
            "SELECT 1 FROM place_category WHERE code = %s", [scope.category]).fetchone() is None:
        problems.append(Problem("category", f"unknown place category: {scope.category}"))
    if scope.rule_id is not None and conn.execute(
            "SELECT 1 FROM perimeter_rule WHERE id = %s", [scope.rule_id]).fetchone() is None:
        problems.append(Problem("rule", f"no perimeter rule {scope.rule_id} (GET /perimeter/rules)"))
    if problems:
        raise InvalidInput(problems)


def resolve_school(conn: psycopg.Connection, key: str) -> int:
    """A school's id from its ref (the id in the imported file) or, failing that, its numeric id."""
    row = conn.execute("SELECT id FROM school WHERE ref = %s", [key]).fetchone()
    if row is None and key.isdigit():
        row = conn.execute("SELECT id FROM school WHERE id = %s", [int(key)]).fetchone()
    if row is None:
        raise NotFound("school", key)
    return int(row[0])


def check_centre(conn: psycopg.Connection, scope: Scope, school_id: int | None) -> tuple[float, float]:
    """Centre of the data being checked, for the local TM (any point near it will do)."""
    if scope.community or scope.grid:
        table, code = ("community", scope.community) if scope.community else ("grid", scope.grid)
        query = sql.SQL("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM {} WHERE code = %s) x")
        row = conn.execute(query.format(sql.Identifier(table)), [code]).fetchone()
        if row is None:
            raise NotFound(table, code)
    else:
        row = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) c FROM school"
            " WHERE %(id)s::bigint IS NULL OR id = %(id)s::bigint) x", {"id": school_id}).fetchone()
    if row is None or row[0] is None:
        return (0.0, 0.0)  # no schools: nothing to measure, any SRID does
    return float(row[0]), float(row[1])


def violation_listing(conn: psycopg.Connection, day: date | None = None,
                      scope: Scope | None = None) -> Listing:
    """The check for ``day`` (default today) in ``scope``, ready to run: resolves the school and the
    area first, so that an unknown one is a NotFound before any output starts."""
    scope = scope or Scope()
    day = day or date.today()
    _check_narrowing(conn, scope)
    school_id = resolve_school(conn, scope.school) if scope.school else None
    srid = local_tm_srid(conn, *check_centre(conn, scope, school_id))
    params = {"day": day, "srid": srid, "school": school_id, "place": scope.place_id,
              "category": scope.category, "rule": scope.rule_id, "licence_state": scope.licence_state,
              **Area(scope.community, scope.grid).params()}
    return Listing(NARROWED_SQL if scope.narrowed else CHECK_SQL, params, ("distance_m", "place_id"),
                   COLUMNS, PROPERTIES, "place_id", "violations", {"date": day.isoformat()}, bom=True,
                   sheet="校园周边违规 violations", xlsx_extra=XLSX_EXTRA)


def perimeter_violations(conn: psycopg.Connection, day: date | None = None,
                         scope: Scope | None = None) -> list[dict[str, Any]]:
    """Every place breaking a rule on ``day`` (default today) in ``scope``, nearest first.

    One set-based statement (gis/perimeter/check.sql); rows are dicts with the place, the school,
    the rule and its label (``rule``), ``distance_m`` (ellipsoid, metres, 0 inside a campus),
    ``licence_state``, ``lon`` and ``lat``.
    """
    return rows(conn, violation_listing(conn, day, scope))


def check_choices(conn: psycopg.Connection) -> dict[str, list[dict[str, Any]]]:
    """What a check can be narrowed to, for a filter form: the communities, the schools some rule
    protects, the categories and the rules (each in code order)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return {
            "communities": cur.execute("SELECT code, name FROM community ORDER BY code").fetchall(),
            "schools": cur.execute(
                "SELECT s.id, s.ref, s.name, s.level FROM school s WHERE EXISTS (SELECT 1 FROM"
                " perimeter_rule r WHERE s.level = ANY (r.school_levels)) ORDER BY s.name, s.id").fetchall(),
            "categories": cur.execute(
                "SELECT c.code, c.name_zh, c.name_en FROM place_category c WHERE EXISTS (SELECT 1 FROM"
                " perimeter_rule r WHERE r.category = c.code) ORDER BY c.code").fetchall(),
            "rules": cur.execute(
                "SELECT r.id, r.region, r.category, c.name_zh AS category_name,"
                " c.name_en AS category_name_en, r.distance_m, r.kind, r.method FROM perimeter_rule r"
                " JOIN place_category c ON c.code = r.category ORDER BY r.category, r.region, r.id"
            ).fetchall(),
        }
