"""Routes under /api/v1/price_lists: items, price lists and entries, rules, import."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from jimu_sdk import N_, ValidationFailed
from jimu_sdk.params import RecordIdParam
from jimu_sdk.web import needs
from litestar import Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from jimu_price_lists import imports, services
from jimu_price_lists.schemas import (
    EntryIn,
    EntryOut,
    ImportReport,
    ItemIn,
    ItemOut,
    PriceListIn,
    PriceListOut,
    RuleIn,
    RuleOut,
)

Page = Annotated[int, Parameter(ge=1, le=100000)]
PerPage = Annotated[int, Parameter(ge=1, le=200)]
Text = Annotated[str, Parameter(max_length=200)]


READ = needs("price_lists.read")
WRITE = needs("price_lists.write")


class ItemPage(msgspec.Struct):
    items: list[ItemOut]
    total: int
    page: int
    per_page: int


class RulePage(msgspec.Struct):
    items: list[RuleOut]
    total: int
    page: int
    per_page: int


# ----------------------------------------------------------------------------- items


@get("/items", guards=READ, summary="Items (商品/服务项目), by SKU")
async def list_items(q: FromQuery[Text] = "", category: FromQuery[Text] = "",
                     kind: FromQuery[Literal["", "product", "part", "consumable", "service",
                                             "labour", "package"]] = "",
                     active: FromQuery[bool | None] = None, page: FromQuery[Page] = 1,
                     per_page: FromQuery[PerPage] = 50) -> ItemPage:
    rows, total = await services.list_items(q=q, category=category, kind=kind, active=active,
                                            page=page, per_page=per_page)
    return ItemPage(items=[services.item_out(r) for r in rows], total=total, page=page,
                    per_page=per_page)


@post("/items", guards=WRITE, summary="Create an item")
async def create_item(data: JSONBody[ItemIn]) -> ItemOut:
    return services.item_out(await services.create_item(data))


@get("/items/{item_id:int}", guards=READ, summary="One item")
async def get_item(item_id: RecordIdParam) -> ItemOut:
    return services.item_out(await services.get_item_row(item_id))


@put("/items/{item_id:int}", guards=WRITE, summary="Replace an item")
async def update_item(item_id: RecordIdParam, data: JSONBody[ItemIn]) -> ItemOut:
    return services.item_out(await services.update_item(item_id, data))


@delete("/items/{item_id:int}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete an item no rule uses")
async def delete_item(item_id: RecordIdParam) -> None:
    await services.delete_item(item_id)


# ----------------------------------------------------------------------------- price lists


def _list_out(row: dict[str, Any], entries: int = 0) -> PriceListOut:
    return PriceListOut(id=row["id"], code=row["code"], name=row["name"],
                        currency=row["currency"], entries=entries)


@get("/lists", guards=READ, summary="Price lists (价目表)")
async def list_price_lists() -> list[PriceListOut]:
    return await services.list_price_lists()


@post("/lists", guards=WRITE, summary="Create a price list")
async def create_price_list(data: JSONBody[PriceListIn]) -> PriceListOut:
    return _list_out(await services.create_price_list(data))


@get("/lists/{list_id:int}", guards=READ, summary="One price list")
async def get_price_list(list_id: RecordIdParam) -> PriceListOut:
    row = await services.get_price_list(list_id)
    return _list_out(row, len(await services.list_entries(list_id)))


@put("/lists/{list_id:int}", guards=WRITE, summary="Rename a price list")
async def update_price_list(list_id: RecordIdParam, data: JSONBody[PriceListIn]
                            ) -> PriceListOut:
    return _list_out(await services.update_price_list(list_id, data))


@delete("/lists/{list_id:int}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a price list no rule uses")
async def delete_price_list(list_id: RecordIdParam) -> None:
    await services.delete_price_list(list_id)


@get("/lists/{list_id:int}/entries", guards=READ, summary="Prices of a price list")
async def list_entries(list_id: RecordIdParam) -> list[EntryOut]:
    return [EntryOut(id=r["id"], sku=r["sku"], price=r["price"])
            for r in await services.list_entries(list_id)]


@put("/lists/{list_id:int}/entries", guards=WRITE, status_code=HTTP_200_OK,
     summary="Set the price of an item in a price list")
async def set_entry(list_id: RecordIdParam, data: JSONBody[EntryIn]) -> EntryOut:
    row = await services.set_entry(list_id, data.sku, data.price)
    return EntryOut(id=row["id"], sku=row["sku"], price=row["price"])


@delete("/lists/{list_id:int}/entries/{sku:str}", guards=WRITE,
        status_code=HTTP_204_NO_CONTENT, summary="Remove an item from a price list")
async def delete_entry(list_id: RecordIdParam, sku: str) -> None:
    await services.delete_entry(list_id, sku)


# ----------------------------------------------------------------------------- rules


@get("/rules", guards=READ, summary="Price rules (those that can apply to sku, if given)")
async def list_rules(sku: FromQuery[Text] = "", q: FromQuery[Text] = "",
                     page: FromQuery[Page] = 1, per_page: FromQuery[PerPage] = 50) -> RulePage:
    rows, total = await services.list_rules(sku=sku, q=q, page=page, per_page=per_page)
    return RulePage(items=[services.rule_out(r) for r in rows], total=total, page=page,
                    per_page=per_page)


@post("/rules", guards=WRITE, summary="Create a price rule (conflicts are refused)")
async def create_rule(data: JSONBody[RuleIn]) -> RuleOut:
    return services.rule_out(await services.create_rule(data))


@get("/rules/{rule_id:int}", guards=READ, summary="One price rule")
async def get_rule(rule_id: RecordIdParam) -> RuleOut:
    return services.rule_out(await services.get_rule_row(rule_id))


@put("/rules/{rule_id:int}", guards=WRITE, summary="Replace a price rule")
async def update_rule(rule_id: RecordIdParam, data: JSONBody[RuleIn]) -> RuleOut:
    return services.rule_out(await services.update_rule(rule_id, data))


@delete("/rules/{rule_id:int}", guards=WRITE, status_code=HTTP_204_NO_CONTENT,
        summary="Delete a price rule")
async def delete_rule(rule_id: RecordIdParam) -> None:
    await services.delete_rule(rule_id)


# ----------------------------------------------------------------------------- import


async def upload(request: Request) -> tuple[str, bytes, bool]:
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise ValidationFailed(N_("upload a CSV or XLSX file in the field file"), field="file")
    name = file.filename or ""
    if not name.lower().endswith((".csv", ".xlsx")):
        raise ValidationFailed(N_("the file must be .csv or .xlsx"), field="file")
    content = await file.read()
    dry = str(form.get("dry_run") or request.query_params.get("dry_run") or "").lower()
    return name, content, dry in ("1", "true", "yes", "on")


def _refuse_bad(report: ImportReport) -> ImportReport:
    """A real import with bad rows answers 422 listing every one (nothing was written)."""
    if report.errors and not report.dry_run:
        raise ValidationFailed(
            N_("%(count)s rows are bad; nothing was imported"),
            errors=[{"field": f"rows[{e.row}].{e.field}", "message": e.message}
                    for e in report.errors],
            field=f"rows[{report.errors[0].row}].{report.errors[0].field}",
            params={"count": len(report.errors)})
    return report


@post("/import/items", guards=WRITE, status_code=HTTP_200_OK,
      summary="Import items from CSV/XLSX (multipart: file, dry_run)")
async def import_items(request: Request) -> ImportReport:
    name, content, dry_run = await upload(request)
    return _refuse_bad(await imports.import_items(name, content, dry_run=dry_run))


@post("/import/rules", guards=WRITE, status_code=HTTP_200_OK,
      summary="Import price rules from CSV/XLSX (multipart: file, dry_run)")
async def import_rules(request: Request) -> ImportReport:
    name, content, dry_run = await upload(request)
    return _refuse_bad(await imports.import_rules(name, content, dry_run=dry_run))


ROUTES = [list_items, create_item, get_item, update_item, delete_item, list_price_lists,
          create_price_list, get_price_list, update_price_list, delete_price_list,
          list_entries, set_entry, delete_entry, list_rules, create_rule, get_rule,
          update_rule, delete_rule, import_items, import_rules]
