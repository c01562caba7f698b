"""Admin pages under /admin/p/parts: stock overview, ledger, receive form, reservations and
the part page with its settlement price per tier."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jimu_sdk import JimuError, PermissionDenied, ValidationFailed, has_permission
from litestar import Controller, MediaType, Request, get, post
from litestar.response import Redirect, Template

from jimu_parts import services

BASE = "/admin/p/parts"


@dataclass
class Form:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    message: tuple[str, dict[str, Any]] | None = None


def _failed(values: dict[str, Any], exc: JimuError) -> Form:
    form = Form(values=values)
    if isinstance(exc, ValidationFailed) or exc.field:
        form.errors[(exc.field or "").split(".")[-1] or "_"] = (exc.message_id, exc.params)
    if not exc.field:
        form.message = (exc.message_id, exc.params)
    return form


class PartsPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def overview(self, request: Request) -> Template:
        low = request.query_params.get("low") == "1"
        lines = await services.stock_overview(low=low)
        return Template("parts/stock.html", context={
            "lines": lines, "low": low, "saved": request.query_params.get("saved", ""),
            "can_write": has_permission("parts.write")})

    @get("/movements", media_type=MediaType.HTML)
    async def ledger(self, request: Request) -> Template:
        sku = request.query_params.get("sku", "")[:64]
        kind = request.query_params.get("kind", "")
        if kind not in services.KINDS:
            kind = ""
        rows = await services.list_movements(sku=sku, kind=kind, limit=200)
        return Template("parts/movements.html", context={
            "rows": rows, "sku": sku, "kind": kind, "kinds": services.KINDS,
            "warehouses": await services.warehouse_names()})

    @get("/reservations", media_type=MediaType.HTML)
    async def reservations(self, request: Request) -> Template:
        status = request.query_params.get("status", "")
        if status not in services.STATUSES:
            status = ""
        rows = await services.list_reservations(status=status, limit=200)
        return Template("parts/reservations.html", context={
            "rows": rows, "status": status, "statuses": services.STATUSES,
            "warehouses": await services.warehouse_names()})

    async def _receive_form(self, form: Form, status: int = 200) -> Template:
        return Template("parts/receive.html", status_code=status, context={
            "form": form, "warehouses": await services.list_warehouses(),
            "parts": await services.list_parts()})

    @get("/receive", media_type=MediaType.HTML)
    async def receive_form(self) -> Template:
        if not has_permission("parts.write"):
            raise PermissionDenied("you need the permission 'parts.write'")
        return await self._receive_form(Form(values={"quantity": "", "unit_cost": ""}))

    @post("/receive", media_type=MediaType.HTML)
    async def receive(self, request: Request) -> Template | Redirect:
        if not has_permission("parts.write"):
            raise PermissionDenied("you need the permission 'parts.write'")
        raw = await request.form()
        values = {k: (v.strip() if isinstance(v, str) else "") for k, v in raw.items()
                  if k != "csrf_token"}
        try:
            await services.receive(warehouse=values.get("warehouse", ""),
                                   sku=values.get("sku", ""),
                                   quantity=values.get("quantity", ""),
                                   unit_cost=values.get("unit_cost", ""),
                                   ref=values.get("ref", "")[:120],
                                   note=values.get("note", "")[:2000])
        except JimuError as exc:
            return await self._receive_form(_failed(values, exc), status=422)
        return Redirect(f"{BASE}/?saved=1")

    @get("/parts/{part_sku:str}", media_type=MediaType.HTML)
    async def part(self, part_sku: str) -> Template:
        from jimu_price_lists import public as price_lists

        sku = await services.part_key(part_sku)
        row = await services.part_by_sku(sku)
        tier_error = None
        try:
            tiers = await services.tier_prices(sku)
        except JimuError as exc:  # e.g. the item has no price: show the page anyway
            tiers, tier_error = [], (exc.message_id, exc.params)
        return Template("parts/part.html", context={
            "part": row, "item": await price_lists.get_item(sku) or {},
            "lines": await services.stock_overview(sku=sku),
            "available": await services.available(sku),
            "unit_cost": await services.unit_cost(sku), "tiers": tiers,
            "tier_error": tier_error,
            "reservations": await services.list_reservations(sku=sku, limit=20),
            "warehouses": await services.warehouse_names()})
