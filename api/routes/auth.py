"""Signing in and out (OAuth2 password flow, a login form for browsers), who am I, the audit log."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from markupsafe import Markup
from pydantic import BaseModel

from api.deps import AppSettings, Conn, is_https, note_attempt
from api.security import TOKEN_COOKIE, CurrentUser, bearer, client_address
from api.workbench.errors import bare_page
from api.workbench.i18n import N_, Lang, Language
from gis.access import accounts, audit
from gis.settings import Settings

router = APIRouter(tags=["accounts (用户)"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class GrantOut(BaseModel):
    role: str
    scope: str


class MeOut(BaseModel):
    id: int
    username: str
    roles: list[str]
    grants: list[GrantOut]


def _sign_in(conn: Conn, settings: Settings, request: Request, username: str, password: str,
             response: Response) -> tuple[str, datetime]:
    try:
        token, expires = accounts.issue_token(conn, username.strip(), password, settings.secret_key,
                                              timedelta(minutes=settings.token_ttl_minutes),
                                              client_address(request))
    except accounts.AuthenticationFailed as exc:
        # Recorded even though the request fails (api.deps writes it after the rollback).
        note_attempt(request, audit.Entry("sign_in_failed", request.url.path,
                                          {"username": username.strip()[:64].replace("\x00", "")}))
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                            headers={"WWW-Authenticate": "Bearer"}) from None
    # The cookie lets a browser open the map pages (GET only; writes need the header). Secure whenever
    # the browser may reach us over TLS or from another machine; HttpOnly and same-site always.
    response.set_cookie(TOKEN_COOKIE, token, max_age=settings.token_ttl_minutes * 60, httponly=True,
                        samesite="strict", secure=cookie_secure(request, settings), path="/")
    return token, expires


def cookie_secure(request: Request, settings: Settings) -> bool:
    return not settings.local or is_https(request)


@router.post("/auth/token", response_model=TokenOut,
             summary="Sign in: a bearer token for a name and password")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], conn: Conn, settings: AppSettings,
          request: Request, response: Response) -> dict[str, Any]:
    access_token, expires = _sign_in(conn, settings, request, form.username, form.password, response)
    return {"access_token": access_token, "token_type": "bearer", "expires_at": expires}


@router.post("/auth/revoke", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out: revoke this token")
def revoke(conn: Conn, settings: AppSettings, request: Request,
           header_token: Annotated[str | None, Depends(bearer)]) -> Response:
    # Open to anyone: it only ends the session whose token (header or login cookie) is presented.
    presented = header_token or request.cookies.get(TOKEN_COOKIE)
    if presented:
        accounts.revoke_token(conn, presented, settings.secret_key)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


@router.post("/logout", summary="Sign out from the workbench's form: revoke the cookie's token",
             status_code=status.HTTP_303_SEE_OTHER, response_class=RedirectResponse,
             responses={303: {"description": "Signed out: on to the sign-in form", "content": None}})
def logout(conn: Conn, settings: AppSettings, request: Request, user: CurrentUser,
           header_token: Annotated[str | None, Depends(bearer)],
           csrf_token: Annotated[str, Form(description="the page's CSRF token")] = "",
           ) -> Response:
    # Ends only a session api/security.py authenticated: a bearer token, or the login cookie beside
    # its CSRF token (a wrong token was refused there with 403). A cookie alone ends nothing.
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    presented = header_token or request.cookies.get(TOKEN_COOKIE)
    if user is not None and presented:
        accounts.revoke_token(conn, presented, settings.secret_key)
        response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


@router.get("/auth/me", response_model=MeOut, summary="The signed-in user and their grants")
def me(user: CurrentUser) -> dict[str, Any]:
    assert user is not None  # the policy lets no anonymous caller through
    return {"id": user.user_id, "username": user.username, "roles": sorted(user.roles),
            "grants": [{"role": g.role, "scope": g.scope} for g in user.grants]}


@router.get("/audit", summary="The audit log (审计日志), newest first: the entries within the admin's scope")
def audit_log(
    conn: Conn,
    username: str | None = None,
    action: Annotated[str | None, Query(description="read, export, insert, update, delete, refused or "
                                                    "sign_in_failed")] = None,
    object: Annotated[str | None, Query(description="a route template or a table")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return audit.entries(conn, username=username, action=action, object=object, since=since, until=until,
                         limit=limit, offset=offset)


def _login_page(request: Request, lang: Language, target: str, username: str = "",
                refusal: str | None = None) -> HTMLResponse:
    """The sign-in form (api/workbench/templates/login.html) in the chosen language. ``next`` is the one
    text from the request written into an attribute: escaped here as the form always was."""
    switch = f"/login?{urlencode({'next': target})}&lang="
    status_code = status.HTTP_401_UNAUTHORIZED if refusal is not None else status.HTTP_200_OK
    return bare_page(request, lang, "login.html", N_("登录"), status_code, switch=switch,
                     next=Markup(html.escape(target, quote=True)), username=username[:200],  # noqa: S704
                     refusal=refusal)


def _local_target(target: str) -> str:
    """Only a path on this site: anything else would make the form an open redirect."""
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if local else "/maps/"


@router.get("/login", response_class=HTMLResponse, summary="The sign-in form for browsers")
def login_form(request: Request, lang: Lang, next: str = "/") -> HTMLResponse:
    return _login_page(request, lang, _local_target(next))


@router.post("/login", response_class=HTMLResponse, summary="Sign in from the form; sets the cookie",
             responses={303: {"description": "Signed in: on to the page asked for"},
                        401: {"description": "Wrong name or password: the form again",
                              "content": {"text/html": {}}}})
def login(conn: Conn, settings: AppSettings, request: Request, lang: Lang, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = "/") -> Response:
    target = _local_target(next)
    redirect = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    try:
        _sign_in(conn, settings, request, username, password, redirect)
    except HTTPException as exc:  # the API's words beside the form's
        return _login_page(request, lang, target, username, str(exc.detail))
    return redirect
