"""Settlement (结算): work-order revenue, rebates and shares, period statements, the ledger.

The plugin owns no orders and no work orders: it books what the ``orders.completed`` and
``work_order.completed`` events carry, shares work-order revenue through the pricing hook's
revenue split (its own split rules are split steps), and settles each month per partner.
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
    hookimpl,
    localized,
)

from jimu_settlement import (
    api,
    cli,
    config_pages,
    demo,
    export_routes,
    ledger,
    pages,
    revenue,
    runs,
    split_rules,
)

meta = PluginMeta(
    name="settlement",
    version="0.1.0",
    title=localized("结算", "Settlement"),
    description=localized(
        "工单完工即按区域工时价、档位配件价、上门费与补贴计算收益，并在企业、经销商与安装服务商之间"
        "分成，各方实时可见；阶梯返利与按订单量分成按区域并行；按月生成结算单（确认、异议、付款），"
        "关账后迟到单据结转下期；台账可追溯到每张单据，导出 PDF/XLSX，图表看板。",
        "When a work order completes, its revenue — labour at the region's rate, parts at the "
        "partner's tier, call-out fees and subsidies — is split between the enterprise, the "
        "dealer and the installer, each seeing its part at once; ladder rebates and "
        "order-volume shares run side by side by region; monthly statements per partner "
        "(confirmed, disputed, paid), closed periods with late documents carried forward, a "
        "ledger tracing every amount to its document, PDF/XLSX exports and dashboards."),
    author="Jimu team",
    requires_core=">=1.0,<2",
    depends=("price_lists",),
)


async def on_order_completed(event: DomainEvent) -> None:
    await ledger.book_order(event.payload)


async def on_work_order_completed(event: DomainEvent) -> None:
    await revenue.book_work_order(event.payload)


@hookimpl
def register_piccolo_app():
    return "jimu_settlement.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES + export_routes.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=pages.SettlementPages, title=localized("结算", "Settlement"),
                      permission="settlement.read"),
            AdminPage(handler=config_pages.SettlementConfigPages,
                      title=localized("结算配置", "Settlement configuration"),
                      permission="settlement.admin")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="settlement", title=localized("结算", "Settlement"),
                     href="/admin/p/settlement/", permission="settlement.read", order=75,
                     icon="wallet")]


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_permissions():
    return [
        Permission(key="settlement.read",
                   title=localized("查看结算、收益与台账", "View settlement, revenue and ledger"),
                   default_roles=("admin", "staff", "partner")),
        Permission(key="settlement.admin",
                   title=localized("管理收费标准、分成与返利政策、结算期与结算单",
                                   "Manage fee schedules, split rules, programmes, periods and "
                                   "statements"),
                   default_roles=("admin",)),
        Permission(key="settlement.reports",
                   title=localized("查看结算看板（收入、毛利、返利计提与每单利润）",
                                   "View the settlement dashboard (revenue, margin, accruals "
                                   "and the profit of each order)"),
                   default_roles=("admin", "staff")),
        Permission(key="settlement.confirm",
                   title=localized("确认或异议本方结算单", "Confirm or dispute own statements"),
                   default_roles=("partner",)),
    ]


@hookimpl
def register_event_handlers():
    return [EventHandler(event_type="orders.completed", name="book-order",
                         handle=on_order_completed),
            EventHandler(event_type="work_order.completed", name="book-work-order",
                         handle=on_work_order_completed)]


@hookimpl
def register_jobs():
    # Reports progress in short transactions of its own; writes its result in one.
    return [Job(name="run", run=runs.run_job, max_retries=0, time_limit_ms=1_800_000,
                transaction=False)]


@hookimpl
def register_cli_commands():
    return cli.COMMANDS


@hookimpl
def register_demo_data():
    return demo.seed


@hookimpl
def register_revenue_split_steps():
    return split_rules.STEPS


