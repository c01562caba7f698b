"""Statements (结算单): draft → confirmed by the partner (or disputed, with a comment) → paid.

A settlement run writes them; people move them on. The partner (or the enterprise on its
behalf) confirms or disputes a draft; a dispute goes back to draft when a run changes the
amounts, or is confirmed as it stands; only a confirmed statement of a closed period is paid,
and a paid one never changes again. Every move is an event of the statement (who, when, what,
the comment).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jimu_sdk import N_, Conflict, NotFound, ValidationFailed, current_scope, platform

from jimu_settlement import periods
from jimu_settlement.ledger import BASIS_KINDS, KIND_TITLES, RUN_KINDS
from jimu_settlement.tables import Entry, Revenue, Run, Statement, StatementEvent, StatementLine

STATUSES = ("draft", "confirmed", "disputed", "paid")
MOVES = {"confirm": (("draft", "disputed"), "confirmed"),
         "dispute": (("draft", "confirmed"), "disputed"),
         "pay": (("confirmed",), "paid")}


CENT = Decimal("0.01")


def _money(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Money as yuan and fen (``10160.00``) on both databases."""
    return {**row, **{k: Decimal(row[k]).quantize(CENT) for k in keys}}


def _scope_ids() -> tuple[int | None, int | None]:
    scope = current_scope()
    if scope is None:
        return None, None
    return scope.user_id, scope.partner_id


async def list_statements(*, period: str | None = None, partner_id: int | None = None,
                          status: str | None = None) -> list[dict[str, Any]]:
    where: list[Any] = []
    if period is not None:
        periods.check_code(period)
        where.append(Statement.period == period)
    if partner_id is not None:
        where.append(Statement.partner_id == partner_id)
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed(N_("status is one of %(allowed)s"), field="status",
                                   params={"allowed": ", ".join(STATUSES)})
        where.append(Statement.status == status)
    rows = await Statement.scoped_select().where(*where).order_by(
        Statement.period, ascending=False).order_by(Statement.partner_id)
    names = {p["id"]: p for p in await platform().list_partners(
        sorted({r["partner_id"] for r in rows}))} if rows else {}
    return [{**_money(r, "sales", "payable"),
             "partner_code": names.get(r["partner_id"], {}).get("code", ""),
             "partner_name": names.get(r["partner_id"], {}).get("name", "")} for r in rows]


async def get_statement(statement_id: int, *, partner_id: int | None = None
                        ) -> dict[str, Any]:
    """A statement with its lines and events; a partner reaches only its own."""
    row = await Statement.scoped_select().where(Statement.id == statement_id).first()
    if row is None or (partner_id is not None and row["partner_id"] != partner_id):
        raise NotFound(N_("there is no statement %(id)s"), params={"id": statement_id})
    lines = await StatementLine.scoped_select().where(
        StatementLine.statement_id == statement_id).order_by(StatementLine.line_no)
    events = await StatementEvent.scoped_select().where(
        StatementEvent.statement_id == statement_id).order_by(StatementEvent.id)
    [partner] = await platform().list_partners([row["partner_id"]]) or [{}]
    period = await periods.get_period(row["period"])
    return {**_money(row, "sales", "payable"), "partner_code": partner.get("code", ""),
            "partner_name": partner.get("name", ""), "period_status": period["status"],
            "lines": [{**_money(line, "amount"), "quantity": Decimal(line["quantity"]).normalize(),
                       "basis": line["kind"] in BASIS_KINDS,
                       "title": KIND_TITLES.get(line["kind"], line["kind"])}
                      for line in lines],
            "events": events}


async def move(statement_id: int, action: str, *, comment: str = "", reference: str = "",
               partner_id: int | None = None) -> dict[str, Any]:
    """Confirm, dispute or pay a statement (409 naming the allowed moves otherwise)."""
    if action not in MOVES:
        raise ValidationFailed(N_("action is confirm, dispute or pay"), field="action")
    statement = await get_statement(statement_id, partner_id=partner_id)
    allowed_from, to = MOVES[action]
    status = statement["status"]
    if status == "paid":
        raise Conflict(N_("statement %(number)s is paid already; correct it with an adjustment "
                          "in an open period"), params={"number": statement["number"]})
    if status not in allowed_from:
        raise Conflict(N_("statement %(number)s is %(status)s: it cannot be %(action)s now"),
                       field="action", params={"number": statement["number"],
                                               "status": status, "action": action})
    if action == "dispute" and not comment.strip():
        raise ValidationFailed(N_("say what is wrong with the statement"), field="comment")
    if action == "pay" and statement["period_status"] != "closed":
        raise Conflict(N_("close period %(period)s before paying its statements"),
                       field="action", params={"period": statement["period"]})
    now = platform().now()
    values: dict[Any, Any] = {Statement.status: to, Statement.updated_at: now}
    if action == "confirm":
        values[Statement.confirmed_at] = now
    elif action == "dispute":
        values[Statement.dispute_comment] = comment.strip()
    else:
        values[Statement.paid_at] = now
        values[Statement.paid_ref] = reference.strip()[:64]
    # The status is part of the condition: a concurrent move of the same statement loses.
    updated = await Statement.scoped_update(values).where(
        (Statement.id == statement_id) & (Statement.status == status)).returning(Statement.id)
    if not updated:
        raise Conflict(N_("statement %(number)s changed meanwhile; reload it"),
                       params={"number": statement["number"]})
    user_id, _ = _scope_ids()
    await StatementEvent.scoped_insert(statement_id=statement_id, action=action,
                                       from_status=status, to_status=to, actor_id=user_id,
                                       comment=(comment or reference).strip()[:2000], at=now)
    await platform().audit(f"settlement.statement.{action}",
                           f"settlement_statement:{statement['number']}",
                           {"status": status}, {"status": to, "comment": comment.strip(),
                                                "reference": reference.strip()})
    return await get_statement(statement_id, partner_id=partner_id)


async def summed_entries(statement: Mapping[str, Any]) -> Any:
    """The condition on ``Entry`` of what a statement sums: what its settlement run saw —
    entries booked by their documents up to the newest the run read (one booked since waits
    for the next run) and the run's own rebates and shares."""
    where = ((Entry.period == statement["period"])
             & (Entry.partner_id == statement["partner_id"]))
    run = await Run.scoped_select(Run.id, Run.last_entry_id).where(
        Run.id == statement["run_id"]).first() if statement.get("run_id") else None
    if run is None:
        return where & Entry.run_id.is_null()
    return where & ((Entry.run_id.is_null() & (Entry.id <= run["last_entry_id"]))
                    | (Entry.kind.is_in(list(RUN_KINDS)) & (Entry.run_id == run["id"])))


async def line_entries(statement_id: int, line_no: int, *, partner_id: int | None = None,
                       page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """The ledger entries a statement line sums, each pointing at its source document."""
    statement = await get_statement(statement_id, partner_id=partner_id)
    line = next((x for x in statement["lines"] if x["line_no"] == line_no), None)
    if line is None:
        raise NotFound(N_("statement %(number)s has no line %(line)s"),
                       params={"number": statement["number"], "line": line_no})
    where = [await summed_entries(statement), Entry.kind == line["kind"],
             Entry.origin_period != statement["period"] if line["carried"]
             else Entry.origin_period == statement["period"]]
    total = await Entry.scoped_count().where(*where)
    rows = await Entry.scoped_select().where(*where).order_by(Entry.id).limit(
        per_page).offset((page - 1) * per_page)
    revenue_ids = [r["source_id"] for r in rows if r["source_type"] == "work_order"]
    work_orders = {r["id"]: r["work_order_id"] for r in await Revenue.scoped_select(
        Revenue.id, Revenue.work_order_id).where(Revenue.id.is_in(revenue_ids))
    } if revenue_ids else {}
    rows = [{**r, "work_order_id": work_orders.get(r["source_id"])
             if r["source_type"] == "work_order" else None} for r in rows]
    return {"statement": statement["number"], "line": line, "items": rows, "total": total,
            "page": page, "per_page": per_page}
