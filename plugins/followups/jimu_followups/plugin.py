"""Follow-up records (跟进记录): staff and partners log each contact with a customer and the
date of the next one; a durable timer reminds on that date, the customer profile shows the
facts, and two tag rules mark recently contacted and overdue customers.
"""

from __future__ import annotations

import datetime as dt
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
    TagRule,
    emit,
    hookimpl,
    localized,
)

from jimu_followups import api, services
from jimu_followups.tables import FollowUp

meta = PluginMeta(
    name="followups",
    version="0.1.0",
    title=localized("跟进记录", "Follow-ups"),
    description=localized(
        "记录每次与客户的联系（电话、到店、微信），约定下次联系日期并到期提醒。",
        "Log every contact with a customer (call, visit, WeChat), set the next contact "
        "date and get reminded when it is due."),
    author="Jimu team",
    requires_core=">=1.0,<2",
)


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    # Titles and descriptions are message ids of this plugin's catalog (locale/).
    reminder_hour: Annotated[int, msgspec.Meta(
        ge=0, le=23, title=N_("Reminder hour"),
        description=N_("Hour of the day (your timezone) at which due follow-ups are "
                       "reminded."))] = 9
    recent_days: Annotated[int, msgspec.Meta(
        ge=1, le=365, title=N_("Recently contacted within (days)"),
        description=N_("A customer counts as recently contacted within this many days."))] = 30


@hookimpl
def register_piccolo_app():
    return "jimu_followups.piccolo_app"


@hookimpl
def register_routes():
    return api.ROUTES


@hookimpl
def register_admin_pages():
    return [AdminPage(handler=api.due_page, title=localized("待跟进", "Due follow-ups"),
                      permission="followups.read")]


@hookimpl
def register_menu_items():
    return [MenuItem(key="followups", title=localized("跟进记录", "Follow-ups"),
                     href="/admin/p/followups/", permission="followups.read", order=40,
                     icon="phone")]


@hookimpl
def register_template_dir():
    return str(Path(__file__).parent / "templates")


@hookimpl
def register_translations():
    return str(Path(__file__).parent / "locale")


async def due_today() -> Stat:
    count = await services.due_count(services.today())
    return Stat(value=count, caption=localized("今天及之前到期", "due today or earlier"),
                href="/admin/p/followups/")


@hookimpl
def register_dashboard_widgets():
    return [DashboardWidget(key="due", title=localized("待跟进", "Due follow-ups"),
                            render=due_today, permission="followups.read", order=10)]


@hookimpl
def register_permissions():
    return [
        Permission(key="followups.read", title=localized("查看跟进", "View follow-ups"),
                   default_roles=("admin", "staff", "partner")),
        Permission(key="followups.write", title=localized("记录跟进", "Log follow-ups"),
                   default_roles=("admin", "staff", "partner")),
    ]


@hookimpl
def register_settings_schema():
    return Settings


async def remind(tenant_id: int, note_id: int) -> None:
    note = await FollowUp.scoped_select().where(FollowUp.id == note_id).first()
    if note is not None:
        await emit("followups.reminder_due", {"note_id": note_id,
                                              "customer_id": note["customer_id"],
                                              "next_contact_on": str(note["next_contact_on"])})


@hookimpl
def register_jobs():
    return [Job(name="remind", run=remind, max_retries=3)]


async def forget_customer(event: DomainEvent) -> None:
    await FollowUp.scoped_delete().where(FollowUp.customer_id == event.payload["id"])


@hookimpl
def register_event_handlers():
    return [EventHandler(event_type="customer.deleted", name="forget-customer",
                         handle=forget_customer)]


@hookimpl
async def customer_facts(customer):
    return await services.facts_for(customer["id"])


def _overdue(facts) -> bool:
    due = facts.get("followups.next_contact_on")
    return bool(due) and dt.date.fromisoformat(due) < services.today()


@hookimpl
def register_tag_rules():
    return [
        TagRule(key="followups.recently_contacted",
                title=localized("近期已跟进", "Recently contacted"),
                matches=lambda facts: facts.get("followups.recent_count", 0) > 0),
        TagRule(key="followups.contact_overdue", title=localized("跟进逾期", "Contact overdue"),
                matches=_overdue),
    ]


@hookimpl
def register_demo_data():
    return services.seed_demo
