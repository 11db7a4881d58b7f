"""Data in and out (导入导出): the demo street, import a file into a layer, export a layer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.base import console, database, fail, settings
from gis.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

    from gis.demo.street import DemoStreet

commands = typer.Typer()  # demo, import and export sit at the top level

_FIELD_OPTION = re.compile(r"^--([A-Za-z_][\w-]*)-field(?:=(.*))?$")
_SHOWN = 50  # households listed in the report before "and N more"
LAYER_HELP = ("communities, grids, grid_workers, households, persons, facilities (阵地),"
              " compounds (无人管理小区), ...")


@commands.command()
def demo(
    seed: Annotated[int | None, typer.Option(help="random seed: the same flags give the same data")] = None,
    communities: Annotated[int, typer.Option(help="communities (社区)")] = 6,
    grids: Annotated[int, typer.Option(help="grids (网格), cut from the communities")] = 60,
    households: Annotated[int, typer.Option(help="households (住户)")] = 20_000,
    persons: Annotated[int, typer.Option(help="persons (人口), 1-5 per household")] = 50_000,
    scale: Annotated[float, typer.Option(help="multiply every size, e.g. 33 for a district")] = 1.0,
    with_defects: Annotated[bool, typer.Option(
        "--with-defects", help="a small gap and overlap in the first community (division check)")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="empty the register and reload")] = False,
) -> None:
    """Generate the demo street (演示街道) in Suxian District, Chenzhou, and load it (deterministic)."""
    from gis.demo.street import DEFAULT_SEED, clear_register, database_has_communities, generate_street

    if scale <= 0:
        fail("--scale must be positive")
    n_communities = max(1, round(communities * scale))
    sizes = {"communities": n_communities, "grids": max(1, round(grids * scale)),
             "households": max(1, round(households * scale)), "persons": max(1, round(persons * scale))}
    with database() as conn:
        if database_has_communities(conn) and not replace:
            fail("the database already has communities: add --replace to empty the register and reload")
        with console.status("generating the street"):
            try:
                street = generate_street(seed=DEFAULT_SEED if seed is None else seed,
                                         with_defects=with_defects, **sizes)
            except ValueError as exc:
                fail(str(exc))
        if replace:
            clear_register(conn)  # same transaction as the load: a failed load keeps the old data
        counts = load_demo_with_progress(conn, street)
    for layer, n in counts.items():
        typer.echo(f"{layer}: {n}")


def load_demo_with_progress(conn: psycopg.Connection, street: DemoStreet) -> dict[str, int]:
    """gis.demo.load_demo with a rich progress bar per layer (on stderr)."""
    from rich.progress import Progress, TaskID

    from gis.demo.street import load_demo

    tasks: dict[str, TaskID] = {}
    with Progress(console=console) as bar:
        def progress(layer: str, done: int, total: int) -> None:
            if layer not in tasks:
                tasks[layer] = bar.add_task(f"loading {layer}", total=total)
            bar.update(tasks[layer], completed=done, total=total)

        return load_demo(conn, street, progress=progress)


def extra_field_map(args: list[str]) -> dict[str, str]:
    """``--X-field NAME`` pairs typer does not declare: {"x": "NAME"} (hyphens become underscores)."""
    mapping: dict[str, str] = {}
    rest = iter(args)
    for arg in rest:
        match = _FIELD_OPTION.match(arg)
        if not match:
            fail(f"unexpected argument {arg!r}: map columns with --FIELD-field NAME or --field-map F=NAME")
        value = match.group(2) if match.group(2) is not None else next(rest, None)
        if not value:
            fail(f"{arg} needs a column name")
        mapping[match.group(1).replace("-", "_")] = value
    return mapping


@commands.command("import", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def import_command(
    ctx: typer.Context,
    layer: Annotated[str, typer.Argument(help=LAYER_HELP)],
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile, CSV or XLSX")],
    crs: Annotated[str | None, typer.Option(help="EPSG:4326, EPSG:4490 or gcj02 (default: file)")] = None,
    field_map: Annotated[list[str] | None, typer.Option(help="FIELD=COLUMN, repeatable")] = None,
    id_field: Annotated[str | None, typer.Option(help="column holding the record's id (ref)")] = None,
    category_field: Annotated[str | None, typer.Option(help="column holding the category")] = None,
    name_field: Annotated[str | None, typer.Option(help="column holding the name")] = None,
    level_field: Annotated[str | None, typer.Option(help="column holding the level")] = None,
    code_field: Annotated[str | None, typer.Option(help="column holding the code")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="text encoding of a CSV or a Shapefile's .dbf, e.g. gbk (default: detected; .cpg wins)")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet: its name or number (1 = the first)")] = None,
    header_row: Annotated[str | None, typer.Option(
        help="header row N, or N-M for a two-row header (default: the first row naming the layer's columns)")
    ] = None,
) -> None:
    """Import a file into a layer: every row or none. Other columns: --FIELD-field NAME."""
    from rich.progress import Progress

    from gis.catalog import import_file
    from gis.interop.fieldmap import parse_field_map

    mapping = extra_field_map(list(ctx.args))
    try:
        mapping.update(parse_field_map(field_map or [], ref=id_field, category=category_field,
                                       name=name_field, level=level_field, code=code_field))
    except InvalidInput as exc:
        fail(str(exc))
    s = settings()
    try:
        with database(s) as conn, Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"loading {file.name}", total=None)
            report = import_file(conn, layer, file, crs=crs, field_map=mapping, region_bbox=s.region_bbox,
                                 encoding=encoding, sheet=sheet, header_row=header_row,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {file.name}: nothing imported, {len(exc.problems)} problem(s):",
                      highlight=False)
        for problem in exc.problems:
            console.print(f"  row {problem.row if problem.row is not None else '-'}  "
                          f"{problem.field}: {problem.reason}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    typer.echo(f"{report.layer}: {report.rows} rows imported")
    if report.placements:
        typer.echo("placement: " + ", ".join(f"{k} {v}" for k, v in sorted(report.placements.items())))
    for kind, refs in (("outside every grid", report.outside), ("on a grid border", report.border)):
        if refs:
            more = f" and {len(refs) - _SHOWN} more" if len(refs) > _SHOWN else ""
            shown = ", ".join(refs[:_SHOWN]) + more
            typer.echo(f"households {kind} ({len(refs)}): {shown}")


@commands.command("export")
def export_command(
    layer: Annotated[str, typer.Argument(help=LAYER_HELP)],
    file: Annotated[Path, typer.Argument(help=".geojson, .gpkg, .zip (Shapefile), .csv or .xlsx")],
    crs: Annotated[str, typer.Option(help="EPSG:4326, EPSG:4490, gcj02 or gk3 (CGCS2000 3-degree "
                                          "Gauss-Krüger zone of the data)")] = "EPSG:4326",
    community: Annotated[str | None, typer.Option(help="only this community (12-digit code)")] = None,
    grid: Annotated[str | None, typer.Option(help="only this grid (15-digit code)")] = None,
    unmasked: Annotated[bool, typer.Option(help="export ID numbers and phones in full")] = False,
    encoding: Annotated[str, typer.Option(help="CSV text encoding: utf-8 (with BOM) or gbk")] = "utf-8",
) -> None:
    """Export a layer to a file; ID numbers and phone numbers are masked unless --unmasked."""
    from gis.catalog import export_layer

    with database() as conn:
        n = export_layer(conn, layer, file, crs=crs, community=community, grid=grid, unmasked=unmasked,
                         encoding=encoding)
    typer.echo(f"{layer}: {n} rows written to {file}")
