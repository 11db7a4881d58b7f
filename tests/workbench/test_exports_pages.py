"""The export page (数据导出): each layer the user may export has a GET form whose download is the API's
own GET /exports/{layer} with the same parameters; a layer the user may not export is not offered, and
every layer offered downloads (the offer matches the route's answer, role by role)."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import openpyxl
import pytest
import shapely.geometry

from gis.catalog import LAYERS
from tests.workbench.test_imports_pages import HTML, Forms
from tests.workbench.test_pages import ROLES


def export_forms(c) -> dict[str, dict]:
    r = c.get("/exports", headers=HTML)
    assert r.status_code == 200, r.text[:300]
    forms = {f["action"].removeprefix("/exports/"): f for f in Forms(r.text).forms
             if "export" in f.get("class", "").split()}
    for form in forms.values():
        assert form["method"] == "get"
    return forms


def choices(form: dict) -> dict[str, list[str]]:
    return {s["name"]: [o["value"] for o in s["options"]] for s in form["selects"]}


def submit(c, form: dict, **chosen: str):
    """What a browser fetches when the form is sent: its action with the selects' values (the first
    option unless chosen), nothing else (the button has no name)."""
    assert all(not b.get("name") for b in form["buttons"])
    values = {s["name"]: chosen.get(s["name"], s["options"][0]["value"]) for s in form["selects"]}
    return c.get(f"{form['action']}?{urlencode(values)}", headers=HTML), values


def test_the_forms_download_equals_the_api_route(signed_in, admin_token):
    c = signed_in("admin")
    forms = export_forms(c)
    assert set(forms) == set(LAYERS)  # an admin of everything may export every layer
    grids = choices(forms["grids"])
    assert grids["format"] == ["xlsx", "csv", "geojson", "gpkg", "shp"]
    assert grids["crs"] == ["EPSG:4326", "EPSG:4490", "gk3", "gcj02"]
    assert "crs" not in choices(forms["persons"]) and "shp" not in choices(forms["persons"])["format"]
    bearer = {"Authorization": f"Bearer {admin_token}"}  # the API as a script calls it: no page, no cookie
    for layer, chosen in [("grids", {"format": "geojson", "crs": "EPSG:4490"}),
                          ("households", {"format": "csv", "crs": "gk3"}),
                          ("households", {"format": "geojson", "crs": "gcj02"}),
                          ("persons", {"format": "csv"})]:
        page, values = submit(c, forms[layer], **chosen)
        direct = c.get(f"/exports/{layer}", params=values, headers=bearer)
        assert page.status_code == direct.status_code == 200, (layer, page.text[:200])
        assert page.headers["content-disposition"] == direct.headers["content-disposition"]
        assert "attachment" in page.headers["content-disposition"]
        assert page.content == direct.content, layer
    page, values = submit(c, forms["grids"], format="xlsx", crs="EPSG:4326")
    direct = c.get("/exports/grids", params=values, headers=bearer)
    # a workbook carries its time of writing: compared cell by cell
    cells = [list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
             for r in (page, direct)]
    assert cells[0] == cells[1] and len(cells[0]) > 1
    gk3 = json.loads(submit(c, forms["grids"], format="geojson", crs="gk3")[0].content)
    minx = min(shapely.geometry.shape(f["geometry"]).bounds[0] for f in gk3["features"])
    assert minx > 1_000_000  # metres of a Gauss-Krüger zone (its number in the easting), not degrees


def test_every_format_offered_downloads(signed_in):
    c = signed_in("admin")
    for layer, form in export_forms(c).items():
        for fmt in choices(form)["format"]:
            r, _ = submit(c, form, format=fmt)
            assert r.status_code == 200, (layer, fmt, r.status_code, r.text[:200])


@pytest.mark.parametrize("role", ROLES)
def test_a_layer_is_offered_exactly_when_the_user_may_export_it(signed_in, role):
    c = signed_in(role)
    forms = export_forms(c)
    for layer in LAYERS:
        answer = c.get(f"/exports/{layer}", params={"format": "csv"})
        assert (layer in forms) == (answer.status_code == 200), (role, layer, answer.status_code)
        if layer not in forms:
            assert answer.status_code == 403
    if role == "viewer":
        assert not {"households", "persons", "grid_workers", "units"} & set(forms)
    if role == "worker":
        assert {"households", "persons"} <= set(forms) and "schools" not in forms
    assert 'href="/exports"' in c.get("/").text  # in every role's menu: each may export some layer
