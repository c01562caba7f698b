"""The clocks against the real work orders plugin: its events, as it emits them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

work_orders = pytest.importorskip("jimu_work_orders.plugin")
flow_nodes = pytest.importorskip("jimu_flow_nodes.plugin")

from jimu_sla import plugin as sla_plugin  # noqa: E402

START = dt.datetime(2026, 5, 11, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BASE = "/api/v1/work_orders"


@pytest.fixture
def jimu_plugins():
    return [flow_nodes, work_orders, sla_plugin]


@pytest.fixture(autouse=True)
def attachment_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("JIMU_WORK_ORDERS_DIR", str(tmp_path / "attachments"))
    monkeypatch.delenv("JIMU_WORK_ORDERS_STORAGE", raising=False)


async def test_a_work_order_is_timed_from_creation_to_assignment(jimu_platform):
    jimu_platform.clock.freeze(START.astimezone(dt.UTC))
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes", "work_orders", "sla"])
    admin = await jimu_platform.login(tenant.admin_username)
    staff = await jimu_platform.make_user(tenant, "sla-wang")
    policy = await admin.post("/api/v1/sla/policies", json={
        "name": "紧急", "priorities": ["urgent"], "response_minutes": 120,
        "resolution_minutes": 480})
    assert policy.status_code == 201, policy.text
    made = await admin.post(BASE, json={"title": "冷库停机", "type": "repair",
                                         "priority": "urgent"})
    assert made.status_code == 201, made.text
    order = made.json()
    await jimu_platform.run_jobs()
    clocks = (await admin.get(f"/api/v1/sla/work-orders/{order['id']}")).json()
    assert (clocks["number"], clocks["priority"], clocks["policy_id"]) == (
        order["number"], "urgent", policy.json()["id"])
    states = {c["kind"]: (c["state"], c["due_at"]) for c in clocks["clocks"]}
    assert states == {"response": ("running", "2026-05-11T03:00:00Z"),
                      "resolution": ("running", "2026-05-11T09:00:00Z")}

    await jimu_platform.advance(minutes=40)
    assigned = await admin.patch(f"{BASE}/{order['id']}", json={"assignee_id": staff})
    assert assigned.status_code == 200, assigned.text
    await jimu_platform.run_jobs()
    clocks = {c["kind"]: c for c in (await admin.get(
        f"/api/v1/sla/work-orders/{order['id']}")).json()["clocks"]}
    assert (clocks["response"]["state"], clocks["response"]["consumed_minutes"]) == ("met", 40)
    assert clocks["resolution"]["state"] == "running"


async def test_the_work_order_shows_the_warning_and_takes_the_escalation(jimu_platform):
    jimu_platform.clock.freeze(START.astimezone(dt.UTC))
    tenant = await jimu_platform.make_tenant(plugins=["flow_nodes", "work_orders", "sla"])
    admin = await jimu_platform.login(tenant.admin_username)
    team = await admin.post(f"{BASE}/teams", json={"name": "升级处理组"})
    assert team.status_code == 201, team.text
    policy = await admin.post("/api/v1/sla/policies", json={
        "name": "一小时解决", "resolution_minutes": 60, "warn_percent": 50,
        "escalate_priority": "urgent", "reassign_to_team": team.json()["id"]})
    assert policy.status_code == 201, policy.text
    made = await admin.post(BASE, json={"title": "收银机黑屏", "type": "repair"})
    assert made.status_code == 201, made.text
    order = made.json()
    await jimu_platform.run_jobs()

    await jimu_platform.advance(minutes=31)
    await jimu_platform.run_jobs()
    warned = (await admin.get(f"{BASE}/{order['id']}")).json()
    assert (warned["sla_alert"], warned["sla_clock"]) == ("warning", "resolution")
    assert [e["detail"]["kind"] for e in warned["timeline"]
            if e["kind"] == "activity" and e["detail"]["kind"].startswith("sla_")] == [
        "sla_warning"]
    page = await admin.get(f"/admin/p/work_orders/{order['id']}")
    assert 'data-sla="warning"' in page.text

    await jimu_platform.advance(minutes=30)
    await jimu_platform.run_jobs()
    await jimu_platform.run_jobs()  # the escalation's own events come back round
    escalated = (await admin.get(f"{BASE}/{order['id']}")).json()
    assert (escalated["sla_alert"], escalated["priority"], escalated["team_id"]) == (
        "breached", "urgent", team.json()["id"])
    kinds = [e["detail"]["kind"] for e in escalated["timeline"] if e["kind"] == "activity"]
    assert kinds.count("sla_breached") == 1 and kinds.count("sla_escalated") == 1
