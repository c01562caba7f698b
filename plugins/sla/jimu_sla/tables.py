"""Business calendars, SLA policies, the work orders the plugin follows and their clocks."""

from jimu_sdk import TenantScoped
from piccolo.columns import JSON, Boolean, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Calendar(TenantScoped, Table, tablename="sla_calendar"):
    """Working hours per weekday in a timezone; its holidays and make-up days are rows of
    :class:`CalendarDay`."""

    tenant_unique = (("name",),)
    name = Varchar(length=100)
    description = Text(default="")
    timezone = Varchar(length=64, default="")  # "": the tenant's
    weekly_hours = JSON(default={})  # {"mon": [["09:00", "12:00"], …], …}
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CalendarDay(TenantScoped, Table, tablename="sla_calendar_day"):
    """A holiday (no working time) or a make-up working day (调休) of a calendar."""

    tenant_unique = (("calendar_id", "day"),)
    calendar_id = Integer(index=True)
    day = Date()
    kind = Varchar(length=16)  # holiday | workday
    name = Varchar(length=100, default="")


class Policy(TenantScoped, Table, tablename="sla_policy"):
    """Response and resolution targets for the work orders it matches (empty list: any)."""

    tenant_unique = (("name",),)
    name = Varchar(length=100)
    position = Integer(default=100)  # ties between equally specific policies: lower first
    enabled = Boolean(default=True)
    priorities = JSON(default=[])
    customer_levels = JSON(default=[])
    types = JSON(default=[])
    response_minutes = Integer(null=True, default=None)
    resolution_minutes = Integer(null=True, default=None)
    calendar_id = Integer(null=True, default=None)  # none: around the clock
    warn_percent = Integer(default=80)
    escalate_roles = JSON(default=[])
    escalate_user_ids = JSON(default=[])
    escalate_priority = Varchar(length=16, null=True, default=None)
    escalate_team_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TrackedWorkOrder(TenantScoped, Table, tablename="sla_work_order"):
    """A work order as the plugin last saw it in a ``work_order.*`` event."""

    tenant_unique = (("work_order_id",),)
    work_order_id = Integer()
    number = Varchar(length=64, default="")
    type = Varchar(length=64, default="")
    priority = Varchar(length=16, default="normal")
    status = Varchar(length=32, default="open")
    customer_id = Integer(null=True, default=None)
    customer_level = Varchar(length=32, null=True, default=None)
    partner_id = Integer(null=True, default=None)
    assignee_id = Integer(null=True, default=None)
    policy_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    """When its clocks start: the work order's creation."""
    timed = Boolean(default=True)
    """False for a work order first seen long after its creation (from before the plugin was
    on): it is followed without clocks."""
    updated_at = Timestamptz(default=TimestamptzNow())
    last_event_id = Integer(default=0)
    """The newest event applied; an older one arriving late (or again) is ignored."""


class Clock(TenantScoped, Table, tablename="sla_clock"):
    """The response or resolution clock of a work order.

    ``consumed_seconds`` is business time used up to ``segment_started_at`` (the start of the
    running stretch; none while paused or stopped). Timers of the current ``generation`` are
    keyed ``sla:{id}:{generation}:warn|breach``; pausing or re-targeting starts a new
    generation, so a late timer of an old one finds nothing to do.
    """

    tenant_unique = (("work_order_id", "kind"),)
    work_order_id = Integer(index=True)
    kind = Varchar(length=16)  # response | resolution
    policy_id = Integer(null=True, default=None)
    policy_name = Varchar(length=100, default="")
    calendar_id = Integer(null=True, default=None)
    target_minutes = Integer()
    warn_percent = Integer(default=80)
    escalation = JSON(default={})  # the policy's escalation when the clock was (re)targeted
    priority = Varchar(length=16, default="")
    type = Varchar(length=64, default="")
    status = Varchar(length=16, default="running")  # running | paused | stopped
    outcome = Varchar(length=16, default="pending")  # pending | met | breached | cancelled
    generation = Integer(default=1)
    consumed_seconds = Integer(default=0)
    segment_started_at = Timestamptz(null=True, default=None)
    started_at = Timestamptz(index=True)
    due_at = Timestamptz(null=True, default=None)
    warn_at = Timestamptz(null=True, default=None)
    warned_at = Timestamptz(null=True, default=None)
    breached_at = Timestamptz(null=True, default=None)
    stopped_at = Timestamptz(null=True, default=None)
