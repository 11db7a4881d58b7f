"""Evidence and the quarterly assessment (issue 16 part C): the 30-item demo sheet, the filled figures
against their endpoints over HTTP, append-only evidence, the frozen bundle and its verification, the
gap report."""

from __future__ import annotations

import io
import json
import re
import zipfile
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from openpyxl import load_workbook

from gis.assessment import bundle
from gis.assessment.figures import FIGURES
from tests.assessment.conftest import PNG


def pick(answer: Any, rule: str, community: str) -> Any:
    """The figure an endpoint answers, by the FIGURES pick rule (gis/assessment/figures.py)."""
    rule = rule.replace("{community}", community)
    if m := re.fullmatch(r"len\((\w+)\)", rule):  # a listing: the figure is how many rows it has
        return len(answer[m.group(1)])
    if m := re.fullmatch(r"sum\((\w+)\) of \[scope=(\d+)\]", rule):
        return sum(Decimal(str(r[m.group(1)])) for r in answer if r["scope"] == m.group(2))
    if m := re.fullmatch(r"(?:(\w+))?\[(\w+)=(\d+)\]\.(\w+)", rule):
        rows = answer[m.group(1)] if m.group(1) else answer
        found = [r for r in rows if r[m.group(2)] == m.group(3)]
        return found[0][m.group(4)] if found else (0 if m.group(4) == "helped" else None)
    for key in rule.split("."):
        answer = answer[key]
    return answer


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return Decimal(str(a)) == Decimal(str(b))


def test_the_demo_sheet_has_30_items_14_filled_live(demo_sheet) -> None:
    items = demo_sheet["items"]
    assert len(items) == 30
    measured = [i for i in items if i["figure"]]
    assert len(measured) == 14 and {i["figure"] for i in measured} == set(FIGURES)
    assert items[0]["section"] == "组织领导" and items[12]["direction"] == "<="


def test_each_filled_value_equals_its_live_endpoint(api, as_user, world, demo_sheet) -> None:
    """Over HTTP, as the admin of A: each measured item's value is what its endpoint answers."""
    q, a = demo_sheet["quarter"], world["a"]
    card = api.get(f"/communities/{a}/assessment/{q}", headers=as_user("admin"))
    assert card.status_code == 200, card.text
    measured = [i for i in card.json()["items"] if i["figure"]]
    assert len(measured) >= 10
    compared = 0
    for item in measured:
        answer = api.get(item["endpoint"], headers=as_user("admin"))
        assert answer.status_code == 200, (item["endpoint"], answer.text)
        live = pick(answer.json(), FIGURES[item["figure"]].pick, a)
        assert same(item["value"], live), (item["figure"], item["value"], live, item["endpoint"])
        compared += 1
    values = {i["figure"]: i["value"] for i in measured}
    # the world's records are counted (not zeros that equal zeros)
    assert values["moral_lecture_halls"] == 1 and values["compounds_helped"] == 1
    assert values["compounds_helped_share"] == 0.5 and values["volunteer_hours"] == 5.5
    assert values["households_visited"] == 4 and values["reports_filed"] == 3
    assert values["reports_closed"] == 1 and values["reports_overdue"] == 1
    assert values["honour_participation_share"] == 0.4 and values["active_volunteers"] == 2
    assert values["road_coverage_pct"] == 60.0 and values["perimeter_violations"] == 2
    print(f"\nFIGURES assessment: {compared} of 30 items filled from live figures, each equal to its "
          "endpoint over HTTP")


def test_the_records_photos_are_evidence_without_an_upload(api, as_user, world, demo_sheet, records) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    found = api.get(f"/communities/{a}/assessment/{q}/evidence", headers=as_user("admin")).json()
    sessions = [p for p in found["record_photos"] if p["record_kind"] == "facility_session"]
    assert [p["record_id"] for p in sessions] == [records["session"]]
    card = api.get(f"/communities/{a}/assessment/{q}", headers=as_user("admin")).json()
    hall_items = [i for i in card["items"] if "facility_session" in i["evidence_from"]]
    assert hall_items and all(i["evidence"] >= 1 for i in hall_items)


def test_evidence_is_never_updated_or_deleted_only_superseded(api, as_user, world, demo_sheet,
                                                             database_url) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    url = f"/communities/{a}/assessment/{q}/evidence"
    first = api.post(url, headers=as_user("worker"), data={"title": "会议记录", "item_no": "3"},
                     files={"file": ("会议.csv", "日期,议题\n2026-01-05,创建\n".encode(), "text/csv")})
    assert first.status_code == 201, first.text
    old = first.json()
    assert old["recorded_by"] == world["users"]["worker"] and old["kind"] == "spreadsheet"
    with psycopg.connect(database_url) as owner:
        for statement in ("UPDATE evidence_item SET title = 'x' WHERE id = %s",
                          "DELETE FROM evidence_item WHERE id = %s"):
            with pytest.raises(psycopg.errors.RestrictViolation):
                owner.execute(statement, [old["id"]])
            owner.rollback()
        with pytest.raises(psycopg.errors.RestrictViolation):
            owner.execute("TRUNCATE evidence_item CASCADE")
        owner.rollback()
        privileges = owner.execute(
            "SELECT has_table_privilege('gridmap_app', 'evidence_item', 'UPDATE'),"
            " has_table_privilege('gridmap_app', 'evidence_item', 'DELETE')").fetchone()
        assert privileges == (False, False)
    newer = api.post(url, headers=as_user("admin"), data={"title": "会议记录（更正）", "item_no": "3",
                                                          "supersedes": str(old["id"])},
                     files={"file": ("photo.png", PNG, "image/png")})
    assert newer.status_code == 201, newer.text
    assert newer.json()["supersedes"] == old["id"] and newer.json()["kind"] == "photo"
    current = api.get(url, headers=as_user("admin")).json()["uploads"]
    assert old["id"] not in [e["id"] for e in current]
    assert newer.json()["id"] in [e["id"] for e in current]
    again = api.post(url, headers=as_user("admin"), data={"title": "再次更正", "item_no": "3",
                                                          "supersedes": str(old["id"])},
                     files={"file": ("photo.png", PNG, "image/png")})
    assert again.status_code == 409, again.text
    # a bad item, an outsider's community, something that is no file this service keeps
    bad = api.post(url, headers=as_user("admin"), data={"title": "x", "item_no": "99"},
                   files={"file": ("a.csv", b"a,b\n", "text/csv")})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "item_no"
    out = api.post(f"/communities/{world['b']}/assessment/{q}/evidence", headers=as_user("admin"),
                   data={"title": "x", "item_no": "3"}, files={"file": ("a.csv", b"a,b\n", "text/csv")})
    assert out.status_code == 403
    junk = api.post(url, headers=as_user("admin"), data={"title": "x", "item_no": "3"},
                    files={"file": ("a.bin", bytes(range(256)), "application/octet-stream")})
    assert junk.status_code == 422 and junk.json()["errors"][0]["field"] == "file"
    got = api.get(f"/assessment/evidence/{newer.json()['id']}/file", headers=as_user("viewer"))
    assert got.status_code == 200 and got.content == PNG


def test_the_gap_report_lists_items_without_evidence_or_below_target(api, as_user, world, demo_sheet) -> None:
    q, a = demo_sheet["quarter"], world["a"]
    r = api.get("/assessment/gaps.xlsx", params={"quarter": q, "area": a}, headers=as_user("admin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:5] == ("社区编码", "社区", "序号", "类别", "考核内容")
    by_item = {row[2]: row for row in rows[2:]}
    assert "无佐证材料" in by_item["1"][10]  # 领导小组: nothing uploaded
    assert "未达标" in by_item["13"][10]  # an overdue report: <=0 not met
    assert "16" in by_item and "未达标" in by_item["16"][10]  # half the compounds helped, target 100 %
    assert "18" not in by_item  # one 道德讲堂 with a session photo: met, evidenced
    listed = api.get("/assessment/gaps", params={"quarter": q, "area": a}, headers=as_user("admin")).json()
    assert len(listed) == len(rows) - 2


def test_freeze_bundle_rebuilds_byte_identical_and_verifies(api, as_user, world, demo_sheet, tmp_path,
                                                            database_url, admin_token) -> None:
    from typer.testing import CliRunner

    from api.cli import app as cli
    from gis.assessment import freeze

    q, a = demo_sheet["quarter"], world["a"]
    frozen = api.post(f"/communities/{a}/assessment/{q}/freeze", headers=as_user("admin"))
    assert frozen.status_code == 201, frozen.text
    row = frozen.json()
    # at freeze time each filled figure equals its endpoint
    for f in row["figures"]:
        if f["figure"]:
            live = pick(api.get(f["endpoint"], headers=as_user("admin")).json(), FIGURES[f["figure"]].pick, a)
            assert same(f["value"], live), f
    assert api.post(f"/communities/{a}/assessment/{q}/freeze", headers=as_user("admin")).status_code == 409
    assert api.post(f"/communities/{world['b']}/assessment/{q}/freeze",
                    headers=as_user("admin")).status_code == 403
    first = api.get(f"/assessment/freezes/{row['id']}/bundle.zip", headers=as_user("admin"))
    second = api.get(f"/assessment/freezes/{row['id']}/bundle.zip",
                     headers={"Authorization": f"Bearer {admin_token}"})
    assert first.status_code == 200 and first.content == second.content
    # it carries the records' photos (visits' too): the street's copy is the admins'
    viewer = api.get(f"/assessment/freezes/{row['id']}/bundle.zip", headers=as_user("viewer"))
    assert viewer.status_code == 403
    with zipfile.ZipFile(io.BytesIO(first.content)) as z:
        body = z.read("manifest.json")
        assert all(i.date_time == bundle.FIXED_TIME for i in z.infolist())
        manifest = json.loads(body)
        assert z.namelist()[:2] == ["manifest.json", "manifest.sha256"]
    import hashlib

    assert hashlib.sha256(body).hexdigest() == row["manifest_sha256"] == first.headers["X-Manifest-SHA256"]
    assert body == bundle.manifest_bytes(manifest)  # canonical: sorted keys
    assert len([i for i in manifest["items"] if i.get("figure")]) >= 10
    assert manifest["files"] and all(len(f["sha256"]) == 64 for f in manifest["files"])
    # rebuilt from the frozen row alone, in a fresh session: the same bytes
    with psycopg.connect(database_url) as owner:
        rebuilt = bundle.manifest_bytes(freeze.manifest(owner, freeze.frozen_row(owner, row["id"])))
    assert rebuilt == body
    with psycopg.connect(database_url) as owner, pytest.raises(psycopg.errors.RestrictViolation):
        owner.execute("UPDATE assessment_freeze SET figures = '[]' WHERE id = %s", [row["id"]])
    # gridmap assess verify: a clean bundle passes; a changed file and a changed manifest are named
    good = tmp_path / "good.zip"
    good.write_bytes(first.content)
    runner = CliRunner()
    ok = runner.invoke(cli, ["assess", "verify", str(good), "--expect", row["manifest_sha256"]])
    assert ok.exit_code == 0, ok.output
    victim = manifest["files"][0]["path"]
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data + b"x" if info.filename == victim else data)
    failed = runner.invoke(cli, ["assess", "verify", str(bad)])
    assert failed.exit_code == 1 and victim in failed.output, failed.output
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data.replace(b'"quarter"', b'"quarter" ') if info.filename == "manifest.json"
                         else data)
    failed = runner.invoke(cli, ["assess", "verify", str(forged)])
    assert failed.exit_code == 1 and "manifest.json" in failed.output, failed.output
    print(f"\nFIGURES assessment bundle: {len(manifest['files'])} files, manifest rebuilt byte-identical "
          f"({row['manifest_sha256'][:12]}…), tampering named by gridmap assess verify")


def test_a_sheet_with_bad_rows_lists_every_problem(api, admin_token, world, quarter) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "类别", "考核内容", "分值", "考核方式", "系统指标", "目标"])
    sheet.append([1, "组织", "领导小组", "x", "查看", None, None])
    sheet.append([1, "组织", "方案", 2, "查看", "no_such_figure", ">=1"])
    out = io.BytesIO()
    book.save(out)
    r = api.post("/assessment/sheets", headers={"Authorization": f"Bearer {admin_token}"},
                 files={"file": ("s.xlsx", out.getvalue(), "application/octet-stream")},
                 data={"quarter": "2030Q1", "scope": world["street"], "title": "t"})
    assert r.status_code == 422
    problems = {(e["field"], e["row"]) for e in r.json()["errors"]}
    assert {("分值", 2), ("序号", 3), ("系统指标", 3)} <= problems
