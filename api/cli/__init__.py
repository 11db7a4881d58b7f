"""The gridmap command line: database, demo data, import/export, maps, checks and the server."""

from __future__ import annotations

import typer

from api.cli import assess, checks, data, register, roads, rules, server, users
from api.cli.errors import GridmapGroup

# GridmapGroup: every user mistake in any command ends as `error: ...` with exit status 2.
app = typer.Typer(cls=GridmapGroup, help="gridmap: grid management GIS (网格化管理) on PostGIS.",
                  no_args_is_help=True)
# Added without a name, these put their commands at the top level; typer lists the commands in the
# order they are added here, then the groups.
for top_level in (server.commands, data.commands, register.commands):
    app.add_typer(top_level)
app.add_typer(server.db_app, name="db")
app.add_typer(checks.app, name="check")
app.add_typer(register.register_app, name="register")
app.add_typer(register.map_app, name="map")
app.add_typer(roads.app, name="roads")
app.add_typer(rules.app, name="rules")
app.add_typer(users.app, name="user")
app.add_typer(assess.app, name="assess")  # 考核 (issue 16 part C): sheets, submissions, verify


def main() -> None:
    app()
