"""Priority rules: a new work order matching a rule is urgent the moment it exists, each
department of the rule is told once, bad rules are refused naming the field, and another
tenant's rules stay out of reach."""

from jimu_priority_rules import services
from jimu_work_orders import public as work_orders

PLUGINS = ["flow_nodes", "work_orders", "priority_rules"]


async def setup(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=PLUGINS)
    admin = await jimu_platform.login(tenant.admin_username)
    people = {}
    for team in ("客服部", "物流部"):
        user = await jimu_platform.make_user(tenant, f"{tenant.slug}-{team}")
        people[team] = user
        async with jimu_platform.as_tenant(tenant):
            await work_orders.ensure_team(team, members=[user])
    return tenant, admin, people


async def new_work_order(jimu_platform, tenant, **fields):
    async with jimu_platform.as_tenant(tenant):
        return await work_orders.create({"title": "空调不制冷", **fields})


async def test_a_large_order_is_urgent_at_once_and_departments_are_told(jimu_platform):
    tenant, admin, people = await setup(jimu_platform)
    answer = await admin.post("/api/v1/priority_rules/rules", json={
        "name": "大额订单", "condition": "amount > 5000", "priority": "urgent",
        "notify_teams": ["客服部", "物流部"]})
    assert answer.status_code == 201, answer.text
    small = await new_work_order(jimu_platform, tenant, amount="5000.00")
    large = await new_work_order(jimu_platform, tenant, amount="5000.01",
                                 assignee_id=people["物流部"])
    assert small["priority"] == "normal"
    assert large["priority"] == "urgent"  # in the creating transaction
    # Events after the change carry it: the last one a follower (SLA) applies says urgent.
    from jimu.db.tables import OutboxEvent  # tests only: the outbox is core's table

    async with jimu_platform.kernel.db.transaction():
        sent = await OutboxEvent.select(OutboxEvent.event_type, OutboxEvent.payload).output(
            load_json=True).where(OutboxEvent.event_type.like("work_order.%")).order_by(
            OutboxEvent.id)
    mine = [(e["event_type"], e["payload"]["priority"]) for e in sent
            if e["payload"]["id"] == large["id"]]
    assert mine[0] == ("work_order.created", "normal") and mine[-1][1] == "urgent", mine
    for team in people:
        client = await jimu_platform.login(f"{tenant.slug}-{team}")
        inbox = (await client.get("/api/v1/notifications")).json()
        assert inbox["unread"] == 1
        [item] = inbox["items"]
        assert item["level"] == "urgent" and item["link"] == f"/admin/p/work_orders/{large['id']}"
    # The event delivered again (at least once) tells nobody twice.
    async with jimu_platform.as_tenant(tenant):
        await services.apply({**large, "priority": "normal"})
    client = await jimu_platform.login(f"{tenant.slug}-客服部")
    assert (await client.get("/api/v1/notifications")).json()["unread"] == 1


async def test_bad_rules_are_refused_naming_the_field(jimu_platform):
    _, admin, _ = await setup(jimu_platform)
    cases = [({"condition": "amount >"}, "condition"),
             ({"priority": "low"}, "priority"),
             ({"notify_teams": ["没有这个部门"]}, "notify_teams"),
             ({"notify_users": [999999]}, "notify_users")]
    for change, field in cases:
        body = {"name": f"规则 {field}", "condition": "amount > 1", **change}
        answer = await admin.post("/api/v1/priority_rules/rules", json=body)
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["field"] == field
    ok = await admin.post("/api/v1/priority_rules/rules",
                          json={"name": "重名", "condition": "true"})
    assert ok.status_code == 201
    again = await admin.post("/api/v1/priority_rules/rules",
                             json={"name": "重名", "condition": "true"})
    assert again.status_code == 422 and again.json()["field"] == "name"


async def test_try_and_the_admin_page(jimu_platform):
    _, admin, _ = await setup(jimu_platform)
    await admin.post("/api/v1/priority_rules/rules", json={
        "name": "铂金客户", "condition": 'customer.level == "platinum"', "priority": "high"})
    tried = (await admin.post("/api/v1/priority_rules/try", json={"amount": "10"})).json()
    assert tried["matched"] == []
    tried = (await admin.post("/api/v1/priority_rules/try", json={
        "amount": "9000", "condition": "amount > 5000"})).json()
    assert [m["name"] for m in tried["matched"]] == ["…"]
    page = await admin.get("/admin/p/priority_rules/")
    assert page.status_code == 200 and "铂金客户" in page.text


async def test_another_tenants_rule_is_not_found(jimu_platform):
    _, admin, _ = await setup(jimu_platform)
    rule = (await admin.post("/api/v1/priority_rules/rules", json={
        "name": "甲", "condition": "true"})).json()
    _, other, _ = await setup(jimu_platform)
    assert (await other.get(f"/api/v1/priority_rules/rules/{rule['id']}")).status_code == 404
    assert (await other.delete(f"/api/v1/priority_rules/rules/{rule['id']}")).status_code == 404
