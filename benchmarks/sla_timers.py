"""SLA clocks at scale: 100,000 open work orders under SLA on PostgreSQL with a real Redis broker.

    .venv/bin/python benchmarks/sla_timers.py     # ~2 min; PostgreSQL + Redis
    .venv/bin/python benchmarks/sla_timers.py --open 100000 --database-url postgres://…/postgres

A fresh database is created (and dropped afterwards) next to ``--database-url``: one tenant with
work orders and the SLA plugin, ``--open`` work orders the SLA plugin follows, each with a
running resolution clock and its pending warning timer (``sla.warn``, a core durable timer)
written in bulk, as ``work_order.created`` would have left them.

1. **Scheduler work against open work orders**: with 100 timers due, the time one scheduler
   tick takes to claim them while 25%, 50% and 100% of ``--open`` clocks are running.
2. **Scheduler work against timers due**: with all ``--open`` clocks running, the time to
   claim 10, 100 and 1,000 due timers.
   Curve 1 stays flat and curve 2 grows with what is due: the scheduler never scans the open
   work orders. The floor of each row is a plain ``SELECT count(*)`` of the open clocks in the
   same run — what a periodic scan would at least pay on every pass.
3. **Warnings on time**: ``--storm`` warning timers are made due at random moments in the next
   five seconds of real time; the scheduler loop (every second) and a dramatiq worker on Redis
   run them: the SLA plugin claims the clock, emits ``sla.warning`` and notifies the assignee.
   Lateness = when the warning was recorded − when it was due. Target: the slowest ≤ 2 s.

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import admin, with_database

LATE_TARGET = 2.0
PLUGINS = ("sla",)  # the clocks need no more: work orders reach them as events


FILL = """
INSERT INTO sla_work_order (tenant_id, work_order_id, number, type, priority, status,
                            assignee_id, created_at, timed, updated_at, last_event_id)
SELECT $1, g, 'WO-B-' || g, 'repair', 'normal', 'open', $2, $3, true, $3, 0
FROM generate_series($4::int, $5::int) AS g;
"""
FILL_CLOCKS = """
INSERT INTO sla_clock (tenant_id, work_order_id, kind, policy_name, target_minutes, warn_percent,
                       escalation, priority, type, status, outcome, generation, consumed_seconds,
                       segment_started_at, started_at, due_at, warn_at)
SELECT $1, g, 'resolution', '基准', 1440, 80, '{}', 'normal', 'repair', 'running', 'pending', 1,
       0, $2, $2, $3, $4
FROM generate_series($5::int, $6::int) AS g;
"""
FILL_TIMERS = """
INSERT INTO core_timer (tenant_id, job, args, due_at, key, status, attempts, last_error)
SELECT c.tenant_id, 'sla.warn',
       json_build_object('clock_id', c.id, 'generation', 1)::text::json, c.warn_at,
       'sla:' || c.id || ':1:warn', 'pending', 0, ''
FROM sla_clock c WHERE c.work_order_id BETWEEN $1 AND $2;
"""


async def claim_time(kernel, connection, due: int, rounds: int = 5) -> float:
    from jimu.timers import CLAIM_BATCH

    """Median seconds of one scheduler tick claiming ``due`` timers (reset after each)."""
    times = []
    for _ in range(rounds):
        now = dt.datetime.now(dt.UTC)
        await connection.execute(
            "UPDATE core_timer SET due_at = $1 WHERE id IN (SELECT id FROM core_timer "
            "WHERE status = 'pending' ORDER BY random() LIMIT $2)", now - dt.timedelta(
                seconds=1), due)
        started = time.perf_counter()
        claimed = 0
        while True:  # what tick() does, without sending to the broker
            ids = await kernel.scheduler._claim_due(now)
            claimed += len(ids)
            if len(ids) < CLAIM_BATCH:
                break
        times.append(time.perf_counter() - started)
        assert claimed == due, (claimed, due)
        await connection.execute(
            "UPDATE core_timer SET status = 'pending', attempts = 0, claimed_at = NULL, "
            "due_at = $1 WHERE status = 'running'", now + dt.timedelta(days=30))
    return statistics.median(times)


async def scan_time(connection, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await connection.fetchval("SELECT count(*) FROM sla_clock WHERE status = 'running' "
                                  "AND outcome = 'pending'")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def run(base_url: str, broker_url: str, open_orders: int, storm: int) -> int:
    import asyncpg
    from jimu.kernel import Kernel
    from jimu.services.tenants import create_tenant
    from jimu.settings import Settings

    logging.disable(logging.WARNING)
    name = f"jimu_bench_sla_{uuid.uuid4().hex[:10]}"
    await admin(base_url, f'CREATE DATABASE "{name}"')
    url = with_database(base_url, name)
    kernel = Kernel(Settings(database_url=url, broker_url=broker_url,
                             broker_namespace=f"bench-{name}", run_worker_in_process=True,
                             run_scheduler_in_process=False, load_plugins=PLUGINS))
    connection = None
    failed = False
    try:
        kernel.load_plugins()
        await kernel.db.migrate()
        await kernel.start()
        async with kernel.tenant_scope(None):
            tenant = await create_tenant(kernel, slug="bench", name="基准企业",
                                         admin_username=f"bench-{name}",
                                         admin_password="bench-password", plugins=list(PLUGINS))
        tenant_id = tenant["id"]
        connection = await asyncpg.connect(url)
        admin_id = await connection.fetchval(
            "SELECT id FROM core_user WHERE tenant_id = $1", tenant_id)
        now = dt.datetime.now(dt.UTC)
        far = now + dt.timedelta(days=30)
        print(f"{'open work orders':>18} {'due':>6} {'claim (ms)':>11} "
              f"{'scan of open (ms)':>18}", flush=True)
        filled = 0
        for share in (0.25, 0.5, 1.0):
            target = int(open_orders * share)
            if target > filled:
                await connection.execute(FILL, tenant_id, admin_id, now, filled + 1, target)
                await connection.execute(FILL_CLOCKS, tenant_id, now, far, far, filled + 1,
                                         target)
                await connection.execute(FILL_TIMERS, filled + 1, target)
                await connection.execute("ANALYZE")
                filled = target
            claim = await claim_time(kernel, connection, 100)
            scan = await scan_time(connection)
            print(f"{filled:>18,} {100:>6} {claim * 1000:>11.1f} {scan * 1000:>18.1f}",
                  flush=True)
            if share == 0.25:
                first_claim = claim
        flat = claim / first_claim
        print(f"→ 4× the open work orders: claiming 100 due timers took {flat:.2f}× as long")
        rows = []
        for due in (10, 100, 1000):
            claim = await claim_time(kernel, connection, due)
            rows.append(claim)
            print(f"{filled:>18,} {due:>6} {claim * 1000:>11.1f}", flush=True)
        print(f"→ 100× the due timers: claiming took {rows[2] / rows[0]:.1f}× as long")
        if flat > 2.0:
            print("FAILED: the claim grew with the open work orders", file=sys.stderr)
            failed = True

        # 3. A storm of warnings due in the next five seconds, run by the real loop.
        start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        picked = await connection.fetch(
            "SELECT id FROM core_timer WHERE status = 'pending' ORDER BY random() LIMIT $1",
            storm)
        for row in picked:
            await connection.execute("UPDATE core_timer SET due_at = $1 WHERE id = $2",
                                     start + dt.timedelta(seconds=random.uniform(0, 5)),
                                     row["id"])
        kernel.scheduler.start_loop(interval=1.0)
        ids = [row["id"] for row in picked]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = await connection.fetchval(
                "SELECT count(*) FROM core_timer WHERE id = ANY($1) AND status = 'done'", ids)
            if done == storm:
                break
            await asyncio.sleep(0.5)
        await kernel.scheduler.stop_loop()
        lateness = [r["late"] for r in await connection.fetch(
            "SELECT EXTRACT(EPOCH FROM (c.warned_at - t.due_at))::float AS late "
            "FROM core_timer t JOIN sla_clock c ON c.id = (t.args->>'clock_id')::int "
            "WHERE t.id = ANY($1) AND c.warned_at IS NOT NULL", ids)]
        notified = await connection.fetchval(
            "SELECT count(*) FROM core_notification WHERE level = 'warning'")
        if len(lateness) < storm:
            print(f"FAILED: only {len(lateness)} of {storm} warnings fired", file=sys.stderr)
            failed = True
        if lateness:
            lateness.sort()
            p95 = lateness[int(len(lateness) * 0.95) - 1]
            print(f"warnings: {len(lateness)} of {storm} fired ({notified} notifications); "
                  f"late by median {statistics.median(lateness):.2f} s, p95 {p95:.2f} s, "
                  f"slowest {lateness[-1]:.2f} s (target ≤ {LATE_TARGET} s)")
            if lateness[-1] > LATE_TARGET:
                failed = True
    finally:
        if connection is not None:
            await connection.close()
        await kernel.stop()
        await admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "JIMU_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--broker-url", default=os.environ.get(
        "JIMU_TEST_BROKER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--open", type=int, default=100_000, help="open work orders")
    parser.add_argument("--storm", type=int, default=300,
                        help="warnings due within five seconds")
    args = parser.parse_args()
    return asyncio.run(run(args.database_url, args.broker_url, args.open, args.storm))


if __name__ == "__main__":
    sys.exit(main())
