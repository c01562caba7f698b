"""What the work order tests share: a tenant with people, customers and teams, and readers of
the outbox and of inboxes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jimu_work_orders.demo import site_photo

PLUGINS = ["flow_nodes", "work_orders"]
BASE = "/api/v1/work_orders"
PNG = site_photo()


@dataclass
class World:
    tenant: Any
    admin: Any
    users: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)


async def world(jimu_platform, *, config=None, people=("wang", "li"), teams=None) -> World:
    """A tenant with staff ``people``, two customers (Beijing, Shanghai) and ``teams``
    (default: 北京安装一组 of wang covering Beijing)."""
    tenant = await jimu_platform.make_tenant(plugins=PLUGINS, config=config)
    admin = await jimu_platform.login(tenant.admin_username)
    here = World(tenant, admin)
    for name in people:
        here.users[name] = await jimu_platform.make_user(tenant, f"{tenant.slug}-{name}")
    for name, region in (("李强", "110105"), ("王芳", "310115")):
        made = await admin.post("/api/v1/customers", json={"name": name, "region_code": region})
        assert made.status_code == 201, made.text
        here.customers[name] = made.json()["id"]
    if teams is None:
        teams = [{"name": "北京安装一组", "members": ["wang"], "skills": ["安装", "维修"],
                  "region_codes": ["110000"]}]
    for team in teams:
        body = {**team, "members": [here.users[m] for m in team.get("members", [])]}
        made = await admin.post(f"{BASE}/teams", json=body)
        assert made.status_code == 201, made.text
        here.teams[team["name"]] = made.json()["id"]
    return here


async def login(jimu_platform, here: World, name: str):
    return await jimu_platform.login(f"{here.tenant.slug}-{name}")


async def create(client, **values) -> dict[str, Any]:
    body = {"title": "空调不制冷", "type": "repair", **values}
    made = await client.post(BASE, json=body)
    assert made.status_code == 201, made.text
    return made.json()


async def upload(client, work_order_id, data=PNG, filename="现场照片.png",
                 content_type="image/png"):
    return await client.post(f"{BASE}/{work_order_id}/attachments",
                             files={"file": (filename, data, content_type)})


async def outbox(jimu_platform, prefix="work_order.") -> list[tuple[str, dict[str, Any]]]:
    from jimu.db.tables import OutboxEvent  # tests only: the outbox is core's table

    async with jimu_platform.kernel.db.transaction():
        rows = await OutboxEvent.select(OutboxEvent.event_type, OutboxEvent.payload).output(
            load_json=True).where(OutboxEvent.event_type.like(prefix + "%")).order_by(
            OutboxEvent.id)
    return [(r["event_type"], r["payload"]) for r in rows]


async def inbox(client) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/notifications", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def is_number(text: str) -> bool:
    return re.fullmatch(r"WO-\d{8}-\d{4}", text) is not None


async def dispatch_flow(admin, code, dispatch_settings):
    """A flow: start → dispatch (these settings) → a form → end; nobody fits → a manual
    dispatch form first."""
    nodes = [{"id": "s", "type": "start"},
             {"id": "d", "type": "assign", "label": "派单", "settings": dispatch_settings},
             {"id": "work", "type": "form", "label": "处理", "settings": {
                 "fields": [{"key": "note", "label": "说明", "kind": "text"}]}},
             {"id": "manual", "type": "form", "label": "人工派单", "settings": {
                 "fields": [{"key": "note", "label": "说明", "kind": "text"}]}},
             {"id": "e", "type": "end"}]
    edges = [{"source": "s", "target": "d"},
             {"source": "d", "target": "work", "outcome": "assigned"},
             {"source": "d", "target": "manual", "outcome": "unassigned"},
             {"source": "work", "target": "e", "outcome": "submitted"},
             {"source": "manual", "target": "work", "outcome": "submitted"}]
    made = await admin.post("/api/v1/flows", json={"code": code, "name": code, "publish": True,
                                                   "graph": {"nodes": nodes, "edges": edges}})
    assert made.status_code == 201, made.text
    return made.json()
