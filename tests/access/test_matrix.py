"""The permission matrix, generated from the app's own route table: every route x every role (and
no token) x an object inside and outside the user's scope. A route missing from api/policy.py fails."""

from __future__ import annotations

import re
from collections import Counter

from fastapi.routing import APIRoute, iter_route_contexts

from api.policy import POLICY, PUBLIC_MOUNTS, PUBLIC_PATHS, Rule

BODY_METHODS = {"POST", "PUT", "PATCH"}
# Path parameters that name an object with a scope, and how to fill them in and out of scope.
SCOPED = {"code", "household_id", "person_id"}


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


def fill(template: str, world, inside: bool, layer: str | None) -> str:
    community = world.community if inside else world.other_community
    grid = world.g1 if inside else world.g3
    street = community[:9]
    values = {
        "code": (community if template.startswith(("/communities", "/maps/communities")) else
                 street if template.startswith("/maps/street") else grid),
        "household_id": world.households[world.g1 if inside else world.g3][0],
        "person_id": world.key_persons[world.g1 if inside else world.g3][0],
    }

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name in ("layer", "collection_id"):
            return layer or "grids"
        return str(values.get(name, 1))

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, template)


def expected(rule: Rule, user, inside: bool, scoped: bool, method: str) -> set[int] | str:
    """The statuses allowed: a set, or 'pass' = anything but 401/403 (the handler decides)."""
    if rule.public:
        return "pass"
    if user is None:
        return {401}
    roles = rule.roles & user.roles
    if not roles:
        return {403}
    if inside or not scoped or any(g.role in roles and g.scope == "" for g in user.grants):
        return "pass"
    # A code outside the scopes: 403; a row hidden by row-level security: 404 (or the body is
    # refused first, 422, which says nothing about the row).
    return {403, 404, 422} if method in BODY_METHODS else {403, 404}


def test_permission_matrix(app, dry_api, api_world, tokens) -> None:
    checked, statuses, wrong = Counter(), Counter(), []
    users = {None: None, **api_world.users}
    for method, template in operations(app):
        base = POLICY[(method, template)]
        layers = list(base.layers) if base.layer_param else [None]
        scoped = bool(SCOPED & set(re.findall(r"\{(\w+)", template)))
        for layer in layers:
            rule = base.for_layer(layer)
            for inside in ((True, False) if scoped else (True,)):
                url = fill(template, api_world, inside, layer)
                for name, user in users.items():
                    headers = {"Authorization": f"Bearer {tokens[name]}"} if name else {}
                    kwargs = {"json": {}} if method in BODY_METHODS else {}
                    r = dry_api.request(method, url, headers=headers, **kwargs)
                    want = expected(rule, user, inside, scoped, method)
                    ok = (r.status_code < 500 and
                          (r.status_code not in (401, 403) if want == "pass" else r.status_code in want))
                    checked["route x role x scope"] += 1
                    statuses[r.status_code // 100 * 100] += 1
                    if not ok:
                        wrong.append(f"{method} {url} as {name}: {r.status_code} (want {want}) "
                                     f"{r.text[:120]}")
                    if r.status_code in (401, 403):
                        body = r.json()
                        assert set(body) == {"detail", "errors"}, body  # the one error shape
    routes = len(operations(app))
    print(f"\nFIGURES permission matrix: {routes} routes x {len(users)} roles (incl. no token) x "
          f"in/out scope = {checked['route x role x scope']} checks; "
          f"statuses {dict(sorted(statuses.items()))}; 5xx seen: {statuses[500]}")
    assert not wrong, f"{len(wrong)} wrong decisions:\n" + "\n".join(wrong[:40])


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
