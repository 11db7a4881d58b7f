"""What every gridmap command shares: settings, the error exit and a migrated database connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from gis import db as gisdb
from gis.migrate import migrate as apply_migrations
from gis.settings import Settings

if TYPE_CHECKING:
    import psycopg

console = Console(stderr=True)  # progress and messages; stdout stays for the data a command prints


def settings() -> Settings:
    return Settings()


def fail(message: str) -> NoReturn:
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
def database(s: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A connection for a command: the embedded cluster is started and migrated first if needed.

    As psycopg's connection block does, the work is committed when the block ends normally and
    rolled back when it raises (a fail() inside it included).
    """
    s = s or settings()
    ensure_database(s)
    with gisdb.connect(s) as conn:
        yield conn
