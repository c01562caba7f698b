"""The admin pages under /admin/p/sla: policies, calendars, open clocks and the report.

Most tests sign in in English so that they read the plugin's own words whatever the catalog
holds; one checks that the pages render in zh-CN too.
"""

import datetime as dt
import html
import json
import re
from zoneinfo import ZoneInfo

from jimu_sdk import platform

SH = ZoneInfo("Asia/Shanghai")
PAGES = "/admin/p/sla"
HOURS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


async def english_admin(jimu_platform, tenant=None):
    tenant = tenant or await jimu_platform.make_tenant(plugins=["sla"])
    admin = await jimu_platform.login(tenant.admin_username)
    chosen = await admin.post("/account/language", data={"locale": "en", "next": "/"})
    assert chosen.status_code == 303
    return tenant, admin


async def make_calendar(admin, name="工作日"):
    response = await admin.post("/api/v1/sla/calendars", json={"name": name,
                                                               "weekly_hours": HOURS})
    assert response.status_code == 201, response.text
    return response.json()


def form(**fields):
    return {"enabled": "1", "position": "100", "warn_percent": "80", **fields}


def chart(page, chart_id):
    found = re.search(rf'<script type="application/json" id="{chart_id}">(.*?)</script>',
                      page, re.S)
    assert found, chart_id
    return json.loads(found.group(1))


def table_rows(page, table_id):
    table = re.search(rf'<table class="list[^"]*" id="{table_id}">(.*?)</table>', page, re.S)
    assert table, table_id
    rows = re.findall(r"<tr data-key=\"[^\"]*\">(.*?)</tr>", table.group(1), re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


# ----------------------------------------------------------------------------- every page


async def test_every_page_renders_and_the_menu_links_them(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["sla"])
    admin = await jimu_platform.login(tenant.admin_username)  # zh-CN, the tenant's language
    calendar = await make_calendar(admin)
    policy = (await admin.post("/api/v1/sla/policies", json={
        "name": "投诉 6 小时解决", "types": ["complaint"], "response_minutes": 120,
        "resolution_minutes": 360, "calendar_id": calendar["id"]})).json()
    for path in ("/", "/policies/new", f"/policies/{policy['id']}", "/calendars",
                 "/calendars/new", f"/calendars/{calendar['id']}",
                 f"/calendars/{calendar['id']}?year=2027", "/clocks", "/report"):
        page = await admin.get(f"{PAGES}{path}")
        assert page.status_code == 200, (path, page.text[:500])
        assert '<html lang="zh-CN"' in page.text
    listing = (await admin.get(f"{PAGES}/")).text
    assert "投诉 6 小时解决" in listing and "<code>complaint</code>" in listing
    assert 'href="/admin/p/sla/"' in (await admin.get("/admin/")).text  # the menu item
    assert (await admin.get(f"{PAGES}/policies/999")).status_code == 404
    assert (await admin.get(f"{PAGES}/calendars/999")).status_code == 404


async def test_the_pages_answer_404_where_the_plugin_is_off(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=[])
    admin = await jimu_platform.login(tenant.admin_username)
    assert (await admin.get(f"{PAGES}/")).status_code == 404


# ----------------------------------------------------------------------------- policies


async def test_a_policy_is_created_changed_and_deleted_through_the_form(jimu_platform):
    tenant, admin = await english_admin(jimu_platform)
    calendar = await make_calendar(admin)
    staff = await jimu_platform.make_user(tenant, "li-na", role="staff")
    created = await admin.post(f"{PAGES}/policies/new", data=form(
        name="Urgent complaints", priorities=["urgent", "high"], customer_levels=["gold"],
        types="complaint，repair", response_hours="2", response_mins="30",
        resolution_hours="8", calendar_id=str(calendar["id"]), warn_percent="75",
        escalate_roles="admin, staff", escalate_user_ids=[str(staff)],
        escalate_priority="urgent", reassign_to_team="3", position="10"))
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"{PAGES}/?saved=created"
    [policy] = (await admin.get("/api/v1/sla/policies")).json()
    assert {k: policy[k] for k in (
        "name", "priorities", "customer_levels", "types", "response_minutes",
        "resolution_minutes", "calendar_id", "warn_percent", "escalate_roles",
        "escalate_user_ids", "escalate_priority", "reassign_to_team", "position",
        "enabled")} == {
        "name": "Urgent complaints", "priorities": ["urgent", "high"],
        "customer_levels": ["gold"], "types": ["complaint", "repair"],
        "response_minutes": 150, "resolution_minutes": 480, "calendar_id": calendar["id"],
        "warn_percent": 75, "escalate_roles": ["admin", "staff"],
        "escalate_user_ids": [staff], "escalate_priority": "urgent", "reassign_to_team": 3,
        "position": 10, "enabled": True}

    listing = (await admin.get(f"{PAGES}/?saved=created")).text
    assert "Policy created." in listing
    assert "2 h 30 min" in listing and "8 h" in listing and "75%" in listing
    assert "Priority: Urgent、High" in listing and "Customer level: Gold" in listing
    assert "Notify: admin、staff、li-na" in listing and "Raise priority to Urgent" in listing
    assert f'href="/admin/p/sla/calendars/{calendar["id"]}">工作日</a>' in listing

    edit = (await admin.get(f"{PAGES}/policies/{policy['id']}")).text
    assert 'name="response_hours" id="f-response_hours" inputmode="numeric" value="2"' in edit
    assert 'value="urgent" checked' in edit and 'value="low" >' in edit

    changed = await admin.post(f"{PAGES}/policies/{policy['id']}", data=form(
        name="Urgent complaints", response_mins="45", resolution_hours="",
        resolution_mins="", calendar_id="", enabled=""))
    assert changed.status_code == 303, changed.text
    after = (await admin.get(f"/api/v1/sla/policies/{policy['id']}")).json()
    assert (after["response_minutes"], after["resolution_minutes"], after["calendar_id"],
            after["priorities"], after["enabled"], after["escalate_roles"]) == (
        45, None, None, [], False, [])
    listing = (await admin.get(f"{PAGES}/")).text
    assert "45 min" in listing and "Around the clock (24×7)" in listing
    assert '<span class="badge off">Off</span>' in listing

    deleted = await admin.post(f"{PAGES}/policies/{policy['id']}/delete")
    assert deleted.status_code == 303
    assert (await admin.get("/api/v1/sla/policies")).json() == []
    assert "Policy deleted." in (await admin.get(f"{PAGES}/?saved=deleted")).text


async def test_a_refused_policy_answers_422_with_each_problem_beside_its_field(jimu_platform):
    _, admin = await english_admin(jimu_platform)
    empty = await admin.post(f"{PAGES}/policies/new", data=form(name="", types="complaint"))
    assert empty.status_code == 422
    text = empty.text
    assert '<small id="e-name" class="field-error">give the policy a name</small>' in text
    assert ('<small id="e-resolution_minutes" class="field-error">give a response target, '
            'a resolution target or both (in business minutes)</small>') in text
    assert 'value="complaint"' in text  # the input is kept
    assert "Please correct the fields marked below." in text

    # What the page cannot read and what the services refuse show together.
    typed = await admin.post(f"{PAGES}/policies/new", data=form(
        name="", response_hours="two", resolution_hours="0", resolution_mins="0",
        warn_percent="100", reassign_to_team="0"))
    assert typed.status_code == 422
    assert 'id="e-name" class="field-error">give the policy a name' in typed.text
    assert 'id="e-warn_percent" class="field-error">warn_percent must be between' in typed.text
    assert 'id="e-response_minutes" class="field-error">write the target as whole hours' in (
        typed.text)
    assert 'id="e-resolution_minutes" class="field-error">a target is at least 1 minute' in (
        typed.text)
    assert 'id="e-reassign_to_team" class="field-error">' in typed.text
    assert 'value="two"' in typed.text

    percent = await admin.post(f"{PAGES}/policies/new", data=form(
        name="x", resolution_hours="4", warn_percent="100"))
    assert percent.status_code == 422
    assert 'id="e-warn_percent" class="field-error">warn_percent must be between 1 and 99' in (
        percent.text)

    assert (await admin.post(f"{PAGES}/policies/new", data=form(
        name="Default", resolution_hours="24"))).status_code == 303
    twice = await admin.post(f"{PAGES}/policies/new", data=form(name="Default",
                                                                 resolution_hours="8"))
    assert twice.status_code == 409
    assert ('id="e-name" class="field-error">a policy named Default already exists'
            in twice.text)
    assert (await admin.get("/api/v1/sla/policies")).json()[0]["resolution_minutes"] == 1440


async def test_the_list_is_in_match_order_and_says_which_policy_applies(jimu_platform):
    _, admin = await english_admin(jimu_platform)
    for body in ({"name": "Default", "position": 1, "resolution_minutes": 1440},
                 {"name": "Urgent", "priorities": ["urgent"], "position": 50,
                  "resolution_minutes": 480},
                 {"name": "Urgent complaints", "priorities": ["urgent"],
                  "types": ["complaint"], "position": 90, "resolution_minutes": 360}):
        assert (await admin.post("/api/v1/sla/policies", json=body)).status_code == 201
    page = (await admin.get(f"{PAGES}/", params={
        "try": "1", "priority": "urgent", "type": "complaint"})).text
    names = re.findall(r"<td data-label=\"Policy\"><strong>(.*?)</strong>", page)
    assert names == ["Urgent complaints", "Urgent", "Default"]
    assert "gets the policy <strong>Urgent complaints</strong>" in page
    normal = (await admin.get(f"{PAGES}/", params={"try": "1", "priority": "normal"})).text
    assert "gets the policy <strong>Default</strong>" in normal


async def test_staff_reads_the_pages_but_cannot_change_anything(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["sla"])
    admin = await jimu_platform.login(tenant.admin_username)
    calendar = await make_calendar(admin)
    policy = (await admin.post("/api/v1/sla/policies", json={
        "name": "Default", "resolution_minutes": 60})).json()
    await jimu_platform.make_user(tenant, "sla-viewer", role="staff")
    staff = await jimu_platform.login("sla-viewer")
    listing = await staff.get(f"{PAGES}/")
    assert listing.status_code == 200 and "/admin/p/sla/policies/new" not in listing.text
    assert "Default" in listing.text
    assert (await staff.get(f"{PAGES}/calendars/{calendar['id']}")).status_code == 200
    assert (await staff.get(f"{PAGES}/report")).status_code == 200
    assert (await staff.get(f"{PAGES}/policies/new")).status_code == 403
    assert (await staff.post(f"{PAGES}/policies/{policy['id']}/delete")).status_code == 403
    assert (await staff.post(f"{PAGES}/calendars/{calendar['id']}/days", data={
        "date": "2026-12-24", "kind": "holiday"})).status_code == 403
    assert len((await admin.get("/api/v1/sla/policies")).json()) == 1


# ----------------------------------------------------------------------------- calendars


async def test_a_calendar_is_created_and_its_hours_edited_through_the_form(jimu_platform):
    _, admin = await english_admin(jimu_platform)
    new = (await admin.get(f"{PAGES}/calendars/new")).text
    assert 'id="f-mon" name="mon" value="09:00-12:00, 13:00-18:00"' in new
    bad = await admin.post(f"{PAGES}/calendars/new", data={
        "name": "Office", "mon": "9-12", "tue": "09:00 – 12:00", "sat": "09:00-25:00"})
    assert bad.status_code == 422
    assert ('<small id="e-mon" class="field-error">write the hours as 09:00-12:00, '
            '13:00-18:00 (empty: closed)</small>') in bad.text
    assert 'id="e-tue"' not in bad.text and 'value="9-12"' in bad.text
    nameless = await admin.post(f"{PAGES}/calendars/new", data={"name": "", "mon": "9-12",
                                                                "tue": "09:00-18:00"})
    assert nameless.status_code == 422
    assert 'id="e-name" class="field-error">give the calendar a name' in nameless.text
    assert 'id="e-mon" class="field-error">' in nameless.text
    late = await admin.post(f"{PAGES}/calendars/new", data={
        "name": "Office", "mon": "09:00-12:00", "sat": "09:00-25:00", "timezone": ""})
    assert late.status_code == 422
    assert ('id="e-sat" class="field-error">25:00 is not a time of day (HH:MM, 00:00–24:00)'
            in late.text)
    created = await admin.post(f"{PAGES}/calendars/new", data={
        "name": "Office", "description": "HQ", "mon": "09:00-12:00，13:00 - 18:00",
        "tue": "9:00~18:00", "sat": "", "timezone": "Asia/Urumqi"})
    assert created.status_code == 303, created.text
    calendar_id = int(created.headers["location"].split("/")[-1].split("?")[0])
    calendar = (await admin.get(f"/api/v1/sla/calendars/{calendar_id}")).json()
    assert calendar["weekly_hours"]["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert calendar["weekly_hours"]["tue"] == [["09:00", "18:00"]]
    assert calendar["timezone"] == "Asia/Urumqi" and calendar["description"] == "HQ"

    zone = await admin.post(f"{PAGES}/calendars/{calendar_id}", data={
        "name": "Office", "mon": "09:00-18:00", "timezone": "Mars/Olympus", "year": "2026"})
    assert zone.status_code == 422
    assert 'id="e-timezone" class="field-error">Mars/Olympus is not a known timezone' in (
        zone.text)
    saved = await admin.post(f"{PAGES}/calendars/{calendar_id}", data={
        "name": "Office", "mon": "08:30-17:30", "fri": "08:30-12:00", "year": "2026"})
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGES}/calendars/{calendar_id}?year=2026&saved=hours"
    calendar = (await admin.get(f"/api/v1/sla/calendars/{calendar_id}")).json()
    assert calendar["weekly_hours"]["mon"] == [["08:30", "17:30"]]
    assert calendar["weekly_hours"]["tue"] == [] and calendar["timezone"] == ""
    listing = (await admin.get(f"{PAGES}/calendars")).text
    assert "Mon 08:30–17:30; Fri 08:30–12:00" in listing

    await make_calendar(admin, "Other")
    taken = await admin.post(f"{PAGES}/calendars/{calendar_id}", data={
        "name": "Other", "mon": "09:00-18:00"})
    assert taken.status_code == 409 and 'id="e-name" class="field-error"' in taken.text


async def test_days_are_added_and_removed_and_china_holidays_loaded(jimu_platform):
    _, admin = await english_admin(jimu_platform)
    calendar = await make_calendar(admin)
    page_path = f"{PAGES}/calendars/{calendar['id']}"

    loaded = await admin.post(f"{page_path}/china-holidays", data={"year": "2026"})
    assert loaded.status_code == 303
    assert loaded.headers["location"] == f"{page_path}?year=2026&saved=china"
    page = (await admin.get(page_path, params={"year": "2026", "saved": "china"})).text
    assert "China's public holidays and make-up working days of 2026 loaded." in page
    assert '<tr data-date="2026-10-01">' in page and "国庆节" in page
    assert '<tr data-date="2026-02-14">' in page and "Make-up working day" in page

    added = await admin.post(f"{page_path}/days", data={
        "date": "2026-12-24", "kind": "holiday", "name": "Company day", "year": "2026"})
    assert added.status_code == 303
    days = {d["date"]: d for d in (await admin.get(
        f"/api/v1/sla/calendars/{calendar['id']}")).json()["days"]}
    assert days["2026-12-24"] == {"date": "2026-12-24", "kind": "holiday",
                                  "name": "Company day"}
    assert days["2026-10-01"]["name"] == "国庆节"  # the rest of the year is kept
    # The same date again replaces it: a Saturday made a working day.
    await admin.post(f"{page_path}/days", data={"date": "2026-12-26", "kind": "workday"})
    await admin.post(f"{page_path}/days", data={"date": "2026-12-26", "kind": "holiday",
                                                "name": "Moved"})
    days = {d["date"]: d for d in (await admin.get(
        f"/api/v1/sla/calendars/{calendar['id']}")).json()["days"]}
    assert days["2026-12-26"]["kind"] == "holiday" and days["2026-12-26"]["name"] == "Moved"

    removed = await admin.post(f"{page_path}/days/remove", data={"date": "2026-12-24"})
    assert removed.status_code == 303
    assert removed.headers["location"] == f"{page_path}?year=2026&saved=removed"
    dates = [d["date"] for d in (await admin.get(
        f"/api/v1/sla/calendars/{calendar['id']}")).json()["days"]]
    assert "2026-12-24" not in dates and "2026-10-01" in dates

    bad = await admin.post(f"{page_path}/days", data={"date": "2026-02-30", "kind": "holiday",
                                                      "name": "Never", "year": "2026"})
    assert bad.status_code == 422
    assert ('<small id="e-date" class="field-error">give a date such as 2026-10-01</small>'
            in bad.text)
    assert 'value="Never"' in bad.text
    ancient = await admin.post(f"{page_path}/days", data={"date": "1999-10-01",
                                                          "kind": "holiday"})
    assert ancient.status_code == 422
    assert 'id="e-date" class="field-error">year must be between 2000 and 2100' in ancient.text
    kind = await admin.post(f"{page_path}/days", data={"date": "2026-03-02", "kind": "off"})
    assert kind.status_code == 422
    assert 'id="e-kind" class="field-error">kind must be holiday or workday' in kind.text

    later = (await admin.get(page_path, params={"year": "2027"})).text
    assert 'id="china-missing"' in later and "(bundled years: 2025, 2026)" in later
    assert 'id="china-form"' not in later
    assert "No holidays or make-up working days in 2027" in later
    refused = await admin.post(f"{page_path}/china-holidays", data={"year": "2027"})
    assert refused.status_code == 422
    assert "no public holidays of 2027 are shipped; available: 2025, 2026" in refused.text
    assert (await admin.get(page_path, params={"year": "twenty"})).status_code == 422


async def test_a_calendar_in_use_is_not_deleted(jimu_platform):
    _, admin = await english_admin(jimu_platform)
    calendar = await make_calendar(admin)
    await admin.post("/api/v1/sla/policies", json={
        "name": "Default", "resolution_minutes": 60, "calendar_id": calendar["id"]})
    refused = await admin.post(f"{PAGES}/calendars/{calendar['id']}/delete")
    assert refused.status_code == 409
    assert "the calendar is used by the policies Default" in refused.text
    spare = await make_calendar(admin, "Spare")
    gone = await admin.post(f"{PAGES}/calendars/{spare['id']}/delete")
    assert gone.status_code == 303
    assert gone.headers["location"] == f"{PAGES}/calendars?saved=deleted"
    assert [c["name"] for c in (await admin.get("/api/v1/sla/calendars")).json()] == ["工作日"]


# ----------------------------------------------------------------------------- clocks, report


async def publish(jimu_platform, tenant, event, work_order_id, **fields):
    payload = {"id": work_order_id, "number": f"WO-{work_order_id}", "type": "repair",
               "priority": "normal", "status": "open", "customer_id": None, "partner_id": None,
               "assignee_id": None, "team_id": None, **fields}
    async with jimu_platform.as_tenant(tenant):
        await platform().emit(f"work_order.{event}", payload)
    await jimu_platform.run_jobs()


async def test_open_clocks_nearest_to_breach_first(jimu_platform):
    jimu_platform.clock.freeze(dt.datetime(2026, 5, 11, 9, tzinfo=SH).astimezone(dt.UTC))
    tenant, admin = await english_admin(jimu_platform)
    await admin.post("/api/v1/sla/policies", json={"name": "Default", "response_minutes": 60,
                                                   "resolution_minutes": 240})
    await admin.post("/api/v1/sla/policies", json={"name": "Urgent", "priorities": ["urgent"],
                                                   "response_minutes": 30,
                                                   "resolution_minutes": 120})
    await publish(jimu_platform, tenant, "created", 1)
    await publish(jimu_platform, tenant, "created", 2, priority="urgent", type="complaint")
    await jimu_platform.advance(minutes=45)  # no. 2's response (30 min) is breached
    await publish(jimu_platform, tenant, "created", 3)
    await publish(jimu_platform, tenant, "updated", 3, status="waiting_customer")
    page = await admin.get(f"{PAGES}/clocks")
    assert page.status_code == 200, page.text
    text = page.text
    order = re.findall(r'href="/admin/p/work_orders/(\d+)">WO-\d+</a>', text)
    # 2's breached response, 1's response (due 10:00), 2's resolution (11:00),
    # 1's resolution (13:00), then 3's paused clocks.
    assert order == ["2", "1", "2", "1", "3", "3"]
    assert "6 open clocks" in text
    assert '<span class="badge urgent">Breached</span> 15 min over' in text
    assert text.count('<span class="badge off">Paused</span>') == 2
    assert '<progress value="100" max="100"' in text and "150%" in text  # 45 of 30 minutes
    only = (await admin.get(f"{PAGES}/clocks", params={"kind": "resolution"})).text
    assert re.findall(r'href="/admin/p/work_orders/(\d+)">', only) == ["2", "1", "3"]
    bad = await admin.get(f"{PAGES}/clocks", params={"kind": "lunch"})
    assert bad.status_code == 422 and 'id="e-kind" class="field-error"' in bad.text


async def test_the_report_draws_its_charts_and_shows_their_tables(jimu_platform):
    jimu_platform.clock.freeze(dt.datetime(2026, 5, 11, 9, tzinfo=SH).astimezone(dt.UTC))
    tenant, admin = await english_admin(jimu_platform)
    staff = await jimu_platform.make_user(tenant, "zhou-min")
    await admin.post("/api/v1/sla/policies", json={"name": "Default", "response_minutes": 60,
                                                   "resolution_minutes": 240})
    urgent = {"priority": "urgent", "type": "complaint"}
    await publish(jimu_platform, tenant, "created", 1, **urgent)
    await publish(jimu_platform, tenant, "created", 2)
    await jimu_platform.advance(minutes=30)
    await publish(jimu_platform, tenant, "assigned", 1, assignee_id=staff, **urgent)
    await jimu_platform.advance(minutes=20)  # 09:50: no. 2's response warned at 09:48
    await jimu_platform.advance(minutes=70)  # 11:00: and breached at 10:00
    await publish(jimu_platform, tenant, "completed", 1, assignee_id=staff,
                  status="completed", **urgent)  # resolved in 120 minutes
    await jimu_platform.advance(minutes=90)  # 12:30: no. 2's resolution warned at 12:12
    await jimu_platform.advance(days=7)  # the next week: and breached at 13:00
    await publish(jimu_platform, tenant, "created", 3)

    page = await admin.get(f"{PAGES}/report", params={"from": "2026-05-04",
                                                      "to": "2026-05-24"})
    assert page.status_code == 200, page.text
    text = page.text
    assert "echarts.common.min.js" in text
    assert 'data-chart="chart-weekly"' in text and 'data-chart="chart-priority"' in text
    weekly = chart(text, "chart-weekly")
    assert weekly["xAxis"]["data"] == ["05-04", "05-11", "05-18"]
    assert [(s["name"], s["stack"], s["data"]) for s in weekly["series"]] == [
        ("Met", "clocks", [0, 2, 0]), ("Breached", "clocks", [0, 2, 0]),
        ("Running", "clocks", [0, 0, 2])]
    assert table_rows(text, "table-weekly") == [
        ["2026-05-04 – 05-10", "0", "0", "0", "0", "—", "—"],
        ["2026-05-11 – 05-17", "2", "2", "0", "2", "50%", "2 h"],
        ["2026-05-18 – 05-24", "0", "0", "2", "0", "—", "—"]]
    by_priority = chart(text, "chart-priority")
    assert by_priority["xAxis"]["data"] == ["Urgent", "High", "Normal", "Low"]
    assert by_priority["series"][0]["data"] == [100.0, None, 0.0, None]
    assert table_rows(text, "table-priority")[0] == [
        "Urgent", "2", "0", "0", "0", "100%", "2 h"]
    by_type = chart(text, "chart-type")
    assert by_type["xAxis"]["data"] == ["complaint", "repair"]
    assert [r[0] for r in table_rows(text, "table-type")] == ["complaint", "repair"]
    assert 'id="total-compliance">50%' in text

    api = (await admin.get("/api/v1/sla/report", params={
        "from": "2026-05-04", "to": "2026-05-24", "group": "week"})).json()
    assert api["chart"]["categories"] == ["2026-05-04", "2026-05-11", "2026-05-18"]

    resolution = (await admin.get(f"{PAGES}/report", params={
        "from": "2026-05-04", "to": "2026-05-24", "kind": "resolution"})).text
    assert chart(resolution, "chart-weekly")["series"][1]["data"] == [0, 1, 0]

    default = await admin.get(f"{PAGES}/report")  # the last twelve weeks
    assert default.status_code == 200
    assert len(chart(default.text, "chart-weekly")["xAxis"]["data"]) == 12

    bad = await admin.get(f"{PAGES}/report", params={"from": "2026-13-01"})
    assert bad.status_code == 422
    assert '<small id="e-from" class="field-error">give a date such as 2026-10-01' in bad.text
    assert 'data-chart=' not in bad.text
    backwards = await admin.get(f"{PAGES}/report", params={"from": "2026-06-01",
                                                           "to": "2026-05-01"})
    assert backwards.status_code == 422
    assert 'id="e-from" class="field-error">from must not be after to' in backwards.text
    assert 'value="2026-06-01"' in backwards.text
