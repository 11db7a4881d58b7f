"""A perimeter rule binds every school of its region, so only a writer whose grants hold the whole
region may add, change or remove it through the API: a street's admin sets her street's rule, not the
nation's nor another street's; an unscoped inspector sets any. Checked as the owner afterwards."""

from __future__ import annotations

import psycopg


def _rules(database_url: str, note: str) -> list[tuple]:
    with psycopg.connect(database_url) as c:
        return c.execute("SELECT region FROM perimeter_rule WHERE note = %s ORDER BY id", [note]).fetchall()


def _rule(region: str, note: str) -> dict:
    return {"region": region, "category": "bar", "school_levels": ["primary"], "distance_m": 150,
            "kind": "forbidden", "note": note}


def test_a_rule_is_set_only_over_a_region_the_writer_holds(api, api_world, bearer, database_url):
    w = api_world
    note = f"{w.tag} region test"
    street_admin, inspector = bearer("street_admin"), bearer("inspector")
    for region in ("national", w.other_community[:9], w.street[:6]):
        r = api.post("/perimeter/rules", headers=street_admin, json=_rule(region, note))
        assert r.status_code == 403 and region in r.json()["detail"], (region, r.text)
    assert _rules(database_url, note) == []
    mine = api.post("/perimeter/rules", headers=street_admin, json=_rule(w.street, note))
    assert mine.status_code == 201, mine.text
    national = api.post("/perimeter/rules", headers=inspector, json=_rule("national", note))
    assert national.status_code == 201, national.text
    # the national rule is not hers to change or remove; hers may not be moved out of her street
    assert api.put(f"/perimeter/rules/{national.json()['id']}", headers=street_admin,
                   json=_rule(w.street, note)).status_code == 403
    assert api.delete(f"/perimeter/rules/{national.json()['id']}", headers=street_admin).status_code == 403
    assert api.put(f"/perimeter/rules/{mine.json()['id']}", headers=street_admin,
                   json=_rule("national", note)).status_code == 403
    assert sorted(_rules(database_url, note)) == sorted([(w.street,), ("national",)])
    for rule in (mine, national):
        assert api.delete(f"/perimeter/rules/{rule.json()['id']}", headers=inspector).status_code == 204
    assert _rules(database_url, note) == []
