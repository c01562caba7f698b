"""A quotation as a printable PDF (WeasyPrint, CJK fonts) and as an XLSX workbook (openpyxl).

The HTML comes from the template ``quotations/print.html`` rendered by the platform's template
engine (so labels are translated); the workbook's labels come from
``quotations/xlsx_labels.html``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jimu_sdk import NotFound, platform
from jimu_sdk.documents import stable_xlsx

from jimu_quotations import services


def _region_name(code: str | None) -> str:
    if not code:
        return ""
    path = platform().region_path(code)
    return " ".join(str(r["name"]) for r in path) if path else code


async def print_context(quotation: Mapping[str, Any]) -> dict[str, Any]:
    """What the printed quotation shows: who for, where, the lines with a short explanation,
    and the totals with tax."""
    partner = customer = None
    if quotation["partner_id"] is not None:
        try:
            partner = await platform().get_partner(quotation["partner_id"])
        except NotFound:
            partner = None
    if quotation["customer_id"] is not None:
        try:
            customer = await platform().get_customer(quotation["customer_id"])
        except NotFound:
            customer = None
    lines = []
    for line in quotation["lines"]:
        reasons = [step["reason"] for step in line.get("explanation") or []
                   if step.get("plugin") != "core"]
        lines.append({**line, "quantity": services.quantity_text(line["quantity"]),
                      "unit_price": services.money(line["unit_price"]),
                      "net": services.money(line["net"]), "tax": services.money(line["tax"]),
                      "total": services.money(line["total"]), "reasons": reasons,
                      "summary": "；".join(reasons)})
    company = str(platform().settings("quotations").get("company_name") or "")
    return {"quotation": quotation, "lines": lines, "partner": partner, "customer": customer,
            "region_name": _region_name(quotation["region_code"]), "company_name": company,
            "net": services.money(quotation["net"]), "tax": services.money(quotation["tax"]),
            "total": services.money(quotation["total"]), "printed_on": services.today()}


def pdf_bytes(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def _labels(text: str) -> dict[str, str]:
    labels = {}
    for row in text.splitlines():
        key, _, value = row.partition("=")
        if key.strip():
            labels[key.strip()] = value.strip()
    return labels


def xlsx_bytes(context: Mapping[str, Any], labels_text: str) -> bytes:
    """The same content as the PDF; money as numbers with two decimals."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    label = _labels(labels_text)
    quotation = context["quotation"]
    book = Workbook()
    sheet = book.active
    sheet.title = quotation["number"]
    bold = Font(bold=True)
    sheet.append([label.get("company") or context["company_name"]])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([label.get("title", "Quotation"), f"{quotation['number']} "
                  f"v{quotation['version']}"])
    who = context["partner"] or context["customer"]
    sheet.append([label.get("for", "For"), str(who["name"]) if who else ""])
    sheet.append([label.get("region", "Region"), context["region_name"]])
    sheet.append([label.get("date", "Date"), quotation["on_date"]])
    sheet.append([label.get("valid_until", "Valid until"), quotation["valid_until"]])
    sheet.append([label.get("currency", "Currency"), quotation["currency"]])
    sheet.append([])
    heads = ["line", "item", "name", "quantity", "unit_price", "net", "tax", "total",
             "explanation"]
    sheet.append([label.get(h, h) for h in heads])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    money_format = "#,##0.00"
    for line in context["lines"]:
        sheet.append([line["line_no"], line["item"], line["name"], Decimal(line["quantity"]),
                      line["unit_price"], line["net"], line["tax"], line["total"],
                      line["summary"]])
        row = sheet.max_row
        for column in "EFGH":
            sheet[f"{column}{row}"].number_format = money_format
        sheet[f"I{row}"].alignment = Alignment(wrap_text=True)
    sheet.append([])
    for key in ("net", "tax", "total"):
        sheet.append(["", "", "", "", "", "", label.get(f"sum_{key}", key), context[key]])
        sheet[f"H{sheet.max_row}"].number_format = money_format
        sheet[f"G{sheet.max_row}"].font = bold
    for column, width in zip("ABCDEFGHI", (10, 18, 28, 10, 12, 14, 12, 14, 60), strict=True):
        sheet.column_dimensions[column].width = width
    # The same quotation gives the same bytes (caches, checksums, "did this change?"):
    # document dates from the quotation, zip entry times fixed.
    stamp = quotation["updated_at"].astimezone(dt.UTC).replace(tzinfo=None)
    book.properties.created = stamp
    out = io.BytesIO()
    book.save(out)
    return stable_xlsx(out.getvalue(), stamp)
