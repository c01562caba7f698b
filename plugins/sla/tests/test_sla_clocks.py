"""SLA clocks driven by work_order.* events and durable timers, on the platform's clock.

Times are Shanghai wall-clock times on a calendar of 09:00–12:00 and 13:00–18:00, Monday to
Friday, with China's 2026 public holidays. Monday 2026-05-11 09:00 is where each test starts.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from jimu_sdk import DomainEvent, platform
from jimu_sla import clocks
from jimu_sla.tables import Clock

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)
HOURS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def sh(day: int, hour: int, minute: int = 0, month: int = 5) -> str:
    """A Shanghai time of 2026 as the API writes it (UTC, ISO 8601 with Z)."""
    moment = dt.datetime(2026, month, day, hour, minute, tzinfo=SH).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def work_order(work_order_id: int = 1, **fields):
    """The payload every work_order.* event of the work orders plugin carries."""
    return {"id": work_order_id, "number": f"WO-20260511-{work_order_id:04d}", "type": "repair",
            "priority": "normal", "status": "open", "customer_id": None, "partner_id": None,
            "region_code": None, "assignee_id": None, "team_id": None, "amount": None,
            "currency": "CNY", "run_id": None, "flow": "wo-repair", "node_id": "start",
            **fields}


class World:
    def __init__(self, jimu_platform, tenant, admin):
        self.platform, self.tenant, self.admin = jimu_platform, tenant, admin

    async def publish(self, event, work_order_id=1, **fields):
        async with self.platform.as_tenant(self.tenant):
            await platform().emit(f"work_order.{event}", work_order(work_order_id, **fields))
        await self.platform.run_jobs()

    async def advance(self, **delta):
        await self.platform.advance(**delta)

    async def clocks(self, work_order_id=1):
        response = await self.admin.get(f"/api/v1/sla/work-orders/{work_order_id}")
        assert response.status_code == 200, response.text
        return {c["kind"]: c for c in response.json()["clocks"]}

    async def events(self, event_type):
        from jimu.db.tables import OutboxEvent

        async with self.platform.kernel.db.transaction():
            rows = await OutboxEvent.select(OutboxEvent.payload).output(load_json=True).where(
                (OutboxEvent.event_type == event_type)
                & (OutboxEvent.tenant_id == self.tenant.id)).order_by(OutboxEvent.id)
        return [r["payload"] for r in rows]

    async def inbox(self, username):
        client = await self.platform.login(username)
        return (await client.get("/api/v1/notifications")).json()["items"]


async def make_world(jimu_platform, **policy):
    jimu_platform.clock.freeze(START.astimezone(dt.UTC))
    tenant = await jimu_platform.make_tenant(plugins=["sla"])
    admin = await jimu_platform.login(tenant.admin_username)
    calendar = await admin.post("/api/v1/sla/calendars", json={
        "name": "工作日", "weekly_hours": HOURS})
    assert calendar.status_code == 201, calendar.text
    loaded = await admin.post(f"/api/v1/sla/calendars/{calendar.json()['id']}/china-holidays",
                              json={"year": 2026})
    assert loaded.status_code == 200, loaded.text
    body = {"name": "默认", "response_minutes": 240, "resolution_minutes": 1440,
            "calendar_id": calendar.json()["id"], "escalate_roles": ["admin"], **policy}
    created = await admin.post("/api/v1/sla/policies", json=body)
    assert created.status_code == 201, created.text
    world = World(jimu_platform, tenant, admin)
    world.calendar_id = calendar.json()["id"]
    world.policy = created.json()
    return world


async def test_plugin_is_installed(jimu_platform):
    assert "sla" in jimu_platform.kernel.plugins.plugins


async def test_a_new_work_order_gets_a_response_and_a_resolution_clock(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=120, resolution_minutes=480)
    await world.publish("created")
    found = await world.clocks()
    assert found["response"]["state"] == found["resolution"]["state"] == "running"
    assert found["response"]["due_at"] == sh(11, 11)
    assert found["response"]["warn_at"] == sh(11, 10, 36)  # 80% of 2 h
    assert found["resolution"]["due_at"] == sh(11, 18)  # 3 h before lunch, 5 h after
    assert (found["response"]["consumed_minutes"], found["response"]["remaining_minutes"]) == (
        0, 120)
    await world.advance(hours=1, minutes=30)
    found = await world.clocks()
    assert (found["response"]["consumed_minutes"], found["response"]["remaining_minutes"]) == (
        90, 30)
    assert found["response"]["policy_name"] == "默认"


async def test_the_response_clock_is_met_when_someone_is_assigned(jimu_platform):
    world = await make_world(jimu_platform)
    staff = await jimu_platform.make_user(world.tenant, "zhang-wei")
    await world.publish("created")
    await world.advance(minutes=45)
    await world.publish("assigned", assignee_id=staff)
    found = await world.clocks()
    assert found["response"]["state"] == "met"
    assert found["response"]["consumed_minutes"] == 45
    assert found["response"]["stopped_at"] == sh(11, 9, 45)
    assert found["resolution"]["state"] == "running"
    await world.advance(hours=8)  # long past the response due time: nothing fires
    assert await world.events("sla.breached") == []
    assert (await world.clocks())["response"]["state"] == "met"


async def test_a_work_order_created_with_an_assignee_has_met_its_response(jimu_platform):
    world = await make_world(jimu_platform)
    staff = await jimu_platform.make_user(world.tenant, "li-na")
    await world.publish("created", assignee_id=staff)
    found = await world.clocks()
    assert found["response"]["state"] == "met" and found["response"]["consumed_minutes"] == 0
    assert found["resolution"]["state"] == "running"


async def test_the_warning_at_80_percent_tells_the_assignee(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=60, resolution_minutes=480)
    staff = await jimu_platform.make_user(world.tenant, "wang-fang")
    await world.publish("created", assignee_id=staff, status="in_progress")
    # 80% of 8 h is 6 h 24 min: 09:00–12:00, then 13:00 + 3 h 24 min = 16:24.
    assert (await world.clocks())["resolution"]["warn_at"] == sh(11, 16, 24)
    await world.advance(hours=7, minutes=23)
    assert await world.events("sla.warning") == []
    await world.advance(minutes=1)
    [warning] = await world.events("sla.warning")
    assert warning == {"work_order_id": 1, "number": "WO-20260511-0001",
                       "clock": "resolution", "clock_id": warning["clock_id"],
                       "due_at": "2026-05-11T10:00:00+00:00", "target_minutes": 480,
                       "policy_id": world.policy["id"], "policy": "默认",
                       "assignee_id": staff}
    [notice] = await world.inbox("wang-fang")
    assert (notice["level"], notice["link"]) == ("warning", "/admin/p/work_orders/1")
    assert "WO-20260511-0001" in notice["title"]
    assert (await world.clocks())["resolution"]["warned"] is True
    assert await world.inbox(world.tenant.admin_username) == []


async def test_a_breach_notifies_the_escalation_people_and_asks_for_escalation(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=120, escalate_priority="high",
                             reassign_to_team=7)
    boss = await jimu_platform.make_user(world.tenant, "zhao-jun")
    await world.admin.put(f"/api/v1/sla/policies/{world.policy['id']}", json={
        **{k: world.policy[k] for k in ("name", "response_minutes", "resolution_minutes",
                                        "calendar_id", "escalate_roles", "escalate_priority",
                                        "reassign_to_team")},
        "escalate_user_ids": [boss]})
    await world.publish("created")
    await world.advance(hours=1, minutes=36)  # 96 min: the response warning (no assignee)
    [warning] = await world.events("sla.warning")
    assert warning["clock"] == "response" and warning["assignee_id"] is None
    await world.advance(minutes=24)  # 11:00: the response is due
    [breach] = await world.events("sla.breached")
    assert breach["clock"] == "response" and breach["due_at"] == "2026-05-11T03:00:00+00:00"
    assert breach["escalation"] == {"roles": ["admin"], "user_ids": [boss], "priority": "high",
                                    "team_id": 7}
    assert await world.events("sla.escalate") == [{
        "work_order_id": 1, "priority": "high", "team_id": 7, "clock": "response",
        "policy_id": world.policy["id"], "reason": "sla.breached"}]
    for person in (world.tenant.admin_username, "zhao-jun"):
        levels = [(n["level"], n["link"]) for n in await world.inbox(person)]
        assert levels == [("urgent", "/admin/p/work_orders/1"),
                          ("warning", "/admin/p/work_orders/1")]
    found = await world.clocks()
    assert found["response"]["state"] == "breached"
    assert found["response"]["breached_at"] == sh(11, 11)
    await world.advance(minutes=30)
    found = await world.clocks()
    assert (found["response"]["overdue_minutes"], found["response"]["remaining_minutes"]) == (
        30, 0)
    # Assigned late: the clock stays breached and stops counting.
    await world.publish("assigned", assignee_id=boss)
    found = await world.clocks()
    assert found["response"]["state"] == "breached" and found["response"]["stopped_at"]
    assert len(await world.events("sla.breached")) == 1


async def test_escalation_never_lowers_a_priority(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=60, escalate_priority="high")
    await world.publish("created", priority="urgent")
    await world.advance(hours=2)
    assert len(await world.events("sla.breached")) == 1
    assert await world.events("sla.escalate") == []


async def test_waiting_for_the_customer_pauses_the_clock_exactly(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=30, resolution_minutes=480)
    staff = await jimu_platform.make_user(world.tenant, "chen-jie")
    await world.publish("created", assignee_id=staff, status="in_progress")
    await world.advance(hours=1)  # 10:00, 60 min used
    await world.publish("moved", assignee_id=staff, status="waiting_customer")
    paused = (await world.clocks())["resolution"]
    assert paused["state"] == "paused" and paused["due_at"] is None
    assert (paused["consumed_minutes"], paused["remaining_minutes"]) == (60, 420)
    await world.advance(days=3)  # Thursday 10:00: long past Monday's 18:00, nothing fired
    assert await world.events("sla.warning") == [] == await world.events("sla.breached")
    assert (await world.clocks())["resolution"]["consumed_minutes"] == 60
    await world.publish("moved", assignee_id=staff, status="in_progress")
    resumed = (await world.clocks())["resolution"]
    # 420 min from Thursday 10:00: 2 h before lunch, 5 h after.
    assert resumed["state"] == "running" and resumed["due_at"] == sh(14, 18)
    # The warning point, 384 min in: 324 min after Thursday 10:00 is 16:24.
    assert resumed["warn_at"] == sh(14, 16, 24)
    await world.advance(hours=6, minutes=24)
    assert [w["clock"] for w in await world.events("sla.warning")] == ["resolution"]
    await world.advance(hours=1, minutes=36)
    [breach] = await world.events("sla.breached")
    assert breach["due_at"] == "2026-05-14T10:00:00+00:00"


async def test_completion_meets_the_resolution_clock(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=60, resolution_minutes=480)
    await world.publish("created")
    await world.advance(minutes=20)
    await world.publish("assigned", assignee_id=None, status="in_progress")
    await world.advance(hours=3)  # 12:20 (lunch): 3 h of business time used
    await world.publish("completed", status="completed")
    found = await world.clocks()
    assert (found["response"]["state"], found["response"]["consumed_minutes"]) == ("met", 20)
    assert (found["resolution"]["state"], found["resolution"]["consumed_minutes"]) == (
        "met", 180)
    await world.advance(days=2)
    assert await world.events("sla.breached") == []


async def test_cancelling_stops_every_clock(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=60)
    await world.publish("created")
    await world.publish("cancelled", status="cancelled")
    found = await world.clocks()
    assert found["response"]["state"] == found["resolution"]["state"] == "cancelled"
    await world.advance(days=5)
    assert await world.events("sla.warning") == [] == await world.events("sla.breached")


async def test_a_priority_change_rematches_the_policy_and_keeps_the_time_used(jimu_platform):
    world = await make_world(jimu_platform)  # default: 4 h response
    urgent = await world.admin.post("/api/v1/sla/policies", json={
        "name": "紧急", "priorities": ["urgent"], "response_minutes": 120,
        "resolution_minutes": 480, "calendar_id": world.calendar_id})
    await world.publish("created")
    await world.advance(minutes=90)
    await world.publish("updated", priority="urgent")
    found = await world.clocks()
    assert found["response"]["policy_id"] == urgent.json()["id"]
    assert (found["response"]["consumed_minutes"], found["response"]["remaining_minutes"]) == (
        90, 30)
    assert found["response"]["due_at"] == sh(11, 11)
    # The old generation's timers are gone: only the new due time fires, once.
    await world.advance(minutes=31)
    [breach] = await world.events("sla.breached")
    assert breach["policy"] == "紧急"
    await world.advance(hours=3)
    assert len(await world.events("sla.breached")) == 1


async def test_the_customer_level_comes_from_the_customer(jimu_platform):
    world = await make_world(jimu_platform)
    vip = await world.admin.post("/api/v1/sla/policies", json={
        "name": "铂金客户", "customer_levels": ["platinum"], "response_minutes": 30,
        "resolution_minutes": 240})
    customer = await world.admin.post("/api/v1/customers", json={"name": "刘总",
                                                                 "level": "platinum"})
    await world.publish("created", customer_id=customer.json()["id"])
    detail = (await world.admin.get("/api/v1/sla/work-orders/1")).json()
    assert detail["customer_level"] == "platinum" and detail["policy_id"] == vip.json()["id"]
    # No calendar on that policy: around the clock.
    assert (await world.clocks())["response"]["due_at"] == sh(11, 9, 30)


async def test_redelivered_events_and_duplicate_timers_change_nothing(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=60)
    await world.publish("created")
    await world.publish("moved", status="waiting_customer")
    from jimu.db.tables import OutboxEvent

    async with jimu_platform.kernel.db.transaction():
        created, moved = [DomainEvent(id=r["id"], tenant_id=world.tenant.id,
                                      type=r["event_type"], payload=r["payload"],
                                      occurred_at=r["created_at"])
                          for r in await OutboxEvent.select().output(load_json=True).where(
                              OutboxEvent.event_type.like("work_order.%")).order_by(
                              OutboxEvent.id)]
    async with jimu_platform.as_tenant(world.tenant):
        clock = await Clock.scoped_select().where(Clock.kind == "response").first()
        assert (clock["status"], clock["generation"]) == ("paused", 1)
        await clocks.on_work_order_event(moved)  # delivered again
        await clocks.on_work_order_event(created)  # an older event, late
        again = await Clock.scoped_select().where(Clock.id == clock["id"]).first()
    assert again == clock
    await world.advance(minutes=10)
    await world.publish("moved", status="open")  # resumes: generation 2
    await world.advance(minutes=48)  # 80% of 60 min
    assert len(await world.events("sla.warning")) == 1
    async with jimu_platform.as_tenant(world.tenant):
        await clocks.warn(tenant_id=world.tenant.id, clock_id=clock["id"], generation=2)
        await clocks.breach(tenant_id=world.tenant.id, clock_id=clock["id"], generation=1)
    assert len(await world.events("sla.warning")) == 1
    assert await world.events("sla.breached") == []
    await world.advance(minutes=12)
    assert len(await world.events("sla.breached")) == 1
    async with jimu_platform.as_tenant(world.tenant):
        await clocks.breach(tenant_id=world.tenant.id, clock_id=clock["id"], generation=2)
    assert len(await world.events("sla.breached")) == 1
    assert len(await world.inbox(world.tenant.admin_username)) == 2  # warning, breach


async def test_a_created_event_handled_after_the_assignment_still_starts_the_clocks(
        jimu_platform):
    world = await make_world(jimu_platform, response_minutes=60)
    staff = await jimu_platform.make_user(world.tenant, "sun-li")
    now = jimu_platform.clock.now()
    async with jimu_platform.as_tenant(world.tenant):
        await clocks.on_work_order_event(DomainEvent(
            id=20_001, tenant_id=world.tenant.id, type="work_order.assigned",
            payload=work_order(assignee_id=staff), occurred_at=now + dt.timedelta(seconds=1)))
        assert await Clock.scoped_count() == 0  # not known to be new yet
    async with jimu_platform.as_tenant(world.tenant):
        await clocks.on_work_order_event(DomainEvent(
            id=20_000, tenant_id=world.tenant.id, type="work_order.created",
            payload=work_order(), occurred_at=now))
    found = await world.clocks()
    assert found["response"]["state"] == "met"
    assert found["resolution"]["state"] == "running"
    assert found["resolution"]["started_at"] == sh(11, 9)


async def test_a_work_order_from_before_the_plugin_gets_no_clocks(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=60)
    await world.publish("updated", priority="high")
    detail = (await world.admin.get("/api/v1/sla/work-orders/1")).json()
    assert detail["timed"] is False and detail["clocks"] == []
    await world.publish("updated", priority="urgent")
    assert (await world.admin.get("/api/v1/sla/work-orders/1")).json()["clocks"] == []


async def test_editing_the_calendar_re_times_running_clocks(jimu_platform):
    world = await make_world(jimu_platform, response_minutes=120, resolution_minutes=480)
    await world.publish("created")
    assert (await world.clocks())["resolution"]["due_at"] == sh(11, 18)
    # Monday becomes a day off by hand: the 8 h are counted from Tuesday morning.
    days = [{"date": "2026-05-11", "kind": "holiday", "name": "公司活动"}]
    answer = await world.admin.put(f"/api/v1/sla/calendars/{world.calendar_id}/days",
                                   json={"year": 2026, "days": days})
    assert answer.status_code == 200, answer.text
    assert (await world.clocks())["resolution"]["due_at"] == sh(12, 18)
    await world.advance(hours=9)  # Monday 18:00: the old due time passes quietly
    assert await world.events("sla.breached") == []
