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
map_app = typer.Typer(help="The map (一图) of a grid or community, as one HTML file that works offline.",
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


@map_app.command("grid")
def map_grid_command(
    code: Annotated[str, typer.Argument(help="15-digit grid code")], output: MapOutput
) -> None:
    """Write a grid's map: boundary, households, tagged persons, legend and title, printable."""
    _write_map("grid", code, output)


@map_app.command("community")
def map_community_command(
    code: Annotated[str, typer.Argument(help="12-digit community code")], output: MapOutput
) -> None:
    """Write a community's map: all its grids and households, and the problems of its division."""
    _write_map("community", code, output)


def _write_map(kind: str, code: str, output: Path) -> None:
    from gis.maps import grids as mapdata
    from layers.maps import community_map, grid_map
    from layers.shell import render_html

    if output.suffix.lower() not in (".html", ".htm"):
        fail("the output file must end in .html")
    s = settings()
    try:
        with database(s) as conn:
            if kind == "grid":
                page = render_html(grid_map(mapdata.grid_map_data(conn, code), s), inline=True)
            else:
                page = render_html(community_map(mapdata.community_map_data(conn, code), s), inline=True)
    except GridmapError as exc:
        fail(str(exc))
    output.write_text(page, "utf-8")
    typer.echo(f"{kind} map {code} written to {output} ({len(page.encode()) / 1e6:.2f} MB)")
