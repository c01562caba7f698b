"""Follow-up records: one row per contact with a customer."""

from jimu_sdk import TenantScoped
from piccolo.columns import Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class FollowUp(TenantScoped, Table, tablename="followups_note"):
    customer_id = Integer(index=True)
    author_id = Integer(null=True, default=None)
    channel = Varchar(length=16, default="phone")  # phone | visit | wechat | other
    body = Text()
    next_contact_on = Date(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
