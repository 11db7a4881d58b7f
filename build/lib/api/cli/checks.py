"""Checks of the data: check division (全覆盖、无缝隙、不交叉) and check perimeter (校园周边200米)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from api.cli.base import console, database, fail

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
    from gis.perimeter.check import Scope, perimeter_violations
    from gis.perimeter.export import as_csv, as_geojson, as_xlsx

    if format not in ("csv", "json", "geojson", "xlsx"):
        fail("--format must be csv, json, geojson or xlsx")
    if format == "xlsx" and output is None:
        fail("--format xlsx needs --output FILE.xlsx")
    try:
        on = date.fromisoformat(day) if day else date.today()
    except ValueError:
        fail(f"--date {day!r} is not a date (YYYY-MM-DD)")
    with database() as conn:
        # Committed at the end of the block: a local TM registered for this check is kept for the next.
        rows = perimeter_violations(conn, on, Scope(community=community, grid=grid, school=school))
    if format == "xlsx":
        assert output is not None
        output.write_bytes(as_xlsx(rows))
    else:
        text = (as_csv(rows) if format == "csv" else
                json.dumps(as_geojson(rows) if format == "geojson" else
                           {"date": on.isoformat(), "count": len(rows), "violations": rows},
                           ensure_ascii=False, indent=1, default=str))
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            typer.echo(text, nl=False)
    where = f", written to {output}" if output else ""
    console.print(f"{len(rows)} violation(s) on {on.isoformat()}{where}")
