"""Quotations and partner orders (报价单与订货单).

A quotation prices its lines through the platform's pricing pipeline (one call for all
lines), keeps each line's explanation, and goes draft → sent → accepted | rejected | expired,
with versions when revised. Accepting creates a partner order in the same transaction; orders
also come from the API and from CSV/XLSX imports, and emit ``orders.created``,
``orders.completed`` and ``orders.cancelled`` for the parts, projects and price tiers plugins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from jimu_sdk import (
    N_,
    AdminPage,
    DashboardWidget,
    Job,
    MenuItem,
    Permission,
    PluginMeta,
    Schedule,
    Stat,
    hookimpl,
    localized,
)

from jimu_quotations import api, demo, pages, services

meta = PluginMeta(
    name="quotations",
    version="0.1.0",
    title=localized("报价与订货", "Quotations and orders"),
    description=localized(
        "为代理商或客户按区域生成报价单（逐行价格与计价说明、含税合计、有效期、版本），"
        "导出 PDF/XLSX；接受报价即生成订货单，订货单也可通过接口或 CSV/XLSX 导入。",
        "Quotations for a partner or customer in a region (each line's price and its "
        "explanation, totals with tax, valid-until, versions), printable as PDF and XLSX; "
        "accepting one creates a partner order, and orders also come from the API or a "
        "CSV/XLSX import."),
    author="Jimu team",
    requires_core=">=1.0,<2",
    depends=("price_lists",),
)


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    # Titles and descriptions are message ids of this plugin's catalog (locale/).
    valid_days: Annotated[int, msgspec.Meta(
        ge=1, le=365, title=N_("Valid for (days)"),
        description=N_("A new quotation is valid for this many days unless a date is "
                       "given."))] = 15
    company_name: Annotated[str, msgspec.Meta(
        max_length=200, title=N_("Company name on quotations"),
        description=N_("Printed at the top of PDF and XLSX quotations; empty: your "
                       "organisation's name."))] = ""


@hookimpl
def register_piccolo_app():
    return "jimu_quotations.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=page, title=localized("报价与订货", "Quotations"),
                      permission=pages.permission_of(page)) for page in pages.PAGES]


@hookimpl
def register_menu_items():
    return [MenuItem(key="quotations", title=localized("报价与订货", "Quotations"),
                     href="/admin/p/quotations/", permission="quotations.read", order=70,
                     icon="file-text")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


@hookimpl
def register_permissions():
    return [
        Permission(key="quotations.read", title=localized("查看报价与订货", "View quotations"),
                   default_roles=("admin", "staff", "partner")),
        Permission(key="quotations.write",
                   title=localized("编制报价与订货", "Write quotations and orders"),
                   default_roles=("admin", "staff")),
        Permission(key="quotations.import", title=localized("导入订货单", "Import orders"),
                   default_roles=("admin",)),
    ]


@hookimpl
def register_settings_schema():
    return Settings


async def expire(tenant_id: int) -> None:
    await services.expire_due()


@hookimpl
def register_jobs():
    return [Job(name="expire", run=expire, max_retries=3)]


@hookimpl
def register_schedules():
    # 00:05 in Beijing: quotations whose valid-until day has ended become expired.
    return [Schedule(name="expire-quotations", cron="5 16 * * *", job="expire")]


async def open_quotations() -> Stat:
    _, count = await services.list_quotations(status="sent", per_page=1)
    return Stat(value=count, caption=localized("已发出待答复", "sent, awaiting an answer"),
                href="/admin/p/quotations/?status=sent")


@hookimpl
def register_dashboard_widgets():
    return [DashboardWidget(key="open", title=localized("待答复报价", "Open quotations"),
                            render=open_quotations, permission="quotations.read", order=30)]


@hookimpl
def register_demo_data():
    return demo.seed

