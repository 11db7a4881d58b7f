"""The workbench (工作台): the server-rendered pages people work in, Chinese first (English through
gettext catalogues), with the navigation of the user's roles; and the API viewers with local assets.

``install(app)`` adds the pages, their stylesheet under /static/workbench and /docs, /redoc with
their assets under /static/docs. Every page route has its row in api/policy.py.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.workbench import audit as audit_pages
from api.workbench import dashboard, home, households, lists, users
from api.workbench import division as division_pages
from api.workbench import errors as error_pages
from api.workbench import exports as export_pages
from api.workbench import imports as import_pages
from api.workbench import inspections as inspection_pages
from api.workbench import perimeter as perimeter_pages
from api.workbench import persons as person_pages
from api.workbench.docs import install_docs
from api.workbench.help import install_help
from api.workbench.render import STATIC, WORKBENCH_STATIC


def install(app: FastAPI, responses: dict) -> None:
    app.include_router(home.router, responses=responses)
    app.include_router(dashboard.router, responses=responses)  # 四清看板
    install_help(app, responses)  # the user guide (使用说明) at /help and its screenshots
    # The household pages share their paths with the API's JSON routes: put them first, so that a
    # browser's page request reaches them (PageRoute lets every other request on to the API).
    before = len(app.router.routes)
    # 场所与学校 and 周边规则: first, so that /perimeter/places/new is not read as the place "new"
    from api.workbench import places as place_pages
    from api.workbench import rules as rule_pages

    app.include_router(place_pages.router, responses=responses)
    app.include_router(rule_pages.router, responses=responses)
    # the lists behind the 四清 figures (/persons, /households with a list filter): before the search
    app.include_router(lists.router, responses=responses)
    app.include_router(lists.households_router, responses=responses)
    app.include_router(households.router, responses=responses)
    app.include_router(households.form_router, responses=responses)
    app.include_router(person_pages.router, responses=responses)  # 人员: add (迁入), edit and tag, move
    app.include_router(person_pages.history_router, responses=responses)  # 迁入迁出记录 (moves)
    app.include_router(division_pages.router, responses=responses)  # 划分检查 on /communities/{code}/division
    app.include_router(audit_pages.router, responses=responses)  # 审计日志 on /audit
    app.include_router(users.router, responses=responses)  # 用户管理 on /users (pages and form posts)
    app.include_router(users.form_router, responses=responses)
    # 网格员名录 on /grid-workers: whether each worker has an account (issue 14, who acted)
    from api.workbench import workers as worker_pages

    app.include_router(worker_pages.router, responses=responses)
    app.include_router(worker_pages.form_router, responses=responses)  # its 服务电话 form (the API: PUT)
    # 数据导入 (/imports; its posts share POST /imports/{layer} with the API) and 数据导出 (/exports)
    app.include_router(import_pages.router, responses=responses)
    app.include_router(import_pages.post_router, responses=responses)
    app.include_router(export_pages.router, responses=responses)
    app.include_router(perimeter_pages.router, responses=responses)  # 校园周边违规检查: the check as a page
    app.include_router(perimeter_pages.form_router, responses=responses)  # 登记违规 from the page
    # 督查: a place's page and its inspection form (photos), a violation's page and its workflow buttons
    app.include_router(inspection_pages.router, responses=responses)
    app.include_router(inspection_pages.place_router, responses=responses)
    app.include_router(inspection_pages.form_router, responses=responses)
    # 走访: the check-in form (/households/{id}/visits/new), the overdue list and figures as pages
    from api.workbench import visits as visit_pages

    app.include_router(visit_pages.router, responses=responses)
    app.include_router(visit_pages.page_router, responses=responses)
    # 创建办/城管: sections on a map with the assign form (/sections), units (/units), cutting roads
    from api.workbench import roads as road_pages
    from api.workbench import units as unit_pages

    for planner_router in (road_pages.router, road_pages.form_router, road_pages.pages_router,
                           unit_pages.router, unit_pages.form_router, unit_pages.edit_router):
        app.include_router(planner_router, responses=responses)
    # 阵地, 志愿服务, 红黑榜 (issue 16 part B): pages on the API's paths (PageRoute, FormRoute)
    # and their forms (issue 16): a facility's page, sessions with photos, edit/close; team, member, leave
    # and activity forms; draft, entry, remove, approve/publish, new version and participation (参评率)
    from api.workbench import facilities as facility_pages
    from api.workbench import facility_forms, honour_forms, session_photos, volunteer_forms
    from api.workbench import honours as honour_pages
    from api.workbench import volunteers as volunteer_pages

    for campaign_router in (facility_pages.page_router, facility_pages.form_router,
                            facility_forms.page_router, facility_forms.form_router,
                            facility_forms.edit_router, session_photos.router,
                            volunteer_pages.page_router, volunteer_forms.form_router,
                            honour_pages.page_router, honour_forms.form_router, honour_forms.remove_router):
        app.include_router(campaign_router, responses=responses)
    # 值守排班 (/duties/roster, its record form) and 无人管理小区 (/compounds, /compounds/coverage), issue 16
    from api.workbench import compounds as compound_pages
    from api.workbench import duties as duty_pages

    app.include_router(duty_pages.page_router, responses=responses)
    app.include_router(compound_pages.page_router, responses=responses)
    # 考核 (issue 16 part C): the quarter page per community, the evidence form, the freeze button (pages
    # and form posts on the API's paths; their JSON API is api/routes/assessment.py, in ROUTERS)
    from api.workbench import assessment as assessment_pages

    for assessment_router in (assessment_pages.router, assessment_pages.page_router,
                              assessment_pages.form_router):
        app.include_router(assessment_router, responses=responses)
    # their forms (issue 16): the duty form, a duty's page, the days missed; 门前三包 agreements and checks;
    # a compound's page with the pairing and task forms, the upload, the overlaps; the records' photos.
    # After the pages above (/duties/roster, /compounds/coverage are no ids), /duties/new first
    from api.workbench import campaign_photos, compound_forms, duty_forms
    from api.workbench import frontage as frontage_pages

    for duty_router in (duty_forms.router, duty_forms.page_router, duty_forms.form_router,
                        frontage_pages.page_router, frontage_pages.form_router, compound_forms.router,
                        compound_forms.page_router, compound_forms.form_router, campaign_photos.router):
        app.include_router(duty_router, responses=responses)
    # 不文明行为 (issue 14): the reporter's form, the queues, the report page with its step forms (pages and
    # form posts on the API's paths: PageRoute, FormRoute) and a report's photos (through the report)
    from api.workbench import reports as report_pages
    from api.workbench import reports_form, reports_photos, reports_queue

    for report_router in (reports_form.router, reports_form.form_router, reports_queue.router,
                          report_pages.router, report_pages.form_router, reports_photos.router):
        app.include_router(report_router, responses=responses)
    # 不文明行为地图, 趋势, 曝光台 and the visits' leftovers (issue 14): the trend's pages before
    # /reports/{report_id}'s page (their JSON API: api/routes ROUTERS, after every page)
    from api.workbench import exposure as exposure_pages
    from api.workbench import report_trend, visit_policy

    mark = len(app.router.routes)
    for field_router in (report_trend.router, exposure_pages.public_router, exposure_pages.page_router,
                         exposure_pages.form_router, visit_policy.page_router, visit_policy.form_router):
        app.include_router(field_router, responses=responses)
    field_routes = app.router.routes[mark:]  # first of this block: /reports/trend is no report's id
    del app.router.routes[mark:]
    app.router.routes[before:before] = field_routes
    pages = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = pages
    app.mount(WORKBENCH_STATIC, StaticFiles(directory=STATIC), name="static-workbench")
    install_docs(app)
    error_pages.install(app)  # last: wraps every exception handler registered by now (HTML for browsers)
