"""What every gridmap command shares: settings, the error exit and a migrated database connection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import psycopg
import typer
from rich.console import Console
from rich.markup import escape

from gis import db as gisdb
from gis.errors import GridmapError
from gis.migrate import migrate as apply_migrations
from gis.settings import Settings

console = Console(stderr=True)  # progress and messages; stdout stays for the data a command prints


def settings() -> Settings:
    return Settings()


def report_error(message: str) -> None:
    """`error: ...` on stderr; the message is text, not markup (a bbox's [ ] stays as written)."""
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """End the command for a user mistake: the message, exit status 2 (as click's usage errors)."""
    report_error(message)
    raise typer.Exit(2)


def connect(s: Settings) -> psycopg.Connection:
    """The owner's connection; a connection that fails says where it tried and what to check."""
    from api.cli.errors import database_unreachable

    # libpq waits for an unreachable host as long as TCP does (minutes): a command says so sooner
    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")
    try:
        return gisdb.connect(s)
    except psycopg.OperationalError as exc:
        if exc.sqlstate is not None:  # the server answered: not a connection problem
            raise
        raise database_unreachable(exc, gisdb.conninfo(s), s.embedded) from None
    except psycopg.ProgrammingError as exc:  # libpq could not parse GRIDMAP_DATABASE_URL
        reason = str(exc).strip()
        raise GridmapError(f"GRIDMAP_DATABASE_URL is not a connection string PostgreSQL reads ({reason}); "
                           "write postgresql://USER:PASSWORD@HOST:PORT/DBNAME") from None


def ensure_database(s: Settings) -> None:
    """Start the embedded cluster when no GRIDMAP_DATABASE_URL is set, then migrate."""
    if s.embedded:
        cluster = gisdb.cluster(s)
        if cluster.start():
            console.print(f"started embedded PostGIS in {cluster.pgdata}")
        cluster.ensure_database()
    with connect(s) as conn:
        applied = apply_migrations(conn)
    for name in applied:
        console.print(f"applied migration {name}")


@contextmanager
def database(s: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A connection for a command: the embedded cluster is started and migrated first if needed.

    As psycopg's connection block does, the work is committed when the block ends normally and
    rolled back when it raises (a fail() inside it included).
    """
    s = s or settings()
    ensure_database(s)
    with connect(s) as conn:
        yield conn
