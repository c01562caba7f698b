"""Plugin entry point of priority_rules (优先级规则)."""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import (
    AdminPage,
    DomainEvent,
    EventHandler,
    MenuItem,
    Permission,
    PluginMeta,
    hookimpl,
    localized,
)

from jimu_priority_rules import api, demo, pages, services

meta = PluginMeta(
    name="priority_rules",
    version="0.1.0",
    title=localized("优先级规则", "Priority rules"),
    description=localized(
        "按条件（如订单金额 > 5000、客户等级为铂金）把新工单设为紧急，全平台标红显示，"
        "并立即通知客服、物流、售后等部门。",
        "Conditions (order amount > 5000, platinum customer…) that make a new work order "
        "urgent — shown in red everywhere — and notify customer service, logistics and "
        "after-sales at once."),
    author="Jimu team",
    requires_core=">=1.0,<2",
    depends=("work_orders",),
)


@hookimpl
def register_piccolo_app():
    return "jimu_priority_rules.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=pages.RulePages, title=localized("优先级规则", "Priority rules"),
                      permission="priority_rules.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="priority_rules", title=localized("优先级规则", "Priority rules"),
                     href="/admin/p/priority_rules/", permission="priority_rules.read",
                     order=56, icon="flag")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="priority_rules.read", title=localized("查看优先级规则",
                                                              "View priority rules"),
                   default_roles=("admin", "staff")),
        Permission(key="priority_rules.write", title=localized("管理优先级规则",
                                                               "Manage priority rules"),
                   default_roles=("admin",)),
    ]


async def work_order_created(event: DomainEvent) -> None:
    await services.apply(event.payload)


@hookimpl
def register_event_handlers():
    # In the creating transaction: the work order is urgent (and the departments told) the
    # moment it exists, not when a worker gets to the event.
    return [EventHandler(event_type="work_order.created", name="apply-priority-rules",
                         handle=work_order_created, in_transaction=True)]


@hookimpl
def register_demo_data():
    return demo.seed
