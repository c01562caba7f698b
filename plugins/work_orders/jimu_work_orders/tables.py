"""Work orders (工单) and what hangs off them: comments, attachments, activity, teams (班组),
saved filters.

A work order is the subject of one flow run (``work_orders:<id>``); its ``status``,
``node_id`` and ``node_label`` follow the run (``run_revision`` is the run revision they were
last synced from). Money is ``Numeric`` read back as ``Decimal``.
"""

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

MONEY = (18, 4)


class WorkOrder(TenantScoped, Table, tablename="work_orders_work_order"):
    tenant_unique = (("number",),)

    number = Varchar(length=32, index=True)  # WO-20261124-0001
    title = Varchar(length=200)
    description = Text(default="")
    type = Varchar(length=40, index=True)  # a key of the plugin's settings.types
    priority = Varchar(length=8, default="normal", index=True)  # low|normal|high|urgent
    priority_rank = Integer(default=2)  # 1..4, for sorting by priority
    customer_id = Integer(null=True, default=None, index=True)
    partner_id = Integer(null=True, default=None, index=True)
    region_code = Varchar(length=12, null=True, default=None)
    amount = Numeric(digits=MONEY, null=True, default=None)
    currency = Varchar(length=3, default="CNY")
    assignee_id = Integer(null=True, default=None, index=True)
    team_id = Integer(null=True, default=None, index=True)
    # open | in_progress | waiting_customer | completed | cancelled
    status = Varchar(length=20, default="open", index=True)
    run_status = Varchar(length=16, default="")  # the run's: active|waiting|stuck|completed|…
    node_id = Varchar(length=63, default="")
    node_label = Varchar(length=200, default="")
    stuck_reason = Text(default="")
    run_id = Integer(null=True, default=None, index=True)
    run_revision = Integer(default=-1)
    flow_code = Varchar(length=63, default="")
    flow_version = Integer(null=True, default=None)
    scheduled_at = Timestamptz(null=True, default=None, index=True)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())
    accepted_at = Timestamptz(null=True, default=None)  # someone took it on: in progress
    completed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    revision = Integer(default=0)  # moves on with every change of the row
    # What the SLA plugin last said, if it is on: "" | warning | breached (its events; a
    # quiet column: not part of ``revision``, no event of its own).
    sla_alert = Varchar(length=16, default="")
    sla_clock = Varchar(length=16, default="")  # response | resolution
    sla_due_at = Timestamptz(null=True, default=None)


class Comment(TenantScoped, Table, tablename="work_orders_comment"):
    work_order_id = Integer(index=True)
    author_id = Integer(null=True, default=None)
    body = Text()
    mentions = JSON(default=[])  # user ids
    created_at = Timestamptz(default=TimestamptzNow())


class Attachment(TenantScoped, Table, tablename="work_orders_attachment"):
    work_order_id = Integer(index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size = Integer()
    storage_key = Varchar(length=300)
    sha256 = Varchar(length=64)
    uploaded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Activity(TenantScoped, Table, tablename="work_orders_activity"):
    """What people and dispatch did to a work order outside its flow (created, assigned,
    accepted, fields changed); the flow's own moves are the run's steps."""

    work_order_id = Integer(index=True)
    kind = Varchar(length=32)
    actor_id = Integer(null=True, default=None)
    changes = JSON(default={})
    note = Text(default="")
    at = Timestamptz(default=TimestamptzNow())


class Team(TenantScoped, Table, tablename="work_orders_team"):
    """A team (班组) that work orders are dispatched to: its members (user ids), skills and
    the regions it covers; ``rr_last_user_id`` is where round-robin dispatch left off."""

    tenant_unique = (("name",),)

    name = Varchar(length=100)
    members = JSON(default=[])
    skills = JSON(default=[])
    region_codes = JSON(default=[])
    active = Boolean(default=True)
    rr_last_user_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SavedFilter(TenantScoped, Table, tablename="work_orders_saved_filter"):
    """A person's named list filter; nobody else sees it."""

    tenant_unique = (("user_id", "name"),)

    user_id = Integer(index=True)
    name = Varchar(length=100)
    query = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


TABLES = [WorkOrder, Comment, Attachment, Activity, Team, SavedFilter]
