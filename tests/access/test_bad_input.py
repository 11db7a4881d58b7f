"""Hostile strings in every path and query parameter of every operation of the OpenAPI document, as
an admin of everything and as a grid worker of one grid: never a 5xx, every refusal in the one error
shape, every answer within 2 s (a ``pg_sleep`` that reached SQL would take 5), no row gained or lost,
and no household or person outside the worker's grid in anything she is answered."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from urllib.parse import quote

import psycopg

from tests.access.matrix_scope import Owner

SLEEP = [  # each would hold the request for 5 s if it reached SQL as code
    "1;SELECT pg_sleep(5)", "'||pg_sleep(5)||'", "1) OR pg_sleep(5) IS NULL --",
    "'; SELECT pg_sleep(5); --", "1 AND 1=(SELECT 1 FROM pg_sleep(5))", "$$||pg_sleep(5)||$$",
    "grid_code = '1' OR pg_sleep(5) IS NOT NULL",
]
PAYLOADS = [
    "' OR '1'='1", "'; DROP TABLE person; --", "1; DELETE FROM household", "%' AND pg_sleep(3) --",
    '") OR 1=1 --', "<script>alert(1)</script>", "../../../etc/passwd", "\x00", "1e309", "-1",
    "${jndi:ldap://x}", "网格" * 200, "%", "_", "*", "1 OR 1=1", *SLEEP,
]
REGISTER_TABLES = ("community", "grid", "household", "person", "key_person", "grid_worker", "app_user",
                   "audit_log")
SLOW_S = 2.0


def counts(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as c:
        return {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in REGISTER_TABLES}


def answered_ids(template: str, r) -> tuple[str, set] | None:
    """The households or persons (kind, ids or refs) an answer holds, for the routes that list them."""
    if r.status_code != 200:
        return None
    if template in ("/households", "/persons"):
        return template[1:], {i["id"] for i in r.json()["items"]}
    if template == "/ogc/collections/{collection_id}/items" and "/households/" in r.url.path:
        return "households", {int(f["id"]) for f in r.json()["features"]}
    if template == "/maps/street/{code}/households":
        return "households", {row[0] for row in json.loads(r.content)["rows"]}
    if template == "/exports/{layer}" and r.url.path.endswith("/households") and b"ref" in r.content[:200]:
        if "csv" in r.headers.get("content-type", ""):
            return "household refs", {row["ref"] for row in csv.DictReader(io.StringIO(r.text))}
    return None


def hostile_requests(spec: dict, w, box: str):
    """(method, template, path, query, where) for every path and query parameter x every payload."""
    for template, operations in spec["paths"].items():
        valid = {"household_id": w.households[w.g1][0], "person_id": w.persons[w.g1][0], "z": 0, "x": 0,
                 "y": 0, "layer": "households", "collection_id": "households",
                 "code": (w.street if template.startswith("/maps/street") else w.community
                          if template.startswith(("/communities", "/maps/communities")) else w.g1)}
        for method, operation in operations.items():
            for param in [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]:
                for payload in PAYLOADS:
                    path = re.sub(r"\{(\w+)\}", lambda m, p=param, v=payload, ok=valid: (
                        quote(v, safe="") if m.group(1) == p["name"] else str(ok.get(m.group(1), 1))),
                        template)
                    query = {param["name"]: payload} if param["in"] == "query" else {}
                    if template == "/maps/street/{code}/households" and param["name"] != "bbox":
                        query["bbox"] = box
                    yield method, template, path, query, f"{method.upper()} {template} {param['name']}=" \
                                                         f"{payload[:30]!r}", payload in SLEEP


def test_hostile_parameters(app, api, dry_api, api_world, bearer, database_url) -> None:
    from tests.access.matrix_world import build_extras

    spec, w = app.openapi(), api_world
    before = counts(database_url)
    tried, statuses, wrong, slowest = Counter(), Counter(), [], (0.0, "")
    with psycopg.connect(database_url) as db:
        extras = build_extras(db, w)  # rolled back below: the owner's queries need its geometry only
        owner, worker = Owner(db, w, extras), w.users["worker"]
        box = f"{extras.x0 - 0.1},{extras.y0 - 0.1},{extras.x0 + 0.2},{extras.y0 + 0.2}"
        mine = {"households": owner.households(worker), "persons": owner.persons(worker)}
        mine["household refs"] = owner.ids("SELECT ref FROM household WHERE id = ANY(%s)",
                                           [sorted(mine["households"])])
        db.rollback()
    for method, template, path, query, what, sleeps in hostile_requests(spec, w, box):
        client = api if method == "get" else dry_api  # writes are rolled back
        for who in ("admin", "worker"):
            started = time.monotonic()
            r = client.request(method.upper(), path, params=query, headers=bearer(who),
                               **({"json": {}} if method in ("post", "put", "patch") else {}))
            took, where = time.monotonic() - started, f"{what} as {who}"
            slowest = max(slowest, (took, where))
            tried[who] += 1
            tried["pg_sleep"] += sleeps
            statuses[r.status_code // 100 * 100] += 1
            if took > SLOW_S:
                wrong.append(f"{where}: {took:.1f} s")
            if r.status_code >= 500:
                wrong.append(f"{where}: {r.status_code} {r.text[:100]}")
            elif r.status_code >= 400 and "json" in r.headers.get("content-type", ""):
                body = r.json()
                # The one shape (OGC routes add their exception's code and description).
                if not {"detail", "errors"} <= set(body) or not isinstance(body["errors"], list):
                    wrong.append(f"{where}: error shape {str(body)[:100]}")
            found = answered_ids(template, r) if who == "worker" else None
            if found and found[1] - mine[found[0]]:
                beyond = found[1] - mine[found[0]]
                wrong.append(f"{where}: {len(beyond)} {found[0]} beyond her grid {sorted(beyond)[:5]}")
            tried["rows compared with her scope"] += found is not None
    after = counts(database_url)
    # Reads of personal data are audited, so only the audit log may grow; nothing else may change.
    changed = {t: (before[t], n) for t, n in after.items()
               if n != before[t] and not (t == "audit_log" and n > before[t])}
    print(f"\nFIGURES bad input: {tried['admin'] + tried['worker']} hostile parameter values tried over "
          f"{len(spec['paths'])} paths ({tried['admin']} as an admin of everything, {tried['worker']} as a "
          f"grid worker; {tried['pg_sleep']} pg_sleep payloads); statuses {dict(sorted(statuses.items()))}; "
          f"5xx seen: {statuses[500]}; worker answers compared with her grid: "
          f"{tried['rows compared with her scope']}; slowest {slowest[0]:.2f} s ({slowest[1]}); "
          f"tables changed: {changed or 'none'}")
    assert not wrong, f"{len(wrong)} problems:\n" + "\n".join(sorted(set(wrong))[:40])
    assert not changed
