"""Routes under /api/v1/price_tiers and admin pages under /admin/p/price_tiers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from jimu_sdk import (
    N_,
    JimuError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    current_scope,
    has_permission,
    platform,
)
from jimu_sdk.params import RecordId, RecordIdFilter, RecordIdParam
from jimu_sdk.web import needs
from litestar import MediaType, Request, delete, get, post, put
from litestar.params import JSONBody, Parameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from jimu_price_tiers import services
from jimu_price_tiers.services import EvaluationSummary, RuleSetIn, VolumeLine

READ, WRITE = needs("price_tiers.read"), needs("price_tiers.write")
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
CodeList = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]],
                     msgspec.Meta(max_length=1000)]


# ----------------------------------------------------------------------------- schemas


class TierIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    name: Name
    rank: int = 1
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TierUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    rank: int = 1
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TierOut(msgspec.Struct):
    code: str
    name: str
    rank: int
    description: str


class RuleSetBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    basis: str
    body: dict[str, Any]
    partner_kinds: CodeList = []
    partner_codes: CodeList = []
    region_codes: CodeList = []
    priority: Annotated[int, msgspec.Meta(ge=-1000, le=1000)] = 0
    enabled: bool = True


class RuleSetCreate(RuleSetBody, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] = ""


class RuleSetOut(msgspec.Struct):
    code: str
    name: str
    basis: str
    partner_kinds: list[str]
    partner_codes: list[str]
    region_codes: list[str]
    priority: int
    enabled: bool
    body: dict[str, Any]


class AssignmentOut(msgspec.Struct):
    partner_id: int
    tier: str
    rule_set: str
    reason: str
    facts: dict[str, Any]
    locked: bool
    assigned_by: int | None
    valid_from: dt.datetime
    valid_to: dt.datetime | None


class PartnerTierOut(msgspec.Struct):
    partner_id: int
    partner_code: str
    partner_name: str
    tier: str | None
    tier_name: str | None
    reason: str | None
    since: dt.datetime | None
    rule_set: str | None
    locked: bool


class ManualAssignIn(msgspec.Struct, forbid_unknown_fields=True):
    partner_id: RecordId
    tier: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    locked: bool = True


class VolumeLineIn(msgspec.Struct, forbid_unknown_fields=True):
    order_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    partner_id: RecordId
    quantity: Decimal
    completed_at: dt.datetime
    line_no: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1
    item: Annotated[str, msgspec.Meta(max_length=64)] = ""
    category: Annotated[str, msgspec.Meta(max_length=64)] = ""
    amount: Decimal = Decimal(0)


class VolumesIn(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[VolumeLineIn], msgspec.Meta(min_length=1, max_length=5000)]
    evaluate: bool = True


class VolumesOut(msgspec.Struct):
    recorded: int
    skipped: int
    evaluation: EvaluationSummary | None


class VolumeOut(msgspec.Struct):
    partner_id: int
    order_ref: str
    line_no: int
    item: str
    category: str
    quantity: Decimal
    amount: Decimal
    completed_at: dt.datetime


def _out(kind: type[Any], row: dict[str, Any]) -> Any:
    return kind(**{k: row[k] for k in kind.__struct_fields__})


def _volume_out(row: dict[str, Any]) -> VolumeOut:
    values = {k: row[k] for k in VolumeOut.__struct_fields__}
    quantity = services._quantity(row["quantity"])
    values["quantity"] = (quantity.to_integral_value() if quantity == quantity.to_integral_value()
                          else quantity.normalize())
    values["amount"] = services._quantity(row["amount"])
    return VolumeOut(**values)


# ----------------------------------------------------------------------------- tiers


@get("/tiers", guards=READ, summary="Tiers, best first")
async def list_tiers() -> list[TierOut]:
    return [_out(TierOut, t) for t in await services.list_tiers()]


@post("/tiers", guards=WRITE, summary="Create a tier")
async def create_tier(data: JSONBody[TierIn]) -> TierOut:
    return _out(TierOut, await services.create_tier(code=data.code, name=data.name,
                                                    rank=data.rank,
                                                    description=data.description))


@get("/tiers/{tier_code:str}", guards=READ, summary="One tier")
async def get_tier(tier_code: str) -> TierOut:
    return _out(TierOut, await services.get_tier(tier_code))


@put("/tiers/{tier_code:str}", guards=WRITE, summary="Change a tier's name, rank, description")
async def update_tier(tier_code: str, data: JSONBody[TierUpdate]) -> TierOut:
    return _out(TierOut, await services.update_tier(tier_code, name=data.name, rank=data.rank,
                                                    description=data.description))


@delete("/tiers/{tier_code:str}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a tier no rule set or partner uses")
async def delete_tier(tier_code: str) -> None:
    await services.delete_tier(tier_code)


# ----------------------------------------------------------------------------- rule sets


def _rule_set_in(code: str, data: RuleSetBody) -> RuleSetIn:
    return RuleSetIn(code=code, name=data.name, basis=data.basis, body=data.body,
                     partner_kinds=list(data.partner_kinds),
                     partner_codes=list(data.partner_codes),
                     region_codes=list(data.region_codes), priority=data.priority,
                     enabled=data.enabled)


@get("/rule-sets", guards=READ, summary="Rule sets, highest priority first")
async def list_rule_sets() -> list[RuleSetOut]:
    return [_out(RuleSetOut, r) for r in await services.list_rule_sets()]


@post("/rule-sets", guards=WRITE, summary="Create a rule set (checked for gaps and clashes)")
async def create_rule_set(data: JSONBody[RuleSetCreate]) -> RuleSetOut:
    if not data.code:
        raise ValidationFailed(N_("give the rule set a code"), field="code")
    return _out(RuleSetOut, await services.create_rule_set(_rule_set_in(data.code, data)))


@get("/rule-sets/{rule_set_code:str}", guards=READ, summary="One rule set")
async def get_rule_set(rule_set_code: str) -> RuleSetOut:
    return _out(RuleSetOut, await services.get_rule_set(rule_set_code))


@put("/rule-sets/{rule_set_code:str}", guards=WRITE, summary="Replace a rule set")
async def update_rule_set(rule_set_code: str, data: JSONBody[RuleSetBody]) -> RuleSetOut:
    return _out(RuleSetOut, await services.update_rule_set(
        rule_set_code, _rule_set_in(rule_set_code, data)))


@delete("/rule-sets/{rule_set_code:str}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a rule set (assignments stay until the next evaluation)")
async def delete_rule_set(rule_set_code: str) -> None:
    await services.delete_rule_set(rule_set_code)


# ----------------------------------------------------------------------------- assignments


@get("/assignments", guards=READ, summary="Current tier of every partner that has one")
async def list_assignments(tier: Annotated[str | None, Parameter(max_length=16)] = None
                           ) -> list[AssignmentOut]:
    return [_out(AssignmentOut, a) for a in await services.current_assignments(tier)]


@post("/assignments", guards=WRITE, summary="Assign a tier by hand (locked: kept until "
                                                "unlocked)")
async def assign(data: JSONBody[ManualAssignIn]) -> AssignmentOut:
    return _out(AssignmentOut, await services.assign_manually(
        partner_id=data.partner_id, tier=data.tier, note=data.note, locked=data.locked))


@post("/partners/{partner_id:int}/unlock", guards=WRITE, status_code=HTTP_200_OK,
      summary="Unlock a manual tier and re-evaluate the partner")
async def unlock(partner_id: RecordIdParam) -> EvaluationSummary:
    return await services.unlock(partner_id)


async def _partner_tier(partner_id: int) -> PartnerTierOut:
    partner = await platform().get_partner(partner_id)
    current = await services.current_of(partner_id)
    tier_name = None
    if current is not None:
        tiers = {t["code"]: t["name"] for t in await services.list_tiers()}
        tier_name = tiers.get(current["tier"])
    return PartnerTierOut(partner_id=partner_id, partner_code=partner["code"],
                          partner_name=partner["name"],
                          tier=current["tier"] if current else None, tier_name=tier_name,
                          reason=current["reason"] if current else None,
                          since=current["valid_from"] if current else None,
                          rule_set=current["rule_set"] if current else None,
                          locked=bool(current and current["locked"]))


@get("/partners/{partner_id:int}/tier", guards=READ, summary="A partner's tier and why")
async def partner_tier(partner_id: RecordIdParam) -> PartnerTierOut:
    return await _partner_tier(partner_id)


@get("/partners/{partner_id:int}/history", guards=READ,
     summary="A partner's tiers over time, newest first")
async def partner_history(partner_id: RecordIdParam) -> list[AssignmentOut]:
    await platform().get_partner(partner_id)
    return [_out(AssignmentOut, a) for a in await services.history_of(partner_id)]


@get("/my-tier", summary="The signed-in partner user's own tier and why")
async def my_tier() -> PartnerTierOut:
    scope = current_scope()
    if scope is None or scope.partner_id is None:
        raise PermissionDenied(N_("only a partner's users have a tier of their own"))
    return await _partner_tier(scope.partner_id)


@post("/evaluate", guards=WRITE, status_code=HTTP_200_OK,
      summary="Re-evaluate every partner's tier, or one partner's")
async def evaluate(partner_id: RecordIdFilter = None) -> EvaluationSummary:
    if partner_id is not None:
        await platform().get_partner(partner_id)
        return await services.evaluate([partner_id])
    return await services.evaluate()


# ----------------------------------------------------------------------------- volumes


@post("/volumes", guards=WRITE, status_code=HTTP_200_OK,
      summary="Record completed-order lines (e.g. from an ERP); repeats are skipped")
async def record_volumes(data: JSONBody[VolumesIn]) -> VolumesOut:
    lines = [VolumeLine(partner_id=line.partner_id, order_ref=line.order_ref,
                        line_no=line.line_no, item=line.item, category=line.category,
                        quantity=line.quantity, amount=line.amount,
                        completed_at=line.completed_at) for line in data.lines]
    recorded, skipped, touched = await services.record_volumes(lines)
    summary = await services.evaluate(sorted(touched)) if data.evaluate and touched else None
    return VolumesOut(recorded=recorded, skipped=skipped, evaluation=summary)


@get("/volumes", guards=READ, summary="A partner's completed-order lines, newest first")
async def list_volumes(partner_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)],
                       limit: Annotated[int, Parameter(ge=1, le=1000)] = 100
                       ) -> list[VolumeOut]:
    await platform().get_partner(partner_id)
    return [_volume_out(r) for r in await services.volumes_of(partner_id, limit)]


ROUTES = [list_tiers, create_tier, get_tier, update_tier, delete_tier, list_rule_sets,
          create_rule_set, get_rule_set, update_rule_set, delete_rule_set, list_assignments,
          assign, unlock, partner_tier, partner_history, my_tier, evaluate, record_volumes,
          list_volumes]


# ----------------------------------------------------------------------------- admin pages


def _problem(exc: JimuError) -> dict[str, Any]:
    """An error for a template: the message id and params, translated there."""
    return {"id": exc.message_id, "params": exc.params, "field": exc.field}


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}


@get("/", media_type=MediaType.HTML)  # core checks the page's permission (plugin.py)
async def board_page(changed: Annotated[int | None, Parameter(ge=0)] = None,
                     evaluated: Annotated[int | None, Parameter(ge=0)] = None) -> Template:
    return Template("price_tiers/board.html", context={
        "rows": await services.board(), "tiers": await services.list_tiers(),
        "changed": changed, "evaluated": evaluated,
        "can_write": has_permission("price_tiers.write")})


@post("/evaluate", media_type=MediaType.HTML)
async def evaluate_page() -> Redirect:
    summary = await services.evaluate()
    return Redirect(f"/admin/p/price_tiers/?changed={summary.changed}"
                    f"&evaluated={summary.evaluated}", status_code=303)


@get("/partners/{partner_id:int}", media_type=MediaType.HTML)
async def history_page(partner_id: RecordIdParam) -> Template:
    partner = await platform().get_partner(partner_id)
    return Template("price_tiers/history.html", context={
        "partner": partner, "history": await services.history_of(partner_id)})


async def _tiers_page(form: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
                      status: int = 200) -> Template:
    return Template("price_tiers/tiers.html", status_code=status, context={
        "tiers": await services.list_tiers(), "form": form or {}, "error": error,
        "can_write": has_permission("price_tiers.write")})


@get("/tiers", media_type=MediaType.HTML)
async def tiers_page() -> Template:
    return await _tiers_page()


@post("/tiers/create", media_type=MediaType.HTML)
async def tiers_create_page(request: Request) -> Template | Redirect:
    form = await _form(request)
    try:
        rank = int(form.get("rank") or "0")
    except ValueError:
        rank = 0
    try:
        await services.create_tier(code=form.get("code", "").strip(),
                                   name=form.get("name", ""), rank=rank,
                                   description=form.get("description", ""))
    except JimuError as exc:
        return await _tiers_page(form, _problem(exc), status=422)
    return Redirect("/admin/p/price_tiers/tiers", status_code=303)


@get("/rule-sets", media_type=MediaType.HTML)
async def rule_sets_page() -> Template:
    return Template("price_tiers/rule_sets.html", context={
        "rule_sets": await services.list_rule_sets(),
        "can_write": has_permission("price_tiers.write")})


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


async def _rule_set_form(code: str | None, form: dict[str, Any],
                         error: dict[str, Any] | None = None, status: int = 200) -> Template:
    return Template("price_tiers/rule_set_form.html", status_code=status, context={
        "code": code, "form": form, "error": error, "bases": services.BASES,
        "kinds": services.PARTNER_KINDS, "tiers": await services.list_tiers(),
        "can_write": has_permission("price_tiers.write")})


@get("/rule-sets/new", media_type=MediaType.HTML)
async def rule_set_new_page() -> Template:
    return await _rule_set_form(None, {"basis": "monthly_volume", "priority": "0",
                                       "enabled": "on", "body": ""})


@get("/rule-sets/{rule_set_code:str}", media_type=MediaType.HTML)
async def rule_set_edit_page(rule_set_code: str) -> Template:
    row = await services.get_rule_set(rule_set_code)
    return await _rule_set_form(rule_set_code, {
        "code": row["code"], "name": row["name"], "basis": row["basis"],
        "partner_kinds": ", ".join(row["partner_kinds"]),
        "partner_codes": ", ".join(row["partner_codes"]),
        "region_codes": ", ".join(row["region_codes"]), "priority": str(row["priority"]),
        "enabled": "on" if row["enabled"] else "",
        "body": json.dumps(row["body"], ensure_ascii=False, indent=2)})


async def _save_rule_set(rule_set_code: str | None, request: Request) -> Template | Redirect:
    form = await _form(request)
    try:
        try:
            body = json.loads(form.get("body") or "{}")
        except json.JSONDecodeError as exc:
            raise ValidationFailed(N_("the rule body is not valid JSON: %(error)s"),
                                   field="body", params={"error": str(exc)}) from exc
        try:
            priority = int(form.get("priority") or "0")
        except ValueError as exc:
            raise ValidationFailed(N_("priority must be a whole number"),
                                   field="priority") from exc
        data = RuleSetIn(code=rule_set_code or form.get("code", "").strip(),
                         name=form.get("name", ""), basis=form.get("basis", ""), body=body,
                         partner_kinds=_split(form.get("partner_kinds", "")),
                         partner_codes=_split(form.get("partner_codes", "")),
                         region_codes=_split(form.get("region_codes", "")),
                         priority=priority, enabled=bool(form.get("enabled")))
        if rule_set_code is None:
            await services.create_rule_set(data)
        else:
            await services.update_rule_set(rule_set_code, data)
    except JimuError as exc:
        if isinstance(exc, NotFound) and rule_set_code is not None:
            raise
        return await _rule_set_form(rule_set_code, form, _problem(exc), status=422)
    return Redirect("/admin/p/price_tiers/rule-sets", status_code=303)


@post("/rule-sets/new/save", media_type=MediaType.HTML)
async def rule_set_create_page(request: Request) -> Template | Redirect:
    return await _save_rule_set(None, request)


@post("/rule-sets/{rule_set_code:str}/save", media_type=MediaType.HTML)
async def rule_set_update_page(rule_set_code: str, request: Request) -> Template | Redirect:
    return await _save_rule_set(rule_set_code, request)


READ_PAGES = [board_page, history_page, tiers_page, rule_sets_page, rule_set_new_page,
              rule_set_edit_page]
WRITE_PAGES = [evaluate_page, tiers_create_page, rule_set_create_page, rule_set_update_page]
