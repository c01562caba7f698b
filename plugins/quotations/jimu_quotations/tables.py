"""Quotations (报价单) with their priced lines, and partner orders (订货单) with theirs.

Money columns are ``Numeric`` and read back as ``Decimal``; amounts are stored already rounded
(the pricing pipeline rounds each line, totals are sums of rounded lines).
"""

from decimal import Decimal

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Date, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ZERO = Decimal(0)
MONEY = (18, 4)
QUANTITY = (18, 4)


class Quotation(TenantScoped, Table, tablename="quotations_quotation"):
    # Every version of a quotation keeps its number; (number, version) is unique.
    tenant_unique = (("number", "version"),)

    number = Varchar(length=32, index=True)
    version = Integer(default=1)
    revision_of = Integer(null=True, default=None)  # the id of the version this one revises
    partner_id = Integer(null=True, default=None, index=True)
    customer_id = Integer(null=True, default=None, index=True)
    region_code = Varchar(length=12, null=True, default=None)
    channel = Varchar(length=32, default="")
    currency = Varchar(length=3, default="CNY")
    on_date = Date(null=True, default=None)  # the pricing date (quotation date)
    valid_until = Date()
    status = Varchar(length=16, default="draft", index=True)
    note = Text(default="")
    net = Numeric(digits=MONEY, default=ZERO)
    tax = Numeric(digits=MONEY, default=ZERO)
    total = Numeric(digits=MONEY, default=ZERO)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class QuotationLine(TenantScoped, Table, tablename="quotations_line"):
    quotation_id = Integer(index=True)
    line_no = Integer()
    item = Varchar(length=64)
    name = Varchar(length=200, default="")
    category = Varchar(length=64, default="")
    quantity = Numeric(digits=QUANTITY)
    base_unit_price = Numeric(digits=MONEY, default=ZERO)
    unit_price = Numeric(digits=MONEY, default=ZERO)
    net = Numeric(digits=MONEY, default=ZERO)
    tax = Numeric(digits=MONEY, default=ZERO)
    total = Numeric(digits=MONEY, default=ZERO)
    explanation = JSON(default=[])


class Order(TenantScoped, Table, tablename="quotations_order"):
    tenant_unique = (("number",),)

    number = Varchar(length=32, index=True)
    partner_id = Integer(null=True, default=None, index=True)
    customer_id = Integer(null=True, default=None, index=True)
    region_code = Varchar(length=12, null=True, default=None)
    source = Varchar(length=16, default="api")  # quotation | api | import
    quotation_id = Integer(null=True, default=None, index=True)
    external_ref = Varchar(length=64, default="")  # the import's order_ref
    currency = Varchar(length=3, default="CNY")
    on_date = Date(null=True, default=None)
    status = Varchar(length=16, default="confirmed", index=True)
    net = Numeric(digits=MONEY, default=ZERO)
    tax = Numeric(digits=MONEY, default=ZERO)
    total = Numeric(digits=MONEY, default=ZERO)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    completed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)


class OrderLine(TenantScoped, Table, tablename="quotations_order_line"):
    order_id = Integer(index=True)
    line_no = Integer()
    item = Varchar(length=64)
    name = Varchar(length=200, default="")
    category = Varchar(length=64, default="")
    quantity = Numeric(digits=QUANTITY)
    unit_price = Numeric(digits=MONEY, default=ZERO)
    net = Numeric(digits=MONEY, default=ZERO)
    tax = Numeric(digits=MONEY, default=ZERO)
    amount = Numeric(digits=MONEY, default=ZERO)
    explanation = JSON(default=[])
