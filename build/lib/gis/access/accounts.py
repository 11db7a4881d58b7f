"""Accounts (用户): users, role grants scoped by code prefix, argon2 passwords, bearer tokens.

Tokens are opaque random strings; the database keeps only an HMAC of each (keyed with the
deployment's secret) with its expiry and revocation time. Chosen over JWT because every request
looks the user's grants up anyway (the row-level security needs them fresh), so a revoked token
or a disabled account stops working on the next request, with no revocation list to keep in step
and no signing algorithm to get wrong.

The service's login role cannot read or write the account tables (migration 012): signing in,
authenticating and signing out go through SECURITY DEFINER functions, and the acting user is derived
in the database from the token's hash, which that role cannot forge. Managing users (create, grant,
disable) is the owner's, through the CLI.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import hash_secret
from psycopg import sql
from psycopg.rows import dict_row

from gis.access.roles import ROLES, WORKER
from gis.errors import Conflict, GridmapError, InvalidInput, NotFound, Problem

APP_ROLE = "gridmap_app"  # the non-superuser database role every request logs in (or runs) as
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
    # The keyed hash of the token the request presented: the database derives the acting user from it.
    token_hash: bytes | None = None

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


def _hash_like(stored_prefix: str, digest_length: int, password: str) -> str:
    """The argon2 hash of ``password`` with the salt and parameters of a stored hash (given without its
    digest): equal to the stored hash exactly when the password is right."""
    params = extract_parameters(f"{stored_prefix}${'A' * digest_length}")
    salt_b64 = stored_prefix.rsplit("$", 1)[1]
    salt = base64.b64decode(salt_b64 + "=" * (-len(salt_b64) % 4))
    return hash_secret(password.encode(), salt, params.time_cost, params.memory_cost, params.parallelism,
                       params.hash_len, params.type, params.version).decode()


def issue_token(conn: psycopg.Connection, username: str, password: str, secret: str,
                ttl: timedelta, client: str | None = None) -> tuple[str, datetime]:
    """Check the password and hand out a new bearer token, valid for ``ttl``.

    The stored hash never leaves the database: its salt and parameters come out, the hash of the given
    password made with them goes in, and the database compares and issues the token."""
    row = conn.execute("SELECT salt, digest_length FROM access_password_salt(%s)", [username]).fetchone()
    if row is None or row[0] is None:
        verify_password(_dummy_hash(), password)  # an unknown name costs as long as a wrong password
        raise AuthenticationFailed("wrong username or password, or the account is disabled")
    try:
        candidate = _hash_like(row[0], row[1], password)
    except (InvalidHashError, ValueError):
        candidate = ""
    token = secrets.token_urlsafe(32)
    expires = conn.execute("SELECT access_sign_in(%s, %s, %s, %s, %s)",
                           [username, candidate, token_hash(token, secret), ttl, client]).fetchone()
    if expires is None or expires[0] is None:
        raise AuthenticationFailed("wrong username or password, or the account is disabled")
    return token, expires[0]


def authenticate(conn: psycopg.Connection, token: str, secret: str) -> Principal | None:
    """The user a live token belongs to (not expired, not revoked, account active), or None."""
    presented = token_hash(token, secret)
    row = conn.execute("SELECT user_id, username, roles, scopes FROM access_authenticate(%s)",
                       [presented]).fetchone()
    if row is None:
        return None
    grants = tuple(Grant(r, s) for r, s in zip(row[2], row[3], strict=True))
    return Principal(row[0], row[1], grants, token_hash=presented)


def revoke_token(conn: psycopg.Connection, token: str, secret: str) -> bool:
    row = conn.execute("SELECT access_sign_out(%s)", [token_hash(token, secret)]).fetchone()
    return bool(row and row[0])


def act_as(conn: psycopg.Connection, principal: Principal | None, client: str | None = None) -> None:
    """Run the rest of the transaction as the service role, for this user: the row-level security
    policies ask the database for the acting user, which it derives from ``gridmap.token_hash`` (the
    hash of the token the request presented); the audit trigger reads ``gridmap.client``.

    ``gridmap.user_id`` names the user only in a session logged in as the owner (the CLI and tests
    acting for a user they built): the service's login role setting it gets nobody. The settings and
    the role end with the transaction, so a pooled connection carries nothing to the next request."""
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
    hashed = principal.token_hash.hex() if principal is not None and principal.token_hash else ""
    conn.execute(
        "SELECT set_config('gridmap.token_hash', %s, true), set_config('gridmap.user_id', %s, true),"
        " set_config('gridmap.client', %s, true)",
        [hashed, "" if principal is None else str(principal.user_id), client or ""])


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
