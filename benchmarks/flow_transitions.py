"""Workflow transitions per second on PostgreSQL with a real Redis broker, with the
``work_orders`` plugin following every run.

    .venv/bin/python benchmarks/flow_transitions.py     # ~1 min; PostgreSQL + Redis
    .venv/bin/python benchmarks/flow_transitions.py --database-url postgres://…/postgres \
        --broker-url redis://127.0.0.1:6379/14 --worker inline

A fresh database is created (and dropped afterwards) next to ``--database-url``. One tenant
with ``flow_nodes`` and ``work_orders``; a published flow of ten stage forms in a row
(start → form × 10 → end) and a work order type that runs it. ``RUNS`` work orders are
created (each starts its run, subject ``work_orders:<id>``), then ``CONCURRENCY`` tasks submit
the forms, each submission one transaction through ``jimu.services.flows.act`` exactly as the
flow API does it: read the run, ask the node type, conditional write on the revision, a
timeline step, ``flow.moved`` and ``flow.waiting`` events in the outbox. Meanwhile the relay
hands every event to dramatiq on Redis, and a worker runs the ``work_orders`` handlers of
those events: each brings its work order in step with the run (node, status) and publishes
``work_order.moved`` / ``work_order.completed``. By default the worker is a separate
``jimu worker`` process, as deployed (``--worker inline`` runs it in this process instead,
sharing its interpreter). At the end every work order must be completed and in step with its
run's last revision, or the run fails.

a. **Runtime**: transitions per second through the flow runtime while the handlers run.
   Also printed: the rate until the last handler finished (transitions / (submitting +
   draining the events)).
b. **Floor**: the same number of transitions written by hand in the same run, with the same
   concurrency: per transition one transaction of ``SELECT … FOR UPDATE``, the conditional
   ``UPDATE`` of the run, one step ``INSERT`` and two outbox ``INSERT``\\ s, over asyncpg.

Target: a ≥ 500 transitions/s on this 2-core machine (the issue's figure); the ratio a/b says
what the runtime costs over the bare writes. Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import admin, with_database

TARGET_PER_SECOND = 500
FORMS = 10
RUNS = 300
CONCURRENCY = 8


def ten_forms() -> dict:
    nodes = [{"id": "start", "type": "start"}]
    edges = []
    previous = "start"
    for index in range(FORMS):
        node_id = f"f{index}"
        nodes.append({"id": node_id, "type": "form", "label": f"阶段 {index + 1}", "settings": {
            "fields": [{"key": "note", "label": "备注", "kind": "text"}]}})
        edges.append({"source": previous, "target": node_id,
                      **({"outcome": "submitted"} if previous != "start" else {})})
        previous = node_id
    nodes.append({"id": "end", "type": "end"})
    edges.append({"source": previous, "target": "end", "outcome": "submitted"})
    return {"nodes": nodes, "edges": edges}


async def drive(kernel, tenant_id: int, run_ids: list[int]) -> float:
    from jimu.services import flows

    queue: asyncio.Queue[int] = asyncio.Queue()
    for run_id in run_ids:
        queue.put_nowait(run_id)

    async def worker() -> None:
        while not queue.empty():
            run_id = queue.get_nowait()
            for _ in range(FORMS):
                async with kernel.tenant_scope(tenant_id, role="admin"):
                    await flows.act(run_id, "submit", {"note": "ok"})

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


FLOOR_TABLES = """
CREATE TABLE bench_run (id serial PRIMARY KEY, tenant_id int, node_id text, revision int,
                        status text, data jsonb, updated_at timestamptz);
CREATE TABLE bench_step (id serial PRIMARY KEY, tenant_id int, run_id int, seq int,
                         node_id text, outcome text, at timestamptz);
CREATE TABLE bench_outbox (id serial PRIMARY KEY, tenant_id int, event_type text,
                           payload jsonb, created_at timestamptz);
"""


async def floor(url: str, runs: int) -> float:
    import asyncpg

    pool = await asyncpg.create_pool(url, min_size=CONCURRENCY, max_size=CONCURRENCY)
    try:
        async with pool.acquire() as connection:
            await connection.execute(FLOOR_TABLES)
            await connection.executemany(
                "INSERT INTO bench_run (tenant_id, node_id, revision, status, data, updated_at) "
                "VALUES (1, 'f0', 0, 'waiting', '{}', now())", [() for _ in range(runs)])
            ids = [r["id"] for r in await connection.fetch("SELECT id FROM bench_run")]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for run_id in ids:
            queue.put_nowait(run_id)

        async def worker() -> None:
            async with pool.acquire() as connection:
                while not queue.empty():
                    run_id = queue.get_nowait()
                    for step in range(FORMS):
                        async with connection.transaction():
                            row = await connection.fetchrow(
                                "SELECT revision, data FROM bench_run WHERE id = $1 FOR UPDATE",
                                run_id)
                            data = json.loads(row["data"])
                            data[f"f{step}"] = {"note": "ok"}
                            moved = await connection.execute(
                                "UPDATE bench_run SET node_id = $1, revision = revision + 1, "
                                "data = $2, updated_at = now() WHERE id = $3 AND revision = $4",
                                f"f{step + 1}", json.dumps(data), run_id, row["revision"])
                            assert moved == "UPDATE 1"
                            await connection.execute(
                                "INSERT INTO bench_step (tenant_id, run_id, seq, node_id, "
                                "outcome, at) VALUES (1, $1, $2, $3, 'submitted', now())",
                                run_id, step + 1, f"f{step}")
                            for kind in ("flow.moved", "flow.waiting"):
                                await connection.execute(
                                    "INSERT INTO bench_outbox (tenant_id, event_type, payload, "
                                    "created_at) VALUES (1, $1, $2, now())",
                                    kind, json.dumps({"run": run_id, "node": f"f{step + 1}"}))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started
    finally:
        await pool.close()


PLUGINS = ("flow_nodes", "work_orders")


async def create_work_orders(kernel, tenant_id: int) -> list[int]:
    """``RUNS`` work orders of a type that runs the ten forms; their runs' ids."""
    from jimu.services.tenants import save_plugin_settings
    from jimu_work_orders import services as work_orders

    async with kernel.tenant_scope(tenant_id, role="admin"):
        await save_plugin_settings(kernel, "work_orders", {"types": [
            {"key": "bench", "title": "十步表单", "flow": "bench"}]})
    run_ids = []
    for index in range(RUNS):
        async with kernel.tenant_scope(tenant_id, role="admin"):
            order = await work_orders.create_work_order(title=f"基准工单 {index + 1}",
                                                        type="bench")
            run_ids.append(order["run_id"])
    return run_ids


async def unfinished_events(kernel) -> int:
    from jimu.db.tables import OutboxEvent

    async with kernel.db.transaction(write=False):
        return await OutboxEvent.count().where(OutboxEvent.completed_at.is_null())


async def wait_for_handlers(kernel, worker: subprocess.Popen | None) -> None:
    """Relay what is left and wait until every event's handlers ran."""
    if worker is None:
        await kernel.jobs.drain(timers=False)
        return
    deadline = time.monotonic() + 600
    while await unfinished_events(kernel):
        if worker.poll() is not None:
            raise RuntimeError(f"the worker process ended (exit {worker.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError("events still unfinished after 10 minutes")
        await kernel.jobs.relay_outbox()
        await asyncio.sleep(0.05)


def start_worker(url: str, broker_url: str, namespace: str) -> subprocess.Popen:
    """``jimu worker`` as deployed: its own process, its own pool, on the same broker."""
    env = {**os.environ, "DATABASE_URL": url, "BROKER_URL": broker_url,
           "JIMU_BROKER_NAMESPACE": namespace, "JIMU_LOAD_PLUGINS": ",".join(PLUGINS),
           "JIMU_LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "jimu.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL)


async def check_followed(kernel, tenant_id: int) -> str | None:
    """Every run completed and every work order in step with it; else what is not."""
    from jimu.db.tables import FlowRun, OutboxEvent
    from jimu_work_orders.tables import WorkOrder

    async with kernel.tenant_scope(tenant_id, write=False):
        runs = {r["id"]: r for r in await FlowRun.scoped_select(
            FlowRun.id, FlowRun.status, FlowRun.revision)}
        orders = await WorkOrder.scoped_select(WorkOrder.run_id, WorkOrder.status,
                                               WorkOrder.run_revision)
        moved = await OutboxEvent.count().where(OutboxEvent.event_type == "work_order.moved")
    if sum(r["status"] == "completed" for r in runs.values()) != RUNS:
        return "not every run completed"
    behind = [o for o in orders if o["status"] != "completed"
              or o["run_revision"] != runs[o["run_id"]]["revision"]]
    if len(orders) != RUNS or behind:
        return f"{len(behind)} of {len(orders)} work orders did not follow their runs"
    print(f"every work order followed its run: {RUNS} completed, {moved:,} "
          "work_order.moved events published by the handlers")
    return None


async def run(base_url: str, broker_url: str, worker_mode: str) -> int:
    from jimu.kernel import Kernel
    from jimu.services import flows
    from jimu.services.tenants import create_tenant
    from jimu.settings import Settings

    logging.disable(logging.WARNING)
    name = f"jimu_bench_flows_{uuid.uuid4().hex[:10]}"
    namespace = f"bench-{name}"
    await admin(base_url, f'CREATE DATABASE "{name}"')
    url = with_database(base_url, name)
    kernel = Kernel(Settings(database_url=url, broker_url=broker_url,
                             broker_namespace=namespace,
                             run_worker_in_process=worker_mode == "inline",
                             run_scheduler_in_process=False, load_plugins=PLUGINS,
                             pool_size=CONCURRENCY + 2))
    worker = None
    try:
        kernel.load_plugins()
        await kernel.db.migrate()
        if worker_mode == "process":
            worker = start_worker(url, broker_url, namespace)
        await kernel.start()
        async with kernel.tenant_scope(None):
            tenant = await create_tenant(kernel, slug="bench", name="基准企业",
                                         admin_username=f"bench-{name}",
                                         admin_password="bench-password",
                                         plugins=list(PLUGINS))
        tenant_id = tenant["id"]
        async with kernel.tenant_scope(tenant_id, role="admin"):
            flow = await flows.create_flow(code="bench", name="十步表单", description="",
                                           subject="work_orders", graph=ten_forms())
            await flows.publish(flow["id"], 1)
        run_ids = await create_work_orders(kernel, tenant_id)
        await wait_for_handlers(kernel, worker)
        transitions = RUNS * FORMS
        print(f"{RUNS} work orders × {FORMS} forms = {transitions:,} transitions, "
              f"{CONCURRENCY} at a time; the work_orders handlers on a worker "
              f"({'a separate process' if worker else 'in this process'})", flush=True)
        runtime = await drive(kernel, tenant_id, run_ids)
        started = time.perf_counter()
        await wait_for_handlers(kernel, worker)  # every event through Redis and the worker
        relayed = time.perf_counter() - started
        problem = await check_followed(kernel, tenant_id)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        floor_seconds = await floor(url, RUNS)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        await kernel.stop()
        await admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    runtime_rate = transitions / runtime
    settled_rate = transitions / (runtime + relayed)
    floor_rate = transitions / floor_seconds
    print(f"runtime: {runtime_rate:,.0f} transitions/s ({runtime:.2f} s)")
    print(f"         {settled_rate:,.0f} transitions/s until the last handler finished "
          f"({relayed:.2f} s more to relay and handle the last events)")
    print(f"floor:   {floor_rate:,.0f} transitions/s ({floor_seconds:.2f} s, hand-written SQL)")
    print(f"ratio:   {runtime_rate / floor_rate:.2f} of the floor's rate (the runtime takes "
          f"{floor_rate / runtime_rate:.2f}× its time per transition); target ≥ "
          f"{TARGET_PER_SECOND}/s: {'met' if runtime_rate >= TARGET_PER_SECOND else 'MISSED'}")
    return 0 if runtime_rate >= TARGET_PER_SECOND else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "JIMU_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--broker-url", default=os.environ.get(
        "JIMU_TEST_BROKER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--worker", choices=("process", "inline"), default="process",
                        help="the work_orders handlers on a separate `jimu worker` process "
                             "(default, as deployed) or on this process's in-process worker")
    args = parser.parse_args()
    return asyncio.run(run(args.database_url, args.broker_url, args.worker))


if __name__ == "__main__":
    sys.exit(main())
