"""Core tables.

Two kinds: *platform* tables that core code alone reaches, each read through an explicit tenant
filter (tenants, users, sessions, API tokens, outbox, timers, hook failures, the national region
list), and *tenant-owned* tables (``TenantScoped``) that plugins and APIs read through the
scoped query builders, with row-level security as a second wall on PostgreSQL.

Each table annotates piccolo's implicit ``id`` primary key (annotation only, so migrations do
not change) for type checkers.
"""

from __future__ import annotations

from jimu_sdk.tables import TenantScoped
from piccolo.columns import (
    JSON,
    Boolean,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

# ----------------------------------------------------------------------------- platform tables


class Tenant(Table, tablename="core_tenant"):
    id: Serial
    slug = Varchar(length=63, unique=True)
    name = Varchar(length=200)
    status = Varchar(length=16, default="active")  # active | suspended
    template = Varchar(length=63, default="", required=False)
    timezone = Varchar(length=63, default="Asia/Shanghai")
    locale = Varchar(length=16, default="zh-CN")
    theme = Varchar(length=63, default="default")
    config_version = Integer(default=1)
    # Moves on with every platform().invalidate(): a scope that reads the tenant row knows
    # whether its revision tokens of cached data changed without another query.
    data_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="core_user"):
    id: Serial
    tenant_id = Integer(null=True, index=True)  # NULL: platform operator
    username = Varchar(length=150, unique=True)
    display_name = Varchar(length=200, default="")
    email = Varchar(length=254, default="")
    password_hash = Varchar(length=255, secret=True)
    role = Varchar(length=63, default="staff")
    partner_id = Integer(null=True, default=None)
    is_platform_operator = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    locale = Varchar(length=16, default="")  # "": the tenant's language


class UserSession(Table, tablename="core_session"):
    id: Serial
    token_hash = Varchar(length=64, unique=True)
    user_id = Integer(index=True)
    csrf_token = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


class LoginFailure(Table, tablename="core_login_failure"):
    """A failed sign-in, kept for throttling (recorded after the request's rollback)."""

    id: Serial
    username = Varchar(length=150, index=True)
    remote = Varchar(length=64, default="")
    at = Timestamptz(index=True)


class ApiToken(Table, tablename="core_api_token"):
    id: Serial
    tenant_id = Integer(index=True)
    name = Varchar(length=100)
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True, secret=True)
    scopes = JSON(default=[])
    created_by = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class OutboxEvent(Table, tablename="core_outbox"):
    id: Serial
    tenant_id = Integer(null=True, index=True)
    event_type = Varchar(length=100)
    payload = JSON(default={})
    created_at = Timestamptz(default=TimestamptzNow())
    dispatched_at = Timestamptz(null=True, default=None, index=True)
    # Set once every handler of the event ran (or gave up); until then the event is re-sent
    # after a restart of an in-memory broker or when its dispatch lease runs out.
    completed_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)


class ProcessedMessage(Table, tablename="core_processed_message"):
    id: Serial
    key = Varchar(length=255, unique=True)
    processed_at = Timestamptz(default=TimestamptzNow())


class Timer(Table, tablename="core_timer"):
    """A durable "run this job at T": claimed when due, so work grows with what is due."""

    id: Serial

    tenant_id = Integer(null=True, index=True)
    job = Varchar(length=150)
    args = JSON(default={})
    due_at = Timestamptz(index=True)
    key = Varchar(length=255, null=True, default=None, unique=True)
    # pending | running | done | failed | cancelled
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    claimed_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")


class ScheduleState(Table, tablename="core_schedule_state"):
    id: Serial
    name = Varchar(length=255, unique=True)
    cron = Varchar(length=100)
    next_run_at = Timestamptz()


class HookFailure(Table, tablename="core_hook_failure"):
    id: Serial
    tenant_id = Integer(null=True, index=True)
    plugin = Varchar(length=100, index=True)
    hook = Varchar(length=100)
    kind = Varchar(length=16, default="error")  # error | timeout
    error = Text()
    traceback = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class Region(Table, tablename="core_region"):
    """National administrative divisions (GB/T 2260), shared by every tenant, read-only."""

    id: Serial

    code = Varchar(length=12, unique=True)
    name = Varchar(length=100)
    parent_code = Varchar(length=12, null=True, default=None, index=True)
    level = Varchar(length=16, index=True)  # province | city | district


# ----------------------------------------------------------------------------- tenant-owned


class PluginConfig(TenantScoped, Table, tablename="core_plugin_config"):
    id: Serial
    tenant_unique = (("plugin",),)
    plugin = Varchar(length=100)
    enabled = Boolean(default=False)
    settings = JSON(default={})
    updated_at = Timestamptz(default=TimestamptzNow())


class Role(TenantScoped, Table, tablename="core_role"):
    id: Serial
    tenant_unique = (("name",),)
    name = Varchar(length=63)
    title = JSON(default={})
    permissions = JSON(default=[])
    builtin = Boolean(default=False)


class Partner(TenantScoped, Table, tablename="core_partner"):
    """An organisation the tenant works with: dealer (总代/一级/二级), store, installer …"""

    id: Serial

    tenant_unique = (("code",),)
    code = Varchar(length=63)
    name = Varchar(length=200)
    kind = Varchar(length=32, default="dealer")
    level = Varchar(length=32, default="")
    parent_id = Integer(null=True, default=None, index=True)
    region_code = Varchar(length=12, default="")
    contact_phone = Varchar(length=32, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Customer(TenantScoped, Table, tablename="core_customer"):
    """A person the tenant serves; channels and plugins attach their facts to it."""

    id: Serial

    name = Varchar(length=200)
    phone = Varchar(length=32, default="", index=True)
    email = Varchar(length=254, default="")
    level = Varchar(length=32, default="regular")
    partner_id = Integer(null=True, default=None, index=True)
    region_code = Varchar(length=12, default="")
    tags = JSON(default=[])
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class DataRevision(TenantScoped, Table, tablename="core_data_revision"):
    """The revision of a tenant's cached data set (``platform().cached``): a new token on each
    change, so every process sees its in-memory copy went stale."""

    id: Serial
    tenant_unique = (("name",),)
    name = Varchar(length=100)
    token = Varchar(length=32)


class AuditEntry(TenantScoped, Table, tablename="core_audit"):
    id: Serial
    user_id = Integer(null=True, default=None)
    username = Varchar(length=150, default="")
    action = Varchar(length=100, index=True)
    target = Varchar(length=255, default="")
    before = JSON(default=None, null=True)
    after = JSON(default=None, null=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


# ----------------------------------------------------------------------------- flows


class Flow(TenantScoped, Table, tablename="core_flow"):
    """A workflow: a graph of typed nodes, kept as numbered versions (``FlowVersion``)."""

    id: Serial
    tenant_unique = (("code",),)
    code = Varchar(length=63)
    name = Varchar(length=200)
    description = Text(default="")
    # Who owns the runs ("work_orders", …): what a run's subject points at
    subject = Varchar(length=63, default="")
    live_version = Integer(null=True, default=None)  # the published version number
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class FlowVersion(TenantScoped, Table, tablename="core_flow_version"):
    """One version of a flow's graph: draft → published → retired. Only a draft changes."""

    id: Serial
    tenant_unique = (("flow_id", "version"),)
    flow_id = Integer(index=True)
    version = Integer()
    status = Varchar(length=16, default="draft", index=True)  # draft | published | retired
    graph = JSON(default={"nodes": [], "edges": []})
    note = Text(default="")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    published_by = Integer(null=True, default=None)


class FlowRun(TenantScoped, Table, tablename="core_flow_run"):
    """One run of a flow version for a subject (a work order): where it is and what it holds.

    ``revision`` moves on with every change: an action names the revision it saw, and a
    conditional update lets exactly one of two concurrent actions win.
    """

    id: Serial
    flow_id = Integer(index=True)
    version_id = Integer(index=True)
    version = Integer()
    subject = Varchar(length=100, default="", index=True)
    node_id = Varchar(length=63, default="")
    # active (between nodes) | waiting | completed | cancelled | stuck
    status = Varchar(length=16, default="active", index=True)
    stuck_reason = Text(default="")
    data = JSON(default={})
    node_state = JSON(default={})
    actions = JSON(default=[])  # what a person may do at the waiting node
    assignees = JSON(default=[])
    due_at = Timestamptz(null=True, default=None)
    revision = Integer(default=0)
    step_count = Integer(default=0)  # steps on its timeline: the next step's number
    started_by = Integer(null=True, default=None)
    started_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)


class FlowStep(TenantScoped, Table, tablename="core_flow_step"):
    """The timeline of a run: each move, who made it, when, and what changed."""

    id: Serial
    tenant_unique = (("run_id", "seq"),)
    run_id = Integer(index=True)
    seq = Integer()
    kind = Varchar(length=16, default="enter")  # start | enter | action | timer | migrate | …
    from_node = Varchar(length=63, default="")
    node_id = Varchar(length=63, default="")
    outcome = Varchar(length=63, default="")
    action = Varchar(length=63, default="")
    actor_id = Integer(null=True, default=None)
    changes = JSON(default={})
    note = Text(default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)


class Notification(TenantScoped, Table, tablename="core_notification"):
    """An in-app notification for one person: the bell counts it until it is read."""

    id: Serial
    # A key already sent to a person is not sent again (a redelivered event notifies once).
    tenant_unique = (("user_id", "key"),)
    user_id = Integer(index=True)
    title = JSON(default={})  # {"zh-CN": …, "en": …} or {"": plain text}
    body = JSON(default={})
    link = Varchar(length=500, default="")
    level = Varchar(length=16, default="info")  # info | warning | urgent
    source = Varchar(length=63, default="")  # the plugin (or "core") that sent it
    key = Varchar(length=200, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    read_at = Timestamptz(null=True, default=None)


PLATFORM_TABLES: list[type[Table]] = [
    Tenant, User, UserSession, LoginFailure, ApiToken, OutboxEvent, ProcessedMessage, Timer,
    ScheduleState, HookFailure, Region,
]
TENANT_TABLES: list[type[Table]] = [PluginConfig, Role, Partner, Customer, AuditEntry,
                                     DataRevision, Flow, FlowVersion, FlowRun, FlowStep,
                                     Notification]
ALL_TABLES = PLATFORM_TABLES + TENANT_TABLES
