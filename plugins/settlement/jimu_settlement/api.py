"""Routes under /api/v1/settlement: periods, fee schedules, split rules, work-order revenue
and the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from jimu_sdk import NotFound, PermissionDenied, has_permission
from jimu_sdk.params import RecordIdParam
from jimu_sdk.web import needs, partner_scope
from litestar import delete, get, post, put
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from jimu_settlement import (
    fee_schedules,
    imports,
    ledger,
    periods,
    programmes,
    reports,
    revenue,
    runs,
    split_rules,
    statements,
)

READ, ADMIN = needs("settlement.read"), needs("settlement.admin")
PeriodCode = Annotated[str, msgspec.Meta(min_length=7, max_length=7, pattern=r"^\d{4}-\d{2}$")]
PeriodParam = Annotated[str, Parameter(min_length=7, max_length=7, pattern=r"^\d{4}-\d{2}$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
TypeKey = Annotated[str, msgspec.Meta(max_length=40)]
RegionCodes = Annotated[list[Annotated[str, msgspec.Meta(max_length=12)]],
                        msgspec.Meta(max_length=200)]
Words = Annotated[list[Short], msgspec.Meta(max_length=100)]
Amount = Decimal  # bounds and places are checked by the services, naming the field
Page = Annotated[int, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int, Parameter(ge=1, le=500)]


# ----------------------------------------------------------------------------- periods


class PeriodBody(msgspec.Struct, forbid_unknown_fields=True):
    period: PeriodCode


class CloseBody(msgspec.Struct, forbid_unknown_fields=True):
    note: Note = ""


class ReopenBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Note


class PeriodOut(msgspec.Struct):
    code: str
    starts_on: dt.date
    ends_on: dt.date
    status: str
    closed_at: dt.datetime | None
    reopened_at: dt.datetime | None
    note: str


def _period(row: dict[str, Any]) -> PeriodOut:
    return PeriodOut(code=row["code"], starts_on=row["starts_on"], ends_on=row["ends_on"],
                     status=row["status"], closed_at=row["closed_at"],
                     reopened_at=row["reopened_at"], note=row["note"])


@get("/periods", guards=READ, summary="Settlement periods (结算期), newest first")
async def list_periods() -> list[PeriodOut]:
    return [_period(r) for r in await periods.list_periods()]


@post("/periods", guards=ADMIN, summary="Open a period (a month, e.g. 2026-10) ahead of time")
async def create_period(data: JSONBody[PeriodBody]) -> PeriodOut:
    return _period(await periods.create_period(data.period))


@get("/periods/{period:str}", guards=READ, summary="A period")
async def get_period(period: PeriodParam) -> PeriodOut:
    return _period(await periods.get_period(period))


@post("/periods/{period:str}/close", guards=ADMIN, status_code=HTTP_200_OK,
      summary="Close (lock) a period: it needs a finished settlement run that saw every "
              "document booked in it; later documents dated in it are carried forward")
async def close_period(period: PeriodParam, data: JSONBody[CloseBody]) -> PeriodOut:
    return _period(await periods.close_period(period, note=data.note))


@post("/periods/{period:str}/reopen", guards=ADMIN, status_code=HTTP_200_OK,
      summary="Reopen a closed period (a reason is required; refused once a statement is paid)")
async def reopen_period(period: PeriodParam, data: JSONBody[ReopenBody]) -> PeriodOut:
    return _period(await periods.reopen_period(period, reason=data.reason))


# ----------------------------------------------------------------------------- fee schedules


class FeeBody(msgspec.Struct, forbid_unknown_fields=True):
    key: Short
    name: Name
    item: Short = ""
    amount: Amount | None = None


class SubsidyBody(msgspec.Struct, forbid_unknown_fields=True):
    key: Short
    name: Name
    amount: Amount
    to: Short
    region_codes: RegionCodes = msgspec.field(default_factory=list)


class ScheduleBody(msgspec.Struct, forbid_unknown_fields=True):
    work_order_type: TypeKey = ""
    labour_item: Short = ""
    hours_field: Short = "labour_hours"
    price_parts: bool = True
    fees: Annotated[list[FeeBody], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    subsidies: Annotated[list[SubsidyBody], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    note: Note = ""


class ScheduleOut(msgspec.Struct):
    work_order_type: str
    labour_item: str
    hours_field: str
    price_parts: bool
    fees: list[dict[str, Any]]
    subsidies: list[dict[str, Any]]
    note: str
    updated_at: dt.datetime


def _schedule(row: dict[str, Any]) -> ScheduleOut:
    return ScheduleOut(**{k: row[k] for k in ScheduleOut.__struct_fields__})


def schedule_values(data: ScheduleBody) -> dict[str, Any]:
    values = msgspec.structs.asdict(data)
    values["fees"] = [msgspec.structs.asdict(f) for f in data.fees]
    values["subsidies"] = [msgspec.structs.asdict(s) for s in data.subsidies]
    return values


@get("/fee-schedules", guards=READ,
     summary="Fee schedules (收费标准) per work order type (\"\": the default)")
async def list_schedules() -> list[ScheduleOut]:
    return [_schedule(r) for r in await fee_schedules.list_schedules()]


@post("/fee-schedules", guards=ADMIN,
      summary="Create the fee schedule of a work order type: labour item and hours field, "
              "whether parts are charged, fees (an item or a fixed amount), subsidies")
async def create_schedule(data: JSONBody[ScheduleBody]) -> ScheduleOut:
    return _schedule(await fee_schedules.save_schedule(
        data.work_order_type, schedule_values(data), create=True))


@get("/fee-schedules/by-type", guards=READ, summary="The fee schedule of a work order type")
async def get_schedule(work_order_type: Annotated[str, Parameter(max_length=40)] = ""
                       ) -> ScheduleOut:
    return _schedule(await fee_schedules.get_schedule(work_order_type))


@put("/fee-schedules/by-type", guards=ADMIN, summary="Change the fee schedule of a type")
async def update_schedule(data: JSONBody[ScheduleBody],
                          work_order_type: Annotated[str, Parameter(max_length=40)] = ""
                          ) -> ScheduleOut:
    return _schedule(await fee_schedules.save_schedule(
        work_order_type, schedule_values(data), create=False))


@delete("/fee-schedules/by-type", guards=ADMIN, status_code=HTTP_204_NO_CONTENT,
        summary="Delete the fee schedule of a type")
async def delete_schedule(work_order_type: Annotated[str, Parameter(max_length=40)] = ""
                          ) -> None:
    await fee_schedules.delete_schedule(work_order_type)


# ----------------------------------------------------------------------------- split rules


class RuleBody(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    component: Short
    role: Short
    value: Amount
    basis: Short = "percent"
    work_order_types: Words = msgspec.field(default_factory=list)
    region_codes: RegionCodes = msgspec.field(default_factory=list)
    partner_kinds: Words = msgspec.field(default_factory=list)
    enabled: bool = True


class RuleOut(msgspec.Struct):
    code: str
    name: str
    component: str
    role: str
    basis: str
    value: Decimal
    work_order_types: list[str]
    region_codes: list[str]
    partner_kinds: list[str]
    enabled: bool


def _rule(row: dict[str, Any]) -> RuleOut:
    return RuleOut(**{k: row[k] for k in RuleOut.__struct_fields__})


@get("/split-rules", guards=READ, summary="Split rules (分成规则), by code")
async def list_rules() -> list[RuleOut]:
    return [_rule(r) for r in await split_rules.list_rules()]


@post("/split-rules", guards=ADMIN,
      summary="Create a split rule: a party (installer | dealer) gets a percent of, or a fixed "
              "amount per, the lines of a component (labour | parts | fee | fee:<key>)")
async def create_rule(data: JSONBody[RuleBody]) -> RuleOut:
    return _rule(await split_rules.create_rule(msgspec.structs.asdict(data)))


@get("/split-rules/{rule_code:str}", guards=READ, summary="A split rule")
async def get_rule(rule_code: Annotated[str, Parameter(max_length=40)]) -> RuleOut:
    return _rule(await split_rules.get_rule(rule_code))


@put("/split-rules/{rule_code:str}", guards=ADMIN,
     summary="Change a split rule (its code stays)")
async def update_rule(rule_code: Annotated[str, Parameter(max_length=40)],
                      data: JSONBody[RuleBody]) -> RuleOut:
    return _rule(await split_rules.update_rule(rule_code, msgspec.structs.asdict(data)))


@delete("/split-rules/{rule_code:str}", guards=ADMIN, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a split rule (revenue booked before keeps its split)")
async def delete_rule(rule_code: Annotated[str, Parameter(max_length=40)]) -> None:
    await split_rules.delete_rule(rule_code)


# ----------------------------------------------------------------------------- revenue


class RecomputeBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Note


class AdjustmentLineBody(msgspec.Struct, forbid_unknown_fields=True):
    title: Name
    amount: Amount = Decimal(0)
    dealer: Amount | None = None
    installer: Amount | None = None
    component: Short = "adjustment"


class AdjustBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Note
    lines: Annotated[list[AdjustmentLineBody], msgspec.Meta(min_length=1, max_length=50)]


@get("/work-orders", guards=READ,
     summary="Booked work-order revenue (工单收益), newest first, one row per work order with "
             "its adjustments added in; a partner sees only its own work orders and share")
async def list_work_order_revenue(
        period: Annotated[str | None, Parameter(max_length=7)] = None,
        installer_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
        dealer_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
        page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    if period is not None:
        periods.check_code(period)
    rows, total = await revenue.list_revenue(
        period=period, partner_id=partner_scope(), installer_id=installer_id,
        dealer_id=dealer_id, page=page, per_page=per_page)
    return {"items": [{k: revenue.json_value(v, k) for k, v in row.items()} for row in rows],
            "total": total, "page": page, "per_page": per_page}


@get("/work-orders/{work_order_id:int}", guards=READ,
     summary="A work order's revenue (工单收益): the original document and every adjusting "
             "entry, each line with its shares and explanation (a partner sees its own part)")
async def work_order_revenue(work_order_id: RecordIdParam) -> dict[str, Any]:
    return await revenue.view(work_order_id, partner_id=partner_scope())


@post("/work-orders/{work_order_id:int}/recompute", guards=ADMIN, status_code=HTTP_200_OK,
      summary="Compute a work order's revenue again and book the difference as an adjusting "
              "entry (409 when nothing changed)")
async def recompute_revenue(work_order_id: RecordIdParam, data: JSONBody[RecomputeBody]
                            ) -> dict[str, Any]:
    await revenue.recompute(work_order_id, reason=data.reason)
    return await revenue.view(work_order_id, partner_id=None)


@post("/work-orders/{work_order_id:int}/adjustments", guards=ADMIN, status_code=HTTP_200_OK,
      summary="Book a manual adjusting entry: lines of an amount (0 for a pure transfer) and "
              "what the dealer and the installer get of it")
async def adjust_revenue(work_order_id: RecordIdParam, data: JSONBody[AdjustBody]
                         ) -> dict[str, Any]:
    await revenue.adjust(work_order_id, reason=data.reason,
                         lines=[msgspec.structs.asdict(line) for line in data.lines])
    return await revenue.view(work_order_id, partner_id=None)


# ----------------------------------------------------------------------------- ledger


class EntryOut(msgspec.Struct):
    id: int
    period: str
    origin_period: str
    partner_id: int | None
    role: str
    kind: str
    amount: Decimal
    quantity: Decimal
    cost: Decimal
    source_type: str
    source_id: int
    source_ref: str
    source_line: str
    item: str
    category: str
    region_code: str
    doc_date: dt.date
    run_id: int | None
    note: str


class EntryPage(msgspec.Struct):
    items: list[EntryOut]
    total: int
    page: int
    per_page: int


@get("/entries", guards=READ,
     summary="Ledger entries (台账), newest first; a partner sees only its own")
async def list_entries(period: Annotated[str | None, Parameter(max_length=7)] = None,
                       partner_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)] = None,
                       kind: Annotated[str | None, Parameter(max_length=20)] = None,
                       carried: bool | None = None, page: Page = 1, per_page: PerPage = 50
                       ) -> EntryPage:
    own = partner_scope()
    if period is not None:
        periods.check_code(period)
    rows, total = await ledger.entries_of(
        period=period, partner_id=own if own is not None else partner_id, kind=kind,
        carried=carried, page=page, per_page=per_page)
    return EntryPage(items=[EntryOut(**{k: r[k] for k in EntryOut.__struct_fields__})
                            for r in rows], total=total, page=page, per_page=per_page)


# ----------------------------------------------------------------------------- programmes


class BandBody(msgspec.Struct, forbid_unknown_fields=True):
    min: Decimal
    rate: Decimal
    max: Decimal | None = None


class ProgrammeBody(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    kind: Short
    metric: Short = "quantity"
    mode: Short = "whole"
    unit: Annotated[str, msgspec.Meta(max_length=16)] = ""
    bands: Annotated[list[BandBody], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    share_pct: Decimal | None = None
    per_order: Decimal | None = None
    categories: Words = msgspec.field(default_factory=list)
    items: Words = msgspec.field(default_factory=list)
    region_codes: RegionCodes = msgspec.field(default_factory=list)
    partner_kinds: Words = msgspec.field(default_factory=list)
    partner_levels: Words = msgspec.field(default_factory=list)
    partner_codes: Words = msgspec.field(default_factory=list)
    valid_from: Annotated[str, msgspec.Meta(max_length=7)] = ""
    valid_to: Annotated[str, msgspec.Meta(max_length=7)] = ""
    enabled: bool = True
    description: Note = ""


class ProgrammeOut(msgspec.Struct):
    id: int
    code: str
    name: str
    kind: str
    metric: str
    mode: str
    unit: str
    bands: list[dict[str, Any]]
    share_pct: Decimal | None
    per_order: Decimal | None
    categories: list[str]
    items: list[str]
    region_codes: list[str]
    partner_kinds: list[str]
    partner_levels: list[str]
    partner_codes: list[str]
    valid_from: str
    valid_to: str
    enabled: bool
    description: str


def _programme(row: dict[str, Any]) -> ProgrammeOut:
    return ProgrammeOut(**{k: row[k] for k in ProgrammeOut.__struct_fields__})


def programme_values(data: ProgrammeBody) -> dict[str, Any]:
    values = msgspec.structs.asdict(data)
    values["bands"] = [msgspec.structs.asdict(b) for b in data.bands]
    return values


@get("/programmes", guards=READ,
     summary="Rebate and share programmes (返利/分成政策): ladder rebates and volume shares")
async def list_programmes() -> list[ProgrammeOut]:
    return [_programme(r) for r in await programmes.list_programmes()]


@post("/programmes", guards=ADMIN,
      summary="Create a programme: a ladder rebate (bands of volume with rates, whole or "
              "banded) or a volume share (a percentage of order amounts, plus per order), "
              "for the partners in its scope and the periods it is valid for")
async def create_programme(data: JSONBody[ProgrammeBody]) -> ProgrammeOut:
    return _programme(await programmes.create_programme(programme_values(data)))


@get("/programmes/{programme_code:str}", guards=READ, summary="A programme")
async def get_programme(programme_code: Annotated[str, Parameter(max_length=40)]
                        ) -> ProgrammeOut:
    return _programme(await programmes.get_programme(programme_code))


@put("/programmes/{programme_code:str}", guards=ADMIN,
     summary="Change a programme (its code stays)")
async def update_programme(programme_code: Annotated[str, Parameter(max_length=40)],
                           data: JSONBody[ProgrammeBody]) -> ProgrammeOut:
    return _programme(await programmes.update_programme(programme_code, programme_values(data)))


@delete("/programmes/{programme_code:str}", guards=ADMIN, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a programme that has settled nothing yet")
async def delete_programme(programme_code: Annotated[str, Parameter(max_length=40)]) -> None:
    await programmes.delete_programme(programme_code)


class TargetBody(msgspec.Struct, forbid_unknown_fields=True):
    period: PeriodCode
    value: Decimal
    metric: Short = "quantity"
    partner_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    region_code: Annotated[str, msgspec.Meta(max_length=12)] = ""
    note: Note = ""


class TargetOut(msgspec.Struct):
    period: str
    scope: str
    partner_id: int | None
    region_code: str
    metric: str
    value: Decimal
    note: str


@get("/targets", guards=READ, summary="The targets of a period, per partner or region")
async def list_targets(period: PeriodParam) -> list[TargetOut]:
    return [TargetOut(**{k: r[k] for k in TargetOut.__struct_fields__})
            for r in await programmes.list_targets(period)]


@put("/targets", guards=ADMIN,
     summary="Set a period's target volume for a partner or for every partner of a region")
async def set_target(data: JSONBody[TargetBody]) -> TargetOut:
    row = await programmes.set_target(period=data.period, metric=data.metric, value=data.value,
                                      partner_id=data.partner_id,
                                      region_code=data.region_code, note=data.note)
    return TargetOut(**{k: row[k] for k in TargetOut.__struct_fields__})


@get("/accruals/{partner_id:int}", guards=READ,
     summary="Where a partner stands in a period so far: each programme's volume, accrued "
             "rebate or share, band reached, distance to the next band and target, and its "
             "price tier now and why (a partner sees only its own)")
async def partner_accruals(partner_id: RecordIdParam,
                           period: Annotated[str | None, Parameter(max_length=7)] = None
                           ) -> dict[str, Any]:
    own = partner_scope()
    if own is not None and own != partner_id:
        raise NotFound(f"partner {partner_id} not found")
    standing = await runs.accruals(partner_id, period)
    tier, reason = (await reports.current_tiers([{"id": partner_id}])).get(
        partner_id, (reports.NO_TIER, ""))
    return {**standing, "tier": tier, "tier_reason": reason}


# ----------------------------------------------------------------------------- runs


class RunOut(msgspec.Struct):
    id: int
    period: str
    status: str
    progress: int
    stage: str
    statements: int
    totals: dict[str, Any]
    error: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class RunBody(msgspec.Struct, forbid_unknown_fields=True):
    close: bool = False
    """Close the period when the run completes (month end: the final run)."""


def _run(row: dict[str, Any]) -> RunOut:
    return RunOut(**{k: row[k] for k in RunOut.__struct_fields__})


@post("/periods/{period:str}/runs", guards=ADMIN,
      summary="Start a settlement run of an open period (it works in the background: follow "
              "its progress at /runs/{id}); running a period again replaces what the last "
              "run wrote and never counts twice")
async def start_run(period: PeriodParam, data: RunBody | None = None) -> RunOut:
    return _run(await runs.start(period, close=data.close if data else False))


@get("/runs", guards=ADMIN, summary="Settlement runs, newest first")
async def list_runs(period: Annotated[str | None, Parameter(max_length=7)] = None
                    ) -> list[RunOut]:
    return [_run(r) for r in await runs.list_runs(period)]


# Named apart from the flow runs' ``run_id``: a path parameter's name says what it holds.
@get("/runs/{settlement_run_id:int}", guards=ADMIN, summary="A settlement run and its progress")
async def get_run(settlement_run_id: RecordIdParam) -> RunOut:
    return _run(await runs.get_run(settlement_run_id))


# ----------------------------------------------------------------------------- imports


class ImportRow(msgspec.Struct, forbid_unknown_fields=True):
    partner: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    date: Annotated[str, msgspec.Meta(max_length=10)]
    ref: Short
    item: Short
    quantity: Amount
    amount: Amount


class ImportBody(msgspec.Struct, forbid_unknown_fields=True):
    label: Name
    rows: Annotated[list[ImportRow], msgspec.Meta(max_length=imports.MAX_ROWS)]


class ImportOut(msgspec.Struct):
    id: int
    label: str
    rows: int
    quantity: Decimal
    amount: Decimal
    created_at: dt.datetime


def _batch(row: dict[str, Any]) -> ImportOut:
    return ImportOut(**{k: row[k] for k in ImportOut.__struct_fields__})


@get("/imports", guards=ADMIN, summary="Batches of partner sales imported from the system "
                                       "used before (期初导入), newest first")
async def list_imports() -> list[ImportOut]:
    return [_batch(r) for r in await imports.list_batches()]


@post("/imports", guards=ADMIN,
      summary="Import partner sales (partner code, date, document number, item, quantity, "
              "amount) as ledger entries; one bad row refuses the whole batch, naming it")
async def create_import(data: JSONBody[ImportBody]) -> ImportOut:
    rows = [msgspec.structs.asdict(r) for r in data.rows]
    return _batch(await imports.import_sales(data.label, rows))


@get("/imports/{import_id:int}", guards=ADMIN, summary="An import batch")
async def get_import(import_id: RecordIdParam) -> ImportOut:
    return _batch(await imports.get_batch(import_id))


# ----------------------------------------------------------------------------- statements


class MoveBody(msgspec.Struct, forbid_unknown_fields=True):
    comment: Note = ""
    reference: Short = ""


@get("/statements", guards=READ,
     summary="Statements (结算单); a partner sees only its own")
async def list_statements(period: Annotated[str | None, Parameter(max_length=7)] = None,
                          status: Annotated[str | None, Parameter(max_length=10)] = None,
                          partner_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1)]
                          = None) -> list[dict[str, Any]]:
    own = partner_scope()
    return await statements.list_statements(
        period=period, status=status, partner_id=own if own is not None else partner_id)


@get("/statements/{statement_id:int}", guards=READ,
     summary="A statement with its lines (each the sum of its ledger entries) and its events")
async def get_statement(statement_id: RecordIdParam) -> dict[str, Any]:
    return await statements.get_statement(statement_id, partner_id=partner_scope())


@get("/statements/{statement_id:int}/lines/{line_no:int}/entries", guards=READ,
     summary="The ledger entries a statement line sums, each naming its source document")
async def statement_line_entries(statement_id: RecordIdParam,
                                 line_no: Annotated[int, Parameter(ge=1, le=1000)],
                                 page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    return await statements.line_entries(statement_id, line_no, partner_id=partner_scope(),
                                         page=page, per_page=per_page)


@post("/statements/{statement_id:int}/confirm", guards=needs("settlement.read"),
      status_code=HTTP_200_OK, summary="Confirm a statement (the partner, or the enterprise "
                                       "on its behalf)")
async def confirm_statement(statement_id: RecordIdParam, data: JSONBody[MoveBody]
                            ) -> dict[str, Any]:
    _may_answer()
    return await statements.move(statement_id, "confirm", comment=data.comment,
                                 partner_id=partner_scope())


@post("/statements/{statement_id:int}/dispute", guards=needs("settlement.read"),
      status_code=HTTP_200_OK, summary="Dispute a statement, saying what is wrong")
async def dispute_statement(statement_id: RecordIdParam, data: JSONBody[MoveBody]
                            ) -> dict[str, Any]:
    _may_answer()
    return await statements.move(statement_id, "dispute", comment=data.comment,
                                 partner_id=partner_scope())


@post("/statements/{statement_id:int}/pay", guards=ADMIN, status_code=HTTP_200_OK,
      summary="Mark a confirmed statement of a closed period paid (with the payment "
              "reference)")
async def pay_statement(statement_id: RecordIdParam, data: JSONBody[MoveBody]
                        ) -> dict[str, Any]:
    return await statements.move(statement_id, "pay", reference=data.reference,
                                 comment=data.comment)


def _may_answer() -> None:
    """A partner confirms or disputes its own statements; the enterprise's admins any."""
    if not (has_permission("settlement.confirm") or has_permission("settlement.admin")):
        raise PermissionDenied("you need the permission 'settlement.confirm'")


ROUTES = [list_periods, create_period, get_period, close_period, reopen_period,
          list_schedules, create_schedule, get_schedule, update_schedule, delete_schedule,
          list_rules, create_rule, get_rule, update_rule, delete_rule, list_work_order_revenue,
          work_order_revenue,
          recompute_revenue, adjust_revenue, list_entries, list_programmes, create_programme,
          get_programme, update_programme, delete_programme, list_targets, set_target,
          partner_accruals, list_imports, create_import, get_import, start_run, list_runs,
          get_run, list_statements, get_statement, statement_line_entries, confirm_statement,
          dispute_statement, pay_statement]
