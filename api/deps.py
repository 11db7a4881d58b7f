"""Typed dependencies: the settings, the client's address, and a pooled connection (one transaction per
request) that records audited attempts even when the request's own work is rolled back."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request, status

from gis.access import audit
from gis.access.accounts import act_as
from gis.settings import Settings

log = logging.getLogger(__name__)
# Request parameters that name a community or grid: the area an audit entry is about.
PATH_CODES = ("code",)
QUERY_CODES = ("grid", "community")
AUDIT_ATTEMPTS = "audit_attempts"  # request.state: [(entry, already written in the transaction)]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def _from_trusted_proxy(request: Request) -> bool:
    peer = request.client.host if request.client else None
    return peer is not None and _listed(peer, request.app.state.settings.trusted_proxies)


def _listed(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: Request) -> str | None:
    """Who is calling: the connection's peer, unless the peer is one of GRIDMAP_TRUSTED_PROXIES; then
    the nearest address in X-Forwarded-For that is not such a proxy. Anyone else's X-Forwarded-For is
    ignored: any client can write one."""
    peer = request.client.host if request.client else None
    if peer is None or not _from_trusted_proxy(request):
        return peer
    proxies = request.app.state.settings.trusted_proxies
    forwarded = [a.strip() for h in request.headers.getlist("x-forwarded-for") for a in h.split(",")]
    for address in reversed([a for a in forwarded if a]):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return peer  # a proxy we trust wrote no address: believe nothing beyond it
        if not _listed(address, proxies):
            return address
    return peer


def is_https(request: Request) -> bool:
    """Whether the client reached us over TLS: directly, through a trusted proxy that says so, or as
    the configured public URL promises."""
    settings: Settings = request.app.state.settings
    if request.url.scheme == "https" or (settings.public_url or "").startswith("https://"):
        return True
    if _from_trusted_proxy(request):
        proto = [p.strip().lower() for h in request.headers.getlist("x-forwarded-proto")
                 for p in h.split(",")]
        return bool(proto) and proto[-1] == "https"
    return False


def printable(value: str) -> str:
    """PostgreSQL text (and jsonb) cannot hold NUL: logged escaped, so the route itself still gets to
    refuse the value with its own 422."""
    return value.replace("\x00", "\\x00")


def request_detail(request: Request) -> dict:
    return {"method": request.method, "path": printable(request.url.path),
            "path_params": {k: printable(str(v)) for k, v in request.path_params.items()},
            "query": {k: printable(v) for k, v in request.query_params.items()}}


def named_codes(request: Request) -> list[str]:
    """The community and grid codes the request names (path and query)."""
    named = [str(request.path_params[k]) for k in PATH_CODES if k in request.path_params]
    return named + [v for k in QUERY_CODES for v in request.query_params.getlist(k)]


def route_template(request: Request) -> str:
    return getattr(request.scope.get("route"), "path_format", None) or printable(request.url.path)


def note_attempt(request: Request, entry: audit.Entry, conn: psycopg.Connection | None = None) -> None:
    """Audit an attempt. With ``conn``, written at once in the request's transaction (a read or an
    export about to happen); without, at the end of the request. Either way it is written again, in a
    transaction of its own, if the request's transaction rolls back: a refusal or a failure still
    leaves its entry."""
    if conn is not None:
        audit.write(conn, entry)
    attempts = getattr(request.state, AUDIT_ATTEMPTS, None)
    if attempts is not None:
        attempts.append((entry, conn is not None))


def _refusal(request: Request, exc: Exception) -> audit.Entry | None:
    """The entry of a refused request (403) of a signed-in user, whether the policy, a route or the
    database's row-level security refused it."""
    refused = (isinstance(exc, HTTPException) and exc.status_code == status.HTTP_403_FORBIDDEN
               or isinstance(exc, psycopg.errors.InsufficientPrivilege))
    if not refused or getattr(request.state, "user", None) is None:
        return None
    reason = exc.detail if isinstance(exc, HTTPException) else "refused by the database"
    detail = {**request_detail(request), "status": 403, "reason": printable(str(reason))[:200]}
    return audit.Entry("refused", route_template(request), detail, area=named_codes(request))


def _after_rollback(conn: psycopg.Connection, request: Request, entries: list[audit.Entry],
                    client: str | None) -> None:
    try:
        with conn.transaction():
            act_as(conn, getattr(request.state, "user", None), client)
            for entry in entries:
                audit.write(conn, entry)
    except Exception:  # noqa: BLE001 - the request's own error is the one to report
        log.exception("could not record %d audit entries after a rollback", len(entries))


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction: committed when the handler returns, rolled back on error.

    The pool logs in as the service's role (gridmap_app, not the owner), so row-level security always
    applies; the transaction acts for nobody (sees no register rows) until api.security.current_user
    names the signed-in user by their token."""
    attempts: list[tuple[audit.Entry, bool]] = []
    setattr(request.state, AUDIT_ATTEMPTS, attempts)
    client = client_address(request)
    with request.app.state.pool.connection() as conn:
        try:
            with conn.transaction():
                act_as(conn, None, client)
                yield conn
                for entry, written in attempts:
                    if not written:
                        audit.write(conn, entry)
        except Exception as exc:
            refusal = _refusal(request, exc)
            entries = [entry for entry, _ in attempts] + ([refusal] if refusal else [])
            if entries:
                _after_rollback(conn, request, entries, client)
            raise


# "function" scope: the transaction is committed when the handler returns, before the answer is sent.
# (FastAPI's default ends a dependency after the answer: a client, or a browser following a form's 303,
# could then read before the commit and see the old rows, and a failed commit would follow a success.)
Conn = Annotated[psycopg.Connection, Depends(get_conn, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def public_root(request: Request) -> str:
    """Where clients reach the service, for the links the API writes (OGC, TileJSON): the configured
    public URL, else the address of the socket the request came in on. Never the Host header: any
    client writes that, and a link to evil.example in a cached or shared document sends the next
    client (and its token) there."""
    settings: Settings = request.app.state.settings
    if settings.public_url:
        return settings.public_url
    host, port = request.scope.get("server") or (settings.host, settings.port)
    scheme = request.scope.get("scheme", "http")
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + ("" if port in (None, default) else f":{port}")
