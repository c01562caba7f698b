"""The project library end to end, with the seeds' 4S maintenance package as exact numbers."""

from decimal import Decimal as D

import pytest
from jimu_parts import public as parts_public
from jimu_price_lists import public as price_lists
from jimu_projects import services
from jimu_projects.tables import Usage
from jimu_sdk import JimuError, emit

SLUG = "projects"
PLUGINS = ["price_lists", "parts", SLUG]
BASIC = {"code": "PKG-4S-BASIC", "name": "4S基础保养套餐", "kind": "service_package",
         "components": [{"sku": "OIL-FILTER", "quantity": "1"},
                        {"sku": "OIL-5W30-1L", "quantity": "4"},
                        {"sku": "LABOUR-HOUR", "quantity": "0.5"}]}


async def test_plugin_is_installed(jimu_platform):
    assert SLUG in jimu_platform.kernel.plugins.plugins


async def setup(jimu_platform, *, labour=True, filters=10, oil=20):
    plugins = PLUGINS + (["labour_rates"] if labour else [])
    tenant = await jimu_platform.make_tenant(plugins=plugins)
    admin = await jimu_platform.login(tenant.admin_username)
    async with jimu_platform.as_tenant(tenant):
        for sku, name, kind, unit, price, cost in (
                ("OIL-FILTER", "机油滤芯", "part", "个", "45.00", "28.00"),
                ("OIL-5W30-1L", "全合成机油 1L", "consumable", "L", "68.00", "40.00"),
                ("LABOUR-HOUR", "工时", "labour", "h", "120.00", None)):
            await price_lists.upsert_item(sku=sku, name=name, kind=kind, unit=unit,
                                          category="保养", list_price=D(price),
                                          cost=None if cost is None else D(cost))
    r = await admin.post("/api/v1/parts/warehouses", json={"code": "SH", "name": "上海仓",
                                                           "region_code": "310115"})
    assert r.status_code == 201, r.text
    for sku, quantity, cost in (("OIL-FILTER", filters, "28.00"), ("OIL-5W30-1L", oil, "40.00")):
        assert (await admin.post("/api/v1/parts/parts", json={"sku": sku})).status_code == 201
        r = await admin.post("/api/v1/parts/receipts", json={
            "warehouse": "SH", "sku": sku, "quantity": str(quantity), "unit_cost": cost})
        assert r.status_code == 201, r.text
    created = await admin.post("/api/v1/projects/packages", json=BASIC)
    assert created.status_code == 201, created.text
    return tenant, admin


async def quote(admin, **body):
    r = await admin.post("/api/v1/pricing/quote", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def available(jimu_platform, tenant, sku):
    async with jimu_platform.as_tenant(tenant):
        return await parts_public.available(sku)


def order(order_id, quantity="1", region="310115", item="PKG-4S-BASIC", **extra):
    return {"order_id": order_id, "order_no": f"SO-{order_id}", "partner_id": None,
            "customer_id": None, "region_code": region, **extra,
            "lines": [{"line_no": 1, "item": item, "quantity": quantity, "unit_price": "374.50",
                       "amount": "374.50", "category": "服务套餐"}]}


async def test_package_is_priced_from_its_components(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    package = (await admin.get("/api/v1/projects/packages/PKG-4S-BASIC")).json()
    # 45 + 4 × 68 + 0.5 × 120 = 377.00; cost 28 + 4 × 40 = 188.00 (labour has no cost)
    assert D(package["list_price"]) == D("377.00")
    assert D(package["cost"]) == D("188.00")
    async with jimu_platform.as_tenant(tenant):
        item = await price_lists.get_item("PKG-4S-BASIC")
    assert item["kind"] == "package" and item["list_price"] == D("377.00")
    assert item["cost"] == D("188.00")
    # No region, no labour rate: the list price.
    assert D((await quote(admin, item="PKG-4S-BASIC"))["total"]) == D("377.00")


async def test_package_labour_costs_the_regions_rate(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    pudong = await quote(admin, item="PKG-4S-BASIC", region_code="310115", explain=True)
    # 45 + 272 + 0.5 × 115.00 = 374.50
    assert D(pudong["total"]) == D("374.50")
    step = [t for t in pudong["trace"] if t["rule"] == "package-labour"]
    assert len(step) == 1 and step[0]["plugin"] == SLUG
    assert "套餐工时 0.5h 按本区域工时费 115.00/h 计" in step[0]["reason"]
    assert "regional_pricing.labour_rate" in step[0]["facts"]
    suzhou = await quote(admin, item="PKG-4S-BASIC", region_code="320500")
    # 45 + 272 + 0.5 × 100.00 = 367.00 (labour 60.00 → 50.00)
    assert D(suzhou["total"]) == D("367.00")
    two = await quote(admin, item="PKG-4S-BASIC", region_code="310115", quantity="2")
    assert D(two["total"]) == D("749.00")
    detail = (await admin.get("/api/v1/projects/packages/PKG-4S-BASIC/price",
                              params={"region_code": "320500"})).json()
    assert D(detail["total"]) == D("367.00")


async def test_without_a_labour_rate_the_list_labour_stands(jimu_platform):
    _tenant, admin = await setup(jimu_platform, labour=False)
    out = await quote(admin, item="PKG-4S-BASIC", region_code="310115", explain=True)
    assert D(out["total"]) == D("377.00")
    assert any(c["rule"] == "package-labour" for c in out["considered"])


async def test_an_order_reserves_the_parts_and_completion_books_their_cost(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.created", order(21))
    assert await available(jimu_platform, tenant, "OIL-FILTER") == D(9)
    assert await available(jimu_platform, tenant, "OIL-5W30-1L") == D(16)
    usages = (await admin.get("/api/v1/projects/usages")).json()
    assert [(u["ref"], u["status"]) for u in usages] == [("order:21:1", "reserved")]
    assert sorted((ln["sku"], D(ln["quantity"])) for ln in usages[0]["lines"]) == [
        ("OIL-5W30-1L", D(4)), ("OIL-FILTER", D(1))]
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.completed", order(21, completed_at="2026-05-10T08:00:00Z"))
    usage = (await admin.get("/api/v1/projects/usages")).json()[0]
    assert usage["status"] == "completed"
    assert D(usage["cost"]) == D("188.00")  # 28 + 4 × 40
    report = {r["code"]: r for r in (await admin.get("/api/v1/projects/reports/cost")).json()}
    assert D(report["PKG-4S-BASIC"]["cost"]) == D("188.00")
    assert report["PKG-4S-BASIC"]["completed"] == 1
    stock = (await admin.get("/api/v1/parts/stock", params={"sku": "OIL-5W30-1L"})).json()[0]
    assert (D(stock["on_hand"]), D(stock["reserved"])) == (D(16), D(0))


async def test_an_order_whose_oil_is_short_is_refused_whole(jimu_platform):
    tenant, admin = await setup(jimu_platform, oil=6)
    with pytest.raises(JimuError) as refused:
        async with jimu_platform.as_tenant(tenant):
            await emit("orders.created", order(22, quantity="2"))  # needs 8 L, 6 in stock
    assert refused.value.status_code == 409
    assert refused.value.field == "lines[0].quantity"
    assert "全合成机油 1L" in str(refused.value) and "6 available" in str(refused.value)
    # Nothing of it was written: no usage, the filter reservation rolled back too.
    assert await available(jimu_platform, tenant, "OIL-FILTER") == D(10)
    assert await available(jimu_platform, tenant, "OIL-5W30-1L") == D(6)
    async with jimu_platform.as_tenant(tenant):
        assert await Usage.scoped_count() == 0
    assert (await admin.get("/api/v1/parts/reservations")).json() == []


async def test_a_cancelled_order_releases_the_parts(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.created", order(23))
        await emit("orders.cancelled", order(23))
    assert await available(jimu_platform, tenant, "OIL-5W30-1L") == D(20)
    usage = (await admin.get("/api/v1/projects/usages")).json()[0]
    assert usage["status"] == "released"


async def test_direct_use_reserves_and_completes(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    used = await admin.post("/api/v1/projects/packages/PKG-4S-BASIC/use",
                            json={"quantity": "2", "region_code": "310115"})
    assert used.status_code == 201, used.text
    usage = used.json()
    assert usage["ref"] == f"use:{usage['id']}" and usage["status"] == "reserved"
    assert await available(jimu_platform, tenant, "OIL-5W30-1L") == D(12)
    done = await admin.post(f"/api/v1/projects/usages/{usage['id']}/complete")
    assert done.status_code == 201, done.text
    assert D(done.json()["cost"]) == D("376.00")
    again = await admin.post(f"/api/v1/projects/usages/{usage['id']}/complete")
    assert again.status_code == 409
    short = await admin.post("/api/v1/projects/packages/PKG-4S-BASIC/use",
                             json={"quantity": "4"})
    assert short.status_code == 409 and "全合成机油 1L" in short.json()["message"]
    assert len((await admin.get("/api/v1/projects/usages")).json()) == 1
    second = (await admin.post("/api/v1/projects/packages/PKG-4S-BASIC/use", json={})).json()
    assert await available(jimu_platform, tenant, "OIL-5W30-1L") == D(8)
    cancelled = await admin.post(f"/api/v1/projects/usages/{second['id']}/cancel")
    assert cancelled.status_code == 201 and cancelled.json()["status"] == "released"
    assert await available(jimu_platform, tenant, "OIL-5W30-1L") == D(12)


async def test_bad_packages_are_refused_naming_the_field(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    cases = [
        ({**BASIC, "code": "P2", "components": [{"sku": "NOPE", "quantity": "1"}]}, 422,
         "components[0].sku"),
        ({**BASIC, "code": "P2", "components": [{"sku": "OIL-FILTER", "quantity": "0"}]}, 422,
         "components[0].quantity"),
        ({**BASIC, "code": "P2", "components": [{"sku": "PKG-4S-BASIC", "quantity": "1"}]},
         422, "components[0].sku"),
        ({**BASIC, "code": "P2", "components": [{"sku": "OIL-FILTER", "quantity": "1"},
                                                {"sku": "OIL-FILTER", "quantity": "1"}]},
         422, "components[1].sku"),
        ({**BASIC, "code": "P2", "components": []}, 422, "components"),
        ({**BASIC, "code": "P2", "kind": "bundle"}, 422, "kind"),
        (BASIC, 409, "code"),
        ({**BASIC, "code": "OIL-FILTER"}, 409, "code"),
    ]
    for body, status, field in cases:
        r = await admin.post("/api/v1/projects/packages", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json().get("field") == field, (body, r.text)
    bad_use = await admin.post("/api/v1/projects/packages/PKG-4S-BASIC/use",
                               json={"quantity": "-1"})
    assert bad_use.status_code == 422 and bad_use.json()["field"] == "quantity"
    missing = await admin.post("/api/v1/projects/packages/NOPE/use", json={})
    assert missing.status_code == 404


async def test_campaign_pack_holds_materials_and_update_reprices(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    pack = await admin.post("/api/v1/projects/packages", json={
        "code": "PKG-FESTIVAL", "name": "节日促销活动包", "kind": "campaign_pack",
        "materials": {"scripts": ["节日特惠，到店立减 50 元"],
                      "coupon_templates": ["满 300 减 50"],
                      "grouping_rules": ["近 6 个月未到店"]}})
    assert pack.status_code == 201, pack.text
    assert pack.json()["materials"]["scripts"] == ["节日特惠，到店立减 50 元"]
    changed = await admin.put("/api/v1/projects/packages/PKG-4S-BASIC", json={
        "name": "4S基础保养套餐", "components": [{"sku": "OIL-FILTER", "quantity": "1"},
                                                 {"sku": "OIL-5W30-1L", "quantity": "5"}]})
    assert changed.status_code == 200, changed.text
    assert D(changed.json()["list_price"]) == D("385.00")
    assert D((await quote(admin, item="PKG-4S-BASIC", region_code="310115"))["total"]) == D(
        "385.00")  # no labour left, so no labour step


async def test_other_tenants_see_nothing(jimu_platform):
    await setup(jimu_platform)
    other = await jimu_platform.make_tenant(plugins=PLUGINS)
    other_admin = await jimu_platform.login(other.admin_username)
    assert (await other_admin.get("/api/v1/projects/packages")).json() == []
    assert (await other_admin.get("/api/v1/projects/packages/PKG-4S-BASIC")).status_code == 404


async def test_admin_pages(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    listing = await admin.get("/admin/p/projects/")
    assert listing.status_code == 200 and "4S基础保养套餐" in listing.text
    detail = await admin.get("/admin/p/projects/packages/PKG-4S-BASIC")
    assert detail.status_code == 200
    assert "374.50" in detail.text and "367.00" in detail.text
    form = await admin.get("/admin/p/projects/packages/new")
    assert form.status_code == 200
    bad = await admin.post("/admin/p/projects/packages/new", data={
        "csrf_token": admin.headers["X-CSRF-Token"], "code": "PKG-X", "name": "X",
        "kind": "service_package", "sku_0": "OIL-FILTER", "qty_0": "abc"})
    assert bad.status_code == 422 and "field-error" in bad.text
    good = await admin.post("/admin/p/projects/packages/new", data={
        "csrf_token": admin.headers["X-CSRF-Token"], "code": "PKG-X", "name": "换滤芯",
        "kind": "service_package", "sku_0": "OIL-FILTER", "qty_0": "1", "sku_1": "LABOUR-HOUR",
        "qty_1": "0.2", "active": "1"})
    assert good.status_code in (200, 302, 303), good.text[:300]
    assert D((await admin.get("/api/v1/projects/packages/PKG-X")).json()["list_price"]) == D(
        "69.00")


async def test_demo_seed(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=[*PLUGINS, "labour_rates"])
    admin = await jimu_platform.login(tenant.admin_username)
    async with jimu_platform.as_tenant(tenant):
        from jimu_parts import services as parts_services

        await parts_services.seed_demo(tenant.id)
        await services.seed_demo(tenant.id)
    packages = {p["code"]: p for p in (await admin.get("/api/v1/projects/packages")).json()}
    assert set(packages) == {"PKG-4S-BASIC", "PKG-4S-DEEP", "PKG-FESTIVAL"}
    assert D(packages["PKG-4S-BASIC"]["list_price"]) == D("377.00")
    assert packages["PKG-FESTIVAL"]["materials"]["grouping_rules"]
    assert D((await quote(admin, item="PKG-4S-BASIC", region_code="310115"))["total"]) == D(
        "374.50")
