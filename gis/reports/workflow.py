"""The workflow (流转): one step at a time through the database's report_transition() (migration 022),
which decides who may take it and from which state, and appends the step to the history.

    new ──accept──> accepted ──dispatch──> dispatched ──sign──> signed ──handle──> handled
     │                              ^  │                  │      (an 'after' photo)   │
     ├─reject──> rejected           │  └─────return───────┴──> returned              verify (another
     └─duplicate─> duplicate        └──overrule / dispatch──────────┘                 account)
                                                                             closed <──close── verified

A unit returns (退回) only with a reason from the list; the dispatcher (an admin over the area, or the
grid's worker for a grid-owned report) overrules the return (re-dispatch to the same owner, with a
note) or dispatches to another owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from gis.errors import Conflict, GridmapError, InvalidInput, NotFound
from gis.reports import deadlines
from gis.reports.file import Photo, today

# action -> (the states it starts from, the state it leads to, whose step it is)
ACTIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "accept": (("new",), "accepted", "dispatcher"),
    "reject": (("new",), "rejected", "dispatcher"),
    "duplicate": (("new",), "duplicate", "dispatcher"),
    "dispatch": (("accepted", "returned"), "dispatched", "dispatcher"),
    "overrule": (("returned",), "dispatched", "dispatcher"),
    "return": (("dispatched", "signed"), "returned", "unit"),
    "sign": (("dispatched",), "signed", "owner"),
    "handle": (("signed",), "handled", "owner"),
    "verify": (("handled",), "verified", "dispatcher (not the account that handled it)"),
    "close": (("verified",), "closed", "dispatcher"),
}
OWNER_KINDS = ("unit", "grid", "community", "street")


class NotAllowed(GridmapError):
    """The step is not the acting user's to take (the API answers 403)."""


@dataclass(frozen=True)
class Owner:
    """A new owner for a dispatch: a unit, a grid (its workers), a community or a street queue."""

    kind: str
    unit_id: int | None = None
    grid_code: str | None = None
    community_code: str | None = None


def transition(conn: psycopg.Connection, report_id: int, action: str, *, expected: str | None = None,
               reason: str | None = None, note: str | None = None, duplicate_of: int | None = None,
               owner: Owner | None = None, photos: Sequence[Photo] = ()) -> int:
    """Take one step by the acting user; the new event's id. NotFound: not the user's to read;
    NotAllowed: not the user's step; Conflict: the report is not in a state for it (or not in
    ``expected``); InvalidInput: a missing or wrong argument (a return without a reason, a handle
    without an 'after' photo, a duplicate of nothing ...). ``photos``: 'after' photos, with 'handle'."""
    if action not in ACTIONS:
        raise InvalidInput.one("action", f"one of {', '.join(ACTIONS)}")
    if photos and action != "handle":
        raise InvalidInput.one("photos", "photos go with 'handle' (after) or with the report (before)")
    if owner is not None and owner.kind not in OWNER_KINDS:
        raise InvalidInput.one("owner_kind", f"one of {', '.join(OWNER_KINDS)}")
    row = conn.execute("SELECT r.category, c.deadline_handle_days FROM report r"
                       " JOIN report_category c ON c.code = r.category WHERE r.id = %s",
                       [report_id]).fetchone()
    if row is None:  # row-level security: not the user's to read
        raise NotFound("report", report_id)
    handle_by = deadlines.add_working_days(today(), row[1]) if action in ("dispatch", "overrule") else None
    try:
        with conn.transaction():  # a savepoint: a refusal leaves the request's transaction usable
            if photos:
                conn.execute("INSERT INTO report_photo (report_id, sha256, kind, file_name)"
                             " SELECT %s, s, 'after', f FROM unnest(%s::text[], %s::text[]) AS p(s, f)"
                             " ON CONFLICT DO NOTHING",
                             [report_id, [p.sha256 for p in photos], [p.file_name for p in photos]])
            found = conn.execute(
                "SELECT report_transition(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [report_id, action, expected, reason, note, duplicate_of, owner and owner.kind,
                 owner and owner.unit_id, owner and owner.grid_code, owner and owner.community_code,
                 handle_by]).fetchone()
    except psycopg.errors.InsufficientPrivilege as exc:
        detail = exc.diag.message_primary or "not yours to do"
        if "row-level security" in detail:
            detail = f"{action} is for the report's owner"
        raise NotAllowed(detail) from None
    except psycopg.errors.InvalidParameterValue as exc:
        raise InvalidInput.one(exc.diag.message_detail or "body", exc.diag.message_primary or "") from None
    except psycopg.Error as exc:
        if exc.sqlstate == "RP409":
            raise Conflict(exc.diag.message_primary or "the report's state does not allow it") from None
        raise
    assert found is not None
    return int(found[0])
