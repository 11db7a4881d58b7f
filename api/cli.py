"""The gridmap command line: database, demo data, import/export, maps, checks and the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gis import db as gisdb
from gis.errors import GridmapError
from gis.migrate import migrate as apply_migrations
from gis.settings import Settings

if TYPE_CHECKING:
    import psycopg

    from gis.demo.street import DemoStreet

app = typer.Typer(help="gridmap: grid management GIS (网格化管理) on PostGIS.", no_args_is_help=True)
db_app = typer.Typer(help="The database: the embedded PostGIS cluster and migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
check_app = typer.Typer(help="Checks of the data: grid division, school perimeter.", no_args_is_help=True)
app.add_typer(check_app, name="check")
console = Console(stderr=True)


def settings() -> Settings:
    return Settings()


def fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def ensure_database(s: Settings) -> None:
    """Start the embedded cluster when no GRIDMAP_DATABASE_URL is set, then migrate."""
    if s.embedded:
        cluster = gisdb.cluster(s)
        if cluster.start():
            console.print(f"started embedded PostGIS in {cluster.pgdata}")
        cluster.ensure_database()
    with gisdb.connect(s) as conn:
        applied = apply_migrations(conn)
    for name in applied:
        console.print(f"applied migration {name}")


@contextmanager
def database(s: Settings) -> Iterator[psycopg.Connection]:
    """A connection for a command: the embedded cluster is started and migrated first if needed."""
    ensure_database(s)
    with gisdb.connect(s) as conn:
        yield conn


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostGIS cluster (creating it on first use) and apply migrations."""
    ensure_database(settings())


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostGIS cluster."""
    s = settings()
    if not s.embedded:
        fail("GRIDMAP_DATABASE_URL is set: gridmap does not manage that database")
    console.print("stopped" if gisdb.cluster(s).stop() else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say where the database is and whether it answers."""
    s = settings()
    where = "external (GRIDMAP_DATABASE_URL)" if not s.embedded else f"embedded in {s.data_dir}"
    try:
        with gisdb.connect(s) as conn:
            version = conn.execute("SELECT postgis_lib_version()").fetchone()
            n = conn.execute("SELECT count(*) FROM schema_migration").fetchone()
        typer.echo(f"{where}: up, PostGIS {version[0] if version else '?'}, {n[0] if n else 0} migrations")
    except Exception as exc:  # noqa: BLE001 - status reports, it does not crash
        typer.echo(f"{where}: down ({type(exc).__name__})")
        raise typer.Exit(1) from None


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending SQL migrations."""
    ensure_database(settings())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Serve the API and the maps."""
    s = settings()
    ensure_database(s)
    _serve(s, host, port)


def _serve(s: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from api.app import create_app

    host, port = host or s.host, port or s.port
    from gis.settings import DEFAULT_SECRET_KEY, LOOPBACK

    if host not in LOOPBACK and s.secret_key == DEFAULT_SECRET_KEY:  # --host bypasses the Settings check
        fail(f"GRIDMAP_SECRET_KEY must be set to a secret of your own to serve on {host}")
    base = f"http://{host}:{port}"
    typer.echo(f"gridmap on {base}\n  API docs:  {base}/docs\n  maps:      {base}/maps/")
    uvicorn.run(create_app(s), host=host, port=port, log_level="info")


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Start the database, load the demo street (演示街道) if the database is empty, and serve."""
    from gis.demo.street import generate_street

    s = settings()
    with database(s) as conn:
        empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM community)").fetchone()
        if empty and empty[0]:
            console.print("loading the demo street (first run only)")
            counts = load_demo_with_progress(conn, generate_street())
            conn.commit()
            console.print(", ".join(f"{n} {layer}" for layer, n in counts.items()))
            from gis.access.accounts import demo_users

            made = demo_users(conn)  # one user per role, fresh random passwords
            conn.commit()
            _print_demo_users(s, made)
    _serve(s, host, port)


@app.command()
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
    s = settings()
    with database(s) as conn:
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
        conn.commit()
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


# --- import and export (导入导出) -----------------------------------------------------------------

_FIELD_OPTION = re.compile(r"^--([A-Za-z_][\w-]*)-field(?:=(.*))?$")
_SHOWN = 50  # households listed in the report before "and N more"


def extra_field_map(args: list[str]) -> dict[str, str]:
    """``--X-field NAME`` pairs typer does not declare: {"x": "NAME"} (hyphens become underscores)."""
    mapping: dict[str, str] = {}
    rest = iter(args)
    for arg in rest:
        match = _FIELD_OPTION.match(arg)
        if not match:
            fail(f"unexpected argument {arg!r}: map columns with --FIELD-field NAME or --field-map F=NAME")
            continue
        value = match.group(2) if match.group(2) is not None else next(rest, None)
        if not value:
            fail(f"{arg} needs a column name")
        mapping[match.group(1).replace("-", "_")] = str(value)
    return mapping


@app.command("import", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def import_command(
    ctx: typer.Context,
    layer: Annotated[str, typer.Argument(help="communities, grids, grid_workers, households, persons, ...")],
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile, CSV or XLSX")],
    crs: Annotated[str | None, typer.Option(help="EPSG:4326, EPSG:4490 or gcj02 (default: file)")] = None,
    field_map: Annotated[list[str] | None, typer.Option(help="FIELD=COLUMN, repeatable")] = None,
    id_field: Annotated[str | None, typer.Option(help="column holding the record's id (ref)")] = None,
    category_field: Annotated[str | None, typer.Option(help="column holding the category")] = None,
    name_field: Annotated[str | None, typer.Option(help="column holding the name")] = None,
    level_field: Annotated[str | None, typer.Option(help="column holding the level")] = None,
    code_field: Annotated[str | None, typer.Option(help="column holding the code")] = None,
) -> None:
    """Import a file into a layer: every row or none. Other columns: --FIELD-field NAME."""
    from rich.progress import Progress

    from api.routes.imports import parse_field_map
    from gis.errors import InvalidInput
    from gis.interop.importing import import_file

    mapping = extra_field_map(list(ctx.args))
    try:
        mapping.update(parse_field_map(field_map or []))
    except InvalidInput as exc:
        fail(str(exc))
    explicit = {"ref": id_field, "category": category_field, "name": name_field, "level": level_field,
                "code": code_field}
    mapping.update({k: v for k, v in explicit.items() if v})
    s = settings()
    ensure_database(s)
    try:
        with gisdb.connect(s) as conn, Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"loading {file.name}", total=None)
            report = import_file(conn, layer, file, crs=crs, field_map=mapping, region_bbox=s.region_bbox,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
            conn.commit()
    except InvalidInput as exc:
        console.print(f"[red]{file.name}: nothing imported, {len(exc.problems)} problem(s):[/red]")
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


@app.command("export")
def export_command(
    layer: Annotated[str, typer.Argument(help="communities, grids, grid_workers, households, persons, ...")],
    file: Annotated[Path, typer.Argument(help=".geojson, .gpkg, .zip (Shapefile), .csv or .xlsx")],
    crs: Annotated[str, typer.Option(help="EPSG:4326, EPSG:4490, gcj02 or gk3 (CGCS2000 3-degree "
                                          "Gauss-Krüger zone of the data)")] = "EPSG:4326",
    community: Annotated[str | None, typer.Option(help="only this community (12-digit code)")] = None,
    grid: Annotated[str | None, typer.Option(help="only this grid (15-digit code)")] = None,
    unmasked: Annotated[bool, typer.Option(help="export ID numbers and phones in full")] = False,
    encoding: Annotated[str, typer.Option(help="CSV text encoding: utf-8 (with BOM) or gbk")] = "utf-8",
) -> None:
    """Export a layer to a file; ID numbers and phone numbers are masked unless --unmasked."""
    from gis.interop.exporting import export_layer

    s = settings()
    with database(s) as conn:
        n = export_layer(conn, layer, file, crs=crs, community=community, grid=grid, unmasked=unmasked,
                         encoding=encoding)
    typer.echo(f"{layer}: {n} rows written to {file}")


register_app = typer.Typer(help="The register (一册) of a grid or community.", no_args_is_help=True)
app.add_typer(register_app, name="register")


@check_app.command("division")
def check_division_command(
    community: Annotated[str, typer.Argument(help="12-digit community code")],
    format: Annotated[str, typer.Option(help="json (with a summary) or geojson")] = "json",
    tolerance: Annotated[float, typer.Option(help="ignore parts smaller than this, m²")] = 0.01,
) -> None:
    """Check 全覆盖、无缝隙、不交叉: gaps, overlaps, grid area outside the community. Exit 1 on faults."""
    import json

    from gis.division.check import check_division

    if format not in ("json", "geojson"):
        fail("--format must be json or geojson")
    s = settings()
    with database(s) as conn:
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


@check_app.command("perimeter")
def check_perimeter_command(
    format: Annotated[str, typer.Option(help="csv, json, geojson or xlsx (xlsx needs --output)")] = "csv",
    day: Annotated[str | None, typer.Option("--date", help="check date YYYY-MM-DD (default today)")] = None,
    community: Annotated[str | None, typer.Option(help="only places in this community")] = None,
    grid: Annotated[str | None, typer.Option(help="only places in this grid")] = None,
    school: Annotated[str | None, typer.Option(help="only around this school (ref or id)")] = None,
    output: Annotated[Path | None, typer.Option(help="write to this file instead of stdout")] = None,
) -> None:
    """校园周边200米: places breaking a perimeter rule, each with its nearest school and distance (m)."""
    import json
    from datetime import date

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
        return
    s = settings()
    with database(s) as conn:
        rows = perimeter_violations(conn, on, Scope(community=community, grid=grid, school=school))
        conn.commit()  # a local TM registered for this check is kept for the next
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


@app.command("stats")
def stats_command(
    grid: Annotated[str | None, typer.Option(help="one grid (15-digit code)")] = None,
    community: Annotated[str | None, typer.Option(help="one community and its grids")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the full figures with drill-down links")] = False,
) -> None:
    """四清 statistics per grid and community (all communities when no option is given)."""
    import json

    from rich.table import Table

    from gis.register.stats import statistics

    if grid and community:
        fail("give --grid or --community, not both")
    s = settings()
    with database(s) as conn:
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
    s = settings()
    with database(s) as conn:
        data = export_register(conn, fmt, grid=grid, community=community, unmasked=unmasked)  # type: ignore[arg-type]
    output.write_bytes(data)
    typer.echo(f"register written to {output} ({len(data)} bytes{', UNMASKED' if unmasked else ''})")


map_app = typer.Typer(help="The map (一图) of a grid or community, as one HTML file that works offline.",
                      no_args_is_help=True)
app.add_typer(map_app, name="map")
MapOutput = Annotated[Path, typer.Option("--output", "-o", help="FILE.html (scripts inlined: opens offline)")]


def _write_map(kind: str, code: str, output: Path) -> None:
    from gis.maps import grids as mapdata
    from layers.maps import community_map, grid_map
    from layers.shell import render_html

    if output.suffix.lower() not in (".html", ".htm"):
        fail("the output file must end in .html")
    s = settings()
    ensure_database(s)
    try:
        with gisdb.connect(s) as conn:
            if kind == "grid":
                page = render_html(grid_map(mapdata.grid_map_data(conn, code), s), inline=True)
            else:
                page = render_html(community_map(mapdata.community_map_data(conn, code), s), inline=True)
    except GridmapError as exc:
        fail(str(exc))
    output.write_text(page, "utf-8")
    typer.echo(f"{kind} map {code} written to {output} ({len(page.encode()) / 1e6:.2f} MB)")


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


roads_app = typer.Typer(help="Responsibility road sections (路段管理责任制): cut, assign, coverage, roster.",
                        no_args_is_help=True)
app.add_typer(roads_app, name="roads")


@roads_app.command("cut")
def roads_cut_command(
    method: Annotated[str, typer.Option(help="intersections or max_length")] = "intersections",
    max_length: Annotated[float | None, typer.Option(help="for max_length: longest section, m")] = None,
    road: Annotated[list[str] | None, typer.Option(help="road ref (repeatable); default all")] = None,
) -> None:
    """Cut roads (or their sections) at intersections or into pieces of at most --max-length metres."""
    from gis.roads.cutting import cut_roads

    s = settings()
    with database(s) as conn:
        result = cut_roads(conn, method, max_length, road)  # type: ignore[arg-type]
        conn.commit()
    typer.echo(f"{result.sources} looked at, {result.replaced} cut, {result.created} new sections")


@roads_app.command("coverage")
def roads_coverage_command(
    on: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="day; default today")] = None,
) -> None:
    """Print the assigned length per street, community and grid (覆盖率)."""
    from rich.table import Table

    from gis.roads.coverage import coverage

    s = settings()
    with database(s) as conn:
        report = coverage(conn, on.date() if on else None)
    table = Table(title=f"road coverage on {report['on']}")
    for column in ("level", "key", "total m", "assigned m", "%", "sections", "unassigned"):
        table.add_column(column, justify="left" if column in ("level", "key") else "right")
    rows = [("total", {"key": "", **report["total"]})] + [
        (level, row) for level in ("street", "community", "grid") for row in report[level]]
    for level, row in rows:
        table.add_row(level, row["key"] or "(none)", f"{row['total_m']:.1f}", f"{row['assigned_m']:.1f}",
                      f"{row['assigned_pct'] or 0:.1f}", str(row["sections"]),
                      str(row["unassigned_sections"]))
    Console().print(table)


@roads_app.command("assign")
def roads_assign_command(
    section: Annotated[str, typer.Argument(help="section code (e.g. R1-002) or id")],
    unit: Annotated[str, typer.Argument(help="unit name, ref or id")],
    valid_from: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="first day")],
    valid_to: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"],
                                                      help="last day; default open")] = None,
    duty_day: Annotated[int, typer.Option(help="ISO weekday, 5 = Friday (每周五)")] = 5,
) -> None:
    """Assign a section to a unit for a period; refused if another unit holds it then."""
    from gis.roads.assignments import assign_section
    from gis.roads.sections import resolve_section
    from gis.roads.units import resolve_unit

    s = settings()
    with database(s) as conn:
        row = assign_section(conn, resolve_section(conn, section), resolve_unit(conn, unit),
                             valid_from.date(), valid_to.date() if valid_to else None, duty_day)
        conn.commit()
    typer.echo(f"{row['section_code']} -> {row['unit_name']} from {row['valid_from']} to "
               f"{row['valid_to'] or 'open end'} (assignment {row['id']})")


@roads_app.command("roster")
def roads_roster_command(
    unit: Annotated[str, typer.Argument(help="unit name, ref or id")],
    output: Annotated[Path, typer.Option("--output", "-o", help="FILE.xlsx")],
) -> None:
    """Write a unit's weekly duty roster (值勤表) as XLSX."""
    from gis.roads.roster import roster_workbook
    from gis.roads.units import resolve_unit

    s = settings()
    with database(s) as conn:
        data = roster_workbook(conn, resolve_unit(conn, unit))
    output.write_bytes(data)
    typer.echo(f"roster written to {output} ({len(data)} bytes)")


user_app = typer.Typer(help="Accounts (用户): add, list, disable, grant roles over a scope.",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")
ROLE_HELP = "admin, grid_worker (网格员), inspector, planner or viewer"
SCOPE_HELP = "'' = everything, or a 6/9/12/15-digit district/street/community/grid code"


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="lower-case letters, digits, '.', '_', '-'")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="at least 10 characters (asked when not given)")],
    full_name: Annotated[str | None, typer.Option(help="the person's name")] = None,
    role: Annotated[list[str] | None, typer.Option(help=f"{ROLE_HELP} (repeatable)")] = None,
    scope: Annotated[str, typer.Option(help=SCOPE_HELP)] = "",
) -> None:
    """Add a user, optionally with roles over one scope."""
    from gis.access import accounts

    s = settings()
    with database(s) as conn:
        accounts.create_user(conn, username, password, full_name)
        for r in role or []:
            accounts.grant(conn, username, r, scope)
        conn.commit()
    granted = f" with {', '.join(role)} over {scope or 'everything'}" if role else ""
    typer.echo(f"user {username} added{granted}")


@user_app.command("list")
def user_list() -> None:
    """List the users, whether they are active, and their grants."""
    from rich.table import Table

    from gis.access import accounts

    s = settings()
    with database(s) as conn:
        users = accounts.list_users(conn)
    table = Table("username", "name", "active", "grants (role@scope)")
    for u in users:
        grants = ", ".join(f"{g['role']}@{g['scope'] or '*'}" for g in u["grants"]) or "-"
        table.add_row(u["username"], u["full_name"] or "", "yes" if u["active"] else "DISABLED", grants)
    Console().print(table)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable a user and revoke their tokens at once."""
    from gis.access import accounts

    s = settings()
    with database(s) as conn:
        accounts.set_active(conn, username, False)
        conn.commit()
    typer.echo(f"user {username} disabled; their tokens are revoked")


@user_app.command("enable")
def user_enable(username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled user again (they sign in anew)."""
    from gis.access import accounts

    s = settings()
    with database(s) as conn:
        accounts.set_active(conn, username, True)
        conn.commit()
    typer.echo(f"user {username} enabled")


@user_app.command("grant")
def user_grant(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help=ROLE_HELP)],
    scope: Annotated[str, typer.Option(help=SCOPE_HELP)] = "",
    revoke: Annotated[bool, typer.Option("--revoke", help="take the grant away instead")] = False,
) -> None:
    """Give a user a role over a scope (or take it away with --revoke)."""
    from gis.access import accounts

    s = settings()
    with database(s) as conn:
        if revoke:
            if not accounts.revoke_grant(conn, username, role, scope):
                fail(f"{username} holds no {role} over {scope or 'everything'}")
        else:
            accounts.grant(conn, username, role, scope)
        conn.commit()
    typer.echo(f"{username}: {'revoked' if revoke else 'granted'} {role} over {scope or 'everything'}")


@user_app.command("demo")
def user_demo() -> None:
    """Create (or reset) one demo user per role with fresh random passwords, and say how to sign in."""
    from gis.access import accounts

    s = settings()
    with database(s) as conn:
        made = accounts.demo_users(conn)
        conn.commit()
    _print_demo_users(s, made)


def _print_demo_users(s: Settings, made: list[dict]) -> None:
    from rich.table import Table

    table = Table("username", "password", "role", "scope", title="demo users (passwords shown once)")
    for u in made:
        table.add_row(u["username"], u["password"], u["role"], u["scope"] or "everything")
    Console().print(table)
    base = f"http://{s.host}:{s.port}"
    typer.echo(f"sign in: open {base}/login, or\n"
               f"  curl -s -d username=demo-admin -d password=... {base}/auth/token\n"
               f"  then send 'Authorization: Bearer <access_token>' with every request")


def main() -> None:
    try:
        app()
    except GridmapError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
