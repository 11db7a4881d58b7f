"""Coordinate systems on the way in: EPSG:4326, CGCS2000 (EPSG:4490), GCJ-02 (火星坐标) and, for
positions from Baidu-based apps, BD-09 (百度坐标).

pyproj handles the EPSG systems. GCJ-02 is not a CRS but a published obfuscation; the scalar
libraries (prcoords, eviltransform) are too slow for a million rows, so it is vectorised here with
numpy and checked against prcoords in the tests.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pyproj import CRS, Transformer

InputCRS = Literal["EPSG:4326", "EPSG:4490", "gcj02"]
BBox = tuple[float, float, float, float]  # minlon, minlat, maxlon, maxlat
# GCJ-02 declared in exported files: an engineering CRS (no datum GDAL or QGIS can transform), so that
# no tool takes the shifted coordinates for WGS 84, which a file without a CRS would be read as.
GCJ02_NAME = "GCJ-02 (China mars coordinates, not WGS 84)"
GCJ02_WKT = (f'ENGCRS["{GCJ02_NAME}",EDATUM["GCJ-02"],CS[Cartesian,2],'
             'AXIS["longitude (GCJ-02)",east,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],'
             'AXIS["latitude (GCJ-02)",north,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]]]')
_A = 6378245.0
_EE = 0.00669342162296594323


def normalise_crs_name(name: str | None) -> InputCRS:
    key = (name or "EPSG:4326").strip().lower().replace("_", "").replace("-", "")
    if key in {"epsg:4326", "4326", "wgs84", "crs84", "ogc:crs84"}:
        return "EPSG:4326"
    if key in {"epsg:4490", "4490", "cgcs2000"}:
        return "EPSG:4490"
    if key in {"gcj02", "gcj", "mars"}:
        return "gcj02"
    raise ValueError(f"unknown CRS {name!r}: use EPSG:4326, EPSG:4490 or gcj02")


def declares_gcj02(crs: object) -> bool:
    """Whether a file's declared CRS is the GCJ-02 marker our exports write (or another named GCJ-02)."""
    name = str(getattr(crs, "name", "") or "")
    return "gcj" in name.lower().replace("-", "").replace("_", "")


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _delta(np.asarray(lon, float), np.asarray(lat, float))
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse by fixed-point iteration: converges to well under a millimetre in a few steps."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(8):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat


# BD-09 (百度坐标): Baidu's further shift of GCJ-02, a published formula; its inverse is solved by
# fixed-point iteration as GCJ-02's is (the usual one-step "inverse" is off by up to ~1e-6 degrees).
_BD_X_PI = np.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(4):  # refine the published one-step inverse to well under a millimetre
        blon, blat = gcj02_to_bd09(glon, glat)
        glon, glat = glon - (blon - lon), glat - (blat - lat)
    return glon, glat


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(np.asarray(lon, float), np.asarray(lat, float)))


def to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: InputCRS) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat arrays from an input system to EPSG:4326."""
    if crs == "EPSG:4326":
        return np.asarray(lon, float), np.asarray(lat, float)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    transformer = Transformer.from_crs(CRS(crs), CRS("EPSG:4326"), always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def from_wgs84(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat arrays from EPSG:4326 to an output system (gis.crs.output_crs names)."""
    if crs == "EPSG:4326":
        return np.asarray(lon, float), np.asarray(lat, float)
    if crs == "gcj02":
        return wgs84_to_gcj02(np.asarray(lon, float), np.asarray(lat, float))
    transformer = Transformer.from_crs(CRS("EPSG:4326"), CRS(crs), always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


# --- coordinate systems on the way out --------------------------------------------------------------

# CGCS2000 3-degree Gauss-Krüger (3度带高斯-克吕格) zones 25-45 (central meridians 75°E-135°E):
# EPSG:4513-4533 put the zone number in front of the easting (38500000 m), EPSG:4534-4554 do not.
# Verified with pyproj: 4526 = zone 38, lon_0=114, x_0=38500000; 4547 = CM 114E, x_0=500000.
GK3_ZONES = range(25, 46)
GK3_PREFIXED_FIRST, GK3_PLAIN_FIRST = 4513, 4534


def gk3_zone(central_lon: float) -> int:
    """The 3-degree zone whose central meridian (3° × zone) is nearest to this longitude."""
    zone = int(np.floor(central_lon / 3.0 + 0.5))
    if zone not in GK3_ZONES:
        raise ValueError(f"longitude {central_lon:.3f} lies outside the CGCS2000 3-degree zones "
                         f"(73.5°E-136.5°E)")
    return zone


def gk3_epsg(central_lon: float, zone_prefix: bool = True) -> int:
    first = GK3_PREFIXED_FIRST if zone_prefix else GK3_PLAIN_FIRST
    return first + gk3_zone(central_lon) - GK3_ZONES.start


def output_crs(name: str | None, central_lon: float | None) -> str:
    """The export CRS for a name: EPSG:4326, EPSG:4490, gcj02, gk3 (the CGCS2000 3-degree zone of the
    data, zone number in the easting; "gk3-plain" without it) or an explicit EPSG:4513-4554."""
    key = (name or "EPSG:4326").strip().lower().replace("_", "-")
    if key in {"gk3", "gk", "gauss-kruger", "gk3-plain"}:
        if central_lon is None:
            raise ValueError("gk3 needs data: the zone is chosen from the data's central longitude")
        return f"EPSG:{gk3_epsg(central_lon, zone_prefix=key != 'gk3-plain')}"
    code = key.removeprefix("epsg:")
    if code.isdigit() and GK3_PREFIXED_FIRST <= int(code) < GK3_PLAIN_FIRST + len(GK3_ZONES):
        return f"EPSG:{int(code)}"
    try:
        return normalise_crs_name(name)
    except ValueError:
        raise ValueError(f"unknown CRS {name!r}: use EPSG:4326, EPSG:4490, gcj02, gk3 "
                         f"(or EPSG:4513-4554)") from None
