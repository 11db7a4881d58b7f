"""The grid worker's person pages (人员): add a person to a household (迁入), edit a person and tag
them (重点人员 and the 四清 tags), move them to another household (户间迁移) or out of the register
(迁出), and a household's record of moves.

Every form posts with the login cookie and its CSRF token (api/security.py) to the page it came from,
saves through gis/register (the same functions and row-level security as the JSON API), and on success
answers 303 back to the household page. A refused field is shown beside the field in the API's words
(422), a stale edit shows the conflict with both versions (409). A person or household outside the
user's rows is a 404, as in the API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import Conn
from api.params import DbId
from api.security import CurrentUser
from api.workbench.households import RELATIONS
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from api.workbench.routing import PageRoute
from gis.access import audit
from gis.access.accounts import Principal
from gis.codes import mask_id_number
from gis.errors import Conflict, InvalidInput, NotFound, Problem
from gis.register import moves
from gis.register.common import DuplicateIdNumber
from gis.register.households import get_household, list_households
from gis.register.persons import get_person, update_person

SEARCH_LIMIT = 20
LABELS = {"name": N_("姓名"), "relation": N_("与户主关系"), "id_number": N_("身份证号"), "phone": N_("电话"),
          "sex": N_("性别"), "birth_date": N_("出生日期"), "residence": N_("户籍/流动"),
          "employment": N_("就业状况"), "poverty": N_("低保/特困"), "key_person": N_("重点人员"),
          "elderly_alone": N_("独居老人"), "disabled": N_("残疾人"), "activist": N_("积极分子"),
          "volunteer": N_("志愿者"), "moved_on": N_("迁移日期"), "note": N_("来源、去向或原因"),
          "household_id": N_("迁往住户"), "new_head_id": N_("新户主"), "version": N_("版本")}
TEXT = ("name", "id_number", "phone", "sex", "birth_date", "relation", "residence", "employment", "poverty",
        "key_person")
FLAGS = ("elderly_alone", "disabled", "activist", "volunteer")
MAX_LENGTH = {"name": 100, "id_number": 30, "phone": 30, "note": moves.NOTE_MAX}
SEXES = {"M": N_("男"), "F": N_("女")}
RESIDENCES = {"registered": N_("户籍人口"), "floating": N_("流动人口")}
EMPLOYMENTS = {"employed": N_("在业"), "unemployed": N_("失业"), "retired": N_("离退休"),
               "student": N_("在校学生"), "preschool": N_("学龄前"), "other": N_("其他")}
MOVE_KINDS = {"in": N_("迁入"), "out": N_("迁出"), "transfer": N_("户间迁移")}

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)
# The record of moves shares its address with the API's JSON (GET /households/{id}/moves).
history_router = APIRouter(tags=["workbench (工作台)"], route_class=PageRoute, include_in_schema=False)


async def posted(request: Request) -> dict[str, str]:
    """The form's text fields (already parsed for the CSRF check). Read here rather than as FastAPI
    Form parameters, so that bad input is answered beside its field on the page, never as JSON."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


Posted = Annotated[dict[str, str], Depends(posted)]


def _vocabulary(conn: psycopg.Connection, table: str, lang: str) -> dict[str, str]:
    column = "name_en" if lang == "en" else "name_zh"
    query = {"key_person_category": f"SELECT code, {column} FROM key_person_category ORDER BY code",
             "poverty_status": f"SELECT code, {column} FROM poverty_status ORDER BY code"}[table]
    return dict(conn.execute(query).fetchall())  # noqa: S608 - both names are code, not input


def _options(conn: psycopg.Connection, lang: str) -> dict[str, dict[str, str]]:
    return {"relation": RELATIONS, "sex": SEXES, "residence": RESIDENCES, "employment": EMPLOYMENTS,
            "poverty": _vocabulary(conn, "poverty_status", lang),
            "key_person": _vocabulary(conn, "key_person_category", lang)}


def _date(form: dict[str, str], field: str, problems: list[Problem]) -> date | None:
    text = form.get(field, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(field, "must be a date (YYYY-MM-DD)"))
        return None


def _int(form: dict[str, str], field: str, problems: list[Problem], required: bool = False) -> int | None:
    text = form.get(field, "").strip()
    if text.isdigit() and len(text) < 19 and int(text) > 0:
        return int(text)
    if text or required:
        problems.append(Problem(field, "must be a positive whole number" if text
                                else "required: a positive whole number"))
    return None


def _lengths(form: dict[str, str], problems: list[Problem]) -> None:
    for field, value in form.items():
        if len(value) > MAX_LENGTH.get(field, 50) and field != "csrf_token":
            problems.append(Problem(field, f"must be at most {MAX_LENGTH.get(field, 50)} characters"))


def _person_fields(form: dict[str, str], stored: dict | None, problems: list[Problem]) -> dict[str, Any]:
    """The person's fields as the register takes them. Adding (``stored`` None): a blank field is no
    value. Editing: a blank ID number or phone is unchanged (the page shows them masked); sex and birth
    date follow a stored ID number and are sent only without one."""
    _lengths(form, problems)
    values = {k: form.get(k, "").strip() for k in TEXT}
    fields: dict[str, Any] = {k: values[k] or None for k in TEXT}
    fields["birth_date"] = _date(form, "birth_date", problems)
    fields.update({flag: flag in form for flag in FLAGS})
    if stored is not None:
        for masked in ("id_number", "phone"):
            if not values[masked]:
                del fields[masked]
        if stored["id_number"] and "id_number" not in fields:
            del fields["sex"], fields["birth_date"]
    return fields


def _problems(exc: InvalidInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for p in exc.problems:
        errors.setdefault(p.field, p.reason)
    return errors


def _duplicate(conn: psycopg.Connection, attempt: str, exc: DuplicateIdNumber, fields: dict,
               person_id: int | None = None) -> dict[str, str]:
    """As the API answers it (api/routes/persons.py): the same words whoever holds the number, and an
    audit entry for the attempt."""
    audit.record(conn, "refused", "persons.duplicate_id_number",
                 {"attempt": attempt, "reason": str(exc), "household_id": fields.get("household_id"),
                  "id_number": mask_id_number(fields.get("id_number"))},
                 ids=[person_id] if person_id is not None else None)
    return {"id_number": str(exc)}


def _form_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, household: dict,
               person: dict | None, form: dict[str, Any], errors: dict | None = None,
               conflict: dict | None = None, status_code: int = 200) -> HTMLResponse:
    title = N_("修改人员") if person else N_("添加人员")
    response = page(request, user, lang, "person_form.html", title, h=household, person=person, form=form,
                    errors=errors or {}, conflict=conflict, labels=LABELS, options=_options(conn, lang),
                    flags=FLAGS, today=date.today().isoformat())
    response.status_code = status_code
    return response


def _stored_form(person: dict) -> dict[str, Any]:
    """The edit form filled from the stored person (ID number and phone left blank: unchanged)."""
    form: dict[str, Any] = {k: person.get(k) or "" for k in TEXT}
    born = person["birth_date"]
    form.update(id_number="", phone="", birth_date=born.isoformat() if born else "")
    form.update({flag: person[flag] for flag in FLAGS})
    return form


def _kept_form(posted_form: dict[str, str]) -> dict[str, Any]:
    return {**{k: posted_form.get(k, "") for k in (*TEXT, "moved_on", "note")},
            **{flag: flag in posted_form for flag in FLAGS}}


@router.get("/households/{household_id}/persons/new", response_class=HTMLResponse)
def new_person_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                    household_id: DbId) -> HTMLResponse:
    assert user is not None
    household = get_household(conn, household_id)
    has_head = any(p["relation"] == "head" for p in household["persons"])
    form = dict.fromkeys((*TEXT, "note"), "") | {"relation": "other" if has_head else "head",
                                                 "residence": "registered",
                                                 "moved_on": date.today().isoformat()}
    return _form_page(request, conn, user, lang, household, None, form)


@router.post("/households/{household_id}/persons/new", response_class=HTMLResponse, response_model=None)
def add_person(request: Request, conn: Conn, user: CurrentUser, lang: Lang, household_id: DbId,
               form: Posted) -> HTMLResponse | RedirectResponse:
    """Add a person to the household: a move-in (迁入) with its date and where from (or why: 出生, 补录)."""
    assert user is not None
    problems: list[Problem] = []
    fields = _person_fields(form, None, problems)
    moved_on = _date(form, "moved_on", problems)
    household = get_household(conn, household_id)  # 404 outside the user's rows, before any check
    errors: dict[str, str] = {}
    try:
        if problems:
            raise InvalidInput(problems)
        moves.move_in(conn, household_id, fields, moved_on, form.get("note"))
    except DuplicateIdNumber as exc:
        errors = _duplicate(conn, "move-in", exc, {**fields, "household_id": household_id})
        return _form_page(request, conn, user, lang, household, None, _kept_form(form), errors,
                          status_code=409)
    except InvalidInput as exc:
        return _form_page(request, conn, user, lang, household, None, _kept_form(form), _problems(exc),
                          status_code=422)
    return RedirectResponse(f"/households/{household_id}", status_code=303)


@router.get("/persons/{person_id}/edit", response_class=HTMLResponse)
def edit_person_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                     person_id: DbId) -> HTMLResponse:
    assert user is not None
    person = get_person(conn, person_id)
    return _form_page(request, conn, user, lang, get_household(conn, person["household_id"]), person,
                      _stored_form(person))


def _leaves_headless(household: dict, person: dict, relation: str | None) -> bool:
    """Whether the edit takes the head's relation away while other members remain and none is head."""
    if person["relation"] != "head" or relation in (None, "head"):
        return False
    others = [p for p in household["persons"] if p["id"] != person["id"]]
    return bool(others) and not any(p["relation"] == "head" for p in others)


@router.post("/persons/{person_id}/edit", response_class=HTMLResponse, response_model=None)
def save_person(request: Request, conn: Conn, user: CurrentUser, lang: Lang, person_id: DbId,
                form: Posted) -> HTMLResponse | RedirectResponse:
    """Save the person's fields and tags at the posted ``version``."""
    assert user is not None
    person = get_person(conn, person_id)  # 404 outside the user's rows
    household = get_household(conn, person["household_id"])
    problems: list[Problem] = []
    version = _int(form, "version", problems, required=True)
    fields = _person_fields(form, person, problems)
    if _leaves_headless(household, person, fields.get("relation")):
        problems.append(Problem("relation", "the household would be left without a head (户主): make "
                                            "another member the head first"))
    kept = _kept_form(form)
    try:
        if problems or version is None:
            raise InvalidInput(problems)
        update_person(conn, person_id, version, fields, partial=True)
    except DuplicateIdNumber as exc:
        errors = _duplicate(conn, "update", exc, fields, person_id)
        return _form_page(request, conn, user, lang, household, person, kept, errors, status_code=409)
    except InvalidInput as exc:
        return _form_page(request, conn, user, lang, household, person, kept, _problems(exc), status_code=422)
    except Conflict as exc:
        # the stored person now, beside what was posted; the form edits the stored version from here
        return _form_page(request, conn, user, lang, household, person, kept, status_code=409,
                          conflict={"detail": str(exc), "yours": kept, "theirs": _stored_form(person)})
    return RedirectResponse(f"/households/{person['household_id']}", status_code=303)


def _move_page(request: Request, conn: psycopg.Connection, user: Principal, lang: Lang, person: dict,
               q: str | None, form: dict[str, str] | None = None, errors: dict | None = None,
               conflict: dict | None = None, status_code: int = 200) -> HTMLResponse:
    household = get_household(conn, person["household_id"])
    found = None
    if q and q.strip():
        found = list_households(conn, q=q.strip(), limit=SEARCH_LIMIT)
        found["items"] = [h for h in found["items"] if h["id"] != household["id"]]
    others = [p for p in household["persons"] if p["id"] != person["id"]]
    response = page(request, user, lang, "person_move.html", N_("人员迁移"), person=person, h=household,
                    others=others, needs_heir=person["relation"] == "head" and bool(others), q=q or "",
                    found=found, form=form or {"moved_on": date.today().isoformat()}, errors=errors or {},
                    conflict=conflict, labels=LABELS, relations=RELATIONS, today=date.today().isoformat())
    response.status_code = status_code
    return response


@router.get("/persons/{person_id}/move", response_class=HTMLResponse)
def move_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang, person_id: DbId,
              q: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """Move a person: to another household found by search (户间迁移), or out of the register (迁出)."""
    assert user is not None
    return _move_page(request, conn, user, lang, get_person(conn, person_id), q)


@router.post("/persons/{person_id}/move", response_class=HTMLResponse, response_model=None)
def save_move(request: Request, conn: Conn, user: CurrentUser, lang: Lang, person_id: DbId,
              form: Posted) -> HTMLResponse | RedirectResponse:
    """``kind`` transfer: to ``household_id`` (with ``relation``); ``kind`` out: the move-out. Both at
    ``version``, with ``moved_on``, ``note`` and, when the head leaves members behind, ``new_head_id``."""
    assert user is not None
    person = get_person(conn, person_id)  # 404 outside the user's rows
    problems: list[Problem] = []
    _lengths(form, problems)
    kind = form.get("kind", "")
    version = _int(form, "version", problems, required=True)
    new_head = _int(form, "new_head_id", problems)
    moved_on = _date(form, "moved_on", problems)
    target = _int(form, "household_id", problems, required=kind == "transfer")
    if kind not in ("transfer", "out"):
        problems.append(Problem("kind", "must be transfer or out"))
    try:
        if problems or version is None:
            raise InvalidInput(problems)
        if kind == "transfer":
            assert target is not None
            moves.transfer(conn, person_id, version, target, form.get("relation") or None, moved_on,
                           form.get("note"), new_head)
        else:
            moves.move_out(conn, person_id, version, moved_on, form.get("note"), new_head)
    except NotFound as exc:
        if exc.what != "household":
            raise
        # the household moved to is out of the user's rows: said beside its field, as a 404 status
        return _move_page(request, conn, user, lang, person, form.get("q"), form,
                          {"household_id": str(exc)}, status_code=404)
    except InvalidInput as exc:
        return _move_page(request, conn, user, lang, person, form.get("q"), form, _problems(exc),
                          status_code=422)
    except Conflict as exc:
        # ``person`` is the stored version now; the page's forms carry it from here
        return _move_page(request, conn, user, lang, person, form.get("q"), form, status_code=409,
                          conflict={"detail": str(exc), "yours": version, "theirs": person})
    return RedirectResponse(f"/households/{person['household_id']}", status_code=303)


@history_router.get("/households/{household_id}/moves", response_class=HTMLResponse)
def history_page(request: Request, conn: Conn, user: CurrentUser, lang: Lang,
                 household_id: DbId) -> HTMLResponse:
    """The household's record of moves (迁入迁出记录), newest first."""
    assert user is not None
    household = get_household(conn, household_id)
    found = moves.list_moves(conn, household_id, limit=200)
    return page(request, user, lang, "person_move.html", N_("迁入迁出记录"), person=None, h=household,
                moves=found["items"], total=found["total"], kinds=MOVE_KINDS, labels=LABELS,
                relations=RELATIONS)
