"""Settlement runs (结算): a period's statements, from the ledger, in one transaction.

A run sums the period's ledger in one pass into a temporary table (``SUMS``: per partner and
kind, the carried-forward part apart, each programme's counted purchases beside), reads back
only what the programmes need per partner, computes every rebate and share in Python (the
one rule of ``programmes``), and then lets the database write the rest from the temporary
table: the statements, new or revised, and their lines (only those that changed). Python
never handles the ledger's rows or the statement lines one by one. Everything happens in one
transaction, so a failed run writes nothing but its own failure, and a run again of the same
period replaces what the previous one wrote (its entries carry its ``run_id``): it never
counts twice, and gives the same statements when nothing was booked in between.

Progress is committed on the side (``platform().write_aside``) while the transaction works,
so the page and the CLI show it live; on SQLite, one writer at a time, the page sees it when
the run ends.

Sums are exact on both databases: PostgreSQL sums ``numeric``; SQLite sums whole fen (and
ten-thousandths of quantities) as integers, never floats, and ``SUMS`` keeps them so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
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
from jimu_settlement.ledger import BASIS_KINDS, KINDS, RUN_KINDS
from jimu_settlement.tables import Entry, Run, Statement, StatementEvent

BATCH = 400  # rows per INSERT on SQLite: well under its limit on parameters
JSON_BATCH = 100_000  # rows per INSERT on PostgreSQL (one JSON document)
# The grouped read runs once: compiling it with JIT (when its estimate passes jit_above_cost,
# as with a few programmes' filters over a million rows) took ~75 ms and gained nothing. A
# larger work_mem measured slower (its sorts); more memory for hash tables alone keeps the
# hash aggregate from spilling (~5 % faster over a million rows).
READ_SETTINGS = ("SELECT set_config('jit', 'off', true), "
                 "set_config('hash_mem_multiplier', '4', true)")
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
    """The ``settlement.run`` job (``transaction=False``): the run in one transaction, its
    progress on the side; then, if asked, the period's close in another."""
    run = await execute(run_id)
    if close and run["status"] == "completed":
        async with platform().transaction():
            await periods.close_period(run["period"], note=f"closed by settlement run {run_id}")


async def _progress(run_id: int, percent: int, stage: str, report: Progress | None) -> None:
    """Record how far the run is, committed at once even while its transaction works (on
    SQLite only before it starts: one writer at a time)."""
    async def save() -> None:
        await Run.scoped_update({Run.progress: percent, Run.stage: stage}).where(
            (Run.id == run_id) & (Run.status == "running"))

    await platform().write_aside(save)
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
        async with platform().transaction():
            ledger = await _read(run["period"])
            await _progress(run_id, 45, "computing rebates and shares", report)
            result = _compute(run["period"], ledger)
            await _progress(run_id, 70, "writing statements", report)
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
SUMS = "settlement_run_sums"
"""The run's temporary table (its transaction's own): the period's ledger summed per partner
and kind, the carried-forward part apart (``carried_*``): the statement lines to be, with
each programme filter's counted purchases beside; the run adds its rebate and share lines to
it. Sums are numeric on PostgreSQL and whole fen (ten-thousandths for quantities) on SQLite,
as ``sum_sql`` gives."""


@dataclass
class Ledger:
    """What a run reads: the period's totals, and what the programmes need per partner."""

    period: str
    programmes: list[dict[str, Any]]
    filters: list[FilterKey]
    volumes: dict[int, list[list[Any]]]  # partner: per filter [quantity, amount, orders]
    partners: dict[int, dict[str, Any]]
    newest: int  # the newest booked entry summed
    entries: int
    sales: Decimal
    payable: Decimal


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


def _resum(column: str, condition: str = "") -> str:
    """A SUM over ``SUMS``, whose sums are exact on both databases already (integers on
    SQLite): ``NULL`` never, for no rows is 0."""
    if not condition:
        return f"COALESCE(SUM({column}), 0)"
    if _pg():
        return f"COALESCE(SUM({column}) FILTER (WHERE {condition}), 0)"
    return f"COALESCE(SUM(CASE WHEN {condition} THEN {column} ELSE 0 END), 0)"


def _basis() -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in sorted(BASIS_KINDS)) + ")"


async def _read(period: str) -> Ledger:
    """Sum the period's ledger into ``SUMS`` (one pass over it) and read back its totals and,
    when programmes apply, each partner's counted purchases."""
    programmes_now = [p for p in await programmes.list_programmes(enabled_only=True)
                      if (not p["valid_from"] or p["valid_from"] <= period)
                      and (not p["valid_to"] or period <= p["valid_to"])]
    filters = sorted({programmes.filter_key(p) for p in programmes_now})
    counting_orders = any(p["per_order"] for p in programmes_now)
    args: list[Any] = ["{}"]  # a parameter: piccolo reads braces in the SQL as one
    # Carried-forward entries are conditional sums, not a third grouping column: grouped as
    # the floor query is, the pass costs ~15 % less.
    carried = "origin_period <> period"
    columns = [f"{sum_sql('amount', 100)} AS amount", f"{sum_sql('quantity', 10000)} AS quantity",
               "COUNT(*) AS entries",
               f"COALESCE({sum_sql('amount', 100, carried)}, 0) AS carried_amount",
               f"COALESCE({sum_sql('quantity', 10000, carried)}, 0) AS carried_quantity",
               f"SUM(CASE WHEN {carried} THEN 1 ELSE 0 END) AS carried_entries",
               "MAX(id) AS newest", "CAST({} AS TEXT) AS detail"]
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
    select = (f"SELECT partner_id, kind, {', '.join(columns)} FROM settlement_entry WHERE "
              f"tenant_id = {{}} AND period = {{}} AND run_id IS NULL AND partner_id IS NOT "
              f"NULL GROUP BY partner_id, kind")
    if _pg():
        await Entry.raw(READ_SETTINGS)  # for this transaction only
    await _temporary(SUMS, select, *args, current_tenant_id(), period)
    value = _sum_reader(_pg())
    [totals] = await Entry.raw(
        f"SELECT COALESCE(SUM(entries), 0) AS entries, COALESCE(MAX(newest), 0) AS newest, "
        f"{_resum('amount', _basis())} AS sales, {_resum('amount', f'NOT {_basis()}')} "
        f"AS payable FROM {SUMS}")
    volumes: dict[int, list[list[Any]]] = {}
    partners: dict[int, dict[str, Any]] = {}
    if programmes_now:
        picked = []
        for index, key in enumerate(filters):
            q, a = ("quantity", "amount") if key == EVERY_SALE else (f"q{index}", f"a{index}")
            picked += [f"{_resum(q)} AS q{index}", f"{_resum(a)} AS a{index}",
                       f"{_resum(f'o{index}') if counting_orders else '0'} AS o{index}"]
        for row in await Entry.raw(f"SELECT partner_id, {', '.join(picked)} FROM {SUMS} "
                                   f"WHERE kind = 'sales' GROUP BY partner_id"):
            volumes[row["partner_id"]] = [
                [value(row[f"q{i}"], 10000), value(row[f"a{i}"], 100), int(row[f"o{i}"])]
                for i in range(len(filters))]
        if volumes:
            partners = {p["id"]: dict(p) for p in await platform().list_partners(
                sorted(volumes))}
    return Ledger(period, programmes_now, filters, volumes, partners, int(totals["newest"]),
                  int(totals["entries"]), value(totals["sales"], 100),
                  value(totals["payable"], 100))


# ----------------------------------------------------------------------------- computing


@dataclass
class Result:
    lines: dict[tuple[int, str], dict[str, Any]]  # (partner, kind): the run's own lines
    entries: list[dict[str, Any]]  # its rebates and shares, for the ledger
    totals: dict[str, Any]


def _last_day(period: str) -> dt.date:
    return periods.bounds(period)[1] - dt.timedelta(days=1)


def _compute(period: str, ledger: Ledger) -> Result:
    """Every programme's rebate or share of every partner it covers that bought in the
    period: a statement line of the programme's kind (its outcome explained, even at 0) and,
    when not 0, a ledger entry."""
    lines: dict[tuple[int, str], dict[str, Any]] = {}
    entries: list[dict[str, Any]] = []
    counted = {key: index for index, key in enumerate(ledger.filters)}
    paths: dict[str, set[str]] = {}
    for programme in ledger.programmes:
        index = counted[programmes.filter_key(programme)]
        kind = "rebates" if programme["kind"] == "ladder_rebate" else "volume_shares"
        bands = programmes.bands_of(programme)
        about = {key: programme[key] for key in ("code", "name", "kind", "mode", "metric")}
        about["programme"] = about.pop("code")
        rates: dict[Decimal | None, str | None] = {}  # as people write them, once each
        for partner_id, volumes in ledger.volumes.items():
            partner = ledger.partners.get(partner_id)
            if partner is None or not programmes.covers(programme, partner, period,
                                                        paths=paths):
                continue
            result = programmes.outcome(programme, programmes.Volume(*volumes[index]), bands)
            line = lines.get((partner_id, kind))
            if line is None:
                line = lines[(partner_id, kind)] = {"amount": ZERO, "entries": 0,
                                                    "programmes": []}
            line["amount"] += result.amount
            line["entries"] += 1 if result.amount else 0
            rate = rates.get(result.rate)
            if rate is None:
                rate = rates[result.rate] = _plain(result.rate)
            line["programmes"].append({
                **about, "volume": _plain(result.volume),
                "band": None if result.band is None else result.band + 1, "rate": rate,
                "amount": str(result.amount), "explanation": result.explanation})
            if result.amount:
                entries.append({  # the ledger's columns (the run's constants apart)
                    "partner_id": partner_id, "kind": kind, "amount": result.amount,
                    "quantity": result.volume if programme["metric"] == "quantity" else ZERO,
                    "source_id": programme["id"], "source_ref": programme["code"],
                    "source_line": str(partner_id),
                    "region_code": partner.get("region_code") or "",
                    "note": result.explanation[:1000]})
    earned = {kind: sum((e["amount"] for e in entries if e["kind"] == kind), ZERO)
              for kind in RUN_KINDS}
    totals = {
        "statements": 0,  # known once written
        "sales": str(ledger.sales),
        "payable": str(ledger.payable + sum(earned.values(), ZERO)),
        "rebates": str(earned["rebates"]), "volume_shares": str(earned["volume_shares"]),
        "entries": ledger.entries}
    return Result(lines, entries, totals)


# ----------------------------------------------------------------------------- writing


_SUMS_TYPES = {"partner_id": "INTEGER", "kind": "TEXT", "amount": "NUMERIC",
               "quantity": "NUMERIC", "entries": "BIGINT", "carried_amount": "NUMERIC",
               "carried_quantity": "NUMERIC", "carried_entries": "BIGINT",
               "newest": "INTEGER", "detail": "TEXT"}


def _column_type(table: str, column: str) -> str:
    """A column's SQL type on PostgreSQL (``NUMERIC(18, 4)``, ``VARCHAR(20)`` …)."""
    if table == SUMS:
        return _SUMS_TYPES[column]
    assert table == Entry._meta.tablename  # the only stored table rows are sent to
    return str(Entry._meta.get_column_by_name(column).column_type)


async def _insert(table: str, rows: Sequence[Mapping[str, Any]],
                  constants: Mapping[str, Any] | None = None) -> None:
    """Insert ``rows`` (mappings of column to value, each with the same columns) into
    ``table``, with ``constants``: values every row shares. On PostgreSQL the rows travel as
    one JSON document (``json_to_recordset``) and each constant as one parameter: encoding
    them is one call of msgspec's, where a parameter per value (or an array per column)
    costs asyncpg Python work for every value, and COPY is refused on tables with row-level
    security. SQLite gets batches of ``VALUES``."""
    if not rows:
        return
    columns, fixed = list(rows[0]), dict(constants or {})
    head = f"INSERT INTO {table} ({', '.join([*columns, *fixed])})"
    if _pg():
        shape = ", ".join(f"{column} {_column_type(table, column)}" for column in columns)
        values = [f"rows.{column}" for column in columns] + [
            f"CAST({{}} AS {_column_type(table, column)})" for column in fixed]
        for start in range(0, len(rows), JSON_BATCH):
            document = msgspec.json.encode(rows[start:start + JSON_BATCH]).decode()
            await Entry.raw(f"{head} SELECT {', '.join(values)} FROM json_to_recordset("
                            f"CAST({{}} AS JSON)) AS rows({shape})", *fixed.values(), document)
        return
    placeholders = "(" + ", ".join("{}" for _ in range(len(columns) + len(fixed))) + ")"
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        await Entry.raw(f"{head} VALUES {', '.join(placeholders for _ in chunk)}",
                        *[value for row in chunk
                          for value in (*(row[c] for c in columns), *fixed.values())])


def _param(sql_type: str) -> str:
    """A parameter in a SELECT list: typed on PostgreSQL (which would take it for text);
    SQLite stores what it is given."""
    return f"CAST({{}} AS {sql_type})" if _pg() else "{}"


def _sum_out(column: str, scale: int) -> str:
    """A ``SUMS`` sum as the money or quantity column it is stored in."""
    return column if _pg() else f"{column} / {scale}.0"


def _sum_in(value: Decimal, scale: int) -> Decimal | int:
    """A Python amount as ``SUMS`` holds it."""
    return value if _pg() else int(value * scale)


async def _write(run: Mapping[str, Any], ledger: Ledger, result: Result) -> None:
    """Replace what a run of the period wrote before: its rebate and share entries, the
    statements (changed amounts revise them; a confirmed or disputed one goes back to draft,
    recorded) and their lines."""
    tenant_id, period = current_tenant_id(), run["period"]
    current = await get_run(run["id"])
    if current["status"] != "running":
        raise Conflict(N_("settlement run %(id)s was stopped"), params={"id": run["id"]})
    if (await periods.get_period(period))["status"] != "open":
        raise Conflict(N_("period %(period)s was closed while it was being settled"),
                       params={"period": period})
    now = platform().now()
    await _write_entries(run["id"], period, result, now)
    await _write_programme_lines(result)
    count, recomputed = await _write_statements(run["id"], period, now)
    await _write_lines(period)
    if not _pg():
        await Entry.raw(f"DROP TABLE temp.{SUMS}")
    if recomputed:
        await StatementEvent.insert(*[StatementEvent(
            tenant_id=tenant_id, statement_id=statement_id, action="recomputed",
            from_status=status, to_status="draft", actor_id=_user_id(),
            comment=f"settlement run {run['id']} changed the amounts", at=now)
            for statement_id, status in recomputed])
    totals = {**result.totals, "statements": count}
    await Run.scoped_update({Run.status: "completed", Run.progress: 100,
                             Run.stage: "completed", Run.last_entry_id: ledger.newest,
                             Run.statements: count, Run.totals: totals,
                             Run.finished_at: now}).where(Run.id == run["id"])
    await platform().audit("settlement.run", f"settlement_period:{period}", None,
                           {"run_id": run["id"], **totals})


async def _write_entries(run_id: int, period: str, result: Result, now: dt.datetime) -> None:
    """The run's rebates and shares in the ledger, in place of the previous run's."""
    tenant_id = current_tenant_id()
    await Entry.raw("DELETE FROM settlement_entry WHERE tenant_id = {} AND period = {} AND "
                    "run_id IS NOT NULL", tenant_id, period)
    await _insert("settlement_entry", result.entries, {
        "tenant_id": tenant_id, "period": period, "origin_period": period, "role": "partner",
        "tax": ZERO, "cost": ZERO, "source_type": "programme", "item": "", "category": "",
        "doc_date": _last_day(period), "run_id": run_id, "created_at": now})


async def _write_programme_lines(result: Result) -> None:
    await _insert(SUMS, [
        {"partner_id": partner_id, "kind": kind, "amount": _sum_in(line["amount"], 100),
         "entries": line["entries"],
         "detail": msgspec.json.encode({"programmes": line["programmes"]}).decode()}
        for (partner_id, kind), line in result.lines.items()],
        {"quantity": _sum_in(ZERO, 10000), "carried_amount": _sum_in(ZERO, 100),
         "carried_quantity": _sum_in(ZERO, 10000), "carried_entries": 0, "newest": 0})


async def _write_statements(run_id: int, period: str, now: dt.datetime
                            ) -> tuple[int, list[tuple[int, str]]]:
    """Each partner's statement of the period, from ``SUMS``: new ones as drafts, the others
    revised where the amounts changed; a statement the ledger no longer feeds drops to 0.
    Returns how many the period has and the confirmed or disputed ones sent back to draft."""
    tenant_id = current_tenant_id()
    settled = {r["id"]: r["status"] for r in await Statement.scoped_select(
        Statement.id, Statement.status).where(
        (Statement.period == period) & Statement.status.is_in(["confirmed", "disputed"]))}
    changed = ("(settlement_statement.sales <> excluded.sales OR "
               "settlement_statement.payable <> excluded.payable)")
    number = ("CASE WHEN partner_id < 1000000 THEN substr(CAST(1000000 + partner_id AS TEXT), "
              "2) ELSE CAST(partner_id AS TEXT) END")
    await Entry.raw(
        f"INSERT INTO settlement_statement (tenant_id, number, period, partner_id, status, "
        f"currency, sales, payable, run_id, revision, dispute_comment, created_at, updated_at) "
        f"SELECT {_param('INTEGER')}, {_param('TEXT')} || {number}, {_param('TEXT')}, "
        f"partner_id, 'draft', 'CNY', {_sum_out('sales', 100)}, {_sum_out('payable', 100)}, "
        f"{_param('INTEGER')}, 0, '', {_param('TIMESTAMPTZ')}, {_param('TIMESTAMPTZ')} FROM "
        f"(SELECT partner_id, {_resum('amount', _basis())} AS sales, "
        f"{_resum('amount', f'NOT {_basis()}')} AS payable FROM {SUMS} GROUP BY partner_id) "
        f"AS sums WHERE true ON CONFLICT (tenant_id, period, partner_id) DO UPDATE SET "
        f"revision = settlement_statement.revision + CASE WHEN {changed} THEN 1 ELSE 0 END, "
        f"status = CASE WHEN {changed} AND settlement_statement.status IN ('confirmed', "
        f"'disputed') THEN 'draft' ELSE settlement_statement.status END, "
        f"sales = excluded.sales, payable = excluded.payable, run_id = excluded.run_id, "
        f"updated_at = excluded.updated_at",
        tenant_id, f"ST-{period}-", period, run_id, now, now)
    dropped = "(sales <> 0 OR payable <> 0)"
    await Entry.raw(
        f"UPDATE settlement_statement SET revision = revision + CASE WHEN {dropped} THEN 1 "
        f"ELSE 0 END, status = CASE WHEN {dropped} AND status IN ('confirmed', 'disputed') "
        f"THEN 'draft' ELSE status END, sales = 0, payable = 0, run_id = {{}}, "
        f"updated_at = {{}} WHERE tenant_id = {{}} AND period = {{}} AND (run_id IS NULL OR "
        f"run_id <> {{}})", run_id, now, tenant_id, period, run_id)
    drafts = await Statement.scoped_select(Statement.id).where(
        Statement.id.is_in(list(settled)) & (Statement.status == "draft")) if settled else []
    count = await Statement.scoped_count().where(Statement.period == period)
    return count, [(r["id"], settled[r["id"]]) for r in sorted(drafts, key=lambda r: r["id"])]


def _line_order() -> str:
    """Lines in the order of ``KINDS``, a carried-forward line after its kind's own."""
    whens = " ".join(f"WHEN '{kind}' THEN {index}" for index, kind in enumerate(KINDS))
    return f"CASE sums.kind {whens} ELSE {len(KINDS)} END, part.carried"


LINES = "settlement_run_lines"
"""The lines the run computed (a temporary table, as ``SUMS``), compared with the stored ones:
a run again writes only the lines that changed."""
LINE_COLUMNS = ("line_no", "amount", "quantity", "entries", "detail")


async def _temporary(name: str, select: str, *args: Any) -> None:
    """``CREATE TEMP TABLE name AS select``, gone when the transaction ends (on SQLite, where
    it would live as long as the connection, one left by a failed run goes first)."""
    if _pg():
        await Entry.raw(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {select}", *args)
    else:
        await Entry.raw(f"DROP TABLE IF EXISTS temp.{name}")
        await Entry.raw(f"CREATE TEMP TABLE {name} AS {select}", *args)


async def _write_lines(period: str) -> None:
    """The statements' lines, numbered per statement: of each row of ``SUMS`` a line of the
    period's own entries (always, for a programme's, whose outcome it explains even at 0)
    and one of the carried-forward entries when there are any. Stored lines of the period
    that the run computed the same stay as they are; the others are updated, added or
    deleted (a run again of an unchanged period writes none)."""
    def part(own: str, carried: str) -> str:
        return f"CASE WHEN part.carried = 1 THEN {carried} ELSE {own} - {carried} END"

    tenant_id = current_tenant_id()
    detail = "CAST(sums.detail AS JSON)" if _pg() else "sums.detail"
    if _pg():  # numbering sorts every line: in memory, not on disk (for this transaction)
        await Entry.raw("SELECT set_config('work_mem', '64MB', true)")
    await _temporary(
        LINES,
        f"SELECT statement.id AS statement_id, ROW_NUMBER() OVER (PARTITION BY "
        f"sums.partner_id ORDER BY {_line_order()}) AS line_no, sums.kind AS kind, "
        f"part.carried = 1 AS carried, "
        f"{_sum_out(part('sums.amount', 'sums.carried_amount'), 100)} AS amount, "
        f"{_sum_out(part('sums.quantity', 'sums.carried_quantity'), 10000)} AS quantity, "
        f"{part('sums.entries', 'sums.carried_entries')} AS entries, "
        f"CASE WHEN part.carried = 1 THEN {_param('JSON')} ELSE {detail} END AS detail "
        f"FROM {SUMS} AS sums CROSS JOIN (SELECT 0 AS carried UNION ALL SELECT 1) AS part "
        f"JOIN settlement_statement AS statement ON statement.tenant_id = {{}} AND "
        f"statement.period = {{}} AND statement.partner_id = sums.partner_id WHERE "
        f"CASE WHEN part.carried = 1 THEN sums.carried_entries > 0 ELSE (sums.entries > "
        f"sums.carried_entries OR sums.carried_entries = 0) END",
        "{}", tenant_id, period)
    if not _pg():  # which joins by nested loops only: without it, each line reads them all
        await Entry.raw(f"CREATE INDEX temp.{LINES}_line ON {LINES} (statement_id, kind, "
                        f"carried)")
    stored = "settlement_statement_line"
    same_line = (f"new.statement_id = {stored}.statement_id AND new.kind = {stored}.kind AND "
                 f"new.carried = {stored}.carried")
    # On PostgreSQL the statements' ids as one array, computed first (ARRAY(…)), not a
    # subquery to join: a period re-run soon after its first run has statements the
    # planner's statistics do not know yet, and it picked a nested loop over the tenant's
    # every line (seconds to a minute for 10,000 statements).
    of_period = "SELECT id FROM settlement_statement WHERE tenant_id = {} AND period = {}"
    among = f"= ANY(ARRAY({of_period}))" if _pg() else f"IN ({of_period})"
    await Entry.raw(f"DELETE FROM {stored} WHERE tenant_id = {{}} AND statement_id {among} AND "
                    f"NOT EXISTS (SELECT 1 FROM {LINES} AS new WHERE {same_line})",
                    tenant_id, tenant_id, period)
    as_text = "CAST({} AS TEXT)" if _pg() else "{}"  # json has no equality on PostgreSQL
    changed = " OR ".join(
        f"{as_text.format(f'{stored}.{c}')} <> {as_text.format(f'new.{c}')}" if c == "detail"
        else f"{stored}.{c} <> new.{c}" for c in LINE_COLUMNS)
    await Entry.raw(f"UPDATE {stored} SET {', '.join(f'{c} = new.{c}' for c in LINE_COLUMNS)} "
                    f"FROM {LINES} AS new WHERE {stored}.tenant_id = {{}} AND {same_line} AND "
                    f"({changed})", tenant_id)
    columns = ", ".join(("statement_id", "kind", "carried", *LINE_COLUMNS))
    await Entry.raw(f"INSERT INTO {stored} (tenant_id, {columns}) SELECT {_param('INTEGER')}, "
                    f"{columns} FROM {LINES} AS new WHERE NOT EXISTS (SELECT 1 FROM {stored} "
                    f"WHERE {stored}.tenant_id = {{}} AND {same_line})", tenant_id, tenant_id)
    if not _pg():
        await Entry.raw(f"DROP TABLE temp.{LINES}")


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
