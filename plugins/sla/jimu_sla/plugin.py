"""SLA时效: business calendars, SLA policies, and durable response and resolution clocks for
work orders, with warnings before a breach and escalation on it.

The plugin owns no work orders: it follows the ``work_order.*`` events of the work orders
plugin, keeps its clocks on durable timers (never a periodic scan), and answers with
``sla.warning``, ``sla.breached`` and ``sla.escalate`` events and in-app notifications.
"""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import (
    AdminPage,
    DashboardWidget,
    EventHandler,
    Job,
    MenuItem,
    Permission,
    PluginMeta,
    Stat,
    hookimpl,
    localized,
)

from jimu_sla import api, clocks, demo, pages
from jimu_sla.tables import Clock

meta = PluginMeta(
    name="sla",
    version="0.1.0",
    title=localized("SLA 时效", "SLA"),
    description=localized(
        "按优先级、客户等级和工单类型设定响应与解决时限，按工作日历（含法定节假日与调休）计时；"
        "到达预警比例时提醒处理人，超时即通知升级人员、提升优先级或改派团队。",
        "Response and resolution targets by priority, customer level and work-order type, "
        "counted in business time (working hours, public holidays and make-up working days); "
        "a warning to the assignee before the deadline, and on a breach a notice to the "
        "escalation people, a higher priority or another team."),
    author="Jimu team",
    requires_core=">=1.0,<2",
)

WORK_ORDER_EVENTS = ("created", "updated", "assigned", "moved", "completed", "cancelled")


@hookimpl
def register_piccolo_app():
    return "jimu_sla.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=pages.SlaPages, title=localized("SLA 时效", "SLA"),
                      permission="sla.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="sla", title=localized("SLA 时效", "SLA"), href="/admin/p/sla/",
                     permission="sla.read", order=57, icon="clock")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_static_dir():
    return str(Path(__file__).parent / "static")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="sla.read", title=localized("查看 SLA 时效", "View SLA clocks and reports"),
                   default_roles=("admin", "staff")),
        Permission(key="sla.admin",
                   title=localized("管理 SLA 策略与工作日历", "Manage SLA policies and calendars"),
                   default_roles=("admin",)),
    ]


@hookimpl
def register_jobs():
    # Run by the clocks' durable timers; each checks the clock's generation first.
    return [Job(name="warn", run=clocks.warn, max_retries=5),
            Job(name="breach", run=clocks.breach, max_retries=5)]


@hookimpl
def register_event_handlers():
    return [EventHandler(event_type=f"work_order.{name}", name=f"clock-{name}",
                         handle=clocks.on_work_order_event) for name in WORK_ORDER_EVENTS]


async def overdue_open() -> Stat:
    rows = await Clock.scoped_select(Clock.work_order_id).where(
        (Clock.outcome == "breached") & (Clock.status != "stopped"))
    return Stat(value=len({r["work_order_id"] for r in rows}),
                caption=localized("已超时、仍未完成", "overdue and still open"))


@hookimpl
def register_dashboard_widgets():
    return [DashboardWidget(key="overdue", title=localized("SLA 超时工单", "SLA overdue"),
                            render=overdue_open, permission="sla.read", order=35)]


@hookimpl
def register_demo_data():
    return demo.seed
