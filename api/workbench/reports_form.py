"""The reporter's form (举报不文明行为): category, position, description and photos, on a phone.

The position comes from the browser's Geolocation API (WGS 84) or a tap on the small map (static/
report.js, the app's own Leaflet), or is typed by hand; a position copied from a Chinese map app
(高德/腾讯: GCJ-02, 百度: BD-09) is flagged as such with ``crs`` and converted on the way in
(gis/reports/file.py). The form posts to the API's path as multipart (FormRoute), with the session's
CSRF token; the reporter is the signed-in user. Its client id, made once per form, makes a retried post
(a double tap, a resend on a weak signal) the same report. Done: the report's page, which names the
owner it was routed to and any duplicate suggestions.
"""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import AppSettings, Conn
from api.routes.reports import ReportIn, file_one, keep, read_body
from api.security import CurrentUser
from api.workbench.forms import field_errors
from api.workbench.i18n import N_, Lang, Language
from api.workbench.render import page
from api.workbench.routing import FormRoute
from gis.access.accounts import Principal
from gis.errors import Conflict, InvalidInput
from gis.reports import read
from layers.assets import LOCAL

NEW = "/reports/new"
FIELDS = ("category", "lon", "lat", "crs", "description", "client_id")
CRS_NAMES = {"EPSG:4326": N_("手机定位或地图点选（WGS 84）"), "GCJ-02": N_("高德、腾讯地图的坐标（GCJ-02）"),
             "BD-09": N_("百度地图的坐标（BD-09）")}
LEAFLET_CSS, LEAFLET_JS = LOCAL["leaflet_css"].url(), LOCAL["leaflet"].url()  # served locally

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
form_router = APIRouter(tags=["workbench (工作台)"], route_class=FormRoute, include_in_schema=False)


def _form_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Language,
               form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> HTMLResponse:
    words = read.vocabulary(conn)
    column = "name_en" if lang == "en" else "name_zh"
    categories = [(c["code"], c[column]) for c in words["categories"]]
    response = page(request, user, lang, "report_form.html", N_("举报不文明行为"), categories=categories,
                    form=form or {"crs": "EPSG:4326"}, errors=errors or {}, crs_names=CRS_NAMES,
                    leaflet_css=LEAFLET_CSS, leaflet_js=LEAFLET_JS,
                    bbox=",".join(str(v) for v in request.app.state.settings.region_bbox))
    response.status_code = status_code
    return response


@router.get(NEW, response_class=HTMLResponse)
def report_form(request: Request, conn: Conn, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None
    return _form_page(request, conn, user, lang)


@form_router.post("/reports", response_class=HTMLResponse, response_model=None)
async def file_report(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser,
                      lang: Lang) -> HTMLResponse | RedirectResponse:
    """File the report as the API does (the same model, the same words beside the field) and show it
    (303): the owner it went to and the duplicate suggestions. The same client id again: that report."""
    assert user is not None
    try:
        fields, uploads = await read_body(request)  # InvalidInput: too many photos
    except InvalidInput as exc:
        return _form_page(request, conn, user, lang, None, {p.field: p.reason for p in exc.problems}, 422)
    form = {k: str(fields.get(k, "")) for k in FIELDS}
    try:
        body = ReportIn.model_validate({k: v.strip() for k, v in form.items() if v.strip()})
    except ValidationError as exc:
        errors = field_errors(exc, "category")
        return _form_page(request, conn, user, lang, form, errors, 422)
    try:
        with conn.transaction():  # a savepoint: a refused photo or field files nothing
            found, _created = file_one(conn, body, keep(conn, settings, user, uploads))
    except InvalidInput as exc:
        return _form_page(request, conn, user, lang, form, {p.field: p.reason for p in exc.problems}, 422)
    except Conflict as exc:
        return _form_page(request, conn, user, lang, form, {"client_id": str(exc)}, 409)
    return RedirectResponse(f"/reports/{found['id']}?filed=1", status_code=303)
