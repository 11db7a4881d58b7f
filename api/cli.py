"""The gridmap command line: database, demo data, import/export, maps, checks and the server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from gis import db as gisdb
from gis.errors import GridmapError
from gis.migrate import migrate as apply_migrations
from gis.settings import Settings

app = typer.Typer(help="gridmap: grid management GIS (网格化管理) on PostGIS.", no_args_is_help=True)
db_app = typer.Typer(help="The database: the embedded PostGIS cluster and migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
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
    import uvicorn

    from api.app import create_app

    s = settings()
    ensure_database(s)
    host, port = host or s.host, port or s.port
    base = f"http://{host}:{port}"
    typer.echo(f"gridmap on {base}\n  API docs:  {base}/docs\n  maps:      {base}/maps/")
    uvicorn.run(create_app(s), host=host, port=port, log_level="info")


def main() -> None:
    try:
        app()
    except GridmapError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
