"""Error pages for browsers: a refusal (403), a missing household (404), bad parameters (422) … shown
as a workbench page in the user's language, with the same status code, when the request's Accept
prefers text/html; every other client gets the JSON body of api/errors.py, unchanged.

``install(app)`` wraps the exception handlers the app has registered by then (api/errors.py's,
api/strict_params.py's): each still writes its JSON answer, and for a browser that answer is turned
into the page (its ``detail`` and ``errors`` in the API's own words). A 5xx page says no more than
its JSON: no exception text, no SQL. The sign-in redirect of an anonymous browser (303) passes as it
is. Also here: ``bare_page``, a page for someone not signed in (the sign-in form, an error page),
in login.html's layout without the menu.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.headers import csp_nonce
from api.security import TOKEN_COOKIE
from api.workbench.i18n import HTML_LANG, LANG_COOKIE, LANGUAGES, N_, Language, choose_language, translations
from api.workbench.render import environment, language_switch, page
from gis.access.accounts import Principal, authenticate

log = logging.getLogger("gridmap.api")

# (title, what it means for the user) per status: msgids.
MEANINGS: dict[int, tuple[str, str]] = {
    400: (N_("请求有误"), N_("请求的参数不正确。")),
    401: (N_("请先登录"), N_("此操作需要先登录。")),
    403: (N_("无权访问"), N_("您的角色或管辖范围不允许打开此页面或进行此操作。")),
    404: (N_("未找到"), N_("要找的内容不存在，或不在您的管辖范围内。")),
    405: (N_("不支持的操作"), N_("此地址不支持这种请求方式。")),
    409: (N_("数据冲突"), N_("数据已被他人修改或已存在，请刷新后再试。")),
    413: (N_("内容过大"), N_("上传的内容超过了允许的大小。")),
    422: (N_("输入有误"), N_("请求中有不符合要求的内容，见下表。")),
    500: (N_("服务器内部错误"), N_("服务器出错了，请稍后重试；如果一直出现，请联系系统管理员。")),
    503: (N_("服务暂不可用"), N_("数据库暂时无法连接，请稍后重试。")),
}
OTHER = (N_("出错了"), N_("请求没有完成。"))
JSON_TYPES = ("application/json", "application/geo+json", "application/problem+json")


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def wants_html(request: Request) -> bool:
    """Whether the client asks for HTML before JSON: a browser's navigation names text/html; the API's
    clients name JSON or nothing (*/*). A client naming both gets the one it rates higher (JSON on a tie)."""
    html = json_q = 0.0
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        if media == "text/html":
            html = max(html, _quality(params))
        elif media in JSON_TYPES:
            json_q = max(json_q, _quality(params))
    return html > json_q


def _language(request: Request) -> Language:
    chosen = request.query_params.get("lang")
    return choose_language(request, chosen if chosen in LANGUAGES else None)  # type: ignore[arg-type]


def bare_page(request: Request, lang: Language, template: str, title: str, status_code: int = 200,
              switch: str | None = None, **context: Any) -> HTMLResponse:
    """``template`` (login.html or one extending it) for someone not signed in: no menu, the language
    switch (``switch`` + zh|en; default this path), stores a language chosen with ``?lang=``."""
    _ = translations(lang).gettext
    html = environment().get_template(template).render(
        _=_, lang=lang, html_lang=HTML_LANG[lang], title=_(title), user=None, nonce=csp_nonce(request),
        path=request.url.path, switch=switch or language_switch(request), **context)
    response = HTMLResponse(html, status_code=status_code)
    chosen = getattr(request.state, "lang_chosen", None)
    if chosen is not None:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


def _signed_in(request: Request) -> Principal | None:
    """The user, as the request's own authentication found them; for a request that never got that far
    (an unknown address) the login cookie's user, so that the page still shows their menu."""
    missing = object()
    user = getattr(request.state, "user", missing)
    if user is not missing:
        return user if isinstance(user, Principal) else None
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    try:
        with request.app.state.pool.connection() as conn, conn.transaction():
            return authenticate(conn, token, request.app.state.settings.secret_key)
    except Exception:  # noqa: BLE001  # an error page must not fail for want of the menu
        log.warning("error page: could not authenticate the login cookie", exc_info=True)
        return None


def error_page(request: Request, status_code: int, body: dict[str, Any]) -> HTMLResponse:
    """The page of an error answer whose JSON is ``body`` ({"detail", "errors"})."""
    lang = _language(request)
    title, meaning = MEANINGS.get(status_code, OTHER)
    problems = [p for p in body.get("errors") or [] if isinstance(p, dict)]
    user = _signed_in(request)
    sign_in = None
    if user is None and status_code in (401, 403) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        sign_in = "/login?" + urlencode({"next": target})
    context: dict[str, Any] = {"status": status_code, "meaning": meaning, "problems": problems,
                               "detail": str(body.get("detail") or ""), "sign_in": sign_in}
    if user is not None:
        response = page(request, user, lang, "error.html", title, layout="base.html", **context)
        response.status_code = status_code
        return response
    return bare_page(request, lang, "error.html", title, status_code, layout="login.html", **context)


Handler = Callable[[Request, Exception], Any]


def _for_browsers(handler: Handler) -> Handler:
    async def respond(request: Request, exc: Exception) -> Response:
        answer = handler(request, exc)
        response: Response = await answer if inspect.isawaitable(answer) else answer
        if not isinstance(response, JSONResponse) or response.status_code < 400 or not wants_html(request):
            return response
        try:
            body = json.loads(bytes(response.body))
            html = await run_in_threadpool(error_page, request, response.status_code, body)
        except Exception:  # noqa: BLE001  # the JSON answer is still a correct one
            log.exception("error page failed: answering JSON")
            return response
        for name, value in response.headers.items():
            if name not in ("content-length", "content-type"):
                html.headers.setdefault(name, value)
        # A 500 leaves by the outermost middleware, past the security headers': the page names the user.
        html.headers.setdefault("cache-control", "no-store")
        return html

    return respond


def install(app: FastAPI) -> None:
    """Wrap every exception handler registered so far: call last, after the app's own install."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _for_browsers(handler)
