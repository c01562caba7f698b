"""The followups plugin, tested with the SDK's fixtures exactly as a third party would."""

import datetime as dt

from jimu_followups.tables import FollowUp


async def test_plugin_is_installed(jimu_platform):
    assert "followups" in jimu_platform.kernel.plugins.plugins


async def make_customer(client, name="王芳", **extra):
    response = await client.post("/api/v1/customers", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_logging_a_follow_up_feeds_facts_and_tags(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    admin = await jimu_platform.login(tenant.admin_username)
    customer = await make_customer(admin)
    tomorrow = (jimu_platform.clock.now() + dt.timedelta(days=1)).date().isoformat()
    note = await admin.post("/api/v1/followups/notes", json={
        "customer_id": customer, "body": "约周六到店保养", "channel": "phone",
        "next_contact_on": tomorrow})
    assert note.status_code == 201, note.text
    detail = (await admin.get(f"/api/v1/customers/{customer}")).json()
    assert detail["facts"]["followups.recent_count"] == 1
    assert detail["facts"]["followups.next_contact_on"] == tomorrow
    assert detail["derived_tags"] == ["followups.recently_contacted"]


async def test_reminder_fires_on_the_next_contact_day(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"],
                                             config={"followups": {"reminder_hour": 9}})
    admin = await jimu_platform.login(tenant.admin_username)
    # 2026-05-10 08:00 in Shanghai is 00:00 UTC.
    jimu_platform.clock.freeze(dt.datetime(2026, 5, 10, 0, 0, tzinfo=dt.UTC))
    customer = await make_customer(admin)
    await admin.post("/api/v1/followups/notes", json={
        "customer_id": customer, "body": "回访", "next_contact_on": "2026-05-12"})

    async def reminders():
        from jimu.db.tables import OutboxEvent

        async with jimu_platform.kernel.db.transaction():
            return await OutboxEvent.select(OutboxEvent.payload).output(load_json=True).where(
                OutboxEvent.event_type == "followups.reminder_due")

    await jimu_platform.advance(days=2)  # 2026-05-12 08:00 Shanghai: not yet 09:00
    assert await reminders() == []
    await jimu_platform.advance(hours=1, minutes=1)
    emitted = await reminders()
    assert [e["payload"]["customer_id"] for e in emitted] == [customer]


async def test_bad_follow_ups_are_refused_with_the_field(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    admin = await jimu_platform.login(tenant.admin_username)
    customer = await make_customer(admin)
    past = await admin.post("/api/v1/followups/notes", json={
        "customer_id": customer, "body": "x", "next_contact_on": "2020-01-01"})
    assert past.status_code == 422 and past.json()["field"] == "next_contact_on"
    channel = await admin.post("/api/v1/followups/notes", json={
        "customer_id": customer, "body": "x", "channel": "fax"})
    assert channel.status_code == 422 and channel.json()["field"] == "channel"
    unknown = await admin.post("/api/v1/followups/notes", json={
        "customer_id": 99999, "body": "x"})
    assert unknown.status_code == 404


async def test_partner_user_sees_only_its_customers_notes(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    admin = await jimu_platform.login(tenant.admin_username)
    dealer = (await admin.post("/api/v1/partners", json={
        "code": "HB-01", "name": "华北经销商", "level": "level1"})).json()["id"]
    own = await make_customer(admin, "自己的客户", partner_id=dealer)
    other = await make_customer(admin, "别人的客户")
    for customer in (own, other):
        await admin.post("/api/v1/followups/notes", json={"customer_id": customer,
                                                          "body": "跟进"})
    await jimu_platform.make_user(tenant, "hb-dealer", role="partner", partner_id=dealer)
    partner = await jimu_platform.login("hb-dealer")
    notes = (await partner.get("/api/v1/followups/notes")).json()
    assert [n["customer_id"] for n in notes] == [own]
    assert (await partner.get(f"/api/v1/followups/notes?customer_id={other}")).status_code == 404


async def test_deleting_a_customer_forgets_its_follow_ups(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["followups"])
    admin = await jimu_platform.login(tenant.admin_username)
    customer = await make_customer(admin)
    await admin.post("/api/v1/followups/notes", json={"customer_id": customer, "body": "x"})
    assert (await admin.delete(f"/api/v1/customers/{customer}")).status_code == 204
    await jimu_platform.run_jobs()
    async with jimu_platform.as_tenant(tenant):
        assert await FollowUp.scoped_count() == 0
