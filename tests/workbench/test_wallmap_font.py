"""A server without a TrueType CJK font: the wall-map PDF routes answer 503 naming the font files looked
for and the package to install, not a 500. The font path is pointed at a missing file (and the font
name at one not registered in this process), never uninstalled."""

from __future__ import annotations

import pytest

import gis.maps.wallmap as wallmap


@pytest.fixture
def no_cjk_font(monkeypatch):
    monkeypatch.setattr(wallmap, "FONT_FILES", ("/nonexistent/fonts/wqy-microhei.ttc",))
    monkeypatch.setattr(wallmap, "FONT", "GridmapCJKMissingForTest")


def test_wall_map_without_a_cjk_font_is_503_naming_the_font_and_the_package(signed_in, street, no_cjk_font):
    client = signed_in("admin")
    for path in (f"/maps/grids/{street.grid}/wall.pdf", f"/maps/communities/{street.community}/wall.pdf"):
        r = client.get(path)
        assert r.status_code == 503, (path, r.status_code, r.text[:300])
        text = r.text
        assert "/nonexistent/fonts/wqy-microhei.ttc" in text
        assert "apt-get install fonts-wqy-microhei" in text


def test_wall_map_with_the_font_is_a_pdf(signed_in, street):
    r = signed_in("admin").get(f"/maps/grids/{street.grid}/wall.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
