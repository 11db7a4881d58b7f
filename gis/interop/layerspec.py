"""What an importable layer looks like: its fields, geometry and the SQL that moves staged rows in.

The importer reads a file into a frame, maps columns to these fields and validates values in Python
(types, vocabularies, checksums, geometry, region: gis/interop/validate.py), then COPYs the rows into a
temporary table called ``staging`` and runs ``check_sql`` (set-based checks needing the database, e.g.
an unknown parent ref) and ``insert_sql`` (one INSERT ... SELECT FROM staging) in one transaction
(gis/interop/importing.py). Each capability declares its layers beside it (``specs.py``); gis/catalog.py
lists them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

    from gis.errors import Problem

FieldKind = Literal["text", "int", "float", "bool", "date"]
GeometryKind = Literal["point", "polygon", "line", "any"]


@dataclass(frozen=True)
class Field:
    """One attribute of a layer. ``name`` is both the staging column and the default property name."""

    name: str
    kind: FieldKind = "text"
    required: bool = False
    choices: tuple[str, ...] | None = None  # a vocabulary; values outside it are refused
    # A vocabulary kept as a table (code, Chinese name), read when an import starts: a province adds
    # its own place categories as data (`gridmap rules add`), and they are importable at once.
    vocabulary_sql: str | None = None
    check: Callable[[str], str | None] | None = None  # returns the reason a value is wrong, or None
    # The same check over a whole column (reason or None per row), for fields checked in bulk.
    check_column: Callable[[pd.Series], pd.Series] | None = None
    normalise: Callable[[str], str] | None = None  # applied before checks (e.g. strip, upper-case)
    aliases: tuple[str, ...] = ()  # other property names taken as this field (e.g. 名称 for name)
    description: str = ""
    unique: bool = False  # duplicates in the file, or against the same column of ``table``, are refused


@dataclass(frozen=True)
class LayerSpec:
    """An importable/exportable layer.

    ``insert_sql`` reads the temporary table ``staging`` (columns: ``row_no`` int, ``ref`` text, one
    column per field, ``geom`` geometry in EPSG:4326, GiST-indexed, when the layer has one) and writes the
    target table in one statement. ``check_sql`` (optional) returns rows ``(row_no, field, reason)``
    for problems only the database can see; any row aborts the import. ``after_sql`` runs after the
    insert (e.g. re-assigning households when grids change). ``export_sql`` selects the layer for
    export with a ``ref`` column and a ``geom`` column, optionally filtered by ``%(community)s`` /
    ``%(grid)s`` parameters (NULL = everything).
    """

    name: str
    table: str
    fields: tuple[Field, ...]
    geometry: GeometryKind | None
    insert_sql: str
    check_sql: str | None = None
    after_sql: str | None = None
    export_sql: str | None = None
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Cross-field rules in Python, after each field is typed: receives the frame of typed values
    # (one column per field, index = 1-based row numbers), may fill derived values in place and
    # returns the problems it found (e.g. a birth date that disagrees with the ID number).
    prepare: Callable[[pd.DataFrame], list[Problem]] | None = None
    # When True, ``insert_sql`` returns rows (placement, count, refs not inside) for the report.
    reports_placement: bool = False

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)
