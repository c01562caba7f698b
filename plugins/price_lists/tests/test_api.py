"""End to end through the HTTP API and the core pricing endpoints."""

import random
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jimu_price_lists import demo

SLUG = "price_lists"


async def setup(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=[SLUG])
    admin = await jimu_platform.login(tenant.admin_username)
    async with jimu_platform.as_tenant(tenant):
        await demo.seed(tenant.id)
    return tenant, admin


async def partner(admin, code, level, region, kind="dealer"):
    r = await admin.post("/api/v1/partners", json={"code": code, "name": code, "kind": kind,
                                                   "level": level, "region_code": region})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def quote(admin, **body):
    r = await admin.post("/api/v1/pricing/quote", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def test_plugin_is_installed(jimu_platform):
    assert SLUG in jimu_platform.kernel.plugins.plugins


async def test_worked_examples_from_the_seeds(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    zd = await partner(admin, "HB-ZD", "general_agent", "110105")
    yj = await partner(admin, "HB-YJ-TJ", "level1", "120101")
    ej = await partner(admin, "HB-EJ-LF", "level2", "131002")
    # a level1 dealer buying 120 cases of tea: 51.00 × 0.98 × 120
    out = await quote(admin, item="TEA-500-CASE", quantity=120, partner_id=yj, explain=True)
    assert D(out["total"]) == D("5997.60")
    price_line = next(t for t in out["trace"] if t["plugin"] == SLUG and t["rule"] == "TEA-L1")
    assert price_line["facts"]["partner.level"] == "level1"
    reasons = {c["rule"]: c["reason"] for c in out["considered"]}
    assert reasons["TEA-GA"] == "partner level level1 not in [general_agent]"
    assert reasons["BEV-MARGIN"] == "outranked by TEA-L1 (more specific: item rule)"
    assert D((await quote(admin, item="TEA-500-CASE", quantity=10,
                          partner_id=zd))["total"]) == D("480.00")
    assert D((await quote(admin, item="TEA-500-CASE", quantity=99,
                          partner_id=ej))["total"]) == D("5346.00")
    assert D((await quote(admin, item="TEA-500-CASE", quantity=100,
                          partner_id=ej))["total"]) == D("5292.00")
    # nobody in particular: the beverage formula, 60 × 0.95 = 57.00 per case
    assert D((await quote(admin, item="TEA-500-CASE", quantity=2))["total"]) == D("114.00")
    # water: 36 × 0.95 = 34.20 → 34.00 (to 0.50), margin 29% inside [25, 40]
    assert D((await quote(admin, item="WATER-550-CASE", quantity=10))["total"]) == D("340.00")
    # water for a level1 dealer: price list 30.00, 3% off from 50 cases
    assert D((await quote(admin, item="WATER-550-CASE", quantity=50,
                          partner_id=yj))["total"]) == D("1455.00")
    # labour: list price (no rules), 0.5 h
    assert D((await quote(admin, item="LABOUR-HOUR", quantity="0.5"))["total"]) == D("60.00")
    # parts through the service channel: cost 28 at a 30% margin floor = 40.00
    assert D((await quote(admin, item="OIL-FILTER", quantity=1,
                          channel="service"))["total"]) == D("40.00")


async def test_tier_prices_from_the_tier_fact(jimu_platform):
    tenant, _admin = await setup(jimu_platform)
    from jimu_sdk import PriceContext, platform

    async with jimu_platform.as_tenant(tenant):
        lines = [PriceContext(tenant_id=tenant.id, item="TEA-500-CASE", quantity=D(10),
                              facts={"price_tiers.tier": t}) for t in ("A", "B", "C")]
        lines += [PriceContext(tenant_id=tenant.id, item="HOTPOT-BASE-CASE", quantity=D(5),
                               facts={"price_tiers.tier": t}) for t in ("T1", "T2", "T3", "T4")]
        results = await platform().price(lines)
    assert [r.total.amount for r in results] == [
        D("500.00"), D("530.00"), D("560.00"), D("1600.00"), D("1500.00"), D("1425.00"),
        D("1350.00")]


async def test_bad_input_names_the_field(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    for qty in (0, -3):
        r = await admin.post("/api/v1/pricing/quote", json={"item": "TEA-500-CASE",
                                                            "quantity": qty})
        assert 400 <= r.status_code < 500 and "quantity" in r.text
    r = await admin.post("/api/v1/pricing/quote", json={"item": "NOPE", "quantity": 1})
    assert 400 <= r.status_code < 500 and r.json()["field"] == "item"
    r = await admin.post("/api/v1/pricing/lines", json={"lines": [
        {"item": "TEA-500-CASE", "quantity": 1}, {"item": "NOPE", "quantity": 1}]})
    assert 400 <= r.status_code < 500 and r.json()["field"] == "lines[1].item"


async def make_rule(admin, **body):
    return await admin.post("/api/v1/price_lists/rules", json=body)


async def test_conflicts_are_refused_at_save_naming_the_rules(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    r = await make_rule(admin, code="TEA-L1-DUP", kind="fixed", sku="TEA-500-CASE",
                        partner_levels=["level1"], value="50")
    assert r.status_code == 422 and "TEA-L1" in r.json()["message"], r.text
    r = await make_rule(admin, code="OV", kind="fixed", sku="TEA-500-CASE", breaks=[
        {"min_qty": "0", "max_qty": "100", "value": "1"}, {"min_qty": "50", "value": "2"}])
    assert r.status_code == 422 and r.json()["field"] == "breaks" and "OV" in r.text
    r = await make_rule(admin, code="MM", kind="formula", scope="category", category="饮料",
                        min_margin="40", max_margin="20", partner_levels=["level1"])
    assert r.status_code == 422 and r.json()["field"] == "min_margin" and "MM" in r.text
    r = await make_rule(admin, code="NEG", kind="fixed", sku="TEA-500-CASE", value="-1")
    assert r.status_code == 422 and r.json()["field"] == "value"
    r = await make_rule(admin, code="PCT", kind="discount", scope="all", value="120")
    assert r.status_code == 422 and r.json()["field"] == "value"
    r = await make_rule(admin, code="SKU", kind="fixed", sku="NOPE", value="1")
    assert r.status_code == 422 and r.json()["field"] == "sku"
    r = await make_rule(admin, code="PL", kind="formula", scope="all", base="price_list",
                        price_list="NOPE")
    assert r.status_code == 422 and r.json()["field"] == "price_list"
    r = await make_rule(admin, code="REG", kind="fixed", scope="all", value="1",
                        regions=["999999"])
    assert r.status_code == 422 and r.json()["field"] == "regions[0]"
    r = await make_rule(admin, code="REG", kind="fixed", scope="all", value="1",
                        regions=["south china"])
    assert r.status_code == 422
    # a zone code and a known region are fine; a higher priority removes the tie
    r = await make_rule(admin, code="ZONE", kind="fixed", scope="all", value="1",
                        regions=["SOUTH", "440106"])
    assert r.status_code == 201, r.text
    r = await make_rule(admin, code="TEA-L1-HI", kind="fixed", sku="TEA-500-CASE",
                        partner_levels=["level1"], value="50", priority=5)
    assert r.status_code == 201, r.text
    rules = (await admin.get("/api/v1/price_lists/rules",
                             params={"sku": "TEA-500-CASE"})).json()
    assert "TEA-L1-HI" in [x["code"] for x in rules["items"]]
    # updating into a conflict is refused too
    rid = r.json()["id"]
    body = {**r.json(), "priority": 0}
    body.pop("id")
    r = await admin.put(f"/api/v1/price_lists/rules/{rid}", json=body)
    assert r.status_code == 422 and "TEA-L1" in r.text


async def test_items_crud_list_and_tenant_isolation(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    r = await admin.get("/api/v1/price_lists/items", params={"q": "tea"})
    assert [i["sku"] for i in r.json()["items"]] == ["TEA-500-CASE"]
    r = await admin.get("/api/v1/price_lists/items", params={"kind": "labour"})
    assert r.json()["total"] == 1
    r = await admin.post("/api/v1/price_lists/items", json={"sku": "X1", "name": "x",
                                                           "list_price": "-1"})
    assert r.status_code == 422 and r.json()["field"] == "list_price"
    r = await admin.post("/api/v1/price_lists/items", json={"sku": "TEA-500-CASE",
                                                           "name": "x", "list_price": "1"})
    assert r.status_code == 422 and r.json()["field"] == "sku"
    other = await jimu_platform.make_tenant(plugins=[SLUG])
    other_admin = await jimu_platform.login(other.admin_username)
    assert (await other_admin.get("/api/v1/price_lists/items")).json()["total"] == 0
    item_id = (await admin.get("/api/v1/price_lists/items")).json()["items"][0]["id"]
    assert (await other_admin.get(f"/api/v1/price_lists/items/{item_id}")).status_code == 404
    # changing the list price is seen by the next price (cache invalidated)
    r = await admin.get("/api/v1/price_lists/items", params={"q": "LABOUR"})
    labour = r.json()["items"][0]
    labour.pop("id")
    labour["list_price"] = "130"
    r = await admin.put(f"/api/v1/price_lists/items/{r.json()['items'][0]['id']}",
                        json=labour)
    assert r.status_code == 200, r.text
    assert D((await quote(admin, item="LABOUR-HOUR", quantity=1))["total"]) == D("130.00")
    # an item used by rules cannot be deleted
    tea = (await admin.get("/api/v1/price_lists/items", params={"q": "TEA"})).json()["items"]
    r = await admin.delete(f"/api/v1/price_lists/items/{tea[0]['id']}")
    assert r.status_code == 409 and "TEA-L1" in r.text


async def test_staff_reads_only_admin_writes_partner_sees_nothing(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await jimu_platform.make_user(tenant, "staff1", role="staff")
    staff = await jimu_platform.login("staff1")
    assert (await staff.get("/api/v1/price_lists/rules")).status_code == 200
    r = await staff.post("/api/v1/price_lists/items", json={"sku": "S", "name": "s",
                                                           "list_price": "1"})
    assert r.status_code == 403
    dealer = await partner(admin, "HB-ZD", "general_agent", "110105")
    await jimu_platform.make_user(tenant, "dealer1", role="partner", partner_id=dealer)
    dealer_user = await jimu_platform.login("dealer1")
    assert (await dealer_user.get("/api/v1/price_lists/rules")).status_code == 403
    assert (await dealer_user.get("/api/v1/price_lists/items")).status_code == 403


CSV_RULES = """code,kind,scope,sku,category,value,breaks,partner_levels,priority
NEW-1,fixed,item,TEA-500-CASE,,45,,general_agent,3
BAD-1,fixed,item,NOPE,,45,,,
BAD-2,fixed,item,TEA-500-CASE,,,0-100:1; 50-:2,,
BAD-3,fixed,item,TEA-500-CASE,,50,,level1,
"""


async def test_import_dry_run_reports_every_bad_row_and_writes_nothing(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    files = {"file": ("rules.csv", ("\ufeff" + CSV_RULES).encode(), "text/csv")}
    r = await admin.post("/api/v1/price_lists/import/rules", files=files,
                         data={"dry_run": "true"})
    assert r.status_code == 200, r.text
    errors = [(e["row"], e["field"]) for e in r.json()["errors"]]
    assert errors == [(3, "sku"), (4, "breaks"), (5, "priority")]
    r = await admin.post("/api/v1/price_lists/import/rules", files=files)
    assert r.status_code == 422 and r.json()["field"] == "rows[3].sku"
    listed = (await admin.get("/api/v1/price_lists/rules", params={"q": "NEW-1"})).json()
    assert listed["total"] == 0
    good = "code,kind,scope,sku,value,partner_levels,priority\n" \
           "NEW-1,fixed,item,TEA-500-CASE,45,general_agent,3\n"
    r = await admin.post("/api/v1/price_lists/import/rules",
                         files={"file": ("rules.csv", good.encode(), "text/csv")})
    assert r.status_code == 200 and r.json()["written"] and r.json()["created"] == 1


async def test_import_items_from_xlsx(jimu_platform):
    import io

    from openpyxl import Workbook

    _tenant, admin = await setup(jimu_platform)
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "name", "unit", "kind", "category", "list_price", "cost"])
    sheet.append(["BRAKE-PAD", "刹车片", "套", "part", "保养件", 280.5, 190])
    sheet.append(["BAD", "坏", "件", "gadget", "", 10, None])
    buf = io.BytesIO()
    book.save(buf)
    xlsx = ("items.xlsx", buf.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r = await admin.post("/api/v1/price_lists/import/items", files={"file": xlsx},
                          data={"dry_run": "true"})
    assert r.status_code == 200, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "kind")]
    assert r.json()["rows"] == 2 and not r.json()["written"]


async def test_public_upsert_item_creates_then_updates(jimu_platform):
    from decimal import Decimal

    from jimu_price_lists import public

    tenant, _admin = await setup(jimu_platform)
    async with jimu_platform.as_tenant(tenant), jimu_platform.kernel.db.transaction():
        created = await public.upsert_item(sku="PKG-4S", name="保养套餐", kind="package",
                                           unit="次", category="套餐",
                                           list_price=Decimal("377.00"), cost=Decimal("188"))
        updated = await public.upsert_item(sku="PKG-4S", name="基础保养套餐", kind="package",
                                           unit="次", category="套餐",
                                           list_price=Decimal("380.00"), cost=None)
        found = await public.search_items("基础保养")
    assert created["list_price"] == Decimal("377.00")
    assert (updated["name"], updated["list_price"], updated["cost"]) == (
        "基础保养套餐", Decimal("380.00"), None)
    assert [item["sku"] for item in found] == ["PKG-4S"]


async def test_admin_pages(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    for path, text in (("/admin/p/price_lists/", "TEA-500-CASE"),
                       ("/admin/p/price_lists/rules", "TEA-L1"),
                       ("/admin/p/price_lists/rules/new", "csrf_token"),
                       ("/admin/p/price_lists/items/new", "csrf_token"),
                       ("/admin/p/price_lists/lists", "DEALER-2026"),
                       ("/admin/p/price_lists/import", "dry_run")):
        r = await admin.get(path)
        assert r.status_code == 200 and text in r.text, (path, r.status_code, r.text[:500])
    r = await admin.post("/admin/p/price_lists/rules/new", data={
        "code": "DUP", "kind": "fixed", "scope": "item", "sku": "TEA-500-CASE",
        "value": "50", "partner_levels": "level1", "enabled": "1", "priority": "0"})
    assert r.status_code == 422 and "field-error" in r.text and "TEA-L1" in r.text
    r = await admin.post("/admin/p/price_lists/rules/new", data={
        "code": "OK", "kind": "fixed", "scope": "item", "sku": "TEA-500-CASE",
        "value": "50", "partner_levels": "level1", "enabled": "1", "priority": "7"})
    assert r.status_code in (200, 302, 303), r.text[:300]


RULE_SET = [
    {"code": "R-ITEM", "kind": "fixed", "sku": "TEA-500-CASE", "value": "55"},
    {"code": "R-L1", "kind": "fixed", "sku": "TEA-500-CASE", "partner_levels": ["level1"],
     "breaks": [{"min_qty": "0", "max_qty": "50", "value": "52"},
                {"min_qty": "50", "value": "50"}]},
    {"code": "R-CAT", "kind": "discount", "scope": "category", "category": "饮料",
     "value": "3"},
    {"code": "R-ALL", "kind": "discount", "scope": "all", "value": "1", "priority": 2},
    {"code": "R-REG", "kind": "fixed", "sku": "TEA-500-CASE", "regions": ["110000"],
     "value": "53"},
]


@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
async def test_prices_do_not_depend_on_rule_creation_order(jimu_platform, seed):
    answers = []
    for order in (RULE_SET, random.Random(seed).sample(RULE_SET, len(RULE_SET))):
        tenant = await jimu_platform.make_tenant(plugins=[SLUG])
        admin = await jimu_platform.login(tenant.admin_username)
        await admin.post("/api/v1/price_lists/items", json={
            "sku": "TEA-500-CASE", "name": "冰红茶", "category": "饮料",
            "list_price": "60", "cost": "42"})
        for rule in order:
            r = await admin.post("/api/v1/price_lists/rules", json=rule)
            assert r.status_code == 201, r.text
        l1 = await partner(admin, "P1", "level1", "110105")
        got = []
        for body in ({"partner_id": l1, "quantity": 60}, {"region_code": "110105"},
                     {"quantity": 3}):
            out = await quote(admin, item="TEA-500-CASE", explain=True, **body)
            got.append((out["total"], [(t["rule"], t["reason"]) for t in out["trace"]],
                        out["considered"]))
            again = await quote(admin, item="TEA-500-CASE", explain=True, **body)
            assert again["total"] == out["total"] and again["considered"] == out["considered"]
        answers.append(got)
    assert answers[0] == answers[1]
