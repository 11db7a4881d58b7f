"""Settings of gridmap, read from GRIDMAP_* environment variables or a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Keys the stored token hashes. Fine on a developer's machine, refused when serving anyone else.
DEFAULT_SECRET_KEY = "gridmap-local-only-change-me"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

# Mainland China, generous: a coordinate outside is most likely swapped or in the wrong CRS.
CHINA_BBOX = (73.4, 17.9, 135.2, 53.6)


class Settings(BaseSettings):
    """Where the data lives and how the service behaves.

    With no ``database_url`` gridmap runs its own embedded PostGIS cluster in ``data_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, description="An existing PostGIS; unset = embedded")
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / ".gridmap")
    db_port: int = 54329
    region_bbox: tuple[float, float, float, float] = CHINA_BBOX
    basemap: Literal["none", "osm", "tianditu", "custom"] = "none"
    tianditu_key: str | None = None
    tile_url: str | None = Field(default=None, description="XYZ template for basemap=custom")
    tile_attribution: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = 8
    max_upload_mb: int = Field(default=200, ge=1, description="largest file accepted by POST /imports")
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, min_length=16,
                            description="keys the stored token hashes; must be set outside local runs")
    token_ttl_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30, description="bearer token lifetime")

    @field_validator("region_bbox", mode="before")
    @classmethod
    def _parse_bbox(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.replace(" ", "").split(",") if p]
            if len(parts) != 4:
                raise ValueError("GRIDMAP_REGION_BBOX must be minlon,minlat,maxlon,maxlat")
            return tuple(float(p) for p in parts)
        return value

    @field_validator("region_bbox")
    @classmethod
    def _check_bbox(cls, value: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        minlon, minlat, maxlon, maxlat = value
        if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
            raise ValueError("GRIDMAP_REGION_BBOX must be minlon,minlat,maxlon,maxlat with min < max")
        return value

    @model_validator(mode="after")
    def _check_basemap(self) -> Settings:
        if self.basemap == "tianditu" and not self.tianditu_key:
            raise ValueError("GRIDMAP_BASEMAP=tianditu needs GRIDMAP_TIANDITU_KEY")
        if self.basemap == "custom" and not self.tile_url:
            raise ValueError("GRIDMAP_BASEMAP=custom needs GRIDMAP_TILE_URL (an XYZ template)")
        return self

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.secret_key == DEFAULT_SECRET_KEY and not self.local:
            raise ValueError(f"GRIDMAP_SECRET_KEY must be set to a secret of your own to serve on "
                             f"{self.host}: the default is for local runs (127.0.0.1) only")
        return self

    @property
    def local(self) -> bool:
        """Served on this machine only (loopback)."""
        return self.host in LOOPBACK

    @property
    def embedded(self) -> bool:
        return self.database_url is None
