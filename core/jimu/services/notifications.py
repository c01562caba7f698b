"""In-app notifications: one row per person, counted by the bell until read, live on open pages.

Plugins send them with ``platform().notify(...)`` in their own transaction, so a notification
exists exactly when the change that caused it committed. Open pages learn of new ones through
``GET /api/v1/notifications/stream`` (server-sent events): each stream checks the database
when this process has just sent a notification and every few seconds otherwise (another
process may have sent one), with one indexed query on (tenant, user).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from jimu_sdk.context import current_tenant_id
from jimu_sdk.errors import NotFound, ValidationFailed
from jimu_sdk.types import N_

from jimu.db.tables import Notification, User

LEVELS = ("info", "warning", "urgent")
MAX_TITLE = 200
MAX_BODY = 2000
MAX_RECIPIENTS = 1000
FIELDS = (Notification.id, Notification.title, Notification.body, Notification.link,
          Notification.level, Notification.source, Notification.created_at,
          Notification.read_at)


def _text(value: str | Mapping[str, str], field: str, limit: int) -> dict[str, str]:
    """Plain text is stored under ``""`` (shown as is in every language)."""
    text = {"": value} if isinstance(value, str) else dict(value)
    for language, part in text.items():
        if not isinstance(part, str):
            raise ValidationFailed(N_("%(field)s must be text"), field=field,
                                   params={"field": field})
        if len(part) > limit:
            raise ValidationFailed(N_("%(field)s is longer than %(limit)s characters"),
                                   field=field, params={"field": field, "limit": limit})
        if language and language not in ("zh-CN", "en"):
            raise ValidationFailed(N_("%(field)s has an unknown language %(language)s"),
                                   field=field, params={"field": field,
                                                        "language": language})
    return text


async def send(user_ids: Sequence[int], title: str | Mapping[str, str], *,
               body: str | Mapping[str, str] = "", link: str = "", level: str = "info",
               key: str | None = None, source: str = "", now: dt.datetime) -> int:
    """Write one notification per active person of this tenant among ``user_ids``."""
    if level not in LEVELS:
        raise ValidationFailed(N_("level must be one of %(levels)s"), field="level",
                               params={"levels": ", ".join(LEVELS)})
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValidationFailed(N_("link must be a path inside the platform, such as "
                                  "/admin/p/work_orders/42"), field="link")
    title_text = _text(title, "title", MAX_TITLE)
    if not any(title_text.values()):
        raise ValidationFailed(N_("a notification needs a title"), field="title")
    body_text = _text(body, "body", MAX_BODY) if body else {}
    wanted = sorted({int(user_id) for user_id in user_ids})
    if len(wanted) > MAX_RECIPIENTS:
        raise ValidationFailed(N_("a notification goes to at most %(limit)s people at once"),
                               field="user_ids", params={"limit": MAX_RECIPIENTS})
    if not wanted:
        return 0
    tenant_id = current_tenant_id()
    rows = await User.select(User.id).where(
        User.id.is_in(wanted) & (User.tenant_id == tenant_id) & (User.is_active == True))  # noqa: E712
    recipients = {row["id"] for row in rows}
    if key is not None:
        already = await Notification.scoped_select(Notification.user_id).where(
            (Notification.key == key) & Notification.user_id.is_in(wanted))
        recipients -= {row["user_id"] for row in already}
    if not recipients:
        return 0
    await Notification.insert(*[
        Notification(tenant_id=tenant_id, user_id=user_id, title=title_text, body=body_text,
                     link=link, level=level, source=source, key=key, created_at=now)
        for user_id in sorted(recipients)])
    return len(recipients)


async def unread_count(user_id: int) -> int:
    return await Notification.scoped_count().where(
        (Notification.user_id == user_id) & Notification.read_at.is_null())


async def latest(user_id: int, *, after_id: int = 0, unread_only: bool = False,
                 limit: int = 50, before_id: int | None = None) -> list[dict[str, Any]]:
    where = [Notification.user_id == user_id]
    if after_id:
        where.append(Notification.id > after_id)
    if before_id:
        where.append(Notification.id < before_id)
    if unread_only:
        where.append(Notification.read_at.is_null())
    return await Notification.scoped_select(*FIELDS).where(*where).order_by(
        Notification.id, ascending=False).limit(limit)


async def newest_id(user_id: int) -> int:
    row = await Notification.scoped_select(Notification.id).where(
        Notification.user_id == user_id).order_by(Notification.id, ascending=False).first()
    return row["id"] if row else 0


async def mark_read(user_id: int, notification_id: int, *, now: dt.datetime) -> dict[str, Any]:
    """Mark one of the person's own notifications read (another person's is not found)."""
    row = await Notification.scoped_select(*FIELDS).where(
        (Notification.id == notification_id) & (Notification.user_id == user_id)).first()
    if row is None:
        raise NotFound(N_("notification %(id)s not found"), params={"id": notification_id})
    if row["read_at"] is None:
        await Notification.scoped_update({Notification.read_at: now}).where(
            Notification.id == notification_id)
        row["read_at"] = now
    return row


async def mark_all_read(user_id: int, *, now: dt.datetime) -> int:
    count = await unread_count(user_id)
    if count:
        await Notification.scoped_update({Notification.read_at: now}).where(
            (Notification.user_id == user_id) & Notification.read_at.is_null())
    return count
