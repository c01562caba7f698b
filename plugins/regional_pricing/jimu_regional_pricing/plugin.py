"""Regional pricing (区域定价): zones (groups of regions, or geofences drawn as polygons) and
price parameters per region or zone, inherited down the region tree; two price steps apply
them — the region's labour rate for labour items, and the region's price adjustment.
"""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import AdminPage, MenuItem, Permission, PluginMeta, hookimpl, localized

from jimu_regional_pricing import api, pages, services, steps

meta = PluginMeta(
    name="regional_pricing",
    version="0.1.0",
    title=localized("区域定价", "Regional pricing"),
    description=localized(
        "按省/市/区或门店电子围栏设置价格参数（调价比例、工时费），下级区域继承上级，"
        "城市可覆盖省份；华北华南并行不同价格策略。",
        "Price parameters (price adjustment, labour rate) per province, city, district or a "
        "store's geofence, inherited down the region tree — a city overrides its province; "
        "North and South China run their own schemes in parallel."),
    author="Jimu team",
    requires_core=">=1.0,<2",
)


@hookimpl
def register_piccolo_app():
    return "jimu_regional_pricing.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=pages.RegionalPricingPages,
                      title=localized("区域定价", "Regional pricing"),
                      permission="regional_pricing.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="regional_pricing", title=localized("区域定价", "Regional pricing"),
                     href="/admin/p/regional_pricing/", permission="regional_pricing.read",
                     order=60, icon="map")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="regional_pricing.read",
                   title=localized("查看区域定价", "View regional pricing"),
                   default_roles=("admin", "staff")),
        Permission(key="regional_pricing.write",
                   title=localized("管理区域定价", "Manage regional pricing"),
                   default_roles=("admin",)),
    ]


@hookimpl
def register_pricing_steps():
    return steps.STEPS


@hookimpl
async def pricing_facts(contexts):
    return await services.facts_for(contexts)


@hookimpl
def register_demo_data():
    return services.seed_demo
