"""Open311 GeoReport v2 for hotline and app front ends (wiki.open311.org/GeoReport_v2), JSON only:
services are the report categories, service requests are reports (gis/reports/open311.py maps them).

The service list is public, as the specification has it; filing and reading requests need a signed-in
user (the bearer token takes the place of the spec's api_key) and read under the same rules as
GET /reports: a reporter her own, a unit its unit's, and no request names its reporter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AppSettings, Conn
from api.params import json_or_form
from api.routes.reports import ReportIn, file_one, keep
from api.security import CurrentUser
from gis.errors import InvalidInput, NotFound
from gis.reports import file, open311, read

router = APIRouter(prefix="/open311/v2", tags=["open311"])
MAX_IDS = 100
CODES = r"^[a-z][a-z0-9_]{1,39}(,[a-z][a-z0-9_]{1,39})*$"


class RequestIn(BaseModel):
    """POST requests.json: the spec's form fields (lat/long in WGS 84, or address_string: not
    supported, a position is needed); api_key and the personal fields are accepted and ignored (the
    reporter is the signed-in user)."""

    model_config = ConfigDict(extra="forbid")
    service_code: str = Field(max_length=40)
    lat: float
    long: float
    description: str | None = Field(None, max_length=2000)
    client_id: str | None = Field(None, max_length=64, description="not in the spec: a retry's id")
    api_key: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    media_url: str | None = None


def _category(conn: Conn, service_code: str) -> dict[str, Any]:
    found = [c for c in read.vocabulary(conn)["categories"] if c["code"] == service_code]
    if not found:
        raise NotFound("service", service_code)
    return found[0]


@router.get("/services.json", summary="GeoReport v2: the services (report categories)")
def services(conn: Conn) -> list[dict[str, Any]]:
    return [open311.service(c) for c in read.vocabulary(conn)["categories"]]


@router.get("/services/{service_code}.json", summary="GeoReport v2: a service definition")
def service_definition(conn: Conn, service_code: str) -> dict[str, Any]:
    return open311.definition(_category(conn, service_code))


@router.post("/requests.json", status_code=201, summary="GeoReport v2: create a service request",
             responses={422: {"description": "a field is missing or wrong: the answer names it"}})
async def create_request(request: Request, response: Response, conn: Conn, settings: AppSettings,
                         user: CurrentUser) -> list[dict[str, Any]]:
    # the spec's form post (urlencoded), JSON, or a multipart form with photos as `photos`
    body, uploads = await json_or_form(request, RequestIn, ("photos",), urlencoded=True)
    found, created = file_one(conn, ReportIn(category=body.service_code, lon=body.long, lat=body.lat,
                                             crs="EPSG:4326", reported_at=None,
                                             description=body.description, client_id=body.client_id),
                              keep(conn, settings, user, uploads["photos"]))
    if not created:
        response.status_code = 200
    return [{"service_request_id": str(found["id"]), "service_notice": None, "account_id": None}]


@router.get("/requests.json", summary="GeoReport v2: service requests")
def requests(conn: Conn,
             service_request_id: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}(,[0-9]{1,18})*$")] = None,
             service_code: Annotated[str | None, Query(pattern=CODES)] = None,
             start_date: datetime | None = None, end_date: datetime | None = None,
             status: Annotated[str | None, Query(pattern=r"^(open|closed)(,(open|closed))?$")] = None
             ) -> list[dict[str, Any]]:
    """Newest first, at most 1000 (the spec's default window is the last 90 days: from/to dates in
    China are taken from start_date and end_date when given)."""
    ids = [int(i) for i in service_request_id.split(",")] if service_request_id else None
    if ids and len(ids) > MAX_IDS:
        raise InvalidInput.one("service_request_id", f"at most {MAX_IDS} ids")
    codes = set(service_code.split(",")) if service_code else None
    statuses = set(status.split(",")) if status else None
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput.one(name, "needs its time zone (ISO 8601, e.g. 2026-05-04T10:11:12+08:00)")
    _, rows = read.reports(conn, ids=ids, limit=1000,
                           start=file.china_day(start_date) if start_date else None,
                           end=file.china_day(end_date) if end_date else None)
    return [open311.request(r) for r in rows
            if (codes is None or r["category"] in codes)
            and (statuses is None or ("open" if r["open"] else "closed") in statuses)]


@router.get("/requests/{service_request_id}.json", summary="GeoReport v2: one service request")
def one_request(conn: Conn, service_request_id: str) -> list[dict[str, Any]]:
    if not service_request_id.isdigit() or len(service_request_id) > 18 or int(service_request_id) < 1:
        raise NotFound("service request", service_request_id)
    return [open311.request(read.report(conn, int(service_request_id)))]
