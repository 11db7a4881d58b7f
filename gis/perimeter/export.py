"""The perimeter listings (校园周边违规清单, 无证经营清单) as CSV, GeoJSON, JSON and XLSX.

CSV, GeoJSON and JSON are formatted by PostgreSQL and streamed: CSV through COPY ... TO STDOUT, the
JSON forms one text per row through a server-side cursor, a few thousand rows at a time. A city's
50,000 violations are written as they arrive, and Python never builds a dict per row (which cost
more than the check itself). XLSX is built whole, from the rows.

No cell runs as a formula: text cells are neutralised as gis.spreadsheet does (a leading apostrophe
before = + - @ tab CR), here in SQL, so that the CSV path does not load pandas (gis.spreadsheet does:
half a second of a command's start); tests/perimeter/test_city_scale.py checks that the two agree.

A stream holds a COPY or a cursor open on the connection: whoever stops reading early must close the
iterator (``close()``) before the transaction ends (api/routes/perimeter.py does, for a client that
goes away).
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

FORMATS = ("csv", "json", "geojson", "xlsx")
STREAMED = ("csv", "json", "geojson")
MEDIA_TYPES = {"json": "application/json", "geojson": "application/geo+json",
               "csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # gis.spreadsheet.FORMULA_STARTS
BOM = "\ufeff"
ROWS_PER_FETCH = 5000  # JSON rows per round trip
CHUNK_BYTES = 1 << 16  # CSV: COPY hands over one row at a time; written in blocks of this size
_cursor_names = itertools.count()


@dataclass(frozen=True)
class Column:
    """A CSV/XLSX column: the query's column, its header, and ``decimals`` for a number."""

    name: str
    header: str
    decimals: int | None = None


@dataclass(frozen=True)
class Listing:
    """A query's rows (each with ``lon``, ``lat`` and an id column) and how each format shows them.

    ``order`` repeats the query's own ORDER BY (output column names) around it: the order holds, and
    PostgreSQL sees the rows already sorted. In JSON, ``meta`` comes first, then the rows under
    ``key`` (every column of the query), then ``count``."""

    query: sql.Composed
    params: dict[str, Any]
    order: tuple[str, ...]
    columns: tuple[Column, ...]  # CSV, and the first columns of the XLSX sheet
    properties: tuple[str, ...]  # GeoJSON
    id_column: str
    key: str
    meta: dict[str, Any] = field(default_factory=dict)
    bom: bool = True  # CSV: a UTF-8 BOM, so that Excel on Chinese Windows reads the text right
    sheet: str = "sheet"
    xlsx_extra: tuple[Column, ...] = ()


def _column(name: str) -> sql.Composable:
    return sql.SQL("v.{}").format(sql.Identifier(name))


def _cell(column: Column) -> sql.Composable:
    """A CSV cell's value: a number rounded, or a text with an apostrophe before a formula start."""
    value = _column(column.name)
    if column.decimals is not None:
        return sql.SQL("round({}::numeric, {})").format(value, sql.Literal(column.decimals))
    starts = sql.SQL(", ").join(sql.Literal(ord(s)) for s in FORMULA_STARTS)
    return sql.SQL("CASE WHEN ascii({v}::text) IN ({starts}) THEN '''' || {v}::text ELSE {v}::text END"
                   ).format(v=value, starts=starts)


def _wrapped(listing: Listing, select: sql.Composable) -> sql.Composed:
    order = sql.SQL(", ").join(_column(c) for c in listing.order)
    return sql.SQL("SELECT {select} FROM ({query}) v ORDER BY {order}").format(
        select=select, query=listing.query, order=order)


class Stream:
    """A listing in a streamed format (csv, json or geojson) as chunks of bytes; iterate once.

    The first chunk comes once the query has produced its first rows (a sorted listing: once it has
    run), so a caller that takes it before answering still turns a failing query into an error
    response. ``count`` is the number of rows once the iteration is over. ``close()`` ends a COPY or
    cursor still open: a reader that stops early must call it before the transaction ends."""

    def __init__(self, conn: psycopg.Connection, listing: Listing, fmt: str) -> None:
        if fmt not in STREAMED:
            raise ValueError(f"not a streamed format: {fmt}")
        self.conn, self.listing, self.fmt = conn, listing, fmt
        self.count = 0
        self._chunks = self._csv() if fmt == "csv" else self._json(geojson=fmt == "geojson")

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        self._chunks.close()

    def _csv(self) -> Generator[bytes, None, None]:
        """The header (constant names, nothing to quote), then the rows as PostgreSQL's COPY quotes
        them (RFC 4180: a field with a comma, quote or line break in quotes; NULL empty)."""
        listing = self.listing
        block = bytearray(((BOM if listing.bom else "") + ",".join(c.header for c in listing.columns)
                           + "\n").encode())
        cells = sql.SQL(", ").join(_cell(c) for c in listing.columns)
        query = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(_wrapped(listing, cells))
        with self.conn.cursor() as cur:
            with cur.copy(query, listing.params) as copy:
                try:
                    for row in copy:  # COPY hands over one row at a time
                        block += row
                        if len(block) >= CHUNK_BYTES:
                            yield bytes(block)
                            block.clear()
                except GeneratorExit:
                    # Closed early: read the rest and drop it. psycopg would cancel the COPY, which
                    # aborts the transaction (and whatever else it was to commit); the rows are all
                    # computed by now (the listing is sorted), so the rest is only their transfer.
                    for _ in copy:
                        pass
                    raise
            self.count = max(cur.rowcount, 0)
        yield bytes(block)

    def _json(self, geojson: bool) -> Generator[bytes, None, None]:
        """GeoJSON: a FeatureCollection of points. JSON: an object with ``meta``, the rows under
        ``key`` (every column), then ``count``. One row per line, made by PostgreSQL, read through a
        server-side cursor a batch per round trip."""
        listing = self.listing
        if geojson:
            head, item = '{"type": "FeatureCollection", "features": [', _feature(listing)
        else:
            meta = "".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False, default=str)}, "
                           for k, v in listing.meta.items())
            head, item = "{" + meta + json.dumps(listing.key) + ": [", sql.SQL("row_to_json(v)::text")
        separator = head + "\n"
        with self.conn.cursor(name=f"gridmap_listing_{next(_cursor_names)}") as cur:
            cur.execute(_wrapped(listing, item), listing.params)
            while batch := cur.fetchmany(ROWS_PER_FETCH):
                self.count += len(batch)
                yield (separator + ",\n".join(row[0] for row in batch)).encode()
                separator = ",\n"
        tail = "\n]}\n" if geojson else f'\n], "count": {self.count}}}\n'
        yield ((head if self.count == 0 else "") + tail).encode()


def _feature(listing: Listing) -> sql.Composable:
    props = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(p), _column(p))
                               for p in listing.properties)
    return sql.SQL("json_build_object('type', 'Feature', 'id', {id}, 'geometry', json_build_object("
                   "'type', 'Point', 'coordinates', json_build_array(v.lon, v.lat)),"
                   " 'properties', json_build_object({props}))::text").format(
        id=_column(listing.id_column), props=props)


def rows(conn: psycopg.Connection, listing: Listing) -> list[dict[str, Any]]:
    """The rows as dicts (XLSX, maps, the violation record)."""
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        return cur.execute(listing.query, listing.params).fetchall()


def sorted_page(conn: psycopg.Connection, listing: Listing, order: Sequence[str], descending: bool = False,
                limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """One page of the rows sorted by the output columns ``order`` (NULLs last either way; the listing's
    own order breaks ties), and how many rows there are in all: a page of a listing on a screen."""
    direction = sql.SQL("DESC NULLS LAST" if descending else "ASC NULLS LAST")
    keys: list[sql.Composable] = [sql.SQL("{} {}").format(_column(c), direction) for c in order]
    keys += [_column(c) for c in listing.order if c not in order]
    query = sql.SQL("SELECT v.*, count(*) OVER () AS total_rows FROM ({query}) v ORDER BY {keys}"
                    " LIMIT %(page_limit)s OFFSET %(page_offset)s").format(
        query=listing.query, keys=sql.SQL(", ").join(keys))
    with conn.cursor(row_factory=dict_row, binary=True) as cur:
        found = cur.execute(query, {**listing.params, "page_limit": limit, "page_offset": offset}).fetchall()
    if not found and offset > 0:  # past the end: the total still counts
        total = conn.execute(sql.SQL("SELECT count(*) FROM ({}) v").format(listing.query),
                             listing.params).fetchone()
        return (int(total[0]) if total else 0), []
    total_rows = int(found[0]["total_rows"]) if found else 0
    for row in found:
        del row["total_rows"]
    return total_rows, found


def xlsx_bytes(rows: Sequence[dict[str, Any]], listing: Listing) -> bytes:
    """One sheet: the CSV columns then ``xlsx_extra``, the header row frozen, text stored as text."""
    from openpyxl import Workbook

    from gis.spreadsheet import append_row

    columns = (*listing.columns, *listing.xlsx_extra)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = listing.sheet[:31]
    append_row(sheet, [c.header for c in columns])
    for r in rows:
        append_row(sheet, [r[c.name] for c in columns])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
