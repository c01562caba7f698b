"""Settlement runs (结算): a period's statements, from the ledger, in one pass.

A run reads the period's ledger in one grouped query (per partner, kind and carried-forward
or not; each programme's counted purchases are conditional sums of the same pass), computes
every programme's rebate or share per partner in memory, and writes everything — the rebate
and share entries, each partner's statement and its lines — in one last transaction. So a
failed run writes nothing but its own failure, and a run again of the same period replaces
what the previous one wrote (its entries carry its ``run_id``): it never counts twice, and
gives the same statements when nothing was booked in between.

Progress is written in short transactions of its own while the run works (the job runs with
no transaction open), so the page and the CLI show it live.

Sums are exact on both databases: PostgreSQL sums ``numeric``; SQLite sums whole fen (and
ten-thousandths of quantities) as integers, never floats.

On PostgreSQL the rows are written as one array per column (``INSERT … SELECT * FROM
unnest(…)``): a handful of parameters per table instead of one per value, which piccolo would
compile one by one (COPY is refused on tables with row-level security). SQLite gets batches
of ``VALUES``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jimu_sdk import (
    N_,
    Conflict,
    JimuError,
    NotFound,
    Progress,
    current_scope,
    current_tenant_id,
    platform,
)

from jimu_settlement import periods, programmes
from jimu_settlement.ledger import BASIS_KINDS, KINDS
from jimu_settlement.tables import Entry, Run, Statement, StatementEvent, StatementLine

BATCH = 400  # rows per INSERT on SQLite: well under its limit on parameters
ARRAY_BATCH = 100_000  # rows per INSERT … unnest on PostgreSQL (one array per column)
# The grouped read runs once: compiling it with JIT (when its estimate passes jit_above_cost,
# as with a few programmes' filters over a million rows) took ~75 ms and gained nothing. A
# larger work_mem, which keeps its hash aggregate from spilling, measured slower.
READ_SETTINGS = "SELECT set_config('jit', 'off', true)"
ABANDONED_AFTER = dt.timedelta(minutes=30)
ZERO = Decimal(0)


def _pg() -> bool:
    return bool(Entry._meta.db.engine_type == "postgres")


DOCUMENT = ("source_type || ':' || source_id || ':' || CASE WHEN source_type = 'import' "
            "THEN source_ref ELSE '' END")
"""One document of the ledger, for counting orders: an order or work order by its id, an
imported row by its batch and its old number (a batch holds many documents)."""


def sum_sql(column: str, scale: int, condition: str = "") -> str:
    """A SUM of a money (scale 100) or quantity (scale 10000) column: exact on SQLite, which
    sums NUMERIC as floats, by summing integer fen; read it back with ``sum_value`` (a
    conditional sum of no rows is NULL on PostgreSQL, where FILTER is cheaper than CASE)."""
    if _pg():
        return f"SUM({column})" + (f" FILTER (WHERE {condition})" if condition else "")
    value = column if not condition else f"CASE WHEN {condition} THEN {column} ELSE 0 END"
    return f"SUM(CAST(ROUND(({value}) * {scale}) AS INTEGER))"


def sum_value(value: Any, scale: int) -> Decimal:
    return _sum_reader(_pg())(value, scale)


def _numeric_sum(value: Any, scale: int) -> Decimal:
    return ZERO if value is None else Decimal(value)


def _integer_sum(value: Any, scale: int) -> Decimal:
    return ZERO if value is None else Decimal(int(value)) / scale


def _sum_reader(pg: bool) -> Callable[[Any, int], Decimal]:
    """``sum_value`` of one database, for loops reading many sums (without asking the
    engine for each)."""
    return _numeric_sum if pg else _integer_sum


def _plain(value: Decimal | None) -> str | None:
    """``4680.0000`` → ``4680``, ``2.50`` → ``2.5`` (quantities and rates as people write)."""
    return None if value is None else format(value.normalize(), "f")


def _user_id() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


# ----------------------------------------------------------------------------- starting


async def start(period: str, *, close: bool = False) -> dict[str, Any]:
    """Queue a run of ``period`` (409 when it is closed or a run of it is working); with
    ``close`` the period is closed when the run completes."""
    row = await periods.get_period(period)
    if row["status"] == "closed":
        raise Conflict(N_("period %(period)s is closed; reopen it to run it again"),
                       field="period", params={"period": period})
    now = platform().now()
    for running in await Run.scoped_select().where((Run.period == period)
                                                   & (Run.status == "running")):
        if now - running["started_at"] < ABANDONED_AFTER:
            raise Conflict(N_("a settlement run of %(period)s is already working (run "
                              "%(run)s)"), field="period",
                           params={"period": period, "run": running["id"]})
        await Run.scoped_update({Run.status: "failed", Run.finished_at: now,
                                 Run.error: "abandoned: no progress for 30 minutes"}).where(
            Run.id == running["id"])
    run = await Run.scoped_insert(period=period, status="running", progress=0,
                                  stage="queued", started_by=_user_id(), started_at=now)
    await platform().schedule_at(now, "settlement.run", {"run_id": run["id"], "close": close},
                                 key=f"settlement-run:{run['id']}")
    return run


async def get_run(run_id: int) -> dict[str, Any]:
    row = await Run.scoped_select().where(Run.id == run_id).first()
    if row is None:
        raise NotFound(N_("there is no settlement run %(id)s"), params={"id": run_id})
    return row


async def list_runs(period: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    query = Run.scoped_select().order_by(Run.id, ascending=False).limit(limit)
    if period is not None:
        query = query.where(Run.period == period)
    return await query


async def latest_completed(period: str) -> dict[str, Any] | None:
    return await Run.scoped_select().where(
        (Run.period == period) & (Run.status == "completed")).order_by(
        Run.id, ascending=False).first()


async def newest_booked_entry(period: str) -> int:
    rows = await Entry.raw(
        "SELECT MAX(id) AS newest FROM settlement_entry WHERE tenant_id = {} AND period = {} "
        "AND run_id IS NULL AND partner_id IS NOT NULL", current_tenant_id(), period)
    return int(rows[0]["newest"] or 0) if rows else 0


# ----------------------------------------------------------------------------- the job


async def run_job(tenant_id: int, run_id: int, close: bool = False) -> None:
    """The ``settlement.run`` job (``transaction=False``): progress in short transactions,
    the result in one; then, if asked, the period's close in another."""
    run = await execute(run_id)
    if close and run["status"] == "completed":
        async with platform().transaction():
            await periods.close_period(run["period"], note=f"closed by settlement run {run_id}")


async def _progress(run_id: int, percent: int, stage: str, report: Progress | None) -> None:
    async with platform().transaction():
        await Run.scoped_update({Run.progress: percent, Run.stage: stage}).where(
            (Run.id == run_id) & (Run.status == "running"))
    if report is not None:
        report(percent, stage)


async def execute(run_id: int, report: Progress | None = None) -> dict[str, Any]:
    """Run a queued run to its end; returns it. A failure marks it failed with the reason and
    leaves everything else as it was."""
    async with platform().transaction(write=False):
        run = await get_run(run_id)
    if run["status"] != "running":
        return run
    try:
        await _progress(run_id, 5, "reading the ledger", report)
        async with platform().transaction(write=False):
            ledger = await _read(run["period"])
        await _progress(run_id, 45, "computing rebates and shares", report)
        result = _compute(run["period"], ledger)
        await _progress(run_id, 70, "writing statements", report)
        async with platform().transaction():
            await _write(run, ledger, result)
        if report is not None:
            report(100, "completed")
    except Exception as exc:
        reason = exc.message if isinstance(exc, JimuError) else f"{type(exc).__name__}: {exc}"
        async with platform().transaction():
            await Run.scoped_update({Run.status: "failed", Run.error: reason[:2000],
                                     Run.finished_at: platform().now()}).where(
                Run.id == run_id)
        if not isinstance(exc, JimuError):
            raise
    async with platform().transaction(write=False):
        return await get_run(run_id)


# ----------------------------------------------------------------------------- reading


FilterKey = tuple[tuple[str, ...], tuple[str, ...]]  # programmes.filter_key
EVERY_SALE: FilterKey = ((), ())  # a programme counting every sales line


@dataclass
class Ledger:
    """What a run reads: the period's sums per partner, the programmes and the partners."""

    period: str
    rows: list[dict[str, Any]]
    programmes: list[dict[str, Any]]
    filters: list[FilterKey]
    partners: dict[int, dict[str, Any]]
    newest: int


def _condition(key: FilterKey) -> tuple[str, list[Any]]:
    """The SQL condition of the sales lines a programme counts, and its parameters (give
    them again for each use of the condition)."""
    categories, items = key
    parts: list[str] = []
    args: list[Any] = []
    if categories:
        parts.append("category IN (" + ", ".join("{}" for _ in categories) + ")")
        args.extend(categories)
    if items:
        parts.append("item IN (" + ", ".join("{}" for _ in items) + ")")
        args.extend(items)
    return "kind = 'sales'" + (f" AND ({' OR '.join(parts)})" if parts else ""), args


async def _read(period: str) -> Ledger:
    programmes_now = [p for p in await programmes.list_programmes(enabled_only=True)
                      if (not p["valid_from"] or p["valid_from"] <= period)
                      and (not p["valid_to"] or period <= p["valid_to"])]
    filters = sorted({programmes.filter_key(p) for p in programmes_now})
    counting_orders = any(p["per_order"] for p in programmes_now)
    args: list[Any] = []
    columns = [f"{sum_sql('amount', 100)} AS amount", f"{sum_sql('quantity', 10000)} AS quantity",
               "COUNT(*) AS entries", "MAX(id) AS newest"]
    for index, key in enumerate(filters):
        condition, params = _condition(key)
        if key != EVERY_SALE:  # which counts a sales row's own sums: no columns of its own
            columns.append(f"{sum_sql('quantity', 10000, condition)} AS q{index}")
            columns.append(f"{sum_sql('amount', 100, condition)} AS a{index}")
            args += params * 2
        if counting_orders:
            columns.append(f"COUNT(DISTINCT CASE WHEN {condition} THEN {DOCUMENT} END) "
                           f"AS o{index}")
            args += params
    sql = (f"SELECT partner_id, kind, CASE WHEN origin_period = period THEN 0 ELSE 1 END "
           f"AS carried, {', '.join(columns)} FROM settlement_entry WHERE tenant_id = {{}} AND "
           f"period = {{}} AND run_id IS NULL AND partner_id IS NOT NULL "
           f"GROUP BY partner_id, kind, CASE WHEN origin_period = period THEN 0 ELSE 1 END")
    if _pg():
        await Entry.raw(READ_SETTINGS)  # for this transaction only
    rows = await Entry.raw(sql, *args, current_tenant_id(), period)
    ids = sorted({r["partner_id"] for r in rows})
    partners = {p["id"]: dict(p) for p in await platform().list_partners(ids)} if ids else {}
    newest = max((int(r["newest"]) for r in rows), default=0)
    return Ledger(period, rows, programmes_now, filters, partners, newest)


# ----------------------------------------------------------------------------- computing


@dataclass
class StatementDraft:
    partner_id: int
    lines: dict[tuple[str, bool], dict[str, Any]] = field(default_factory=dict)
    sales: Decimal = ZERO  # the basis kinds' amounts
    payable: Decimal = ZERO  # the other kinds' amounts

    def add(self, kind: str, carried: bool, amount: Decimal, quantity: Decimal, entries: int,
            detail: Mapping[str, Any] | None = None) -> None:
        line = self.lines.get((kind, carried))
        if line is None:
            line = self.lines[(kind, carried)] = {
                "amount": ZERO, "quantity": ZERO, "entries": 0, "detail": {}}
        line["amount"] += amount
        line["quantity"] += quantity
        line["entries"] += entries
        if detail:
            line["detail"].setdefault("programmes", []).append(dict(detail))
        if kind in BASIS_KINDS:
            self.sales += amount
        else:
            self.payable += amount


@dataclass
class Result:
    statements: dict[int, StatementDraft]
    entries: list[dict[str, Any]]
    totals: dict[str, Any]


def _last_day(period: str) -> dt.date:
    return periods.bounds(period)[1] - dt.timedelta(days=1)


def _compute(period: str, ledger: Ledger) -> Result:
    value = _sum_reader(_pg())
    drafts: dict[int, StatementDraft] = {}
    counts: dict[tuple[int, int], list[Any]] = {}  # (partner, filter): quantity, amount, orders
    for row in ledger.rows:
        partner_id = row["partner_id"]
        draft = drafts.get(partner_id)
        if draft is None:
            draft = drafts[partner_id] = StatementDraft(partner_id)
        amount, quantity = value(row["amount"], 100), value(row["quantity"], 10000)
        draft.add(row["kind"], bool(row["carried"]), amount, quantity, int(row["entries"]))
        if row["kind"] != "sales":
            continue
        for index, key in enumerate(ledger.filters):
            held = counts.setdefault((partner_id, index), [ZERO, ZERO, 0])
            if key == EVERY_SALE:
                held[0] += quantity
                held[1] += amount
            else:
                held[0] += value(row[f"q{index}"], 10000)
                held[1] += value(row[f"a{index}"], 100)
            held[2] += int(row.get(f"o{index}") or 0)
    entries: list[dict[str, Any]] = []
    day = _last_day(period)
    counted = {key: index for index, key in enumerate(ledger.filters)}
    for programme in ledger.programmes:
        index = counted[programmes.filter_key(programme)]
        kind = "rebates" if programme["kind"] == "ladder_rebate" else "volume_shares"
        for partner_id, draft in drafts.items():
            volume = counts.get((partner_id, index))
            partner = ledger.partners.get(partner_id)
            if volume is None or partner is None or not programmes.covers(
                    programme, partner, period):
                continue
            result = programmes.outcome(programme, programmes.Volume(*volume))
            detail = {"programme": programme["code"], "name": programme["name"],
                      "kind": programme["kind"], "mode": programme["mode"],
                      "metric": programme["metric"], "volume": _plain(result.volume),
                      "band": None if result.band is None else result.band + 1,
                      "rate": _plain(result.rate),
                      "amount": str(result.amount), "explanation": result.explanation}
            draft.add(kind, False, result.amount, ZERO, 1 if result.amount else 0, detail)
            if result.amount:
                entries.append({
                    "period": period, "origin_period": period, "partner_id": partner_id,
                    "role": "partner", "kind": kind, "amount": result.amount,
                    "quantity": result.volume if programme["metric"] == "quantity" else ZERO,
                    "source_type": "programme", "source_id": programme["id"],
                    "source_ref": programme["code"], "source_line": str(partner_id),
                    "region_code": partner.get("region_code") or "", "doc_date": day,
                    "note": result.explanation[:1000]})
    totals = {
        "statements": len(drafts),
        "sales": str(sum((d.sales for d in drafts.values()), ZERO)),
        "payable": str(sum((d.payable for d in drafts.values()), ZERO)),
        "rebates": str(sum((e["amount"] for e in entries if e["kind"] == "rebates"), ZERO)),
        "volume_shares": str(sum((e["amount"] for e in entries
                                  if e["kind"] == "volume_shares"), ZERO)),
        "entries": sum(int(r["entries"]) for r in ledger.rows)}
    return Result(drafts, entries, totals)


# ----------------------------------------------------------------------------- writing


_TABLES = {table._meta.tablename: table for table in (Entry, Statement, StatementLine)}


def _array_type(table: str, column: str) -> str:
    """The PostgreSQL array a column's values travel in: ``numeric[]`` for ``NUMERIC(18, 4)``
    (the column's own length and scale apply when the row is stored, as with ``VALUES``)."""
    column_type = _TABLES[table]._meta.get_column_by_name(column).column_type
    return column_type.split("(")[0].lower() + "[]"


def _inserts(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
             suffix: str) -> Iterator[tuple[str, list[Any]]]:
    """The INSERTs of ``_insert`` and their parameters: on PostgreSQL one array per column,
    on SQLite batches of ``VALUES``."""
    head = f"INSERT INTO {table} ({', '.join(columns)})"
    if _pg():
        arrays = ", ".join(f"{{}}::{_array_type(table, column)}" for column in columns)
        for start in range(0, len(rows), ARRAY_BATCH):
            chunk = rows[start:start + ARRAY_BATCH]
            yield (f"{head} SELECT * FROM unnest({arrays}){suffix}",
                   [list(values) for values in zip(*chunk, strict=True)])
        return
    placeholders = "(" + ", ".join("{}" for _ in columns) + ")"
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        yield (f"{head} VALUES {', '.join(placeholders for _ in chunk)}{suffix}",
               [value for row in chunk for value in row])


async def _insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                  suffix: str = "") -> list[dict[str, Any]]:
    """Insert ``rows`` (values in the order of ``columns``) into ``table``; returns the rows
    ``suffix`` (``ON CONFLICT …``, ``RETURNING …``) gives back."""
    out: list[dict[str, Any]] = []
    for sql, args in _inserts(table, columns, rows, suffix):
        out.extend(await Entry.raw(sql, *args) or [])
    return out


def _line_order(key: tuple[str, bool]) -> tuple[int, int]:
    kind, carried = key
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), int(carried))


async def _write(run: Mapping[str, Any], ledger: Ledger, result: Result) -> None:
    tenant_id = current_tenant_id()
    period = run["period"]
    current = await get_run(run["id"])
    if current["status"] != "running":
        raise Conflict(N_("settlement run %(id)s was stopped"), params={"id": run["id"]})
    if (await periods.get_period(period))["status"] != "open":
        raise Conflict(N_("period %(period)s was closed while it was being settled"),
                       params={"period": period})
    now = platform().now()
    await Entry.raw("DELETE FROM settlement_entry WHERE tenant_id = {} AND period = {} AND "
                    "run_id IS NOT NULL", tenant_id, period)
    entry_columns = ("tenant_id", "period", "origin_period", "partner_id", "role", "kind",
                     "amount", "tax", "quantity", "cost", "source_type", "source_id",
                     "source_ref", "source_line", "item", "category", "region_code",
                     "doc_date", "run_id", "note", "created_at")
    await _insert("settlement_entry", entry_columns, [
        (tenant_id, e["period"], e["origin_period"], e["partner_id"], e["role"], e["kind"],
         e["amount"], ZERO, e["quantity"], ZERO, e["source_type"], e["source_id"],
         e["source_ref"], e["source_line"], "", "", e["region_code"], e["doc_date"],
         run["id"], e["note"], now) for e in result.entries])

    existing = {r["partner_id"]: r for r in await Statement.scoped_select(
        Statement.id, Statement.partner_id, Statement.status, Statement.sales,
        Statement.payable, Statement.revision, Statement.number).where(
        Statement.period == period)}
    if existing and _pg():
        # The ids in hand, not a subquery: a period re-run soon after its first run has
        # statements the planner's statistics do not know yet, and it picked a nested loop
        # over the tenant's every line (seconds to a minute for 10,000 statements).
        await Entry.raw("DELETE FROM settlement_statement_line WHERE tenant_id = {} AND "
                        "statement_id = ANY({})", tenant_id,
                        [r["id"] for r in existing.values()])
    elif existing:
        await Entry.raw("DELETE FROM settlement_statement_line WHERE tenant_id = {} AND "
                        "statement_id IN (SELECT id FROM settlement_statement WHERE "
                        "tenant_id = {} AND period = {})", tenant_id, tenant_id, period)
    rows, events = [], []
    for partner_id in sorted({*result.statements, *existing}):
        draft = result.statements.get(partner_id) or StatementDraft(partner_id)
        sales, payable = draft.sales, draft.payable
        before = existing.get(partner_id)
        status, revision = "draft", 0
        if before is not None:
            changed = (Decimal(before["sales"]) != sales
                       or Decimal(before["payable"]) != payable)
            status, revision = before["status"], before["revision"] + int(changed)
            if changed and status in ("confirmed", "disputed"):
                events.append((before["id"], status))
                status = "draft"
        rows.append((tenant_id, f"ST-{period}-{partner_id:06d}", period, partner_id, status,
                     "CNY", sales, payable, run["id"], revision, "", now, now))
    upsert = (" ON CONFLICT (tenant_id, period, partner_id) DO UPDATE SET "
              "status = excluded.status, sales = excluded.sales, payable = excluded.payable, "
              "run_id = excluded.run_id, revision = excluded.revision, "
              "updated_at = excluded.updated_at RETURNING id, partner_id")
    saved = await _insert("settlement_statement", (
        "tenant_id", "number", "period", "partner_id", "status", "currency", "sales",
        "payable", "run_id", "revision", "dispute_comment", "created_at", "updated_at"),
        rows, upsert)
    ids = {r["partner_id"]: r["id"] for r in saved}
    line_rows = []
    for partner_id, draft in result.statements.items():
        for number, key in enumerate(sorted(draft.lines, key=_line_order), start=1):
            line = draft.lines[key]
            line_rows.append((tenant_id, ids[partner_id], number, key[0], key[1],
                              line["amount"], line["quantity"], line["entries"],
                              json.dumps(line["detail"], ensure_ascii=False)
                              if line["detail"] else "{}"))
    await _insert("settlement_statement_line", (
        "tenant_id", "statement_id", "line_no", "kind", "carried", "amount", "quantity",
        "entries", "detail"), line_rows)
    if events:
        await StatementEvent.insert(*[StatementEvent(
            tenant_id=tenant_id, statement_id=statement_id, action="recomputed",
            from_status=status, to_status="draft", actor_id=_user_id(),
            comment=f"settlement run {run['id']} changed the amounts", at=now)
            for statement_id, status in events])
    await Run.scoped_update({Run.status: "completed", Run.progress: 100,
                             Run.stage: "completed", Run.last_entry_id: ledger.newest,
                             Run.statements: len(rows), Run.totals: result.totals,
                             Run.finished_at: now}).where(Run.id == run["id"])
    await platform().audit("settlement.run", f"settlement_period:{period}", None,
                           {"run_id": run["id"], **result.totals})


# ----------------------------------------------------------------------------- accruals


async def accruals(partner_id: int, period: str | None = None, *,
                   enabled: Sequence[Mapping[str, Any]] | None = None,
                   targets: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Where a partner stands in a period so far (默认本月): for each programme covering it,
    what it counted, what it would earn if the period ended now, the band it reached, how
    far the next band is and its target. ``enabled`` (the enabled programmes) and
    ``targets`` (the period's) are read once by a caller asking for many partners."""
    period = period or periods.code_of(periods.local_today())
    periods.check_code(period)
    partner = dict(await platform().get_partner(partner_id))
    if enabled is None:
        enabled = await programmes.list_programmes(enabled_only=True)
    covering = [p for p in enabled if programmes.covers(p, partner, period)]
    if targets is None:
        targets = await programmes.list_targets(period)
    out = []
    for programme in covering:
        condition, params = _condition(programmes.filter_key(programme))
        rows = await Entry.raw(
            f"SELECT {sum_sql('quantity', 10000, condition)} AS quantity, "
            f"{sum_sql('amount', 100, condition)} AS amount, COUNT(DISTINCT CASE WHEN "
            f"{condition} THEN {DOCUMENT} END) AS orders FROM settlement_entry WHERE "
            f"tenant_id = {{}} AND period = {{}} AND partner_id = {{}} AND run_id IS NULL",
            *(params * 3), current_tenant_id(), period, partner_id)
        row = rows[0] if rows else {}
        volume = programmes.Volume(sum_value(row.get("quantity"), 10000),
                                   sum_value(row.get("amount"), 100), int(row.get("orders") or 0))
        result = programmes.outcome(programme, volume)
        to_next = None if result.next_low is None else result.next_low - result.volume
        target = programmes.target_for(targets, partner, programme["metric"])
        out.append({
            "programme": programme["code"], "name": programme["name"],
            "kind": programme["kind"], "mode": programme["mode"], "metric": programme["metric"],
            "unit": programme["unit"], "volume": _plain(result.volume),
            "accrued": str(result.amount), "band": None if result.band is None
            else result.band + 1, "bands": programme["bands"], "rate": _plain(result.rate),
            "next_band_at": _plain(result.next_low), "next_rate": _plain(result.next_rate),
            "to_next_band": _plain(to_next), "target": _plain(target),
            "target_progress": None if not target else str(min(
                Decimal(100), (result.volume / target * 100).quantize(Decimal("0.1")))),
            "explanation": result.explanation})
    return {"partner_id": partner_id, "partner_code": partner.get("code", ""),
            "partner_name": partner.get("name", ""), "period": period, "programmes": out}
