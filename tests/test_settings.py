"""Every setting the README documents, set in its documented form in the environment of a real process
(the way an operator sets it), is read as meant; a malformed value is a clear error, not a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# One documented example value per README setting, in the form the README gives it.
DOCUMENTED = {
    "GRIDMAP_DATABASE_URL": ("postgresql://user:pass@host/db", "database_url", "postgresql://user:pass@host/db"),
    "GRIDMAP_DATA_DIR": ("/srv/gridmap", "data_dir", "/srv/gridmap"),
    "GRIDMAP_DB_PORT": ("54330", "db_port", "54330"),
    "GRIDMAP_REGION_BBOX": ("73.4,17.9,135.2,53.6", "region_bbox", "(73.4, 17.9, 135.2, 53.6)"),
    "GRIDMAP_BASEMAP": ("osm", "basemap", "osm"),
    "GRIDMAP_HOST": ("127.0.0.1", "host", "127.0.0.1"),
    "GRIDMAP_PORT": ("8080", "port", "8080"),
    "GRIDMAP_TOKEN_TTL_MINUTES": ("60", "token_ttl_minutes", "60"),
    "GRIDMAP_SECRET_KEY": ("a-secret-of-our-own-0123456789", "secret_key", "a-secret-of-our-own-0123456789"),
    "GRIDMAP_MAX_UPLOAD_MB": ("50", "max_upload_mb", "50"),
    "GRIDMAP_VISIT_FAR_M": ("150", "visit_far_m", "150.0"),
    "GRIDMAP_PUBLIC_URL": ("https://grid.example.cn", "public_url", "https://grid.example.cn"),
    "GRIDMAP_TRUSTED_PROXIES": ("10.0.0.1,10.0.0.2", "trusted_proxies", "('10.0.0.1', '10.0.0.2')"),
    "GRIDMAP_CORS_ORIGINS": ("https://map.example.cn,http://localhost:5173", "cors_origins",
                             "('https://map.example.cn', 'http://localhost:5173')"),
}


def _read(env: dict[str, str], field: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    code = f"from gis.settings import Settings; print(getattr(Settings(_env_file=None), {field!r}))"
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                          cwd=ROOT)


def test_every_documented_setting_is_covered():
    documented = set(re.findall(r"`(GRIDMAP_[A-Z_]+)`", (ROOT / "README.md").read_text("utf-8")))
    documented -= {"GRIDMAP_TEST_DATABASE_URL", "GRIDMAP_TIANDITU_KEY", "GRIDMAP_TILE_URL"}  # below
    assert documented <= set(DOCUMENTED), f"README documents settings this test does not set: {documented}"


@pytest.mark.parametrize("variable", sorted(DOCUMENTED))
def test_documented_setting_in_documented_form(variable):
    value, field, expected = DOCUMENTED[variable]
    proc = _read({variable: value}, field)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


@pytest.mark.parametrize("env", [
    {"GRIDMAP_BASEMAP": "tianditu", "GRIDMAP_TIANDITU_KEY": "k0123"},
    {"GRIDMAP_BASEMAP": "custom", "GRIDMAP_TILE_URL": "http://tiles.local/{z}/{x}/{y}.png"},
])
def test_basemaps_with_their_companion_settings(env):
    proc = _read(env, "basemap")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == env["GRIDMAP_BASEMAP"]


@pytest.mark.parametrize("value", ["1,2,3", "a,b,c,d", "135.2,17.9,73.4,53.6"])
def test_bad_region_bbox_names_the_setting(value):
    proc = _read({"GRIDMAP_REGION_BBOX": value}, "region_bbox")
    assert proc.returncode != 0
    assert "GRIDMAP_REGION_BBOX" in proc.stderr
