"""The FastAPI application: create_app(settings) wires the pool, error mapping, routes and assets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, strict_params, workbench
from api.cors import install_cors
from api.headers import SecurityHeaders
from api.security import enforce_policy
from api.upload_guard import UploadGuard
from gis.db import open_pool
from gis.settings import Settings
from layers.assets import PACKAGES, STATIC_PREFIX


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = open_pool(settings)
        try:
            yield
        finally:
            app.state.pool.close()

    app = FastAPI(
        title="gridmap",
        summary="Grid management (网格化管理): grids, the register (一册) and the map (一图)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served with local assets by api.workbench.install
        # Every route, however it is added, is authenticated and checked against api/policy.py here.
        dependencies=[Depends(enforce_policy)],
    )
    app.state.settings = settings
    app.add_middleware(UploadGuard)  # a body the request will be refused for is never read
    errors.install(app)
    strict_params.install(app)  # unknown query parameters answer 400 (after the policy)
    app.add_middleware(SecurityHeaders, settings=settings)  # CSP, nosniff, no framing, no-store
    from api.routes import ROUTERS

    for router in ROUTERS:
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    workbench.install(app, errors.ERROR_RESPONSES)  # the pages (工作台), their assets, /docs and /redoc
    # The maps' Leaflet, markercluster and jQuery, from the xstatic packages (api/policy.py: public).
    for package, folder in PACKAGES.items():
        app.mount(f"{STATIC_PREFIX}/{package}", StaticFiles(directory=folder), name=f"static-{package}")
    install_cors(app, settings)  # CORS for GRIDMAP_CORS_ORIGINS; HEAD on the OGC routes
    return app
