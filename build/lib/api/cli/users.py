"""Accounts (用户): user add|list|disable|enable|grant|demo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli.base import database, fail, settings
from gis.access import accounts
from gis.settings import Settings

if TYPE_CHECKING:
    import psycopg

app = typer.Typer(help="Accounts (用户): add, list, disable, grant roles over a scope.", no_args_is_help=True)
ROLE_HELP = "admin, grid_worker (网格员), inspector, planner or viewer"
SCOPE_HELP = "'' = everything, or a 6/9/12/15-digit district/street/community/grid code"
Username = Annotated[str, typer.Argument()]


@app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="lower-case letters, digits, '.', '_', '-'")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                          help="at least 10 characters (asked when not given)")],
    full_name: Annotated[str | None, typer.Option(help="the person's name")] = None,
    role: Annotated[list[str] | None, typer.Option(help=f"{ROLE_HELP} (repeatable)")] = None,
    scope: Annotated[str, typer.Option(help=SCOPE_HELP)] = "",
) -> None:
    """Add a user, optionally with roles over one scope."""
    with database() as conn:
        accounts.create_user(conn, username, password, full_name)
        for r in role or []:
            accounts.grant(conn, username, r, scope)
    granted = f" with {', '.join(role)} over {scope or 'everything'}" if role else ""
    typer.echo(f"user {username} added{granted}")


@app.command("list")
def user_list() -> None:
    """List the users, whether they are active, and their grants."""
    with database() as conn:
        users = accounts.list_users(conn)
    table = Table("username", "name", "active", "grants (role@scope)")
    for u in users:
        grants = ", ".join(f"{g['role']}@{g['scope'] or '*'}" for g in u["grants"]) or "-"
        table.add_row(u["username"], u["full_name"] or "", "yes" if u["active"] else "DISABLED", grants)
    Console().print(table)


@app.command("disable")
def user_disable(username: Username) -> None:
    """Disable a user and revoke their tokens at once."""
    with database() as conn:
        accounts.set_active(conn, username, False)
    typer.echo(f"user {username} disabled; their tokens are revoked")


@app.command("enable")
def user_enable(username: Username) -> None:
    """Enable a disabled user again (they sign in anew)."""
    with database() as conn:
        accounts.set_active(conn, username, True)
    typer.echo(f"user {username} enabled")


@app.command("grant")
def user_grant(
    username: Username,
    role: Annotated[str, typer.Argument(help=ROLE_HELP)],
    scope: Annotated[str, typer.Option(help=SCOPE_HELP)] = "",
    revoke: Annotated[bool, typer.Option("--revoke", help="take the grant away instead")] = False,
) -> None:
    """Give a user a role over a scope (or take it away with --revoke)."""
    with database() as conn:
        if not revoke:
            accounts.grant(conn, username, role, scope)
        elif not accounts.revoke_grant(conn, username, role, scope):
            fail(f"{username} holds no {role} over {scope or 'everything'}")
    typer.echo(f"{username}: {'revoked' if revoke else 'granted'} {role} over {scope or 'everything'}")


@app.command("demo")
def user_demo() -> None:
    """Create (or reset) one demo user per role with fresh random passwords, and say how to sign in."""
    s = settings()
    with database(s) as conn:
        create_demo_users(conn, s)


def create_demo_users(conn: psycopg.Connection, s: Settings) -> None:
    """One demo user per role with fresh random passwords, committed, then shown once with how to sign in."""
    made = accounts.demo_users(conn)
    conn.commit()  # the passwords are shown only once they are stored
    table = Table("username", "password", "role", "scope", title="demo users (passwords shown once)")
    for u in made:
        table.add_row(u["username"], u["password"], u["role"], u["scope"] or "everything")
    Console().print(table)
    base = f"http://{s.host}:{s.port}"
    typer.echo(f"sign in: open {base}/login, or\n"
               f"  curl -s -d username=demo-admin -d password=... {base}/auth/token\n"
               f"  then send 'Authorization: Bearer <access_token>' with every request")
