"""Connections to PostGIS: the conninfo for the settings, single connections and the pool."""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

from gis.embedded import Cluster
from gis.settings import Settings


def cluster(settings: Settings) -> Cluster:
    return Cluster(settings.data_dir, settings.db_port)


def conninfo(settings: Settings) -> str:
    return settings.database_url or cluster(settings).conninfo()


def configure(conn: psycopg.Connection) -> None:
    """Per-connection setup: JIT costs more than it saves on our sub-second spatial queries."""
    conn.execute("SET jit = off")
    conn.commit()


def connect(settings: Settings, autocommit: bool = False) -> psycopg.Connection:
    conn = psycopg.connect(conninfo(settings), autocommit=autocommit)
    conn.execute("SET jit = off")
    return conn


def open_pool(settings: Settings) -> ConnectionPool:
    # After PostgreSQL restarts, the pool's reconnection attempts back off exponentially (1, 2, 4,
    # 8 s ...). A short reconnect_timeout ends such a series after a few seconds, so the next request
    # starts a fresh attempt instead of waiting out a long delay; requests wait at most `timeout`
    # for a connection and are answered 503 meanwhile.
    pool = ConnectionPool(
        conninfo(settings), min_size=1, max_size=settings.pool_size, configure=configure,
        check=ConnectionPool.check_connection, open=False, timeout=10.0, reconnect_timeout=5.0,
    )
    pool.open(wait=True, timeout=30)
    return pool
