"""Configured price factors: one row per factor a tenant set up (kind, parameters, scope,
period, switch)."""

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Date, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Factor(TenantScoped, Table, tablename="price_factors_factor"):
    tenant_unique = (("code",),)

    code = Varchar(length=40)
    name = Varchar(length=200)
    kind = Varchar(length=63, index=True)
    params = JSON(default="{}")
    # Scope: lists of codes, empty = any (see README "Scope").
    regions = JSON(default="[]")
    partner_levels = JSON(default="[]")
    partner_tiers = JSON(default="[]")
    partner_kinds = JSON(default="[]")
    customer_levels = JSON(default="[]")
    channels = JSON(default="[]")
    items = JSON(default="[]")
    categories = JSON(default="[]")
    audience_match = Varchar(length=8, default="all")  # all | any
    valid_from = Date(null=True, default=None)
    valid_to = Date(null=True, default=None)
    enabled = Boolean(default=True)
    priority = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
