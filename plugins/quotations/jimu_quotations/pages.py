"""Admin pages under /admin/p/quotations: the quotation builder (live prices through htmx),
quotation detail, the lists, order detail and the order import."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from jimu_sdk import N_, JimuError, PermissionDenied, ValidationFailed, has_permission, platform
from litestar import MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from jimu_quotations import catalog, services

BASE = "/admin/p/quotations"
BLANK_LINES = 3
PER_PAGE = 50
_LINE_FIELD = re.compile(r"lines\[(\d+)\]\.(\w+)")


@dataclass
class Form:
    values: dict[str, Any] = field(default_factory=dict)
    # Problems are {"id": message id, "params": {...}}: templates translate them.
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    message: dict[str, Any] | None = None
    lines: list[dict[str, str]] = field(default_factory=list)
    line_errors: dict[int, dict[str, Any]] = field(default_factory=dict)


def _require(permission: str) -> None:
    if not has_permission(permission):
        raise PermissionDenied(f"you need the permission {permission!r}")


async def _form(request: Request[Any, Any, Any]) -> Form:
    data = await request.form()
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()
              if k not in ("csrf_token", "item", "quantity")}
    items = [str(v).strip() for v in data.getall("item")] if "item" in data else []
    quantities = [str(v).strip() for v in data.getall("quantity")] if "quantity" in data else []
    lines = [{"item": item, "quantity": quantities[i] if i < len(quantities) else ""}
             for i, item in enumerate(items)]
    return Form(values=values, lines=lines)


def _int_or_none(value: Any, name: str) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > 2**31 - 1:
        raise ValidationFailed(N_("must be a number"), field=name)
    return int(text)


def _date_or_none(value: Any, name: str) -> dt.date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(N_("enter a date as YYYY-MM-DD"), field=name) from None


def _document(form: Form) -> tuple[services.Header, list[services.LineIn], list[int]]:
    """The header and the filled-in lines of a builder form; ``positions`` maps each line
    given to the pipeline back to its row in the form."""
    v = form.values
    header = services.Header(
        partner_id=_int_or_none(v.get("partner_id"), "partner_id"),
        customer_id=_int_or_none(v.get("customer_id"), "customer_id"),
        region_code=str(v.get("region_code") or "").strip() or None,
        channel=str(v.get("channel") or ""),
        on_date=_date_or_none(v.get("on_date"), "on_date"),
        valid_until=_date_or_none(v.get("valid_until"), "valid_until"),
        note=str(v.get("note") or ""))
    lines, positions = [], []
    for row, line in enumerate(form.lines):
        if not line["item"] and not line["quantity"]:
            continue
        quantity = services.parse_quantity(line["quantity"] or "1", f"lines[{row}].quantity")
        lines.append(services.LineIn(item=line["item"], quantity=quantity))
        positions.append(row)
    return header, lines, positions


def problem(exc: JimuError) -> dict[str, Any]:
    return {"id": exc.message_id, "params": exc.params}


def _failed(form: Form, exc: JimuError, positions: list[int] | None = None) -> Form:
    """Put an error next to its field, or next to its line (``lines[2].item``)."""
    errors: list[dict[str, Any]] = [{"field": exc.field or "", "problem": problem(exc)}]
    if isinstance(exc, ValidationFailed) and len(exc.errors) > 1:
        errors = [{"field": e.get("field") or "", "problem": {"id": e["message"], "params": {}}}
                  for e in exc.errors]
    for error in errors:
        name = error["field"]
        match = _LINE_FIELD.fullmatch(name)
        if match:
            index = int(match.group(1))
            row = positions[index] if positions and index < len(positions) else index
            form.line_errors.setdefault(row, error["problem"])
        elif name in ("partner_id", "customer_id", "region_code", "on_date", "valid_until",
                      "currency", "channel", "note"):
            form.errors.setdefault(name, error["problem"])
        else:
            form.message = form.message or error["problem"]
    return form


async def _partner_options() -> list[tuple[str, str]]:
    partners = await platform().list_partners()
    return [("", "—")] + [(str(p["id"]), f"{p['code']} · {p['name']}") for p in partners]


async def _item_options(q: str = "") -> list[dict[str, Any]]:
    return await catalog.search_items(q, 30)


def _page(request: Request[Any, Any, Any]) -> int:
    raw = str(request.query_params.get("page") or "1")
    return min(max(1, int(raw)), 100_000) if raw.isdigit() else 1


def _lines_from(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"item": r["item"], "quantity": services.quantity_text(r["quantity"])} for r in rows]


@get("/", media_type=MediaType.HTML)
async def index(request: Request[Any, Any, Any]) -> Template:
    status = request.query_params.get("status") or ""
    if status not in services.QUOTATION_STATUSES:
        status = ""
    page = _page(request)
    rows, total = await services.list_quotations(status=status or None, page=page,
                                                 per_page=PER_PAGE)
    names = {p["id"]: p["name"] for p in await platform().list_partners()}
    return Template("quotations/list.html", context={
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PER_PAGE)),
        "status": status, "statuses": services.QUOTATION_STATUSES, "partners": names,
        "can_write": has_permission("quotations.write")})


async def _builder(form: Form, quotation: dict[str, Any] | None = None,
                   status: int = 200) -> Template:
    while len(form.lines) < BLANK_LINES:
        form.lines.append({"item": "", "quantity": ""})
    preview = await _price(form) if any(line["item"] for line in form.lines) else None
    return Template("quotations/builder.html", status_code=status, context={
        "form": form, "quotation": quotation, "partners": await _partner_options(),
        "items": await _item_options(), "preview": preview})


async def _price(form: Form) -> dict[str, Any] | None:
    positions: list[int] = []
    try:
        header, lines, positions = _document(form)
        if not lines:
            return None
        return await services.preview(header, lines)
    except JimuError as exc:
        _failed(form, exc, positions)
        return None


@get("/new", media_type=MediaType.HTML)
async def new(request: Request[Any, Any, Any]) -> Template:
    _require("quotations.write")
    values = {k: request.query_params.get(k, "") for k in ("partner_id", "region_code")}
    values["on_date"] = services.today().isoformat()
    return await _builder(Form(values=values))


@post("/new", media_type=MediaType.HTML)
async def create(request: Request[Any, Any, Any]) -> Template | Redirect:
    _require("quotations.write")
    form = await _form(request)
    positions: list[int] = []
    try:
        header, lines, positions = _document(form)
        row = await services.create_quotation(header, lines)
        if form.values.get("action") == "send":
            await services.send_quotation(row["id"])
    except JimuError as exc:
        return await _builder(_failed(form, exc, positions), status=422)
    return Redirect(f"{BASE}/{row['id']}?saved=1")


@get("/{quotation_id:int}/edit", media_type=MediaType.HTML)
async def edit(quotation_id: int) -> Template | Redirect:
    _require("quotations.write")
    row = await services.get_quotation(quotation_id)
    if row["status"] != "draft":
        return Redirect(f"{BASE}/{quotation_id}")
    values = {k: "" if row[k] is None else str(row[k]) for k in (
        "partner_id", "customer_id", "region_code", "channel", "on_date", "valid_until",
        "note")}
    return await _builder(Form(values=values, lines=_lines_from(row["lines"])), row)


@post("/{quotation_id:int}/edit", media_type=MediaType.HTML)
async def save(request: Request[Any, Any, Any], quotation_id: int
               ) -> Template | Redirect:
    _require("quotations.write")
    row = await services.get_quotation(quotation_id)
    form = await _form(request)
    positions: list[int] = []
    try:
        header, lines, positions = _document(form)
        await services.update_quotation(quotation_id, header, lines)
        if form.values.get("action") == "send":
            await services.send_quotation(quotation_id)
    except JimuError as exc:
        return await _builder(_failed(form, exc, positions), row, status=422)
    return Redirect(f"{BASE}/{quotation_id}?saved=1")


@post("/builder/preview", media_type=MediaType.HTML)
async def preview(request: Request[Any, Any, Any]) -> Template:
    """The lines table with prices, explanations and totals (htmx swaps it in)."""
    form = await _form(request)
    preview = await _price(form)
    return Template("quotations/preview.html", context={"form": form, "preview": preview})


@get("/builder/row", media_type=MediaType.HTML)
async def blank_row() -> Template:
    return Template("quotations/line_row.html", context={
        "line": {"item": "", "quantity": ""}, "error": ""})


@get("/builder/items", media_type=MediaType.HTML)
async def item_options(request: Request[Any, Any, Any]) -> Template:
    q = str(request.query_params.get("item") or request.query_params.get("q") or "")
    return Template("quotations/item_options.html",
                    context={"items": await _item_options(q.strip())})


@get("/{quotation_id:int}", media_type=MediaType.HTML)
async def detail(request: Request[Any, Any, Any], quotation_id: int) -> Template:
    return await _detail(quotation_id, flash=bool(request.query_params.get("saved")))


async def _detail(quotation_id: int, *, flash: bool = False,
                  error: dict[str, Any] | None = None,
                  status: int = 200) -> Template:
    row = await services.get_quotation(quotation_id)
    partner = customer = None
    if row["partner_id"]:
        partner = next((p for p in await platform().list_partners([row["partner_id"]])),
                       None)
    if row["customer_id"]:
        try:
            customer = await platform().get_customer(row["customer_id"])
        except JimuError:
            customer = None
    path = platform().region_path(row["region_code"]) if row["region_code"] else []
    return Template("quotations/detail.html", status_code=status, context={
        "q": row, "partner": partner, "customer": customer,
        "region_name": " ".join(str(r["name"]) for r in path), "flash": flash,
        "error": error, "can_write": has_permission("quotations.write"),
        "order": await _order_of(quotation_id)})


async def _order_of(quotation_id: int) -> dict[str, Any] | None:
    from jimu_quotations.tables import Order

    return await Order.scoped_select(Order.id, Order.number, Order.status).where(
        Order.quotation_id == quotation_id).first()


async def _act(quotation_id: int, action: Any) -> Template | Redirect:
    _require("quotations.write")
    try:
        row = await action(quotation_id)
    except JimuError as exc:
        if exc.status_code == 404:
            raise
        return await _detail(quotation_id, error=problem(exc),
                                  status=exc.status_code)
    return Redirect(f"{BASE}/{row['id']}?saved=1")


@post("/{quotation_id:int}/send", media_type=MediaType.HTML)
async def send(quotation_id: int) -> Template | Redirect:
    return await _act(quotation_id, services.send_quotation)


@post("/{quotation_id:int}/accept", media_type=MediaType.HTML)
async def accept(quotation_id: int) -> Template | Redirect:
    return await _act(quotation_id, services.accept_quotation)


@post("/{quotation_id:int}/reject", media_type=MediaType.HTML)
async def reject(quotation_id: int) -> Template | Redirect:
    return await _act(quotation_id, services.reject_quotation)


@post("/{quotation_id:int}/revise", media_type=MediaType.HTML)
async def revise(quotation_id: int) -> Template | Redirect:
    return await _act(quotation_id, services.revise_quotation)


# ----------------------------------------------------------------------------- orders


@get("/orders", media_type=MediaType.HTML)
async def orders(request: Request[Any, Any, Any]) -> Template:
    status = request.query_params.get("status") or ""
    if status not in services.ORDER_STATUSES:
        status = ""
    page = _page(request)
    rows, total = await services.list_orders(status=status or None, page=page,
                                             per_page=PER_PAGE)
    names = {p["id"]: p["name"] for p in await platform().list_partners()}
    return Template("quotations/orders.html", context={
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PER_PAGE)),
        "status": status, "statuses": services.ORDER_STATUSES, "partners": names,
        "can_import": has_permission("quotations.import")})


async def _order_detail(order_id: int, *, flash: bool = False,
                        error: dict[str, Any] | None = None,
                        status: int = 200) -> Template:
    row = await services.get_order(order_id)
    partner = None
    if row["partner_id"]:
        partner = next((p for p in await platform().list_partners([row["partner_id"]])),
                       None)
    return Template("quotations/order.html", status_code=status, context={
        "o": row, "partner": partner, "flash": flash, "error": error,
        "can_write": has_permission("quotations.write"),
        "allowed": services.ORDER_TRANSITIONS.get(row["status"], ())})


@get("/orders/{order_id:int}", media_type=MediaType.HTML)
async def order(request: Request[Any, Any, Any], order_id: int) -> Template:
    return await _order_detail(order_id, flash=bool(request.query_params.get("saved")))


async def _order_act(order_id: int, action: Any) -> Template | Redirect:
    _require("quotations.write")
    try:
        await action(order_id)
    except JimuError as exc:
        if exc.status_code == 404:
            raise
        return await _order_detail(order_id, error=problem(exc),
                                        status=exc.status_code)
    return Redirect(f"{BASE}/orders/{order_id}?saved=1")


@post("/orders/{order_id:int}/complete", media_type=MediaType.HTML)
async def complete(order_id: int) -> Template | Redirect:
    return await _order_act(order_id, services.complete_order)


@post("/orders/{order_id:int}/cancel", media_type=MediaType.HTML)
async def cancel(order_id: int) -> Template | Redirect:
    return await _order_act(order_id, services.cancel_order)


@get("/orders/import", media_type=MediaType.HTML)
async def import_page() -> Template:
    _require("quotations.import")
    return Template("quotations/import.html", context={"report": None, "error": None})


@post("/orders/import", media_type=MediaType.HTML)
async def import_upload(request: Request[Any, Any, Any]) -> Template:
    """The upload form posts here through htmx (multipart, CSRF header); answers the
    report fragment."""
    _require("quotations.import")
    data = await request.form()
    upload = data.get("file")
    dry_run = data.get("action") != "import"
    context: dict[str, Any] = {"report": None, "error": None, "dry_run": dry_run}
    status = 200
    if not isinstance(upload, UploadFile) or not upload.filename:
        context["error"] = {"id": N_("Choose a CSV or XLSX file."), "params": {}}
        status = 422
    else:
        try:
            rows = services.read_table(upload.filename, await upload.read())
            context["report"] = await services.import_orders(rows, dry_run=dry_run)
        except ValidationFailed as exc:
            if exc.errors and all("row" in e for e in exc.errors):
                context["report"] = services.ImportReport(
                    rows=0, orders=[], errors=[{"row": int(e["row"]), "column": e["column"],
                                                "message": e["message"]}
                                               for e in exc.errors])
            context["error"] = problem(exc)
            status = 422
    return Template("quotations/import_report.html", context=context, status_code=status)


WRITE_PAGES = (new, create, edit, save, send, accept, reject, revise, complete, cancel)
IMPORT_PAGES = (import_page, import_upload)
READ_PAGES = (index, preview, blank_row, item_options, detail, orders, order)


def permission_of(page: Any) -> str:
    if page in WRITE_PAGES:
        return "quotations.write"
    if page in IMPORT_PAGES:
        return "quotations.import"
    return "quotations.read"


PAGES = [*READ_PAGES, *WRITE_PAGES, *IMPORT_PAGES]
