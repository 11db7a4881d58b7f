"""The workbench (工作台): the server-rendered pages people work in, Chinese first (English through
gettext catalogues), with the navigation of the user's roles; and the API viewers with local assets.

``install(app)`` adds the pages, their stylesheet under /static/workbench and /docs, /redoc with
their assets under /static/docs. Every page route has its row in api/policy.py.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.workbench import home, households
from api.workbench.docs import install_docs
from api.workbench.render import STATIC, WORKBENCH_STATIC


def install(app: FastAPI, responses: dict) -> None:
    app.include_router(home.router, responses=responses)
    # The household pages share their paths with the API's JSON routes: put them first, so that a
    # browser's page request reaches them (PageRoute lets every other request on to the API).
    before = len(app.router.routes)
    app.include_router(households.router, responses=responses)
    app.include_router(households.form_router, responses=responses)
    pages = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = pages
    app.mount(WORKBENCH_STATIC, StaticFiles(directory=STATIC), name="static-workbench")
    install_docs(app)
