"""The permission matrix, generated from the app's own route table: every route x every role (and
no token) x an object inside and outside the user's scope. A route missing from api/policy.py fails."""

from __future__ import annotations

import re
from collections import Counter

import psycopg
from fastapi.routing import APIRoute, iter_route_contexts

from api.policy import POLICY, PUBLIC_MOUNTS, PUBLIC_PATHS, Rule
from gis.access.roles import ADMIN
from tests.access.matrix_cases import path_values, write_request
from tests.access.matrix_scope import Owner, compare, read_requests

# Path parameters that name an object with a scope, and how to fill them in and out of scope.
SCOPED = {"code", "household_id", "person_id", "worker_id"}
# Reads that need a query parameter to be answered at all: a viewport (at most 0.5° a side).
VIEWPORTS = ("/maps/street/{code}/households", "/maps/street/{code}/places")


def operations(app) -> list[tuple[str, str]]:
    found = []
    for rc in iter_route_contexts(app.routes):
        if isinstance(rc.original_route, APIRoute):
            found += [(m, rc.path_format) for m in sorted(rc.methods)]
            # The policy looks routes up by their own template: no include prefix may differ from it.
            assert rc.path_format == rc.original_route.path_format, rc.path_format
    return sorted(set(found))


def test_every_route_has_a_decision_and_every_decision_a_route(app) -> None:
    ops = operations(app)
    missing = [op for op in ops if op not in POLICY]
    assert not missing, f"routes without an access decision in api/policy.py: {missing}"
    stale = [op for op in POLICY if op not in ops]
    assert not stale, f"api/policy.py decides routes that do not exist: {stale}"
    others = [rc.path for rc in iter_route_contexts(app.routes)
              if not isinstance(rc.original_route, APIRoute)]
    assert all(p in PUBLIC_PATHS or p.startswith(PUBLIC_MOUNTS) for p in others), others


def fill(template: str, world, extras, inside: bool, layer: str | None) -> str:
    community = world.community if inside else world.other_community
    grid = world.g1 if inside else world.g3
    values = path_values(world, extras, inside, layer)
    values["code"] = (community if template.startswith(("/communities", "/maps/communities")) else
                      community[:9] if template.startswith("/maps/street") else grid)
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], template)


def expected(rule: Rule, user, inside: bool, scoped: bool, template: str,
             method: str = "GET") -> set[int] | str:
    """The statuses allowed: a set, 'pass' (public: anything but a 5xx or 422) or 'done' (the call must
    succeed: 2xx, or for a write 409, a conflict with the data; a 422 is a failure, the body is valid)."""
    if rule.public:
        return "pass"
    if user is None:
        return {401}
    roles = rule.roles & user.roles
    if not roles:
        return {403}
    if inside or not scoped or any(g.role in roles and g.scope == "" for g in user.grants):
        return "done"
    if template == "/grid-workers/{worker_id}" and method == "GET" and ADMIN in roles:
        return "done"  # an admin of any scope keeps the whole directory (migration 005)
    # A code or place outside the scopes: 403; a row hidden by row-level security: 404.
    return {403, 404}


def succeeded(status: int, method: str) -> bool:
    return 200 <= status < 300 or (method != "GET" and status in (303, 409))


# An import is judged row by row (all rows or none, every problem listed: 422). A valid file whose rows
# lie outside the importer's scope is refused with these reasons only; any other 422 is a failure.
SCOPE_REASONS = re.compile(r"outside your scope|is not stored")


def refused_rows(r, template: str) -> bool:
    if template != "/imports/{layer}" or r.status_code != 422:
        return False
    errors = r.json()["errors"]
    return bool(errors) and all(SCOPE_REASONS.search(e["reason"]) for e in errors)


def test_permission_matrix(app, dry_api, api_world, extras, tokens) -> None:
    checked, statuses, wrong = Counter(), Counter(), []
    users = {None: None, **api_world.users}
    for method, template in operations(app):
        base = POLICY[(method, template)]
        layers = list(base.layers) if base.layer_param else [None]
        for layer in layers:
            rule = base.for_layer(layer)
            write = None
            if method != "GET":
                write = write_request(method, template, api_world, extras, True, layer)
                if write is None and not rule.public:
                    wrong.append(f"{method} {template}: no valid body known (tests/access/matrix_cases.py)")
                    continue
            scoped = bool(SCOPED & set(re.findall(r"\{(\w+)", template))) or bool(write and write[1]) or (
                template.startswith("/ogc/collections/{collection_id}/items/") and layer == "households")
            for inside in ((True, False) if scoped else (True,)):
                url = fill(template, api_world, extras, inside, layer)
                if write is not None:
                    found = write_request(method, template, api_world, extras, inside, layer)
                    kwargs = found[0] if found else {}
                else:
                    box = f"{extras.x0 - 0.1},{extras.y0 - 0.1},{extras.x0 + 0.2},{extras.y0 + 0.2}"
                    kwargs = {"params": {"bbox": box}} if template in VIEWPORTS else {}
                for name, user in users.items():
                    headers = {"Authorization": f"Bearer {tokens[name]}"} if name else {}
                    # a form's write answers 303 to what it made, which the rolled-back request never
                    # kept: the write's own answer decides
                    r = dry_api.request(method, url, headers=headers, follow_redirects=method == "GET",
                                        **kwargs)
                    want = expected(rule, user, inside, scoped, template, method)
                    if want == "pass":
                        ok = r.status_code < 500 and r.status_code != 422
                    elif want == "done":
                        ok = succeeded(r.status_code, method)
                    else:
                        ok = r.status_code in want or (want == {403, 404} and refused_rows(r, template))
                    checked["import rows refused as out of scope (422)"] += refused_rows(r, template)
                    checked["route x role x scope"] += 1
                    checked["writes with a valid body" if write else "reads"] += 1
                    statuses[r.status_code] += 1
                    if not ok:
                        wrong.append(f"{method} {url} as {name}: {r.status_code} (want {want}) "
                                     f"{r.text[:160]}")
                    # the one error shape of the API (a workbench form answers its page, with the refusal
                    # beside the field)
                    html = r.headers.get("content-type", "").startswith("text/html")
                    if r.status_code in (401, 403) and not html:
                        body = r.json()
                        assert set(body) == {"detail", "errors"}, body  # the one error shape
    routes = len(operations(app))
    print(f"\nFIGURES permission matrix: {routes} routes x {len(users)} roles (incl. no token) x "
          f"in/out scope = {checked['route x role x scope']} checks ({checked['writes with a valid body']} "
          f"writes with a valid body in or out of scope, {checked['reads']} reads); "
          f"out-of-scope import rows refused by 422 with a scope reason: "
          f"{checked['import rows refused as out of scope (422)']}; "
          f"statuses {dict(sorted(statuses.items()))}")
    assert not wrong, f"{len(wrong)} wrong decisions:\n" + "\n".join(wrong[:60])


def test_rows_answered_are_the_readers_scope(dry_api, api_world, extras, tokens, database_url) -> None:
    """Every list, export, statistics, OGC items, tile and map answer holds exactly the rows of the
    reader's scope, computed as the owner from the grants alone (tests/access/matrix_scope.py)."""
    compared, refused, wrong = 0, 0, []
    with psycopg.connect(database_url) as db:
        owner = Owner(db, api_world, extras)
        for template, url, layer, kwargs in read_requests(api_world, extras):
            rule = POLICY[("GET", template)].for_layer(layer)
            for name, user in api_world.users.items():
                r = dry_api.get(url, headers={"Authorization": f"Bearer {tokens[name]}"}, **kwargs)
                allowed = bool(rule.roles & user.roles)
                if not allowed or r.status_code == 403:
                    refused += 1
                    if r.status_code != 403:
                        wrong.append(f"GET {url} as {name}: {r.status_code}, want 403")
                    elif allowed:
                        wrong.append(f"GET {url} as {name}: 403 though the role may read it")
                    continue
                if r.status_code != 200:
                    wrong.append(f"GET {url} as {name}: {r.status_code} {r.text[:120]}")
                    continue
                compared += 1
                problem = compare(template, layer, r.content, user, owner, url)
                if problem:
                    wrong.append(f"GET {url} as {name}: {problem}")
    print(f"\nFIGURES rows vs scope: {compared} answers compared row by row with the reader's scope "
          f"({len(read_requests(api_world, extras))} list/export/statistics/OGC/tile/map reads x "
          f"{len(api_world.users)} users), {refused} refused as they should be; mismatches: {len(wrong)}")
    assert not wrong, f"{len(wrong)} answers outside the scope:\n" + "\n".join(wrong[:60])


def test_a_route_without_a_decision_is_refused_at_runtime(settings, bearer) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings)

    @app.get("/undecided")  # added straight onto the app, past every router: still checked
    def undecided() -> dict:
        return {"leak": True}

    with TestClient(app) as c:
        r = c.get("/undecided", headers=bearer("admin"))
    assert r.status_code == 403 and "no access decision" in r.json()["detail"]
