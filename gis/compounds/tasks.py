"""The helper's tasks in a compound (美化 beautify, 亮化 lighting, 绿化 greening, 实事好事 good deeds):
done on a day by the unit helping the compound that day, with photos before and after (media store).
The recorder is stamped by the database; a unit's account records tasks only in its own unit's name
(row-level security, migration 025), and the unit is the compound's helper on that day, never typed."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from gis.compounds.compounds import day_problems, today
from gis.errors import InvalidInput, NotFound, Problem, text_problems

KINDS = {
    "beautify": ("美化", "beautify"),
    "lighting": ("亮化", "lighting"),
    "greening": ("绿化", "greening"),
    "good_deed": ("实事好事", "good deed"),
}

_SELECT = """
SELECT t.id, t.compound_id, t.unit_id, u.name AS unit_name, t.kind, t.title, t.done_on, t.note,
       t.recorder, t.recorded_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object('sha256', p.sha256, 'stage', p.stage,
                                                     'file_name', p.file_name, 'taken_at', m.taken_at)
                                  ORDER BY p.stage DESC, p.added_at, p.sha256)
                 FROM compound_task_photo p JOIN media m ON m.sha256 = p.sha256 WHERE p.task_id = t.id),
                '[]') AS photos
FROM compound_task t JOIN responsible_unit u ON u.id = t.unit_id
"""

Photos = list[tuple[str, str | None]]  # (sha256 in the media store, file name)


def add_task(
    conn: psycopg.Connection,
    compound_id: int,
    kind: str,
    title: str,
    done_on: date,
    note: str | None = None,
    before: Photos | None = None,
    after: Photos | None = None,
) -> dict[str, Any]:
    """Record a task done in a compound by its helper on ``done_on``."""
    if conn.execute("SELECT 1 FROM compound WHERE id = %s", [compound_id]).fetchone() is None:
        raise NotFound("compound", compound_id)
    problems = text_problems({"kind": kind, "title": title, "note": note})
    if kind not in KINDS:
        problems.append(Problem("kind", f"one of {', '.join(KINDS)}"))
    if not title.strip() or len(title) > 200:
        problems.append(Problem("title", "1 to 200 characters"))
    if note is not None and len(note) > 2000:
        problems.append(Problem("note", "at most 2000 characters"))
    helper = conn.execute(
        "SELECT unit_id FROM compound_helper WHERE compound_id = %s AND valid @> %s::date",
        [compound_id, done_on],
    ).fetchone()
    bad_day = day_problems(done_on=done_on)
    if bad_day:
        problems += bad_day
    elif done_on > today():
        problems.append(Problem("done_on", f"{done_on} lies ahead"))
    elif helper is None:
        problems.append(Problem("done_on", f"the compound had no helper unit on {done_on}"))
    if problems:
        raise InvalidInput(problems)
    assert helper is not None
    # row-level security refuses a unit's account recording for another unit's compound (403)
    row = conn.execute(
        "INSERT INTO compound_task (compound_id, unit_id, kind, title, done_on, note, recorder_id, recorder)"
        " VALUES (%s, %s, %s, %s, %s, %s, 0, '') RETURNING id",
        [compound_id, helper[0], kind, title.strip(), done_on, note],
    ).fetchone()
    assert row is not None
    photos = [(sha, "before", name) for sha, name in before or []] + [
        (sha, "after", name) for sha, name in after or []
    ]
    conn.execute(
        "INSERT INTO compound_task_photo (task_id, sha256, stage, file_name)"
        " SELECT %s, p.sha, p.stage, p.name"
        " FROM unnest(%s::text[], %s::text[], %s::text[]) p(sha, stage, name)"
        " ON CONFLICT DO NOTHING",
        [row[0], [p[0] for p in photos], [p[1] for p in photos], [p[2] for p in photos]],
    )
    return get_task(conn, row[0])


def get_task(conn: psycopg.Connection, task_id: int) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(_SELECT + " WHERE t.id = %s", [task_id]).fetchone()
    if row is None:
        raise NotFound("task", task_id)
    return row


def tasks_of(conn: psycopg.Connection, compound_id: int) -> list[dict[str, Any]]:
    """A compound's tasks the reader sees, newest first."""
    if conn.execute("SELECT 1 FROM compound WHERE id = %s", [compound_id]).fetchone() is None:
        raise NotFound("compound", compound_id)
    return (
        conn.cursor(row_factory=dict_row)
        .execute(_SELECT + " WHERE t.compound_id = %s ORDER BY t.done_on DESC, t.id DESC", [compound_id])
        .fetchall()
    )
