"""Parts library tables: warehouses, stocked parts, stock rows, the movement ledger and
reservations. Quantities and costs are ``Numeric`` (read back as ``Decimal``)."""

from decimal import Decimal

from jimu_sdk import TenantScoped
from piccolo.columns import Boolean, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

QTY = (18, 4)
MONEY = (18, 4)


class Warehouse(TenantScoped, Table, tablename="parts_warehouse"):
    tenant_unique = (("code",),)
    code = Varchar(length=32)
    name = Varchar(length=100)
    region_code = Varchar(length=12, null=True, default=None)
    active = Boolean(default=True)


class Part(TenantScoped, Table, tablename="parts_part"):
    """A price_lists item that is kept in stock."""

    tenant_unique = (("sku",),)
    sku = Varchar(length=64)
    reorder_point = Numeric(digits=QTY, default=Decimal(0))
    default_warehouse_id = Integer(null=True, default=None)
    active = Boolean(default=True)
    note = Text(default="")


class Stock(TenantScoped, Table, tablename="parts_stock"):
    """The running totals of the ledger for one (warehouse, sku); written in the same
    transaction as each movement."""

    tenant_unique = (("warehouse_id", "sku"),)
    warehouse_id = Integer(index=True)
    sku = Varchar(length=64, index=True)
    on_hand = Numeric(digits=QTY, default=Decimal(0))
    reserved = Numeric(digits=QTY, default=Decimal(0))
    avg_cost = Numeric(digits=MONEY, default=Decimal(0))


class Movement(TenantScoped, Table, tablename="parts_movement"):
    """One change of stock: receipt | adjustment | reservation | release | consumption |
    return | transfer_out | transfer_in."""

    kind = Varchar(length=16, index=True)
    warehouse_id = Integer(index=True)
    sku = Varchar(length=64, index=True)
    on_hand_delta = Numeric(digits=QTY, default=Decimal(0))
    reserved_delta = Numeric(digits=QTY, default=Decimal(0))
    unit_cost = Numeric(digits=MONEY, null=True, default=None)
    ref = Varchar(length=120, default="", index=True)  # type: ignore[assignment]
    note = Text(default="")
    user_id = Integer(null=True, default=None)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class Reservation(TenantScoped, Table, tablename="parts_reservation"):
    tenant_unique = (("ref",),)
    ref = Varchar(length=120)  # type: ignore[assignment]
    sku = Varchar(length=64, index=True)
    warehouse_id = Integer(index=True)
    quantity = Numeric(digits=QTY)
    consumed = Numeric(digits=QTY, default=Decimal(0))
    returned = Numeric(digits=QTY, default=Decimal(0))
    cost = Numeric(digits=MONEY, default=Decimal(0))  # booked on consumption
    unit_cost = Numeric(digits=MONEY, null=True, default=None)
    status = Varchar(length=12, default="active", index=True)  # active|released|consumed|expired
    expires_at = Timestamptz(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
