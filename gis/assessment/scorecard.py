"""A community's quarter against its scoring sheet (考核): each item with its live figure (if the system
measures it), whether it meets its target, its evidence count and its gaps (查漏补缺: no evidence,
below target, no figure)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from gis.assessment import evidence, figures
from gis.assessment.quarters import Quarter
from gis.assessment.sheet import sheet_for

GAP_NO_EVIDENCE, GAP_BELOW_TARGET, GAP_NO_FIGURE = "无佐证材料", "未达标", "无数据"


def meets(value: float | None, target: Decimal | None, direction: str | None) -> bool | None:
    if target is None or direction is None:
        return None
    if value is None:
        return False
    return Decimal(str(value)) >= target if direction == ">=" else Decimal(str(value)) <= target


def scorecard(conn: psycopg.Connection, quarter: Quarter, community: str,
              on: date | None = None) -> dict[str, Any]:
    """The sheet's items for the community with figures, targets, evidence and gaps."""
    found = sheet_for(conn, quarter, community)
    day = figures.measured_on(quarter, on)
    live = figures.live_figures(conn, community, quarter, on)
    uploads = evidence.uploaded(conn, quarter, community)
    photos = evidence.record_photos(conn, quarter, community)
    by_item = Counter(e["item_no"] for e in uploads if e["item_no"])
    by_kind = Counter(p["record_kind"] for p in photos)
    items = []
    for it in found["items"]:
        value = live[it["figure"]] if it["figure"] else None
        met = meets(value, it["target"], it["direction"])
        count = by_item[it["item_no"]] + sum(by_kind[k] for k in it["evidence_from"])
        gaps = [GAP_NO_EVIDENCE] if count == 0 else []
        if it["figure"] and value is None:
            gaps.append(GAP_NO_FIGURE)
        elif met is False:
            gaps.append(GAP_BELOW_TARGET)
        endpoint = figures.endpoint_of(it["figure"], community, quarter, day) if it["figure"] else None
        items.append({**it, "value": value, "met": met, "evidence": count, "gaps": gaps, "endpoint": endpoint,
                      "figure_zh": figures.FIGURES[it["figure"]].name_zh if it["figure"] else None})
    return {"sheet_id": found["id"], "quarter": quarter.code, "title": found["title"], "community": community,
            "measured_on": day, "items": items, "uploads": uploads, "record_photos": photos,
            "measured": sum(1 for i in items if i["figure"]),
            "gaps": sum(1 for i in items if i["gaps"])}
