"""Typed dependencies: the settings and a pooled connection (one transaction per request)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request

from gis.access.accounts import act_as
from gis.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction: committed when the handler returns, rolled back on error.

    The transaction runs as the non-superuser service role, so row-level security applies even when
    the pool logs in as the owner; it acts for nobody (sees no register rows) until
    api.security.current_user names the signed-in user.
    """
    with request.app.state.pool.connection() as conn, conn.transaction():
        act_as(conn, None, request.client.host if request.client else None)
        yield conn


Conn = Annotated[psycopg.Connection, Depends(get_conn)]
AppSettings = Annotated[Settings, Depends(get_settings)]
