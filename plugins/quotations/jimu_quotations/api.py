"""Routes under /api/v1/quotations: quotations, their documents, orders and the order import."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from jimu_sdk import N_, NotFound, ValidationFailed
from jimu_sdk.params import MAX_RECORD_ID, RecordId, RecordIdFilter, RecordIdParam
from jimu_sdk.web import needs
from litestar import Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from jimu_quotations import documents, services

T = TypeVar("T")


READ = needs("quotations.read")
WRITE = needs("quotations.write")
Page = Annotated[int, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int, Parameter(ge=1, le=200)]

# ----------------------------------------------------------------------------- structs


class LineIn(msgspec.Struct, forbid_unknown_fields=True):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Decimal


class DocumentIn(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[LineIn], msgspec.Meta(max_length=2000)]
    partner_id: RecordId | None = None
    customer_id: RecordId | None = None
    region_code: Annotated[str, msgspec.Meta(max_length=12)] | None = None
    channel: Annotated[str, msgspec.Meta(max_length=32)] = ""
    currency: Annotated[str, msgspec.Meta(max_length=3)] = "CNY"
    on_date: dt.date | None = None
    valid_until: dt.date | None = None
    note: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class TraceOut(msgspec.Struct):
    plugin: str
    rule: str
    reason: str
    kind: str
    before: str
    after: str
    change: str


class LineOut(msgspec.Struct):
    line_no: int
    item: str
    name: str
    category: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    explanation: list[TraceOut]


class VersionOut(msgspec.Struct):
    id: int
    version: int
    status: str
    total: Decimal
    valid_until: dt.date


class OrderLineOut(msgspec.Struct):
    line_no: int
    item: str
    name: str
    category: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    tax: Decimal
    amount: Decimal


class OrderOut(msgspec.Struct):
    id: int
    number: str
    partner_id: int | None
    customer_id: int | None
    region_code: str | None
    source: str
    quotation_id: int | None
    external_ref: str
    currency: str
    status: str
    net: Decimal
    tax: Decimal
    total: Decimal
    created_at: dt.datetime
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    lines: list[OrderLineOut] = []


class QuotationOut(msgspec.Struct):
    id: int
    number: str
    version: int
    revision_of: int | None
    partner_id: int | None
    customer_id: int | None
    region_code: str | None
    channel: str
    currency: str
    on_date: dt.date | None
    valid_until: dt.date
    status: str
    note: str
    net: Decimal
    tax: Decimal
    total: Decimal
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None
    lines: list[LineOut] = []
    versions: list[VersionOut] = []
    order: OrderOut | None = None


class PreviewOut(msgspec.Struct):
    currency: str
    net: Decimal
    tax: Decimal
    total: Decimal
    lines: list[LineOut]


class ListOut(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class ImportErrorOut(msgspec.Struct):
    row: int
    column: str
    message: str


class ImportOrderOut(msgspec.Struct):
    order_ref: str
    partner_code: str
    region_code: str | None
    rows: list[int]
    lines: int
    complete: bool
    net: Decimal
    tax: Decimal
    total: Decimal


class ImportOut(msgspec.Struct):
    dry_run: bool
    rows: int
    errors: list[ImportErrorOut]
    orders: list[ImportOrderOut]
    created: list[OrderOut]


class ImportForm(msgspec.Struct):
    file: UploadFile
    dry_run: str = "false"


# ----------------------------------------------------------------------------- converters

_MONEY = ("net", "tax", "total", "unit_price", "amount")


def _money(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (services.money(v) if k in _MONEY else v) for k, v in row.items()}


def _line_out(row: dict[str, Any]) -> LineOut:
    row = _money(row)
    return LineOut(line_no=row["line_no"], item=row["item"], name=row["name"],
                   category=row["category"], quantity=Decimal(row["quantity"]).normalize(),
                   unit_price=row["unit_price"], net=row["net"], tax=row["tax"],
                   total=row["total"],
                   explanation=[TraceOut(**t) for t in row.get("explanation") or []])


def order_out(row: dict[str, Any]) -> OrderOut:
    values = _money(row)
    lines = []
    for line in row.get("lines", []):
        fields: dict[str, Any] = {f: v for f, v in _money(line).items()
                                  if f in OrderLineOut.__struct_fields__}
        fields["quantity"] = Decimal(fields["quantity"]).normalize()
        lines.append(OrderLineOut(**fields))
    return OrderOut(**{f: values[f] for f in OrderOut.__struct_fields__ if f != "lines"},
                    lines=lines)


def quotation_out(row: dict[str, Any]) -> QuotationOut:
    values = _money(row)
    skip = {"lines", "versions", "order"}
    return QuotationOut(
        **{f: values[f] for f in QuotationOut.__struct_fields__ if f not in skip},
        lines=[_line_out(line) for line in row.get("lines", [])],
        versions=[VersionOut(id=v["id"], version=v["version"], status=v["status"],
                             total=services.money(v["total"]), valid_until=v["valid_until"])
                  for v in row.get("versions", [])],
        order=order_out(row["order"]) if row.get("order") else None)


def header_of(data: DocumentIn) -> services.Header:
    return services.Header(partner_id=data.partner_id, customer_id=data.customer_id,
                           region_code=data.region_code, channel=data.channel,
                           currency=data.currency, on_date=data.on_date,
                           valid_until=data.valid_until, note=data.note)


def lines_of(data: DocumentIn) -> list[services.LineIn]:
    return [services.LineIn(item=line.item, quantity=line.quantity) for line in data.lines]


def _status(value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value and value not in allowed:
        raise ValidationFailed(N_("status must be one of %(allowed)s"), field="status",
                               params={"allowed": ", ".join(allowed)})
    return value or None


# ----------------------------------------------------------------------------- quotations


@get("/", guards=READ, summary="Quotations, newest first")
async def list_quotations(status: str | None = None, partner_id: RecordIdFilter = None,
                          page: Page = 1, per_page: PerPage = 50
                          ) -> ListOut[QuotationOut]:
    rows, total = await services.list_quotations(
        status=_status(status, services.QUOTATION_STATUSES), partner_id=partner_id,
        page=page, per_page=per_page)
    return ListOut(items=[quotation_out(r) for r in rows], total=total, page=page,
                   per_page=per_page)


@post("/", guards=WRITE, summary="Create a draft quotation, priced by the pipeline")
async def create_quotation(data: DocumentIn) -> QuotationOut:
    return quotation_out(await services.create_quotation(header_of(data), lines_of(data)))


@post("/preview", guards=READ, status_code=HTTP_200_OK,
      summary="Price lines as a quotation would, without saving")
async def preview(data: DocumentIn) -> PreviewOut:
    result = await services.preview(header_of(data), lines_of(data))
    return PreviewOut(currency=result["currency"], net=result["net"], tax=result["tax"],
                      total=result["total"], lines=[_line_out(r) for r in result["lines"]])


_REF = re.compile(r"(\d{1,10})(?:\.(pdf|xlsx))?")


@get("/{ref:str}", guards=READ,
     summary="A quotation with its lines and versions; /{id}.pdf and /{id}.xlsx (or "
             "?format=pdf|xlsx) give the printable documents")
async def get_quotation(request: Request[Any, Any, Any], ref: str,
                        format: str | None = None) -> Any:
    match = _REF.fullmatch(ref)
    if match is None or int(match.group(1)) > MAX_RECORD_ID or int(match.group(1)) < 1:
        raise NotFound(N_("quotation %(id)s not found"), params={"id": ref})
    quotation_id, kind = int(match.group(1)), match.group(2) or format
    if kind in ("pdf", "xlsx"):
        return await _document(request, quotation_id, kind)
    if kind:
        raise ValidationFailed(N_("format must be pdf or xlsx"), field="format")
    return quotation_out(await services.get_quotation(quotation_id))


@put("/{quotation_id:int}", guards=WRITE, summary="Save a draft (re-priced)")
async def update_quotation(quotation_id: RecordIdParam, data: DocumentIn) -> QuotationOut:
    return quotation_out(await services.update_quotation(quotation_id, header_of(data),
                                                         lines_of(data)))


@post("/{quotation_id:int}/send", guards=WRITE, status_code=HTTP_200_OK,
      summary="Send a draft: its prices are frozen")
async def send_quotation(quotation_id: RecordIdParam) -> QuotationOut:
    return quotation_out(await services.send_quotation(quotation_id))


@post("/{quotation_id:int}/accept", guards=WRITE, status_code=HTTP_200_OK,
      summary="Accept a sent quotation: creates its order")
async def accept_quotation(quotation_id: RecordIdParam) -> QuotationOut:
    return quotation_out(await services.accept_quotation(quotation_id))


@post("/{quotation_id:int}/reject", guards=WRITE, status_code=HTTP_200_OK,
      summary="Reject a sent quotation")
async def reject_quotation(quotation_id: RecordIdParam) -> QuotationOut:
    return quotation_out(await services.reject_quotation(quotation_id))


@post("/{quotation_id:int}/revise", guards=WRITE, status_code=HTTP_201_CREATED,
      summary="Make the next version (a draft); this one becomes superseded")
async def revise_quotation(quotation_id: RecordIdParam) -> QuotationOut:
    return quotation_out(await services.revise_quotation(quotation_id))


async def _document(request: Request[Any, Any, Any], quotation_id: int, kind: str
                    ) -> Response[bytes]:
    quotation = await services.get_quotation(quotation_id)
    context = await documents.print_context(quotation)
    engine = request.app.template_engine
    assert engine is not None  # core always configures one
    filename = f"{quotation['number']}-v{quotation['version']}.{kind}"
    if kind == "pdf":
        html = engine.get_template("quotations/print.html").render(**context)
        # Rendering takes a second for a long quotation: off the event loop, so other
        # requests are not held up meanwhile.
        body, media = await asyncio.to_thread(documents.pdf_bytes, html), "application/pdf"
    else:
        labels = engine.get_template("quotations/xlsx_labels.html").render(**context)
        body = await asyncio.to_thread(documents.xlsx_bytes, context, labels)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


# ----------------------------------------------------------------------------- orders


@get("/orders", guards=READ, summary="Partner orders, newest first")
async def list_orders(status: str | None = None, partner_id: RecordIdFilter = None,
                      page: Page = 1, per_page: PerPage = 50) -> ListOut[OrderOut]:
    rows, total = await services.list_orders(
        status=_status(status, services.ORDER_STATUSES), partner_id=partner_id, page=page,
        per_page=per_page)
    return ListOut(items=[order_out(r) for r in rows], total=total, page=page,
                   per_page=per_page)


@post("/orders", guards=WRITE, summary="Create an order, priced by the pipeline")
async def create_order(data: DocumentIn) -> OrderOut:
    return order_out(await services.create_order(header_of(data), lines_of(data)))


@get("/orders/{order_id:int}", guards=READ, summary="An order with its lines")
async def get_order(order_id: RecordIdParam) -> OrderOut:
    return order_out(await services.get_order(order_id))


@post("/orders/{order_id:int}/complete", guards=WRITE, status_code=HTTP_200_OK,
      summary="Complete a confirmed order (feeds volume and history facts)")
async def complete_order(order_id: RecordIdParam) -> OrderOut:
    return order_out(await services.complete_order(order_id))


@post("/orders/{order_id:int}/cancel", guards=WRITE, status_code=HTTP_200_OK,
      summary="Cancel a confirmed order")
async def cancel_order(order_id: RecordIdParam) -> OrderOut:
    return order_out(await services.cancel_order(order_id))


def import_out(report: services.ImportReport, dry_run: bool) -> ImportOut:
    return ImportOut(dry_run=dry_run, rows=report.rows,
                     errors=[ImportErrorOut(row=e["row"], column=e["column"],
                                            message=e["message"]) for e in report.errors],
                     orders=[ImportOrderOut(**o) for o in report.orders],
                     created=[order_out(o) for o in report.created])


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@post("/orders/import", guards=needs("quotations.import"), status_code=HTTP_200_OK,
      summary="Import orders from CSV/XLSX (order_ref, partner_code, region_code, sku, "
              "quantity[, date]); dry_run reports every bad row and writes nothing")
async def import_orders(
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        dry_run: bool = False) -> ImportOut:
    dry = dry_run or _truthy(data.dry_run)
    content = await data.file.read()
    rows = services.read_table(data.file.filename or "", content)
    return import_out(await services.import_orders(rows, dry_run=dry), dry)


ROUTES = [list_quotations, create_quotation, preview, list_orders, create_order, get_order,
          complete_order, cancel_order, import_orders, get_quotation, update_quotation,
          send_quotation, accept_quotation, reject_quotation, revise_quotation]
