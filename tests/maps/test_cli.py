"""`gridmap map grid|community CODE -o FILE.html`: one self-contained file per map."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def runner(database_url, monkeypatch, tmp_path) -> CliRunner:
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner()


def test_map_grid_writes_an_offline_file(runner, map_fixture, tmp_path, links):
    out = tmp_path / "grid.html"
    result = runner.invoke(app, ["map", "grid", map_fixture.grids[0], "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert links.page_urls(page) == [] and "西区网格" in page and "L.MarkerClusterGroup" in page
    assert "written to" in result.output


def test_map_community_writes_an_offline_file(runner, map_fixture, tmp_path, links):
    out = tmp_path / "community.html"
    result = runner.invoke(app, ["map", "community", map_fixture.community, "--output", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert links.page_urls(page) == [] and "测试社区" in page and "gridmap-hatch" in page


@pytest.mark.parametrize("args, message", [
    (["map", "grid", "439901007001009", "-o", "x.html"], "not found"),
    (["map", "community", "12", "-o", "x.html"], "12 digits"),
    (["map", "grid", "439901007001001", "-o", "x.png"], ".html"),
])
def test_map_command_errors(runner, map_fixture, tmp_path, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.html").exists()
