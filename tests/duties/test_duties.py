"""Duties (值守): the roster derived from the recurrences (a monthly-15th duty on the 15th of each of
twelve months, the 31st on a short month's last day, every Friday), a day not recorded listed as missed
from the next day, records stamped with the signed-in user (photos kept), a unit's accounts seeing and
recording only their own unit's duties, bad input named by field; and 门前三包 agreements with checks."""

from __future__ import annotations

import calendar
import io
from datetime import date, timedelta

import psycopg
from PIL import Image

from gis.duties import duties
from tests.duties.campaign_world import X0, Y0


def photo(colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


def new_duty(api, headers, world, **fields) -> dict:
    body = {
        "name": "每月15日交通红绿灯文明劝导",
        "unit_id": world["units"]["a"],
        "recurrence": "monthly",
        "month_day": 15,
        "lon": X0 + 0.01,
        "lat": Y0 + 0.005,
        "post_name": "红绿灯路口",
        "valid_from": "2025-01-01",
        **fields,
    }
    r = api.post("/duties", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_monthly_15th_duty_is_on_the_roster_on_the_15th_of_each_of_twelve_months(api, as_user, world):
    duty = new_duty(api, as_user("planner"), world)
    r = api.get(
        "/duties/roster",
        headers=as_user("planner"),
        params={"from": "2025-01-01", "to": "2025-12-31", "unit_id": world["units"]["a"]},
    )
    assert r.status_code == 200, r.text
    days = [row["duty_day"] for row in r.json() if row["duty_id"] == duty["id"]]
    assert days == [date(2025, m, 15).isoformat() for m in range(1, 13)]
    print(f"\nFIGURES roster: monthly-15th duty over 2025 -> {len(days)} rostered days, all on the 15th")


def test_the_31st_falls_on_the_last_day_of_a_shorter_month(api, as_user, world):
    duty = new_duty(api, as_user("planner"), world, name="月末", month_day=31, valid_from="2024-01-01")
    r = api.get(
        "/duties/roster", headers=as_user("planner"), params={"from": "2024-01-01", "to": "2024-12-31"}
    )
    days = [row["duty_day"] for row in r.json() if row["duty_id"] == duty["id"]]
    assert days == [date(2024, m, calendar.monthrange(2024, m)[1]).isoformat() for m in range(1, 13)]
    assert "2024-02-29" in days and "2024-04-30" in days


def test_a_weekly_friday_duty_on_a_road_section_is_on_every_friday_of_its_period(api, as_user, world):
    r = api.post(
        "/duties",
        headers=as_user("planner"),
        json={
            "name": "每周五责任路段劝导",
            "unit_id": world["units"]["b"],
            "recurrence": "weekly",
            "weekday": 5,
            "section_id": world["section"],
            "valid_from": "2025-03-01",
            "valid_to": "2025-05-31",
        },
    )
    assert r.status_code == 201, r.text
    duty = r.json()
    assert duty["section_code"].endswith("-road-001") and duty["lon"] is None
    rows = [
        x
        for x in api.get(
            "/duties/roster", headers=as_user("viewer"), params={"from": "2025-01-01", "to": "2025-12-31"}
        ).json()
        if x["duty_id"] == duty["id"]
    ]
    fridays = [date(2025, 3, 1) + timedelta(days=i) for i in range(92)]
    assert [x["duty_day"] for x in rows] == [d.isoformat() for d in fridays if d.isoweekday() == 5]
    assert rows[0]["lon"] is not None  # the post of a section: its middle, for the map


def test_a_day_not_recorded_is_missed_from_the_next_day(api, as_user, world, database_url):
    today = duties.today()
    weekday = today.isoweekday()
    duty = new_duty(
        api,
        as_user("planner"),
        world,
        name="今天",
        recurrence="weekly",
        month_day=None,
        weekday=weekday,
        valid_from=(today - timedelta(days=14)).isoformat(),
    )
    with psycopg.connect(database_url) as conn:  # the owner: the rule itself, on any day
        day = today - timedelta(days=7)
        on_the_day = duties.roster(conn, day, day, duty_id=duty["id"], on=day)
        assert [r["state"] for r in on_the_day] == ["due"]
        assert not duties.missed(conn, day, day, on=day)
        next_day = duties.missed(conn, day, day, on=day + timedelta(days=1))
        assert [(r["duty_id"], r["duty_day"]) for r in next_day] == [(duty["id"], day)]
    # through the API: today's duty is due, not missed; last week's (never recorded) is listed missed
    roster = {
        r["duty_day"]: r["state"]
        for r in api.get(
            "/duties/roster",
            headers=as_user("unit_a"),
            params={"from": (today - timedelta(days=14)).isoformat(), "to": today.isoformat()},
        ).json()
        if r["duty_id"] == duty["id"]
    }
    assert roster[today.isoformat()] == "due" and roster[day.isoformat()] == "missed"
    missed = [
        (r["duty_id"], r["duty_day"]) for r in api.get("/duties/missed", headers=as_user("unit_a")).json()
    ]
    assert (duty["id"], day.isoformat()) in missed and (duty["id"], today.isoformat()) not in missed
    # recorded done late: no longer missed, and flagged late
    r = api.post(
        f"/duties/{duty['id']}/records",
        headers=as_user("unit_a"),
        json={"duty_day": day.isoformat(), "status": "done"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["late"] is True
    missed = [
        (r["duty_id"], r["duty_day"]) for r in api.get("/duties/missed", headers=as_user("unit_a")).json()
    ]
    assert (duty["id"], day.isoformat()) not in missed


def test_a_units_account_records_its_own_duty_stamped_with_photos(api, as_user, world):
    duty = new_duty(api, as_user("planner"), world, name="拍照")
    day = "2025-06-15"
    r = api.post(
        f"/duties/{duty['id']}/records",
        headers=as_user("unit_a"),
        data={"duty_day": day, "status": "done", "note": "到岗"},
        files=[
            ("photos", ("a.png", photo("red"), "image/png")),
            ("photos", ("b.png", photo("blue"), "image/png")),
        ],
    )
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["recorder"] == world["users"]["unit_a"] and len(record["photos"]) == 2
    # the same day again: a conflict; a name of the recorder in the body: refused
    again = api.post(
        f"/duties/{duty['id']}/records",
        headers=as_user("planner"),
        json={"duty_day": day, "status": "missed"},
    )
    assert again.status_code == 409, again.text
    claimed = api.post(
        f"/duties/{duty['id']}/records",
        headers=as_user("unit_a"),
        json={"duty_day": "2025-07-15", "status": "done", "recorder": "someone"},
    )
    assert claimed.status_code == 422
    history = api.get(f"/duties/{duty['id']}/records", headers=as_user("viewer")).json()
    assert [h["duty_day"] for h in history] == [day]


def test_a_unit_sees_and_records_only_its_own_duties(api, as_user, world):
    mine = new_duty(api, as_user("planner"), world, name="A的")
    theirs = new_duty(api, as_user("planner"), world, name="B的", unit_id=world["units"]["b"])
    seen_a = {d["id"] for d in api.get("/duties", headers=as_user("unit_a")).json()}
    seen_b = {d["id"] for d in api.get("/duties", headers=as_user("unit_b")).json()}
    assert mine["id"] in seen_a and theirs["id"] not in seen_a
    assert theirs["id"] in seen_b and mine["id"] not in seen_b
    assert {
        r["unit_id"]
        for r in api.get(
            "/duties/roster", headers=as_user("unit_b"), params={"from": "2025-01-01", "to": "2025-12-31"}
        ).json()
    } == {world["units"]["b"]}
    r = api.post(
        f"/duties/{mine['id']}/records",
        headers=as_user("unit_b"),
        json={"duty_day": "2025-01-15", "status": "done"},
    )
    assert r.status_code == 404, r.text
    assert api.get(f"/duties/{mine['id']}", headers=as_user("unit_b")).status_code == 404
    # a viewer reads, never records; a unit never defines
    assert (
        api.post(
            f"/duties/{mine['id']}/records",
            headers=as_user("viewer"),
            json={"duty_day": "2025-01-15", "status": "done"},
        ).status_code
        == 403
    )
    assert api.post("/duties", headers=as_user("unit_a"), json={}).status_code == 403


def test_bad_input_is_named_by_field(api, as_user, world):
    planner = as_user("planner")
    base = {
        "name": "x",
        "unit_id": world["units"]["a"],
        "recurrence": "weekly",
        "weekday": 5,
        "section_id": world["section"],
        "valid_from": "2025-01-01",
    }

    def fields(**change) -> set[str]:
        r = api.post("/duties", headers=planner, json={**base, **change})
        assert r.status_code == 422, r.text
        return {e["field"] for e in r.json()["errors"]}

    assert fields(weekday=None) == {"weekday"}
    assert fields(weekday=8) == {"weekday"}
    assert fields(recurrence="daily") == {"recurrence"}
    assert fields(valid_to="2024-12-31") == {"valid_to"}
    assert fields(valid_from="2025-02-30") == {"valid_from"}
    assert fields(lon=113.0, lat=25.0) == {"section_id"}
    assert fields(unit_id=987654321) == {"unit_id"}
    assert fields(recurrence="monthly", weekday=None, month_day=32) == {"month_day"}
    r = api.get("/duties/roster", headers=planner, params={"from": "2025-02-01", "to": "2025-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to"
    r = api.get("/duties/roster", headers=planner, params={"from": "2025-13-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"
    duty = new_duty(api, planner, world, name="日期")
    for day in ("2025-01-16", (duties.today() + timedelta(days=40)).isoformat()):
        r = api.post(
            f"/duties/{duty['id']}/records", headers=planner, json={"duty_day": day, "status": "done"}
        )
        assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"duty_day"}, r.text
    r = api.post(
        f"/duties/{duty['id']}/records", headers=planner, json={"duty_day": "2025-01-15", "status": "ok"}
    )
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"status"}


def test_frontage_agreement_and_its_checks(api, as_user, world):
    r = api.post(
        "/frontage/agreements",
        headers=as_user("planner"),
        json={
            "shop_name": "小卖部",
            "lon": X0 + 0.002,
            "lat": Y0 + 0.004,
            "unit_id": world["units"]["a"],
            "owner": "王",
            "valid_from": "2025-01-01",
        },
    )
    assert r.status_code == 201, r.text
    agreement = r.json()
    r = api.post(
        f"/frontage/agreements/{agreement['id']}/checks",
        headers=as_user("inspector"),
        data={"checked_on": "2025-05-05", "result": "fail", "note": "门前堆物"},
        files=[("photos", ("c.png", photo("green"), "image/png"))],
    )
    assert r.status_code == 201, r.text
    check = r.json()
    assert check["checker"] == world["users"]["inspector"] and len(check["photos"]) == 1
    got = api.get(f"/frontage/agreements/{agreement['id']}", headers=as_user("unit_a")).json()
    assert got["last_check"]["result"] == "fail"
    assert api.get(f"/frontage/agreements/{agreement['id']}", headers=as_user("unit_b")).status_code == 404
    assert agreement["id"] in {
        a["id"] for a in api.get("/frontage/agreements", headers=as_user("viewer")).json()
    }
    r = api.post(
        "/frontage/agreements",
        headers=as_user("planner"),
        json={"valid_from": "2025-01-01", "shop_name": "x"},
    )
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"place_id", "owner"}
    assert (
        api.post(
            f"/frontage/agreements/{agreement['id']}/checks",
            headers=as_user("unit_a"),
            json={"checked_on": "2025-05-05", "result": "pass"},
        ).status_code
        == 403
    )


def test_the_roster_page_shows_the_states_and_records_a_day_through_its_form(api, as_user, world):
    today = duties.today()
    duty = new_duty(
        api,
        as_user("planner"),
        world,
        name="页面值守",
        recurrence="weekly",
        month_day=None,
        weekday=today.isoweekday(),
        valid_from=(today - timedelta(days=7)).isoformat(),
    )
    html = {**as_user("unit_a"), "Accept": "text/html"}
    r = api.get("/duties/roster", headers=html)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    last_week = (today - timedelta(days=7)).isoformat()
    assert f'data-duty="{duty["id"]}" data-day="{last_week}" data-state="missed"' in r.text
    assert f'data-duty="{duty["id"]}" data-day="{today.isoformat()}" data-state="due"' in r.text
    assert 'name="csrf_token"' in r.text and "页面值守" in r.text
    # a refused field comes back beside the form, in the API's words
    bad = api.post(
        f"/duties/{duty['id']}/records",
        headers=html,
        data={"duty_day": last_week, "status": "bogus"},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "must be done or missed" in bad.text
    done = api.post(
        f"/duties/{duty['id']}/records",
        headers=html,
        data={"duty_day": last_week, "status": "done"},
        files=[("photos", ("p.png", photo("yellow"), "image/png"))],
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/duties/roster")
    r = api.get("/duties/roster", headers=html)
    assert f'data-duty="{duty["id"]}" data-day="{last_week}" data-state="done"' in r.text
    again = api.post(
        f"/duties/{duty['id']}/records",
        headers=html,
        data={"duty_day": last_week, "status": "done"},
        follow_redirects=False,
    )
    assert again.status_code == 409
    # a viewer reads the roster without forms; another unit sees none of unit a's days
    viewer = api.get("/duties/roster", headers={**as_user("viewer"), "Accept": "text/html"}).text
    assert "页面值守" in viewer and 'class="edit duty-record"' not in viewer
    assert (
        "页面值守" not in api.get("/duties/roster", headers={**as_user("unit_b"), "Accept": "text/html"}).text
    )


def test_the_roster_equals_a_day_by_day_reference_for_every_weekday_and_day_of_month(world, database_url):
    """Every weekday 1-7 and day 1-31, periods starting and ending mid-month, over two years with a
    leap February: the SQL roster equals a Python walk over every day."""
    start, end = date(2023, 11, 20), date(2025, 3, 10)
    with psycopg.connect(database_url) as conn:
        made = conn.execute(
            """INSERT INTO duty (name, unit_id, recurrence, weekday, month_day, post, valid)
               SELECT 'ref', %(unit)s, r, CASE WHEN r = 'weekly' THEN k END,
                      CASE WHEN r = 'monthly' THEN k END,
                      ST_Point(113.2, 25.9, 4326),
                      daterange(date '2024-01-03' + k * 3, CASE WHEN k %% 3 = 0 THEN NULL
                                                                 ELSE date '2024-12-20' + k END)
               FROM unnest(array['weekly', 'monthly']) r, generate_series(1, 31) k
               WHERE r = 'monthly' OR k <= 7
               RETURNING id, recurrence, weekday, month_day, lower(valid), upper(valid)""",
            {"unit": world["units"]["b"]},
        ).fetchall()
        got = {(r["duty_id"], r["duty_day"]) for r in duties.roster(conn, start, end, on=end)}
        expected = set()
        for duty_id, recurrence, weekday, month_day, first, after in made:
            day = max(start, first)
            while day <= end and (after is None or day < after):
                last = calendar.monthrange(day.year, day.month)[1]
                if (recurrence == "weekly" and day.isoweekday() == weekday) or (
                    recurrence == "monthly" and day.day == min(month_day, last)
                ):
                    expected.add((duty_id, day))
                day += timedelta(days=1)
        conn.rollback()
    assert {g for g in got if g[0] in {m[0] for m in made}} == expected
    print(f"\nFIGURES roster reference: {len(made)} duties, {len(expected)} rostered days equal day by day")
