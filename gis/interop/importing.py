"""Loading a layer: validate a file's rows (validate.py), then write them all or nothing.

The load is one transaction: COPY into a temporary ``staging`` table, set-based checks, one
INSERT ... SELECT, then the layer's after-SQL. Everything here takes a LayerSpec; finding a layer by
its name is gis/catalog.py's job.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from gis.crs import BBox, InputCRS
from gis.errors import Problem
from gis.interop import validate
from gis.interop.fieldmap import mapped_frame
from gis.interop.layerspec import LayerSpec
from gis.interop.readers import read_frame
from gis.interop.shown import shown
from gis.interop.validate import column_candidates, refused, validated_rows
from gis.settings import CHINA_BBOX

Progress = Callable[[int, int], None]  # (rows done, rows in all)

COPY_CHUNK = 100_000
TEMP_BUFFERS = "256MB"

_SQL_TYPES = {"text": "text", "int": "bigint", "float": "double precision", "bool": "boolean", "date": "date"}
# A table with a ``position_crs`` column records the system its positions arrived in (facility: migration
# 026), with the names that column allows. CGCS2000 is taken as WGS 84 unchanged (PROJ's transformation
# between them is the identity; they differ by centimetres), so it is recorded as such.
POSITION_CRS: dict[InputCRS, str] = {"EPSG:4326": "EPSG:4326", "EPSG:4490": "EPSG:4326", "gcj02": "GCJ-02"}


@dataclass
class ImportReport:
    """What an import did: rows written and, for households, where they fell (一户一格)."""

    layer: str
    rows: int
    placements: dict[str, int] = field(default_factory=dict)
    outside: list[str] = field(default_factory=list)  # refs of households outside every grid
    border: list[str] = field(default_factory=list)  # refs of households on a grid border

    @property
    def reported(self) -> list[str]:
        return self.outside + self.border

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "rows": self.rows, "placements": self.placements,
                "outside": self.outside, "border": self.border}


def _staging_ddl(spec: LayerSpec, position_crs: str | None = None) -> sql.Composed:
    columns: list[sql.Composable] = [sql.SQL("row_no integer NOT NULL"), sql.SQL("ref text")]
    columns += [sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_SQL_TYPES[f.kind]))
                for f in spec.fields]
    if spec.geometry:
        # The typmod stamps SRID 4326 on the plain WKB the importer sends (cheaper than EWKB).
        columns.append(sql.SQL("geom geometry(Geometry, 4326)"))
    if position_crs is not None:
        # One file, one system: a constant default (no value travels per row), for insert_sql to store.
        columns.append(sql.SQL("position_crs text NOT NULL DEFAULT {}").format(sql.Literal(position_crs)))
    return sql.SQL("CREATE TEMP TABLE staging ({}) ON COMMIT DROP").format(sql.SQL(", ").join(columns))


def _copy_staging(conn: psycopg.Connection, spec: LayerSpec, staged: pd.DataFrame,
                  progress: Progress | None) -> None:
    """COPY the typed rows as CSV (geometry as hex WKB, which PostGIS reads as text input)."""
    names = sql.SQL(", ").join(sql.Identifier(c) for c in staged.columns)
    statement = sql.SQL("COPY staging ({}) FROM STDIN (FORMAT csv)").format(names)
    total = len(staged)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, total, COPY_CHUNK):
            chunk = staged.iloc[start:start + COPY_CHUNK]
            buffer = io.StringIO()
            chunk.to_csv(buffer, header=False, index=False, na_rep="")
            copy.write(buffer.getvalue())
            if progress is not None:
                progress(min(start + COPY_CHUNK, total), total)


def _bulk_settings(conn: psycopg.Connection) -> None:
    """Memory for a large load, for this transaction (work_mem) or this session (temp_buffers).

    ``staging`` is a temporary table: its pages live in temp_buffers (8 MB by default), so a million
    staged rows would be written out and read back. temp_buffers can only be raised before the
    session's first temporary table; after that the attempt fails harmlessly inside a savepoint.
    """
    conn.execute("SET LOCAL work_mem = '256MB'")  # the spatial sort and the placement aggregate
    if conn.execute("SHOW temp_buffers").fetchone() != (TEMP_BUFFERS,):
        try:
            with conn.transaction():
                conn.execute(sql.SQL("SET temp_buffers = {}").format(sql.Literal(TEMP_BUFFERS)))
        except psycopg.errors.InvalidParameterValue:
            pass


def _table_columns(conn: psycopg.Connection, table: str) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
        "AND NOT attisdropped", [table])}


def _position_crs(conn: psycopg.Connection, spec: LayerSpec, frame: pd.DataFrame, crs: str | None,
                  field_map: dict[str, str]) -> str | None:
    """The system the file's positions came in, as the layer's table records it (``position_crs``), or
    None when the table records none. Resolved as validation resolved it, on the frame's header alone."""
    if spec.geometry is None or "position_crs" not in _table_columns(conn, spec.table):
        return None
    _, source = validate.input_crs(frame.iloc[:0], crs, field_map)
    return POSITION_CRS[source]


def _stored_duplicates(conn: psycopg.Connection, spec: LayerSpec) -> list[Problem]:
    """Refs and unique fields already stored in the layer's table."""
    columns = _table_columns(conn, spec.table)
    keys = [name for name in ["ref"] + [f.name for f in spec.fields if f.unique] if name in columns]
    problems: list[Problem] = []
    for name in keys:
        query = sql.SQL(
            "SELECT s.row_no, s.{col}::text FROM staging s JOIN {table} t ON t.{col} = s.{col} "
            "ORDER BY s.row_no").format(col=sql.Identifier(name), table=sql.Identifier(spec.table))
        for row_no, value in conn.execute(query):
            problems.append(Problem(name, f"{shown(value)} is already stored in {spec.table}", row_no))
    return problems


def with_vocabularies(conn: psycopg.Connection, spec: LayerSpec) -> LayerSpec:
    """``spec`` with each table-kept vocabulary as it stands now: its codes as the field's choices, and
    its Chinese names taken as their codes (before the field's own normalising)."""
    if not any(f.vocabulary_sql for f in spec.fields):
        return spec
    fields = []
    for f in spec.fields:
        if f.vocabulary_sql is None:
            fields.append(f)
            continue
        rows = conn.execute(f.vocabulary_sql).fetchall()  # type: ignore[arg-type]
        names = {str(name): str(code) for code, name in rows}

        def normalise(value: str, names: dict[str, str] = names,
                      own: Callable[[str], str] | None = f.normalise) -> str:
            key = value.strip()
            return names.get(key) or (own(key) if own else key)

        fields.append(replace(f, choices=tuple(str(code) for code, _ in rows), normalise=normalise))
    return replace(spec, fields=tuple(fields))


def load_frame(conn: psycopg.Connection, spec: LayerSpec, frame: pd.DataFrame, *,
               crs: str | None = None, field_map: dict[str, str] | None = None,
               columns: dict[str, str] | None = None, dry_run: bool = False,
               region_bbox: BBox = CHINA_BBOX, progress: Progress | None = None) -> ImportReport:
    """Validate ``frame`` as layer ``spec`` and load it in one transaction, all or nothing.

    ``crs``: EPSG:4326, EPSG:4490 or gcj02 (None: as the file declares, else EPSG:4326).
    ``field_map``: field -> column name, e.g. {"ref": "osm_id", "category": "type"}; the fields it
    leaves out are found by their names and aliases.
    ``columns``: the whole mapping instead (the workbench's form): field -> column, and a field left
    out is not imported, whatever the file's header says (fieldmap.mapped_frame).
    ``dry_run``: everything an import does, the database's checks and the insert included, in a
    transaction that is then rolled back: the problems (or the report) of the real import, nothing kept.
    Raises InvalidInput with every problem found (row, field, reason); nothing is written then.
    """
    if columns is not None:
        frame, field_map = mapped_frame(frame, columns), {}
    spec = with_vocabularies(conn, spec)
    typed = validated_rows(spec, frame, crs=crs, field_map=dict(field_map or {}), region_bbox=region_bbox)
    position_crs = _position_crs(conn, spec, frame, crs, dict(field_map or {}))
    report = ImportReport(layer=spec.name, rows=len(typed))
    with conn.transaction() as outer:
        _load(conn, spec, typed, report, progress, position_crs)
        if dry_run:
            raise psycopg.Rollback(outer)
    return report


def _load(conn: psycopg.Connection, spec: LayerSpec, typed: pd.DataFrame, report: ImportReport,
          progress: Progress | None, position_crs: str | None = None) -> None:
    """Stage the typed rows, run the database's checks and insert them (inside the caller's transaction).
    ``position_crs``: staged as a column of that name for a table that records it (see POSITION_CRS)."""
    _bulk_settings(conn)
    conn.execute("DROP TABLE IF EXISTS pg_temp.staging")
    conn.execute(_staging_ddl(spec, position_crs))
    _copy_staging(conn, spec, typed, progress)
    if spec.geometry is not None:
        # Built once, sorted, after the load: lets spatial joins probe the staged rows by area
        # (2,000 grids x a GiST scan each instead of 1M point lookups in the grid index).
        conn.execute("CREATE INDEX staging_geom_idx ON staging USING gist (geom)")
    conn.execute("ANALYZE staging")  # temp tables are never auto-analysed; the joins need counts
    problems = _stored_duplicates(conn, spec)
    if spec.check_sql:
        problems += [Problem(fld, reason, row_no) for row_no, fld, reason in conn.execute(spec.check_sql)]
    if problems:
        raise refused(problems)
    cur = conn.execute(spec.insert_sql)
    if spec.reports_placement:
        for placement, count, refs in cur.fetchall():
            report.placements[placement] = count
            if placement in ("outside", "border"):
                getattr(report, placement).extend(refs or [])
    if spec.after_sql:
        conn.execute(spec.after_sql)
    conn.execute("DROP TABLE staging")


def read_file(spec: LayerSpec, path: str | Path, *, encoding: str | None = None, sheet: str | None = None,
              header_row: str | int | None = None, field_map: dict[str, str] | None = None,
              columns: dict[str, str] | None = None) -> pd.DataFrame:
    """The file as a frame (readers.read_frame), its header row found by the layer's column names and
    the columns a mapping names."""
    names = column_candidates(spec, {**(field_map or {}), **(columns or {})})
    return read_frame(path, encoding=encoding, sheet=sheet, header_row=header_row, header_names=names)


def import_file(conn: psycopg.Connection, spec: LayerSpec, path: str | Path, *,
                encoding: str | None = None, sheet: str | None = None, header_row: str | int | None = None,
                **options: Any) -> ImportReport:
    """read_frame + load_frame: import one file into layer ``spec``.

    ``encoding``, ``sheet`` and ``header_row`` say how to read the file (readers.read_frame); the
    header is otherwise found as the first row naming the layer's columns. The other options are
    load_frame's."""
    frame = read_file(spec, path, encoding=encoding, sheet=sheet, header_row=header_row,
                      field_map=options.get("field_map"), columns=options.get("columns"))
    return load_frame(conn, spec, frame, **options)
