"""Authentication and the one permission check every API and map route goes through.

``enforce_policy`` is attached to every router in create_app, so route modules need no code of
their own: it authenticates the caller (a bearer token; for safe methods also the ``gridmap_token``
cookie a browser gets at login), switches the request's transaction to the service role acting for
that user (the database's row-level security does the rest), looks the route up in api/policy.py,
checks any community or grid code the request names against the user's grants, and writes the audit
entry for reads of personal data and register exports (refusals are recorded by api.deps.get_conn,
in a transaction of their own, whoever raised them).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from api.deps import PATH_CODES, QUERY_CODES, Conn, client_address, named_codes, note_attempt, request_detail
from api.policy import POLICY, Rule
from gis.access import accounts, audit
from gis.access.accounts import Principal
from gis.access.roles import UNMASK
from gis.errors import InvalidInput

__all__ = ["client_address"]  # re-exported: the routes take the client's address from here
TOKEN_COOKIE = "gridmap_token"
SAFE_METHODS = frozenset({"GET", "HEAD"})
# The workbench's forms post with the login cookie; each carries this field (or an htmx request this
# header), derived from the cookie's token: a page of another site can neither read nor compute it.
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
CODE_RE = re.compile(r"[0-9]{6,15}")

# Declares the scheme in the OpenAPI document (Swagger's Authorize button); the check is below.
bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def csrf_token(token: str, secret_key: str) -> str:
    """The CSRF token of a session: an HMAC of its login token under the settings' secret key."""
    return hmac.new(secret_key.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


async def presented_csrf(request: Request) -> str | None:
    """The CSRF token a cookie-authenticated write carries (the form field or the header), else None.
    The form is read only for a write that comes with the login cookie and no bearer token; FastAPI
    keeps the parsed form for the route's own Form parameters."""
    if (request.method in SAFE_METHODS or TOKEN_COOKIE not in request.cookies
            or request.headers.get("authorization")):
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in FORM_TYPES:
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def presented_token(request: Request, header_token: str | None, csrf: str | None = None) -> str | None:
    """The bearer token; on safe methods the login cookie; on writes the login cookie only beside
    the session's CSRF token (a cookie alone would invite cross-site request forgery)."""
    if header_token:
        return header_token
    cookie = request.cookies.get(TOKEN_COOKIE) or None
    if request.method in SAFE_METHODS or cookie is None:
        return cookie
    if csrf is None:
        return None
    expected = csrf_token(cookie, request.app.state.settings.secret_key)
    if not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form's CSRF token does not match this session: "
                                                        "reload the page and send it again")
    return cookie


def current_user(request: Request, conn: Conn,
                 header_token: Annotated[str | None, Depends(bearer)],
                 csrf: Annotated[str | None, Depends(presented_csrf)]) -> Principal | None:
    """The caller, or None when no (live) token was presented. Also makes the rest of the request's
    transaction act for this user: the database derives them from the token's hash, not from a user
    id the service could set to anyone."""
    token = presented_token(request, header_token, csrf)
    settings = request.app.state.settings
    principal = accounts.authenticate(conn, token, settings.secret_key) if token else None
    accounts.act_as(conn, principal, client_address(request))
    request.state.user = principal
    return principal


CurrentUser = Annotated[Principal | None, Depends(current_user)]


def _unauthenticated(request: Request) -> HTTPException:
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        # A browser opening a map: send it to the login form, and back here afterwards.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return HTTPException(status.HTTP_303_SEE_OTHER, "sign in first",
                             headers={"Location": f"/login?next={quote(target, safe='')}"})
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated: sign in at POST /auth/token",
                         headers={"WWW-Authenticate": "Bearer"})


def route_rule(request: Request) -> tuple[str, Rule | None]:
    """The route's path template and its rule in api/policy.py (None: no decision, so refused)."""
    route = request.scope.get("route")
    template = getattr(route, "path_format", None) or ""
    rule = POLICY.get((request.method, template))
    if rule is not None and rule.layer_param:
        rule = rule.for_layer(request.path_params.get(rule.layer_param))
    return template, rule


def check_codes(request: Request, user: Principal, roles: frozenset[str]) -> None:
    """A community or grid code named in the path or query must lie in (or contain) one of the
    user's scopes for the roles this route allows."""
    named = [(k, str(request.path_params[k])) for k in PATH_CODES if k in request.path_params]
    named += [(k, v) for k in QUERY_CODES for v in request.query_params.getlist(k)]
    everywhere = any(g.role in roles and g.scope == "" for g in user.grants)
    for field, code in named:
        if everywhere:
            continue  # the route itself validates the code
        if not CODE_RE.fullmatch(code):
            raise InvalidInput.one(field, "must be a community (12 digits) or grid (15 digits) code")
        if not user.covers(code, roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{field} {code} is outside your scope")


def enforce_policy(request: Request, conn: Conn, user: CurrentUser) -> None:
    """Allow the call or refuse it: 401 not signed in, 403 role or scope not allowed."""
    template, rule = route_rule(request)
    if rule is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this route has no access decision")
    if rule.public:
        return
    if user is None:
        raise _unauthenticated(request)
    roles = rule.roles & user.roles
    if not roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"needs one of the roles: {', '.join(sorted(rule.roles))}")
    check_codes(request, user, roles)
    if rule.audit is not None:
        area = [c for c in named_codes(request) if CODE_RE.fullmatch(c)]
        note_attempt(request, audit.Entry(rule.audit, template, request_detail(request), area=area), conn)


def require_unmask_right(request: Request) -> None:
    """Full ID numbers and phones only for roles holding the register right (admin, grid worker)."""
    user: Principal | None = getattr(request.state, "user", None)
    if user is None or not user.roles & UNMASK:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not see full ID numbers and phones")
