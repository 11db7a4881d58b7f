"""Versioned SQL migrations: gis/migrations/NNN_name.sql, applied once each, in order."""

from __future__ import annotations

from importlib import resources

import psycopg

LOCK_KEY = 4_857_201  # advisory lock: two processes migrating at once wait for each other


def available() -> list[tuple[str, str]]:
    folder = resources.files("gis.migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text("utf-8")) for name in names]


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the pending migrations, each in its own transaction. Returns their names."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r[0] for r in conn.execute("SELECT name FROM schema_migration")}
        for name, text in available():
            if name in done:
                continue
            conn.execute(text)  # type: ignore[arg-type]
            conn.execute("INSERT INTO schema_migration (name) VALUES (%s)", [name])
            applied_now.append(name)
    return applied_now
