"""The ledger (台账): every amount settlement knows, booked in a period for a partner.

Entries are written when their document happens — a partner order completes, a work order
completes, an adjustment is made — and never changed afterwards; a settlement run adds the
rebates and shares it computes (marked with its ``run_id``, replaced when the period is run
again). A statement line is the sum of the entries of one kind for its partner and period.

``amount`` is in the partner's favour (what the enterprise owes it), except ``sales``: the
partner's purchases at its tier prices, the basis of rebates and shares, shown on the statement
but not part of what is payable. Entries of the enterprise itself (``partner_id`` null) carry
the revenue and cost of each document for margins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from jimu_sdk import N_, ValidationFailed, current_tenant_id, platform

from jimu_settlement import periods
from jimu_settlement.tables import Entry

CENT = Decimal("0.01")
ZERO = Decimal(0)

# Kinds of entry, in the order a statement lists them. ``sales`` is the basis; the others
# are payable to the partner.
KINDS = ("sales", "service_fees", "work_order_shares", "subsidies", "rebates",
         "volume_shares", "adjustments")
BASIS_KINDS = frozenset({"sales"})
RUN_KINDS = ("rebates", "volume_shares")
"""Entries a settlement run writes; the other kinds are booked by their documents."""
ENTERPRISE_KINDS = ("order_revenue", "work_order_revenue")
KIND_TITLES = {
    "sales": N_("Purchases at tier prices"),
    "service_fees": N_("Service fees"),
    "work_order_shares": N_("Work order shares"),
    "subsidies": N_("Subsidies"),
    "rebates": N_("Rebates"),
    "volume_shares": N_("Volume shares"),
    "adjustments": N_("Adjustments"),
    "order_revenue": N_("Order revenue"),
    "work_order_revenue": N_("Work order revenue"),
}


def decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("%(value)s is not a number"), field=field,
                               params={"value": value}) from None
    if not number.is_finite():
        raise ValidationFailed(N_("%(value)s is not a number"), field=field,
                               params={"value": value})
    return number


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


async def post(entries: Sequence[Mapping[str, Any]]) -> None:
    """Write entries (each: period, origin_period, partner_id, role, kind, amount, and
    optionally tax, quantity, cost, source_type, source_id, source_ref, source_line, item,
    category, region_code, doc_date, run_id, note)."""
    if not entries:
        return
    now = platform().now()
    tenant_id = current_tenant_id()
    await Entry.insert(*[Entry(
        tenant_id=tenant_id, period=e["period"], origin_period=e["origin_period"],
        partner_id=e.get("partner_id"), role=e["role"], kind=e["kind"], amount=e["amount"],
        tax=e.get("tax", ZERO), quantity=e.get("quantity", ZERO), cost=e.get("cost", ZERO),
        source_type=e["source_type"], source_id=e["source_id"],
        source_ref=e.get("source_ref", ""), source_line=e.get("source_line", ""),
        item=e.get("item", ""), category=e.get("category", ""),
        region_code=e.get("region_code", "") or "", doc_date=e["doc_date"],
        run_id=e.get("run_id"), note=e.get("note", ""), created_at=now) for e in entries])


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        return dt.datetime.fromisoformat(value)
    return platform().now()


async def book_order(payload: Mapping[str, Any]) -> int:
    """Book a completed partner order's lines (``orders.completed``): one ``sales`` entry per
    line for its partner and one ``order_revenue`` entry of the enterprise, with the items'
    cost for margins. Returns how many lines were booked; a redelivered event books nothing
    (core keeps the handler's processed key)."""
    from jimu_price_lists.public import items_by_sku

    order_id = int(payload["order_id"])
    if await Entry.scoped_count().where((Entry.source_type == "order")
                                        & (Entry.source_id == order_id)):
        return 0
    lines = list(payload.get("lines") or [])
    doc_date = periods.local_date(_moment(payload.get("completed_at")))
    period, origin = await periods.booking_period(doc_date)
    items = await items_by_sku(str(line.get("item", "")) for line in lines)
    partner_id = payload.get("partner_id")
    region = payload.get("region_code") or ""
    if not region and partner_id is not None:
        [partner] = await platform().list_partners([partner_id]) or [{}]
        region = partner.get("region_code") or ""
    common = {"period": period, "origin_period": origin, "source_type": "order",
              "source_id": order_id, "source_ref": str(payload.get("order_no", "")),
              "region_code": region, "doc_date": doc_date}
    entries: list[dict[str, Any]] = []
    revenue = cost = quantity = ZERO
    for line in lines:
        amount = decimal(line.get("amount", "0"), "amount")
        count = decimal(line.get("quantity", "0"), "quantity")
        item = items.get(str(line.get("item", "")))
        unit_cost = item["cost"] if item and item.get("cost") is not None else ZERO
        line_cost = cents(unit_cost * count)
        revenue, cost, quantity = revenue + amount, cost + line_cost, quantity + count
        if partner_id is not None:
            entries.append({**common, "partner_id": partner_id, "role": "partner",
                            "kind": "sales", "amount": amount, "quantity": count,
                            "cost": line_cost, "source_line": str(line.get("line_no", "")),
                            "item": str(line.get("item", ""))[:64],
                            "category": str(line.get("category", "") or "")[:64]})
    entries.append({**common, "partner_id": None, "role": "enterprise",
                    "kind": "order_revenue", "amount": revenue, "cost": cost,
                    "quantity": quantity, "source_line": "",
                    "note": str(partner_id) if partner_id is not None else ""})
    await post(entries)
    return len(lines)


async def entries_of(*, period: str | None = None, partner_id: int | None = None,
                     kind: str | None = None, carried: bool | None = None,
                     source_type: str | None = None, source_id: int | None = None,
                     page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Ledger entries, newest first, with how many match."""
    where: list[Any] = []
    if period is not None:
        where.append(Entry.period == period)
    if partner_id is not None:
        where.append(Entry.partner_id == partner_id)
    if kind is not None:
        where.append(Entry.kind == kind)
    if carried is not None:
        where.append(Entry.origin_period != Entry.period if carried
                     else Entry.origin_period == Entry.period)
    if source_type is not None:
        where.append(Entry.source_type == source_type)
    if source_id is not None:
        where.append(Entry.source_id == source_id)
    total = await Entry.scoped_count().where(*where)
    rows = await Entry.scoped_select().where(*where).order_by(
        Entry.id, ascending=False).limit(per_page).offset((page - 1) * per_page)
    return rows, total
