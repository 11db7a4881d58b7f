"""Versioned SQL migrations: gis/migrations/NNN_name.sql, applied once each, in order, checksummed."""

from __future__ import annotations

import hashlib
from importlib import resources

import psycopg

from gis.errors import Conflict

LOCK_KEY = 4_857_201  # advisory lock: two processes migrating at once wait for each other


def available() -> list[tuple[str, str]]:
    folder = resources.files("gis.migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text("utf-8")) for name in names]


def checksum(text: str) -> str:
    """The sha256 of a migration's text, as recorded in schema_migration."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the pending migrations in order, in one transaction. Returns their names.

    Raises Conflict, naming the files, when an applied migration's file no longer matches the
    checksum recorded when it was applied: the database was built from other SQL than the file now
    says, so a change must come as a new migration."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), sha256 text)"
        )
        # Databases migrated before checksums were recorded: add the column, then trust the files
        # as they are on this first run (there is nothing older to compare them with).
        conn.execute("ALTER TABLE schema_migration ADD COLUMN IF NOT EXISTS sha256 text")
        files = [(name, text, checksum(text)) for name, text in available()]
        conn.execute(
            "UPDATE schema_migration m SET sha256 = f.sha256"
            " FROM unnest(%s::text[], %s::text[]) AS f(name, sha256)"
            " WHERE m.name = f.name AND m.sha256 IS NULL",
            [[f[0] for f in files], [f[2] for f in files]],
        )
        rows = conn.execute("SELECT name, sha256 FROM schema_migration").fetchall()
        recorded: dict[str, str | None] = dict(rows)
        edited = [f"{name}.sql" for name, _, digest in files if name in recorded and recorded[name] != digest]
        if edited:
            raise Conflict(
                f"applied migration{'s' if len(edited) > 1 else ''} {', '.join(edited)} changed since"
                " it was applied (its sha256 no longer matches schema_migration): restore the file and"
                " put the change in a new migration"
            )
        for name, text, digest in files:
            if name in recorded:
                continue
            conn.execute(text)  # type: ignore[arg-type]
            conn.execute("INSERT INTO schema_migration (name, sha256) VALUES (%s, %s)", [name, digest])
            applied_now.append(name)
    return applied_now
