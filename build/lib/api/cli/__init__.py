"""The gridmap command line: database, demo data, import/export, maps, checks and the server."""

from __future__ import annotations

import typer

from api.cli import checks, data, register, roads, server, users
from api.cli.base import fail
from gis.errors import GridmapError

app = typer.Typer(help="gridmap: grid management GIS (网格化管理) on PostGIS.", no_args_is_help=True)
# Added without a name, these put their commands at the top level; typer lists the commands in the
# order they are added here, then the groups.
for top_level in (server.commands, data.commands, register.commands):
    app.add_typer(top_level)
app.add_typer(server.db_app, name="db")
app.add_typer(checks.app, name="check")
app.add_typer(register.register_app, name="register")
app.add_typer(register.map_app, name="map")
app.add_typer(roads.app, name="roads")
app.add_typer(users.app, name="user")


def main() -> None:
    try:
        app()
    except GridmapError as exc:
        fail(str(exc))
