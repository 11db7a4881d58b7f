"""Perimeter rules (校园周边规则) from the command line: rules list|categories|add|change|remove.

The same rules as /perimeter/rules, edited by the database owner: a province adds its own (a
distance, a category the national rules do not name) without a request to the service.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.base import database, fail

app = typer.Typer(help="Perimeter rules (校园周边规则): list, add, change, remove; place categories.",
                  no_args_is_help=True)
COLUMNS = ("id", "region", "category", "school_levels", "distance_m", "kind", "method", "note")
FORMATS = ("table", "json")

Format = Annotated[str, typer.Option("--format", help="table or json")]
RuleId = Annotated[int, typer.Argument(help="the rule's id (see `gridmap rules list`)")]
Region = Annotated[str | None, typer.Option(help="'national' or an administrative code prefix, e.g. 43 "
                                                 "(Hunan), 4310 (Chenzhou)")]
Category = Annotated[str | None, typer.Option(help="place category: code or Chinese name (游戏厅)")]
Levels = Annotated[list[str] | None, typer.Option(
    "--level", help="school level, repeatable or comma-separated: kindergarten, primary, middle, high, "
                    "vocational")]
Distance = Annotated[float | None, typer.Option("--distance", help="metres, more than 0 and at most 2000")]
Kind = Annotated[str | None, typer.Option(help="forbidden or licence_required")]
Method = Annotated[str | None, typer.Option(help="boundary (from any point of the campus) or entrance "
                                                 "(gate to door)")]
Note = Annotated[str | None, typer.Option(help="the legal basis, e.g. 娱乐场所管理条例 第七条")]


def _check_format(format: str) -> None:
    if format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")


def _show(rows: list[dict[str, Any]], columns: tuple[str, ...], format: str, title: str | None = None
          ) -> None:
    """Rows as a table for people or as JSON (one array, UTF-8) for scripts, on stdout."""
    if format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(",".join(v) if isinstance(v, list) else "" if v is None else f"{v:g}"
                        if isinstance(v, float) else str(v) for v in (row[c] for c in columns)))
    Console(width=max(Console().width, 160)).print(table)  # notes are long: fold them, not the codes


def _levels(given: list[str] | None) -> list[str] | None:
    if not given:
        return None
    return [level.strip() for item in given for level in item.split(",") if level.strip()]


@app.command("list")
def rules_list(format: Format = "table") -> None:
    """Every rule, by region and category: the most specific region's rules win for a place."""
    from gis.perimeter.rules import list_rules

    _check_format(format)
    with database() as conn:
        rows = list_rules(conn)
    _show(rows, COLUMNS, format, title=f"{len(rows)} perimeter rule(s)")


@app.command("categories")
def rules_categories(format: Format = "table") -> None:
    """The place categories a rule can name, with how many places and rules use each."""
    from gis.perimeter.rules import list_categories

    _check_format(format)
    with database() as conn:
        rows = list_categories(conn)
    _show(rows, ("code", "name_zh", "name_en", "places", "rules"), format)


@app.command("add")
def rules_add(
    category: Category = None,
    level: Levels = None,
    distance: Distance = None,
    kind: Kind = None,
    region: Region = "national",
    method: Method = "boundary",
    note: Note = None,
    category_name: Annotated[str | None, typer.Option(
        help="add --category as a new place category with this Chinese name (e.g. 歌舞娱乐场所)")] = None,
    category_name_en: Annotated[str | None, typer.Option(help="the new category's English name")] = None,
    format: Format = "table",
) -> None:
    """Add a rule; with --category-name, first add its category (a province's own kind of place)."""
    from gis.errors import InvalidInput
    from gis.perimeter.rules import add_category, add_rule

    _check_format(format)
    missing = [o for o, v in (("--category", category), ("--level", level), ("--distance", distance),
                              ("--kind", kind)) if v in (None, [])]
    if missing:
        fail(f"a rule needs {', '.join(missing)}")
    with database() as conn:
        if category_name is not None:
            assert category is not None
            add_category(conn, category, category_name, category_name_en)
        try:
            row = add_rule(conn, {"region": region, "category": category, "school_levels": _levels(level),
                                  "distance_m": distance, "kind": kind, "method": method, "note": note})
        except InvalidInput as exc:
            if category_name is None and any(p.field == "category" for p in exc.problems):
                fail(f"{exc}\n  hint: a category of your own needs --category-name (its Chinese name)")
            raise
    _show([row], COLUMNS, format, title="added")


@app.command("change")
def rules_change(
    rule_id: RuleId,
    category: Category = None,
    level: Levels = None,
    distance: Distance = None,
    kind: Kind = None,
    region: Region = None,
    method: Method = None,
    note: Note = None,
    format: Format = "table",
) -> None:
    """Change the given fields of a rule; the others keep their values."""
    from gis.perimeter.rules import change_rule, get_rule

    _check_format(format)
    given = {"region": region, "category": category, "school_levels": _levels(level), "distance_m": distance,
             "kind": kind, "method": method, "note": note}
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        fail("nothing to change: give at least one of --region, --category, --level, --distance, --kind, "
             "--method, --note")
    with database() as conn:
        rule = get_rule(conn, rule_id)
        row = change_rule(conn, rule_id, {**{k: v for k, v in rule.items() if k != "id"}, **changes})
    _show([row], COLUMNS, format, title="changed")


@app.command("remove")
def rules_remove(rule_id: RuleId) -> None:
    """Remove a rule; the check stops reporting what only it forbade."""
    from gis.perimeter.rules import remove_rule

    with database() as conn:
        remove_rule(conn, rule_id)
    typer.echo(f"rule {rule_id} removed")
