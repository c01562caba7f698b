"""Project library (预置项目库): service packages and campaign packs that consume parts and
labour. A package is priced like an item (mirrored into the price lists), its labour costs
the region's hourly rate, and using it reserves its parts and books their cost.
"""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import (
    AdminPage,
    DomainEvent,
    EventHandler,
    MenuItem,
    Permission,
    PluginMeta,
    PriceStep,
    hookimpl,
    localized,
)

from jimu_projects import api, pages, services

meta = PluginMeta(
    name="projects",
    version="0.1.0",
    title=localized("预置项目库", "Project library"),
    description=localized(
        "可复用的服务套餐与营销活动包（话术、优惠券模板、分群规则），各含所需备件与工时；"
        "套餐按组件计价、工时按区域工时费计，使用时自动预留备件并记入成本。",
        "Reusable service packages and campaign packs (scripts, coupon templates, grouping "
        "rules), each with the parts and labour it consumes; priced from its components with "
        "labour at the region's rate; using one reserves its parts and books their cost."),
    author="Jimu team",
    requires_core=">=1.0,<2",
    depends=("price_lists", "parts"),
)


@hookimpl
def register_piccolo_app():
    return "jimu_projects.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=pages.ProjectPages, title=localized("项目库", "Project library"),
                      permission="projects.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="projects", title=localized("项目库", "Project library"),
                     href="/admin/p/projects/", permission="projects.read", order=63,
                     icon="package")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="projects.read",
                   title=localized("查看项目库", "View the project library"),
                   default_roles=("admin", "staff")),
        Permission(key="projects.write",
                   title=localized("管理项目库", "Manage the project library"),
                   default_roles=("admin", "staff")),
    ]


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="package-labour", order=45, prepare=services.prepare_package_labour,
                      title=localized("套餐工时按区域工时费",
                                      "Package labour at the region's rate"))]


async def order_created(event: DomainEvent) -> None:
    await services.reserve_order(event.payload)


async def order_completed(event: DomainEvent) -> None:
    await services.complete_order(event.payload)


async def order_cancelled(event: DomainEvent) -> None:
    await services.cancel_order(event.payload)


@hookimpl
def register_event_handlers():
    return [
        EventHandler(event_type="orders.created", name="reserve-package-parts",
                     handle=order_created, in_transaction=True),
        EventHandler(event_type="orders.completed", name="book-package-cost",
                     handle=order_completed, in_transaction=True),
        EventHandler(event_type="orders.cancelled", name="release-package-parts",
                     handle=order_cancelled, in_transaction=True),
    ]


@hookimpl
def register_demo_data():
    return services.seed_demo
