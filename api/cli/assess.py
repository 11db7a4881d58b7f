"""Evidence and the quarterly assessment (考核) from the command line: assess demo-sheet|import-sheet|
freeze|bundle|verify.

``verify`` needs no database: it re-checks a bundle (the street's copy) on any machine — every file's
sha256 against the manifest, the manifest's own hash — and exits 1 naming the first mismatch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.base import console, database, fail, report_error, settings
from gis.assessment import bundle, freeze, quarters, sheet

app = typer.Typer(help="The quarterly assessment (考核): scoring sheets, submissions, bundles.",
                  no_args_is_help=True)
Quarter = Annotated[str, typer.Option("--quarter", help="the quarter, e.g. 2026Q1")]


@app.command("demo-sheet")
def demo_sheet(out: Annotated[Path, typer.Argument(help="where to write the 30-item demo sheet (.xlsx)")]
               ) -> None:
    """Write the 30-item demo scoring sheet (评分细则, Chinese headers; 14 items measured live)."""
    from gis.demo.scoring import demo_sheet_xlsx

    out.write_bytes(demo_sheet_xlsx())
    console.print(f"wrote {out}")


@app.command("import-sheet")
def import_sheet(
    file: Annotated[Path, typer.Argument(help="the scoring sheet (.xlsx)", exists=True, dir_okay=False)],
    quarter: Quarter,
    scope: Annotated[str, typer.Option("--scope", help="the 9-digit street the sheet scores")],
    title: Annotated[str, typer.Option("--title", help="the sheet's title")] = "考核评分细则",
) -> None:
    """Import a quarter's scoring sheet as the database owner."""
    q, s = quarters.parse(quarter, "--quarter"), settings()
    with database(s) as conn:
        found = sheet.import_sheet(conn, s.data_dir, file.read_bytes(), quarter=q,
                                   scope=scope, title=title, stored_by="owner")
    measured = sum(1 for i in found["items"] if i["figure"])
    typer.echo(f"sheet {found['id']}: {len(found['items'])} items, {measured} filled from live figures")


@app.command("freeze")
def freeze_command(community: Annotated[str, typer.Argument(help="the 12-digit community code")],
                   quarter: Quarter) -> None:
    """Freeze a community's quarter (the figures as the owner sees them: every row)."""
    q, s = quarters.parse(quarter, "--quarter"), settings()
    if len(community) != 12 or not community.isdigit():
        fail("COMMUNITY must be a 12-digit community code")
    with database(s) as conn:
        frozen = freeze.freeze(conn, s.data_dir, q, community)
    typer.echo(f"submission {frozen['id']}: manifest sha256 {frozen['manifest_sha256']}")


@app.command("bundle")
def bundle_command(freeze_id: Annotated[int, typer.Argument(help="the submission's id")],
                   out: Annotated[Path, typer.Argument(help="where to write the ZIP")]) -> None:
    """Write a frozen submission's bundle (rebuilt from the frozen row, byte for byte)."""
    s = settings()
    partial = out.with_name(f".{out.name}.partial")  # a failed build leaves no half ZIP under the name
    try:
        with database(s) as conn, partial.open("wb") as f:
            digest = freeze.write(conn, s.data_dir, freeze_id, f)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    typer.echo(f"wrote {out}: manifest sha256 {digest}")


@app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="the bundle (.zip)", exists=True, dir_okay=False)],
    expect: Annotated[str | None, typer.Option("--expect", help="the manifest sha256 the service stored")]
    = None,
) -> None:
    """Re-check every file's sha256 and the manifest's own hash; exit 1 naming the first mismatch."""
    if expect is not None and (len(expect) != 64 or any(c not in "0123456789abcdef" for c in expect)):
        fail("--expect must be a sha256 (64 lowercase hex digits)")
    problems = bundle.verify(path, expect)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        report_error(f"{path}: {problems[0]}{more}")
        raise typer.Exit(1)
    typer.echo(f"{path}: every hash holds")
