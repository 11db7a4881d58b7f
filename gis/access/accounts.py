"""Accounts (用户): users, role grants scoped by code prefix, argon2 passwords, bearer tokens.

Tokens are opaque random strings; the database keeps only an HMAC of each (keyed with the
deployment's secret) with its expiry and revocation time. Chosen over JWT because every request
looks the user's grants up anyway (the row-level security needs them fresh), so a revoked token
or a disabled account stops working on the next request, with no revocation list to keep in step
and no signing algorithm to get wrong.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg import sql
from psycopg.rows import dict_row

from gis.access.roles import ROLES, WORKER
from gis.errors import Conflict, GridmapError, InvalidInput, NotFound, Problem

APP_ROLE = "gridmap_app"  # the non-superuser database role every request runs as
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
SCOPE_RE = re.compile(r"^([1-9][0-9]{5}([0-9]{3}([0-9]{3}([0-9]{3})?)?)?)?$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # argon2id, the library's recommended parameters


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that a wrong name costs as long as a wrong
    password. Made on first use: hashing takes a tenth of a second, not to be paid at import."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AuthenticationFailed(GridmapError):
    """Wrong name or password, or a disabled account (which of them is not said)."""


@dataclass(frozen=True)
class Grant:
    role: str
    scope: str  # code prefix; '' = everything


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request, with the grants read at that moment."""

    user_id: int
    username: str
    grants: tuple[Grant, ...]

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    def covers(self, code: str, roles: frozenset[str] | set[str]) -> bool:
        """Whether a grant of one of these roles reaches this community or grid code: the code lies
        under the scope (a street admin and a grid of the street), or the scope under the code (a
        grid worker and their community; the database then narrows the rows to their grid)."""
        return any(g.role in roles and (code.startswith(g.scope) or g.scope.startswith(code))
                   for g in self.grants)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str, secret: str) -> bytes:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).digest()


def _password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > 256:
        return "must be at most 256 characters"
    return None


def create_user(conn: psycopg.Connection, username: str, password: str, full_name: str | None = None) -> int:
    problems = []
    if not USERNAME_RE.fullmatch(username):
        problems.append(Problem("username", "2-63 characters: lower-case letters, digits, '.', '_', '-'"))
    if (why := _password_problem(password)) is not None:
        problems.append(Problem("password", why))
    if problems:
        raise InvalidInput(problems)
    row = conn.execute(
        "INSERT INTO app_user (username, full_name, password_hash) VALUES (%s, %s, %s)"
        " ON CONFLICT (username) DO NOTHING RETURNING id",
        [username, full_name, hash_password(password)],
    ).fetchone()
    if row is None:
        raise Conflict(f"user {username!r} exists already")
    return row[0]


def user_id(conn: psycopg.Connection, username: str) -> int:
    row = conn.execute("SELECT id FROM app_user WHERE username = %s", [username]).fetchone()
    if row is None:
        raise NotFound("user", username)
    return row[0]


def set_password(conn: psycopg.Connection, username: str, password: str) -> None:
    if (why := _password_problem(password)) is not None:
        raise InvalidInput.one("password", why)
    uid = user_id(conn, username)
    conn.execute("UPDATE app_user SET password_hash = %s WHERE id = %s", [hash_password(password), uid])
    conn.execute("UPDATE auth_token SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL", [uid])


def set_active(conn: psycopg.Connection, username: str, active: bool) -> None:
    """Disable (or enable) an account; disabling also revokes its tokens."""
    uid = user_id(conn, username)
    conn.execute("UPDATE app_user SET active = %s WHERE id = %s", [active, uid])
    if not active:
        conn.execute("UPDATE auth_token SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
                     [uid])


def grant(conn: psycopg.Connection, username: str, role: str, scope: str = "") -> None:
    """Give a role over a scope: '' everything, or a 6/9/12/15-digit district/street/community/grid code."""
    problems = []
    if role not in ROLES:
        problems.append(Problem("role", f"must be one of {', '.join(ROLES)}"))
    if not SCOPE_RE.fullmatch(scope):
        problems.append(Problem("scope", "'' (everything) or a 6, 9, 12 or 15-digit code"))
    elif role == WORKER and len(scope) != 15:
        problems.append(Problem("scope", "a grid worker (网格员) is granted grids: a 15-digit grid code"))
    if problems:
        raise InvalidInput(problems)
    if len(scope) == 15 and conn.execute("SELECT 1 FROM grid WHERE code = %s", [scope]).fetchone() is None:
        raise NotFound("grid", scope)
    conn.execute("INSERT INTO user_grant (user_id, role, scope) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                 [user_id(conn, username), role, scope])


def revoke_grant(conn: psycopg.Connection, username: str, role: str, scope: str = "") -> bool:
    cur = conn.execute("DELETE FROM user_grant WHERE user_id = %s AND role = %s AND scope = %s",
                       [user_id(conn, username), role, scope])
    return cur.rowcount > 0


def list_users(conn: psycopg.Connection) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT u.id, u.username, u.full_name, u.active, u.created_at,
                      coalesce(json_agg(json_build_object('role', g.role, 'scope', g.scope)
                                        ORDER BY g.role, g.scope) FILTER (WHERE g.role IS NOT NULL),
                               '[]') AS grants
               FROM app_user u LEFT JOIN user_grant g ON g.user_id = u.id
               GROUP BY u.id ORDER BY u.username"""
        ).fetchall()


def issue_token(conn: psycopg.Connection, username: str, password: str, secret: str,
                ttl: timedelta, client: str | None = None) -> tuple[str, datetime]:
    """Check the password and hand out a new bearer token, valid for ``ttl``."""
    row = conn.execute("SELECT id, password_hash, active FROM app_user WHERE username = %s",
                       [username]).fetchone()
    ok = verify_password(row[1] if row else _dummy_hash(), password)
    if row is None or not ok or not row[2]:
        raise AuthenticationFailed("wrong username or password, or the account is disabled")
    token = secrets.token_urlsafe(32)
    expires = conn.execute(
        "INSERT INTO auth_token (token_hash, user_id, expires_at, client)"
        " VALUES (%s, %s, now() + %s, %s) RETURNING expires_at",
        [token_hash(token, secret), row[0], ttl, client],
    ).fetchone()
    assert expires is not None
    return token, expires[0]


def authenticate(conn: psycopg.Connection, token: str, secret: str) -> Principal | None:
    """The user a live token belongs to (not expired, not revoked, account active), or None."""
    row = conn.execute(
        """SELECT u.id, u.username,
                  coalesce(array_agg(g.role ORDER BY g.role, g.scope) FILTER (WHERE g.role IS NOT NULL),
                           '{}'),
                  coalesce(array_agg(g.scope ORDER BY g.role, g.scope) FILTER (WHERE g.role IS NOT NULL),
                           '{}')
           FROM auth_token t
           JOIN app_user u ON u.id = t.user_id AND u.active
           LEFT JOIN user_grant g ON g.user_id = u.id
           WHERE t.token_hash = %s AND t.revoked_at IS NULL AND t.expires_at > now()
           GROUP BY u.id""",
        [token_hash(token, secret)],
    ).fetchone()
    if row is None:
        return None
    return Principal(row[0], row[1], tuple(Grant(r, s) for r, s in zip(row[2], row[3], strict=True)))


def revoke_token(conn: psycopg.Connection, token: str, secret: str) -> bool:
    cur = conn.execute(
        "UPDATE auth_token SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL",
        [token_hash(token, secret)])
    return cur.rowcount > 0


def act_as(conn: psycopg.Connection, principal: Principal | None, client: str | None = None) -> None:
    """Run the rest of the transaction as the service role, for this user: the row-level security
    policies read ``gridmap.user_id``; the audit trigger reads ``gridmap.client``. Both settings and
    the role end with the transaction, so a pooled connection carries nothing to the next request."""
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
    conn.execute("SELECT set_config('gridmap.user_id', %s, true), set_config('gridmap.client', %s, true)",
                 ["" if principal is None else str(principal.user_id), client or ""])


def demo_users(conn: psycopg.Connection) -> list[dict]:
    """One user per role for the demo (demo-admin, demo-grid_worker, ...), each with a fresh random
    password (an existing demo user gets a new one): the demo never ships a known password. The grid
    worker serves the first grid."""
    first_grid = conn.execute("SELECT min(code) FROM grid").fetchone()
    made = []
    for role in ROLES:
        scope = (first_grid[0] or "") if role == WORKER and first_grid else ""
        if role == WORKER and not scope:
            continue  # no grid yet to serve
        username, password = f"demo-{role.replace('_', '-')}", secrets.token_urlsafe(9)
        try:
            create_user(conn, username, password, full_name=f"demo {role}")
        except Conflict:
            set_password(conn, username, password)
            set_active(conn, username, True)
        grant(conn, username, role, scope)
        made.append({"username": username, "password": password, "role": role, "scope": scope})
    return made
