"""The register (一册) and the map (一图): stats, register export, map grid|community."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api.cli.base import database, fail, settings
from gis.errors import GridmapError

commands = typer.Typer()  # stats sits at the top level
register_app = typer.Typer(help="The register (一册) of a grid or community.", no_args_is_help=True)
map_app = typer.Typer(help="The map (一图): an offline HTML file, or with --pdf a wall map (一图上墙).",
                      no_args_is_help=True)
MapOutput = Annotated[Path, typer.Option("--output", "-o", help="FILE.html (scripts inlined: opens offline)")]


@commands.command("stats")
def stats_command(
    grid: Annotated[str | None, typer.Option(help="one grid (15-digit code)")] = None,
    community: Annotated[str | None, typer.Option(help="one community and its grids")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the full figures with drill-down links")] = False,
) -> None:
    """四清 statistics per grid and community (all communities when no option is given)."""
    from rich.table import Table

    from gis.register.stats import statistics

    if grid and community:
        fail("give --grid or --community, not both")
    with database() as conn:
        result = statistics(conn, grid=grid, community=community)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    entries = ([result["all"]] if result["all"] else []) + result["communities"] + result["grids"]
    columns = ["households", "persons", "registered", "floating", "key_persons", "poverty_households",
               "elderly_alone", "disabled", "activists", "volunteers"]
    table = Table("level", "code", "name", *columns)
    table.columns[1].no_wrap = True
    for e in entries:
        f = e["figures"]
        table.add_row(e["level"], e.get("code") or "", e.get("name") or "",
                      *(str(f[c]["count"]) for c in columns))
    Console(width=max(Console().width, 200)).print(table)  # codes are 15 digits: never fold them


@register_app.command("export")
def register_export_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.xlsx or FILE.csv")],
    grid: Annotated[str | None, typer.Option(help="one grid (15-digit code)")] = None,
    community: Annotated[str | None, typer.Option(help="one community (a sheet per grid)")] = None,
    unmasked: Annotated[bool, typer.Option(help="ID numbers and phones in full")] = False,
) -> None:
    """Export the register (一册): households with their members, masked unless --unmasked."""
    from gis.register.export import export_register

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        fail("the output file must end in .xlsx or .csv")
    if (grid is None) == (community is None):
        fail("give exactly one of --grid or --community")
    with database() as conn:
        data = export_register(conn, fmt, grid=grid, community=community, unmasked=unmasked)  # type: ignore[arg-type]
    output.write_bytes(data)
    typer.echo(f"register written to {output} ({len(data)} bytes{', UNMASKED' if unmasked else ''})")


# The wall map (一图上墙, issue 15): --pdf writes a vector PDF on ISO paper at a true scale instead.
Pdf = Annotated[bool, typer.Option("--pdf", help="a print-ready PDF wall map (一图上墙) at a true scale")]
Paper = Annotated[str | None, typer.Option(
    help="PDF paper: A4, A3, A2, A1 or A0, orientation chosen to fit "
         "(default: the smallest from A3, A1 for areas, that holds it)")]
Profile = Annotated[str, typer.Option(
    help="PDF profile: public (no names, no tags) or office (tags, counts)")]
Scale = Annotated[int | None, typer.Option(help="PDF scale N of 1:N (default: the largest that fits)")]
PdfOutput = Annotated[Path, typer.Option("--output", "-o", help="FILE.pdf")]
Day = Annotated[str | None, typer.Option("--date", help="the day to look at, YYYY-MM-DD (default today)")]
# The HTML map's overlays, each in the layer control and off when the file opens (as on the served map).
Visits = Annotated[bool, typer.Option(
    "--visits/--no-visits",
    help="the 走访 overlay: households by days since their last visit, today's route")]
Reports = Annotated[bool, typer.Option(
    "--reports/--no-reports", help="the 不文明行为 overlay: reports by state, sections by open reports")]
Campaign = Annotated[bool, typer.Option(
    "--campaign/--no-campaign",
    help="the campaign overlays: unmanaged compounds by helper unit, facilities (阵地), duty posts")]


@map_app.command("grid")
def map_grid_command(
    code: Annotated[str, typer.Argument(help="15-digit grid code")], output: MapOutput, pdf: Pdf = False,
    paper: Paper = None, profile: Profile = "public", scale: Scale = None,
    visits: Visits = True, reports: Reports = True, campaign: Campaign = True,
) -> None:
    """Write a grid's map: boundary, households, tagged persons, legend and title, printable, with the
    走访, 不文明行为 and campaign overlays (off until ticked); with --pdf the wall map (boundary bold,
    every household, workers and service phones, 1:N)."""
    if pdf:
        _write_wall_map("grid", code, output, paper, profile, scale)
    else:
        _write_map("grid", code, output, visits, reports, campaign)


@map_app.command("community")
def map_community_command(
    code: Annotated[str, typer.Argument(help="12-digit community code")], output: MapOutput, pdf: Pdf = False,
    paper: Paper = None, profile: Profile = "public", scale: Scale = None,
    visits: Visits = True, reports: Reports = True, campaign: Campaign = True,
) -> None:
    """Write a community's map: all its grids and households, and the problems of its division, with
    the 走访, 不文明行为 and campaign overlays (off until ticked); with --pdf the wall map."""
    if pdf:
        _write_wall_map("community", code, output, paper, profile, scale)
    else:
        _write_map("community", code, output, visits, reports, campaign)


@map_app.command("school")
def map_school_command(
    school: Annotated[str, typer.Argument(help="the school's ref or id")], output: PdfOutput,
    paper: Paper = None, profile: Profile = "public", scale: Scale = None, day: Day = None,
) -> None:
    """Write a school's perimeter wall map (PDF): campus, its zone, violating and compliant places."""
    _write_wall_map("school", school, output, paper, profile, scale, day)


@map_app.command("sections")
def map_sections_command(
    street: Annotated[str, typer.Argument(help="9-digit street code")], output: PdfOutput,
    paper: Paper = None, profile: Profile = "public", scale: Scale = None, day: Day = None,
) -> None:
    """Write the road sections of a street coloured by responsible unit as a wall map (PDF)."""
    _write_wall_map("sections", street, output, paper, profile, scale, day)


def _write_wall_map(kind: str, code: str, output: Path, paper: str | None, profile: str, scale: int | None,
                    day: str | None = None) -> None:
    from datetime import date

    from gis.maps.wallmap import FontMissing, render_pdf
    from gis.maps.wallmap_data import build_sheet

    if output.suffix.lower() != ".pdf":
        fail("the output file must end in .pdf")
    try:
        on = date.fromisoformat(day) if day else None
    except ValueError:
        fail("--date must be YYYY-MM-DD")
    try:
        with database() as conn:
            sheet = build_sheet(conn, kind, code, profile, paper.upper() if paper else None, scale, on)
            body = render_pdf(sheet)
    except (GridmapError, FontMissing) as exc:  # no CJK font: say which to install, no traceback
        fail(str(exc))
    output.write_bytes(body)
    layout = sheet.layout
    assert layout is not None
    typer.echo(f"{kind} wall map {code} written to {output}: {layout.paper} "
               f"{'landscape' if layout.landscape else 'portrait'} 1:{layout.scale:,}, {profile}, "
               f"{len(body) / 1e6:.2f} MB")


def _write_map(kind: str, code: str, output: Path, visits: bool = False, reports: bool = False,
               campaign: bool = False) -> None:
    from gis.maps import grids as mapdata
    from gis.maps.campaign import campaign_layer_data
    from gis.maps.reports import report_layer_data
    from gis.maps.visits import visit_layer_data
    from layers.maps import Overlays, community_map, grid_map
    from layers.shell import render_html

    if output.suffix.lower() not in (".html", ".htm"):
        fail("the output file must end in .html")
    s = settings()
    try:
        with database(s) as conn:  # the owner's session: every record (no user, no row-level security)
            read = mapdata.grid_map_data if kind == "grid" else mapdata.community_map_data
            data = read(conn, code)
            # after the map's own query: it has checked the code (422/404 as `error: ...`)
            overlays = Overlays(visits=visit_layer_data(conn, kind, code) if visits else None,
                                reports=report_layer_data(conn, kind, code) if reports else None,
                                campaign=campaign_layer_data(conn, kind, code) if campaign else None)
            draw = grid_map if kind == "grid" else community_map
            page = render_html(draw(data, s, overlays=overlays), inline=True)
    except GridmapError as exc:
        fail(str(exc))
    output.write_text(page, "utf-8")
    typer.echo(f"{kind} map {code} written to {output} ({len(page.encode()) / 1e6:.2f} MB)")
