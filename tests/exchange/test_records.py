"""The campaign's tables out: the duty roster with done/missed (值守排班表), 门前三包 with the last check,
volunteer hours per member per team (志愿服务时长) and a published honour list, full or public. Each file
is compared with what the database holds, and each reader gets the rows of the JSON route it mirrors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import date, timedelta

import openpyxl
import pytest

from gis.duties.exchange import FRONTAGE_COLUMNS, ROSTER_COLUMNS
from gis.honours.exchange import FULL_COLUMNS, PUBLIC_COLUMNS
from gis.volunteers.exchange import COLUMNS as HOURS_COLUMNS

TODAY = date.today()


def sheet_rows(content: bytes) -> tuple[str, list[str], list[dict]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    headers = [c.value for c in sheet[1]]
    return sheet.title, headers, [dict(zip(headers, r, strict=True))
                                  for r in sheet.iter_rows(min_row=2, values_only=True)]


def csv_rows(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def bearer(tokens: dict, name: str) -> dict:
    return {"Authorization": f"Bearer {tokens[name]}"}


# ------------------------------------------------------------------------------------------ roster
@pytest.fixture(scope="module")
def duty(campaign, database_url) -> dict:
    """A Friday duty of unit a on the world's section from 60 days back, one Friday recorded done."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        duty_id = conn.execute(
            "INSERT INTO duty (name, unit_id, recurrence, weekday, section_id, valid)"
            " VALUES ('周五路段值守', %s, 'weekly', 5, %s, daterange(current_date - 60, NULL)) RETURNING id",
            [campaign["units"]["a"], campaign["section"]]).fetchone()[0]
        last_friday = TODAY - timedelta(days=(TODAY.isoweekday() - 5) % 7 or 7)
        conn.execute("INSERT INTO duty_record (duty_id, duty_day, status, recorder)"
                     " VALUES (%s, %s, 'done', '王')", [duty_id, last_friday])
    return {"id": duty_id, "done": last_friday}


def test_the_roster_lists_done_and_missed_days(api, campaign, duty, owner) -> None:
    start, end = TODAY - timedelta(days=28), TODAY - timedelta(days=1)
    params = {"from": str(start), "to": str(end)}
    r = api.get("/exports/campaign/roster", params=params, headers=bearer(campaign["tokens"], "planner"))
    assert r.status_code == 200, r.text
    title, headers, rows = sheet_rows(r.content)
    assert title == "值守排班表" and headers == list(ROSTER_COLUMNS.values())
    mine = {row["日期"]: row for row in rows if row["值守任务"] == "周五路段值守"}
    fridays = [start + timedelta(days=i) for i in range(28) if (start + timedelta(days=i)).isoweekday() == 5]
    assert sorted(mine) == [str(d) for d in fridays] and len(fridays) == 4
    assert mine[str(duty["done"])]["状态"] == "已完成" and mine[str(duty["done"])]["记录人"] == "王"
    assert all(row["状态"] == "缺岗" for d, row in mine.items() if d != str(duty["done"]))
    assert {row["周期"] for row in mine.values()} == {"每周五"}
    assert {row["责任单位"] for row in mine.values()} == {f"{campaign['tag']} unit a"}
    # the same days as the JSON roster
    listed = api.get("/duties/roster", params=params, headers=bearer(campaign["tokens"], "planner")).json()
    assert len(rows) == len(listed)
    # a unit's account gets its own unit's duties only (row-level security, as GET /duties/roster)
    theirs = api.get("/exports/campaign/roster", params={**params, "format": "csv"},
                     headers=bearer(campaign["tokens"], "unit_b"))
    assert theirs.status_code == 200
    assert all(row["值守任务"] != "周五路段值守" for row in csv_rows(theirs.content))
    ours = csv_rows(api.get("/exports/campaign/roster", params={**params, "format": "csv"},
                            headers=bearer(campaign["tokens"], "unit_a")).content)
    assert len([row for row in ours if row["值守任务"] == "周五路段值守"]) == 4
    # no GeoJSON of a roster; an inspector is no reader of duties
    assert api.get("/exports/campaign/roster", params={"format": "geojson"},
                   headers=bearer(campaign["tokens"], "planner")).status_code == 422
    inspector = bearer(campaign["tokens"], "inspector")
    assert api.get("/exports/campaign/roster", headers=inspector).status_code == 403
    bad = api.get("/exports/campaign/roster", params={"from": str(end), "to": str(start)},
                  headers=bearer(campaign["tokens"], "planner"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to"


# ---------------------------------------------------------------------------------------- frontage
def test_frontage_agreements_with_their_last_check(api, campaign, owner, tmp_path) -> None:
    agreement = owner.execute(
        "INSERT INTO frontage_agreement (shop_name, geom, unit_id, owner, valid) VALUES"
        " ('老王面馆', ST_Point(113.205, 25.903, 4326), %s, '王老板', daterange(current_date - 30, NULL))"
        " RETURNING id", [campaign["units"]["a"]]).fetchone()[0]
    owner.execute("INSERT INTO frontage_check (agreement_id, checked_on, result, checker) VALUES"
                  " (%(a)s, current_date - 5, 'pass', '张'), (%(a)s, current_date - 1, 'fail', '赵')",
                  {"a": agreement})
    r = api.get("/exports/campaign/frontage", headers=bearer(campaign["tokens"], "inspector"))
    title, headers, rows = sheet_rows(r.content)
    assert title == "门前三包" and headers == [*FRONTAGE_COLUMNS.values(), "经度", "纬度"]
    shop = next(row for row in rows if row["店名"] == "老王面馆")
    assert (shop["最近检查日期"], shop["最近检查结果"], shop["检查人"]) == (
        str(TODAY - timedelta(days=1)), "不合格", "赵")
    assert (shop["经度"], shop["纬度"]) == (113.205, 25.903) and shop["负责人"] == "王老板"
    path = tmp_path / "frontage.geojson"
    path.write_bytes(api.get("/exports/campaign/frontage", params={"format": "geojson"},
                             headers=bearer(campaign["tokens"], "planner")).content)
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True,
                         check=True).stdout
    assert "Point" in out and "Feature Count:" in out
    features = json.loads(path.read_text())["features"]
    assert any(f["properties"]["店名"] == "老王面馆" for f in features)
    # unit b's account does not see unit a's agreement
    theirs = csv_rows(api.get("/exports/campaign/frontage", params={"format": "csv"},
                              headers=bearer(campaign["tokens"], "unit_b")).content)
    assert all(row["店名"] != "老王面馆" for row in theirs)


# ------------------------------------------------------------------------------------ volunteer hours
@pytest.fixture(scope="module")
def team(world, database_url) -> dict:
    """A team in A: a resident of g1, a resident of g2 and an outsider; an activity in the period (2.5 h
    each) and one long before it (3 h, the outsider)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
        team = one("INSERT INTO volunteer_team (name, scope) VALUES ('学雷锋服务队', %s) RETURNING id",
                   [world["a"]])
        members = [one("INSERT INTO volunteer_member (team_id, person_id) VALUES (%s, %s) RETURNING id",
                       [team, world["persons"][g][0]]) for g in (world["g1"], world["g2"])]
        outsider = one("INSERT INTO volunteer_member (team_id, outsider_name, outsider_phone)"
                       " VALUES (%s, '外来志愿者', '13800000000') RETURNING id", [team])
        conn.execute("SELECT set_config('gridmap.user_id', %s, true)", [str(world["users"]["admin"])])
        now = one("INSERT INTO volunteer_activity (team_id, held_on, title, recorder_id, recorder)"
                  " VALUES (%s, current_date - 3, '清扫', 0, '') RETURNING id", [team])
        old = one("INSERT INTO volunteer_activity (team_id, held_on, title, recorder_id, recorder)"
                  " VALUES (%s, current_date - 300, '义诊', 0, '') RETURNING id", [team])
        conn.execute("INSERT INTO volunteer_hours (activity_id, team_id, member_id, hours)"
                     " SELECT %s, %s, m, 2.5 FROM unnest(%s::bigint[]) m", [now, team, [*members, outsider]])
        conn.execute("INSERT INTO volunteer_hours (activity_id, team_id, member_id, hours)"
                     " VALUES (%s, %s, %s, 3)", [old, team, outsider])
        conn.commit()
    return {"id": team}


def test_volunteer_hours_per_member_in_a_period(api, as_user, world, team, owner) -> None:
    params = {"area": world["a"], "from": str(TODAY - timedelta(days=30)), "to": str(TODAY)}
    r = api.get("/exports/campaign/volunteer-hours", params=params, headers=as_user("admin"))
    assert r.status_code == 200, r.text
    title, headers, rows = sheet_rows(r.content)
    assert title == "志愿服务时长" and headers == list(HOURS_COLUMNS.values())
    mine = [row for row in rows if row["队伍"] == "学雷锋服务队"]
    names = owner.execute("SELECT name FROM person WHERE id = ANY(%s) ORDER BY id",
                          [[world["persons"][world["g1"]][0], world["persons"][world["g2"]][0]]]).fetchall()
    assert sorted(row["姓名"] for row in mine) == sorted([n[0] for n in names] + ["外来志愿者"])
    assert all(row["服务时长（小时）"] == 2.5 and row["参加活动次数"] == 1 for row in mine)  # the old 3 h not
    # the whole year: the outsider's 3 hours too
    year = api.get("/exports/campaign/volunteer-hours", headers=as_user("admin"),
                   params={**params, "from": str(TODAY - timedelta(days=365)), "format": "csv"})
    outsider = next(row for row in csv_rows(year.content) if row["姓名"] == "外来志愿者")
    assert (float(outsider["服务时长（小时）"]), outsider["参加活动次数"]) == (5.5, "2")
    # a grid worker of g1 reads g1's resident and the outsider, not g2's resident (the register's rules)
    worker = [row for row in sheet_rows(api.get("/exports/campaign/volunteer-hours", params=params,
                                                headers=as_user("worker")).content)[2]
              if row["队伍"] == "学雷锋服务队"]
    assert sorted(row["身份"] for row in worker) == ["居民", "社会志愿者"]
    assert api.get("/exports/campaign/volunteer-hours", headers=as_user("viewer")).status_code == 403


# ----------------------------------------------------------------------------------------- honours
@pytest.fixture(scope="module")
def honours(world, database_url) -> dict:
    """A 十文明户 list of A with a household of g1 and one of g2, published and public; a second list
    published but not public; a third drafted."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        one = lambda q, p: conn.execute(q, p).fetchone()[0]  # noqa: E731
        made = {}
        for key, public in (("public", True), ("office", False), ("draft", False)):
            made[key] = one("INSERT INTO honour_list (kind, scope, series, title, public, drafted_by)"
                            " VALUES ('civilised_household', %s, %s, '十文明户', %s, '') RETURNING id",
                            [world["a"], f"{world['tag']}-{key}", public])
            for n, grid in enumerate((world["g1"], world["g2"]), start=1):
                conn.execute("INSERT INTO honour_entry (list_id, colour, household_id, reason, label,"
                             " public_label, public_where) VALUES (%s, 'red', %s, '孝老爱亲', %s, %s, %s)",
                             [made[key], world["households"][grid][0], f"李{n}华家", "李**家", f"{n}号楼"])
            if key != "draft":
                conn.execute("UPDATE honour_list SET state = 'approved' WHERE id = %s", [made[key]])
                conn.execute("UPDATE honour_list SET state = 'published' WHERE id = %s", [made[key]])
    return made


def test_a_published_list_full_for_the_register_and_public_for_others(api, as_user, honours, owner) -> None:
    url = "/exports/campaign/honours/{}"
    held = owner.execute("SELECT label, public_label, public_where, reason FROM honour_entry"
                         " WHERE list_id = %s ORDER BY id", [honours["public"]]).fetchall()
    full = api.get(url.format(honours["public"]), headers=as_user("admin"))
    title, headers, rows = sheet_rows(full.content)
    assert headers == list(FULL_COLUMNS.values()) and title.startswith("十文明户")
    assert [(r["名称"], r["公示名称"], r["公示位置"], r["事由"]) for r in rows] == held
    assert {r["红黑榜"] for r in rows} == {"红榜"} and {r["对象类型"] for r in rows} == {"家庭"}
    # a grid worker of g1: the entry about g1's household only (the register's rules)
    worker = sheet_rows(api.get(url.format(honours["public"]), headers=as_user("worker")).content)[2]
    assert [r["名称"] for r in worker] == [held[0][0]]
    # a viewer: the public version, no name and no reason about a household
    public = api.get(url.format(honours["public"]), headers=as_user("viewer"))
    title, headers, rows = sheet_rows(public.content)
    assert headers == list(PUBLIC_COLUMNS.values()) and title.endswith("（公示）")
    assert [(r["名称"], r["位置"], r["事由"]) for r in rows] == [(h[1], h[2], None) for h in held]
    public_csv = api.get(url.format(honours["public"]), params={"format": "csv"}, headers=as_user("viewer"))
    assert "李1华家" not in public_csv.content.decode("utf-8-sig")
    # not public: nothing for the viewer; a draft: no list yet
    assert api.get(url.format(honours["office"]), headers=as_user("viewer")).status_code == 404
    assert api.get(url.format(honours["office"]), headers=as_user("admin")).status_code == 200
    assert api.get(url.format(honours["draft"]), headers=as_user("admin")).status_code == 409
