"""A statement (结算单) as a printable PDF (WeasyPrint, CJK fonts) and as an XLSX workbook
(openpyxl).

Both come from the template ``settlement/statement_pdf.html``, rendered by the platform's
template engine in the request's language: its HTML is the PDF, and the ``labels`` it sets head
the workbook, so the two documents say the same things in the same words. The workbook's
Entries sheet lists the ledger entries each line sums: those the statement's settlement run
saw, so every line of the sheet adds up to the line of the statement.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from jimu_sdk import platform
from jimu_sdk.documents import stable_xlsx

from jimu_settlement.ledger import KIND_TITLES
from jimu_settlement.statements import summed_entries
from jimu_settlement.tables import Entry

CENT = Decimal("0.01")
MONEY_FORMAT = "#,##0.00"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Templates(Protocol):
    """The platform's template engine (``request.app.template_engine``)."""

    def get_template(self, template_name: str) -> Any: ...


async def statement_pdf(statement: Mapping[str, Any], templates: Templates) -> bytes:
    """The statement as ``get_statement`` returns it, printed as a PDF."""
    context = await statement_context(statement)
    html = str(templates.get_template("settlement/statement_pdf.html").make_module(context))
    # Rendering takes a second for a long statement: off the event loop, so other requests
    # are not held up meanwhile.
    return await asyncio.to_thread(pdf_bytes, html)


async def statement_xlsx(statement: Mapping[str, Any], templates: Templates) -> bytes:
    """The statement as ``get_statement`` returns it, as a workbook: the Statement sheet
    (its lines, totals and history) and the Entries sheet (every ledger entry of every
    line)."""
    context = await statement_context(statement)
    labels = templates.get_template("settlement/statement_pdf.html").make_module(
        context).labels
    entries = await statement_entries(statement)
    return await asyncio.to_thread(xlsx_bytes, context, labels, entries)


def filename(statement: Mapping[str, Any], kind: str) -> str:
    return f"{statement['number']}.{kind}"


# ----------------------------------------------------------------------------- content


def _cents(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT)


async def statement_context(statement: Mapping[str, Any]) -> dict[str, Any]:
    """What both documents show: the statement, its basis and payable lines (each with the
    programmes that made it), its history with who did what, and when it was generated."""
    lines = [{**line, "amount": _cents(line["amount"]),
              "programmes": list((line.get("detail") or {}).get("programmes", []))}
             for line in statement["lines"]]
    events = list(statement["events"])
    actors = {int(e["actor_id"]) for e in events if e.get("actor_id") is not None}
    people = {u["id"]: str(u.get("display_name") or u.get("username") or "")
              for u in await platform().list_users(sorted(actors), active_only=False)
              } if actors else {}
    return {"s": statement, "lines": lines,
            "basis_lines": [line for line in lines if line["basis"]],
            "payable_lines": [line for line in lines if not line["basis"]],
            "sales": _cents(statement["sales"]), "payable": _cents(statement["payable"]),
            "events": [{**e, "actor": people.get(e.get("actor_id"), "")} for e in events],
            "kind_titles": KIND_TITLES, "generated_at": platform().now(),
            "timezone": platform().timezone()}


async def statement_entries(statement: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every ledger entry of every line of the statement, in line order, each with its
    ``line_no``. The entries the statement sums are those its settlement run saw: booked by
    their documents up to the newest the run read, and the run's own rebates and shares;
    a document booked since waits for the next run, as it does on the statement."""
    rows = await Entry.scoped_select().where(await summed_entries(statement)).order_by(
        Entry.id)
    line_of = {(line["kind"], bool(line["carried"])): line["line_no"]
               for line in statement["lines"]}
    found = []
    for row in rows:
        line_no = line_of.get((row["kind"], row["origin_period"] != statement["period"]))
        if line_no is not None:
            found.append({**row, "line_no": line_no, "amount": _cents(row["amount"])})
    found.sort(key=lambda e: (e["line_no"], e["id"]))
    return found


# ----------------------------------------------------------------------------- the PDF


def pdf_bytes(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


# ----------------------------------------------------------------------------- the XLSX


def _text(value: Any) -> str:
    return str(value) if value is not None else ""


def _number(value: Any) -> Decimal:
    """A quantity as written (``4730``, ``2.5``), never in exponent form."""
    number = Decimal(value)
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else (
        number.normalize())


def _local(value: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """A naive local time for the sheet (spreadsheets have no time zones)."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(zone).replace(tzinfo=None, microsecond=0)


def _details(line: Mapping[str, Any], labels: Mapping[str, Any]) -> str:
    parts = []
    for programme in line["programmes"]:
        text = f"{programme.get('name', '')} ({programme.get('programme', '')})"
        if programme.get("band"):
            text += f" · {_text(labels['band_reached']) % {'band': programme['band']}}"
        if programme.get("explanation"):
            text += f"：{programme['explanation']}"
        parts.append(text)
    return "；".join(parts)


def xlsx_bytes(context: Mapping[str, Any], labels: Mapping[str, Any],
               entries: Sequence[Mapping[str, Any]]) -> bytes:
    """The same content as the PDF, with the ledger entries; money as numbers with two
    decimals. The same statement gives the same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    statement = context["s"]
    zone = ZoneInfo(context["timezone"])
    label = {key: _text(value) for key, value in labels.items() if not isinstance(value, dict)}
    kinds, statuses = labels["kinds"], labels["statuses"]
    sources, actions = labels["sources"], labels["actions"]
    bold = Font(bold=True)

    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_name(label["title"], "Statement")
    sheet.append([label["company"]])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([label["title"], statement["number"]])
    sheet["B2"].font = bold
    for key, value in (("partner", statement["partner_name"]),
                       ("partner_code", statement["partner_code"]),
                       ("period", statement["period"]),
                       ("status", _text(statuses.get(statement["status"], statement["status"]))),
                       ("currency", statement["currency"]),
                       ("revision", statement["revision"])):
        sheet.append([label[key], value])
    sheet.append([])
    heads = ["line_no", "line", "counts_as", "carried", "quantity", "amount", "entries",
             "details"]
    sheet.append([label[h] for h in heads])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for line in context["lines"]:
        sheet.append([line["line_no"], _text(kinds.get(line["kind"], line["kind"])),
                      label["basis"] if line["basis"] else label["payable_line"],
                      label["carried"] if line["carried"] else "",
                      _number(line["quantity"]) if line["quantity"] else None,
                      line["amount"], line["entries"],
                      _details(line, labels)])
        row = sheet.max_row
        sheet[f"F{row}"].number_format = MONEY_FORMAT
        sheet[f"H{row}"].alignment = Alignment(wrap_text=True)
    sheet.append([])
    for key in ("sales", "payable"):
        sheet.append(["", label[f"total_{key}"], "", "", "", context[key]])
        sheet[f"B{sheet.max_row}"].font = bold
        sheet[f"F{sheet.max_row}"].number_format = MONEY_FORMAT
        sheet[f"F{sheet.max_row}"].font = bold
    sheet.append([])
    sheet.append([label["history"]])
    sheet[f"A{sheet.max_row}"].font = bold
    sheet.append([label[h] for h in ("when", "action", "by", "comment")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for event in context["events"]:
        sheet.append([_local(event["at"], zone),
                      _text(actions.get(event["action"], event["action"])), event["actor"],
                      _event_comment(event, label)])
        sheet[f"A{sheet.max_row}"].number_format = "yyyy-mm-dd hh:mm"
    for column, width in zip("ABCDEFGH", (18, 26, 16, 12, 12, 16, 10, 60), strict=True):
        sheet.column_dimensions[column].width = width

    ledger = book.create_sheet(_sheet_name(label["entries_sheet"], "Entries"))
    heads = ["line_no", "line", "date", "source", "document", "item", "category", "quantity",
             "amount", "origin_period", "note"]
    ledger.append([label[h] for h in heads])
    for cell in ledger[1]:
        cell.font = bold
    for entry in entries:
        ledger.append([entry["line_no"], _text(kinds.get(entry["kind"], entry["kind"])),
                       entry["doc_date"],
                       _text(sources.get(entry["source_type"], entry["source_type"])),
                       entry["source_ref"], entry["item"], entry["category"],
                       _number(entry["quantity"]), entry["amount"], entry["origin_period"],
                       entry["note"]])
        row = ledger.max_row
        ledger[f"C{row}"].number_format = "yyyy-mm-dd"
        ledger[f"I{row}"].number_format = MONEY_FORMAT
    for column, width in zip("ABCDEFGHIJK", (8, 22, 12, 12, 22, 16, 12, 12, 14, 12, 50),
                             strict=True):
        ledger.column_dimensions[column].width = width
    ledger.freeze_panes = "A2"

    # The same statement gives the same bytes (caches, checksums, "did this change?"): the
    # document is dated by its last change, zip entry times fixed.
    changes = [statement["updated_at"], *(e["at"] for e in context["events"])]
    stamp = max(_utc(c) for c in changes if c is not None)
    book.properties.created = stamp
    out = io.BytesIO()
    book.save(out)
    return stable_xlsx(out.getvalue(), stamp)


def _utc(value: dt.datetime) -> dt.datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def _event_comment(event: Mapping[str, Any], label: Mapping[str, str]) -> str:
    comment = _text(event.get("comment")).strip()
    if event["action"] == "recomputed":
        return label["recomputed_note"]
    if event["action"] == "pay" and comment:
        return f"{label['payment_reference']}：{comment}"
    return comment


SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(text: str, fallback: str) -> str:
    name = SHEET_NAME_FORBIDDEN.sub(" ", text).strip()[:31]
    return name or fallback
