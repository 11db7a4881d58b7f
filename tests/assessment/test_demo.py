"""The demo (gis/demo, `gridmap demo` and the Quick-start's `gridmap up`) imports the 30-item demo sheet
for the current quarter, so the service opens on a filled assessment page; a second load keeps it."""

from __future__ import annotations

import re

import psycopg

from gis.assessment.figures import today
from gis.assessment.quarters import of_day
from gis.demo.scoring import import_demo_sheets
from gis.demo.street import generate_street, load_demo
from tests.demo.conftest import SMALL


def test_the_demo_loads_the_quarter_sheet_and_its_page_is_filled(api, database_url, settings,
                                                                 admin_token) -> None:
    street = generate_street(**(SMALL | {"communities": 2, "grids": 6, "households": 300, "persons": 700}))
    q = of_day(today())
    with psycopg.connect(database_url) as conn:
        counts = load_demo(conn, street, data_dir=settings.data_dir)
        conn.commit()
        code = str(street.communities["code"].iloc[0])
        sheets = conn.execute("SELECT scope, (SELECT count(*) FROM assessment_item i WHERE i.sheet_id = s.id)"
                              " FROM assessment_sheet s WHERE quarter = %s AND starts_with(%s, scope)",
                              [q.code, code]).fetchall()
        # loading again (gridmap demo --replace keeps what it finds): no second sheet, no conflict
        assert import_demo_sheets(conn, settings.data_dir) == 0
    assert counts["assessment_sheets"] == 1
    assert sheets == [(code[:9], 30)]
    headers = {"Authorization": f"Bearer {admin_token}"}
    card = api.get(f"/communities/{code}/assessment/{q}", headers=headers)
    assert card.status_code == 200, card.text
    measured = [i for i in card.json()["items"] if i["figure"]]
    assert len(card.json()["items"]) == 30 and len(measured) == 14
    # filled from the demo's live figures (counts are 0, not missing; the register has households)
    filled = {i["figure"]: i["value"] for i in measured if i["value"] is not None}
    assert len(filled) >= 10 and filled["honour_participation_share"] == 0
    page = api.get(f"/communities/{code}/assessment/{q}", headers=headers | {"Accept": "text/html"})
    assert page.status_code == 200
    assert len(re.findall(r'<tr data-item="', page.text)) == 30
    overview = api.get("/assessment", headers=headers | {"Accept": "text/html"})
    assert f'href="/communities/{code}/assessment/{q}"' in overview.text
