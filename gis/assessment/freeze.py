"""Submission (报送): freeze a community's quarter — the filled figures and the evidence list stored
once, never changed (migration 027) — and the bundle's manifest, rebuilt from that frozen row alone:
the same row gives the same manifest, byte for byte, whenever it is rebuilt."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gis.assessment import bundle, files
from gis.assessment.quarters import Quarter
from gis.assessment.scorecard import scorecard
from gis.assessment.sheet import sheet
from gis.errors import Conflict, NotFound

_FILE_FACTS = """SELECT f.sha256, coalesce(m.mime, e.mime) AS mime, coalesce(m.bytes, e.bytes) AS bytes
FROM unnest(%s::text[]) f(sha256)
LEFT JOIN media m ON m.sha256 = f.sha256 LEFT JOIN evidence_file e ON e.sha256 = f.sha256"""


def _plain(value: Any) -> Any:
    """As the row's jsonb gives it back (numbers stay numbers; a Decimal target as its text)."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _frozen_files(conn: psycopg.Connection, card: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per distinct file with everything it evidences, in path order."""
    refs: dict[str, list[dict[str, Any]]] = {}
    for e in card["uploads"]:
        refs.setdefault(e["sha256"], []).append(
            {"evidence_id": e["id"], "title": e["title"], "item_no": e["item_no"],
             "record_kind": e["record_kind"], "record_id": e["record_id"], "recorded_by": e["recorded_by"]})
    for p in card["record_photos"]:
        refs.setdefault(p["sha256"], []).append(
            {"record_kind": p["record_kind"], "record_id": p["record_id"], "day": p["day"].isoformat()})
    facts = {r[0]: r for r in conn.execute(_FILE_FACTS, [sorted(refs)]).fetchall()}
    out = []
    for sha, what in refs.items():
        _, mime, size = facts[sha]
        out.append({"path": f"evidence/{sha}{files.SUFFIX.get(mime, '')}", "sha256": sha, "mime": mime,
                    "bytes": size, "evidence": sorted(what, key=lambda w: json.dumps(w, sort_keys=True))})
    return sorted(out, key=lambda f: f["path"])


def manifest(conn: psycopg.Connection, frozen: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a frozen row: its figures and files, the sheet's items (never changed)."""
    found = sheet(conn, frozen["sheet_id"])
    filled = {f["item_no"]: f for f in frozen["figures"]}
    items = [{"item_no": it["item_no"], "section": it["section"], "content": it["content"],
              "points": str(it["points"]), "measure": it["measure"], **filled.get(it["item_no"], {})}
             for it in found["items"]]
    return {"format": bundle.FORMAT, "quarter": found["quarter"], "street": found["scope"],
            "community": frozen["community_code"],
            "sheet": {"id": found["id"], "title": found["title"], "source_sha256": found["source_sha256"]},
            "measured_on": frozen["measured_on"].isoformat(),
            "frozen_at": frozen["frozen_at"].astimezone(UTC).isoformat(), "frozen_by": frozen["frozen_by"],
            "items": items, "files": sorted(frozen["evidence"], key=lambda f: f["path"])}


def frozen_row(conn: psycopg.Connection, freeze_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        found = cur.execute("SELECT id, sheet_id, community_code, measured_on, figures, evidence,"
                            " manifest_sha256, frozen_by, frozen_at FROM assessment_freeze WHERE id = %s",
                            [freeze_id]).fetchone()
    if found is None:
        raise NotFound("submission", freeze_id)
    return found


def freezes(conn: psycopg.Connection, quarter: Quarter | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT f.id, s.quarter, f.community_code, f.measured_on, f.manifest_sha256, f.frozen_by,"
            " f.frozen_at, jsonb_array_length(f.evidence) AS files FROM assessment_freeze f"
            " JOIN assessment_sheet s ON s.id = f.sheet_id WHERE %(q)s::text IS NULL OR s.quarter = %(q)s"
            " ORDER BY s.quarter DESC, f.community_code", {"q": quarter.code if quarter else None}).fetchall()


def freeze(conn: psycopg.Connection, data_dir: Path | str, quarter: Quarter, community: str,
           on: date | None = None) -> dict[str, Any]:
    """Freeze the community's quarter as the caller sees it now: once (a second is a conflict)."""
    card = scorecard(conn, quarter, community, on)
    figures = [{k: it[k] for k in ("item_no", "figure", "value", "target", "direction", "met", "endpoint",
                                    "evidence", "gaps")} for it in card["items"]]
    evidence = _frozen_files(conn, card)
    missing = next((f["sha256"] for f in evidence
                    if not files.path_of(data_dir, f["sha256"]).is_file()), None)
    if missing:
        raise Conflict(f"evidence file {missing} is not in the store")
    actor = conn.execute("SELECT coalesce((audit_actor()).username, current_user)").fetchone()
    assert actor is not None
    frozen = {"sheet_id": card["sheet_id"], "community_code": community,
              "measured_on": card["measured_on"], "figures": _plain(figures), "evidence": _plain(evidence),
              "frozen_by": actor[0], "frozen_at": datetime.now(UTC)}
    try:
        with conn.transaction():
            digest = _digest(conn, frozen)
            row = conn.execute(
                "INSERT INTO assessment_freeze (sheet_id, community_code, measured_on, figures, evidence,"
                " manifest_sha256, frozen_by, frozen_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " RETURNING id",
                [frozen["sheet_id"], community, frozen["measured_on"], Jsonb(frozen["figures"]),
                 Jsonb(frozen["evidence"]), digest, frozen["frozen_by"], frozen["frozen_at"]]).fetchone()
            assert row is not None
            stored = frozen_row(conn, row[0])
            if _digest(conn, stored) != digest:  # the rebuild must give the same bytes: else nothing is kept
                raise RuntimeError("the frozen row does not rebuild its manifest")
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"the {quarter} submission of {community} is frozen already") from None
    return stored


def _digest(conn: psycopg.Connection, frozen: dict[str, Any]) -> str:
    return hashlib.sha256(bundle.manifest_bytes(manifest(conn, frozen))).hexdigest()


def write(conn: psycopg.Connection, data_dir: Path | str, freeze_id: int, out: IO[bytes]) -> str:
    """Write the frozen submission's bundle to ``out``; the manifest's hash (= the stored one)."""
    frozen = frozen_row(conn, freeze_id)
    return bundle.write_bundle(out, manifest(conn, frozen), lambda sha: files.read(data_dir, sha))


def bundle_bytes(conn: psycopg.Connection, data_dir: Path | str, freeze_id: int) -> bytes:
    out = io.BytesIO()
    write(conn, data_dir, freeze_id, out)
    return out.getvalue()
