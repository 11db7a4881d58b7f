"""Connections to PostGIS: the conninfo for the settings, single connections and the pool.

Two roles connect. The owner (the embedded cluster's superuser, or GRIDMAP_DATABASE_URL's user) runs
migrations and the CLI. The service's requests log in as ``gridmap_app`` (migration 012): not a
superuser, a member of no role, subject to row-level security, with no direct access to accounts or
tokens, so an injected statement cannot RESET ROLE into the owner. It reaches the same server and
database as the owner; over TCP it signs in with a password derived from GRIDMAP_SECRET_KEY, which
`gridmap db migrate` (and serve, up) set.
"""

from __future__ import annotations

import hashlib
import hmac

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from gis.embedded import Cluster
from gis.settings import Settings

APP_LOGIN = "gridmap_app"  # the service's login role (gis.access.accounts.APP_ROLE)


def cluster(settings: Settings) -> Cluster:
    return Cluster(settings.data_dir, settings.db_port)


def conninfo(settings: Settings) -> str:
    """The owner's connection: migrations, the CLI."""
    return settings.database_url or cluster(settings).conninfo()


def app_password(settings: Settings) -> str:
    """The login role's password: derived from the deployment's secret, so there is nothing more to
    configure or store. (The embedded cluster's Unix socket needs none.)"""
    return hmac.new(settings.secret_key.encode(), b"gridmap_app database login", hashlib.sha256).hexdigest()


def app_conninfo(settings: Settings) -> str:
    """The service's connection: the owner's server and database, logged in as the login role."""
    return make_conninfo(conninfo(settings), user=APP_LOGIN, password=app_password(settings))


def set_app_password(conn: psycopg.Connection, settings: Settings) -> None:
    """Give the login role the password app_conninfo signs in with. Sent as a SCRAM verifier made
    here, so the password itself never reaches the server (nor its statement log)."""
    verifier = conn.pgconn.encrypt_password(app_password(settings).encode(), APP_LOGIN.encode(),
                                            b"scram-sha-256")
    conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
        sql.Identifier(APP_LOGIN), sql.Literal(verifier.decode())))


def configure(conn: psycopg.Connection) -> None:
    """Per-connection setup: JIT costs more than it saves on our sub-second spatial queries."""
    conn.execute("SET jit = off")
    conn.commit()


def connect(settings: Settings, autocommit: bool = False) -> psycopg.Connection:
    """A connection as the owner."""
    conn = psycopg.connect(conninfo(settings), autocommit=autocommit)
    conn.execute("SET jit = off")
    return conn


def open_pool(settings: Settings) -> ConnectionPool:
    """The service's pool, logged in as the login role (never the owner)."""
    # After PostgreSQL restarts, the pool's reconnection attempts back off exponentially (1, 2, 4,
    # 8 s ...). A short reconnect_timeout ends such a series after a few seconds, so the next request
    # starts a fresh attempt instead of waiting out a long delay; requests wait at most `timeout`
    # for a connection and are answered 503 meanwhile.
    pool = ConnectionPool(
        app_conninfo(settings), min_size=1, max_size=settings.pool_size, configure=configure,
        check=ConnectionPool.check_connection, open=False, timeout=10.0, reconnect_timeout=5.0,
    )
    pool.open(wait=True, timeout=30)
    return pool
