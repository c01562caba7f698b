"""Admin pages under /admin/p/price_lists: items, rules, price lists, import."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jimu_sdk import JimuError, PermissionDenied, ValidationFailed, has_permission
from litestar import Controller, MediaType, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from jimu_price_lists import imports, services
from jimu_price_lists.schemas import ITEM_KINDS

BASE = "/admin/p/price_lists"


@dataclass
class Form:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""


def _require_write() -> None:
    if not has_permission("price_lists.write"):
        raise PermissionDenied("you need the permission 'price_lists.write'")


async def _form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in form.items()
            if k != "csrf_token"}


def _failed(values: dict[str, Any], exc: Exception) -> Form:
    form = Form(values=values)
    if isinstance(exc, imports.RowError):
        form.errors[exc.field] = exc.message
    elif isinstance(exc, ValidationFailed):
        for error in exc.errors or [{"field": exc.field or "", "message": exc.message}]:
            name = (error.get("field") or "").split("[")[0]
            form.errors.setdefault(name, error["message"])
        if not exc.errors and not exc.field:
            form.message = exc.message
        if any(e.get("field") == "priority" for e in exc.errors):
            form.message = next(e["message"] for e in exc.errors if e.get("field") == "priority")
    elif isinstance(exc, JimuError):
        form.message = exc.message
    return form


def _text_list(values: Any) -> str:
    return " | ".join(values or [])


def _breaks_text(breaks: list[dict[str, Any]] | None) -> str:
    parts = []
    for b in breaks or []:
        hi = "" if b.get("max_qty") in (None, "") else str(b["max_qty"])
        parts.append(f"{b['min_qty']}-{hi}:{b['value']}")
    return "; ".join(parts)


def _rule_values(row: dict[str, Any]) -> dict[str, Any]:
    out = services.rule_out(row)
    values: dict[str, Any] = {k: ("" if v is None else v) for k, v in
                              {f: getattr(out, f) for f in services.RULE_FIELDS}.items()}
    for key in imports.LIST_COLUMNS:
        values[key] = _text_list(getattr(out, key))
    values["breaks"] = _breaks_text(row.get("breaks"))
    values["enabled"] = "1" if out.enabled else ""
    return values


def _clean_rule_form(values: dict[str, Any]) -> dict[str, str]:
    row = {k: str(values.get(k, "") or "") for k in imports.RULE_COLUMNS}
    row["enabled"] = "1" if values.get("enabled") else "0"
    return row


def _clean_item_form(values: dict[str, Any]) -> dict[str, str]:
    row = {k: str(values.get(k, "") or "") for k in imports.ITEM_COLUMNS}
    row["active"] = "1" if values.get("active") else "0"
    return row


class PriceListPages(Controller):
    path = "/"
    include_in_schema = False

    # ------------------------------------------------------------------ items

    @get("/", media_type=MediaType.HTML)
    async def items(self, request: Request) -> Template:
        q = request.query_params.get("q", "")[:200]
        category = request.query_params.get("category", "")[:64]
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        rows, total = await services.list_items(q=q, category=category, page=page,
                                                per_page=50)
        return Template("price_lists/items.html", context={
            "rows": rows, "total": total, "page": page, "q": q, "category": category,
            "categories": await services.categories(), "flash": request.query_params.get(
                "saved", ""), "can_write": has_permission("price_lists.write")})

    async def _item_form(self, form: Form, item_id: int | None, status: int = 200
                         ) -> Template:
        return Template("price_lists/item_form.html", status_code=status, context={
            "form": form, "item_id": item_id, "kinds": ITEM_KINDS,
            "can_write": has_permission("price_lists.write")})

    @get("/items/new", media_type=MediaType.HTML)
    async def new_item(self) -> Template:
        _require_write()
        return await self._item_form(Form(values={"unit": "件", "kind": "product",
                                                  "currency": "CNY", "tax_rate": "0.13",
                                                  "active": "1"}), None)

    @get("/items/{item_id:int}", media_type=MediaType.HTML)
    async def edit_item(self, item_id: int) -> Template:
        row = await services.get_item_row(item_id)
        values = {k: ("" if row[k] is None else row[k]) for k in imports.ITEM_COLUMNS}
        values["active"] = "1" if row["active"] else ""
        return await self._item_form(Form(values=values), item_id)

    @post("/items/new", media_type=MediaType.HTML)
    async def create_item(self, request: Request) -> Template | Redirect:
        _require_write()
        values = await _form_values(request)
        try:
            await services.create_item(imports.parse_item(_clean_item_form(values)))
        except (imports.RowError, JimuError) as exc:
            return await self._item_form(_failed(values, exc), None, status=422)
        return Redirect(f"{BASE}/?saved=item")

    @post("/items/{item_id:int}", media_type=MediaType.HTML)
    async def save_item(self, request: Request, item_id: int) -> Template | Redirect:
        _require_write()
        await services.get_item_row(item_id)  # 404 before reading the form
        values = await _form_values(request)
        try:
            await services.update_item(item_id, imports.parse_item(_clean_item_form(values)))
        except (imports.RowError, JimuError) as exc:
            return await self._item_form(_failed(values, exc), item_id, status=422)
        return Redirect(f"{BASE}/?saved=item")

    # ------------------------------------------------------------------ rules

    @get("/rules", media_type=MediaType.HTML)
    async def rules(self, request: Request) -> Template:
        sku = request.query_params.get("sku", "")[:64]
        q = request.query_params.get("q", "")[:200]
        rows, total = await services.list_rules(sku=sku, q=q, per_page=200)
        return Template("price_lists/rules.html", context={
            "rows": [_rule_values(r) | {"id": r["id"]} for r in rows], "total": total,
            "sku": sku, "q": q, "flash": request.query_params.get("saved", ""),
            "can_write": has_permission("price_lists.write")})

    async def _rule_form(self, form: Form, rule_id: int | None, status: int = 200
                         ) -> Template:
        lists = await services.list_price_lists()
        return Template("price_lists/rule_form.html", status_code=status, context={
            "form": form, "rule_id": rule_id, "lists": lists,
            "can_write": has_permission("price_lists.write")})

    @get("/rules/new", media_type=MediaType.HTML)
    async def new_rule(self) -> Template:
        _require_write()
        return await self._rule_form(Form(values={"scope": "item", "kind": "fixed",
                                                  "base": "list_price", "priority": 0,
                                                  "enabled": "1"}), None)

    @get("/rules/{rule_id:int}", media_type=MediaType.HTML)
    async def edit_rule(self, rule_id: int) -> Template:
        row = await services.get_rule_row(rule_id)
        return await self._rule_form(Form(values=_rule_values(row)), rule_id)

    @post("/rules/new", media_type=MediaType.HTML)
    async def create_rule(self, request: Request) -> Template | Redirect:
        _require_write()
        values = await _form_values(request)
        try:
            await services.create_rule(imports.parse_rule(_clean_rule_form(values)))
        except (imports.RowError, JimuError) as exc:
            return await self._rule_form(_failed(values, exc), None, status=422)
        return Redirect(f"{BASE}/rules?saved=rule")

    @post("/rules/{rule_id:int}", media_type=MediaType.HTML)
    async def save_rule(self, request: Request, rule_id: int) -> Template | Redirect:
        _require_write()
        await services.get_rule_row(rule_id)  # 404 before reading the form
        values = await _form_values(request)
        try:
            await services.update_rule(rule_id, imports.parse_rule(_clean_rule_form(values)))
        except (imports.RowError, JimuError) as exc:
            return await self._rule_form(_failed(values, exc), rule_id, status=422)
        return Redirect(f"{BASE}/rules?saved=rule")

    @post("/rules/{rule_id:int}/delete", media_type=MediaType.HTML)
    async def delete_rule(self, rule_id: int) -> Redirect:
        _require_write()
        await services.delete_rule(rule_id)
        return Redirect(f"{BASE}/rules?saved=deleted")

    # ------------------------------------------------------------------ price lists

    @get("/lists", media_type=MediaType.HTML)
    async def lists(self, request: Request) -> Template:
        lists = await services.list_price_lists()
        entries = {pl.id: await services.list_entries(pl.id) for pl in lists}
        return Template("price_lists/lists.html", context={
            "lists": lists, "entries": entries, "form": Form(),
            "can_write": has_permission("price_lists.write")})

    # ------------------------------------------------------------------ import

    @get("/import", media_type=MediaType.HTML)
    async def import_page(self) -> Template:
        _require_write()
        return Template("price_lists/import.html", context={"report": None, "error": "",
                                                            "kind": "items"})

    @post("/import", media_type=MediaType.HTML)
    async def run_import(self, request: Request) -> Template:
        _require_write()
        form = await request.form()
        kind = "rules" if form.get("kind") == "rules" else "items"
        file = form.get("file")
        dry_run = form.get("dry_run") == "1"
        report, error = None, ""
        if not isinstance(file, UploadFile) or not (file.filename or "").lower().endswith(
                (".csv", ".xlsx")):
            error = "Choose a .csv or .xlsx file."
        else:
            content = await file.read()
            run = imports.import_rules if kind == "rules" else imports.import_items
            try:
                report = await run(file.filename or "", content, dry_run=dry_run)
            except JimuError as exc:
                error = exc.message
        return Template("price_lists/import.html", status_code=422 if error else 200,
                        context={"report": report, "error": error, "kind": kind})
