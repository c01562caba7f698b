"""A tenant set up for settlement: items with prices and costs, Beijing's labour rate, a dealer
and an installer with a login each, a team dispatching repairs to the installer, the repair
fee schedule and split rules. ``repair`` runs a work order through the repair flow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

PLUGINS = ["price_lists", "regional_pricing", "parts", "flow_nodes", "work_orders",
           "settlement"]
API = "/api/v1/settlement"
WO = "/api/v1/work_orders"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe"
       b"\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


@dataclass
class World:
    tenant: Any
    admin: Any
    installer_client: Any = None
    dealer_client: Any = None
    ids: dict[str, int] = field(default_factory=dict)


async def ok(answer, status=200):
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


async def world(jimu_platform, *, rules=True) -> World:
    from jimu_parts import services as parts
    from jimu_price_lists import public as items

    tenant = await jimu_platform.make_tenant(plugins=PLUGINS)
    admin = await jimu_platform.login(tenant.admin_username)
    here = World(tenant, admin)
    dealer = await ok(await admin.post("/api/v1/partners", json={
        "code": "HB-ZD", "name": "华北总代", "kind": "dealer", "level": "general_agent",
        "region_code": "110105"}), 201)
    installer = await ok(await admin.post("/api/v1/partners", json={
        "code": "BJ-INST", "name": "北京朝阳安装服务商", "kind": "installer",
        "region_code": "110105"}), 201)
    here.ids.update(dealer=dealer["id"], installer=installer["id"])
    here.ids["installer_user"] = await jimu_platform.make_user(
        tenant, f"{tenant.slug}-inst", role="partner", partner_id=installer["id"])
    here.ids["dealer_user"] = await jimu_platform.make_user(
        tenant, f"{tenant.slug}-dealer", role="partner", partner_id=dealer["id"])
    here.installer_client = await jimu_platform.login(f"{tenant.slug}-inst")
    here.dealer_client = await jimu_platform.login(f"{tenant.slug}-dealer")
    customer = await ok(await admin.post("/api/v1/customers", json={
        "name": "李强", "region_code": "110105", "partner_id": dealer["id"]}), 201)
    here.ids["customer"] = customer["id"]
    await ok(await admin.post(f"{WO}/teams", json={
        "name": "朝阳安装队", "members": [here.ids["installer_user"]],
        "region_codes": ["110000"]}), 201)
    async with jimu_platform.as_tenant(tenant):
        await parts.create_warehouse(code="BJ", name="北京仓", region_code="110105")
        await items.upsert_item(sku="LAB-REPAIR", name="维修工时", kind="labour", unit="小时",
                                category="工时", list_price=D("80"), cost=None)
        await items.upsert_item(sku="FILTER", name="滤芯", kind="part", unit="个",
                                category="配件", list_price=D("50"), cost=D("30"))
        await parts.create_part(sku="FILTER", default_warehouse="BJ")
    await ok(await admin.post("/api/v1/parts/receipts", json={
        "warehouse": "BJ", "sku": "FILTER", "quantity": "10", "unit_cost": "28.00"}), 201)
    await ok(await admin.post("/api/v1/regional_pricing/parameters", json={
        "target": "110000", "labour_rate": "120.00", "note": "北京工时"}), 201)
    await ok(await admin.post(f"{API}/fee-schedules", json={
        "work_order_type": "repair", "labour_item": "LAB-REPAIR",
        "fees": [{"key": "callout", "name": "上门费", "amount": "50.00"}],
        "subsidies": [{"key": "suburb", "name": "远郊补贴", "amount": "20.00",
                       "to": "installer", "region_codes": ["110000"]}]}), 201)
    if rules:
        for rule in (
                {"code": "INST-LABOUR", "name": "安装工时分成", "component": "labour",
                 "role": "installer", "value": "70"},
                {"code": "INST-CALLOUT", "name": "上门费归服务商", "component": "fee:callout",
                 "role": "installer", "value": "100"},
                {"code": "DEALER-PARTS", "name": "经销商配件分成", "component": "parts",
                 "role": "dealer", "value": "10"}):
            await ok(await admin.post(f"{API}/split-rules", json=rule), 201)
    return here


async def act(client, order, action, payload=None, status=200):
    answer = await client.post(f"{WO}/{order['id']}/actions", json={
        "action": action, "payload": payload or {}, "revision": order["run"]["revision"]})
    assert answer.status_code == status, answer.text
    return answer.json()


async def repair(jimu_platform, here: World, *, hours="2.5", parts=(("FILTER", "2"),),
                 title="净水器漏水") -> dict[str, Any]:
    """A repair for the dealer's customer in Beijing, done by the installer, confirmed and
    rated; the events are delivered."""
    installer = here.installer_client
    order = await ok(await here.admin.post(WO, json={
        "title": title, "type": "repair", "customer_id": here.ids["customer"],
        "partner_id": here.ids["dealer"], "region_code": "110105"}), 201)
    assert order["assignee_id"] == here.ids["installer_user"]
    photo = await ok(await installer.post(f"{WO}/{order['id']}/attachments",
                                          files={"file": ("现场.png", PNG, "image/png")}), 201)
    order = await act(installer, order, "submit", {
        "fault": "滤芯破裂", "solution": "更换滤芯", "photos": [photo["reference"]],
        "labour_hours": hours})
    order = await act(installer, order, "submit", {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in parts]})
    order = await act(here.admin, order, "approve")
    order = await act(here.admin, order, "submit", {"score": "5"})
    assert order["status"] == "completed"
    await jimu_platform.run_jobs()
    return order


def at(year, month, day, hour=10) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(year, month, day, hour, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(
        dt.UTC)


async def partner(admin, code, name, region, *, kind="dealer", level="general_agent") -> int:
    made = await ok(await admin.post("/api/v1/partners", json={
        "code": code, "name": name, "kind": kind, "level": level, "region_code": region}), 201)
    return made["id"]


ORDER_IDS = iter(range(1000, 10**6))


async def complete_order(jimu_platform, tenant, partner_id, lines, when, *, region=None):
    """Publish ``orders.completed`` exactly as the quotations plugin does, and deliver it.
    ``lines``: (item, category, quantity, amount)."""
    from jimu_sdk import emit

    order_id = next(ORDER_IDS)
    payload = {"order_id": order_id, "order_no": f"SO-2026-{order_id:06d}",
               "partner_id": partner_id, "customer_id": None, "region_code": region,
               "lines": [{"line_no": n, "item": item, "quantity": str(quantity),
                          "unit_price": str(D(amount) / D(quantity)), "amount": str(amount),
                          "category": category}
                         for n, (item, category, quantity, amount) in enumerate(lines, 1)],
               "completed_at": when.isoformat()}
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.completed", payload)
    await jimu_platform.run_jobs()
    return payload


NORTH_LADDER = {
    "code": "HB-LADDER", "name": "华北阶梯返利", "kind": "ladder_rebate", "metric": "quantity",
    "mode": "whole", "unit": "箱", "categories": ["饮料"],
    "region_codes": ["110000", "120000", "130000", "140000", "150000"],
    "bands": [{"min": "0", "max": "1000", "rate": "0"},
              {"min": "1000", "max": "5000", "rate": "1"},
              {"min": "5000", "rate": "2"}]}
SOUTH_SHARE = {
    "code": "HN-SHARE", "name": "华南按订单量分成", "kind": "volume_share",
    "region_codes": ["440000", "450000", "460000"], "share_pct": "3"}


async def run_period(jimu_platform, admin, period):
    run = await ok(await admin.post(f"{API}/periods/{period}/runs"), 201)
    await jimu_platform.run_jobs()
    done = await ok(await admin.get(f"{API}/runs/{run['id']}"))
    assert done["status"] == "completed", done
    return done


async def statement_of(admin, period, partner_id):
    [row] = await ok(await admin.get(f"{API}/statements", params={
        "period": period, "partner_id": partner_id}))
    return await ok(await admin.get(f"{API}/statements/{row['id']}"))
