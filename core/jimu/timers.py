"""Durable timers and cron schedules.

A timer is a row with a due time; the scheduler claims due rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, an ``IMMEDIATE`` transaction on SQLite) and hands them to the worker, so the work of
a tick grows with what is due, not with how many records exist. A schedule is a row holding its
next run; at that time it becomes one timer per tenant that enables the plugin, keyed so a
second scheduler process cannot create it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import traceback
from typing import TYPE_CHECKING, Any

from cronsim import CronSim, CronSimError

from jimu.db.engine import is_postgres
from jimu.db.tables import ScheduleState, Tenant, Timer
from jimu.jobs import CORE_SLUG, RUN_TIMER, await_maybe

if TYPE_CHECKING:
    from jimu.kernel import Kernel

log = logging.getLogger("jimu.timers")

CLAIM_BATCH = 100
STALE_AFTER = dt.timedelta(minutes=15)
RETRY_DELAYS = (dt.timedelta(seconds=30), dt.timedelta(minutes=5), dt.timedelta(minutes=30))


def next_cron_time(cron: str, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` that matches ``cron`` (UTC)."""
    try:
        return next(CronSim(cron, after.astimezone(dt.UTC).replace(tzinfo=None))
                    ).replace(tzinfo=dt.UTC)
    except CronSimError as exc:
        raise ValueError(f"invalid cron expression {cron!r}: {exc}") from exc


class Scheduler:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self._task: asyncio.Task[Any] | None = None
        self._stopping = asyncio.Event()

    # ------------------------------------------------------------------ schedules

    def schedules(self) -> dict[str, tuple[str, str, str]]:
        """``{"<slug>:<name>": (slug, cron, job name)}`` of every installed plugin."""
        found = {}
        for slug, plugin in self.kernel.plugins.plugins.items():
            for schedule in plugin.contributed("register_schedules", []):
                found[f"{slug}:{schedule.name}"] = (slug, schedule.cron,
                                                    f"{slug}.{schedule.job}")
        return found

    async def sync_schedules(self) -> None:
        now = self.kernel.clock.now()
        async with self.kernel.db.transaction():
            rows = {r["name"]: r for r in await ScheduleState.select()}
            for name, (_slug, cron, _job) in self.schedules().items():
                row = rows.get(name)
                if row is None:
                    await ScheduleState.insert(ScheduleState(
                        name=name, cron=cron, next_run_at=next_cron_time(cron, now)))
                elif row["cron"] != cron:
                    await ScheduleState.update({ScheduleState.cron: cron,
                                                ScheduleState.next_run_at:
                                                    next_cron_time(cron, now)}
                                               ).where(ScheduleState.name == name)

    async def _expand_due_schedules(self, now: dt.datetime) -> int:
        known = self.schedules()
        created = 0
        async with self.kernel.db.transaction():
            due = await ScheduleState.select().where(ScheduleState.next_run_at <= now)
            for row in due:
                if row["name"] not in known:
                    continue
                slug, cron, job = known[row["name"]]
                # Claim this run: only the process whose update matches the old time goes on.
                claimed = await ScheduleState.update(
                    {ScheduleState.next_run_at: next_cron_time(cron, now)}
                ).where((ScheduleState.name == row["name"])
                        & (ScheduleState.next_run_at == row["next_run_at"])
                        ).returning(ScheduleState.id)
                if not claimed:
                    continue
                for tenant_id in await self._tenants_enabling(slug):
                    key = f"schedule:{row['name']}:{tenant_id}:{row['next_run_at'].isoformat()}"
                    if not await Timer.exists().where(Timer.key == key):
                        await Timer.insert(Timer(tenant_id=tenant_id, job=job, args={},
                                                 due_at=row["next_run_at"], key=key))
                        created += 1
        return created

    async def _tenants_enabling(self, slug: str) -> list[int]:
        tenants = await Tenant.select(Tenant.id, Tenant.config_version).where(
            Tenant.status == "active")
        found = []
        for tenant in tenants:
            await self.kernel.db.set_tenant(tenant["id"])
            state = await self.kernel.tenant_state(tenant["id"],
                                                   version=tenant["config_version"])
            if slug in state.enabled:
                found.append(tenant["id"])
        await self.kernel.db.set_tenant(None)
        return found

    # ------------------------------------------------------------------ timers

    async def tick(self, now: dt.datetime | None = None) -> int:
        """Expand due schedules, claim due timers and send them to the worker."""
        now = now or self.kernel.clock.now()
        self.kernel.jobs.declare_actors()
        await self._expand_due_schedules(now)
        claimed = 0
        while True:  # everything due now, a batch per transaction
            ids = await self._claim_due(now)
            if ids:
                # The broker client blocks on its socket: keep it off the event loop.
                await asyncio.to_thread(self._send_all, ids)
            claimed += len(ids)
            if len(ids) < CLAIM_BATCH:
                return claimed

    def _send_all(self, ids: list[int]) -> None:
        for timer_id in ids:
            self.kernel.jobs.actors[RUN_TIMER].send(timer_id)

    async def _claim_due(self, now: dt.datetime) -> list[int]:
        db = self.kernel.db
        async with db.transaction() as tx:
            # A timer claimed by a worker that died long ago is due again.
            await Timer.update({Timer.status: "pending"}).where(
                (Timer.status == "running") & (Timer.claimed_at < now - STALE_AFTER))
            if is_postgres(db.engine):
                rows = await tx.connection.fetch(
                    "UPDATE core_timer SET status = 'running', claimed_at = $1, "
                    "attempts = attempts + 1 WHERE id IN (SELECT id FROM core_timer "
                    "WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at "
                    f"LIMIT {CLAIM_BATCH} FOR UPDATE SKIP LOCKED) RETURNING id", now)
                return [r["id"] for r in rows]
            rows = await Timer.select(Timer.id).where(
                (Timer.status == "pending") & (Timer.due_at <= now)
            ).order_by(Timer.due_at).limit(CLAIM_BATCH)
            ids = [r["id"] for r in rows]
            if ids:
                await Timer.update({Timer.status: "running", Timer.claimed_at: now,
                                    Timer.attempts: Timer.attempts + 1}
                                   ).where(Timer.id.is_in(ids))
            return ids

    async def run_timer(self, timer_id: int) -> None:
        """Run a claimed timer's job once; done commits with the job's own writes."""
        async with self.kernel.db.transaction(write=False):
            timer = await Timer.select().output(load_json=True).where(
                Timer.id == timer_id).first()
        if timer is None or timer["status"] != "running":
            return
        name = timer["job"]
        job = self.kernel.jobs.jobs.get(name)
        slug = name.split(".", 1)[0]
        try:
            if job is not None and not job.transaction and timer["tenant_id"] is not None:
                # A job that opens its own transactions (progress as it goes): it runs with
                # none open, and the timer is marked done after it, in one of its own.
                ran = await self.kernel.jobs.run_outside_transaction(
                    job, slug, timer["tenant_id"], timer["args"])
                async with self.kernel.db.transaction():
                    await Timer.update({Timer.status: "done" if ran else "cancelled",
                                        Timer.finished_at: self.kernel.clock.now()}).where(
                        (Timer.id == timer_id) & (Timer.status == "running"))
                return
            async with self.kernel.tenant_scope(timer["tenant_id"]):
                state = (await self.kernel.tenant_state(timer["tenant_id"])
                         if timer["tenant_id"] is not None else None)
                if job is None or (state is not None and slug != CORE_SLUG
                                   and slug not in state.enabled):
                    outcome = "cancelled"
                else:
                    await await_maybe(job.run(tenant_id=timer["tenant_id"], **timer["args"]))
                    outcome = "done"
                await Timer.update({Timer.status: outcome,
                                    Timer.finished_at: self.kernel.clock.now()}
                                   ).where((Timer.id == timer_id) & (Timer.status == "running"))
        except Exception as exc:
            self.kernel.failures.record(tenant_id=timer["tenant_id"], plugin=slug,
                                        hook=f"timer:{name}", kind="error",
                                        error=f"{type(exc).__name__}: {exc}",
                                        tb=traceback.format_exc())
            attempts = timer["attempts"]
            retry = attempts <= len(RETRY_DELAYS)
            async with self.kernel.db.transaction():
                await Timer.update({
                    Timer.status: "pending" if retry else "failed",
                    Timer.due_at: self.kernel.clock.now() + RETRY_DELAYS[attempts - 1]
                    if retry else timer["due_at"],
                    Timer.last_error: f"{type(exc).__name__}: {exc}"[:2000],
                }).where(Timer.id == timer_id)
            await self.kernel.flush_failures()

    # ------------------------------------------------------------------ loop

    def start_loop(self, interval: float = 1.0) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.get_running_loop().create_task(self._loop(interval))

    async def _loop(self, interval: float) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
                await self.kernel.jobs.relay_outbox()
            except Exception:
                log.exception("scheduler tick failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    async def stop_loop(self) -> None:
        if self._task is not None:
            self._stopping.set()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
