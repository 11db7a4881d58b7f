"""Responsibility road sections (路段管理责任制): roads cut|coverage|assign|roster."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.cli.base import database

app = typer.Typer(help="Responsibility road sections (路段管理责任制): cut, assign, coverage, roster.",
                  no_args_is_help=True)
UNIT_HELP = "unit name, ref or id"


@app.command("cut")
def roads_cut_command(
    method: Annotated[str, typer.Option(help="intersections or max_length")] = "intersections",
    max_length: Annotated[float | None, typer.Option(help="for max_length: longest section, m")] = None,
    road: Annotated[list[str] | None, typer.Option(help="road ref (repeatable); default all")] = None,
) -> None:
    """Cut roads (or their sections) at intersections or into pieces of at most --max-length metres."""
    from gis.roads.cutting import cut_roads

    with database() as conn:
        result = cut_roads(conn, method, max_length, road)  # type: ignore[arg-type]
    typer.echo(f"{result.sources} looked at, {result.replaced} cut, {result.created} new sections")


@app.command("coverage")
def roads_coverage_command(
    on: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="day; default today")] = None,
) -> None:
    """Print the assigned length per street, community and grid (覆盖率)."""
    from rich.table import Table

    from gis.roads.coverage import coverage

    with database() as conn:
        report = coverage(conn, on.date() if on else None)
    table = Table(title=f"road coverage on {report['on']}")
    for column in ("level", "key", "total m", "assigned m", "%", "sections", "unassigned"):
        table.add_column(column, justify="left" if column in ("level", "key") else "right")
    rows = [("total", {"key": "", **report["total"]})] + [
        (level, row) for level in ("street", "community", "grid") for row in report[level]]
    for level, row in rows:
        pct = "-" if row["assigned_pct"] is None else f"{row['assigned_pct']:.1f}"
        table.add_row(level, row["key"] or "(none)", f"{row['total_m']:.1f}", f"{row['assigned_m']:.1f}",
                      pct, str(row["sections"]), str(row["unassigned_sections"]))
    Console().print(table)


@app.command("assign")
def roads_assign_command(
    section: Annotated[str, typer.Argument(help="section code (e.g. R1-002) or id")],
    unit: Annotated[str, typer.Argument(help=UNIT_HELP)],
    valid_from: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")],
    valid_to: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"],
                                                      help="last day; default open")] = None,
    duty_day: Annotated[int, typer.Option(help="ISO weekday, 5 = Friday (每周五)")] = 5,
) -> None:
    """Assign a section to a unit for a period; refused if another unit holds it then."""
    from gis.roads.assignments import assign_section
    from gis.roads.sections import resolve_section
    from gis.roads.units import resolve_unit

    with database() as conn:
        row = assign_section(conn, resolve_section(conn, section), resolve_unit(conn, unit),
                             valid_from.date(), valid_to.date() if valid_to else None, duty_day)
    typer.echo(f"{row['section_code']} -> {row['unit_name']} from {row['valid_from']} to "
               f"{row['valid_to'] or 'open end'} (assignment {row['id']})")


@app.command("roster")
def roads_roster_command(
    unit: Annotated[str, typer.Argument(help=UNIT_HELP)],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.xlsx")],
) -> None:
    """Write a unit's weekly duty roster (值勤表) as XLSX."""
    from gis.roads.roster import roster_workbook
    from gis.roads.units import resolve_unit

    with database() as conn:
        data = roster_workbook(conn, resolve_unit(conn, unit))
    output.write_bytes(data)
    typer.echo(f"roster written to {output} ({len(data)} bytes)")
