"""A settlement run of 10,000 partners over 1,000,000 ledger rows (PostgreSQL or SQLite).

    .venv/bin/python benchmarks/settlement_run.py                 # ~1 min; needs PostgreSQL
    .venv/bin/python benchmarks/settlement_run.py --database-url postgres://…/postgres
    .venv/bin/python benchmarks/settlement_run.py --database-url sqlite://   # 100,000 rows

A fresh database is created (and dropped afterwards) next to ``--database-url``; a ``sqlite://``
URL means a fresh file in a temporary folder (``sqlite:///path`` names the file; it must not
exist, and it is removed afterwards). In it: one tenant with the settlement plugin;
``--partners`` core partners, half in North China (110105, 120112), half in South China
(440106, 440304); the two programmes of the settlement tests (``NORTH_LADDER``, a ladder rebate
on 饮料 over the north; ``SOUTH_SHARE``, a volume share over the south), decoded as the API
decodes them and made by ``programmes.create_programme``; the open period 2026-10 and
``--rows`` ledger entries booked in it (88 % sales in four categories, 1 % of them carried
forward from 2026-09; 6 % service fees, 3 % work-order shares, 3 % subsidies), loaded by COPY
(PostgreSQL) or ``executemany`` (SQLite). Loading is not timed.

a. **Settlement run**: ``runs.start(period)`` in a tenant transaction, as the API starts it,
   then the ``settlement.run`` job through ``run_outside_transaction``, as the scheduler's
   timer runs it: no transaction open; the run itself in one transaction (the ledger summed
   in one pass, statements and lines written from it), its progress committed on the side.
b. **Re-run** of the same period: the same again. It must replace what a. wrote, not add to
   it: the statements, their lines, their total payable and the programme entries are
   checked identical.
c. **Floor**: one hand-written SQL aggregate over the same rows
   (``SUM(amount), SUM(quantity), COUNT(*) … GROUP BY partner_id, kind``, fetched fully).

``--rounds`` rounds (default 3) of: c, a, c, b, c. Before each round after the first, what
the runs wrote (statements, lines, runs, programme entries) is deleted and the tables
vacuumed, so a. is a first run again. Before each measured step a CHECKPOINT writes out the
pages the previous step dirtied, which PostgreSQL would otherwise flush in the background
during the next one (each step still waits for its own commit to reach the WAL). Each figure
is the median of its rounds: this machine is shared, and a single run can land on another
process's burst.

Targets (PostgreSQL): a. and b. each ≤ 60 s and ≤ 3 × c. On SQLite the figures are reported,
not gated. The time of each stage of a run (read, compute, write, progress) is printed beside
it (the median round's). Exits 1 when a target is missed or a run's result differs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import inspect
import logging
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "plugins" / "settlement" / "tests"))
from _common import Verdicts, admin, with_database
from settlement_support import NORTH_LADDER, SOUTH_SHARE

TARGET_SECONDS, TARGET_RATIO = 60.0, 3.0
PARTNERS = 10_000
ROWS = {"postgres": 1_000_000, "sqlite": 100_000}
PERIOD, PREVIOUS = "2026-10", "2026-09"
CHUNK = 50_000  # ledger rows per COPY / executemany
REGIONS = ("110105", "440106", "120112", "440304")  # even partners north, odd south
# (category, item prefix, unit price): half the sales lines are 饮料, which the ladder counts.
CATEGORIES = ((("饮料", "TEA", Decimal("68.00")),) * 5 + (("零食", "SNACK", Decimal("12.50")),) * 2
              + (("日化", "SOAP", Decimal("23.90")),) * 2 + (("器具", "CUP", Decimal("10.00")),))
WORK_ORDER_KINDS = (("service_fees", "installer", Decimal("180.00")),
                    ("work_order_shares", "dealer", Decimal("35.50")),
                    ("subsidies", "installer", Decimal("20.00")))
PARTNER_COLUMNS = ("tenant_id", "code", "name", "kind", "level", "region_code", "contact_phone",
                   "created_at", "updated_at")
ENTRY_COLUMNS = ("tenant_id", "period", "origin_period", "partner_id", "role", "kind", "amount",
                 "tax", "quantity", "cost", "source_type", "source_id", "source_ref",
                 "source_line", "item", "category", "region_code", "doc_date", "run_id", "note",
                 "created_at")
FLOOR_SQL = ("SELECT partner_id, kind, SUM(amount), SUM(quantity), COUNT(*) FROM "
             "settlement_entry WHERE tenant_id = {} AND period = {} GROUP BY partner_id, kind")
ZERO = Decimal(0)
STAMP = dt.datetime(2026, 10, 31, 12, tzinfo=dt.UTC)


# ----------------------------------------------------------------------------- data


def partner_rows(tenant_id: int, count: int) -> list[tuple[Any, ...]]:
    return [(tenant_id, f"BP{i:05d}", f"基准经销商 {i}", "store" if i % 4 else "dealer",
             "" if i % 4 else "level1", REGIONS[i % 4], "", STAMP, STAMP)
            for i in range(count)]


def ledger_rows(tenant_id: int, partners: list[tuple[int, str]], start: int, stop: int,
                total: int) -> Iterator[tuple[Any, ...]]:
    """Rows ``start``..``stop`` of ``total``: row g belongs to partner g mod n, and is that
    partner's r-th row; its kind, category and quantity follow from (partner, r), so every
    partner gets the same mix and partners differ in volume (ten scales: some stay in the
    ladder's first band, some reach the third). Quantities grow when partners have fewer
    than 100 rows each, so a partner's month weighs the same whatever ``--rows``."""
    count = len(partners)
    boost = max(1, round(100 * count / total))
    quantities = [Decimal(q * boost) for q in range(251)]
    days = [dt.date(2026, 10, d) for d in range(1, 32)]
    carried_day = dt.date(2026, 9, 30)
    for g in range(start, stop):
        p, r = g % count, g // count
        partner_id, region = partners[p]
        h = (r * 37 + p * 11) % 100
        if h < 88:
            category, prefix, price = CATEGORIES[(r * 3 + p) % 10]
            quantity = quantities[1 + (r * 53 + p * 7) % (25 * (1 + p % 10))]
            carried = (r * 13 + p) % 100 == 0
            yield (tenant_id, PERIOD, PREVIOUS if carried else PERIOD, partner_id, "partner",
                   "sales", quantity * price, ZERO, quantity, ZERO, "order", g + 1,
                   f"SO-2026-{g + 1:07d}", "1", f"{prefix}-{r % 20}", category, region,
                   carried_day if carried else days[(r + p) % 31], None, "", STAMP)
        else:
            kind, role, amount = WORK_ORDER_KINDS[0 if h < 94 else 1 if h < 97 else 2]
            yield (tenant_id, PERIOD, PERIOD, partner_id, role, kind, amount, ZERO, ZERO, ZERO,
                   "work_order", g + 1, f"WO-2026-{g + 1:07d}", f"{role}:{kind}", "", "",
                   region, days[(r + p) % 31], None, "", STAMP)


async def load_postgres(url: str, tenant_id: int, partners: int, rows: int) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)  # the server's superuser: row security bypassed
    try:
        await connection.copy_records_to_table("core_partner", columns=PARTNER_COLUMNS,
                                               records=partner_rows(tenant_id, partners))
        found = await connection.fetch("SELECT id, region_code FROM core_partner WHERE "
                                       "tenant_id = $1 AND code LIKE 'BP%' ORDER BY code",
                                       tenant_id)
        ids = [(r["id"], r["region_code"]) for r in found]
        for start in range(0, rows, CHUNK):
            await connection.copy_records_to_table(
                "settlement_entry", columns=ENTRY_COLUMNS,
                records=ledger_rows(tenant_id, ids, start, min(rows, start + CHUNK), rows))
    finally:
        await connection.close()
    # As autovacuum would have done by the time a month is settled; only the tables loaded
    # here (analysing the empty statement tables would record them as empty).
    await admin(url, "VACUUM ANALYZE core_partner, settlement_entry")


def load_sqlite(path: Path, tenant_id: int, partners: int, rows: int) -> None:
    # piccolo's adapters (imported with the engine) store Decimal, date and datetime as the
    # platform itself writes them.
    connection = sqlite3.connect(path, timeout=60)
    try:
        connection.executemany(
            f"INSERT INTO core_partner ({', '.join(PARTNER_COLUMNS)}) VALUES "
            f"({', '.join('?' for _ in PARTNER_COLUMNS)})", partner_rows(tenant_id, partners))
        ids = connection.execute("SELECT id, region_code FROM core_partner WHERE tenant_id = ? "
                                 "AND code LIKE 'BP%' ORDER BY code", (tenant_id,)).fetchall()
        insert = (f"INSERT INTO settlement_entry ({', '.join(ENTRY_COLUMNS)}) VALUES "
                  f"({', '.join('?' for _ in ENTRY_COLUMNS)})")
        for start in range(0, rows, CHUNK):
            connection.executemany(insert, ledger_rows(tenant_id, ids, start,
                                                       min(rows, start + CHUNK), rows))
        connection.commit()
        connection.execute("ANALYZE")
    finally:
        connection.close()


# ----------------------------------------------------------------------------- stages


class Stages:
    """Wall time of a run's stages: wraps the ``runs`` module's functions, which ``execute``
    looks up when it calls them (the plugin itself is unchanged). A stage the module no
    longer has is left out."""

    NAMES = {"_read": "read", "_compute": "compute", "_write": "write",
             "_progress": "progress"}

    def __init__(self, module: Any) -> None:
        self.module = module
        self.seconds: dict[str, float] = {}
        self.originals = {name: getattr(module, name) for name in self.NAMES
                          if hasattr(module, name)}

    def _timed(self, name: str, function: Any) -> Any:
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    self._add(name, started)
            return timed_async

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._add(name, started)
        return timed

    def _add(self, name: str, started: float) -> None:
        label = self.NAMES[name]
        self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

    def ordered(self) -> dict[str, float]:
        return {label: self.seconds[label] for label in self.NAMES.values()
                if label in self.seconds}

    def __enter__(self) -> Stages:
        self.seconds = {}
        for name, function in self.originals.items():
            setattr(self.module, name, self._timed(name, function))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, function in self.originals.items():
            setattr(self.module, name, function)


# ----------------------------------------------------------------------------- the run


async def run(base_url: str, rows: int | None, partner_count: int, rounds: int) -> int:
    import msgspec
    from jimu.kernel import Kernel
    from jimu.services.tenants import create_tenant
    from jimu.settings import Settings
    from jimu_settlement import api, periods, programmes, runs
    from jimu_settlement.tables import Entry, Statement, StatementLine

    logging.disable(logging.WARNING)
    postgres = base_url.startswith(("postgres://", "postgresql://"))
    if not postgres and not base_url.startswith("sqlite:"):
        print(f"--database-url {base_url!r}: use postgres://… or sqlite://")
        return 2
    rows = rows or ROWS["postgres" if postgres else "sqlite"]
    workdir = None
    if postgres:
        name = f"jimu_bench_settlement_{uuid.uuid4().hex[:10]}"
        await admin(base_url, f'CREATE DATABASE "{name}"')
        url = with_database(base_url, name)
    else:
        given = base_url[len("sqlite:///"):] if base_url.startswith("sqlite:///") else ""
        if given:
            path = Path(given)
        else:
            workdir = tempfile.TemporaryDirectory(prefix="jimu-bench-settlement-")
            path = Path(workdir.name) / "settlement.sqlite3"
        if path.exists():
            print(f"{path} exists; name a file that does not (it is removed afterwards)")
            return 2
        url = f"sqlite:///{path}"
    kernel = Kernel(Settings(database_url=url, run_worker_in_process=False,
                             run_scheduler_in_process=False,
                             load_plugins=("price_lists", "settlement")))
    database = "PostgreSQL" if postgres else "SQLite"
    try:
        kernel.load_plugins()
        await kernel.db.migrate()
        kernel.db.activate()
        await kernel.db.prepare_sqlite()
        kernel.jobs.declare_actors()
        job = kernel.jobs.jobs["settlement.run"]
        async with kernel.tenant_scope(None):
            tenant = await create_tenant(kernel, slug="bench", name="基准企业",
                                         admin_username="bench-admin",
                                         admin_password="bench-password",
                                         plugins=["price_lists", "settlement"])
        tenant_id = tenant["id"]
        print(f"loading {partner_count:,} partners and {rows:,} ledger rows into {database} …",
              flush=True)
        started = time.perf_counter()
        if postgres:
            await load_postgres(url, tenant_id, partner_count, rows)
        else:
            await asyncio.to_thread(load_sqlite, path, tenant_id, partner_count, rows)
        async with kernel.tenant_scope(tenant_id):
            await periods.ensure_period(PERIOD)
            for body in (NORTH_LADDER, SOUTH_SHARE):  # as the API decodes and stores them
                await programmes.create_programme(api.programme_values(
                    msgspec.convert(body, api.ProgrammeBody, strict=False)))
        print(f"  loaded in {time.perf_counter() - started:.0f} s (not measured)", flush=True)

        async def quiet() -> None:
            """Write out what the step before dirtied (PostgreSQL flushes it in the
            background otherwise, on the same two cores, during the next measured step)."""
            if postgres:
                await admin(url, "CHECKPOINT")

        async def floor() -> float:
            await quiet()
            async with kernel.tenant_scope(tenant_id, write=False):
                started = time.perf_counter()
                await Entry.raw(FLOOR_SQL, tenant_id, PERIOD)
                return time.perf_counter() - started

        async def settle() -> tuple[float, dict[str, float], dict[str, Any]]:
            await quiet()
            with Stages(runs) as stages:
                started = time.perf_counter()
                async with kernel.tenant_scope(tenant_id):
                    queued = await runs.start(PERIOD)
                began = time.perf_counter()
                await kernel.jobs.run_outside_transaction(
                    job, "settlement", tenant_id, {"run_id": queued["id"], "close": False})
                elapsed = time.perf_counter() - started
            async with kernel.tenant_scope(tenant_id, write=False):
                done = await runs.get_run(queued["id"])
            return elapsed, {"start": began - started, **stages.ordered()}, done

        async def outcome() -> dict[str, Any]:
            async with kernel.tenant_scope(tenant_id, write=False):
                statements = await Statement.scoped_select(
                    Statement.sales, Statement.payable).where(Statement.period == PERIOD)
                return {
                    "statements": len(statements),
                    "statement lines": await StatementLine.scoped_count(),
                    "programme entries": await Entry.scoped_count().where(
                        (Entry.period == PERIOD) & Entry.run_id.is_not_null()),
                    "sales": sum((Decimal(s["sales"]) for s in statements), ZERO),
                    "payable": sum((Decimal(s["payable"]) for s in statements), ZERO)}

        async def clear() -> None:
            """Back to the state before a first run: nothing the runs wrote."""
            tables = ("settlement_statement_line", "settlement_statement",
                      "settlement_statement_event", "settlement_run")
            if postgres:
                for table in tables:
                    await admin(url, f"DELETE FROM {table}")
                await admin(url, "DELETE FROM settlement_entry WHERE run_id IS NOT NULL")
                for table in (*tables, "settlement_entry"):
                    await admin(url, f"VACUUM ANALYZE {table}")
            else:
                async with kernel.tenant_scope(tenant_id):
                    for table in tables:
                        await Entry.raw(f"DELETE FROM {table}")
                    await Entry.raw("DELETE FROM settlement_entry WHERE run_id IS NOT NULL")

        await floor()  # warm-up: the same pages the run reads
        floors: list[float] = []
        rounds_done: list[dict[str, Any]] = []
        for number in range(rounds):
            if number:
                await clear()
            floors.append(await floor())
            first, first_stages, first_run = await settle()
            after_first = await outcome()
            floors.append(await floor())
            again, again_stages, again_run = await settle()
            after_again = await outcome()
            floors.append(await floor())
            rounds_done.append({"a": first, "a_stages": first_stages, "a_run": first_run,
                                "a_outcome": after_first, "b": again, "b_stages": again_stages,
                                "b_run": again_run, "b_outcome": after_again})
            print(f"  round {number + 1}: a. {first:.2f} s, b. {again:.2f} s, floors "
                  f"{', '.join(f'{f:.3f}' for f in floors[-3:])} s", flush=True)
    finally:
        await kernel.stop()
        if postgres:
            await admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif workdir is not None:
            workdir.cleanup()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    for done in rounds_done:
        for label in ("a", "b"):
            if done[f"{label}_run"]["status"] != "completed":
                ended = done[f"{label}_run"]
                print(f"run {label}. ended {ended['status']}: {ended['error']}")
                return 1
    c = statistics.median(floors)
    first = statistics.median(r["a"] for r in rounds_done)
    again = statistics.median(r["b"] for r in rounds_done)
    middle = sorted(rounds_done, key=lambda r: r["a"])[len(rounds_done) // 2]
    print(f"\nsettlement run of {PERIOD}: {partner_count:,} partners, {rows:,} ledger rows, "
          f"{database}, median of {rounds} rounds")
    each = {label: ", ".join(f"{r[label]:.2f}" for r in rounds_done) for label in ("a", "b")}
    print(f"  a. settlement run        {first:8.2f} s  = {first / c:5.2f} × c   "
          f"(rounds: {each['a']} s)")
    print(f"  b. re-run, same period   {again:8.2f} s  = {again / c:5.2f} × c   "
          f"(rounds: {each['b']} s)")
    print(f"  c. one SQL aggregate     {c:8.3f} s  (floor; median of {len(floors)}: "
          f"{min(floors):.3f} to {max(floors):.3f} s)")
    print("\n  where a run's time goes (s, the median round's):")
    for label in ("a", "b"):
        stages = middle[f"{label}_stages"]
        other = middle[label] - sum(stages.values())
        print(f"    {label}. " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in
                                         stages.items()) + f", other {other:.2f}")
    first_run = rounds_done[0]["a_run"]
    totals = first_run["totals"]
    print(f"\n  a. wrote {first_run['statements']:,} statements from {totals['entries']:,} "
          f"entries: sales {totals['sales']}, payable {totals['payable']} (rebates "
          f"{totals['rebates']}, volume shares {totals['volume_shares']})")
    reference = rounds_done[0]["a_outcome"]
    same = all(r[f"{label}_outcome"] == reference and r[f"{label}_run"]["totals"] == totals
               for r in rounds_done for label in ("a", "b"))
    print("  re-runs replace, not add (round 1's run and re-run):")
    after_again = rounds_done[0]["b_outcome"]
    for key, value in reference.items():
        mark = "=" if value == after_again[key] else "≠"
        print(f"    {key:<18} {value!s:>22} {mark} {after_again[key]!s:<22}")
    print(f"    every run of every round: {'identical' if same else 'DIFFERENT'}")

    verdicts = Verdicts()
    verdicts.check("every run's result identical", "yes" if same else "no", "yes", same)
    if postgres:
        for label, seconds in (("a. settlement run", first), ("b. re-run", again)):
            verdicts.check(f"{label} time", f"{seconds:.1f} s", f"≤ {TARGET_SECONDS:.0f} s",
                           seconds <= TARGET_SECONDS)
            verdicts.check(f"{label} / floor", f"{seconds / c:.2f}×", f"≤ {TARGET_RATIO}×",
                           seconds / c <= TARGET_RATIO)
    else:
        print("\n  SQLite: figures only; the targets apply to PostgreSQL.")
    verdicts.print()
    return verdicts.exit_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server (a fresh database is made next to it), or "
                             "sqlite:// for a fresh SQLite file")
    parser.add_argument("--rows", type=int, default=None,
                        help="ledger rows (default 1,000,000 on PostgreSQL, 100,000 on SQLite)")
    parser.add_argument("--partners", type=int, default=PARTNERS)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of floor, run, re-run; each figure is their median")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.database_url, args.rows, args.partners, max(1, args.rounds))))


if __name__ == "__main__":
    main()
