"""Price tiers (多档位价格): partners get a tier (A/B/C, T1–T4…) from rules on facts — monthly
volume, partner level, city tier, cooperation history — re-evaluated nightly and when an order
completes, with the history kept. Tier prices themselves are price rules of the price_lists
plugin conditioned on the fact ``price_tiers.tier`` that this plugin exposes.
"""

from __future__ import annotations

from pathlib import Path

from jimu_sdk import (
    AdminPage,
    DomainEvent,
    EventHandler,
    Job,
    MenuItem,
    Permission,
    PluginMeta,
    Schedule,
    hookimpl,
    localized,
)

from jimu_price_tiers import api, demo, services

meta = PluginMeta(
    name="price_tiers",
    version="0.1.0",
    title=localized("多档位价格", "Price tiers"),
    description=localized(
        "按月销量、合作伙伴级别、城市等级和合作历史给合作伙伴分档（A/B/C、T1–T4），"
        "每晚和订单完成时重新评定并保留历史；档位价格由价格规则按档位设置。",
        "Assign partners a tier (A/B/C, T1–T4) by monthly volume, partner level, city tier "
        "and cooperation history, re-evaluated nightly and when an order completes, with "
        "history; tier prices are price rules conditioned on the tier."),
    author="Jimu team",
    requires_core=">=1.0,<2",
)


@hookimpl
def register_piccolo_app():
    return "jimu_price_tiers.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    title = localized("多档位", "Price tiers")
    return ([AdminPage(handler=h, title=title, permission="price_tiers.read")
             for h in api.READ_PAGES]
            + [AdminPage(handler=h, title=title, permission="price_tiers.write")
               for h in api.WRITE_PAGES])


@hookimpl
def register_menu_items():
    return [MenuItem(key="price_tiers", title=localized("多档位", "Price tiers"),
                     href="/admin/p/price_tiers/", permission="price_tiers.read", order=62,
                     icon="layers")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="price_tiers.read", title=localized("查看档位", "View price tiers"),
                   default_roles=("admin", "staff")),
        Permission(key="price_tiers.write",
                   title=localized("管理档位与规则", "Manage price tiers and rules"),
                   default_roles=("admin",)),
    ]


async def evaluate_all(tenant_id: int) -> None:
    await services.evaluate()


@hookimpl
def register_jobs():
    return [Job(name="evaluate_all", run=evaluate_all, max_retries=3)]


@hookimpl
def register_schedules():
    # Cron is UTC: 18:00 UTC is 02:00 in China (Asia/Shanghai).
    return [Schedule(name="nightly-evaluation", cron="0 18 * * *", job="evaluate_all")]


async def order_completed(event: DomainEvent) -> None:
    if event.payload.get("partner_id") is None:
        return  # a customer's order: no partner volume to count
    lines = services.lines_from_event(event.payload)
    await services.record_volumes(lines)
    await services.evaluate([int(event.payload["partner_id"])])


@hookimpl
def register_event_handlers():
    return [EventHandler(event_type="orders.completed", name="record-volume",
                         handle=order_completed)]


@hookimpl
async def pricing_facts(contexts):
    return await services.pricing_facts(contexts)


@hookimpl
def register_demo_data():
    return demo.seed_demo
