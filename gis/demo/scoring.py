"""A 30-item demo scoring sheet (考核评分细则) for a quarter, after the seed's plan 3: its sections
(组织领导, 网格化管理, 路段管理, 不文明行为, 无人管理小区, 道德讲堂, 志愿服务, 红黑榜, 宣传教育, 校园周边,
资料收集) with points and how each is measured; 14 items name the live figure that fills them. Built in
code and written by openpyxl with the Chinese headers gis/assessment/sheet.py reads."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import psycopg
from openpyxl import Workbook
from openpyxl.styles import Font

from gis.assessment import quarters, sheet
from gis.assessment.figures import today

DEMO_TITLE = "文明社区创建工作考核评分细则"

HEADER = ("序号", "类别", "考核内容", "分值", "考核方式", "系统指标", "目标", "佐证来源")

# (section, content, points, measure, figure, target, evidence from)
ITEMS: tuple[tuple[str, str, int, str, str, str, str], ...] = (
    ("组织领导", "成立创建工作领导小组，一把手亲自挂帅", 3, "查看文件", "", "", ""),
    ("组织领导", "制定年度创建工作方案，责任分解到人", 3, "查看方案", "", "", ""),
    ("组织领导", "每季度召开创建工作专题会议", 2, "查看会议记录", "", "", ""),
    ("网格化管理", "完善一档一册一图，网格员做到四知四清四掌握", 4, "抽查网格档案", "", "", ""),
    ("网格化管理", "网格员按期走访住户", 4, "系统统计本季度走访户数", "households_visited", ">=1", "visit"),
    ("网格化管理", "走访记录完整，留有照片", 3, "系统统计本季度走访次数", "visits", ">=1", "visit"),
    ("路段管理", "责任路段全部落实责任单位，认领全覆盖", 3, "系统统计责任路段认领覆盖率", "road_coverage_pct",
     ">=100", ""),
    ("路段管理", "责任单位每周五开展责任路段文明卫生劝导", 4, "查看值守记录与照片", "", "", "duty_record"),
    ("路段管理", "每月15日开展交通红绿灯文明劝导", 3, "查看值守记录与照片", "", "", "duty_record"),
    ("路段管理", "落实门前三包责任制", 3, "抽查门前三包检查记录", "", "", "frontage_check"),
    ("不文明行为", "及时上报不文明行为", 3, "系统统计本季度上报数", "reports_filed", ">=1", "report"),
    ("不文明行为", "不文明行为按期办结", 4, "系统统计本季度办结数", "reports_closed", ">=1", "report"),
    ("不文明行为", "无超期未办结的不文明行为", 4, "系统统计超期未办结数", "reports_overdue", "<=0", ""),
    ("不文明行为", "利用陋习曝光台曝光不文明行为", 2, "查看曝光记录", "", "", ""),
    ("无人管理小区", "每个无人管理小区落实帮扶单位", 4, "系统统计有帮扶单位的小区数", "compounds_helped",
     ">=1", "compound_task"),
    ("无人管理小区", "无人管理小区帮扶全覆盖", 4, "系统统计帮扶覆盖率", "compounds_helped_share", "100%",
     "compound_task"),
    ("无人管理小区", "帮扶单位开展美化亮化绿化，前后照片对比", 3, "查看任务照片", "", "", "compound_task"),
    ("道德讲堂", "建设好1-2个道德讲堂", 4, "系统统计道德讲堂数", "moral_lecture_halls", ">=1",
     "facility_session"),
    ("道德讲堂", "道德讲堂定期开展活动，资料收集归档", 3, "查看活动记录与照片", "", "", "facility_session"),
    ("道德讲堂", "发挥市民学校作用，有教材有教员有计划", 2, "查看市民学校资料", "", "", ""),
    ("志愿服务", "建立学雷锋志愿服务站", 3, "系统统计志愿服务站数", "volunteer_stations", ">=1", ""),
    ("志愿服务", "志愿者队伍健全，建有档案和数据库", 3, "系统统计在册志愿者", "active_volunteers",
     ">=20", ""),
    ("志愿服务", "志愿服务活动常态化", 3, "系统统计累计服务时长", "volunteer_hours", ">=100",
     "volunteer_activity"),
    ("志愿服务", "开展网络文明传播志愿服务", 2, "查看活动资料", "", "", ""),
    ("红黑榜", "开展十文明户、最美家庭评选，参与率达80%", 4, "系统统计家庭评选参与率",
     "honour_participation_share", "80%", ""),
    ("红黑榜", "按时公布红黑榜", 3, "查看公示照片", "", "", ""),
    ("宣传教育", "利用宣传栏、电子屏宣传创建工作", 2, "查看宣传照片", "", "", ""),
    ("校园周边", "校园周边200米内无违规经营场所，发现即整改", 2, "系统统计校园周边未整改违规场所",
     "perimeter_violations", "<=0", "inspection"),
    ("资料收集", "创建资料全面、真实、完整、规范", 3, "查看资料", "", "", ""),
    ("资料收集", "资料两份，一份交街道创建办，一份社区留存", 2, "查看报送回执", "", "", ""),
)


def demo_sheet_xlsx(title: str = DEMO_TITLE) -> bytes:
    """The demo sheet as an XLSX workbook: a title row, the header, 30 items."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "评分细则"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(HEADER))
    for no, (section, content, points, measure, figure, target, source) in enumerate(ITEMS, start=1):
        sheet.append([no, section, content, points, measure, figure or None, target or None, source or None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_demo_sheets(conn: psycopg.Connection, data_dir: Path | str, on: date | None = None) -> int:
    """The demo sheet imported for the quarter of ``on`` (today in China) for every street of the
    database that has no sheet for it yet, so the demo opens on a filled assessment page; a second
    load (gridmap demo --replace) keeps the sheet it finds. The number of sheets imported."""
    q = quarters.of_day(on or today())
    streets = [r[0] for r in conn.execute(
        "SELECT DISTINCT left(c.code, 9) FROM community c WHERE NOT EXISTS (SELECT 1 FROM assessment_sheet s"
        " WHERE s.quarter = %s AND starts_with(c.code, s.scope)) ORDER BY 1", [q.code]).fetchall()]
    content = demo_sheet_xlsx()
    for street in streets:  # a demo holds one street (two, three at most)
        sheet.import_sheet(conn, data_dir, content, quarter=q, scope=street, title=DEMO_TITLE,
                           stored_by="demo")
    return len(streets)
