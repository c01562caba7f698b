"""Follow-up logic, free of HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from jimu_sdk import NotFound, ValidationFailed, current_scope, emit, platform

from jimu_followups.tables import FollowUp

CHANNELS = ("phone", "visit", "wechat", "other")


def today() -> dt.date:
    """Today in the tenant's timezone, by the platform clock."""
    return platform().now().astimezone(ZoneInfo(platform().timezone())).date()


def _settings() -> dict[str, Any]:
    return dict(platform().settings("followups"))


async def log_follow_up(*, customer_id: int, body: str, channel: str,
                        next_contact_on: dt.date | None) -> dict[str, Any]:
    if channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if not body.strip():
        raise ValidationFailed("write what was discussed", field="body")
    await platform().get_customer(customer_id)  # 404 unless visible to the caller
    if next_contact_on is not None and next_contact_on < today():
        raise ValidationFailed("the next contact date is in the past", field="next_contact_on")
    scope = current_scope()
    row = await FollowUp.scoped_insert(
        customer_id=customer_id, author_id=scope.user_id if scope else None, channel=channel,
        body=body.strip(), next_contact_on=next_contact_on, created_at=platform().now())
    if next_contact_on is not None:
        hour = _settings().get("reminder_hour", 9)
        when = dt.datetime.combine(next_contact_on, dt.time(hour),
                                   ZoneInfo(platform().timezone())).astimezone(dt.UTC)
        await platform().schedule_at(when, "followups.remind", {"note_id": row["id"]},
                                     key=f"followups:{row['id']}")
    await emit("followups.logged", {"note_id": row["id"], "customer_id": customer_id})
    return row


async def delete_follow_up(note_id: int) -> None:
    row = await (await visible_notes()).where(FollowUp.id == note_id).first()
    if row is None:
        raise NotFound(f"follow-up {note_id} not found")
    await FollowUp.scoped_delete().where(FollowUp.id == note_id)
    await platform().cancel_timer(f"followups:{note_id}")


async def facts_for(customer_id: int) -> dict[str, Any]:
    recent_days = _settings().get("recent_days", 30)
    since = platform().now() - dt.timedelta(days=recent_days)
    recent = await FollowUp.scoped_count().where(
        (FollowUp.customer_id == customer_id) & (FollowUp.created_at >= since))
    latest = await FollowUp.scoped_select(FollowUp.created_at, FollowUp.next_contact_on).where(
        FollowUp.customer_id == customer_id).order_by(FollowUp.id, ascending=False).first()
    return {
        "followups.recent_count": recent,
        "followups.last_at": latest["created_at"].isoformat() if latest else None,
        "followups.next_contact_on": (latest["next_contact_on"].isoformat()
                                      if latest and latest["next_contact_on"] else None),
    }


async def visible_notes():
    """Follow-ups the caller may see: a partner user sees only its customers' notes."""
    query = FollowUp.scoped_select()
    visible = await platform().visible_customer_ids()
    if visible is not None:
        query = query.where(FollowUp.customer_id.is_in(visible or [-1]))
    return query


async def due_on(day: dt.date) -> list[dict[str, Any]]:
    query = await visible_notes()
    return await query.where(FollowUp.next_contact_on <= day).order_by(FollowUp.next_contact_on)


async def due_count(day: dt.date) -> int:
    return len(await due_on(day))


async def seed_demo(tenant_id: int) -> None:
    now = platform().now()
    samples = [("phone", "询问保养套餐价格，约周末到店", 2),
               ("visit", "到店试用新品，满意度高", None),
               ("wechat", "咨询以旧换新政策", 7)]
    customers = await platform().list_customers(limit=len(samples))
    for customer, (channel, body, days) in zip(customers, samples, strict=False):
        await log_follow_up(customer_id=customer["id"], channel=channel, body=body,
                            next_contact_on=(now + dt.timedelta(days=days)).date()
                            if days else None)
