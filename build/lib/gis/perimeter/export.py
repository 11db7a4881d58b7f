"""The perimeter violations as GeoJSON, CSV and XLSX (the inspectors' list 校园周边违规清单)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from gis.perimeter.check import CSV_COLUMNS
from gis.spreadsheet import append_row, csv_text

PROPERTIES = ("place_id", "place_ref", "place_name", "category", "address", "school_id", "school_ref",
              "school_name", "school_level", "rule_id", "rule", "kind", "method", "distance_m",
              "licence_state")


def as_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection of the violating places (points), each with its school, rule and distance."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": r["place_id"],
             "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
             "properties": {k: r[k] for k in PROPERTIES}}
            for r in rows
        ],
    }


def as_csv(rows: list[dict[str, Any]]) -> str:
    """The CSV columns, one row per violation; no cell runs as a formula."""
    return csv_text(CSV_COLUMNS, ([f"{r[c]:.2f}" if c == "distance_m" else r[c] for c in CSV_COLUMNS]
                                  for r in rows), lineterminator="\n")


def as_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """One sheet, the CSV columns first, then licence state and coordinates; a header row frozen."""
    columns = (*CSV_COLUMNS, "licence_state", "kind", "method", "lon", "lat")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "violations"
    append_row(sheet, list(columns))
    for r in rows:
        append_row(sheet, [r[c] for c in columns])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
