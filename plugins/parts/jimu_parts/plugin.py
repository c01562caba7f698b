"""Parts library (备件库): spare parts and consumables with stock per warehouse, a movement
ledger that always sums to the stock on hand, reservations with expiry, consumption at the
moving average cost, returns, and the settlement price per tier. Orders reserve, consume and
release their parts through the ``orders.*`` events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from jimu_sdk import (
    N_,
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

from jimu_parts import api, flow_node, pages, services

meta = PluginMeta(
    name="parts",
    version="0.1.0",
    title=localized("备件库", "Parts library"),
    description=localized(
        "备件与耗材的分仓库存、出入库台账、预留（到期自动释放）、领用与退回、移动加权成本，"
        "以及各档位的结算价；订货单自动预留并扣减备件。",
        "Spare parts and consumables with stock per warehouse, a movement ledger, "
        "reservations that expire, consumption and returns at moving average cost, and the "
        "settlement price per tier; partner orders reserve and consume their parts."),
    author="Jimu team",
    requires_core=">=1.0,<2",
    depends=("price_lists",),
)


TierCode = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    reservation_hours: Annotated[int, msgspec.Meta(
        ge=1, le=24 * 365, title=N_("Reservation expiry (hours)"),
        description=N_("A reservation made without an expiry is released after this many "
                       "hours."))] = 72
    order_reservation_hours: Annotated[int, msgspec.Meta(
        ge=1, le=24 * 365, title=N_("Order reservation expiry (hours)"),
        description=N_("The parts of a partner order are held this long; an order completed "
                       "later takes them from available stock."))] = 168
    tier_codes: Annotated[list[TierCode], msgspec.Meta(
        max_length=20, title=N_("Price tiers shown"),
        description=N_("Tier codes whose settlement price the part page shows."))] = (
        msgspec.field(default_factory=lambda: ["A", "B", "C"]))


@hookimpl
def register_piccolo_app():
    return "jimu_parts.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=pages.PartsPages, title=localized("备件库", "Parts library"),
                      permission="parts.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="parts", title=localized("备件库", "Parts library"),
                     href="/admin/p/parts/", permission="parts.read", order=62, icon="box")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="parts.read", title=localized("查看备件库", "View the parts library"),
                   default_roles=("admin", "staff")),
        Permission(key="parts.write", title=localized("管理备件库存", "Manage parts stock"),
                   default_roles=("admin", "staff")),
    ]


@hookimpl
def register_settings_schema():
    return Settings


async def expire_reservation(tenant_id: int, ref: str) -> None:
    await services.expire_reservation(ref)


@hookimpl
def register_workflow_nodes():
    return flow_node.NODE_TYPES


@hookimpl
def register_jobs():
    return [Job(name="expire_reservation", run=expire_reservation, max_retries=5)]


async def order_created(event: DomainEvent) -> None:
    await services.reserve_order(event.payload)


async def order_completed(event: DomainEvent) -> None:
    await services.consume_order(event.payload)


async def order_cancelled(event: DomainEvent) -> None:
    await services.release_order(event.payload)


@hookimpl
def register_event_handlers():
    return [
        EventHandler(event_type="orders.created", name="reserve-parts", handle=order_created,
                     in_transaction=True),
        EventHandler(event_type="orders.completed", name="consume-parts",
                     handle=order_completed, in_transaction=True),
        EventHandler(event_type="orders.cancelled", name="release-parts",
                     handle=order_cancelled, in_transaction=True),
    ]


async def low_stock() -> Stat:
    count = len(await services.stock_overview(low=True))
    return Stat(value=count, caption=localized("低于补货点", "below reorder point"),
                href="/admin/p/parts/?low=1")


@hookimpl
def register_dashboard_widgets():
    return [DashboardWidget(key="low-stock", title=localized("低库存备件", "Low stock"),
                            render=low_stock, permission="parts.read", order=40)]


@hookimpl
def register_demo_data():
    return services.seed_demo
