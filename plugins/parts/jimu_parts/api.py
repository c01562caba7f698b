"""Routes under /api/v1/parts: warehouses, parts, stock, the ledger and reservations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from jimu_sdk.web import needs
from litestar import get, post, put
from litestar.params import Parameter

from jimu_parts import services

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]
Limit = Annotated[int, Parameter(ge=1, le=500)]


READ = needs("parts.read")
WRITE = needs("parts.write")


# ----------------------------------------------------------------------------- schemas


class WarehouseIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    region_code: Annotated[str, msgspec.Meta(max_length=12)] | None = None
    active: bool = True


class WarehouseUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""
    region_code: Annotated[str, msgspec.Meta(max_length=12)] | None = None
    active: bool = True


class WarehouseOut(msgspec.Struct):
    id: int
    code: str
    name: str
    region_code: str | None
    active: bool


class PartIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    reorder_point: Decimal = Decimal(0)
    default_warehouse: Code | None = None
    active: bool = True
    note: Note = ""


class PartUpdate(msgspec.Struct, forbid_unknown_fields=True):
    reorder_point: Decimal = Decimal(0)
    default_warehouse: Code | None = None
    active: bool = True
    note: Note = ""


class PartOut(msgspec.Struct):
    id: int
    sku: str
    reorder_point: Decimal
    default_warehouse: str | None
    active: bool
    note: str


class TierPrice(msgspec.Struct):
    tier: str
    price: Decimal


class StockLine(msgspec.Struct):
    sku: str
    name: str
    warehouse: str
    warehouse_name: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    avg_cost: Decimal
    reorder_point: Decimal
    low: bool


class PartDetail(msgspec.Struct):
    part: PartOut
    name: str
    list_price: Decimal | None
    stock: list[StockLine]
    available: Decimal
    unit_cost: Decimal | None
    tier_prices: list[TierPrice]


class ReceiptIn(msgspec.Struct, forbid_unknown_fields=True):
    warehouse: Code
    sku: Sku
    quantity: Decimal
    unit_cost: Decimal
    ref: Annotated[str, msgspec.Meta(max_length=120)] = ""
    note: Note = ""


class AdjustmentIn(msgspec.Struct, forbid_unknown_fields=True):
    warehouse: Code
    sku: Sku
    delta: Decimal
    note: Note


class TransferIn(msgspec.Struct, forbid_unknown_fields=True):
    source: Code
    target: Code
    sku: Sku
    quantity: Decimal
    note: Note = ""


class MovementOut(msgspec.Struct):
    id: int
    kind: str
    warehouse: str
    sku: str
    on_hand_delta: Decimal
    reserved_delta: Decimal
    unit_cost: Decimal | None
    ref: str
    note: str
    user_id: int | None
    at: dt.datetime


class ReserveIn(msgspec.Struct, forbid_unknown_fields=True):
    ref: Ref
    sku: Sku
    quantity: Decimal
    warehouse: Code | None = None
    expires_at: dt.datetime | None = None


class ConsumeIn(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Decimal | None = None


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Decimal | None = None  # checked after the reservation is found (404 first)
    note: Note = ""


class ReservationOut(msgspec.Struct):
    id: int
    ref: str
    sku: str
    warehouse: str
    quantity: Decimal
    consumed: Decimal
    returned: Decimal
    unit_cost: Decimal | None
    cost: Decimal
    status: str
    expires_at: dt.datetime | None
    created_at: dt.datetime


class ConsumeOut(msgspec.Struct):
    reservation: ReservationOut
    cost: Decimal


# ----------------------------------------------------------------------------- mapping


def warehouse_out(row: dict[str, Any]) -> WarehouseOut:
    return WarehouseOut(id=row["id"], code=row["code"], name=row["name"],
                        region_code=row["region_code"], active=row["active"])


async def part_out(row: dict[str, Any], warehouses: dict[int, dict[str, Any]] | None = None
                   ) -> PartOut:
    warehouses = warehouses if warehouses is not None else await services.warehouse_names()
    default = warehouses.get(row["default_warehouse_id"]) if row["default_warehouse_id"] else None
    return PartOut(id=row["id"], sku=row["sku"], reorder_point=services.dec(row["reorder_point"]),
                   default_warehouse=default["code"] if default else None,
                   active=row["active"], note=row["note"])


def movement_out(row: dict[str, Any], warehouses: dict[int, dict[str, Any]]) -> MovementOut:
    return MovementOut(
        id=row["id"], kind=row["kind"], warehouse=warehouses[row["warehouse_id"]]["code"],
        sku=row["sku"], on_hand_delta=services.dec(row["on_hand_delta"]),
        reserved_delta=services.dec(row["reserved_delta"]),
        unit_cost=None if row["unit_cost"] is None else services.dec(row["unit_cost"]),
        ref=row["ref"], note=row["note"], user_id=row["user_id"], at=row["at"])


def reservation_out(row: dict[str, Any], warehouses: dict[int, dict[str, Any]]
                    ) -> ReservationOut:
    return ReservationOut(
        id=row["id"], ref=row["ref"], sku=row["sku"],
        warehouse=warehouses[row["warehouse_id"]]["code"],
        quantity=services.dec(row["quantity"]), consumed=services.dec(row["consumed"]),
        returned=services.dec(row["returned"]),
        unit_cost=None if row["unit_cost"] is None else services.dec(row["unit_cost"]),
        cost=services.dec(row["cost"]), status=row["status"], expires_at=row["expires_at"],
        created_at=row["created_at"])


async def _reservation(row: dict[str, Any]) -> ReservationOut:
    return reservation_out(row, await services.warehouse_names())


# ----------------------------------------------------------------------------- routes


@get("/warehouses", guards=READ, summary="Warehouses")
async def list_warehouses() -> list[WarehouseOut]:
    return [warehouse_out(r) for r in await services.list_warehouses()]


@post("/warehouses", guards=WRITE, summary="Add a warehouse")
async def create_warehouse(data: WarehouseIn) -> WarehouseOut:
    return warehouse_out(await services.create_warehouse(
        code=data.code, name=data.name, region_code=data.region_code, active=data.active))


@put("/warehouses/{warehouse_code:str}", guards=WRITE, summary="Change a warehouse")
async def update_warehouse(warehouse_code: str, data: WarehouseUpdate) -> WarehouseOut:
    return warehouse_out(await services.update_warehouse(
        await services.warehouse_key(warehouse_code), name=data.name, region_code=data.region_code,
        active=data.active))


@get("/parts", guards=READ, summary="Parts kept in stock")
async def list_parts() -> list[PartOut]:
    warehouses = await services.warehouse_names()
    return [await part_out(r, warehouses) for r in await services.list_parts()]


@post("/parts", guards=WRITE, summary="Add a price-list item to the parts library")
async def create_part(data: PartIn) -> PartOut:
    return await part_out(await services.create_part(
        sku=data.sku, reorder_point=data.reorder_point,
        default_warehouse=data.default_warehouse, active=data.active, note=data.note))


@put("/parts/{part_sku:str}", guards=WRITE, summary="Change a part")
async def update_part(part_sku: str, data: PartUpdate) -> PartOut:
    return await part_out(await services.update_part(
        await services.part_key(part_sku), reorder_point=data.reorder_point,
        default_warehouse=data.default_warehouse, active=data.active, note=data.note))


@get("/parts/{part_sku:str}", guards=READ, summary="A part: stock, cost and price per tier")
async def part_detail(part_sku: str) -> PartDetail:
    sku = await services.part_key(part_sku)
    row = await services.part_by_sku(sku)
    from jimu_price_lists import public as price_lists

    item = await price_lists.get_item(sku) or {}
    return PartDetail(
        part=await part_out(row), name=item.get("name", ""), list_price=item.get("list_price"),
        stock=[StockLine(**line) for line in await services.stock_overview(sku=sku)],
        available=await services.available(sku), unit_cost=await services.unit_cost(sku),
        tier_prices=[TierPrice(tier=t["tier"], price=t["price"])
                     for t in await services.tier_prices(sku)])


@get("/stock", guards=READ, summary="Stock per warehouse and part")
async def stock(sku: Annotated[str, Parameter(max_length=64)] = "",
                warehouse: Annotated[str, Parameter(max_length=32)] = "",
                low: bool = False) -> list[StockLine]:
    return [StockLine(**line) for line in
            await services.stock_overview(sku=sku, warehouse=warehouse, low=low)]


@get("/movements", guards=READ, summary="The stock ledger, newest first")
async def movements(sku: Annotated[str, Parameter(max_length=64)] = "",
                    warehouse: Annotated[str, Parameter(max_length=32)] = "",
                    kind: Annotated[str, Parameter(max_length=16)] = "",
                    ref: Annotated[str, Parameter(max_length=120)] = "",
                    limit: Limit = 100) -> list[MovementOut]:
    warehouses = await services.warehouse_names()
    rows = await services.list_movements(sku=sku, warehouse=warehouse, kind=kind, ref=ref,
                                         limit=limit)
    return [movement_out(r, warehouses) for r in rows]


@post("/receipts", guards=WRITE, summary="Receive stock")
async def receipt(data: ReceiptIn) -> MovementOut:
    row = await services.receive(warehouse=data.warehouse, sku=data.sku,
                                 quantity=data.quantity, unit_cost=data.unit_cost, ref=data.ref,
                                 note=data.note)
    return movement_out(row, await services.warehouse_names())


@post("/adjustments", guards=WRITE, summary="Correct stock after a count")
async def adjustment(data: AdjustmentIn) -> MovementOut:
    row = await services.adjust(warehouse=data.warehouse, sku=data.sku, delta=data.delta,
                                note=data.note)
    return movement_out(row, await services.warehouse_names())


@post("/transfers", guards=WRITE, summary="Move stock between warehouses")
async def transfer(data: TransferIn) -> list[MovementOut]:
    rows = await services.transfer(source=data.source, target=data.target, sku=data.sku,
                                   quantity=data.quantity, note=data.note)
    warehouses = await services.warehouse_names()
    return [movement_out(r, warehouses) for r in rows]


@get("/reservations", guards=READ, summary="Reservations, newest first")
async def reservations(status: Annotated[str, Parameter(max_length=12)] = "",
                       sku: Annotated[str, Parameter(max_length=64)] = "",
                       limit: Limit = 100) -> list[ReservationOut]:
    warehouses = await services.warehouse_names()
    rows = await services.list_reservations(status=status, sku=sku, limit=limit)
    return [reservation_out(r, warehouses) for r in rows]


@post("/reservations", guards=WRITE, summary="Reserve stock")
async def reserve(data: ReserveIn) -> ReservationOut:
    return await _reservation(await services.reserve(
        ref=data.ref, sku=data.sku, quantity=data.quantity, warehouse=data.warehouse,
        expires_at=data.expires_at))


@post("/reservations/{reservation_ref:str}/release", guards=WRITE, summary="Release a reservation")
async def release(reservation_ref: str) -> ReservationOut:
    return await _reservation(await services.release(
        await services.reservation_key(reservation_ref)))


@post("/reservations/{reservation_ref:str}/consume", guards=WRITE,
      summary="Consume a reservation (the rest is released)")
async def consume(reservation_ref: str, data: ConsumeIn | None = None) -> ConsumeOut:
    row, cost = await services.consume(await services.reservation_key(reservation_ref),
                                       data.quantity if data else None)
    return ConsumeOut(reservation=await _reservation(row), cost=cost)


@post("/reservations/{reservation_ref:str}/return", guards=WRITE,
      summary="Return consumed units to stock")
async def return_consumed(reservation_ref: str, data: ReturnIn) -> ReservationOut:
    return await _reservation(await services.return_consumed(
        await services.reservation_key(reservation_ref), data.quantity, data.note))


ROUTES = [list_warehouses, create_warehouse, update_warehouse, list_parts, create_part,
          update_part, part_detail, stock, movements, receipt, adjustment, transfer,
          reservations, reserve, release, consume, return_consumed]
