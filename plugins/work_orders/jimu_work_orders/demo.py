"""Demo data: teams (北京安装一组, 上海服务组, and the Suzhou installer's own), the equipment
repair flow, and seven work orders in different states: dispatched by region, accepted,
waiting for the customer's confirmation with a site photo, completed, dispatched by hand,
cancelled, and the Suzhou installer's completed repair."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import struct
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from jimu_sdk import JimuError, current_scope, platform, use_scope

from jimu_work_orders import attachments, presets, services, teams

log = logging.getLogger(__name__)


def site_photo() -> bytes:
    """A small PNG (a grey square) standing in for a photo taken on site."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    width = height = 8
    rows = b"".join(b"\x00" + b"\x99\x99\x99" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


async def _as(user: int | None, work: Callable[[], Awaitable[Any]]) -> Any:
    """Do ``work`` as ``user`` (the demo seeder itself acts as nobody in particular)."""
    scope = current_scope()
    if user is None or scope is None:
        return await work()
    with use_scope(dataclasses.replace(scope, user_id=user)):
        return await work()


async def _try(what: str, work: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await work()
    except JimuError as exc:
        log.warning("demo work order step skipped (%s): %s", what, exc.message)
        return None


async def seed(tenant_id: int) -> None:
    users = await platform().list_users()
    staff = [u["id"] for u in users if u["role"] == "staff"]
    admins = [u["id"] for u in users if u["role"] == "admin"]
    beijing = await _try("team", lambda: teams.create_team(
        name="北京安装一组", members=staff or admins, skills=["安装", "维修"],
        region_codes=["110000"]))
    await _try("team", lambda: teams.create_team(
        name="上海服务组", members=admins, skills=["维修", "保养"], region_codes=["310000"]))
    partners = {p["code"]: p["id"] for p in await platform().list_partners()}
    installers = [u["id"] for u in users
                  if u["role"] == "partner" and u.get("partner_id") == partners.get("SZ-INST-01")]
    if installers:
        await _try("team", lambda: teams.create_team(
            name="苏州吴中安装服务商", members=installers, skills=["安装", "维修"],
            region_codes=["320500"]))
    await presets.ensure_installed(presets.REPAIR_FLOW_CODE)
    customers = {c["name"]: c for c in await platform().list_customers(limit=100)}

    def customer(name: str) -> int | None:
        return customers[name]["id"] if name in customers else None

    async def create(**values: Any) -> dict[str, Any] | None:
        return await _try("create", lambda: services.create_work_order(type="repair", **values))

    # 1. Beijing, urgent: dispatched by region to the Beijing team, waiting on site.
    await create(title="中央空调不制冷，需上门检修", priority="urgent",
                 customer_id=customer("李强"), region_code="110105", amount="8800.00",
                 description="客户反映三楼会议室空调出风不凉，已持续两天。")
    # 2. Beijing: accepted by its assignee.
    accepted = await create(title="商用冰柜压缩机异响", priority="high",
                            customer_id=customer("赵敏"), region_code="110108",
                            amount="1200.00")
    if accepted is not None and accepted["assignee_id"] is not None:
        await _as(accepted["assignee_id"], lambda: _try(
            "accept", lambda: services.accept(accepted["id"])))
    # 3. Shanghai: repaired, a site photo attached, waiting for the customer to confirm.
    waiting = await create(title="燃气灶点火故障", priority="high",
                           customer_id=customer("王芳"), region_code="310115",
                           amount="260.00")
    if waiting is not None:
        await _repair(waiting, "点火针积碳，无法打火", "清理点火针并更换电池，试火正常")
    # 4. Beijing: completed, confirmed and rated by the customer.
    done = await create(title="净水器滤芯更换", priority="normal",
                        customer_id=customer("李强"), region_code="110105", amount="380.00")
    if done is not None and await _repair(done, "滤芯到期，出水变慢", "更换三级滤芯并冲洗") \
            and await _step(done, "confirm", "approve", {"comment": "客户已确认完工"}):
        await _step(done, "rate", "submit", {"score": "5", "comment": "师傅准时，换得很干净"})
    # 5. Langfang: no team covers Hebei, so it waits for a dispatcher; appointment set.
    await create(title="新店设备安装预约", priority="low", customer_id=customer("张伟"),
                 region_code="131000",
                 scheduled_at=services.now() + dt.timedelta(days=3))
    # 6. Guangzhou: the customer called it off.
    called_off = await create(title="热水器漏水", priority="normal",
                              customer_id=customer("陈静"), region_code="440106")
    if called_off is not None:
        await _try("cancel", lambda: services.cancel(called_off["id"],
                                                     reason="客户已自行处理"))
    # 7. Suzhou: the installer's own repair, done and confirmed (its fee shows at once).
    suzhou = await create(title="商用净水设备漏水维修", priority="normal",
                          customer_id=customer("刘洋"), region_code="320506", amount="450.00")
    if suzhou is not None and await _repair(suzhou, "进水阀老化漏水", "更换进水阀并试压") \
            and await _step(suzhou, "confirm", "approve", {"comment": "客户已确认完工"}):
        await _step(suzhou, "rate", "submit", {"score": "5", "comment": "上门及时"})
    if beijing is None:
        log.warning("demo teams were not created")


async def _repair(row: dict[str, Any], fault: str, solution: str) -> bool:
    """The assignee fills the on-site form with a photo; the run moves to confirmation."""
    photo = await _try("photo", lambda: attachments.upload(
        row["id"], filename="现场照片.png", content_type="image/png", data=site_photo()))
    if photo is None:
        return False
    payload = {"fault": fault, "solution": solution, "labour_hours": "1.5",
               "photos": [attachments.reference(photo["id"])]}
    if not await _step(row, "repair", "submit", payload):
        return False
    # With the parts library on, the repair records the parts used next (none here).
    return await _step(row, "parts", "submit", {"lines": []}, only_there=True)


async def _step(row: Mapping[str, Any], node: str, action: str, payload: Mapping[str, Any],
                *, only_there: bool = False) -> bool:
    """Do ``action`` at ``node`` as the person the step waits for (the seeder is nobody)."""
    run = await platform().flow_run(row["run_id"])
    if run["node_id"] != node:
        return only_there
    who = run["assignees"][0] if run["assignees"] else row["assignee_id"]
    done = await _as(who, lambda: _try(node, lambda: services.act(row["id"], action, payload)))
    return done is not None
