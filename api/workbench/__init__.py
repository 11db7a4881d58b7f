"""The workbench (工作台): the server-rendered pages people work in, Chinese first (English through
gettext catalogues), with the navigation of the user's roles; and the API viewers with local assets.

``install(app)`` adds the pages, their stylesheet under /static/workbench and /docs, /redoc with
their assets under /static/docs. Every page route has its row in api/policy.py.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.workbench import audit as audit_pages
from api.workbench import dashboard, home, households, lists, users
from api.workbench import division as division_pages
from api.workbench import errors as error_pages
from api.workbench import exports as export_pages
from api.workbench import imports as import_pages
from api.workbench import persons as person_pages
from api.workbench.docs import install_docs
from api.workbench.help import install_help
from api.workbench.render import STATIC, WORKBENCH_STATIC


def install(app: FastAPI, responses: dict) -> None:
    app.include_router(home.router, responses=responses)
    app.include_router(dashboard.router, responses=responses)  # 四清看板
    install_help(app, responses)  # the user guide (使用说明) at /help and its screenshots
    # The household pages share their paths with the API's JSON routes: put them first, so that a
    # browser's page request reaches them (PageRoute lets every other request on to the API).
    before = len(app.router.routes)
    # the lists behind the 四清 figures (/persons, /households with a list filter): before the search
    app.include_router(lists.router, responses=responses)
    app.include_router(lists.households_router, responses=responses)
    app.include_router(households.router, responses=responses)
    app.include_router(households.form_router, responses=responses)
    app.include_router(person_pages.router, responses=responses)  # 人员: add (迁入), edit and tag, move
    app.include_router(person_pages.history_router, responses=responses)  # 迁入迁出记录 (moves)
    app.include_router(division_pages.router, responses=responses)  # 划分检查 on /communities/{code}/division
    app.include_router(audit_pages.router, responses=responses)  # 审计日志 on /audit
    app.include_router(users.router, responses=responses)  # 用户管理 on /users (pages and form posts)
    app.include_router(users.form_router, responses=responses)
    # 数据导入 (/imports; its posts share POST /imports/{layer} with the API) and 数据导出 (/exports)
    app.include_router(import_pages.router, responses=responses)
    app.include_router(import_pages.post_router, responses=responses)
    app.include_router(export_pages.router, responses=responses)
    pages = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = pages
    app.mount(WORKBENCH_STATIC, StaticFiles(directory=STATIC), name="static-workbench")
    install_docs(app)
    error_pages.install(app)  # last: wraps every exception handler registered by now (HTML for browsers)
