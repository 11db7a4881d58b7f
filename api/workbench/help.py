"""The user guide (使用说明): one Markdown file per role in api/workbench/guide/, served as pages at
/help (the index: the user's own roles first) and /help/{role}, inside the workbench's layout.

The Markdown is written to read on its own too (a repository viewer shows it with its screenshots),
so its links are relative: ``screens/x.png`` becomes the guide's static mount, ``admin.md`` the page
/help/admin; a link starting with ``/`` is an address of the app and is left as it is. Raw HTML in the
Markdown is not rendered (markdown-it's ``html`` option off): the page holds only what Markdown makes.
The guide holds no data: the pages are open to every signed-in user, the screenshots to everyone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from api.security import CurrentUser
from api.workbench.i18n import N_, Lang
from api.workbench.render import page
from gis.access.roles import ROLES
from layers.assets import STATIC_PREFIX

GUIDE = Path(__file__).parent / "guide"
GUIDE_STATIC = f"{STATIC_PREFIX}/guide"  # the screenshots: /static/guide/screens/<name>.png
# The guide of each role (gis.access.roles codes, the order users are shown them) and its title.
GUIDES: dict[str, str] = {role: f"{role}.md" for role in ROLES}
TITLES = {"admin": N_("管理员使用说明"), "grid_worker": N_("网格员使用说明"), "inspector": N_("督查使用说明"),
          "planner": N_("创建办/城管使用说明"), "viewer": N_("查看人员使用说明"),
          "unit": N_("责任单位使用说明"), "reporter": N_("志愿者/劝导员使用说明")}
INDEX_TITLE = N_("使用说明")

router = APIRouter(tags=["workbench (工作台)"], include_in_schema=False)


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str


@dataclass(frozen=True)
class Guide:
    html: Markup  # rendered from our own Markdown with raw HTML off: safe to put in the page
    sections: list[Section]  # the second-level headings, for the contents list


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def _target(url: str) -> str:
    """Where a link or image of the guide points in the app: relative screenshots to the static mount,
    another guide file to its page; addresses of the app and anchors unchanged."""
    if url.startswith(("/", "#")) or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.IGNORECASE):
        return url
    path, _, anchor = url.partition("#")
    if path.endswith(".md"):
        role = path.removesuffix(".md").rsplit("/", 1)[-1]
        href = "/help" if role == "index" else f"/help/{role}"
        return f"{href}#{anchor}" if anchor else href
    return f"{GUIDE_STATIC}/{path.removeprefix('./')}"


def _retarget(tokens: Iterable[Token]) -> None:
    for token in tokens:
        if token.type == "image":
            token.attrSet("src", _target(str(token.attrGet("src") or "")))
            token.attrSet("loading", "lazy")
        elif token.type == "link_open":
            token.attrSet("href", _target(str(token.attrGet("href") or "")))
        if token.children:
            _retarget(token.children)


@cache
def render_guide(name: str) -> Guide:
    """The guide file ``name`` as HTML, without its first-level title (the page's own <h1> shows it);
    its second-level headings get anchors s1, s2, … for the contents list."""
    md = _markdown()
    tokens = md.parse((GUIDE / name).read_text(encoding="utf-8"))
    if tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        tokens = tokens[3:]  # heading_open, inline, heading_close
    _retarget(tokens)
    sections: list[Section] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            anchor = f"s{len(sections) + 1}"
            token.attrSet("id", anchor)
            sections.append(Section(anchor, tokens[i + 1].content))
    return Guide(Markup(md.renderer.render(tokens, md.options, {})), sections)


def _guide_links(first: Iterable[str]) -> list[tuple[str, str]]:
    """(role, title msgid) of every guide, the roles in ``first`` before the others."""
    own = [r for r in ROLES if r in set(first)]
    return [(r, TITLES[r]) for r in own + [r for r in ROLES if r not in own]]


@router.get("/help", response_class=HTMLResponse, summary="The user guide (使用说明): the index")
def help_index(request: Request, user: CurrentUser, lang: Lang) -> HTMLResponse:
    assert user is not None  # the policy lets no anonymous caller through (a browser goes to /login)
    own = [r for r in ROLES if r in user.roles]
    return page(request, user, lang, "help.html", INDEX_TITLE, guide=render_guide("index.md"),
                own=own, guides=_guide_links(own), titles=TITLES, role=None)


def _role_page(role: str) -> Callable[..., HTMLResponse]:
    def help_role(request: Request, user: CurrentUser, lang: Lang) -> HTMLResponse:
        assert user is not None
        own = [r for r in ROLES if r in user.roles]
        return page(request, user, lang, "help.html", TITLES[role], guide=render_guide(GUIDES[role]),
                    own=own, guides=_guide_links(own), role=role)
    return help_role


# One route per role (no {role} parameter): an unknown role is the router's plain 404, and each page
# is a fixed address with its own row in api/policy.py.
for _role in ROLES:
    router.add_api_route(f"/help/{_role}", _role_page(_role), methods=["GET"], response_class=HTMLResponse,
                         name=f"help_{_role}", summary=f"The user guide (使用说明) of the role {_role}")


def install_help(app: FastAPI, responses: dict) -> None:
    """The guide's pages and its screenshots' static mount (public: they hold no data)."""
    app.include_router(router, responses=responses)
    app.mount(GUIDE_STATIC, StaticFiles(directory=GUIDE), name="static-guide")
