"""The packaged SQL of the road-section capability (gis/sql/roads_*.sql), read once per call."""

from __future__ import annotations

from importlib import resources


def sql_text(name: str) -> str:
    return resources.files("gis.sql").joinpath(f"{name}.sql").read_text("utf-8")


def sql_statements(name: str) -> list[str]:
    """The statements of a .sql file holding several, each ending with ';' and a blank line."""
    return [s.strip() for s in sql_text(name).split(";\n\n") if s.strip()]
