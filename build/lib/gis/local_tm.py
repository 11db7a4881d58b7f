"""Local transverse Mercator systems (k = 1) registered as SRIDs on demand, one per 0.25-degree centre.

A registered SRID is cached by PostGIS; a proj string in ST_Transform is not (200x slower). The
centre comes from the data being checked, so nothing is tied to one city.
"""

from __future__ import annotations

import psycopg

STEP = 0.25  # degrees: centres are rounded so that neighbouring checks share one SRID


def proj4(lon: float, lat: float) -> str:
    return f"+proj=tmerc +lat_0={lat:.2f} +lon_0={lon:.2f} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"


def local_tm_srid(conn: psycopg.Connection, lon: float, lat: float) -> int:
    """The SRID of the local TM centred on (lon, lat) rounded to STEP, registered if missing."""
    lon_c, lat_c = round(lon / STEP) * STEP, round(lat / STEP) * STEP
    query = "SELECT srid FROM local_tm WHERE lon = %s AND lat = %s"
    row = conn.execute(query, [lon_c, lat_c]).fetchone()
    if row is not None:
        return int(row[0])
    # ON CONFLICT: a concurrent check registering the same centre waits, then reuses its SRID.
    conn.execute("INSERT INTO local_tm (lon, lat) VALUES (%s, %s) ON CONFLICT DO NOTHING", [lon_c, lat_c])
    row = conn.execute(query, [lon_c, lat_c]).fetchone()
    assert row is not None
    srid = int(row[0])
    conn.execute(
        "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)"
        " VALUES (%s, 'gridmap_local_tm', %s, '', %s) ON CONFLICT (srid) DO NOTHING",
        [srid, srid, proj4(lon_c, lat_c)],
    )
    return srid
