"""The wall maps (一图上墙) as PDF downloads: a grid's, a community's, a school's perimeter, a street's
road sections, on ISO paper at a true scale.

Two profiles: ``public`` (a notice board: no resident's name, no tag) for every role that sees the
map, and ``office`` (tag rings and counts) for the roles that keep that capability's records; the
database's row-level security decides the rows either way, and an office sheet is audited.

A machine without a TrueType CJK font cannot draw the sheet: 503 naming the font files looked for and
the package that brings one (the server's setup is missing, not the request wrong).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status

from api.deps import Conn
from api.security import CurrentUser
from gis.access.accounts import Principal
from gis.access.roles import PERIMETER_WRITE, REGISTER, ROADS_WRITE, Roles
from gis.maps.wallmap import FontMissing, render_pdf
from gis.maps.wallmap_data import build_sheet
from gis.maps.wallmap_sheet import PAPERS, SCALES

router = APIRouter(tags=["maps"])
PDF = "application/pdf"
# An office sheet shows where tagged persons live: no shared or browser cache keeps a wall map.
PRIVATE = {"Cache-Control": "no-store"}

Paper = Annotated[Literal["A4", "A3", "A2", "A1", "A0"] | None,
                  Query(description="ISO paper (" + ", ".join(PAPERS) + "), orientation chosen to fit; "
                                    "default the smallest from A3 (A1 for communities and streets) "
                                    "that holds it")]
Profile = Annotated[Literal["public", "office"],
                    Query(description="public: for a notice board, no names and no tags; "
                                      "office: tag rings and counts (audited)")]
Scale = Annotated[int | None, Query(description="N of 1:N, one of " + ", ".join(map(str, SCALES))
                                    + "; default the largest scale that fits the paper")]
Day = Annotated[date | None, Query(alias="date", description="the day to look at; default today")]
_PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {}}, "description": "a one-page vector PDF"},
    503: {"description": "no TrueType CJK font on the server (install fonts-wqy-microhei)"}}

# Who may ask for the office profile of each kind of sheet: those who keep its records.
OFFICE: dict[str, Roles] = {"grid": REGISTER, "community": REGISTER, "school": PERIMETER_WRITE,
                            "sections": ROADS_WRITE}


def _sheet_pdf(conn: Conn, user: Principal | None, kind: str, code: str, paper: str | None, profile: str,
               scale: int | None, day: date | None = None) -> Response:
    if profile == "office" and (user is None or not OFFICE[kind] & user.roles):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "profile: the office sheet is for " + ", ".join(sorted(OFFICE[kind])))
    sheet = build_sheet(conn, kind, code, profile, paper, scale, day)
    try:
        body = render_pdf(sheet)
    except FontMissing as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"wall map unavailable on this server: {exc} (apt-get install fonts-wqy-microhei)"
                            ) from None
    layout = sheet.layout
    assert layout is not None
    name = f"wallmap-{kind}-{code}-{layout.paper}-1_{layout.scale}-{profile}.pdf"
    return Response(body, media_type=PDF, headers={
        **PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/maps/grids/{code}/wall.pdf", response_class=Response, responses=_PDF_RESPONSE,
            summary="A grid's wall map (一图上墙) as PDF")
def grid_wall_map(code: str, conn: Conn, user: CurrentUser, paper: Paper = None, profile: Profile = "public",
                  scale: Scale = None) -> Response:
    """The grid's boundary bold and its neighbours thin, every household, roads with names and
    buildings, the workers with their service phones, legend, scale bar, 1:N, north arrow, date and
    source. 422 for a malformed code or a paper too small at 1:10,000, 404 for an unknown grid."""
    return _sheet_pdf(conn, user, "grid", code, paper, profile, scale)


@router.get("/maps/communities/{code}/wall.pdf", response_class=Response, responses=_PDF_RESPONSE,
            summary="A community's wall map as PDF")
def community_wall_map(code: str, conn: Conn, user: CurrentUser, paper: Paper = None,
                       profile: Profile = "public", scale: Scale = None) -> Response:
    """All grids of the community (named), its boundary bold, every household, each grid's workers."""
    return _sheet_pdf(conn, user, "community", code, paper, profile, scale)


@router.get("/maps/perimeter/schools/{school}/wall.pdf", response_class=Response, responses=_PDF_RESPONSE,
            summary="A school's perimeter wall map as PDF")
def school_wall_map(school: str, conn: Conn, user: CurrentUser, paper: Paper = None,
                    profile: Profile = "public", scale: Scale = None, day: Day = None) -> Response:
    """The campus, its zone measured on the ground, the violating places (named on the office sheet)
    and the compliant ones."""
    return _sheet_pdf(conn, user, "school", school, paper, profile, scale, day)


@router.get("/maps/street/{code}/sections.pdf", response_class=Response, responses=_PDF_RESPONSE,
            summary="A street's road sections by responsible unit as PDF")
def sections_wall_map(code: str, conn: Conn, user: CurrentUser, paper: Paper = None,
                      profile: Profile = "public", scale: Scale = None, day: Day = None) -> Response:
    """The live sections of the street's communities coloured by responsible unit on the day,
    unassigned ones red and dashed, each unit's sections and length in the panel."""
    return _sheet_pdf(conn, user, "sections", code, paper, profile, scale, day)
