"""Jobs: the dramatiq broker, core and plugin actors, the outbox relay and the in-process worker.

The database is the source of truth. A domain event is an outbox row written with the change;
the relay hands committed rows to the broker and marks them dispatched; each handler runs once
per event because its processed-message key commits with its writes. A process that dies
between "sent" and "marked" makes the relay send again: harmless, by that key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO
from jimu_sdk.context import Scope, use_scope
from jimu_sdk.types import DomainEvent, EventHandler, Job

from jimu.db.engine import is_postgres
from jimu.db.tables import OutboxEvent, ProcessedMessage, Tenant

if TYPE_CHECKING:
    from jimu.kernel import Kernel

log = logging.getLogger("jimu.jobs")

DISPATCH = "jimu.dispatch_event"
RUN_TIMER = "jimu.run_timer"
CORE_SLUG = "core"  # core's own jobs are "core.<name>" and run for every tenant
RUN_JOB = "jimu.run_job"
RELAY_BATCH = 200
DISPATCH_LEASE = dt.timedelta(minutes=15)
"""An event sent this long ago and still unfinished is sent again (its worker may be gone)."""


class HandlersFailed(Exception):
    """Some handlers of an event failed; dramatiq retries the dispatch with backoff."""


def make_broker(url: str | None, namespace: str) -> dramatiq.Broker:
    if not url:
        broker: dramatiq.Broker = StubBroker()
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, namespace=namespace)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ValueError(f"BROKER_URL {url!r} is not supported; use redis://… or amqp://…, "
                         "or leave it empty for in-process jobs")
    broker.add_middleware(AsyncIO())
    return broker


async def await_maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class JobSystem:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        settings = kernel.settings
        self.broker = make_broker(settings.broker_url, settings.broker_namespace)
        self.actors: dict[str, dramatiq.Actor] = {}
        self.jobs: dict[str, Job] = {}
        self.worker: dramatiq.Worker | None = None
        self._relay_task: asyncio.Task[Any] | None = None
        self._relay_again = False
        self._handled_types: frozenset[str] | None = None
        self.events_pending = False
        """Set when an event was written; a hint only (the scheduler loop relays anyway)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._relay_lock = asyncio.Lock()
        self.min_backoff_ms = int(settings.extra.get("retry_min_backoff_ms", 1000))
        self.max_backoff_ms = int(settings.extra.get("retry_max_backoff_ms", 300_000))

    # ------------------------------------------------------------------ actors

    def declare_actors(self) -> None:
        if self.actors:
            return
        # The dispatch gives up by itself (attempts vs. its handlers' max_retries).
        self._actor(DISPATCH, self._dispatch_event, max_retries=100)
        self._actor(RUN_TIMER, self._run_timer, max_retries=3)
        self._actor(RUN_JOB, self._run_job, max_retries=5)
        from jimu.services.flows import CORE_JOBS

        for job in CORE_JOBS:
            self.jobs[f"{CORE_SLUG}.{job.name}"] = job
        for slug, plugin in self.kernel.plugins.plugins.items():
            for job in plugin.contributed("register_jobs", []):
                self.jobs[f"{slug}.{job.name}"] = job

    def _actor(self, name: str, fn: Any, *, max_retries: int) -> None:
        self.actors[name] = dramatiq.Actor(
            fn, broker=self.broker, actor_name=name, queue_name="jimu", priority=0,
            options={"max_retries": max_retries, "min_backoff": self.min_backoff_ms,
                     "max_backoff": self.max_backoff_ms, "time_limit": 600_000})

    def enqueue_job(self, name: str, tenant_id: int, args: dict[str, Any]) -> None:
        """Send a plugin job (``<slug>.<name>``) for a tenant."""
        if name not in self.jobs:
            raise KeyError(f"no job named {name!r}")
        job = self.jobs[name]
        self.actors[RUN_JOB].send_with_options(args=(name, tenant_id, args),
                                               max_retries=job.max_retries,
                                               time_limit=job.time_limit_ms)

    def ping(self) -> None:
        """Raise when the broker cannot be reached (the in-process broker always can)."""
        client = getattr(self.broker, "client", None)
        if client is not None:
            client.ping()
        elif not isinstance(self.broker, StubBroker):
            getattr(self.broker, "channel")  # noqa: B009 - opens the AMQP connection or raises

    # ------------------------------------------------------------------ worker

    def start_worker(self, threads: int = 2) -> None:
        if self.worker is None:
            self.worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)
            self.worker.start()

    async def stop(self) -> None:
        if self._relay_task is not None:
            await asyncio.gather(self._relay_task, return_exceptions=True)
        if self.worker is not None:
            worker, self.worker = self.worker, None
            from dramatiq.asyncio import get_event_loop_thread

            loop_thread = get_event_loop_thread()
            if loop_thread is not None:  # the actors' database pool lives on that loop
                await asyncio.to_thread(loop_thread.run_coroutine,
                                        self.kernel.db.close_loop_pool())
            await asyncio.to_thread(worker.stop)
        self.broker.close()

    async def drain(self, *, timers: bool = True, rounds: int = 50) -> None:
        """Run everything queued until nothing is left: events, handlers, due timers.

        For tests and ``jimu`` commands; production workers simply keep running.
        """
        if self.worker is None:
            self.start_worker()
        for _ in range(rounds):
            sent = await self.relay_outbox()
            claimed = await self.kernel.scheduler.tick() if timers else 0
            await asyncio.to_thread(self._join)
            await self.kernel.flush_failures()
            if not sent and not claimed and not await self._unfinished():
                return
        raise RuntimeError(f"jobs still pending after {rounds} rounds of draining")

    def _join(self) -> None:
        for queue in list(self.broker.get_declared_queues()):
            if isinstance(self.broker, StubBroker):
                self.broker.join(queue, fail_fast=False)
            else:
                self.broker.join(queue)  # type: ignore[call-arg]
        if self.worker is not None:
            self.worker.join()

    # ------------------------------------------------------------------ outbox relay

    async def _unfinished(self) -> bool:
        async with self.kernel.db.transaction(write=False):
            return await OutboxEvent.exists().where(OutboxEvent.completed_at.is_null())

    def bind_loop(self) -> None:
        """Remember the loop the relay runs on (the web app's or the scheduler's)."""
        self._loop = asyncio.get_running_loop()
        self._relay_lock = asyncio.Lock()

    def nudge_relay(self) -> None:
        """Relay soon; coalesces bursts into one pass.

        The relay runs only on the kernel's own loop: a nudge from an actor (on dramatiq's
        event-loop thread) is handed over thread-safely, never run beside it.
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not loop:
            loop.call_soon_threadsafe(self.nudge_relay)
            return
        if self._relay_task is not None and not self._relay_task.done():
            self._relay_again = True
            return
        self._relay_task = loop.create_task(self._relay_until_quiet())

    async def _relay_until_quiet(self) -> None:
        try:
            while True:
                self._relay_again = False
                await self.relay_outbox()
                if not self._relay_again:
                    return
        except Exception:
            log.exception("outbox relay failed; the next pass will retry")

    async def relay_outbox(self) -> int:
        """Send every undispatched event to the broker; returns how many were sent."""
        self.declare_actors()
        sent = 0
        async with self._relay_lock:
            while True:
                batch = await self._relay_batch()
                sent += batch
                if batch < RELAY_BATCH:
                    return sent

    async def _relay_batch(self) -> int:
        """Send a batch of unfinished events: never sent, or sent longer than a lease ago."""
        self.events_pending = False
        db = self.kernel.db
        now = self.kernel.clock.now()
        stale = now - DISPATCH_LEASE
        async with db.transaction() as tx:
            if is_postgres(db.engine):
                rows = await tx.connection.fetch(
                    "SELECT id, event_type FROM core_outbox WHERE completed_at IS NULL AND "
                    "(dispatched_at IS NULL OR dispatched_at < $1) ORDER BY id "
                    f"LIMIT {RELAY_BATCH} FOR UPDATE SKIP LOCKED", stale)
            else:
                rows = await OutboxEvent.select(OutboxEvent.id, OutboxEvent.event_type).where(
                    OutboxEvent.completed_at.is_null()
                    & (OutboxEvent.dispatched_at.is_null() | (OutboxEvent.dispatched_at < stale))
                ).order_by(OutboxEvent.id).limit(RELAY_BATCH)
            handled = self.handled_event_types()
            ids: list[int] = []
            unheard: list[int] = []
            for row in rows:
                heard = row["event_type"] in handled or "*" in handled
                (ids if heard else unheard).append(row["id"])
            if ids:
                # The broker client blocks on its socket: keep it off the event loop.
                await asyncio.to_thread(self._send_all, ids)
                await OutboxEvent.update({OutboxEvent.dispatched_at: now}
                                         ).where(OutboxEvent.id.is_in(ids))
            if unheard:
                # No installed plugin handles these types: nothing to dispatch, done now.
                await OutboxEvent.update({OutboxEvent.dispatched_at: now,
                                          OutboxEvent.completed_at: now}
                                         ).where(OutboxEvent.id.is_in(unheard))
        return len(rows)

    def _send_all(self, ids: list[int]) -> None:
        for event_id in ids:
            self.actors[DISPATCH].send(event_id)

    def handled_event_types(self) -> frozenset[str]:
        """Event types some installed plugin handles through the outbox (or ``*``)."""
        if self._handled_types is None:
            self._handled_types = frozenset(
                handler.event_type for plugin in self.kernel.plugins.plugins.values()
                for handler in plugin.contributed("register_event_handlers", [])
                if not handler.in_transaction)
        return self._handled_types

    async def requeue_lost_events(self) -> None:
        """An in-memory broker forgets what it held when the process ends: send it again."""
        if isinstance(self.broker, StubBroker):
            async with self.kernel.db.transaction():
                await OutboxEvent.update({OutboxEvent.dispatched_at: None}).where(
                    OutboxEvent.completed_at.is_null() & OutboxEvent.dispatched_at.is_not_null())

    # ------------------------------------------------------------------ core actors

    def handlers_for(self, enabled: frozenset[str], event_type: str, *,
                     in_transaction: bool = False) -> list[tuple[str, EventHandler]]:
        """Handlers of the enabled plugins for ``event_type``: the outbox-delivered ones, or
        with ``in_transaction`` those that run inside the emitting transaction."""
        found = []
        for slug in sorted(enabled):
            plugin = self.kernel.plugins.plugins.get(slug)
            if plugin is None:
                continue
            for handler in plugin.contributed("register_event_handlers", []):
                if (handler.event_type in (event_type, "*")
                        and handler.in_transaction == in_transaction):
                    found.append((f"{slug}:{handler.name}", handler))
        return found

    async def _load_event(self, event_id: int) -> dict[str, Any] | None:
        async with self.kernel.db.transaction(write=False):
            return await OutboxEvent.select().output(load_json=True).where(
                OutboxEvent.id == event_id).first()

    async def _dispatch_event(self, event_id: int) -> None:
        """Run every handler of the event once; mark it complete when all have run.

        A failing handler is retried with the whole dispatch (dramatiq's backoff); handlers
        that already ran are skipped by their processed-message keys. After the largest
        ``max_retries`` of its handlers the event is given up, and that is recorded.
        """
        event = await self._load_event(event_id)
        if event is None or event["completed_at"] is not None:
            return
        tenant_id = event["tenant_id"]
        handlers: list[tuple[str, EventHandler]] = []
        if tenant_id is not None:
            async with self.kernel.db.transaction(tenant_id=tenant_id, write=False):
                if await Tenant.exists().where(Tenant.id == tenant_id):
                    state = await self.kernel.tenant_state(tenant_id)
                    handlers = self.handlers_for(state.enabled, event["event_type"])
        failed = [key for key, handler in handlers
                  if not await self._run_handler(event, key, handler)]
        attempts = event["attempts"] + 1
        give_up = attempts > max((h.max_retries for _, h in handlers), default=0)
        async with self.kernel.db.transaction():
            done: dict[Any, Any] = {OutboxEvent.completed_at: self.kernel.clock.now()} if (
                not failed or give_up) else {}
            await OutboxEvent.update({OutboxEvent.attempts: attempts, **done}
                                     ).where(OutboxEvent.id == event_id)
        if failed and give_up:
            for key in failed:
                self.kernel.failures.record(
                    tenant_id=tenant_id, plugin=key.partition(":")[0],
                    hook=f"event:{event['event_type']}", kind="error",
                    error=f"gave up on event {event_id} after {attempts} attempts")
            await self.kernel.flush_failures()
        elif failed:
            raise HandlersFailed(f"event {event_id}: {', '.join(failed)} failed; retrying")

    async def _run_handler(self, event: dict[str, Any], key: str, handler: EventHandler
                           ) -> bool:
        """Run one handler in its own transaction, at most once per event; ``False`` if it
        raised (the failure is recorded)."""
        slug = key.partition(":")[0]
        processed_key = f"event:{event['id']}:{key}"
        tenant_id = event["tenant_id"]
        try:
            async with self.kernel.tenant_scope(tenant_id):
                if await ProcessedMessage.exists().where(ProcessedMessage.key == processed_key):
                    return True
                await await_maybe(handler.handle(DomainEvent(
                    id=event["id"], tenant_id=tenant_id, type=event["event_type"],
                    payload=event["payload"], occurred_at=event["created_at"])))
                await ProcessedMessage.insert(ProcessedMessage(key=processed_key))
            return True
        except Exception as exc:
            self.kernel.failures.record(
                tenant_id=tenant_id, plugin=slug, hook=f"event:{event['event_type']}",
                kind="error", error=f"{type(exc).__name__}: {exc}", tb=traceback.format_exc())
            await self.kernel.flush_failures()
            return False

    async def _run_timer(self, timer_id: int) -> None:
        await self.kernel.scheduler.run_timer(timer_id)

    async def _run_job(self, name: str, tenant_id: int, args: dict[str, Any]) -> None:
        job = self.jobs.get(name)
        if job is None:
            return
        slug = name.split(".", 1)[0]
        try:
            if not job.transaction:
                await self.run_outside_transaction(job, slug, tenant_id, args)
                return
            async with self.kernel.tenant_scope(tenant_id):
                state = await self.kernel.tenant_state(tenant_id)
                if slug != CORE_SLUG and slug not in state.enabled:
                    return
                await await_maybe(job.run(tenant_id=tenant_id, **args))
        except Exception as exc:
            self.kernel.failures.record(tenant_id=tenant_id, plugin=slug, hook=f"job:{name}",
                                        kind="error", error=f"{type(exc).__name__}: {exc}",
                                        tb=traceback.format_exc())
            await self.kernel.flush_failures()
            raise

    async def run_outside_transaction(self, job: Job, slug: str, tenant_id: int,
                                      args: dict[str, Any]) -> bool:
        """A ``Job(transaction=False)``: run with the tenant's scope and no transaction; the
        job opens its own with ``platform().transaction()``. ``False`` when the tenant has
        the plugin off (nothing ran)."""
        ran, _ = await outside_transaction(
            self.kernel, slug, tenant_id, lambda: job.run(tenant_id=tenant_id, **args))
        return ran


async def outside_transaction(kernel: Kernel, slug: str, tenant_id: int,
                              work: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``work()`` for a tenant in its scope with no transaction open (long jobs and
    plugins' CLI commands open their own). ``(False, None)`` when the tenant has the plugin
    off, so nothing ran; else ``(True, what work returned)``."""
    from jimu.services.platform import KernelServices

    async with kernel.tenant_scope(tenant_id, write=False):
        state = await kernel.tenant_state(tenant_id)
    if slug != CORE_SLUG and slug not in state.enabled:
        return False, None
    try:
        with use_scope(Scope(tenant_id=tenant_id, platform=KernelServices(kernel))):
            return True, await await_maybe(work())
    finally:
        await kernel.after_transaction()
