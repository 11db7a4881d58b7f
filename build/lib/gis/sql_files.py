"""The one way to read packaged SQL: a .sql file that sits beside the Python of its capability."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def sql_text(package: str, name: str) -> str:
    """The text of ``name``.sql in ``package`` (e.g. ``sql_text("gis.roads", "coverage")``), read once."""
    return resources.files(package).joinpath(f"{name}.sql").read_text("utf-8")


def sql_statements(package: str, name: str) -> list[str]:
    """The statements of a .sql file holding several, each ending with ';' and a blank line."""
    return [s.strip() for s in sql_text(package, name).split(";\n\n") if s.strip()]
