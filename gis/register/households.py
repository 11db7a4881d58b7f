"""The register (一册): households (户) and persons (人员) — create, read, list with filters, update, delete.

ID numbers and phones leave this module masked unless the caller asks for ``unmasked``. Updates
are optimistic: one ``UPDATE ... WHERE id = ... AND version = ...`` that bumps the version, so two
editors can never overwrite each other silently.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.codes import birth_date_and_sex, id_number_problem, mask_id_number, mask_phone
from gis.crs import BBox, normalise_crs_name, to_wgs84
from gis.errors import Conflict, InvalidInput, NotFound, Problem, text_problems

MAX_LIMIT = 1000
HOUSEHOLD_TEXT = ("ref", "address", "building", "unit", "room")
PERSON_COLUMNS = ("household_id", "ref", "name", "id_number", "phone", "sex", "birth_date", "relation",
                  "residence", "employment", "poverty", "elderly_alone", "disabled", "activist", "volunteer")
PERSON_FLAGS = ("elderly_alone", "disabled", "activist", "volunteer")

# Which input field a constraint of the schema speaks about, for 422 bodies that name the field.
_CONSTRAINT_FIELD = {
    "person_household_id_fkey": "household_id",
    "person_poverty_fkey": "poverty",
    "key_person_category_fkey": "key_person",
    "person_birth_date_matches_id_number": "birth_date",
    "person_sex_matches_id_number": "sex",
    "person_id_number_check": "id_number",
    "person_phone_check": "phone",
    "person_sex_check": "sex",
    "person_relation_check": "relation",
    "person_residence_check": "residence",
    "person_employment_check": "employment",
    "person_name_check": "name",
    "household_address_check": "address",
}


def _rejected(exc: psycopg.Error) -> Exception:
    """A domain error for a constraint the database refused (the caller's fault, never a 500)."""
    name = exc.diag.constraint_name or ""
    if isinstance(exc, psycopg.errors.UniqueViolation):
        what = "ID number" if "id_number" in name else "ref"
        return Conflict(f"another record has the same {what}")
    field = _CONSTRAINT_FIELD.get(name) or exc.diag.column_name or name or "body"
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        return InvalidInput.one(field, "refers to something that does not exist")
    if field == "birth_date":
        return InvalidInput.one(field, "does not match the birth date in the ID number")
    if field == "sex":
        return InvalidInput.one(field, "does not match the sex encoded in the ID number (17th digit)")
    return InvalidInput.one(field, exc.diag.message_primary or "rejected")


def _page(limit: int, offset: int) -> None:
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(Problem("limit", f"must be between 1 and {MAX_LIMIT}"))
    if not 0 <= offset <= 2**62:
        problems.append(Problem("offset", "must be 0 or more"))
    if problems:
        raise InvalidInput(problems)


def _like(q: str) -> str:
    """A substring pattern for ILIKE with the user's % and _ taken literally."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# --- locations ---------------------------------------------------------------------------------

def locate(lon: Any, lat: Any, crs: str | None, bbox: BBox, row: int | None = None) -> tuple[float, float]:
    """Check a lon/lat pair in an input CRS and return it in EPSG:4326.

    A point outside the region is refused; when swapping the two numbers would put it inside,
    the reason says so, because swapped columns are the most common mistake in address lists.
    """
    try:
        name = normalise_crs_name(crs)
    except ValueError as exc:
        raise InvalidInput.one("crs", str(exc), row) from None
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput.one("lon", "lon and lat must be numbers", row) from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInput.one("lon", "lon and lat must be finite numbers", row)

    def inside(a: float, b: float) -> bool:
        return bbox[0] <= a <= bbox[2] and bbox[1] <= b <= bbox[3]

    if not inside(x, y):
        hint = "; lat/lon look swapped" if inside(y, x) else ""
        raise InvalidInput.one("lon", f"({x}, {y}) is outside the region {tuple(bbox)}{hint}", row)
    wx, wy = to_wgs84(np.array([x]), np.array([y]), name)
    return float(wx[0]), float(wy[0])


# --- households ---------------------------------------------------------------------------------

_HOUSEHOLD_SELECT = """
    SELECT h.id, h.ref, h.address, h.building, h.unit, h.room, h.grid_code, g.community_code,
           h.placement::text AS placement, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
           h.version, h.updated_at,
           (SELECT count(*) FROM person p WHERE p.household_id = h.id) AS members
    FROM household h LEFT JOIN grid g ON g.code = h.grid_code
"""


def insert_households(conn: psycopg.Connection, households: list[dict], bbox: BBox) -> list[int]:
    """Insert households in one statement, each assigned to its grid by grid_for_point.

    Every row is checked first and all problems are reported together (row = 1-based index).
    """
    problems: list[Problem] = []
    cols: dict[str, list] = {k: [] for k in (*HOUSEHOLD_TEXT, "lon", "lat")}
    for i, h in enumerate(households, start=1):
        row = i if len(households) > 1 else None
        if not str(h.get("address") or "").strip():
            problems.append(Problem("address", "must not be blank", row))
        problems.extend(text_problems(h, row))
        try:
            lon, lat = locate(h.get("lon"), h.get("lat"), h.get("crs"), bbox, row)
        except InvalidInput as exc:
            problems.extend(exc.problems)
            continue
        for k in HOUSEHOLD_TEXT:
            cols[k].append(h.get(k))
        cols["lon"].append(lon)
        cols["lat"].append(lat)
    if problems:
        raise InvalidInput(problems)
    try:
        with conn.transaction():
            rows = conn.execute(
                """
                INSERT INTO household (ref, address, building, unit, room, geom, grid_code, placement)
                SELECT v.ref, btrim(v.address), v.building, v.unit, v.room, v.geom, p.grid_code, p.placement
                FROM (SELECT ref, address, building, unit, room, ord,
                             ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom
                      FROM unnest(%(ref)s::text[], %(address)s::text[], %(building)s::text[],
                                  %(unit)s::text[], %(room)s::text[], %(lon)s::float8[], %(lat)s::float8[])
                           WITH ORDINALITY AS u(ref, address, building, unit, room, lon, lat, ord)) v
                CROSS JOIN LATERAL grid_for_point(v.geom) p
                ORDER BY v.ord
                RETURNING id
                """, cols).fetchall()
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise _rejected(exc) from None
    return [r[0] for r in rows]


def get_household(conn: psycopg.Connection, household_id: int, unmasked: bool = False) -> dict:
    """A household with its members."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_HOUSEHOLD_SELECT + " WHERE h.id = %s", [household_id]).fetchone()
    if row is None:
        raise NotFound("household", household_id)
    row["persons"] = list_persons(conn, household=household_id, limit=MAX_LIMIT, unmasked=unmasked)["items"]
    return row


def _household_filters(grid: str | None, community: str | None, placement: str | None,
                       poverty: str | None, q: str | None) -> tuple[sql.Composable, dict]:
    conds: list[sql.Composable] = [sql.SQL("TRUE")]
    params: dict[str, Any] = {}
    if grid is not None:
        conds.append(sql.SQL("h.grid_code = %(grid)s"))
        params["grid"] = grid
    if community is not None:
        conds.append(sql.SQL("g.community_code = %(community)s"))
        params["community"] = community
    if placement is not None:
        if placement not in ("inside", "border", "outside"):
            raise InvalidInput.one("placement", "must be inside, border or outside")
        conds.append(sql.SQL("h.placement = %(placement)s::grid_placement"))
        params["placement"] = placement
    if poverty is not None:
        # A poverty household (困难户) is one with at least one member holding the status.
        if poverty == "any":
            conds.append(sql.SQL(
                "EXISTS (SELECT 1 FROM person p WHERE p.household_id = h.id AND p.poverty IS NOT NULL)"))
        else:
            conds.append(sql.SQL(
                "EXISTS (SELECT 1 FROM person p WHERE p.household_id = h.id AND p.poverty = %(poverty)s)"))
            params["poverty"] = poverty
    if q:
        conds.append(sql.SQL("(h.address ILIKE %(q)s OR h.ref ILIKE %(q)s)"))
        params["q"] = _like(q)
    return sql.SQL(" AND ").join(conds), params


def list_households(conn: psycopg.Connection, grid: str | None = None, community: str | None = None,
                    placement: str | None = None, poverty: str | None = None, q: str | None = None,
                    limit: int = 100, offset: int = 0) -> dict:
    """{"total": n, "items": [...]} — total counts every match, items is one page ordered by id."""
    _page(limit, offset)
    if problems := text_problems({"grid": grid, "community": community, "poverty": poverty, "q": q}):
        raise InvalidInput(problems)
    where, params = _household_filters(grid, community, placement, poverty, q)
    base = sql.SQL("FROM household h LEFT JOIN grid g ON g.code = h.grid_code WHERE {}").format(where)
    total = conn.execute(sql.SQL("SELECT count(*) ") + base, params).fetchone()
    with conn.cursor(row_factory=dict_row) as cur:
        items = cur.execute(
            sql.SQL(_HOUSEHOLD_SELECT) + sql.SQL(" WHERE {} ORDER BY h.id LIMIT %(limit)s OFFSET %(offset)s")
            .format(where), {**params, "limit": limit, "offset": offset}).fetchall()
    return {"total": total[0] if total else 0, "items": items}


def _stale_or_missing(conn: psycopg.Connection, table: str, key: int, version: int) -> Exception:
    """Why an optimistic UPDATE/DELETE matched no row: the row is gone, or someone changed it first."""
    row = conn.execute(sql.SQL("SELECT version FROM {} WHERE id = %s").format(sql.Identifier(table)),
                       [key]).fetchone()
    if row is None:
        return NotFound(table, key)
    return Conflict(f"{table} {key} was changed meanwhile: it is at version {row[0]}, "
                    f"the update was based on version {version}; reload and retry")


def update_household(conn: psycopg.Connection, household_id: int, version: int, changes: dict,
                     bbox: BBox) -> dict:
    """Apply ``changes`` (any of ref, address, building, unit, room, and lon+lat[+crs]) if the row is
    still at ``version``; a new location re-assigns the household's grid in the same statement."""
    if problems := text_problems(changes):
        raise InvalidInput(problems)
    sets: list[sql.Composable] = []
    params: dict[str, Any] = {"id": household_id, "version": version}
    for key in HOUSEHOLD_TEXT:
        if key in changes:
            if key == "address" and not str(changes[key] or "").strip():
                raise InvalidInput.one("address", "must not be blank")
            sets.append(sql.SQL("{} = %({})s").format(sql.Identifier(key), sql.SQL(key)))
            params[key] = changes[key]
    if "lon" in changes or "lat" in changes:
        if changes.get("lon") is None or changes.get("lat") is None:
            raise InvalidInput.one("lon", "a new location needs both lon and lat")
        params["lon"], params["lat"] = locate(changes["lon"], changes["lat"], changes.get("crs"), bbox)
        sets.append(sql.SQL("geom = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"))
        sets.append(sql.SQL("(grid_code, placement) = (SELECT p.grid_code, p.placement FROM grid_for_point("
                            "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) p)"))
    sets += [sql.SQL("version = version + 1"), sql.SQL("updated_at = now()")]
    try:
        with conn.transaction():
            row = conn.execute(sql.SQL("UPDATE household SET {} WHERE id = %(id)s AND version = %(version)s "
                                       "RETURNING id").format(sql.SQL(", ").join(sets)), params).fetchone()
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise _rejected(exc) from None
    if row is None:
        raise _stale_or_missing(conn, "household", household_id, version)
    return get_household(conn, household_id)


def delete_household(conn: psycopg.Connection, household_id: int, version: int | None = None) -> None:
    """Delete a household and its members (at ``version`` if given)."""
    row = conn.execute("DELETE FROM household WHERE id = %(id)s AND (%(v)s::int IS NULL OR version = %(v)s) "
                       "RETURNING id", {"id": household_id, "v": version}).fetchone()
    if row is None:
        raise _stale_or_missing(conn, "household", household_id, version or 0)


# --- persons ---------------------------------------------------------------------------------------

_PERSON_SELECT = """
    SELECT p.id, p.household_id, p.ref, p.name, p.id_number, p.phone, p.sex, p.birth_date, p.relation,
           p.residence, p.employment, p.poverty, k.category AS key_person, p.elderly_alone, p.disabled,
           p.activist, p.volunteer, h.grid_code, g.community_code, p.version, p.updated_at
    FROM person p
    JOIN household h ON h.id = p.household_id
    LEFT JOIN grid g ON g.code = h.grid_code
    LEFT JOIN key_person k ON k.person_id = p.id
"""


def _mask(row: dict, unmasked: bool) -> dict:
    if not unmasked:
        row["id_number"] = mask_id_number(row["id_number"])
        row["phone"] = mask_phone(row["phone"])
    return row


def normalise_person(fields: dict, partial: bool) -> dict:
    """Check a person's fields; upper-case the ID number and derive birth date and sex from it.

    With ``partial`` (PATCH) only the given fields are checked and returned.
    """
    out = dict(fields)
    problems: list[Problem] = text_problems(out)
    if problems:
        raise InvalidInput(problems)
    if "name" in out or not partial:
        out["name"] = str(out.get("name") or "").strip()
        if not out["name"]:
            problems.append(Problem("name", "must not be blank"))
    id_number = out.get("id_number")
    if id_number is not None:
        id_number = out["id_number"] = str(id_number).strip().upper()
        if (reason := id_number_problem(id_number)) is not None:
            problems.append(Problem("id_number", reason))
        else:
            born, sex = birth_date_and_sex(id_number)
            if out.get("birth_date") is None:
                out["birth_date"] = born
            elif out["birth_date"] != born:
                problems.append(Problem("birth_date", f"{out['birth_date']} does not match the ID number "
                                                      f"(born {born.isoformat()})"))
            if out.get("sex") is None:
                out["sex"] = sex
            elif out["sex"] != sex:
                problems.append(Problem("sex", f"{out['sex']} does not match the ID number ({sex})"))
    if isinstance(out.get("birth_date"), date) and out["birth_date"] > date.today():
        problems.append(Problem("birth_date", "is in the future"))
    if out.get("phone") is not None:
        out["phone"] = str(out["phone"]).strip().replace(" ", "")
    if problems:
        raise InvalidInput(problems)
    return out


def create_person(conn: psycopg.Connection, fields: dict) -> dict:
    """Insert a person (and their key-person category, 重点人员, in its own table) in one statement."""
    person = normalise_person(fields, partial=False)
    params = {c: person.get(c) for c in PERSON_COLUMNS}
    for flag in PERSON_FLAGS:
        params[flag] = bool(params[flag])
    params["relation"] = params["relation"] or "other"
    params["residence"] = params["residence"] or "registered"
    params["key_person"] = person.get("key_person")
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in PERSON_COLUMNS)
    values = sql.SQL(", ").join(sql.Placeholder(c) for c in PERSON_COLUMNS)
    try:
        with conn.transaction():
            row = conn.execute(sql.SQL(
                """
                WITH p AS (INSERT INTO person ({columns}) VALUES ({values}) RETURNING id),
                     k AS (INSERT INTO key_person (person_id, category)
                           SELECT id, %(key_person)s FROM p WHERE %(key_person)s::text IS NOT NULL)
                SELECT id FROM p
                """).format(columns=columns, values=values), params).fetchone()
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise _rejected(exc) from None
    assert row is not None
    return get_person(conn, row[0])


def get_person(conn: psycopg.Connection, person_id: int, unmasked: bool = False) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_PERSON_SELECT + " WHERE p.id = %s", [person_id]).fetchone()
    if row is None:
        raise NotFound("person", person_id)
    return _mask(row, unmasked)


def person_filters(grid: str | None = None, community: str | None = None, household: int | None = None,
                   residence: str | None = None, key_person: str | None = None, poverty: str | None = None,
                   employment: str | None = None, elderly_alone: bool | None = None,
                   disabled: bool | None = None, activist: bool | None = None, volunteer: bool | None = None,
                   q: str | None = None) -> tuple[sql.Composable, dict]:
    """The WHERE clause of a persons list. "any" for key_person/poverty means any category;
    "unknown" for employment means not recorded. Everything is a bound parameter."""
    conds: list[sql.Composable] = [sql.SQL("TRUE")]
    params: dict[str, Any] = {}

    def equal(column: str, name: str, value: Any) -> None:
        conds.append(sql.SQL("{} = {}").format(sql.SQL(column), sql.Placeholder(name)))
        params[name] = value

    if grid is not None:
        equal("h.grid_code", "grid", grid)
    if community is not None:
        equal("g.community_code", "community", community)
    if household is not None:
        equal("p.household_id", "household", household)
    if residence is not None:
        equal("p.residence", "residence", residence)
    if key_person == "any":
        conds.append(sql.SQL("k.category IS NOT NULL"))
    elif key_person is not None:
        equal("k.category", "key_person", key_person)
    if poverty == "any":
        conds.append(sql.SQL("p.poverty IS NOT NULL"))
    elif poverty is not None:
        equal("p.poverty", "poverty", poverty)
    if employment == "unknown":
        conds.append(sql.SQL("p.employment IS NULL"))
    elif employment is not None:
        equal("p.employment", "employment", employment)
    for flag, value in (("elderly_alone", elderly_alone), ("disabled", disabled),
                        ("activist", activist), ("volunteer", volunteer)):
        if value is not None:
            equal(f"p.{flag}", flag, value)
    if q:
        conds.append(sql.SQL("p.name ILIKE %(q)s"))
        params["q"] = _like(q)
    return sql.SQL(" AND ").join(conds), params


def list_persons(conn: psycopg.Connection, limit: int = 100, offset: int = 0, unmasked: bool = False,
                 **filters: Any) -> dict:
    """{"total": n, "items": [...]} of persons matching ``filters`` (see person_filters)."""
    _page(limit, offset)
    if problems := text_problems(filters):
        raise InvalidInput(problems)
    where, params = person_filters(**filters)
    total = conn.execute(sql.SQL(
        "SELECT count(*) FROM person p JOIN household h ON h.id = p.household_id "
        "LEFT JOIN grid g ON g.code = h.grid_code LEFT JOIN key_person k ON k.person_id = p.id "
        "WHERE {}").format(where), params).fetchone()
    with conn.cursor(row_factory=dict_row) as cur:
        items = cur.execute(
            sql.SQL(_PERSON_SELECT) + sql.SQL(" WHERE {} ORDER BY p.id LIMIT %(limit)s OFFSET %(offset)s")
            .format(where), {**params, "limit": limit, "offset": offset}).fetchall()
    return {"total": total[0] if total else 0, "items": [_mask(r, unmasked) for r in items]}


def update_person(conn: psycopg.Connection, person_id: int, version: int, changes: dict,
                  partial: bool = True) -> dict:
    """Apply ``changes`` if the person is still at ``version``, bumping it; key_person (a category or
    None) is written to its own table in the same statement."""
    person = normalise_person(changes, partial=partial)
    sets: list[sql.Composable] = []
    params: dict[str, Any] = {"id": person_id, "version": version}
    for column in PERSON_COLUMNS:
        if column in person:
            value = person[column]
            if column in PERSON_FLAGS:
                value = bool(value)
            elif column in ("relation", "residence") and value is None:
                value = "other" if column == "relation" else "registered"
            sets.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
            params[column] = value
    sets += [sql.SQL("version = version + 1"), sql.SQL("updated_at = now()")]
    key_sql: sql.Composable = sql.SQL("")
    if "key_person" in person:
        params["key_person"] = person["key_person"]
        key_sql = sql.SQL(
            """, k AS (INSERT INTO key_person (person_id, category)
                       SELECT id, %(key_person)s FROM u WHERE %(key_person)s::text IS NOT NULL
                       ON CONFLICT (person_id) DO UPDATE SET category = EXCLUDED.category),
                 d AS (DELETE FROM key_person WHERE person_id IN (SELECT id FROM u)
                       AND %(key_person)s::text IS NULL)""")
    try:
        with conn.transaction():
            statement = sql.SQL(
                "WITH u AS (UPDATE person SET {sets} WHERE id = %(id)s AND version = %(version)s"
                " RETURNING id){key_sql} SELECT id FROM u"
            ).format(sets=sql.SQL(", ").join(sets), key_sql=key_sql)
            row = conn.execute(statement, params).fetchone()
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        raise _rejected(exc) from None
    if row is None:
        raise _stale_or_missing(conn, "person", person_id, version)
    return get_person(conn, person_id)


def delete_person(conn: psycopg.Connection, person_id: int, version: int | None = None) -> None:
    row = conn.execute("DELETE FROM person WHERE id = %(id)s AND (%(v)s::int IS NULL OR version = %(v)s) "
                       "RETURNING id", {"id": person_id, "v": version}).fetchone()
    if row is None:
        raise _stale_or_missing(conn, "person", person_id, version or 0)
