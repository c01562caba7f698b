"""Outbox events, handlers, retries, redelivery, restarts, durable timers and schedules."""

import datetime as dt

import pytest
from jimu.db.tables import OutboxEvent, Timer
from jimu.kernel import Kernel

from tests.sample_plugins import ledger
from tests.sample_plugins.ledger.tables import LedgerEntry


@pytest.fixture
def jimu_plugins():
    return [ledger]


@pytest.fixture
def jimu_load_installed():
    return False


async def entries(platform, tenant, kind):
    async with platform.as_tenant(tenant):
        return await LedgerEntry.scoped_select().where(LedgerEntry.kind == kind)


async def test_event_is_handled_once_even_when_redelivered(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    admin = await jimu_platform.login(tenant.admin_username)
    customer = (await admin.post("/api/v1/customers", json={"name": "李强"})).json()
    await jimu_platform.run_jobs()
    assert [e["ref"] for e in await entries(jimu_platform, tenant, "customer.created")] == [
        customer["id"]]
    # The broker (or a relay that died before marking) delivers everything again.
    async with jimu_platform.kernel.db.transaction():
        await OutboxEvent.update({OutboxEvent.dispatched_at: None,
                                  OutboxEvent.completed_at: None}, force=True)
    await jimu_platform.run_jobs()
    assert len(await entries(jimu_platform, tenant, "customer.created")) == 1


async def test_failing_handler_is_retried_until_it_succeeds(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    admin = await jimu_platform.login(tenant.admin_username)
    ledger.FAIL_TIMES["count"] = 2
    try:
        await admin.post("/api/v1/customers", json={"name": "张伟"})
        await jimu_platform.run_jobs()
    finally:
        ledger.FAIL_TIMES["count"] = 0
    assert len(await entries(jimu_platform, tenant, "customer.created")) == 1
    failures = (await admin.get("/api/v1/hook-failures")).json()
    assert failures["counts"] == [{"plugin": "ledger", "hook": "event:customer.created",
                                   "count": 2}]


async def test_events_of_a_tenant_without_the_plugin_are_not_handled(jimu_platform):
    tenant = await jimu_platform.make_tenant()
    admin = await jimu_platform.login(tenant.admin_username)
    await admin.post("/api/v1/customers", json={"name": "陈静"})
    await jimu_platform.run_jobs()
    assert await entries(jimu_platform, tenant, "customer.created") == []


async def test_failed_request_writes_no_event(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    admin = await jimu_platform.login(tenant.admin_username)
    bad = await admin.post("/api/v1/customers", json={"name": "赵敏", "region_code": "999999"})
    assert bad.status_code == 422
    async with jimu_platform.kernel.db.transaction():
        assert await OutboxEvent.count() == 0


async def test_in_transaction_handler_commits_or_fails_with_the_change(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    admin = await jimu_platform.login(tenant.admin_username)
    customer = (await admin.post("/api/v1/customers", json={"name": "李强"})).json()
    # Ran inside the request, before any job: the check row committed with the customer.
    assert [e["ref"] for e in await entries(jimu_platform, tenant, "customer.checked")] == [
        customer["id"]]
    refused = await admin.post("/api/v1/customers", json={"name": "黑名单客户"})
    assert refused.status_code == 409 and refused.json()["field"] == "name"
    listed = (await admin.get("/api/v1/customers")).json()
    assert [c["name"] for c in listed["items"]] == ["李强"]  # nothing of it was written
    async with jimu_platform.kernel.db.transaction():
        assert await OutboxEvent.count().where(
            OutboxEvent.event_type == "customer.created") == 1
    await jimu_platform.run_jobs()  # the outbox never delivers it to the in-transaction one
    assert len(await entries(jimu_platform, tenant, "customer.checked")) == 1


async def test_undispatched_events_go_out_after_a_restart(jimu_platform, monkeypatch):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    admin = await jimu_platform.login(tenant.admin_username)
    # The process "dies" after commit, before its relay runs.
    monkeypatch.setattr(jimu_platform.kernel.jobs, "nudge_relay", lambda: None)
    await admin.post("/api/v1/customers", json={"name": "刘洋"})
    await jimu_platform.kernel.stop()
    await _restart_and_count(jimu_platform, tenant, expected=1)


async def test_events_held_by_the_in_memory_broker_survive_a_kill(jimu_platform, monkeypatch):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    admin = await jimu_platform.login(tenant.admin_username)
    # The relay hands the event to the in-memory broker, then the process is killed before
    # any worker runs it: the broker's memory is gone.
    await jimu_platform.kernel.jobs.stop()
    jimu_platform.kernel._jobs = None
    await admin.post("/api/v1/customers", json={"name": "赵敏"})
    jimu_platform.kernel.jobs.bind_loop()
    assert await jimu_platform.kernel.jobs.relay_outbox() == 1
    await jimu_platform.kernel.stop()
    await _restart_and_count(jimu_platform, tenant, expected=1)


async def _restart_and_count(jimu_platform, tenant, *, expected):
    restarted = Kernel(jimu_platform.kernel.settings)
    restarted.load_plugins(ledger)
    await restarted.start()
    try:
        await restarted.jobs.drain()
        assert len(await entries(jimu_platform, tenant, "customer.created")) == expected
    finally:
        await restarted.stop()
        await jimu_platform.kernel.start()  # the fixture stops it again at teardown


async def test_timer_runs_its_job_when_due_and_only_then(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    jimu_platform.clock.freeze(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
    async with jimu_platform.as_tenant(tenant):
        await ledger.schedule_tick(jimu_platform.clock.now() + dt.timedelta(hours=1), ref=7)
        await ledger.schedule_tick(jimu_platform.clock.now() + dt.timedelta(hours=1), ref=7)
    await jimu_platform.run_jobs()
    assert await entries(jimu_platform, tenant, "job") == []
    await jimu_platform.advance(hours=1)
    assert [e["ref"] for e in await entries(jimu_platform, tenant, "job")] == [7]
    async with jimu_platform.kernel.db.transaction():
        assert await Timer.select(Timer.status).where(Timer.key == f"{tenant.id}:tick:7") == [
            {"status": "done"}]


async def test_a_job_without_a_transaction_commits_each_of_its_own(jimu_platform):
    # Long work reports progress: what one platform().transaction() block wrote stays when a
    # later step fails, and the timer that ran it records the failure.
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    jimu_platform.clock.freeze(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
    async with jimu_platform.as_tenant(tenant):
        from jimu_sdk import platform

        await platform().schedule_at(jimu_platform.clock.now(), "ledger.steps", {},
                                     key="steps:ok")
        await platform().schedule_at(jimu_platform.clock.now(), "ledger.steps",
                                     {"fail_at": 3}, key="steps:fail")
    await jimu_platform.run_jobs()
    assert sorted(e["ref"] for e in await entries(jimu_platform, tenant, "step")) == [
        1, 1, 2, 2, 3]
    async with jimu_platform.kernel.db.transaction():
        statuses = {r["key"]: r["status"] for r in await Timer.select(Timer.key, Timer.status)}
    assert statuses[f"{tenant.id}:steps:ok"] == "done"
    assert statuses[f"{tenant.id}:steps:fail"] == "pending"  # retried later
    assert jimu_platform.kernel.failures.counts[(tenant.id, "ledger", "timer:ledger.steps")]


async def test_timer_of_a_plugin_turned_off_is_cancelled(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    admin = await jimu_platform.login(tenant.admin_username)
    jimu_platform.clock.freeze(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))
    async with jimu_platform.as_tenant(tenant):
        await ledger.schedule_tick(jimu_platform.clock.now() + dt.timedelta(minutes=5), ref=1)
    assert (await admin.post("/api/v1/plugins/ledger/disable")).status_code == 200
    await jimu_platform.advance(minutes=10)
    assert await entries(jimu_platform, tenant, "job") == []


async def test_nightly_schedule_runs_once_per_enabling_tenant(jimu_platform):
    on = await jimu_platform.make_tenant(plugins=["ledger"])
    off = await jimu_platform.make_tenant()
    await jimu_platform.advance(hours=24)
    assert len(await entries(jimu_platform, on, "nightly")) == 1
    assert await entries(jimu_platform, off, "nightly") == []
    await jimu_platform.run_jobs()  # nothing new is due
    assert len(await entries(jimu_platform, on, "nightly")) == 1
    await jimu_platform.advance(hours=24)
    assert len(await entries(jimu_platform, on, "nightly")) == 2


async def test_write_aside_commits_while_the_callers_transaction_is_still_open(jimu_platform):
    # A long transaction shows its progress through write_aside: on PostgreSQL it commits at
    # once, on a connection of its own, and stays when the long transaction rolls back.
    # SQLite lets one writer work at a time: inside a transaction it does nothing there.
    from jimu.jobs import outside_transaction
    from jimu_sdk import platform

    tenant = await jimu_platform.make_tenant(plugins=["ledger"])
    postgres = jimu_platform.kernel.db.is_postgres

    async def note(ref):
        await LedgerEntry.scoped_insert(kind="progress", ref=ref)
        return ref

    async def kinds_seen_aside():
        return sorted(r["kind"] for r in await LedgerEntry.scoped_select(LedgerEntry.kind))

    with pytest.raises(RuntimeError, match="the long work fails"):
        async with jimu_platform.as_tenant(tenant):
            await LedgerEntry.scoped_insert(kind="work", ref=1)
            assert await platform().write_aside(lambda: note(50)) == (50 if postgres else None)
            # Another connection sees the progress, not the open transaction's own work.
            assert await platform().write_aside(kinds_seen_aside) == (
                ["progress"] if postgres else None)
            raise RuntimeError("the long work fails")
    assert [e["ref"] for e in await entries(jimu_platform, tenant, "progress")] == (
        [50] if postgres else [])
    assert await entries(jimu_platform, tenant, "work") == []

    async def outside():  # no transaction open: a transaction of its own on both
        return await platform().write_aside(lambda: note(60))

    assert await outside_transaction(jimu_platform.kernel, "ledger", tenant.id, outside) == (
        True, 60)
    assert 60 in [e["ref"] for e in await entries(jimu_platform, tenant, "progress")]
