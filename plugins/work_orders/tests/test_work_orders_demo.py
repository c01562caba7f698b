"""The demo data: teams, the repair flow and work orders in different states."""

from jimu_work_orders import demo
from work_orders_support import BASE, PLUGINS


async def test_demo_gives_teams_and_work_orders_in_every_state(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=PLUGINS)
    await jimu_platform.make_user(tenant, "demo-installer")
    admin = await jimu_platform.login(tenant.admin_username)
    suzhou = (await admin.post("/api/v1/partners", json={
        "code": "SZ-INST-01", "name": "苏州吴中安装服务商", "kind": "installer",
        "region_code": "320506"})).json()
    await jimu_platform.make_user(tenant, "suzhou-installer", role="partner",
                                  partner_id=suzhou["id"])
    async with jimu_platform.as_tenant(tenant):
        await demo.seed(tenant.id)
    teams = (await admin.get(f"{BASE}/teams")).json()
    assert [t["name"] for t in teams] == ["上海服务组", "北京安装一组", "苏州吴中安装服务商"]
    orders = (await admin.get(BASE, params={"sort": "id"})).json()["items"]
    assert len(orders) == 7
    states = [(o["title"], o["status"], o["node_id"]) for o in orders]
    assert [s for _, s, _ in states] == [
        "open", "in_progress", "waiting_customer", "completed", "open", "cancelled",
        "completed"]
    assert [n for _, _, n in states][:5] == ["repair", "repair", "confirm", "done", "manual"]
    # The Suzhou installer's own repair, done by its own people.
    assert orders[6]["assignee_id"] is not None and orders[6]["node_id"] == "done"
    assert {o["priority"] for o in orders} == {"urgent", "high", "normal", "low"}
    assert orders[0]["amount"] == "8800.00"
    assert orders[4]["scheduled_at"] is not None
    photos = (await admin.get(f"{BASE}/attachments")).json()["items"]
    assert len(photos) == 3 and {p["content_type"] for p in photos} == {"image/png"}


async def test_cancelling_ends_the_run_too(jimu_platform):
    from work_orders_support import create, outbox, world

    here = await world(jimu_platform)
    order = await create(here.admin, customer_id=here.customers["李强"])
    cancelled = await here.admin.post(f"{BASE}/{order['id']}/cancel",
                                      json={"reason": "客户取消"})
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["run_status"], body["cancelled_at"] is not None) == (
        "cancelled", "cancelled", True)
    again = await here.admin.post(f"{BASE}/{order['id']}/cancel", json={})
    assert again.status_code == 409
    assert [k for k, _ in await outbox(jimu_platform)][-1] == "work_order.cancelled"


