"""Project library tables: packages, their components, and each use of a package with the
parts it reserved and the cost it booked."""

from decimal import Decimal

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

QTY = (18, 4)
MONEY = (18, 4)


class Package(TenantScoped, Table, tablename="projects_package"):
    """A service package or campaign pack, mirrored as a price_lists item of kind package."""

    tenant_unique = (("code",),)
    code = Varchar(length=64)
    name = Varchar(length=200)
    kind = Varchar(length=20, default="service_package")  # service_package | campaign_pack
    description = Text(default="")
    materials = JSON(default="{}")  # {"scripts": [...], "coupon_templates": [...], ...}
    list_price = Numeric(digits=MONEY, default=Decimal(0))
    cost = Numeric(digits=MONEY, default=Decimal(0))
    active = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class Component(TenantScoped, Table, tablename="projects_component"):
    """A part, consumable or labour item of a package, with its prices when last saved."""

    tenant_unique = (("package_id", "sku"),)
    package_id = Integer(index=True)
    position = Integer(default=0)
    sku = Varchar(length=64, index=True)
    quantity = Numeric(digits=QTY)
    item_kind = Varchar(length=16, default="part")
    unit_list_price = Numeric(digits=MONEY, default=Decimal(0))
    unit_cost = Numeric(digits=MONEY, null=True, default=None)


class Usage(TenantScoped, Table, tablename="projects_usage"):
    """One use of a package: an order line or a direct use (e.g. from a work order)."""

    tenant_unique = (("ref",),)
    ref = Varchar(length=120)  # type: ignore[assignment]
    package_id = Integer(index=True)
    package_code = Varchar(length=64, index=True)
    source = Varchar(length=12, default="order")  # order | direct
    order_id = Integer(null=True, default=None, index=True)
    line_no = Integer(null=True, default=None)
    partner_id = Integer(null=True, default=None)
    region_code = Varchar(length=12, null=True, default=None)
    quantity = Numeric(digits=QTY)
    status = Varchar(length=12, default="reserved", index=True)  # reserved|completed|released
    cost = Numeric(digits=MONEY, default=Decimal(0))
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)


class UsageLine(TenantScoped, Table, tablename="projects_usage_line"):
    """A stocked component of a use: its reservation, and the cost booked on completion."""

    usage_id = Integer(index=True)
    sku = Varchar(length=64)
    quantity = Numeric(digits=QTY)
    reservation_ref = Varchar(length=160)
    unit_cost = Numeric(digits=MONEY, null=True, default=None)
    cost = Numeric(digits=MONEY, null=True, default=None)
