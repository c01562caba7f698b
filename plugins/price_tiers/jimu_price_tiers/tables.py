"""Tiers, the rule sets that assign them, completed-order volume facts and assignment history."""

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Tier(TenantScoped, Table, tablename="price_tiers_tier"):
    tenant_unique = (("code",),)
    code = Varchar(length=16)
    name = Varchar(length=100)
    rank = Integer(default=1)  # 1 = best
    description = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RuleSet(TenantScoped, Table, tablename="price_tiers_rule_set"):
    tenant_unique = (("code",),)
    code = Varchar(length=32)
    name = Varchar(length=100)
    basis = Varchar(length=32)  # monthly_volume | partner_level | city_tier | cooperation
    partner_kinds = JSON(default=[])  # empty: every kind
    partner_codes = JSON(default=[])  # empty: every partner
    region_codes = JSON(default=[])  # empty: every region
    priority = Integer(default=0)
    enabled = Boolean(default=True)
    body = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class Volume(TenantScoped, Table, tablename="price_tiers_volume"):
    """One completed order line: the fact monthly volume and cooperation history are read from."""

    tenant_unique = (("order_ref", "line_no"),)
    partner_id = Integer(index=True)
    order_ref = Varchar(length=64)
    line_no = Integer(default=1)
    item = Varchar(length=64, default="")
    category = Varchar(length=64, default="")
    quantity = Numeric(digits=(18, 4))
    amount = Numeric(digits=(18, 4))
    completed_at = Timestamptz(index=True)


class Assignment(TenantScoped, Table, tablename="price_tiers_assignment"):
    """A partner's tier over a period; ``valid_to`` null is the current one."""

    partner_id = Integer(index=True)
    tier = Varchar(length=16)
    rule_set = Varchar(length=32, default="")  # "" for a manual assignment
    reason = Text(default="")
    facts = JSON(default={})
    locked = Boolean(default=False)
    assigned_by = Integer(null=True, default=None)
    valid_from = Timestamptz(default=TimestamptzNow())
    valid_to = Timestamptz(null=True, default=None, index=True)
