"""Users and grants (用户与授权) managed by an admin through the service, within the admin's own scope.

The service's role cannot touch the account tables (migration 012); these functions validate the input
(with the rules of gis/access/accounts.py), hash passwords here, and call the database's SECURITY
DEFINER functions of migration 013, which decide for the acting admin (derived from the request's
token): a user is theirs to manage when every grant of the user lies within one of their admin scopes;
a grant they give must lie within it too. The database's refusals come back as domain errors: Refused
(403), NotFound (404), Conflict (409), InvalidInput (422, naming the field). Every change is in the
audit log, written by the database.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.access.accounts import SCOPE_RE, USERNAME_RE, _password_problem, hash_password
from gis.access.roles import ROLES, WORKER
from gis.errors import Conflict, GridmapError, InvalidInput, NotFound, Problem, text_problems

MAX_FULL_NAME = 200
_COLUMNS = "username, full_name, active, created_at, last_sign_in, grants"
USERNAME_RULE = "2-63 characters: lower-case letters, digits, '.', '_', '-'"


class Refused(GridmapError):
    """The acting user may not do this: not an admin, or the scope is outside theirs (HTTP 403)."""


def _call(conn: psycopg.Connection, query: str, params: list[Any], key: str) -> list[dict[str, Any]]:
    """Run one of migration 013's functions in a savepoint (a refusal leaves the request's transaction
    usable, e.g. to show the form again) and turn its refusals into domain errors. ``key`` names the
    user the call is about, for a 404."""
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    except psycopg.errors.InsufficientPrivilege as exc:
        raise Refused(exc.diag.message_primary or "not permitted") from None
    except psycopg.errors.NoDataFound as exc:  # DETAIL: what was not found; HINT: its key
        raise NotFound(exc.diag.message_detail or "user", exc.diag.message_hint or key) from None
    except (psycopg.errors.UniqueViolation, psycopg.errors.ObjectNotInPrerequisiteState) as exc:
        raise Conflict(exc.diag.message_primary or "conflicts with the stored state") from None
    except psycopg.errors.InvalidParameterValue as exc:
        field = exc.diag.column_name or "body"
        raise InvalidInput.one(field, exc.diag.message_primary or "invalid") from None


def _grant_problems(role: str, scope: str) -> list[Problem]:
    problems = []
    if role not in ROLES:
        problems.append(Problem("role", f"must be one of {', '.join(ROLES)}"))
    if not SCOPE_RE.fullmatch(scope):
        problems.append(Problem("scope", "'' (everything) or a 6, 9, 12 or 15-digit code"))
    elif role == WORKER and len(scope) != 15:
        problems.append(Problem("scope", "a grid worker (网格员) is granted grids: a 15-digit grid code"))
    return problems


def _full_name_problems(full_name: str | None) -> list[Problem]:
    if full_name is not None and len(full_name) > MAX_FULL_NAME:
        return [Problem("full_name", f"must be at most {MAX_FULL_NAME} characters")]
    return []


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems)


def list_users(conn: psycopg.Connection, q: str | None = None, limit: int = 100,
               offset: int = 0) -> dict[str, Any]:
    """The users the acting admin may manage, searched by name or full name: {"total", "items"}."""
    _refuse(text_problems({"q": q}))
    rows = _call(conn, f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM admin_users(%s, NULL)"
                       " LIMIT %s OFFSET %s", [q, limit, offset], "")
    if rows:
        total = rows[0]["total"]
    else:  # past the last page: count them apart
        total = _call(conn, "SELECT count(*) AS total FROM admin_users(%s, NULL)", [q], "")[0]["total"]
    return {"total": total, "items": [{k: v for k, v in r.items() if k != "total"} for r in rows]}


def get_user(conn: psycopg.Connection, username: str) -> dict[str, Any]:
    rows = _call(conn, f"SELECT {_COLUMNS} FROM admin_users(NULL, %s)", [username], username)
    if not rows:
        raise NotFound("user", username)
    return rows[0]


def create_user(conn: psycopg.Connection, username: str, password: str, role: str, scope: str,
                full_name: str | None = None) -> dict[str, Any]:
    """A new user with their first grant (a user without grants would be out of every scoped admin's
    reach). The password is hashed here; the database never receives it in clear."""
    problems = text_problems({"username": username, "full_name": full_name, "password": password})
    if not USERNAME_RE.fullmatch(username):
        problems.append(Problem("username", USERNAME_RULE))
    if (why := _password_problem(password)) is not None:
        problems.append(Problem("password", why))
    problems += _full_name_problems(full_name) + _grant_problems(role, scope)
    _refuse(problems)
    _call(conn, "SELECT admin_user_create(%s, %s, %s, %s, %s)",
          [username, full_name, hash_password(password), role, scope], username)
    return get_user(conn, username)


def update_user(conn: psycopg.Connection, username: str, active: bool | None = None,
                full_name: str | None = None) -> dict[str, Any]:
    """Enable or disable (disabling revokes the user's tokens at once); change the full name ('' clears
    it). None leaves a field as it is. An admin cannot disable themselves."""
    _refuse(text_problems({"full_name": full_name}) + _full_name_problems(full_name))
    _call(conn, "SELECT admin_user_update(%s, %s, %s)", [username, active, full_name], username)
    return get_user(conn, username)


def set_password(conn: psycopg.Connection, username: str, password: str) -> None:
    """A new password; every token of the user is revoked."""
    if (why := _password_problem(password)) is not None:
        raise InvalidInput.one("password", why)
    _refuse(text_problems({"password": password}))
    _call(conn, "SELECT admin_user_password(%s, %s)", [username, hash_password(password)], username)


def grant(conn: psycopg.Connection, username: str, role: str, scope: str) -> bool:
    """Give a role over a scope within the admin's; a grid worker an existing grid. True if new."""
    _refuse(_grant_problems(role, scope))
    rows = _call(conn, "SELECT admin_user_grant(%s, %s, %s) AS added", [username, role, scope], username)
    return bool(rows[0]["added"])


def revoke(conn: psycopg.Connection, username: str, role: str, scope: str) -> None:
    """Take a grant back: not the user's last (disable the account instead), nor the admin's own last
    admin grant."""
    _call(conn, "SELECT admin_user_revoke(%s, %s, %s)", [username, role, scope], username)


def scope_choices(conn: psycopg.Connection, scopes: list[str]) -> list[dict[str, Any]]:
    """The scopes an admin of ``scopes`` may grant, as choices for a form: their own scopes, then every
    community and grid within them (code, name, kind 'scope' | 'community' | 'grid'), by code."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT code, NULL::text AS name, 'scope' AS kind FROM unnest(%(scopes)s::text[]) code
               UNION ALL
               SELECT c.code, c.name, 'community' FROM community c
               WHERE EXISTS (SELECT 1 FROM unnest(%(scopes)s::text[]) s WHERE starts_with(c.code, s))
                 AND NOT c.code = ANY (%(scopes)s::text[])
               UNION ALL
               SELECT g.code, g.name, 'grid' FROM grid g
               WHERE EXISTS (SELECT 1 FROM unnest(%(scopes)s::text[]) s WHERE starts_with(g.code, s))
                 AND NOT g.code = ANY (%(scopes)s::text[])
               ORDER BY 1, 3""", {"scopes": sorted(set(scopes))}).fetchall()
