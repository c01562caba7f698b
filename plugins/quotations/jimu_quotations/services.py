"""Quotations and partner orders: the rules, free of HTTP.

Prices come only from the pricing pipeline (``platform().price``), one call for all lines of a
document. A line keeps what the pipeline answered: the rounded total, the tax part, the net,
and the trace as its explanation. Document totals are sums of the rounded lines, never
re-rounded (docs/pricing.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import (
    N_,
    Conflict,
    JimuError,
    NotFound,
    PriceContext,
    PriceResult,
    ValidationFailed,
    current_scope,
    current_tenant_id,
    emit,
    platform,
)
from jimu_sdk.web import partner_scope

from jimu_quotations import catalog
from jimu_quotations.tables import Order, OrderLine, Quotation, QuotationLine

CENT = Decimal("0.01")
ZERO = Decimal(0)
MAX_QUANTITY = Decimal(10) ** 9

# Statuses and sources are shown translated (their names are message ids).
QUOTATION_STATUSES = (N_("draft"), N_("sent"), N_("accepted"), N_("rejected"), N_("expired"),
                      N_("superseded"))
QUOTATION_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("sent",),
    "sent": ("accepted", "rejected", "expired", "superseded"),
    "rejected": ("superseded",),
    "expired": ("superseded",),
    "accepted": (),
    "superseded": (),
}
ORDER_STATUSES = (N_("confirmed"), N_("completed"), N_("cancelled"))
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "confirmed": ("completed", "cancelled"),
    "completed": (),
    "cancelled": (),
}
ORDER_SOURCES = (N_("quotation"), N_("api"), N_("import"))


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class LineIn:
    item: str
    quantity: Decimal


@dataclass(frozen=True)
class Header:
    """Who and where a quotation or order is for."""

    partner_id: int | None = None
    customer_id: int | None = None
    region_code: str | None = None
    channel: str = ""
    currency: str = "CNY"
    on_date: dt.date | None = None
    valid_until: dt.date | None = None
    note: str = ""


@dataclass
class PricedLine:
    line_no: int
    item: str
    name: str
    category: str
    quantity: Decimal
    base_unit_price: Decimal
    unit_price: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    explanation: list[dict[str, Any]] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        return {"line_no": self.line_no, "item": self.item, "name": self.name,
                "category": self.category, "quantity": self.quantity,
                "base_unit_price": self.base_unit_price, "unit_price": self.unit_price,
                "net": self.net, "tax": self.tax, "total": self.total,
                "explanation": self.explanation}


# ----------------------------------------------------------------------------- small helpers


def today() -> dt.date:
    """Today in the tenant's timezone, by the platform clock."""
    return platform().now().astimezone(ZoneInfo(platform().timezone())).date()


def money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value: Any) -> str:
    return str(money(value))


def quantity_text(value: Any) -> str:
    """``Decimal("4.0000")`` → ``"4"``, ``Decimal("2.5")`` → ``"2.5"``."""
    text = format(Decimal(value).normalize(), "f")
    return text


def _settings() -> Mapping[str, Any]:
    return platform().settings("quotations")


def _user_id() -> int | None:
    scope = current_scope()
    return scope.user_id if scope else None


QUANTITY_STEP = Decimal("0.0001")


def parse_quantity(raw: Any, field_name: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("quantity must be a number, not %(value)s"),
                               field=field_name, params={"value": raw}) from None
    if not value.is_finite() or value <= 0:
        raise ValidationFailed(N_("quantity must be greater than zero"), field=field_name)
    if value > MAX_QUANTITY:
        raise ValidationFailed(N_("quantity must be at most %(max)s"), field=field_name,
                               params={"max": MAX_QUANTITY})
    if value != value.quantize(QUANTITY_STEP):  # stored with 4 places: refuse, never round
        raise ValidationFailed(N_("quantity has at most 4 decimal places"), field=field_name)
    return value


def _transition_conflict(kind: str, number: str, status: str, wanted: str,
                         transitions: Mapping[str, tuple[str, ...]]) -> Conflict:
    allowed = transitions.get(status, ())
    return Conflict(
        N_("%(kind)s %(number)s is %(status)s and cannot become %(wanted)s; allowed from "
           "%(status)s: %(allowed)s"),
        field="status",
        params={"kind": kind, "number": number, "status": status, "wanted": wanted,
                "allowed": ", ".join(allowed) or "none"})


# ----------------------------------------------------------------------------- validation


async def check_header(header: Header) -> Header:
    """Refuse unknown partners, customers and regions with the field named."""
    if header.partner_id is None and header.customer_id is None:
        raise ValidationFailed(N_("choose a partner or a customer"), field="partner_id")
    # The region: the one given, else the customer's, else the partner's (as pricing does).
    default_region = None
    if header.partner_id is not None:
        try:
            partner = await platform().get_partner(header.partner_id)
        except NotFound:
            raise ValidationFailed(N_("partner %(id)s not found"), field="partner_id",
                                   params={"id": header.partner_id}) from None
        default_region = partner.get("region_code") or None
    if header.customer_id is not None:
        try:
            customer = await platform().get_customer(header.customer_id)
        except NotFound:
            raise ValidationFailed(N_("customer %(id)s not found"), field="customer_id",
                                   params={"id": header.customer_id}) from None
        default_region = customer.get("region_code") or default_region
    region = (header.region_code or "").strip() or default_region
    if region is not None and not platform().region_path(region):
        raise ValidationFailed(N_("%(code)s is not a known region code"), field="region_code",
                               params={"code": region})
    currency = (header.currency or "CNY").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationFailed(N_("currency must be a three-letter code such as CNY"),
                               field="currency")
    return replace(header, region_code=region, currency=currency,
                   channel=(header.channel or "").strip())


def check_lines(lines: Sequence[LineIn]) -> list[LineIn]:
    if not lines:
        raise ValidationFailed(N_("add at least one line"), field="lines")
    checked = []
    for index, line in enumerate(lines):
        item = (line.item or "").strip()
        if not item:
            raise ValidationFailed(N_("the item (SKU) is required"),
                                   field=f"lines[{index}].item")
        checked.append(LineIn(item=item, quantity=parse_quantity(
            line.quantity, f"lines[{index}].quantity")))
    return checked


# ----------------------------------------------------------------------------- pricing


def explanation_of(result: PriceResult) -> list[dict[str, Any]]:
    """The trace as stored and shown: plugin, rule, reason and the change it made."""
    return [{"plugin": t.plugin, "rule": t.rule, "reason": t.reason, "kind": t.kind,
             "before": str(t.before.amount), "after": str(t.after.amount),
             "change": str(t.change.amount)} for t in result.trace]


def priced_line(line_no: int, sku: str, quantity: Decimal, result: PriceResult,
                items: Mapping[str, Mapping[str, Any]]) -> PricedLine:
    item = items.get(sku) or {}
    total = money(result.total.amount)
    tax = money(result.tax.amount if result.tax is not None else ZERO)
    return PricedLine(
        line_no=line_no, item=sku, name=str(item.get("name") or sku),
        category=str(item.get("category") or result.facts.get("price_lists.category") or ""),
        quantity=quantity, base_unit_price=result.unit_price.amount,
        unit_price=(total / quantity).quantize(CENT, rounding=ROUND_HALF_UP),
        net=total - tax, tax=tax, total=total, explanation=explanation_of(result))


async def price_lines(header: Header, lines: Sequence[LineIn]) -> list[PricedLine]:
    """Price every line in ONE pipeline call; errors name the line (``lines[2].item``)."""
    tenant_id = current_tenant_id()
    contexts = [PriceContext(tenant_id=tenant_id, item=line.item, quantity=line.quantity,
                             currency=header.currency, partner_id=header.partner_id,
                             customer_id=header.customer_id, region_code=header.region_code,
                             channel=header.channel or None, on_date=header.on_date)
                for line in lines]
    results = await platform().price(contexts)
    items = await catalog.items_by_sku(line.item for line in lines)
    return [priced_line(index + 1, line.item, line.quantity, result, items)
            for index, (line, result) in enumerate(zip(lines, results, strict=True))]


def totals(lines: Sequence[PricedLine] | Sequence[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Sums of the rounded line amounts (never re-rounded)."""
    def get(line: Any, name: str) -> Decimal:
        return Decimal(line[name] if isinstance(line, Mapping) else getattr(line, name))

    return {"net": sum((get(x, "net") for x in lines), ZERO),
            "tax": sum((get(x, "tax") for x in lines), ZERO),
            "total": sum((get(x, "total") for x in lines), ZERO)}


async def preview(header: Header, lines: Sequence[LineIn]) -> dict[str, Any]:
    """Price lines as a quotation would, writing nothing (the builder's live preview)."""
    header = await check_header(header)
    priced = await price_lines(header, check_lines(lines))
    return {"lines": [p.as_row() for p in priced], **totals(priced),
            "currency": header.currency}


# ----------------------------------------------------------------------------- visibility


async def _visible(table: Any, query: Any) -> Any:
    partner_id = partner_scope()
    if partner_id is None:
        return query
    condition = table.partner_id == partner_id
    customers = await platform().visible_customer_ids()
    if customers:
        condition = condition | table.customer_id.is_in(customers)
    return query.where(condition)


# ----------------------------------------------------------------------------- numbers


async def _next_number(table: Any, prefix: str) -> str:
    stem = f"{prefix}-{today().year}-"
    last = await table.scoped_select(table.number).where(
        table.number.like(stem + "%")).order_by(table.number, ascending=False).first()
    sequence = int(last["number"][len(stem):]) + 1 if last else 1
    return f"{stem}{sequence:06d}"


# ----------------------------------------------------------------------------- quotations


def effective_status(row: Mapping[str, Any]) -> str:
    """A sent quotation past its valid-until date reads as expired even before the nightly
    job marks it."""
    if row["status"] == "sent" and row["valid_until"] < today():
        return "expired"
    return str(row["status"])


async def _insert_quotation_lines(quotation_id: int, priced: Sequence[PricedLine]) -> None:
    if not priced:
        return
    tenant_id = current_tenant_id()
    await QuotationLine.insert(*[QuotationLine(
        tenant_id=tenant_id, quotation_id=quotation_id, **p.as_row()) for p in priced])


async def create_quotation(header: Header, lines: Sequence[LineIn]) -> dict[str, Any]:
    header = await check_header(header)
    on_date = header.on_date or today()
    header = replace(header, on_date=on_date)
    priced = await price_lines(header, check_lines(lines))
    valid_until = header.valid_until or on_date + dt.timedelta(
        days=int(_settings().get("valid_days", 15)))
    if valid_until < on_date:
        raise ValidationFailed(N_("the valid-until date must not be before the quotation date"),
                               field="valid_until")
    now = platform().now()
    row = await Quotation.scoped_insert(
        number=await _next_number(Quotation, "Q"), version=1, partner_id=header.partner_id,
        customer_id=header.customer_id, region_code=header.region_code,
        channel=header.channel, currency=header.currency, on_date=on_date,
        valid_until=valid_until, status="draft", note=header.note, created_by=_user_id(),
        created_at=now, updated_at=now, **totals(priced))
    await _insert_quotation_lines(row["id"], priced)
    return await get_quotation(row["id"])


async def _quotation_row(quotation_id: int) -> dict[str, Any]:
    query = await _visible(Quotation, Quotation.scoped_select())
    row = await query.where(Quotation.id == quotation_id).first()
    if row is None:
        raise NotFound(N_("quotation %(id)s not found"), params={"id": quotation_id})
    return row


async def quotation_lines(quotation_id: int) -> list[dict[str, Any]]:
    return await QuotationLine.scoped_select().where(
        QuotationLine.quotation_id == quotation_id).order_by(QuotationLine.line_no)


async def get_quotation(quotation_id: int) -> dict[str, Any]:
    """A quotation with its lines and the list of its versions."""
    row = await _quotation_row(quotation_id)
    row["status"] = effective_status(row)
    row["lines"] = await quotation_lines(quotation_id)
    versions = await Quotation.scoped_select(
        Quotation.id, Quotation.version, Quotation.status, Quotation.total,
        Quotation.valid_until, Quotation.created_at).where(
        Quotation.number == row["number"]).order_by(Quotation.version)
    for version in versions:
        version["status"] = effective_status(version)
    row["versions"] = versions
    return row


async def update_quotation(quotation_id: int, header: Header,
                           lines: Sequence[LineIn]) -> dict[str, Any]:
    """Save a draft: its lines are re-priced; a sent quotation's prices stay frozen."""
    row = await _quotation_row(quotation_id)
    if row["status"] != "draft":
        raise Conflict(N_("quotation %(number)s is %(status)s: only a draft can be changed; "
                          "revise it to make a new version"), field="status",
                       params={"number": row["number"], "status": effective_status(row)})
    header = await check_header(header)
    on_date = header.on_date or row["on_date"] or today()
    header = replace(header, on_date=on_date)
    priced = await price_lines(header, check_lines(lines))
    valid_until = header.valid_until or row["valid_until"]
    if valid_until < on_date:
        raise ValidationFailed(N_("the valid-until date must not be before the quotation date"),
                               field="valid_until")
    await QuotationLine.scoped_delete().where(QuotationLine.quotation_id == quotation_id)
    await _insert_quotation_lines(quotation_id, priced)
    await Quotation.scoped_update({
        Quotation.partner_id: header.partner_id, Quotation.customer_id: header.customer_id,
        Quotation.region_code: header.region_code, Quotation.channel: header.channel,
        Quotation.currency: header.currency, Quotation.on_date: on_date,
        Quotation.valid_until: valid_until, Quotation.note: header.note,
        Quotation.updated_at: platform().now(),
        **{getattr(Quotation, k): v for k, v in totals(priced).items()}}).where(
        Quotation.id == quotation_id)
    return await get_quotation(quotation_id)


async def _set_status(row: Mapping[str, Any], status: str, **values: Any) -> None:
    """Move the quotation on from the status it was read in, or refuse: of two people acting
    on it at once, one wins and the other gets 409 (a conditional update, so PostgreSQL's
    concurrent writers wait for each other and the second finds nothing to change)."""
    update: dict[Any, Any] = {Quotation.status: status, Quotation.updated_at: platform().now()}
    update.update({getattr(Quotation, k): v for k, v in values.items()})
    changed = await Quotation.scoped_update(update).where(
        (Quotation.id == row["id"]) & (Quotation.status == row["status"])
    ).returning(Quotation.id)
    if not changed:
        current = await _quotation_row(row["id"])
        raise _transition_conflict("quotation", row["number"], effective_status(current),
                                   status, QUOTATION_TRANSITIONS)


def _require(row: Mapping[str, Any], wanted: str, *allowed_from: str) -> None:
    status = effective_status(row)
    if status not in allowed_from:
        raise _transition_conflict("quotation", row["number"], status, wanted,
                                   QUOTATION_TRANSITIONS)


async def send_quotation(quotation_id: int) -> dict[str, Any]:
    row = await _quotation_row(quotation_id)
    _require(row, "sent", "draft")
    if row["valid_until"] < today():
        raise ValidationFailed(N_("the valid-until date %(date)s is in the past; change it "
                                  "before sending"), field="valid_until",
                               params={"date": row["valid_until"].isoformat()})
    await _set_status(row, "sent", sent_at=platform().now())
    await emit("quotations.sent", {"quotation_id": quotation_id, "number": row["number"],
                                   "version": row["version"]})
    return await get_quotation(quotation_id)


async def reject_quotation(quotation_id: int) -> dict[str, Any]:
    row = await _quotation_row(quotation_id)
    _require(row, "rejected", "sent")
    await _set_status(row, "rejected", decided_at=platform().now())
    await emit("quotations.rejected", {"quotation_id": quotation_id, "number": row["number"],
                                       "version": row["version"]})
    return await get_quotation(quotation_id)


async def revise_quotation(quotation_id: int) -> dict[str, Any]:
    """A new draft version n+1 with the same lines, re-priced today; the old one is
    superseded and stays readable."""
    row = await _quotation_row(quotation_id)
    _require(row, "superseded", "sent", "rejected", "expired")
    lines = [LineIn(item=line["item"], quantity=Decimal(line["quantity"]))
             for line in await quotation_lines(quotation_id)]
    header = Header(partner_id=row["partner_id"], customer_id=row["customer_id"],
                    region_code=row["region_code"], channel=row["channel"],
                    currency=row["currency"], on_date=today(), note=row["note"])
    priced = await price_lines(header, lines)
    valid_until = max(row["valid_until"], today() + dt.timedelta(
        days=int(_settings().get("valid_days", 15))))
    now = platform().now()
    await _set_status(row, "superseded")
    latest = await Quotation.scoped_select(Quotation.version).where(
        Quotation.number == row["number"]).order_by(Quotation.version, ascending=False).first()
    new = await Quotation.scoped_insert(
        number=row["number"], version=latest["version"] + 1, revision_of=quotation_id,
        partner_id=row["partner_id"], customer_id=row["customer_id"],
        region_code=row["region_code"], channel=row["channel"], currency=row["currency"],
        on_date=header.on_date, valid_until=valid_until, status="draft", note=row["note"],
        created_by=_user_id(), created_at=now, updated_at=now, **totals(priced))
    await _insert_quotation_lines(new["id"], priced)
    return await get_quotation(new["id"])


async def accept_quotation(quotation_id: int) -> dict[str, Any]:
    """Accept a sent, unexpired quotation: its order is created in the same transaction
    (with its frozen prices), and ``orders.created`` handlers that run in the transaction
    (e.g. stock reservations) can still refuse the whole acceptance."""
    row = await _quotation_row(quotation_id)
    if row["status"] == "sent" and row["valid_until"] < today():
        raise Conflict(N_("the quotation expired on %(date)s; revise it to quote again"),
                       field="valid_until", params={"date": row["valid_until"].isoformat()})
    _require(row, "accepted", "sent")
    lines = [PricedLine(
        line_no=line["line_no"], item=line["item"], name=line["name"],
        category=line["category"], quantity=Decimal(line["quantity"]),
        base_unit_price=Decimal(line["base_unit_price"]),
        unit_price=Decimal(line["unit_price"]), net=Decimal(line["net"]),
        tax=Decimal(line["tax"]), total=Decimal(line["total"]),
        explanation=line["explanation"] or []) for line in await quotation_lines(quotation_id)]
    await _set_status(row, "accepted", decided_at=platform().now())
    order = await _create_order(
        partner_id=row["partner_id"], customer_id=row["customer_id"],
        region_code=row["region_code"], currency=row["currency"], on_date=today(),
        source="quotation", quotation_id=quotation_id, lines=lines)
    result = await get_quotation(quotation_id)
    result["order"] = order
    return result


async def expire_due() -> int:
    """Mark sent quotations past their valid-until date expired (the nightly job)."""
    due = await Quotation.scoped_select(Quotation.id).where(
        (Quotation.status == "sent") & (Quotation.valid_until < today()))
    ids = [row["id"] for row in due]
    if ids:
        await Quotation.scoped_update({Quotation.status: "expired",
                                       Quotation.updated_at: platform().now()}).where(
            Quotation.id.is_in(ids))
    return len(ids)


async def list_quotations(*, status: str | None = None, partner_id: int | None = None,
                          page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    query = await _visible(Quotation, Quotation.scoped_select())
    count = await _visible(Quotation, Quotation.scoped_count())
    conditions: list[Any] = []
    if status == "expired":
        conditions.append((Quotation.status == "expired") | (
            (Quotation.status == "sent") & (Quotation.valid_until < today())))
    elif status == "sent":
        conditions.append((Quotation.status == "sent") & (Quotation.valid_until >= today()))
    elif status:
        conditions.append(Quotation.status == status)
    if partner_id is not None:
        conditions.append(Quotation.partner_id == partner_id)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(Quotation.id, ascending=False).limit(per_page).offset(
        (page - 1) * per_page)
    for row in rows:
        row["status"] = effective_status(row)
    return rows, await count


# ----------------------------------------------------------------------------- orders


def event_payload(order: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
                  *, completed: bool = False) -> dict[str, Any]:
    """The payload of ``orders.created|completed|cancelled``: quantities and money as
    strings."""
    payload: dict[str, Any] = {
        "order_id": order["id"], "order_no": order["number"],
        "partner_id": order["partner_id"], "customer_id": order["customer_id"],
        "region_code": order["region_code"],
        "lines": [{"line_no": line["line_no"], "item": line["item"],
                   "quantity": quantity_text(line["quantity"]),
                   "unit_price": money_text(line["unit_price"]),
                   "amount": money_text(line["amount"]), "category": line["category"] or ""}
                  for line in lines]}
    if completed:
        payload["completed_at"] = order["completed_at"].isoformat()
    return payload


async def _create_order(*, partner_id: int | None, customer_id: int | None,
                        region_code: str | None, currency: str, on_date: dt.date,
                        source: str, lines: Sequence[PricedLine], quotation_id: int | None = None,
                        external_ref: str = "") -> dict[str, Any]:
    assert source in ORDER_SOURCES, source
    now = platform().now()
    order = await Order.scoped_insert(
        number=await _next_number(Order, "SO"), partner_id=partner_id, customer_id=customer_id,
        region_code=region_code, source=source, quotation_id=quotation_id,
        external_ref=external_ref, currency=currency, on_date=on_date, status="confirmed",
        created_by=_user_id(), created_at=now, **totals(lines))
    tenant_id = current_tenant_id()
    rows: list[dict[str, Any]] = [
        {"line_no": p.line_no, "item": p.item, "name": p.name, "category": p.category,
         "quantity": p.quantity, "unit_price": p.unit_price, "net": p.net, "tax": p.tax,
         "amount": p.total, "explanation": p.explanation} for p in lines]
    if rows:
        await OrderLine.insert(*[OrderLine(tenant_id=tenant_id, order_id=order["id"], **r)
                                 for r in rows])
    # In-transaction handlers (stock reservations) run here; their Conflict fails us whole.
    await emit("orders.created", event_payload(order, rows))
    return await get_order(order["id"])


async def create_order(header: Header, lines: Sequence[LineIn], *, source: str = "api",
                       external_ref: str = "") -> dict[str, Any]:
    """An order priced by the pipeline (callers never set prices)."""
    header = await check_header(header)
    on_date = header.on_date or today()
    header = replace(header, on_date=on_date)
    priced = await price_lines(header, check_lines(lines))
    return await _create_order(partner_id=header.partner_id, customer_id=header.customer_id,
                               region_code=header.region_code, currency=header.currency,
                               on_date=on_date, source=source, lines=priced,
                               external_ref=external_ref)


async def _order_row(order_id: int) -> dict[str, Any]:
    query = await _visible(Order, Order.scoped_select())
    row = await query.where(Order.id == order_id).first()
    if row is None:
        raise NotFound(N_("order %(id)s not found"), params={"id": order_id})
    return row


async def order_lines(order_id: int) -> list[dict[str, Any]]:
    return await OrderLine.scoped_select().where(OrderLine.order_id == order_id).order_by(
        OrderLine.line_no)


async def get_order(order_id: int) -> dict[str, Any]:
    row = await _order_row(order_id)
    row["lines"] = await order_lines(order_id)
    return row


async def _order_transition(order_id: int, wanted: str) -> dict[str, Any]:
    row = await _order_row(order_id)
    if wanted not in ORDER_TRANSITIONS.get(row["status"], ()):
        raise _transition_conflict("order", row["number"], row["status"], wanted,
                                   ORDER_TRANSITIONS)
    return row


async def _move_order(row: Mapping[str, Any], status: str, **values: Any) -> None:
    """Conditional on the status it was read in: a concurrent move makes this one 409."""
    update: dict[Any, Any] = {Order.status: status}
    update.update({getattr(Order, k): v for k, v in values.items()})
    changed = await Order.scoped_update(update).where(
        (Order.id == row["id"]) & (Order.status == row["status"])).returning(Order.id)
    if not changed:
        current = await _order_row(row["id"])
        raise _transition_conflict("order", row["number"], current["status"], status,
                                   ORDER_TRANSITIONS)


async def complete_order(order_id: int) -> dict[str, Any]:
    row = await _order_transition(order_id, "completed")
    await _move_order(row, "completed", completed_at=platform().now())
    order = await get_order(order_id)
    await emit("orders.completed", event_payload(order, order["lines"], completed=True))
    return order


async def cancel_order(order_id: int) -> dict[str, Any]:
    row = await _order_transition(order_id, "cancelled")
    await _move_order(row, "cancelled", cancelled_at=platform().now())
    order = await get_order(order_id)
    await emit("orders.cancelled", event_payload(order, order["lines"]))
    return order


async def list_orders(*, status: str | None = None, partner_id: int | None = None,
                      page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    query = await _visible(Order, Order.scoped_select())
    count = await _visible(Order, Order.scoped_count())
    conditions: list[Any] = []
    if status:
        conditions.append(Order.status == status)
    if partner_id is not None:
        conditions.append(Order.partner_id == partner_id)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(Order.id, ascending=False).limit(per_page).offset(
        (page - 1) * per_page)
    return rows, await count


# ----------------------------------------------------------------------------- import

IMPORT_COLUMNS = ("order_ref", "partner_code", "region_code", "sku", "quantity", "date")
REQUIRED_COLUMNS = IMPORT_COLUMNS[:5]
MAX_IMPORT_ROWS = 5000
_LINE_FIELD = re.compile(r"lines\[(\d+)\]\.(\w+)")
_FIELD_COLUMN = {"item": "sku", "quantity": "quantity", "region_code": "region_code",
                 "partner_id": "partner_code", "on_date": "date", "currency": "sku"}


@dataclass
class ImportRow:
    row: int
    order_ref: str
    partner: Mapping[str, Any]
    region_code: str | None
    sku: str
    quantity: Decimal
    on_date: dt.date | None


@dataclass
class ImportReport:
    rows: int
    orders: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    created: list[dict[str, Any]] = field(default_factory=list)


def read_table(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV or XLSX file as ``(row number, {column: text})``; the header is row 1."""
    import csv
    import io

    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ValidationFailed(N_("the file is not a readable XLSX workbook (%(error)s)"),
                                   field="file", params={"error": type(exc).__name__}) from None
        sheet = book.worksheets[0]
        raw = [["" if v is None else (v.date().isoformat() if isinstance(v, dt.datetime)
                                      else v.isoformat() if isinstance(v, dt.date)
                                      else str(v)) for v in row]
               for row in sheet.iter_rows(values_only=True)]
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError:
                raise ValidationFailed(N_("the file is neither UTF-8 nor GB18030 text"),
                                       field="file") from None
        try:
            raw = list(csv.reader(io.StringIO(text)))
        except csv.Error as exc:  # a cell over the csv module's limit, a stray NUL, …
            raise ValidationFailed(N_("the CSV file cannot be read: %(problem)s"),
                                   field="file", params={"problem": str(exc)}) from None
    if not raw:
        raise ValidationFailed(N_("the file is empty"), field="file")
    header = [str(h).strip().lower() for h in raw[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(N_("the file lacks the columns: %(columns)s"), field="file",
                               params={"columns": ", ".join(missing)})
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        if not any(str(v).strip() for v in values):
            continue
        rows.append((number, {name: str(values[i]).strip() if i < len(values) else ""
                              for i, name in enumerate(header) if name in IMPORT_COLUMNS}))
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed(N_("at most %(max)s rows can be imported at once"),
                               field="file", params={"max": MAX_IMPORT_ROWS})
    return rows


async def import_orders(rows: Sequence[tuple[int, Mapping[str, str]]], *,
                        dry_run: bool) -> ImportReport:
    """Check every row (partner, region, SKU, quantity, date) and price them through the
    pipeline; report every bad row. Without ``dry_run`` and with no bad row, create one order
    per ``order_ref``; with any bad row nothing is written."""
    errors: list[dict[str, Any]] = []

    def bad(at: int, column: str, message: str, /, **params: Any) -> None:
        # message_id and params let a page show the message in the reader's language.
        errors.append({"row": at, "column": column,
                       "message": message % params if params else message,
                       "message_id": message, "params": params})

    partners = {p["code"]: p for p in await platform().list_partners()}
    good: list[ImportRow] = []
    first_partner: dict[str, tuple[int, str]] = {}
    for number, values in rows:
        ok = True
        ref = values.get("order_ref", "")
        if not ref:
            bad(number, "order_ref", N_("order_ref is required"))
            ok = False
        code = values.get("partner_code", "")
        partner = partners.get(code)
        if partner is None:
            bad(number, "partner_code", N_("unknown partner code %(code)s"), code=code or "—")
            ok = False
        elif ref:
            seen = first_partner.setdefault(ref, (number, code))
            if seen[1] != code:
                bad(number, "partner_code",
                    N_("order %(ref)s already has partner %(code)s (row %(row)s)"),
                    ref=ref, code=seen[1], row=seen[0])
                ok = False
        region = values.get("region_code", "") or None
        if region is not None and not platform().region_path(region):
            bad(number, "region_code", N_("%(code)s is not a known region code"), code=region)
            ok = False
        sku = values.get("sku", "")
        if not sku:
            bad(number, "sku", N_("sku is required"))
            ok = False
        quantity = ZERO
        try:
            quantity = parse_quantity(values.get("quantity", ""), "quantity")
        except ValidationFailed as exc:
            bad(number, "quantity", exc.message_id, **exc.params)
            ok = False
        on_date = None
        if values.get("date"):
            try:
                on_date = dt.date.fromisoformat(values["date"][:10])
            except ValueError:
                bad(number, "date", N_("date must be YYYY-MM-DD, not %(value)s"),
                    value=values["date"])
                ok = False
        if ok and partner is not None:
            good.append(ImportRow(row=number, order_ref=ref, partner=partner,
                                  region_code=region or partner.get("region_code") or None,
                                  sku=sku, quantity=quantity, on_date=on_date))
    priced = await _price_import_rows(good, bad)
    errors.sort(key=lambda e: (e["row"], IMPORT_COLUMNS.index(e["column"])
                               if e["column"] in IMPORT_COLUMNS else 99))
    bad_refs = {values.get("order_ref", "") for number, values in rows
                if any(e["row"] == number for e in errors)}
    groups: dict[str, list[tuple[ImportRow, PricedLine]]] = {}
    for row, line in priced:
        groups.setdefault(row.order_ref, []).append((row, line))
    orders = [{"order_ref": ref, "partner_code": lines[0][0].partner["code"],
               "region_code": lines[0][0].region_code, "rows": [r.row for r, _ in lines],
               "lines": len(lines), "complete": ref not in bad_refs,
               **totals([line for _, line in lines])} for ref, lines in groups.items()]
    report = ImportReport(rows=len(rows), orders=orders, errors=errors)
    if dry_run:
        return report
    if errors:
        raise ValidationFailed(
            N_("%(count)s problems in the file; nothing was imported"),
            params={"count": len(errors)},
            errors=[{"field": f"row {e['row']}: {e['column']}", "message": e["message"],
                     "row": str(e["row"]), "column": e["column"]} for e in errors])
    for ref, lines in groups.items():
        first = lines[0][0]
        numbered = [replace(line, line_no=index) for index, (_, line) in
                    enumerate(lines, start=1)]
        report.created.append(await _create_order(
            partner_id=first.partner["id"], customer_id=None, region_code=first.region_code,
            currency="CNY", on_date=first.on_date or today(), source="import",
            lines=numbered, external_ref=ref))
    return report


async def _price_import_rows(rows: list[ImportRow], bad: Any
                             ) -> list[tuple[ImportRow, PricedLine]]:
    """Price the checked rows in one pipeline call; a line the pipeline refuses (unknown SKU)
    is reported against its row and the call is repeated without it."""
    pending = list(rows)
    tenant_id = current_tenant_id()
    for _ in range(len(rows) + 1):
        if not pending:
            return []
        contexts = [PriceContext(tenant_id=tenant_id, item=r.sku, quantity=r.quantity,
                                 partner_id=r.partner["id"], region_code=r.region_code,
                                 on_date=r.on_date) for r in pending]
        try:
            results = await platform().price(contexts)
        except JimuError as exc:
            match = _LINE_FIELD.fullmatch(exc.field or "")
            if match is None or int(match.group(1)) >= len(pending):
                raise
            failed = pending.pop(int(match.group(1)))
            bad(failed.row, _FIELD_COLUMN.get(match.group(2), "sku"), exc.message_id,
                **exc.params)
            continue
        items = await catalog.items_by_sku(r.sku for r in pending)
        return [(row, priced_line(0, row.sku, row.quantity, result, items))
                for row, result in zip(pending, results, strict=True)]
    return []
