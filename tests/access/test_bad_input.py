"""Hostile strings in every path and query parameter of every operation of the OpenAPI document,
as an admin of everything: never a 5xx, every refusal in the one error shape, and no row lost."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import quote

import psycopg

PAYLOADS = [
    "' OR '1'='1", "'; DROP TABLE person; --", "1; DELETE FROM household", "%' AND pg_sleep(3) --",
    '") OR 1=1 --', "<script>alert(1)</script>", "../../../etc/passwd", "\x00", "1e309", "-1",
    "${jndi:ldap://x}", "网格" * 200,
]
REGISTER_TABLES = ("community", "grid", "household", "person", "key_person", "grid_worker", "app_user",
                   "audit_log")


def counts(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url) as c:
        return {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in REGISTER_TABLES}


def test_hostile_parameters(app, api, dry_api, api_world, bearer, database_url) -> None:
    spec = app.openapi()
    headers = bearer("admin")
    valid = {"code": api_world.g1, "household_id": api_world.households[api_world.g1][0],
             "person_id": api_world.persons[api_world.g1][0], "layer": "grids", "collection_id": "grids",
             "z": 0, "x": 0, "y": 0}
    before = counts(database_url)
    tried, statuses, wrong = 0, Counter(), []
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            params = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
            for param in params:
                for payload in PAYLOADS:
                    path = re.sub(r"\{(\w+)\}", lambda m, p=param, v=payload: (
                        quote(v, safe="") if m.group(1) == p["name"] else str(valid.get(m.group(1), 1))),
                        template)
                    query = {param["name"]: payload} if param["in"] == "query" else {}
                    client = api if method == "get" else dry_api  # writes are rolled back
                    r = client.request(method.upper(), path, params=query, headers=headers,
                                       **({"json": {}} if method in ("post", "put", "patch") else {}))
                    tried += 1
                    statuses[r.status_code // 100 * 100] += 1
                    if r.status_code >= 500:
                        wrong.append(f"{method.upper()} {template} {param['name']}={payload[:30]!r}: "
                                     f"{r.status_code} {r.text[:100]}")
                    elif r.status_code >= 400 and "json" in r.headers.get("content-type", ""):
                        body = r.json()
                        # The one shape (OGC routes add their exception's code and description).
                        if not {"detail", "errors"} <= set(body) or not isinstance(body["errors"], list):
                            wrong.append(f"{method.upper()} {template}: error shape {str(body)[:100]}")
    lost = {t: before[t] - n for t, n in counts(database_url).items() if n < before[t]}
    print(f"\nFIGURES bad input: {tried} hostile parameter values tried over {len(spec['paths'])} paths; "
          f"statuses {dict(sorted(statuses.items()))}; 5xx seen: {statuses[500]}; "
          f"rows lost: {sum(lost.values())}")
    assert not wrong, f"{len(wrong)} problems:\n" + "\n".join(sorted(set(wrong))[:40])
    assert not lost
