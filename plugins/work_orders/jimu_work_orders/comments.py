"""Comments on work orders, with @mentions: ``@username`` in the text, or user ids given
with it; everyone mentioned (but the author) gets an in-app notification."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from jimu_sdk import N_, ValidationFailed, localized, platform

from jimu_work_orders import services
from jimu_work_orders.tables import Comment, WorkOrder

MAX_BODY = 5000
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_.-]{0,62})")


async def _mentioned(body: str, given: Sequence[int]) -> list[int]:
    """Ids of the people named, in order: given ids first (each must be a user of this
    tenant), then ``@username`` in the text (unknown names are left as text)."""
    ids = list(dict.fromkeys(given))
    if ids:
        known = {u["id"] for u in await platform().list_users(ids)}
        errors = [{"field": f"mentions[{i}]", "message": f"user {u} not found"}
                  for i, u in enumerate(ids) if u not in known]
        if errors:
            raise ValidationFailed(N_("mention people of this organisation"), errors=errors)
    names = {m.group(1).lower().rstrip(".") for m in MENTION.finditer(body)}
    if names:
        for user in await platform().list_users():
            if user["username"].lower() in names and user["id"] not in ids:
                ids.append(user["id"])
    return ids


async def add_comment(work_order_id: int, body: str, *, mentions: Sequence[int] = ()
                      ) -> dict[str, Any]:
    row = await services.row_of(work_order_id)
    text = (body or "").strip()
    if not text:
        raise ValidationFailed(N_("write something"), field="body")
    if len(text) > MAX_BODY:
        raise ValidationFailed(N_("a comment has at most %(max)s characters"), field="body",
                               params={"max": MAX_BODY})
    people = await _mentioned(text, mentions)
    author = services.user_id()
    comment = await Comment.scoped_insert(work_order_id=work_order_id, author_id=author,
                                          body=text, mentions=people,
                                          created_at=services.now())
    await WorkOrder.scoped_update({WorkOrder.updated_at: services.now()}).where(
        WorkOrder.id == work_order_id)
    told = [p for p in people if p != author]
    if told:
        who = ""
        if author is not None:
            found = await platform().list_users([author], active_only=False)
            who = (found[0].get("display_name") or found[0]["username"]) if found else ""
        number = row["number"]
        await platform().notify(
            told,
            localized(f"{who or '有人'}在工单 {number} 中提到了你",
                      f"{who or 'Someone'} mentioned you on work order {number}"),
            body=text[:300], link=f"/admin/p/work_orders/{work_order_id}",
            key=f"work_orders:comment:{comment['id']}")
    return comment


async def list_comments(work_order_id: int) -> list[dict[str, Any]]:
    await services.row_of(work_order_id)
    return await Comment.scoped_select().where(Comment.work_order_id == work_order_id
                                               ).order_by(Comment.id)
