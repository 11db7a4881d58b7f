"""Full ID numbers and phones: masked by default, shown on request to the register roles, audited."""

from __future__ import annotations

import psycopg

from gis.codes import id_number_check_digit


def test_unmasked_person_read_is_full_and_audited(client, database_url):
    address = {"address": "解码路8号", "lon": 113.031, "lat": 25.801}
    household = client.post("/households", json=address).json()
    body17 = "43100319800101123"
    id_number = body17 + id_number_check_digit(body17)
    person = client.post("/persons", json={"household_id": household["id"], "name": "张明",
                                           "id_number": id_number, "phone": "13812345678"})
    assert person.status_code in (200, 201), person.text
    pid = person.json()["id"]

    masked = client.get(f"/persons/{pid}").json()
    assert masked["id_number"] == id_number[:6] + "*" * 8 + id_number[-4:]
    assert masked["phone"] != "13812345678"

    full = client.get(f"/persons/{pid}", params={"unmasked": "true"}).json()
    assert (full["id_number"], full["phone"]) == (id_number, "13812345678")

    with psycopg.connect(database_url) as conn:
        logged = conn.execute("SELECT count(*) FROM audit_log WHERE object = 'persons.unmasked' "
                              "AND %s = ANY(object_ids)", [pid]).fetchone()[0]
    assert logged == 1
    client.delete(f"/households/{household['id']}")
