"""Settings of gridmap, read from GRIDMAP_* environment variables or a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    # NoDecode: the documented form is minlon,minlat,maxlon,maxlat, not JSON (parsed by _parse_bbox)
    region_bbox: Annotated[tuple[float, float, float, float], NoDecode] = CHINA_BBOX
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
    public_url: str | None = Field(default=None, description="the service's public base URL for links it "
                                   "writes (OGC, TileJSON); unset = http://HOST:PORT. Never taken from Host")
    # NoDecode: a comma-separated list of addresses, as an operator writes it
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="addresses of reverse proxies whose X-Forwarded-For/-Proto are believed")

    visit_far_m: float = Field(default=100.0, gt=0, le=100_000, description="a visit (走访) checked in "
                               "farther than this from the household, in metres, is flagged (not refused)")

    # NoDecode: comma-separated origins, as an operator writes them; empty = no CORS headers at all
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="browser origins (https://host[:port], or *) allowed to call the API")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p for p in value.replace(" ", "").split(",") if p)
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(o.rstrip("/") for o in value.replace(" ", "").split(",") if o)
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            scheme, _, host = origin.partition("://")
            if origin != "*" and (scheme not in ("http", "https") or not host or "/" in host):
                raise ValueError(f"GRIDMAP_CORS_ORIGINS: {origin!r} is not an origin like https://gis.example.cn")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("GRIDMAP_PUBLIC_URL must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("region_bbox", mode="before")
    @classmethod
    def _parse_bbox(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in value.strip().strip("[]()").replace(" ", "").split(",") if p]
            if len(parts) != 4:
                raise ValueError("GRIDMAP_REGION_BBOX must be minlon,minlat,maxlon,maxlat")
            try:
                return tuple(float(p) for p in parts)
            except ValueError:
                raise ValueError("GRIDMAP_REGION_BBOX must be four numbers: minlon,minlat,maxlon,maxlat"
                                 ) from None
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
    def base_url(self) -> str:
        """Where clients reach the service: the configured public URL, else the address it listens on."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def embedded(self) -> bool:
        return self.database_url is None
