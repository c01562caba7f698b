"""Smart work orders (智能工单).

A work order is the subject of a flow run: creating one starts the live version of its type's
flow, and its status follows the run. The plugin adds the dispatch node (派单) that gives work
orders to teams and people by team, skill, region, load or in turn; comments with @mentions;
attachments on local disk or S3; teams; saved filters; a calendar and my queue. It publishes
``work_order.created|updated|assigned|moved|completed|cancelled`` for settlement, SLA and
automation plugins.
"""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import (
    AdminPage,
    DashboardWidget,
    DomainEvent,
    EventHandler,
    Job,
    MenuItem,
    Permission,
    PluginMeta,
    Stat,
    hookimpl,
    localized,
)

from jimu_work_orders import (
    api,
    attachments,
    demo,
    dispatch,
    pages,
    presets_pages,
    services,
    sla_events,
)
from jimu_work_orders.settings import Settings

meta = PluginMeta(
    name="work_orders",
    version="0.1.0",
    title=localized("智能工单", "Work orders"),
    description=localized(
        "工单按类型走流程（派单、现场表单、审批），状态随流程自动流转；按班组、技能、区域、"
        "负载或轮流派单并通知；评论可 @ 同事，附件存本地磁盘或 S3；批量操作、日历、我的待办"
        "与常用筛选。",
        "Work orders run their type's flow (dispatch, on-site forms, approvals) and follow "
        "it; dispatch by team, skill, region, load or in turn, with notifications; comments "
        "with @mentions, attachments on local disk or S3; bulk actions, a calendar, my queue "
        "and saved filters."),
    author="Jimu team",
    requires_core=">=1.0,<2",
    depends=("flow_nodes",),
)


@hookimpl
def register_piccolo_app():
    return "jimu_work_orders.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="work_orders.read", title=localized("查看工单", "View work orders"),
                   default_roles=("admin", "staff", "partner")),
        Permission(key="work_orders.write",
                   title=localized("创建与调度工单", "Create and dispatch work orders"),
                   default_roles=("admin", "staff")),
        Permission(key="work_orders.act",
                   title=localized("处理工单（接单、填报、评论、附件）",
                                   "Work on work orders (accept, fill in, comment, attach)"),
                   default_roles=("admin", "staff", "partner")),
        Permission(key="work_orders.admin",
                   title=localized("管理班组", "Manage teams"), default_roles=("admin",)),
    ]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_static_dir():
    return str(Path(__file__).parent / "static")


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=presets_pages.PresetPages,
                      title=localized("预置流程", "Preset flows"), permission="work_orders.admin"),
            AdminPage(handler=pages.WorkOrderPages, title=localized("工单", "Work orders"),
                      permission="work_orders.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="work_orders", title=localized("工单", "Work orders"),
                     href="/admin/p/work_orders/", permission="work_orders.read", order=50,
                     icon="clipboard"),
            MenuItem(key="work_orders_queue", title=localized("我的待办", "My queue"),
                     href="/admin/p/work_orders/queue", permission="work_orders.act", order=51,
                     icon="inbox"),
            MenuItem(key="work_orders_presets", title=localized("预置流程", "Preset flows"),
                     href="/admin/p/work_orders/presets", permission="work_orders.admin",
                     order=52, icon="layers")]


@hookimpl
def register_settings_schema():
    return Settings


@hookimpl
def register_workflow_nodes():
    return dispatch.NODE_TYPES


async def follow_run(event: DomainEvent) -> None:
    await services.follow_flow_event(event.payload)


async def sla_warning(event: DomainEvent) -> None:
    await sla_events.alert(event.payload, "warning")


async def sla_breached(event: DomainEvent) -> None:
    await sla_events.alert(event.payload, "breached")


async def sla_escalate(event: DomainEvent) -> None:
    await sla_events.escalate(event.payload)


@hookimpl
def register_event_handlers():
    following = [EventHandler(event_type=kind, name=f"follow-{kind.split('.')[1]}",
                              handle=follow_run)
                 for kind in ("flow.moved", "flow.waiting", "flow.completed", "flow.cancelled",
                              "flow.stuck")]
    # The SLA plugin's events, when it is on (work orders do not depend on it).
    return [*following,
            EventHandler(event_type="sla.warning", name="show-sla-warning", handle=sla_warning),
            EventHandler(event_type="sla.breached", name="show-sla-breach", handle=sla_breached),
            EventHandler(event_type="sla.escalate", name="escalate", handle=sla_escalate)]


async def purge_attachment(tenant_id: int, key: str) -> None:
    await attachments.purge(key)


@hookimpl
def register_jobs():
    return [Job(name="purge_attachment", run=purge_attachment, max_retries=5)]


async def my_open_work() -> Stat:
    _, count = await services.my_queue(per_page=1)
    return Stat(value=count, caption=localized("待我处理", "waiting for me"))


@hookimpl
def register_dashboard_widgets():
    return [DashboardWidget(key="queue", title=localized("我的工单", "My work orders"),
                            render=my_open_work, permission="work_orders.read", order=20)]


@hookimpl
def register_demo_data():
    return demo.seed
