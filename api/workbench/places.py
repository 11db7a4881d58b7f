"""The inspector's places and schools (场所与学校): search, and the forms that add and edit a place
(name, category, address, entrance clicked on the map or typed, its licence and expiry) and a school
(its campus drawn or corrected on the map, its gates as points).

Everything saves through gis.perimeter.places, as the JSON API (api/routes/places.py) does: a refused
field is shown beside the field in the API's words (422), an edit of a stale version shows both (409),
a place or campus outside the writer's areas is refused beside the position (403). The map is Leaflet
from the app's own files with static/draw.js (no CDN, the page's nonce); without JavaScript the
position and the campus are typed (lon/lat, GeoJSON or WKT) and the forms work the same.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import AppSettings, Conn
from api.routes.places import write_scopes
from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.nav import allowed
from api.workbench.render import page
from gis.access.accounts import Principal
from gis.errors import Conflict, InvalidInput
from gis.perimeter import places
from gis.settings import Settings
from layers.shell import basemap_layers

SEARCH_LIMIT = 50
CRS_NAMES = {"EPSG:4326": N_("WGS84 经纬度（EPSG:4326，GPS）"), "EPSG:4490": N_("国家2000（EPSG:4490）"),
             "gcj02": N_("火星坐标（GCJ-02，高德/腾讯地图）")}
PLACE_LABELS = {"name": N_("名称"), "ref": N_("编号"), "category": N_("类别"), "address": N_("地址"),
                "lon": N_("经度"), "lat": N_("纬度"), "crs": N_("坐标系"), "licence_kind": N_("证照类型"),
                "licence_number": N_("证照编号"), "licence_valid_until": N_("有效期至"),
                "licence_displayed": N_("亮证经营")}
SCHOOL_LABELS = {"name": N_("名称"), "ref": N_("编号"), "level": N_("学段"), "crs": N_("坐标系"),
                 "geometry": N_("校园范围"), "gates": N_("校门")}
PLACE_TEXT = ("name", "ref", "category", "address", "lon", "lat", "crs", "licence_kind", "licence_number",
              "licence_valid_until")
NO_EXPIRY = date(9999, 12, 31)

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)


async def posted(request: Request) -> dict[str, str]:
    """The form's text fields, read here so that bad input is answered on the page, never as JSON."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}


Posted = Annotated[dict[str, str], Depends(posted)]


def licence_state(until: date | None, displayed: bool | None, today: date | None = None) -> str:
    """missing / expired / not_displayed / valid, as the licences check (gis/perimeter/licences.sql)
    reads a licence on a day."""
    today = today or date.today()
    if until is None:
        return "missing"
    if until < today:
        return "expired"
    return "valid" if displayed else "not_displayed"


LICENCE_STATES = {"missing": N_("无证"), "expired": N_("证照过期"), "not_displayed": N_("未亮证"),
                  "valid": N_("有效")}


def map_settings(settings: Settings) -> dict[str, Any]:
    """The basemap's tile template for draw.js (none: the surroundings alone are drawn)."""
    layers = basemap_layers(settings)
    return {"tiles": [{"url": t.tiles, **{k: v for k, v in t.options.items()
                                          if k in ("attribution", "subdomains", "maxZoom", "max_zoom")}}
                      for t in layers]}


def _map(conn: psycopg.Connection, settings: Settings, lon: float | None,
         lat: float | None) -> dict[str, Any]:
    if lon is None or lat is None:
        lon, lat = places.centre(conn, settings.region_bbox)
        zoom = 15
    else:
        zoom = 17
    return {"centre": [lat, lon], "zoom": zoom, **map_settings(settings),
            "context": places.surroundings(conn, lon, lat)}


def _errors(exc: InvalidInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for p in exc.problems:
        errors.setdefault(p.field, p.reason)
    return errors


# --- search --------------------------------------------------------------------------------------

@router.get("/perimeter/directory", response_class=HTMLResponse)
def directory(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
              q: Annotated[str | None, Query(max_length=200)] = None,
              kind: Annotated[str, Query(pattern="^(all|places|schools)$")] = "all",
              category: Annotated[str | None, Query(max_length=40)] = None) -> HTMLResponse:
    """Places and schools by name, address, ref or category; every place and school when nothing is
    typed (the first 50 of each, by name)."""
    assert user is not None
    categories = places.vocabulary(conn, "place_category", lang)
    chosen = category if category in categories else None
    found_places = places.search_places(conn, q, chosen, SEARCH_LIMIT) if kind in ("all", "places") else None
    found_schools = (places.search_schools(conn, q, None, SEARCH_LIMIT)
                     if kind in ("all", "schools") and chosen is None else None)
    today = date.today()
    for p in (found_places or {"items": []})["items"]:
        p["licence_state"] = licence_state(p["licence_until"], p["licence_displayed"], today)
    return page(request, user, lang, "places.html", N_("场所与学校"), q=q or "", kind=kind,
                category=chosen or "", categories=categories, found_places=found_places,
                found_schools=found_schools,
                states=LICENCE_STATES, no_expiry=NO_EXPIRY, lang_en=lang == "en",
                place_page=allowed(user, "/perimeter/places/{place}"),
                school_map=allowed(user, "/maps/perimeter/schools/{school}"))


# --- a place -------------------------------------------------------------------------------------

def _place_form(place: dict[str, Any]) -> dict[str, Any]:
    licence = place["licence"] or {}
    until = licence.get("valid_until")
    return {"name": place["name"], "ref": place["ref"] or "", "category": place["category"],
            "address": place["address"] or "", "lon": f"{place['lon']:.7f}", "lat": f"{place['lat']:.7f}",
            "crs": "EPSG:4326", "licence_kind": licence.get("kind") or "",
            "licence_number": licence.get("number") or "",
            "licence_valid_until": until.isoformat() if until else "",
            "licence_displayed": bool(licence.get("displayed"))}


def _kept_place(form: dict[str, str]) -> dict[str, Any]:
    return {**{k: form.get(k, "") for k in PLACE_TEXT}, "licence_displayed": "licence_displayed" in form}


def _place_fields(form: dict[str, str]) -> dict[str, Any]:
    return {"name": form.get("name"), "ref": form.get("ref"), "category": form.get("category"),
            "address": form.get("address"), "lon": form.get("lon", "").strip() or None,
            "lat": form.get("lat", "").strip() or None,
            "licence": {"kind": form.get("licence_kind"), "number": form.get("licence_number"),
                        "valid_until": form.get("licence_valid_until", "").strip() or None,
                        "displayed": "licence_displayed" in form}}


def _place_page(request: Request, conn: psycopg.Connection, settings: Settings, user: Principal, lang: Lang,
                place: dict[str, Any] | None, form: dict[str, Any], errors: dict[str, str] | None = None,
                conflict: dict[str, Any] | None = None, status_code: int = 200,
                saved: bool = False) -> HTMLResponse:
    lon = place["lon"] if place else None
    lat = place["lat"] if place else None
    state = None
    if place and place["licence"]:
        first = place["licence"]
        state = licence_state(first["valid_until"] or NO_EXPIRY, first["displayed"])
    elif place:
        state = "missing"
    response = page(request, user, lang, "place_form.html", N_("修改场所") if place else N_("新增场所"),
                    place=place, form=form, errors=errors or {}, conflict=conflict, labels=PLACE_LABELS,
                    categories=places.vocabulary(conn, "place_category", lang), crs_names=CRS_NAMES,
                    map_json=json.dumps(_map(conn, settings, lon, lat), ensure_ascii=False, default=str),
                    licence_state=state, states=LICENCE_STATES, no_expiry=NO_EXPIRY, saved=saved,
                    place_page=place is not None and allowed(user, "/perimeter/places/{place}"))
    response.status_code = status_code
    return response


@router.get("/perimeter/places/new", response_class=HTMLResponse)
def new_place_page(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser,
                   lang: Lang) -> HTMLResponse:
    assert user is not None
    form = dict.fromkeys(PLACE_TEXT, "") | {"crs": "EPSG:4326", "licence_displayed": False}
    return _place_page(request, conn, settings, user, lang, None, form)


@router.get("/perimeter/places/{place}/edit", response_class=HTMLResponse)
def edit_place_page(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                    place: str, saved: bool = False) -> HTMLResponse:
    assert user is not None
    stored = places.get_place(conn, place)
    return _place_page(request, conn, settings, user, lang, stored, _place_form(stored), saved=saved)


def _save_place(request: Request, conn: psycopg.Connection, settings: Settings, user: Principal, lang: Lang,
                form: dict[str, str], key: str | None) -> HTMLResponse | RedirectResponse:
    stored = places.get_place(conn, key) if key is not None else None  # 404 before any check
    kept = _kept_place(form)
    try:
        saved = places.save_place(conn, _place_fields(form), key=key, version=form.get("version"),
                                  crs=form.get("crs") or None, bbox=settings.region_bbox,
                                  scopes=write_scopes(user))
    except InvalidInput as exc:
        return _place_page(request, conn, settings, user, lang, stored, kept, _errors(exc), status_code=422)
    except places.OutOfScope as exc:
        return _place_page(request, conn, settings, user, lang, stored, kept, {"lon": str(exc)},
                           status_code=403)
    except Conflict as exc:
        assert stored is not None
        return _place_page(request, conn, settings, user, lang, stored, kept, status_code=409,
                           conflict={"detail": str(exc), "yours": kept, "theirs": _place_form(stored)})
    return RedirectResponse(f"/perimeter/places/{quote(saved['key'], safe='')}/edit?saved=true",
                            status_code=303)


@router.post("/perimeter/places/new", response_class=HTMLResponse, response_model=None)
def add_place(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
              form: Posted) -> HTMLResponse | RedirectResponse:
    assert user is not None
    return _save_place(request, conn, settings, user, lang, form, None)


@router.post("/perimeter/places/{place}/edit", response_class=HTMLResponse, response_model=None)
def save_place(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
               place: str, form: Posted) -> HTMLResponse | RedirectResponse:
    assert user is not None
    return _save_place(request, conn, settings, user, lang, form, place)


# --- a school ------------------------------------------------------------------------------------

def _school_form(school: dict[str, Any]) -> dict[str, Any]:
    return {"name": school["name"], "ref": school["ref"] or "", "level": school["level"], "crs": "EPSG:4326",
            "geometry": json.dumps(school["geometry"]),
            "gates": json.dumps(school["gates"]) if school["gates"] else ""}


def _school_page(request: Request, conn: psycopg.Connection, settings: Settings, user: Principal, lang: Lang,
                 school: dict[str, Any] | None, form: dict[str, Any], errors: dict[str, str] | None = None,
                 conflict: dict[str, Any] | None = None, status_code: int = 200,
                 saved: bool = False) -> HTMLResponse:
    lon = lat = None
    if school:
        coords = _first_coordinate(school["geometry"])
        lon, lat = coords if coords else (None, None)
    response = page(request, user, lang, "school_form.html", N_("修改学校") if school else N_("新增学校"),
                    school=school, form=form, errors=errors or {}, conflict=conflict, labels=SCHOOL_LABELS,
                    levels=places.vocabulary(conn, "school_level", lang), crs_names=CRS_NAMES,
                    map_json=json.dumps(_map(conn, settings, lon, lat), ensure_ascii=False, default=str),
                    saved=saved,
                    school_map=school is not None and allowed(user, "/maps/perimeter/schools/{school}"))
    response.status_code = status_code
    return response


def _first_coordinate(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """Any corner of a GeoJSON geometry, to centre the map on."""
    coords: Any = geometry.get("coordinates")
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    return (float(coords[0]), float(coords[1])) if isinstance(coords, list) and len(coords) >= 2 else None


@router.get("/perimeter/schools/new", response_class=HTMLResponse)
def new_school_page(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser,
                    lang: Lang) -> HTMLResponse:
    assert user is not None
    form = {"name": "", "ref": "", "level": "primary", "crs": "EPSG:4326", "geometry": "", "gates": ""}
    return _school_page(request, conn, settings, user, lang, None, form)


@router.get("/perimeter/schools/{school}/edit", response_class=HTMLResponse)
def edit_school_page(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                     school: str, saved: bool = False) -> HTMLResponse:
    assert user is not None
    stored = places.get_school(conn, school)
    return _school_page(request, conn, settings, user, lang, stored, _school_form(stored), saved=saved)


def _save_school(request: Request, conn: psycopg.Connection, settings: Settings, user: Principal, lang: Lang,
                 form: dict[str, str], key: str | None) -> HTMLResponse | RedirectResponse:
    stored = places.get_school(conn, key) if key is not None else None
    kept = {k: form.get(k, "") for k in ("name", "ref", "level", "crs", "geometry", "gates")}
    fields = {k: form.get(k) for k in ("name", "ref", "level", "geometry", "gates")}
    try:
        saved = places.save_school(conn, fields, key=key, version=form.get("version"),
                                   crs=form.get("crs") or None, bbox=settings.region_bbox,
                                   scopes=write_scopes(user))
    except InvalidInput as exc:
        return _school_page(request, conn, settings, user, lang, stored, kept, _errors(exc), status_code=422)
    except places.OutOfScope as exc:
        return _school_page(request, conn, settings, user, lang, stored, kept, {"geometry": str(exc)},
                            status_code=403)
    except Conflict as exc:
        assert stored is not None
        return _school_page(request, conn, settings, user, lang, stored, kept, status_code=409,
                            conflict={"detail": str(exc), "yours": kept, "theirs": _school_form(stored)})
    return RedirectResponse(f"/perimeter/schools/{quote(saved['key'], safe='')}/edit?saved=true",
                            status_code=303)


@router.post("/perimeter/schools/new", response_class=HTMLResponse, response_model=None)
def add_school(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
               form: Posted) -> HTMLResponse | RedirectResponse:
    assert user is not None
    return _save_school(request, conn, settings, user, lang, form, None)


@router.post("/perimeter/schools/{school}/edit", response_class=HTMLResponse, response_model=None)
def save_school(request: Request, conn: Conn, settings: AppSettings, user: CurrentUser, lang: Lang,
                school: str, form: Posted) -> HTMLResponse | RedirectResponse:
    assert user is not None
    return _save_school(request, conn, settings, user, lang, form, school)
