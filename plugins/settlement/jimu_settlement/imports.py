"""Importing partner sales from the system used before Jimu (期初导入).

An enterprise going live mid-quarter still settles the whole quarter's rebates: the partner
purchases its old ERP recorded are imported once, as ``sales`` entries of the ledger like those
a completed order books (and the enterprise's ``order_revenue`` with the items' cost, for
margins). A batch is all or nothing: one bad row refuses the whole batch, naming the row and
the field. A row dated in a closed month is carried forward like any late document.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from jimu_sdk import N_, NotFound, ValidationFailed, current_scope, platform

from jimu_settlement import ledger, periods
from jimu_settlement.tables import ImportBatch

MAX_ROWS = 10_000
COLUMNS = ("partner", "date", "ref", "item", "quantity", "amount")
"""A CSV's header: the partner's code, the document's date (2026-10-15), its number, the
item's SKU, the quantity and the amount (yuan, tax included, as the partner paid)."""


def rows_from_csv(text: str) -> list[dict[str, str]]:
    """The rows of a CSV with the :data:`COLUMNS` header (any order; more columns ignored)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(N_("the CSV needs the columns %(columns)s; missing: "
                                  "%(missing)s"), field="file",
                               params={"columns": ", ".join(COLUMNS),
                                       "missing": ", ".join(missing)})
    rows = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise ValidationFailed(N_("a batch has at most %(max)s rows"), field="file",
                                   params={"max": MAX_ROWS})
        rows.append({c: (row.get(c) or "").strip() for c in COLUMNS})
    return rows


def _date(value: Any, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(N_("a date is written like 2026-10-15"), field=field) from None


async def import_sales(label: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Book ``rows`` (each: partner code, date, ref, item, quantity, amount) as one batch."""
    from jimu_price_lists.public import items_by_sku

    label = (label or "").strip()
    if not label or len(label) > 100:
        raise ValidationFailed(N_("give the batch a name of at most 100 characters"),
                               field="label")
    if not rows:
        raise ValidationFailed(N_("the batch has no rows"), field="rows")
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(N_("a batch has at most %(max)s rows"), field="rows",
                               params={"max": MAX_ROWS})
    partners = {p["code"]: dict(p) for p in await platform().list_partners()}
    items = await items_by_sku({str(r.get("item", "")) for r in rows})
    today = periods.local_today()
    checked = []
    for index, row in enumerate(rows):
        at = f"rows[{index}]"
        partner = partners.get(str(row.get("partner", "")))
        if partner is None:
            raise ValidationFailed(N_("there is no partner with the code %(code)s"),
                                   field=f"{at}.partner", params={"code": row.get("partner")})
        day = _date(row.get("date"), f"{at}.date")
        if day > today:
            raise ValidationFailed(N_("an imported document cannot be dated in the future"),
                                   field=f"{at}.date")
        ref = str(row.get("ref", "")).strip()
        if not ref or len(ref) > 64:
            raise ValidationFailed(N_("the document number is 1 to 64 characters"),
                                   field=f"{at}.ref")
        sku = str(row.get("item", ""))
        item = items.get(sku)
        if item is None:
            raise ValidationFailed(N_("there is no item with the SKU %(sku)s"),
                                   field=f"{at}.item", params={"sku": sku})
        quantity = ledger.decimal(row.get("quantity"), f"{at}.quantity")
        if quantity <= 0 or abs(quantity) >= 10**9:
            raise ValidationFailed(N_("the quantity is more than 0"), field=f"{at}.quantity")
        amount = ledger.decimal(row.get("amount"), f"{at}.amount")
        if amount.quantize(ledger.CENT) != amount or not 0 <= amount < 10**12:
            raise ValidationFailed(N_("an amount is at least 0, in yuan and fen (two decimal "
                                      "places)"), field=f"{at}.amount")
        checked.append((partner, day, ref, item, quantity, amount))
    scope = current_scope()
    batch = await ImportBatch.scoped_insert(
        label=label, rows=len(checked), quantity=sum((c[4] for c in checked), Decimal(0)),
        amount=sum((c[5] for c in checked), Decimal(0)),
        created_by=scope.user_id if scope else None, created_at=platform().now())
    entries: list[dict[str, Any]] = []
    booked: dict[dt.date, tuple[str, str]] = {}
    for line_no, (partner, day, ref, item, quantity, amount) in enumerate(checked, 1):
        if day not in booked:
            booked[day] = await periods.booking_period(day)
        period, origin = booked[day]
        unit_cost = item["cost"] if item.get("cost") is not None else Decimal(0)
        common = {"period": period, "origin_period": origin, "source_type": "import",
                  "source_id": batch["id"], "source_ref": ref[:64],
                  "source_line": str(line_no), "region_code": partner["region_code"] or "",
                  "doc_date": day, "item": item["sku"][:64],
                  "category": (item.get("category") or "")[:64], "quantity": quantity,
                  "cost": ledger.cents(unit_cost * quantity)}
        entries.append({**common, "partner_id": partner["id"], "role": "partner",
                        "kind": "sales", "amount": amount})
        entries.append({**common, "partner_id": None, "role": "enterprise",
                        "kind": "order_revenue", "amount": amount})
    await ledger.post(entries)
    await platform().audit("settlement.import", f"settlement_import:{batch['id']}", None,
                           {"label": label, "rows": len(checked),
                            "amount": str(batch["amount"])})
    return batch


async def list_batches(limit: int = 50) -> list[dict[str, Any]]:
    return await ImportBatch.scoped_select().order_by(ImportBatch.id, ascending=False).limit(
        limit)


async def get_batch(batch_id: int) -> dict[str, Any]:
    row = await ImportBatch.scoped_select().where(ImportBatch.id == batch_id).first()
    if row is None:
        raise NotFound(N_("there is no import batch %(id)s"), params={"id": batch_id})
    return row
