"""Re-evaluating the price tiers of 10,000 partners from 1,000,000 order lines (PostgreSQL).

    .venv/bin/python benchmarks/tier_evaluation.py        # ~1 min; needs PostgreSQL
    .venv/bin/python benchmarks/tier_evaluation.py --database-url postgres://…/postgres

A fresh database is created (and dropped afterwards) next to ``--database-url``; one tenant with
the price tiers plugin, 10,000 store partners, a monthly-volume rule set (≥5000 → A, ≥1000 → B,
else C) and 1,000,000 completed order lines in last month's window, spread over the partners.

a. **First evaluation**: ``price_tiers`` ``services.evaluate()`` — every partner gets its first
   tier (10,000 assignment rows written).
b. **Re-evaluation**: the same call again (nothing changes, nothing written) — the nightly job.
c. **Floor**: one hand-written SQL aggregate over the same rows in the same run
   (``SUM(quantity) … GROUP BY partner_id`` over the window).

Target: b ≤ 3 × c (and a is reported). Medians of 3 runs. Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import admin, with_database

TARGET = 3.0
PARTNERS, ROWS = 10_000, 1_000_000
BANDS = {"bands": [{"min": "0", "max": "1000", "tier": "C"},
                   {"min": "1000", "max": "5000", "tier": "B"},
                   {"min": "5000", "max": None, "tier": "A"}]}


async def run(base_url: str, rounds: int) -> int:
    from jimu.kernel import Kernel
    from jimu.services.tenants import create_tenant
    from jimu.settings import Settings
    from jimu_price_tiers import services
    from jimu_price_tiers.tables import Volume

    logging.disable(logging.WARNING)
    name = f"jimu_bench_tiers_{uuid.uuid4().hex[:10]}"
    await admin(base_url, f'CREATE DATABASE "{name}"')
    kernel = Kernel(Settings(database_url=with_database(base_url, name),
                             run_worker_in_process=False, run_scheduler_in_process=False,
                             load_plugins=("price_tiers",)))
    try:
        kernel.load_plugins()
        await kernel.db.migrate()
        kernel.db.activate()
        async with kernel.tenant_scope(None):
            tenant = await create_tenant(kernel, slug="bench", name="基准企业",
                                         admin_username=f"bench-{name}",
                                         admin_password="bench-password",
                                         plugins=["price_tiers"])
        tenant_id = tenant["id"]
        print(f"filling {PARTNERS:,} partners and {ROWS:,} order lines …", flush=True)
        async with kernel.tenant_scope(tenant_id):
            for code, rank in (("A", 1), ("B", 2), ("C", 3)):
                await services.create_tier(code=code, name=code, rank=rank)
            await Volume.raw(
                "INSERT INTO core_partner (tenant_id, code, name, kind, level, region_code, "
                "contact_phone, created_at, updated_at) SELECT {}, 'P' || g, 'P' || g, "
                "'store', '', '110105', '', now(), now() FROM generate_series(1, {}) g",
                tenant_id, PARTNERS)
            await services.create_rule_set(services.RuleSetIn(
                code="fmcg", name="fmcg", basis="monthly_volume", body=BANDS))
            start, end, _ = services.volume_window()
            await Volume.raw(
                "INSERT INTO price_tiers_volume (tenant_id, partner_id, order_ref, line_no, "
                "item, category, quantity, amount, completed_at) "
                "SELECT {}, p.id, 'O' || g, 1, 'W', 'B', (g % 40) + 1, 10, "
                "{}::timestamptz + (g % 2000000) * interval '1 second' "
                "FROM generate_series(1, {}) g "
                "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM core_partner "
                "WHERE tenant_id = {}) p ON p.n = g % {}",
                tenant_id, start, ROWS, tenant_id, PARTNERS)
        await admin(with_database(base_url, name), "ANALYZE")

        async def aggregate() -> float:
            async with kernel.tenant_scope(tenant_id, write=False):
                started = time.perf_counter()
                await Volume.raw(
                    "SELECT partner_id, SUM(quantity) FROM price_tiers_volume "
                    "WHERE tenant_id = {} AND completed_at >= {} AND completed_at < {} "
                    "GROUP BY partner_id", tenant_id, start, end)
                return time.perf_counter() - started

        async def evaluate() -> tuple[float, int]:
            async with kernel.tenant_scope(tenant_id):
                started = time.perf_counter()
                summary = await services.evaluate()
                return time.perf_counter() - started, summary.changed

        first, changed = await evaluate()
        floors, again = [], []
        for _ in range(rounds):
            floors.append(await aggregate())
            elapsed, changed_again = await evaluate()
            if changed_again:
                print(f"re-evaluation changed {changed_again} tiers; expected none")
                return 1
            again.append(elapsed)
    finally:
        await kernel.stop()
        await admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    floor = statistics.median(floors)
    steady = statistics.median(again)
    print(f"tiers of {PARTNERS:,} partners from {ROWS:,} order lines, PostgreSQL, "
          f"{rounds} rounds (median)")
    print(f"  a. first evaluation ({changed:,} tiers written) {first * 1000:8.0f} ms  "
          f"= {first / floor:.2f} × c")
    print(f"  b. re-evaluation (nothing changes)      {steady * 1000:8.0f} ms  "
          f"= {steady / floor:.2f} × c   target ≤ {TARGET}")
    print(f"  c. one SQL aggregate (floor)            {floor * 1000:8.0f} ms")
    verdict = steady / floor <= TARGET
    print("PASS" if verdict else "MISS")
    return 0 if verdict else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.database_url, args.rounds)))


if __name__ == "__main__":
    main()
