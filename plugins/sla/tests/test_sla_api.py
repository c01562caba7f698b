"""The /api/v1/sla routes: calendars, policies, the report, permissions and tenant walls."""

import datetime as dt
from zoneinfo import ZoneInfo

from jimu_sdk import platform

SH = ZoneInfo("Asia/Shanghai")
HOURS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


async def admin_of(jimu_platform, plugins=("sla",)):
    tenant = await jimu_platform.make_tenant(plugins=list(plugins))
    return tenant, await jimu_platform.login(tenant.admin_username)


async def make_calendar(admin, name="工作日", **extra):
    response = await admin.post("/api/v1/sla/calendars", json={
        "name": name, "weekly_hours": HOURS, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def fields(response):
    return [e["field"] for e in response.json()["errors"]]


# ----------------------------------------------------------------------------- calendars


async def test_calendar_with_china_holidays_and_edited_days(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    calendar = await make_calendar(admin, description="总部")
    assert calendar["timezone"] == "" and calendar["days"] == []
    assert calendar["weekly_hours"]["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert calendar["weekly_hours"]["sat"] == []
    loaded = await admin.post(f"/api/v1/sla/calendars/{calendar['id']}/china-holidays",
                              json={"year": 2026})
    assert loaded.status_code == 200, loaded.text
    days = {d["date"]: d for d in loaded.json()["days"]}
    assert days["2026-10-01"] == {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"}
    assert days["2026-02-14"]["kind"] == "workday"
    assert loaded.json()["years"] == [2026]
    # Labour day, then the make-up Saturday 9 May.
    due = await admin.get(f"/api/v1/sla/calendars/{calendar['id']}/due",
                          params={"start": "2026-04-30T17:00:00+08:00", "minutes": 120})
    assert due.status_code == 200, due.text
    assert due.json()["due_local"] == "2026-05-06 10:00"
    assert due.json()["due_at"] == "2026-05-06T02:00:00Z"
    # The admin moves the national day by hand: one year's days are replaced.
    edited = await admin.put(f"/api/v1/sla/calendars/{calendar['id']}/days", json={
        "year": 2026, "days": [{"date": "2026-10-01", "kind": "holiday", "name": "国庆"},
                               {"date": "2026-10-10", "kind": "workday"}]})
    assert edited.status_code == 200, edited.text
    assert [(d["date"], d["kind"]) for d in edited.json()["days"]] == [
        ("2026-10-01", "holiday"), ("2026-10-10", "workday")]
    listed = (await admin.get("/api/v1/sla/calendars")).json()
    assert [(c["name"], c["day_count"]) for c in listed] == [("工作日", 2)]
    shipped = (await admin.get("/api/v1/sla/holidays/china")).json()
    assert [y["year"] for y in shipped] == [2025, 2026]


async def test_bad_calendars_are_refused_naming_each_field(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    bad = await admin.post("/api/v1/sla/calendars", json={
        "name": "x", "weekly_hours": {"mon": [["09:00", "25:00"]]}})
    assert bad.status_code == 422 and fields(bad) == ["weekly_hours.mon[0]"]
    zone = await admin.post("/api/v1/sla/calendars", json={
        "name": "x", "weekly_hours": HOURS, "timezone": "Mars/Olympus"})
    assert zone.status_code == 422 and fields(zone) == ["timezone"]
    closed = await admin.post("/api/v1/sla/calendars", json={"name": "x", "weekly_hours": {}})
    assert closed.status_code == 422 and fields(closed) == ["weekly_hours"]
    calendar = await make_calendar(admin)
    twice = await admin.post("/api/v1/sla/calendars", json={"name": "工作日",
                                                             "weekly_hours": HOURS})
    assert twice.status_code == 409 and twice.json()["field"] == "name"
    days = await admin.put(f"/api/v1/sla/calendars/{calendar['id']}/days", json={
        "year": 2026, "days": [{"date": "2025-12-31", "kind": "holiday"},
                               {"date": "2026-03-01", "kind": "day-off"},
                               {"date": "2026-03-02", "kind": "holiday"},
                               {"date": "2026-03-02", "kind": "holiday"}]})
    assert days.status_code == 422
    assert fields(days) == ["days[0].date", "days[1].kind", "days[3].date"]
    missing = await admin.post(f"/api/v1/sla/calendars/{calendar['id']}/china-holidays",
                               json={"year": 2027})
    assert missing.status_code == 422 and missing.json()["field"] == "year"
    assert "2025, 2026" in missing.json()["message"]


async def test_a_calendar_in_use_cannot_be_deleted(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    calendar = await make_calendar(admin)
    policy = await admin.post("/api/v1/sla/policies", json={
        "name": "默认", "response_minutes": 60, "calendar_id": calendar["id"]})
    refused = await admin.delete(f"/api/v1/sla/calendars/{calendar['id']}")
    assert refused.status_code == 409 and "默认" in refused.json()["message"]
    assert (await admin.delete(f"/api/v1/sla/policies/{policy.json()['id']}")).status_code == 204
    assert (await admin.delete(f"/api/v1/sla/calendars/{calendar['id']}")).status_code == 204
    assert (await admin.get(f"/api/v1/sla/calendars/{calendar['id']}")).status_code == 404


# ----------------------------------------------------------------------------- policies


async def test_policies_are_validated_naming_each_field(jimu_platform):
    _, admin = await admin_of(jimu_platform)
    bad = await admin.post("/api/v1/sla/policies", json={
        "name": "x", "priorities": ["critical"], "customer_levels": ["vip"],
        "calendar_id": 999_999, "escalate_user_ids": [999_999], "escalate_priority": "asap"})
    assert bad.status_code == 422
    assert fields(bad) == ["resolution_minutes", "priorities[0]", "customer_levels[0]",
                           "calendar_id", "escalate_priority", "escalate_user_ids[0]"]
    bounds = await admin.post("/api/v1/sla/policies", json={"name": "x", "warn_percent": 100,
                                                            "response_minutes": 60})
    assert bounds.status_code == 400 and bounds.json()["error"] == "invalid_request"


async def test_the_most_specific_policy_wins_and_changes_are_audited(jimu_platform):
    _, admin = await admin_of(jimu_platform)

    async def create(**body):
        response = await admin.post("/api/v1/sla/policies", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    default = await create(name="默认", response_minutes=240, resolution_minutes=1440)
    urgent = await create(name="紧急", priorities=["urgent"], response_minutes=120,
                          resolution_minutes=480, position=20)
    complaint = await create(name="投诉", types=["complaint"], resolution_minutes=360,
                             position=10)
    vip_urgent = await create(name="铂金紧急", priorities=["urgent"],
                              customer_levels=["platinum"], response_minutes=30,
                              resolution_minutes=240)

    async def match(**query):
        found = (await admin.get("/api/v1/sla/policies/match", params=query)).json()
        return found and found["name"]

    assert await match(priority="normal", type="repair") == "默认"
    assert await match(priority="urgent", type="repair") == "紧急"
    assert await match(priority="urgent", type="complaint") == "投诉"  # a tie: position
    assert await match(priority="urgent", type="complaint",
                       customer_level="platinum") == "铂金紧急"
    disabled = await admin.put(f"/api/v1/sla/policies/{vip_urgent['id']}", json={
        "name": "铂金紧急", "priorities": ["urgent"], "customer_levels": ["platinum"],
        "response_minutes": 30, "enabled": False})
    assert disabled.status_code == 200 and disabled.json()["resolution_minutes"] is None
    assert await match(priority="urgent", customer_level="platinum") == "紧急"
    listed = [p["name"] for p in (await admin.get("/api/v1/sla/policies")).json()]
    assert listed == ["投诉", "紧急", "默认", "铂金紧急"]
    assert {default["id"], urgent["id"], complaint["id"]} <= {
        p["id"] for p in (await admin.get("/api/v1/sla/policies")).json()}
    audit = (await admin.get("/api/v1/audit", params={"action": "sla.policy"})).json()
    assert [e["action"] for e in audit["items"]][:2] == ["sla.policy.update",
                                                         "sla.policy.create"]
    assert audit["items"][0]["before"]["enabled"] is True
    assert audit["items"][0]["after"]["enabled"] is False


# ----------------------------------------------------------------------------- the report


async def test_the_compliance_report_counts_met_breached_and_running(jimu_platform):
    tenant, admin = await admin_of(jimu_platform)
    jimu_platform.clock.freeze(dt.datetime(2026, 5, 11, 9, tzinfo=SH).astimezone(dt.UTC))
    staff = await jimu_platform.make_user(tenant, "zhou-min")
    # Around the clock: 1 h to respond, 4 h to resolve.
    await admin.post("/api/v1/sla/policies", json={"name": "默认", "response_minutes": 60,
                                                   "resolution_minutes": 240})

    async def publish(event, work_order_id, **fields):
        payload = {"id": work_order_id, "number": f"WO-{work_order_id}", "type": "repair",
                   "priority": "normal", "status": "open", "customer_id": None,
                   "partner_id": None, "assignee_id": None, "team_id": None, **fields}
        async with jimu_platform.as_tenant(tenant):
            await platform().emit(f"work_order.{event}", payload)
        await jimu_platform.run_jobs()

    urgent = {"priority": "urgent", "type": "complaint"}
    await publish("created", 1, **urgent)
    await publish("created", 2)
    await publish("created", 4, priority="low")
    await publish("cancelled", 4, priority="low", status="cancelled")
    await jimu_platform.advance(minutes=30)
    await publish("assigned", 1, assignee_id=staff, **urgent)  # response met: 30 min
    await jimu_platform.advance(minutes=20)  # 09:50: no. 2's response warned at 09:48
    await jimu_platform.advance(minutes=70)  # 11:00: and breached at 10:00
    await publish("completed", 1, assignee_id=staff, status="completed", **urgent)  # 120 min
    await publish("created", 3)
    await jimu_platform.advance(minutes=10)
    await publish("assigned", 3, assignee_id=staff)
    await jimu_platform.advance(minutes=90)  # 12:40: no. 2's resolution warned at 12:12
    await jimu_platform.advance(minutes=80)  # 14:00: and breached at 13:00
    await publish("completed", 2, status="completed")  # resolved late: 300 min

    report = await admin.get("/api/v1/sla/report", params={"from": "2026-05-01",
                                                            "to": "2026-05-31"})
    assert report.status_code == 200, report.text
    body = report.json()
    rows = {r["key"]: r for r in body["rows"]}
    assert [r["key"] for r in body["rows"]] == ["urgent", "high", "normal", "low"]
    assert {k: rows["urgent"][k] for k in ("met", "breached", "running", "compliance_pct",
                                           "avg_resolution_minutes")} == {
        "met": 2, "breached": 0, "running": 0, "compliance_pct": 100.0,
        "avg_resolution_minutes": 120.0}
    assert {k: rows["normal"][k] for k in ("met", "breached", "running", "warned",
                                           "compliance_pct", "avg_resolution_minutes")} == {
        "met": 1, "breached": 2, "running": 1, "warned": 2, "compliance_pct": 33.3,
        "avg_resolution_minutes": 300.0}
    assert rows["low"]["total"] == 0 and rows["low"]["compliance_pct"] is None
    assert rows["urgent"]["label"] == {"zh-CN": "紧急", "en": "Urgent"}
    assert body["totals"] == {"total": 6, "met": 3, "breached": 2, "running": 1, "warned": 2,
                              "compliance_pct": 60.0, "resolved": 2,
                              "avg_resolution_minutes": 210.0}
    assert body["chart"]["categories"] == ["urgent", "high", "normal", "low"]
    series = {s["key"]: s["data"] for s in body["chart"]["series"]}
    assert series == {"met": [2, 0, 1, 0], "breached": [0, 0, 2, 0], "running": [0, 0, 1, 0],
                      "compliance_pct": [100.0, None, 33.3, None]}

    by_type = (await admin.get("/api/v1/sla/report", params={
        "from": "2026-05-01", "to": "2026-05-31", "group": "type",
        "kind": "resolution"})).json()
    assert [(r["key"], r["met"], r["breached"], r["running"]) for r in by_type["rows"]] == [
        ("complaint", 1, 0, 0), ("repair", 0, 1, 1)]
    by_month = (await admin.get("/api/v1/sla/report", params={
        "from": "2026-04-15", "to": "2026-05-31", "group": "month"})).json()
    assert by_month["chart"]["categories"] == ["2026-04", "2026-05"]
    assert [r["total"] for r in by_month["rows"]] == [0, 6]
    assert (await admin.get("/api/v1/sla/report")).json()["totals"]["total"] == 6  # 30 days
    bad = await admin.get("/api/v1/sla/report", params={"group": "colour"})
    assert bad.status_code == 422 and bad.json()["field"] == "group"
    backwards = await admin.get("/api/v1/sla/report", params={"from": "2026-06-01",
                                                               "to": "2026-05-01"})
    assert backwards.status_code == 422 and backwards.json()["field"] == "from"

    breached = (await admin.get("/api/v1/sla/work-orders", params={"state": "breached"})).json()
    assert [w["id"] for w in breached["items"]] == [2] and breached["total"] == 1
    running = (await admin.get("/api/v1/sla/work-orders", params={"state": "running"})).json()
    assert [w["id"] for w in running["items"]] == [3]
    everything = (await admin.get("/api/v1/sla/work-orders")).json()
    assert [w["id"] for w in everything["items"]] == [4, 3, 2, 1]


# ----------------------------------------------------------------------------- access


async def test_another_tenants_records_are_not_found(jimu_platform):
    tenant_a, admin_a = await admin_of(jimu_platform)
    _, admin_b = await admin_of(jimu_platform)
    calendar = await make_calendar(admin_a)
    policy = (await admin_a.post("/api/v1/sla/policies", json={
        "name": "默认", "response_minutes": 60, "calendar_id": calendar["id"]})).json()
    async with jimu_platform.as_tenant(tenant_a):
        await platform().emit("work_order.created", {"id": 77, "number": "WO-77",
                                                     "type": "repair", "priority": "normal",
                                                     "status": "open"})
    await jimu_platform.run_jobs()
    assert (await admin_a.get("/api/v1/sla/work-orders/77")).status_code == 200
    for path in ("/api/v1/sla/work-orders/77", f"/api/v1/sla/calendars/{calendar['id']}",
                 f"/api/v1/sla/calendars/{calendar['id']}/due",
                 f"/api/v1/sla/policies/{policy['id']}"):
        assert (await admin_b.get(path)).status_code == 404, path
    change = await admin_b.put(f"/api/v1/sla/policies/{policy['id']}",
                               json={"name": "偷改", "response_minutes": 1})
    assert change.status_code == 404
    borrow = await admin_b.post("/api/v1/sla/policies", json={
        "name": "借用", "response_minutes": 60, "calendar_id": calendar["id"]})
    assert borrow.status_code == 422 and borrow.json()["field"] == "calendar_id"
    assert (await admin_b.get("/api/v1/sla/work-orders")).json()["items"] == []
    assert (await admin_b.get("/api/v1/sla/report")).json()["totals"]["total"] == 0


async def test_staff_read_admins_change_and_a_tenant_without_the_plugin_sees_nothing(
        jimu_platform):
    tenant, _admin = await admin_of(jimu_platform)
    await jimu_platform.make_user(tenant, "staffer", role="staff")
    staff = await jimu_platform.login("staffer")
    assert (await staff.get("/api/v1/sla/policies")).status_code == 200
    refused = await staff.post("/api/v1/sla/policies", json={"name": "x",
                                                             "response_minutes": 5})
    assert refused.status_code == 403 and "sla.admin" in refused.json()["message"]
    _, other = await admin_of(jimu_platform, plugins=())
    assert (await other.get("/api/v1/sla/policies")).status_code == 404


async def test_demo_data_has_the_holiday_calendar_and_the_seed_policies(jimu_platform):
    tenant, admin = await admin_of(jimu_platform)
    seeder = jimu_platform.kernel.plugins.plugins["sla"].contributions["register_demo_data"]
    async with jimu_platform.as_tenant(tenant):
        await seeder(tenant.id)
    [calendar] = (await admin.get("/api/v1/sla/calendars")).json()
    assert calendar["name"] == "工作日 9:00–18:00 (含法定节假日)"
    detail = (await admin.get(f"/api/v1/sla/calendars/{calendar['id']}")).json()
    assert detail["years"] == [2026] and len(detail["days"]) == 39
    policies = {p["name"]: p for p in (await admin.get("/api/v1/sla/policies")).json()}
    assert {(p["response_minutes"], p["resolution_minutes"]) for p in policies.values()} == {
        (120, 360), (120, 1440), (120, None), (120, 480), (240, 1440)}
    complaint = (await admin.get("/api/v1/sla/policies/match",
                                 params={"type": "complaint"})).json()
    assert complaint["resolution_minutes"] == 360
