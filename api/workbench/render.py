"""Rendering a workbench page: the Jinja2 templates with what every page shows (the menu of the
user's roles, who is signed in, the sign-out form with its CSRF token, the language switch)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.headers import csp_nonce
from api.security import TOKEN_COOKIE, csrf_token
from api.workbench.i18n import HTML_LANG, LANG_COOKIE, N_, Language, translations
from api.workbench.nav import menu
from gis.access.accounts import Principal
from gis.access.roles import ROLES
from layers.assets import STATIC_PREFIX

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
WORKBENCH_STATIC = f"{STATIC_PREFIX}/workbench"
# The roles' names as users know them (msgids).
ROLE_NAMES = {"admin": N_("管理员"), "grid_worker": N_("网格员"), "inspector": N_("督查"),
              "planner": N_("创建办/城管"), "viewer": N_("查看"), "unit": N_("责任单位"),
              "reporter": N_("志愿者/劝导员")}
DASH = "—"  # a figure the user may not see: never shown as 0


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(static=WORKBENCH_STATIC, DASH=DASH)
    return env


def language_switch(request: Request) -> str:
    """This page's address with its query kept but for ``lang``, ending in ``lang=`` (the template adds
    zh or en): switching language on a filtered list or a mapping step stays on that step."""
    kept = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return f"{request.url.path}?{kept + '&' if kept else ''}lang="


def page(request: Request, user: Principal, lang: Language, template: str, title: str,
         **context: Any) -> HTMLResponse:
    """The page ``template`` for ``user`` in ``lang``; stores a language chosen with ``?lang=``."""
    _ = translations(lang).gettext
    token = request.cookies.get(TOKEN_COOKIE)
    secret = request.app.state.settings.secret_key
    html = environment().get_template(template).render(
        _=_, lang=lang, html_lang=HTML_LANG[lang], title=_(title), user=user, menu=menu(user),
        roles=[_(ROLE_NAMES[r]) for r in ROLES if r in user.roles], all_roles=ROLES, nonce=csp_nonce(request),
        csrf=csrf_token(token, secret) if token else "", path=request.url.path,
        switch=language_switch(request), **context)
    response = HTMLResponse(html)
    chosen = getattr(request.state, "lang_chosen", None)
    if chosen is not None:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
