"""Checks of the data: check division (全覆盖、无缝隙、不交叉) and check perimeter (校园周边200米)."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.base import console, database, fail

if TYPE_CHECKING:
    import psycopg

    from gis.perimeter.export import Listing

app = typer.Typer(help="Checks of the data: grid division, school perimeter.", no_args_is_help=True)


@app.command("division")
def check_division_command(
    community: Annotated[str, typer.Argument(help="12-digit community code")],
    format: Annotated[str, typer.Option(help="json (with a summary) or geojson")] = "json",
    tolerance: Annotated[float, typer.Option(help="ignore parts smaller than this, m²")] = 0.01,
) -> None:
    """Check 全覆盖、无缝隙、不交叉: gaps, overlaps, grid area outside the community. Exit 1 on faults."""
    from gis.division.check import check_division

    if format not in ("json", "geojson"):
        fail("--format must be json or geojson")
    with database() as conn:
        result = check_division(conn, community, tolerance)
    if format == "geojson":
        result = {"type": "FeatureCollection", "features": result["features"]}
    typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
    for f in result["features"]:
        p = f["properties"]
        console.print(f"{p['kind']}: {p['area_m2']:.1f} m² ({', '.join(p['grids']) or '-'})")
    if result["features"]:
        raise typer.Exit(1)
    console.print("division ok: full coverage, no gaps, no overlaps")


@app.command("perimeter")
def check_perimeter_command(
    format: Annotated[str, typer.Option(help="csv, json, geojson or xlsx (xlsx needs --output)")] = "csv",
    day: Annotated[str | None, typer.Option("--date", help="check date YYYY-MM-DD (default today)")] = None,
    community: Annotated[str | None, typer.Option(help="only places in this community")] = None,
    grid: Annotated[str | None, typer.Option(help="only places in this grid")] = None,
    school: Annotated[str | None, typer.Option(help="only around this school (ref or id)")] = None,
    output: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
) -> None:
    """校园周边200米: places breaking a perimeter rule, each with its nearest school and distance (m)."""
    from gis.perimeter.check import Scope, violation_listing

    on = _check_options(format, day, output)
    with database() as conn:
        # Committed at the end of the block: a local TM registered for this check is kept for the next.
        listing = violation_listing(conn, on, Scope(community=community, grid=grid, school=school))
        count = _write(conn, listing, format, output)
    where = f", written to {output}" if output else ""
    console.print(f"{count} violation(s) on {on.isoformat()}{where}")


@app.command("licences")
def check_licences_command(
    format: Annotated[str, typer.Option(help="csv, json, geojson or xlsx (xlsx needs --output)")] = "csv",
    day: Annotated[str | None, typer.Option("--date", help="check date YYYY-MM-DD (default today)")] = None,
    community: Annotated[str | None, typer.Option(help="only shops in this community")] = None,
    grid: Annotated[str | None, typer.Option(help="only shops in this grid")] = None,
    category: Annotated[list[str] | None, typer.Option(
        help="a place category to check (repeat for several); default: those licence_required rules name",
    )] = None,
    output: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
) -> None:
    """证照齐全、亮证经营: every shop of a licensed category without a valid displayed licence, in the
    whole jurisdiction, by community and grid (CSV and XLSX with Chinese headers)."""
    from gis.perimeter.licences import licence_listing

    on = _check_options(format, day, output)
    with database() as conn:
        listing = licence_listing(conn, on, community=community, grid=grid, categories=category)
        count = _write(conn, listing, format, output)
    where = f", written to {output}" if output else ""
    console.print(f"{count} shop(s) without a valid displayed licence on {on.isoformat()}{where}")


def _check_options(format: str, day: str | None, output: Path | None) -> date:
    """The check date; exit 2 on a format or date the checks do not take."""
    from gis.perimeter.export import FORMATS

    if format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    if format == "xlsx" and output is None:
        fail("--format xlsx needs --output FILE.xlsx")
    try:
        return date.fromisoformat(day) if day else date.today()
    except ValueError:
        fail(f"--date {day!r} is not a date (YYYY-MM-DD)")


def _write(conn: psycopg.Connection, listing: Listing, format: str, output: Path | None) -> int:
    """Write a listing to ``output`` or stdout, streamed as PostgreSQL produces it (XLSX: whole);
    the number of rows."""
    from gis.perimeter.export import Stream, rows, xlsx_bytes

    if format == "xlsx":
        assert output is not None
        found = rows(conn, listing)
        output.write_bytes(xlsx_bytes(found, listing))
        return len(found)
    stream = Stream(conn, listing, format)
    with output.open("wb") if output is not None else nullcontext(sys.stdout.buffer) as out:
        for chunk in stream:
            out.write(chunk)
        out.flush()
    return stream.count
