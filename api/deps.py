"""Typed dependencies: the settings and a pooled connection, one transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request

from gis.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction: committed when the handler returns, rolled back on error."""
    with request.app.state.pool.connection() as conn, conn.transaction():
        yield conn


Conn = Annotated[psycopg.Connection, Depends(get_conn)]
AppSettings = Annotated[Settings, Depends(get_settings)]
