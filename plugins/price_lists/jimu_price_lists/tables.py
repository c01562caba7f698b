"""Items, price lists with their entries, and price rules (all tenant-owned)."""

from decimal import Decimal

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Date, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

MONEY = (18, 4)
RATE = (9, 4)


class Item(TenantScoped, Table, tablename="price_lists_item"):
    tenant_unique = (("sku",),)
    sku = Varchar(length=64, index=True)
    name = Varchar(length=200)
    unit = Varchar(length=16, default="件")
    kind = Varchar(length=16, default="product")  # product|part|consumable|service|labour
    category = Varchar(length=64, default="", index=True)
    list_price = Numeric(digits=MONEY)
    cost = Numeric(digits=MONEY, null=True, default=None)
    currency = Varchar(length=3, default="CNY")
    tax_rate = Numeric(digits=RATE, default=Decimal("0"))
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PriceList(TenantScoped, Table, tablename="price_lists_list"):
    tenant_unique = (("code",),)
    code = Varchar(length=32, index=True)
    name = Varchar(length=200)
    currency = Varchar(length=3, default="CNY")


class PriceListEntry(TenantScoped, Table, tablename="price_lists_entry"):
    tenant_unique = (("list_id", "sku"),)
    list_id = Integer(index=True)
    sku = Varchar(length=64, index=True)
    price = Numeric(digits=MONEY)


class PriceRule(TenantScoped, Table, tablename="price_lists_rule"):
    tenant_unique = (("code",),)
    code = Varchar(length=32, index=True)
    name = Varchar(length=200, default="")
    scope = Varchar(length=16, default="item")  # item | category | all
    sku = Varchar(length=64, default="", index=True)
    category = Varchar(length=64, default="")
    kind = Varchar(length=16, default="fixed")  # fixed | discount | formula
    value = Numeric(digits=MONEY, null=True, default=None)
    base = Varchar(length=16, default="list_price")  # list_price | cost | price_list
    price_list = Varchar(length=32, default="")
    surcharge = Numeric(digits=MONEY, null=True, default=None)
    rounding_step = Numeric(digits=MONEY, null=True, default=None)
    min_margin = Numeric(digits=RATE, null=True, default=None)  # percent
    max_margin = Numeric(digits=RATE, null=True, default=None)  # percent
    breaks = JSON(default=[])  # [{"min_qty": "100", "max_qty": null, "value": "2"}]
    valid_from = Date(null=True, default=None)
    valid_to = Date(null=True, default=None)
    regions = JSON(default=[])
    partner_levels = JSON(default=[])
    partner_tiers = JSON(default=[])
    customer_levels = JSON(default=[])
    channels = JSON(default=[])
    priority = Integer(default=0)
    enabled = Boolean(default=True)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
