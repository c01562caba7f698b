"""Admin pages under /admin/p/settlement: periods and their runs (with live progress), statements
and their lines down to the ledger entries, a work order's revenue, and the partner's own view
(its statements, its accruals against the next band and its target, its work-order fees).

A partner user sees only its own: the index sends it to ``/my``; statements and work orders of
another partner answer 404. Actions answer with a redirect and a notice, or the page again with
the problem (4xx) when the services refuse.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jimu_sdk import JimuError, NotFound, PermissionDenied, has_permission, platform
from jimu_sdk.web import form_data, partner_scope
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.response import Redirect, Template

from jimu_settlement import (
    dashboard,
    ledger,
    periods,
    reports,
    revenue,
    runs,
    statements,
)
from jimu_settlement.tables import Entry, Revenue, Statement

BASE = "/admin/p/settlement"
ACTIONS = ("confirm", "dispute", "pay")


def need_admin() -> None:
    if not has_permission("settlement.admin"):
        raise PermissionDenied("you need the permission 'settlement.admin'")


def _need_reports() -> None:
    """The dashboard is the enterprise's: partner users never see it."""
    if partner_scope() is not None or not has_permission("settlement.reports"):
        raise PermissionDenied("you need the permission 'settlement.reports'")


def _flash(request: Request[Any, Any, Any]) -> str:
    return request.query_params.get("done", "")[:40]


def error_status(exc: JimuError) -> int:
    return exc.status_code if 400 <= exc.status_code < 500 else 422


async def _overview(request: Request[Any, Any, Any], *, error: JimuError | None = None
                    ) -> Template:
    rows = await periods.list_periods()
    counts: dict[str, int] = {}
    for row in await Statement.scoped_select(Statement.period):
        counts[row["period"]] = counts.get(row["period"], 0) + 1
    latest: dict[str, dict[str, Any]] = {}
    for run in await runs.list_runs(limit=200):
        latest.setdefault(run["period"], run)
    return Template("settlement/periods.html", status_code=error_status(error) if error else 200,
                    context={"periods": rows, "counts": counts, "latest": latest,
                             "current": periods.code_of(periods.local_today()),
                             "can_admin": has_permission("settlement.admin"),
                             "done": _flash(request), "error": error})


class SettlementPages(Controller):
    path = "/"
    include_in_schema = False

    # ------------------------------------------------------------------ periods and runs

    @get("/", media_type=MediaType.HTML)
    async def index(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        if partner_scope() is not None:
            return Redirect(f"{BASE}/my", status_code=303)
        return await _overview(request)

    @post("/periods", media_type=MediaType.HTML)
    async def open_period(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        need_admin()
        data = await form_data(request)
        try:
            await periods.create_period(str(data.get("period", "")).strip())
        except JimuError as exc:
            return await _overview(request, error=exc)
        return Redirect(f"{BASE}/?done=opened", status_code=303)

    @post("/periods/{period:str}/run", media_type=MediaType.HTML)
    async def run(self, request: Request[Any, Any, Any], period: str) -> Template | Redirect:
        need_admin()
        try:
            await runs.start(periods.check_code(period))
        except JimuError as exc:
            return await _overview(request, error=exc)
        return Redirect(f"{BASE}/?done=started", status_code=303)

    @get("/runs/{settlement_run_id:int}/progress", media_type=MediaType.HTML)
    async def progress(self, settlement_run_id: int) -> Template:
        need_admin()
        return Template("settlement/run_progress.html",
                        context={"run": await runs.get_run(settlement_run_id)})

    @post("/periods/{period:str}/close", media_type=MediaType.HTML)
    async def close(self, request: Request[Any, Any, Any], period: str) -> Template | Redirect:
        need_admin()
        data = await form_data(request)
        try:
            await periods.close_period(periods.check_code(period),
                                       note=str(data.get("note", ""))[:2000])
        except JimuError as exc:
            return await _overview(request, error=exc)
        return Redirect(f"{BASE}/?done=closed", status_code=303)

    @post("/periods/{period:str}/reopen", media_type=MediaType.HTML)
    async def reopen(self, request: Request[Any, Any, Any], period: str) -> Template | Redirect:
        need_admin()
        data = await form_data(request)
        try:
            await periods.reopen_period(periods.check_code(period),
                                        reason=str(data.get("reason", ""))[:2000])
        except JimuError as exc:
            return await _overview(request, error=exc)
        return Redirect(f"{BASE}/?done=reopened", status_code=303)

    # ------------------------------------------------------------------ statements

    @get("/statements", media_type=MediaType.HTML)
    async def statement_list(self, request: Request[Any, Any, Any]) -> Template:
        period = request.query_params.get("period", "").strip()
        status = request.query_params.get("status", "").strip()
        error = None
        try:
            rows = await statements.list_statements(
                period=period or None, status=status or None, partner_id=partner_scope())
        except JimuError as exc:
            rows, error = [], exc
        return Template("settlement/statements.html",
                        status_code=error_status(error) if error else 200, context={
                            "statements": rows, "period": period, "status": status,
                            "statuses": statements.STATUSES, "error": error,
                            "periods": [p["code"] for p in await periods.list_periods()]})

    async def _statement(self, request: Request[Any, Any, Any], statement_id: int, *,
                         error: JimuError | None = None) -> Template:
        statement = await statements.get_statement(statement_id, partner_id=partner_scope())
        own = partner_scope() is not None
        return Template("settlement/statement.html",
                        status_code=error_status(error) if error else 200, context={
                            "s": statement, "error": error, "done": _flash(request),
                            "can_admin": has_permission("settlement.admin"),
                            "can_answer": has_permission("settlement.confirm") or has_permission(
                                "settlement.admin"), "own": own})

    @get("/statements/{statement_id:int}", media_type=MediaType.HTML)
    async def statement(self, request: Request[Any, Any, Any], statement_id: int) -> Template:
        return await self._statement(request, statement_id)

    @post("/statements/{statement_id:int}/{action:str}", media_type=MediaType.HTML)
    async def move(self, request: Request[Any, Any, Any], statement_id: int, action: str
                   ) -> Template | Redirect:
        if action not in ACTIONS:
            raise NotFound(f"no action {action[:20]}")
        if action == "pay":
            need_admin()
        elif not (has_permission("settlement.confirm") or has_permission("settlement.admin")):
            raise PermissionDenied("you need the permission 'settlement.confirm'")
        data = await form_data(request)
        try:
            await statements.move(statement_id, action,
                                  comment=str(data.get("comment", ""))[:2000],
                                  reference=str(data.get("reference", ""))[:64],
                                  partner_id=partner_scope())
        except JimuError as exc:
            if exc.status_code == 404:
                raise
            return await self._statement(request, statement_id, error=exc)
        return Redirect(f"{BASE}/statements/{statement_id}?done={action}", status_code=303)

    @get("/statements/{statement_id:int}/lines/{line_no:int}", media_type=MediaType.HTML)
    async def line(self, request: Request[Any, Any, Any], statement_id: int, line_no: int
                   ) -> Template:
        page = request.query_params.get("page", "1")
        number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
        found = await statements.line_entries(statement_id, line_no, partner_id=partner_scope(),
                                              page=number, per_page=100)
        return Template("settlement/line_entries.html",
                        context={"found": found, "statement_id": statement_id,
                                 "titles": ledger.KIND_TITLES})

    # ------------------------------------------------------------------ the dashboard

    @get("/dashboard", media_type=MediaType.HTML)
    async def dashboard_page(self, request: Request[Any, Any, Any]) -> Template:
        _need_reports()
        query = request.query_params
        values = {"from": query.get("from", "")[:7], "to": query.get("to", "")[:7],
                  "region": query.get("region", "")[:12]}
        page = query.get("page", "1")
        number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
        error, data = None, None
        try:
            data = await dashboard.gather(values["from"] or None, values["to"] or None,
                                          values["region"], number)
        except JimuError as exc:
            error = exc
        engine = request.app.template_engine
        assert engine is not None  # core always configures one
        labels = json.loads(engine.get_template("settlement/dashboard_labels.html").render())
        return Template("settlement/dashboard.html",
                        status_code=error_status(error) if error else 200, context={
                            "d": data, "values": values, "error": error, "labels": labels,
                            "tables": dashboard.TABLES, "money": dashboard.MONEY,
                            "percent": dashboard.PERCENT})

    @get("/dashboard.xlsx")
    async def dashboard_xlsx(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        _need_reports()
        query = request.query_params
        table = query.get("table", "")
        if table and table not in dashboard.TABLES:
            raise NotFound(f"no table {table[:20]}")
        data = await dashboard.gather(query.get("from") or None, query.get("to") or None,
                                      query.get("region", "")[:12], only=table,
                                      documents_per_page=dashboard.DOCUMENTS_IN_EXPORT)
        chosen = {key: data[key] for key in dashboard.TABLES if not table or key == table}
        engine = request.app.template_engine
        assert engine is not None  # core always configures one
        labels = engine.get_template("settlement/dashboard_labels.html").render()
        body = await asyncio.to_thread(dashboard.workbook, chosen, labels)
        name = f"settlement-{data['months'][0]}-{data['months'][-1]}{'-' + table if table else ''}"
        return Response(body, media_type="application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})

    # ------------------------------------------------------------------ work orders

    @get("/work-orders/{work_order_id:int}", media_type=MediaType.HTML)
    async def work_order(self, work_order_id: int) -> Template:
        shown = await revenue.view(work_order_id, partner_id=partner_scope())
        return Template("settlement/work_order.html",
                        context={"r": shown, "own": partner_scope() is not None,
                                 "can_admin": has_permission("settlement.admin")})

    # ------------------------------------------------------------------ the partner's own

    @get("/my", media_type=MediaType.HTML)
    async def mine(self, request: Request[Any, Any, Any]) -> Template:
        partner_id = partner_scope()
        if partner_id is None or partner_id < 0:
            raise NotFound("this page is for partner users")
        period = periods.code_of(periods.local_today())
        accrued = await runs.accruals(partner_id, period)
        own = await statements.list_statements(partner_id=partner_id)
        fees = await Revenue.scoped_select(
            Revenue.work_order_id, Revenue.work_order_number, Revenue.kind, Revenue.doc_date,
            Revenue.dealer_id, Revenue.installer_id, Revenue.dealer_amount,
            Revenue.installer_amount, Revenue.period).where(
            ((Revenue.dealer_id == partner_id) | (Revenue.installer_id == partner_id))
            & (Revenue.status == "booked") & (Revenue.period == period)).order_by(
            Revenue.id, ascending=False)
        for row in fees:
            row["share"] = (row["installer_amount"] if row["installer_id"] == partner_id
                            else 0) + (row["dealer_amount"] if row["dealer_id"] == partner_id
                                       else 0)
        month_total = sum((r["share"] for r in fees), 0)
        entries = await Entry.scoped_count().where(Entry.partner_id == partner_id)
        [me] = await platform().list_partners([partner_id]) or [{}]
        tier, tier_reason = (await reports.current_tiers([{"id": partner_id}])).get(
            partner_id, (reports.NO_TIER, ""))
        return Template("settlement/my.html", context={
            "tier": tier, "tier_reason": tier_reason,
            "partner": me, "period": period, "accruals": accrued["programmes"],
            "statements": own, "fees": fees, "month_total": month_total,
            "has_entries": bool(entries)})
