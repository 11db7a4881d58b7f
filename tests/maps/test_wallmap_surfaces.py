"""The wall map (一图上墙) from the CLI and the API: `gridmap map grid CODE --pdf -o FILE --paper A1
--profile public`, the PDF routes with their profiles and errors, and the download links on the web
maps."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from gis.access import accounts
from tests.maps.test_wallmap import REF, STREET, wall  # noqa: F401  (the module fixture)
from tests.maps.wallmap_pdf import page_size, text

A1 = (594 * 72 / 25.4, 841 * 72 / 25.4)


@pytest.fixture
def runner(database_url, monkeypatch, tmp_path) -> CliRunner:
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", database_url)
    monkeypatch.setenv("GRIDMAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner()


def test_cli_writes_the_grid_wall_map(runner, wall, tmp_path):  # noqa: F811
    out = tmp_path / "grid.pdf"
    result = runner.invoke(cli, ["map", "grid", wall.grids[0], "--pdf", "-o", str(out), "--paper", "A1",
                                 "--profile", "public"])
    assert result.exit_code == 0, result.output
    assert "1:2,000" in result.output and "A1" in result.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and sorted(page_size(pdf)) == pytest.approx(A1, abs=0.5)
    assert "西区网格 网格图" in text(pdf)


@pytest.mark.parametrize("args, message", [
    (["map", "community", "439901007001", "--pdf", "-o", "x.pdf", "--paper", "B1"], "paper"),
    (["map", "grid", "439901007001001", "--pdf", "-o", "x.html"], ".pdf"),
    (["map", "grid", "439901007001001", "--pdf", "-o", "x.pdf", "--profile", "wall"], "profile"),
    (["map", "sections", "4399", "-o", "x.pdf"], "9-digit"),
])
def test_cli_mistakes_are_named(runner, wall, args, message):  # noqa: F811
    result = runner.invoke(cli, args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_cli_writes_school_and_sections_sheets(runner, wall, tmp_path):  # noqa: F811
    for args in (["school", f"{REF}s1"], ["sections", STREET]):
        out = tmp_path / f"{args[0]}.pdf"
        result = runner.invoke(cli, ["map", *args, "-o", str(out), "--profile", "office"])
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(b"%PDF")


def test_the_api_serves_each_sheet_as_pdf(client, wall):  # noqa: F811
    for path in (f"/maps/grids/{wall.grids[0]}/wall.pdf?paper=A1",
                 f"/maps/communities/{wall.community}/wall.pdf?profile=office",
                 f"/maps/perimeter/schools/{REF}s1/wall.pdf",
                 f"/maps/street/{STREET}/sections.pdf?paper=A2"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-disposition"].startswith('attachment; filename="wallmap-')
        assert r.content.startswith(b"%PDF")
    r = client.get(f"/maps/grids/{wall.grids[0]}/wall.pdf?paper=A1")
    assert sorted(page_size(r.content)) == pytest.approx(A1, abs=0.5)
    assert "1_2000" in r.headers["content-disposition"]


@pytest.mark.parametrize("query, field", [("paper=B5", "paper"), ("profile=wall", "profile"),
                                          ("scale=3000", "scale"), ("paper=A4&scale=500", "scale")])
def test_the_api_names_the_bad_parameter(client, wall, query, field):  # noqa: F811
    r = client.get(f"/maps/grids/{wall.grids[0]}/wall.pdf?{query}")
    assert r.status_code == 422 and field in r.text, r.text


def test_unknown_areas_are_404(client, wall):  # noqa: F811
    assert client.get("/maps/grids/439901007001009/wall.pdf").status_code == 404
    assert client.get("/maps/perimeter/schools/no-such-school/wall.pdf").status_code == 404
    assert client.get("/maps/street/439901999/sections.pdf").status_code == 404


def test_the_office_profile_is_for_those_who_keep_the_records(settings, database_url, wall):  # noqa: F811
    from fastapi.testclient import TestClient

    from api.app import create_app

    username, password = f"wallmap-viewer-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    with psycopg.connect(database_url) as conn:
        accounts.create_user(conn, username, password)
        accounts.grant(conn, username, "viewer", "")
        token, _ = accounts.issue_token(conn, username, password, settings.secret_key, timedelta(hours=1))
        conn.commit()
    try:
        with TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"}) as viewer:
            assert viewer.get(f"/maps/street/{STREET}/sections.pdf").status_code == 200
            office = viewer.get(f"/maps/street/{STREET}/sections.pdf?profile=office")
            assert office.status_code == 403 and "profile" in office.text
            assert viewer.get(f"/maps/perimeter/schools/{REF}s1/wall.pdf").status_code == 200
            assert viewer.get(f"/maps/grids/{wall.grids[0]}/wall.pdf").status_code == 403  # the register's
    finally:
        with psycopg.connect(database_url) as conn:
            conn.execute("DELETE FROM app_user WHERE username = %s", [username])


def test_the_web_maps_link_their_wall_map(client, wall):  # noqa: F811
    page = client.get(f"/maps/grids/{wall.grids[0]}").text
    assert f"/maps/grids/{wall.grids[0]}/wall.pdf" in page and "下载上墙图" in page
    page = client.get(f"/maps/communities/{wall.community}").text
    assert f"/maps/communities/{wall.community}/wall.pdf" in page
    assert f"/maps/street/{STREET}/sections.pdf" in client.get(f"/maps/street/{STREET}").text
    assert f"/maps/perimeter/schools/{REF}s1/wall.pdf" in client.get(f"/maps/perimeter/schools/{REF}s1").text
