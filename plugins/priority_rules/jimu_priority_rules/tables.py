"""Priority rules: checked in order; every rule that holds notifies, the highest priority wins."""

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Rule(TenantScoped, Table, tablename="priority_rules_rule"):
    tenant_unique = (("name",),)
    name = Varchar(length=100)
    condition = Text()  # CEL over the work order's facts (README)
    priority = Varchar(length=16, default="urgent")  # high | urgent
    notify_roles = JSON(default=[])
    notify_teams = JSON(default=[])  # work-order team names (客服部, 物流部, 售后部)
    notify_users = JSON(default=[])
    position = Integer(default=0)
    enabled = Boolean(default=True)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
