"""User mistakes end a command with one clear line on stderr and exit status 2, never a traceback.

Every command runs inside GridmapGroup.invoke, so an error raised anywhere in a command (a
domain error, a bad GRIDMAP_* setting, an unreachable database, a missing file) is reported the same
way. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

import psycopg
import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from gis.errors import GridmapError

USER_MISTAKE = 2  # as click answers a usage error


class DatabaseUnreachable(GridmapError):
    """The database named by the settings cannot be connected to (raised at connection time only)."""

    def __init__(self, where: str, reason: str, embedded: bool) -> None:
        hint = ("the embedded cluster: run `gridmap db start`, or set GRIDMAP_DATABASE_URL"
                if embedded else
                "check GRIDMAP_DATABASE_URL (postgresql://USER@HOST:PORT/DBNAME) and that PostgreSQL "
                "runs there, or unset it to use the embedded cluster")
        super().__init__(f"cannot reach the database {where}: {reason}\n  hint: {hint}")


def database_unreachable(exc: psycopg.Error, conninfo: str, embedded: bool) -> DatabaseUnreachable:
    """The connection error psycopg raised, with where it tried (never the password) and what to do."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(conninfo)  # it parsed: psycopg.connect got this far
    host, port = parts.get("host") or "localhost", parts.get("port") or "5432"
    where = f"{parts.get('dbname') or '(default)'} on {host}:{port}"
    # libpq's message: the first line says what failed, the rest repeats it or guesses
    reason = str(exc).removeprefix("connection failed: ").strip().splitlines()[0]
    return DatabaseUnreachable(where, reason, embedded)


def setting_errors(exc: ValidationError) -> str:
    """Each bad GRIDMAP_* variable with the reason, as the operator wrote it (not pydantic's loc)."""
    lines = []
    for e in exc.errors():
        reason = str(e["msg"]).removeprefix("Value error, ")
        if e["loc"]:
            name = f"GRIDMAP_{str(e['loc'][0]).upper()}"
            given = e.get("input")
            shown = f" (given {given!r})" if isinstance(given, str | int | float) else ""
            lines.append(f"{name}{shown}: {reason}")
        else:
            lines.append(reason)  # a check across settings names its variables itself
    return "invalid setting: " + "; ".join(lines)


def user_message(exc: Exception) -> str | None:
    """What to tell the user for an error they can fix; None for a bug."""
    if isinstance(exc, GridmapError):
        return str(exc)
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return setting_errors(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return None


class GridmapGroup(TyperGroup):
    """The top-level command group: turns user mistakes into `error: ...` and exit status 2."""

    def invoke(self, ctx: Any) -> Any:  # typer's (vendored) click Context
        try:
            return super().invoke(ctx)
        except Exception as exc:  # typer's Exit and usage errors are none of user_message's kinds
            message = user_message(exc)
            if message is None:
                raise
            from api.cli.base import report_error

            report_error(message)
            raise typer.Exit(USER_MISTAKE) from None
