"""The assess commands in the form the README gives them, against the folder's database: write the demo
sheet, import it for a quarter and street, freeze a community's quarter, write its bundle, verify it."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from api.cli import app

# A quarter of its own (demo_sheet holds the current one: this module's street has a sheet for it, as the
# demo test expects of every street in the database).
QUARTER = "2024Q3"


def test_the_documented_assess_commands(world, demo_sheet, database_url, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["assess", *args])
        assert result.exit_code == 0, result.output
        return result.output

    sheet, zipped = tmp_path / "评分细则.xlsx", tmp_path / "bundle.zip"
    run("demo-sheet", str(sheet))
    run("import-sheet", str(sheet), "--quarter", QUARTER, "--scope", world["street"])
    frozen = re.search(r"submission (\d+): manifest sha256 ([0-9a-f]{64})",
                       run("freeze", world["a"], "--quarter", QUARTER))
    assert frozen, "freeze names the submission and its manifest hash"
    run("bundle", frozen[1], str(zipped))
    run("verify", str(zipped), "--expect", frozen[2])
    again = runner.invoke(app, ["assess", "import-sheet", str(sheet), "--quarter", QUARTER,
                                "--scope", world["street"]])
    assert again.exit_code == 2 and "error:" in again.output  # one sheet per quarter and street
