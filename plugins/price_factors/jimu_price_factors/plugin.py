"""Price factors (价格因子): promotions, volume and partner-level discounts, seasonal
adjustments, trade-in allowances, logistics / equipment-rental / government subsidies,
cross-border duty, a minimum-price floor, rounding and tax — each configured factor switchable
per region and period, applied in the order of its kind by one pricing step (order 300).
Other plugins add kinds through ``register_price_factor_kinds``; this plugin contributes its
own twelve the same way.
"""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import (
    AdminPage,
    MenuItem,
    Permission,
    PluginMeta,
    PriceStep,
    hookimpl,
    localized,
)

from jimu_price_factors import api, services
from jimu_price_factors.kinds import BUILTIN_KINDS

meta = PluginMeta(
    name="price_factors",
    version="0.1.0",
    title=localized("价格因子", "Price factors"),
    description=localized(
        "促销、批量折扣、以旧换新、物流/设备租赁/政府补贴、跨境关税、最低价、取整和税费等价格因子，"
        "按区域和时段开关，按固定顺序叠加。",
        "Promotions, volume discounts, trade-in allowances, logistics / equipment-rental / "
        "government subsidies, cross-border duty, a price floor, rounding and tax: switched on "
        "per region and period, applied in a fixed order."),
    author="Jimu team",
    requires_core=">=1.0,<2",
)


@hookimpl
def register_piccolo_app():
    return "jimu_price_factors.piccolo_app"


@hookimpl
def register_price_factor_kinds():
    return list(BUILTIN_KINDS)


@hookimpl
def register_pricing_steps():
    return [PriceStep(rule="factors", order=300, prepare=services.prepare_step,
                      title=localized("价格因子", "Price factors"))]


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    title = localized("价格因子", "Price factors")
    return [AdminPage(handler=handler, title=title, permission="price_factors.read")
            for handler in api.PAGE_HANDLERS]


@hookimpl
def register_menu_items():
    return [MenuItem(key="factors", title=localized("价格因子", "Price factors"),
                     href="/admin/p/price_factors/", permission="price_factors.read",
                     order=64, icon="percent")]


@hookimpl
def register_permissions():
    return [
        Permission(key="price_factors.read", title=localized("查看价格因子", "View price factors"),
                   default_roles=("admin", "staff")),
        Permission(key="price_factors.write",
                   title=localized("配置价格因子", "Configure price factors"),
                   default_roles=("admin",)),
    ]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_demo_data():
    return services.seed_demo
