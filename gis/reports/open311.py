"""Open311 GeoReport v2 (hotline and app front ends): services are the report categories, service
requests are reports. Field names as the specification (wiki.open311.org/GeoReport_v2): status is
'open' or 'closed' (the state's ``open`` flag), lat/long in WGS 84, datetimes in ISO 8601 with offset."""

from __future__ import annotations

from typing import Any

AGENCY_BY_KIND = {"unit": "责任单位", "grid": "网格员", "community": "社区", "street": "街道"}


def service(category: dict[str, Any]) -> dict[str, Any]:
    return {"service_code": category["code"], "service_name": category["name_zh"],
            "description": f"{category['name_zh']} ({category['name_en']})", "metadata": False,
            "type": "realtime", "keywords": category["name_en"],
            "group": "路段 street" if category["handler"] == "street" else "网格 grid"}


def definition(category: dict[str, Any]) -> dict[str, Any]:
    """A service definition: no extra attributes (the description and photos say the rest)."""
    return {"service_code": category["code"], "attributes": []}


def request(report: dict[str, Any]) -> dict[str, Any]:
    """A report as a GeoReport v2 service request (no personal data: the reporter is never named)."""
    notes = report["state_zh"]
    if report.get("history"):
        last = report["history"][-1]
        notes = " ".join(x for x in (report["state_zh"], last.get("reason_zh"), last.get("note")) if x)
    agency = report.get("unit_name") or AGENCY_BY_KIND.get(report["owner_kind"], "")
    return {
        "service_request_id": str(report["id"]),
        "status": "open" if report["open"] else "closed",
        "status_notes": notes,
        "service_name": report["category_zh"],
        "service_code": report["category"],
        "description": report["description"],
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": report["reported_at"].isoformat(),
        "updated_datetime": report["updated_at"].isoformat(),
        "expected_datetime": report["handle_by"].isoformat(),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": report["lat"],
        "long": report["lon"],
        "media_url": None,
    }
