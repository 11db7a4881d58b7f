"""The database and the server: db start|stop|status|migrate, serve, up."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.base import console, database, ensure_database, fail, settings
from api.cli.data import load_demo_with_progress
from api.cli.users import create_demo_users
from gis import db as gisdb
from gis.settings import DEFAULT_SECRET_KEY, LOOPBACK, Settings

commands = typer.Typer()  # serve and up sit at the top level
db_app = typer.Typer(help="The database: the embedded PostGIS cluster and migrations.", no_args_is_help=True)

# uvicorn believes X-Forwarded-For and -Proto from 127.0.0.1 unless told not to: the app decides whom
# to believe itself (GRIDMAP_TRUSTED_PROXIES, api.deps.client_address).
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}

Host = Annotated[str | None, typer.Option(help="Interface to listen on")]
Port = Annotated[int | None, typer.Option(help="Port to listen on")]


def prepare_database(s: Settings) -> None:
    """Start the embedded cluster if it is ours, migrate, and give the service's login role the
    password the service signs in with (derived from GRIDMAP_SECRET_KEY)."""
    ensure_database(s)
    with gisdb.connect(s) as conn:
        gisdb.set_app_password(conn, s)


@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostGIS cluster (creating it on first use) and apply migrations."""
    prepare_database(settings())


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
    """Apply pending SQL migrations and set the service's login role's password."""
    prepare_database(settings())


@commands.command()
def serve(host: Host = None, port: Port = None) -> None:
    """Serve the API and the maps."""
    s = settings()
    _check_secret(s, host)
    prepare_database(s)
    _serve(s, host, port)


@commands.command()
def up(host: Host = None, port: Port = None) -> None:
    """Start the database, load the demo street (演示街道) if the database is empty, and serve."""
    from gis.demo.street import generate_street

    s = settings()
    _check_secret(s, host)
    with database(s) as conn:
        empty = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM community)").fetchone()
        if empty and empty[0]:
            console.print("loading the demo street (first run only)")
            counts = load_demo_with_progress(conn, generate_street())
            conn.commit()  # the street stays even if making the demo users fails
            console.print(", ".join(f"{n} {layer}" for layer, n in counts.items()))
            create_demo_users(conn, s)
    prepare_database(s)
    _serve(s, host, port)


def _check_secret(s: Settings, host: str | None) -> None:
    """Before touching the database: --host bypasses the Settings check."""
    host = host or s.host
    if host not in LOOPBACK and s.secret_key == DEFAULT_SECRET_KEY:
        fail(f"GRIDMAP_SECRET_KEY must be set to a secret of your own to serve on {host}")


def _serve(s: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from api.app import create_app

    host, port = host or s.host, port or s.port
    _check_secret(s, host)
    s = s.model_copy(update={"host": host, "port": port})  # the app decides (Secure cookies) by the bind
    base = f"http://{host}:{port}"
    typer.echo(f"gridmap on {base}\n  API docs:  {base}/docs\n  maps:      {base}/maps/")
    uvicorn.run(create_app(s), host=host, port=port, log_level="info", **UVICORN_OPTIONS)
