"""The settlement dashboard's tables: gathered once for the page (each chart has its table) and
for the XLSX export of one table or all of them. Column labels come from the template
``settlement/dashboard_labels.html`` so that they are translated like the page."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jimu_sdk import N_, ValidationFailed
from jimu_sdk.documents import stable_xlsx

from jimu_settlement import periods, reports

TABLES: dict[str, tuple[str, ...]] = {
    "over_time": ("period", "revenue", "cost", "payouts", "margin", "margin_pct"),
    "regions": ("region", "region_code", "revenue", "cost", "payouts", "margin", "margin_pct"),
    "tiers": ("tier", "partners", "revenue", "cost", "payouts", "margin", "margin_pct"),
    "partners": ("code", "name", "tier", "revenue", "cost", "payouts", "margin", "margin_pct"),
    "installers": ("code", "name", "work_orders", "service_fees", "subsidies", "other",
                   "total"),
    "accruals": ("code", "name", "programme", "volume", "target", "progress", "accrued",
                 "to_next_band"),
    "documents": ("ref", "source_type", "doc_date", "period", "region", "revenue", "cost",
                  "payouts", "margin", "margin_pct"),
}
MONEY = frozenset({"revenue", "cost", "payouts", "margin", "service_fees", "subsidies",
                   "other", "total", "accrued"})
PERCENT = frozenset({"margin_pct", "progress"})
DOCUMENTS_IN_EXPORT = 10_000
STAMP = dt.datetime(2000, 1, 1)


async def gather(first: str | None, last: str | None, region: str = "",
                 page: int = 1, only: str = "", documents_per_page: int = 50
                 ) -> dict[str, Any]:
    """The dashboard's tables for the months ``first``..``last`` (documents paged), or just
    the table ``only`` (an XLSX export of one)."""
    months = reports.period_range(first, last)
    region = _region(region)
    data: dict[str, Any] = {"months": months, "region": region, "page": page}

    def wanted(*keys: str) -> bool:
        return not only or only in keys

    if wanted("partners", "tiers"):
        data["partners"] = await reports.by_partner(months, region)
        data["tiers"] = reports.by_tier(data["partners"])
    if wanted("documents"):
        data["documents"], data["documents_total"] = await reports.document_profit(
            months, region, page=page, per_page=documents_per_page)
    if wanted("over_time"):
        data["over_time"] = await reports.over_time(months, region)
    if wanted("regions"):
        data["regions"] = await reports.by_region(months)
    if wanted("installers"):
        data["installers"] = await reports.installers(months)
    if wanted("accruals"):
        data["accruals"] = await reports.accruals_against_targets(
            periods.code_of(periods.local_today()))
    return data


def _region(code: str) -> str:
    """A province code to filter by, or "" for everywhere."""
    code = (code or "").strip()
    if not code:
        return ""
    province = reports.province_of(code)
    if not province:
        raise ValidationFailed(N_("%(code)s is not a known region code"), field="region",
                               params={"code": code[:12]})
    return province


def _cell(key: str, value: Any) -> Any:
    if isinstance(value, Decimal):
        return value if key in MONEY or key in PERCENT else value.normalize()
    if value is None:
        return ""
    return value


def workbook(tables: Mapping[str, list[dict[str, Any]]], labels_json: str) -> bytes:
    """One sheet per table, headed by its translated column names; money as numbers with two
    decimals."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    labels = json.loads(labels_json)
    book = Workbook()
    book.remove(book.active)
    for key, rows in tables.items():
        sheet = book.create_sheet(title=labels["titles"].get(key, key)[:31])
        columns = TABLES[key]
        sheet.append([labels["columns"].get(c, c) for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(c, row.get(c)) for c in columns])
            for index, column in enumerate(columns, 1):
                if column in MONEY:
                    sheet.cell(row=sheet.max_row, column=index).number_format = "#,##0.00"
        for index in range(1, len(columns) + 1):
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = 16
    # The same figures give the same bytes (the isolation walk and caches compare them).
    book.properties.created = STAMP
    out = io.BytesIO()
    book.save(out)
    return stable_xlsx(out.getvalue(), STAMP)
