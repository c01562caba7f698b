"""The parts node: a flow reserves parts (or takes its "short" edge, holding nothing), the
assignee records the parts used on site and they leave stock at the moving average cost, what
was reserved and not used goes back."""

from decimal import Decimal as D

import pytest
from jimu_flow_nodes import plugin as flow_nodes
from jimu_parts import plugin, services
from jimu_price_lists import plugin as price_lists
from jimu_price_lists import public as price_lists_public
from test_parts import receive


async def setup(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["price_lists", "parts", "flow_nodes"])
    admin = await jimu_platform.login(tenant.admin_username)
    async with jimu_platform.as_tenant(tenant):
        await services.create_warehouse(code="SH", name="上海仓", region_code="310115")
        for sku, kind in (("OIL-FILTER", "part"), ("OIL-5W30-1L", "consumable")):
            await price_lists_public.upsert_item(sku=sku, name=sku, kind=kind, unit="个",
                                                 category="保养配件", list_price=D("50"),
                                                 cost=D("30"))
            await services.create_part(sku=sku, default_warehouse="SH")
    return tenant, admin


@pytest.fixture
def jimu_plugins():
    return [price_lists, plugin, flow_nodes]


def repair_flow(reserve_lines):
    return {"nodes": [
        {"id": "s", "type": "start"},
        {"id": "hold", "type": "parts", "settings": {"mode": "reserve", "lines": reserve_lines}},
        {"id": "used", "type": "parts", "settings": {"mode": "consume", "ask": True}},
        {"id": "buy", "type": "end", "label": "采购"},
        {"id": "e", "type": "end"}],
        "edges": [{"source": "s", "target": "hold"},
                  {"source": "hold", "target": "used", "outcome": "reserved"},
                  {"source": "hold", "target": "buy", "outcome": "short"},
                  {"source": "used", "target": "e"}]}


async def start(jimu_platform, reserve_lines):
    tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", "10", "28.00")
    await receive(admin, "SH", "OIL-5W30-1L", "20", "40.00")
    created = await admin.post("/api/v1/flows", json={
        "code": "repair", "name": "维修", "graph": repair_flow(reserve_lines), "publish": True})
    assert created.status_code == 201, created.text
    run = (await admin.post(f"/api/v1/flows/{created.json()['id']}/runs",
                            json={"data": {"region_code": "310115"}})).json()
    return tenant, admin, run


async def test_reserve_then_record_what_was_used(jimu_platform):
    tenant, admin, run = await start(jimu_platform, [
        {"sku": "OIL-FILTER", "quantity": "2"}, {"sku": "OIL-5W30-1L", "quantity": "4"}])
    assert (run["status"], run["node_id"]) == ("waiting", "used")
    async with jimu_platform.as_tenant(tenant):
        assert await services.available("OIL-FILTER") == D("8")
    act = f"/api/v1/flow-runs/{run['id']}/actions"
    bad = await admin.post(act, json={"action": "submit", "payload": {
        "lines": [{"sku": "NOPE", "quantity": "1"}, {"sku": "OIL-FILTER", "quantity": "x"}]}})
    assert bad.status_code == 422 and "lines[0].sku" in bad.text
    too_many = await admin.post(act, json={"action": "submit", "payload": {
        "lines": [{"sku": "OIL-FILTER", "quantity": "50"}]}})
    assert too_many.status_code == 409, too_many.text  # names the part, nothing written
    done = await admin.post(act, json={"action": "submit", "payload": {
        "lines": [{"sku": "OIL-FILTER", "quantity": "1"}]}})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "completed"
    [used] = body["data"]["used"]["used"]
    assert (used["sku"], used["quantity"], D(used["cost"])) == ("OIL-FILTER", "1", D("28.00"))
    async with jimu_platform.as_tenant(tenant):
        # one filter used, the other one and all the oil back in stock
        assert await services.available("OIL-FILTER") == D("9")
        assert await services.available("OIL-5W30-1L") == D("20")


async def test_a_short_part_takes_the_short_edge_and_holds_nothing(jimu_platform):
    tenant, _admin, run = await start(jimu_platform, [
        {"sku": "OIL-5W30-1L", "quantity": "4"}, {"sku": "OIL-FILTER", "quantity": "11"}])
    assert (run["status"], run["node_id"]) == ("completed", "buy")
    async with jimu_platform.as_tenant(tenant):
        assert await services.available("OIL-5W30-1L") == D("20")
        assert await services.available("OIL-FILTER") == D("10")


async def test_reserve_without_lines_is_refused_at_publish(jimu_platform):
    _, admin = await setup(jimu_platform)
    answer = await admin.post("/api/v1/flows", json={
        "code": "x", "name": "x", "graph": repair_flow([]), "publish": True})
    assert answer.status_code == 422 and "list the parts to reserve" in answer.text


async def test_more_used_than_reserved_takes_the_rest_from_stock(jimu_platform):
    tenant, admin, run = await start(jimu_platform, [{"sku": "OIL-FILTER", "quantity": "2"}])
    done = await admin.post(f"/api/v1/flow-runs/{run['id']}/actions", json={
        "action": "submit", "payload": {"lines": [{"sku": "OIL-FILTER", "quantity": "3"}]}})
    assert done.status_code == 200, done.text
    used = done.json()["data"]["used"]
    assert [u["quantity"] for u in used["used"]] == ["2", "1"]
    assert D(used["cost"]) == D("84.00")
    async with jimu_platform.as_tenant(tenant):
        assert await services.available("OIL-FILTER") == D("7")
