"""Fee schedules (收费标准): how a completed work order of a type earns money.

A schedule names the labour item (a ``price_lists`` item of kind ``labour``: the regional
pricing plugin prices it at the region's hourly rate) and the stage form field that records
the hours; whether the parts used are charged (each priced through the pipeline for the work
order's partner, so at its tier); fees, each an item priced through the pipeline or a fixed
amount (上门费 call-out fee); and subsidies the enterprise pays a party, optionally only in
some regions (县域补贴). The schedule of type ``""`` serves types without their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from jimu_sdk import N_, Conflict, NotFound, ValidationFailed, platform

from jimu_settlement.ledger import decimal
from jimu_settlement.split_rules import ROLES
from jimu_settlement.tables import FeeSchedule

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
MAX_FEES = 20


def _money(value: Any, field: str) -> Decimal:
    amount = decimal(value, field)
    if amount < 0 or amount.quantize(Decimal("0.01")) != amount or amount >= 10**9:
        raise ValidationFailed(N_("an amount is at least 0, in yuan and fen (two decimal "
                                  "places)"), field=field)
    return amount


def _keys(entries: Sequence[Mapping[str, Any]], name: str) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        key = entry.get("key", "")
        if not KEY.match(key):
            raise ValidationFailed(N_("a key is lower-case letters, digits, - and _ (at most "
                                      "31)"), field=f"{name}[{index}].key")
        if key in seen:
            raise ValidationFailed(N_("%(key)s is used twice"), field=f"{name}[{index}].key",
                                   params={"key": key})
        seen.add(key)


async def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    from jimu_price_lists.public import items_by_sku

    values = dict(data)
    if not FIELD.match(values.get("hours_field") or ""):
        raise ValidationFailed(N_("hours_field is the name of a stage form field, e.g. "
                                  "labour_hours"), field="hours_field")
    fees = [dict(f) for f in values.get("fees", [])]
    subsidies = [dict(s) for s in values.get("subsidies", [])]
    if len(fees) > MAX_FEES or len(subsidies) > MAX_FEES:
        raise ValidationFailed(N_("at most %(max)s fees and %(max)s subsidies"), field="fees",
                               params={"max": MAX_FEES})
    _keys(fees, "fees")
    _keys(subsidies, "subsidies")
    wanted = [values.get("labour_item") or "", *(f.get("item") or "" for f in fees)]
    known = await items_by_sku(sku for sku in wanted if sku)
    labour = values.get("labour_item") or ""
    if labour and labour not in known:
        raise ValidationFailed(N_("%(sku)s is not an item of the price lists"),
                               field="labour_item", params={"sku": labour})
    for index, fee in enumerate(fees):
        item, amount = fee.get("item") or "", fee.get("amount")
        if bool(item) == (amount is not None):
            raise ValidationFailed(N_("a fee is priced by an item or has a fixed amount, one "
                                      "of the two"), field=f"fees[{index}]")
        if item and item not in known:
            raise ValidationFailed(N_("%(sku)s is not an item of the price lists"),
                                   field=f"fees[{index}].item", params={"sku": item})
        fee["item"] = item
        fee["amount"] = None if amount is None else str(_money(amount, f"fees[{index}].amount"))
        if not (fee.get("name") or "").strip():
            raise ValidationFailed(N_("name the fee"), field=f"fees[{index}].name")
    for index, subsidy in enumerate(subsidies):
        subsidy["amount"] = str(_money(subsidy.get("amount"), f"subsidies[{index}].amount"))
        if subsidy.get("to") not in ROLES:
            raise ValidationFailed(N_("a subsidy is paid to the installer or the dealer"),
                                   field=f"subsidies[{index}].to")
        if not (subsidy.get("name") or "").strip():
            raise ValidationFailed(N_("name the subsidy"), field=f"subsidies[{index}].name")
        for code in subsidy.get("region_codes") or []:
            if not platform().region_path(code):
                raise ValidationFailed(N_("%(code)s is not a known region code"),
                                       field=f"subsidies[{index}].region_codes",
                                       params={"code": code})
        subsidy["region_codes"] = list(subsidy.get("region_codes") or [])
    values["fees"], values["subsidies"] = fees, subsidies
    return values


async def list_schedules() -> list[dict[str, Any]]:
    return await FeeSchedule.scoped_select().order_by(FeeSchedule.work_order_type)


async def get_schedule(work_order_type: str) -> dict[str, Any]:
    row = await FeeSchedule.scoped_select().where(
        FeeSchedule.work_order_type == work_order_type).first()
    if row is None:
        raise NotFound(N_("there is no fee schedule for work order type %(type)s"),
                       params={"type": work_order_type or '""'})
    return row


async def schedule_for(work_order_type: str) -> dict[str, Any] | None:
    """The schedule of the type, else the default one (type ``""``), else ``None``."""
    rows = await FeeSchedule.scoped_select().where(
        FeeSchedule.work_order_type.is_in([work_order_type, ""]))
    by_type = {r["work_order_type"]: r for r in rows}
    return by_type.get(work_order_type) or by_type.get("")


async def save_schedule(work_order_type: str, data: Mapping[str, Any], *,
                        create: bool) -> dict[str, Any]:
    exists = await FeeSchedule.scoped_select().where(
        FeeSchedule.work_order_type == work_order_type).first()
    if create and exists is not None:
        raise Conflict(N_("work order type %(type)s has a fee schedule already"),
                       field="work_order_type", params={"type": work_order_type or '""'})
    if not create and exists is None:
        await get_schedule(work_order_type)  # raises NotFound
    values = await validate(data)
    values.pop("work_order_type", None)
    now = platform().now()
    if exists is None:
        row = await FeeSchedule.scoped_insert(work_order_type=work_order_type, **values,
                                              updated_at=now)
    else:
        await FeeSchedule.scoped_update({getattr(FeeSchedule, k): v for k, v in values.items()}
                                        | {FeeSchedule.updated_at: now}).where(
            FeeSchedule.work_order_type == work_order_type)
        row = await get_schedule(work_order_type)
    await platform().audit("settlement.fee_schedule.save",
                           f"settlement_fee_schedule:{work_order_type}", _audit(exists),
                           _audit(row))
    return row


async def delete_schedule(work_order_type: str) -> None:
    before = await get_schedule(work_order_type)
    await FeeSchedule.scoped_delete().where(FeeSchedule.work_order_type == work_order_type)
    await platform().audit("settlement.fee_schedule.delete",
                           f"settlement_fee_schedule:{work_order_type}", _audit(before), None)


def _audit(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: v for k, v in row.items() if k not in ("id", "tenant_id", "updated_at")}
