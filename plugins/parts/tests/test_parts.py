"""The parts library end to end: ledger, reservations, expiry, consumption, returns, costs."""

import datetime as dt
from decimal import Decimal as D

from jimu_parts import services
from jimu_parts.tables import Movement, Reservation, Stock
from jimu_price_lists import public as price_lists
from jimu_sdk import emit

SLUG = "parts"


async def test_plugin_is_installed(jimu_platform):
    assert SLUG in jimu_platform.kernel.plugins.plugins


async def setup(jimu_platform, **config):
    tenant = await jimu_platform.make_tenant(plugins=["price_lists", SLUG],
                                             config={SLUG: config} if config else None)
    admin = await jimu_platform.login(tenant.admin_username)
    async with jimu_platform.as_tenant(tenant):
        await price_lists.upsert_item(sku="OIL-FILTER", name="机油滤芯", kind="part", unit="个",
                                      category="保养配件", list_price=D("45.00"),
                                      cost=D("28.00"))
        await price_lists.upsert_item(sku="OIL-5W30-1L", name="全合成机油 1L",
                                      kind="consumable", unit="L", category="保养配件",
                                      list_price=D("68.00"), cost=D("40.00"))
    for code, name, region in (("SH", "上海仓", "310115"), ("SZ", "苏州仓", "320500")):
        r = await admin.post("/api/v1/parts/warehouses",
                             json={"code": code, "name": name, "region_code": region})
        assert r.status_code == 201, r.text
    for sku, point in (("OIL-FILTER", "20"), ("OIL-5W30-1L", "80")):
        r = await admin.post("/api/v1/parts/parts", json={"sku": sku, "reorder_point": point,
                                                          "default_warehouse": "SH"})
        assert r.status_code == 201, r.text
    return tenant, admin


async def receive(admin, warehouse, sku, quantity, cost):
    r = await admin.post("/api/v1/parts/receipts", json={
        "warehouse": warehouse, "sku": sku, "quantity": str(quantity), "unit_cost": str(cost)})
    assert r.status_code == 201, r.text
    return r.json()


async def stock(admin, sku, warehouse):
    rows = (await admin.get("/api/v1/parts/stock", params={"sku": sku,
                                                           "warehouse": warehouse})).json()
    return {k: D(rows[0][k]) for k in ("on_hand", "reserved", "available", "avg_cost")}


async def counts(jimu_platform, tenant):
    async with jimu_platform.as_tenant(tenant):
        return (await Movement.scoped_count(), await Reservation.scoped_count(),
                [(r["sku"], services.dec(r["on_hand"]), services.dec(r["reserved"]))
                 for r in await Stock.scoped_select().order_by(Stock.id)])


async def test_receipts_keep_a_moving_average_cost(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 10, "28.00")
    await receive(admin, "SH", "OIL-FILTER", 30, "32.00")
    row = await stock(admin, "OIL-FILTER", "SH")
    # (10 × 28 + 30 × 32) / 40 = 31.00
    assert row == {"on_hand": D(40), "reserved": D(0), "available": D(40),
                   "avg_cost": D("31.0000")}
    r = await admin.post("/api/v1/parts/reservations", json={
        "ref": "wo:1", "sku": "OIL-FILTER", "quantity": "5"})
    consumed = await admin.post("/api/v1/parts/reservations/wo:1/consume", json={})
    assert consumed.status_code == 201, consumed.text
    assert D(consumed.json()["cost"]) == D("155.00")  # 5 × 31.00
    # Two come back at the 31.00 they left at; then 5 new ones at 40.00.
    back = await admin.post("/api/v1/parts/reservations/wo:1/return", json={"quantity": "2"})
    assert back.status_code == 201, back.text
    await receive(admin, "SH", "OIL-FILTER", 5, "40.00")
    row = await stock(admin, "OIL-FILTER", "SH")
    assert row["on_hand"] == D(42)
    assert row["avg_cost"] == D("32.0714")  # (37 × 31 + 5 × 40) / 42 = 32.0714…
    async with jimu_platform.as_tenant(tenant):
        assert await services.unit_cost("OIL-FILTER") == D("32.0714")
        assert await services.available("OIL-FILTER") == D(42)
    assert r.status_code == 201


async def test_reservation_beyond_stock_is_refused_naming_the_part(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 3, "28.00")
    await admin.post("/api/v1/parts/reservations", json={
        "ref": "wo:1", "sku": "OIL-FILTER", "quantity": "2", "warehouse": "SH"})
    before = await counts(jimu_platform, tenant)
    refused = await admin.post("/api/v1/parts/reservations", json={
        "ref": "wo:2", "sku": "OIL-FILTER", "quantity": "2", "warehouse": "SH"})
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["field"] == "quantity"
    assert "机油滤芯" in body["message"] and "1 available" in body["message"]
    assert "2 requested" in body["message"]
    assert await counts(jimu_platform, tenant) == before  # nothing written
    # In Chinese for a Chinese-speaking admin.
    zh = await admin.post("/api/v1/parts/reservations", headers={"Accept-Language": "zh-CN"},
                          json={"ref": "wo:3", "sku": "OIL-FILTER", "quantity": "5"})
    assert zh.status_code == 409


async def test_reservation_picks_a_warehouse_with_enough_stock(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-5W30-1L", 2, "40")
    await receive(admin, "SZ", "OIL-5W30-1L", 10, "39")
    r = await admin.post("/api/v1/parts/reservations", json={
        "ref": "wo:9", "sku": "OIL-5W30-1L", "quantity": "4"})
    assert r.status_code == 201 and r.json()["warehouse"] == "SZ"
    small = await admin.post("/api/v1/parts/reservations", json={
        "ref": "wo:10", "sku": "OIL-5W30-1L", "quantity": "1"})
    assert small.json()["warehouse"] == "SH"  # the part's default warehouse comes first


async def test_reservation_expires_through_its_timer(jimu_platform):
    tenant, admin = await setup(jimu_platform, reservation_hours=72)
    jimu_platform.clock.freeze(dt.datetime(2026, 5, 10, 0, 0, tzinfo=dt.UTC))
    await receive(admin, "SH", "OIL-FILTER", 10, "28")
    r = await admin.post("/api/v1/parts/reservations", json={
        "ref": "wo:1", "sku": "OIL-FILTER", "quantity": "4"})
    assert r.json()["expires_at"].startswith("2026-05-13T00:00")
    assert (await stock(admin, "OIL-FILTER", "SH"))["available"] == D(6)
    await jimu_platform.advance(hours=71)
    assert (await stock(admin, "OIL-FILTER", "SH"))["available"] == D(6)
    await jimu_platform.advance(hours=1, minutes=1)
    assert (await stock(admin, "OIL-FILTER", "SH"))["available"] == D(10)
    listed = (await admin.get("/api/v1/parts/reservations")).json()
    assert [(x["ref"], x["status"]) for x in listed] == [("wo:1", "expired")]
    # The job is idempotent: running it again changes nothing.
    async with jimu_platform.as_tenant(tenant):
        assert await services.expire_reservation("wo:1") is False
    kinds = [m["kind"] for m in (await admin.get("/api/v1/parts/movements")).json()]
    assert kinds == ["release", "reservation", "receipt"]


async def test_released_or_consumed_reservation_does_not_expire(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 10, "28")
    await admin.post("/api/v1/parts/reservations", json={
        "ref": "a", "sku": "OIL-FILTER", "quantity": "4"})
    assert (await admin.post("/api/v1/parts/reservations/a/release")).status_code == 201
    await jimu_platform.advance(hours=100)
    assert (await stock(admin, "OIL-FILTER", "SH"))["available"] == D(10)
    again = await admin.post("/api/v1/parts/reservations/a/release")
    assert again.status_code == 409 and again.json()["field"] == "ref"


async def test_partial_consumption_releases_the_rest_and_returns_are_bounded(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-5W30-1L", 20, "40")
    await admin.post("/api/v1/parts/reservations", json={
        "ref": "wo:5", "sku": "OIL-5W30-1L", "quantity": "4"})
    too_much = await admin.post("/api/v1/parts/reservations/wo:5/consume",
                                json={"quantity": "5"})
    assert too_much.status_code == 422 and too_much.json()["field"] == "quantity"
    done = await admin.post("/api/v1/parts/reservations/wo:5/consume", json={"quantity": "3.5"})
    assert done.status_code == 201, done.text
    assert D(done.json()["cost"]) == D("140.00")
    assert done.json()["reservation"]["status"] == "consumed"
    row = await stock(admin, "OIL-5W30-1L", "SH")
    assert (row["on_hand"], row["reserved"]) == (D("16.5"), D(0))
    over = await admin.post("/api/v1/parts/reservations/wo:5/return", json={"quantity": "4"})
    assert over.status_code == 422 and over.json()["field"] == "quantity"
    ok = await admin.post("/api/v1/parts/reservations/wo:5/return", json={"quantity": "3.5"})
    assert ok.status_code == 201
    assert (await stock(admin, "OIL-5W30-1L", "SH"))["on_hand"] == D(20)
    more = await admin.post("/api/v1/parts/reservations/wo:5/return", json={"quantity": "0.1"})
    assert more.status_code == 422


async def test_adjustments_and_transfers(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 10, "28")
    await admin.post("/api/v1/parts/reservations", json={
        "ref": "x", "sku": "OIL-FILTER", "quantity": "8", "warehouse": "SH"})
    refused = await admin.post("/api/v1/parts/adjustments", json={
        "warehouse": "SH", "sku": "OIL-FILTER", "delta": "-3", "note": "盘亏"})
    assert refused.status_code == 409 and refused.json()["field"] == "delta"
    ok = await admin.post("/api/v1/parts/adjustments", json={
        "warehouse": "SH", "sku": "OIL-FILTER", "delta": "-2", "note": "盘亏"})
    assert ok.status_code == 201, ok.text
    await admin.post("/api/v1/parts/reservations/x/release")
    moved = await admin.post("/api/v1/parts/transfers", json={
        "source": "SH", "target": "SZ", "sku": "OIL-FILTER", "quantity": "5"})
    assert moved.status_code == 201, moved.text
    assert [m["kind"] for m in moved.json()] == ["transfer_out", "transfer_in"]
    assert (await stock(admin, "OIL-FILTER", "SZ"))["avg_cost"] == D(28)
    assert (await stock(admin, "OIL-FILTER", "SH"))["on_hand"] == D(3)


async def test_bad_input_names_the_field(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    cases = [
        ("/api/v1/parts/receipts", {"warehouse": "SH", "sku": "OIL-FILTER", "quantity": "0",
                                    "unit_cost": "1"}, 422, "quantity"),
        ("/api/v1/parts/receipts", {"warehouse": "SH", "sku": "OIL-FILTER", "quantity": "-1",
                                    "unit_cost": "1"}, 422, "quantity"),
        ("/api/v1/parts/receipts", {"warehouse": "SH", "sku": "OIL-FILTER", "quantity": "1",
                                    "unit_cost": "-1"}, 422, "unit_cost"),
        ("/api/v1/parts/receipts", {"warehouse": "XX", "sku": "OIL-FILTER", "quantity": "1",
                                    "unit_cost": "1"}, 422, "warehouse"),
        ("/api/v1/parts/receipts", {"warehouse": "SH", "sku": "NOPE", "quantity": "1",
                                    "unit_cost": "1"}, 422, "sku"),
        ("/api/v1/parts/receipts", {"warehouse": "SH", "sku": "OIL-FILTER",
                                    "quantity": "0.00001", "unit_cost": "1"}, 422, "quantity"),
        ("/api/v1/parts/parts", {"sku": "UNKNOWN"}, 422, "sku"),
        ("/api/v1/parts/parts", {"sku": "OIL-FILTER"}, 409, "sku"),
        ("/api/v1/parts/warehouses", {"code": "SH", "name": "x"}, 409, "code"),
        ("/api/v1/parts/warehouses", {"code": "BJ", "name": "x", "region_code": "999999"},
         422, "region_code"),
        ("/api/v1/parts/reservations", {"ref": "r", "sku": "OIL-FILTER", "quantity": "0"},
         422, "quantity"),
        ("/api/v1/parts/reservations", {"ref": "r", "sku": "OIL-FILTER", "quantity": "1",
                                        "expires_at": "2020-01-01T00:00:00Z"}, 422,
         "expires_at"),
        ("/api/v1/parts/adjustments", {"warehouse": "SH", "sku": "OIL-FILTER", "delta": "1",
                                       "note": " "}, 422, "note"),
        ("/api/v1/parts/transfers", {"source": "SH", "target": "SH", "sku": "OIL-FILTER",
                                     "quantity": "1"}, 422, "target"),
    ]
    for path, body, status, field in cases:
        r = await admin.post(path, json=body)
        assert r.status_code == status, (path, body, r.text)
        assert r.json().get("field") == field, (path, body, r.text)
    unknown = await admin.post("/api/v1/parts/receipts", json={
        "warehouse": "SH", "sku": "OIL-FILTER", "quantity": "1", "unit_cost": "1", "x": 1})
    assert unknown.status_code in (400, 422)
    missing = await admin.post("/api/v1/parts/reservations/nope/release")
    assert missing.status_code == 404


async def test_other_tenants_and_roles(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 10, "28")
    _other, other_admin = await setup(jimu_platform)
    assert (await other_admin.get("/api/v1/parts/stock")).json() == []
    assert (await other_admin.get("/api/v1/parts/movements")).json() == []
    off = await jimu_platform.make_tenant(plugins=["price_lists"])
    off_admin = await jimu_platform.login(off.admin_username)
    assert (await off_admin.get("/api/v1/parts/stock")).status_code == 404
    own = (await admin.get("/api/v1/parts/parts")).json()[0]
    by_id = await admin.get(f"/api/v1/parts/parts/{own['id']}")  # ids work as well as SKUs
    assert by_id.status_code == 200 and by_id.json()["part"]["sku"] == own["sku"]
    assert (await other_admin.get(f"/api/v1/parts/parts/{own['id']}")).status_code == 404
    ours = (await admin.get("/api/v1/parts/warehouses")).json()[0]
    theirs = await other_admin.put(f"/api/v1/parts/warehouses/{ours['id']}",
                                   json={"name": "改名"})
    assert theirs.status_code == 404
    await jimu_platform.make_user(tenant, "parts-partner", role="partner")
    partner = await jimu_platform.login("parts-partner")
    assert (await partner.get("/api/v1/parts/stock")).status_code == 403


async def test_order_events_reserve_consume_and_release(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 10, "28")
    await receive(admin, "SH", "OIL-5W30-1L", 10, "40")

    def order(order_id, filters, oil, **extra):
        return {"order_id": order_id, "order_no": f"SO-{order_id}", "partner_id": None,
                "customer_id": None, "region_code": "310115", **extra,
                "lines": [{"line_no": 1, "item": "OIL-FILTER", "quantity": str(filters),
                           "unit_price": "45.00", "amount": "45.00", "category": "保养配件"},
                          {"line_no": 2, "item": "OIL-5W30-1L", "quantity": str(oil),
                           "unit_price": "68.00", "amount": "272.00", "category": "保养配件"},
                          {"line_no": 3, "item": "LABOUR-HOUR", "quantity": "0.5",
                           "unit_price": "120.00", "amount": "60.00", "category": "工时"}]}

    async with jimu_platform.as_tenant(tenant):
        await emit("orders.created", order(12, 1, 4))
    assert (await stock(admin, "OIL-5W30-1L", "SH"))["reserved"] == D(4)
    before = await counts(jimu_platform, tenant)
    refused = False
    try:
        async with jimu_platform.as_tenant(tenant):
            await emit("orders.created", order(13, 1, 7))
    except Exception as exc:  # the emitting request fails with the parts' Conflict
        refused = True
        assert getattr(exc, "status_code", None) == 409
        assert exc.field == "lines[1].quantity" and "全合成机油 1L" in str(exc)
    assert refused
    assert await counts(jimu_platform, tenant) == before
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.completed", order(12, 1, 4, completed_at="2026-05-10T08:00:00Z"))
    row = await stock(admin, "OIL-5W30-1L", "SH")
    assert (row["on_hand"], row["reserved"]) == (D(6), D(0))
    listed = {x["ref"]: x for x in (await admin.get("/api/v1/parts/reservations")).json()}
    assert D(listed["order:12:1"]["cost"]) + D(listed["order:12:2"]["cost"]) == D("188.00")
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.created", order(14, 2, 2))
        await emit("orders.cancelled", order(14, 2, 2))
    assert (await stock(admin, "OIL-FILTER", "SH"))["available"] == D(9)


async def test_part_page_shows_tier_prices(jimu_platform):
    _tenant, admin = await setup(jimu_platform, tier_codes=["A", "B"])
    r = await admin.post("/api/v1/price_lists/rules", json={
        "code": "TIER-A-FILTER", "kind": "fixed", "sku": "OIL-FILTER", "value": "38",
        "partner_tiers": ["A"]})
    assert r.status_code == 201, r.text
    detail = (await admin.get("/api/v1/parts/parts/OIL-FILTER")).json()
    assert [(t["tier"], D(t["price"])) for t in detail["tier_prices"]] == [
        ("A", D("38.00")), ("B", D("45.00"))]
    page = await admin.get("/admin/p/parts/parts/OIL-FILTER")
    assert page.status_code == 200 and "机油滤芯" in page.text and "38.00" in page.text


async def test_admin_pages(jimu_platform):
    _tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 10, "28")
    for path, text in (("/admin/p/parts/", "OIL-FILTER"), ("/admin/p/parts/movements", "receipt"),
                       ("/admin/p/parts/reservations", "预留"),
                       ("/admin/p/parts/receive", "入库登记"),
                       ("/admin/p/parts/?low=1", "OIL-FILTER")):
        page = await admin.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert text in page.text, path
    bad = await admin.post("/admin/p/parts/receive", data={
        "csrf_token": admin.headers["X-CSRF-Token"], "warehouse": "SH", "sku": "OIL-FILTER",
        "quantity": "-2", "unit_cost": "28"})
    assert bad.status_code == 422 and "field-error" in bad.text
    assert "quantity 必须大于零" in bad.text
    good = await admin.post("/admin/p/parts/receive", data={
        "csrf_token": admin.headers["X-CSRF-Token"], "warehouse": "SZ", "sku": "OIL-FILTER",
        "quantity": "6", "unit_cost": "27.5"})
    assert good.status_code in (200, 302, 303)
    assert (await stock(admin, "OIL-FILTER", "SZ"))["on_hand"] == D(6)


async def test_demo_seed(jimu_platform):
    tenant = await jimu_platform.make_tenant(plugins=["price_lists", SLUG])
    admin = await jimu_platform.login(tenant.admin_username)
    async with jimu_platform.as_tenant(tenant):
        await services.seed_demo(tenant.id)
    assert (await stock(admin, "OIL-FILTER", "SH"))["on_hand"] == D(120)
    assert (await stock(admin, "OIL-FILTER", "SZ"))["on_hand"] == D(60)
    assert (await stock(admin, "OIL-5W30-1L", "SH"))["on_hand"] == D(400)
    assert (await stock(admin, "OIL-5W30-1L", "SZ"))["on_hand"] == D(200)
    assert len((await admin.get("/api/v1/parts/reservations")).json()) == 2


async def test_concurrent_reservations_never_oversell(jimu_platform):
    import asyncio

    _tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 5, "28")

    async def one(i):
        return (await admin.post("/api/v1/parts/reservations", json={
            "ref": f"rush:{i}", "sku": "OIL-FILTER", "quantity": "1",
            "warehouse": "SH"})).status_code

    codes = await asyncio.gather(*(one(i) for i in range(10)))
    assert sorted(codes) == [201] * 5 + [409] * 5
    row = await stock(admin, "OIL-FILTER", "SH")
    assert (row["on_hand"], row["reserved"], row["available"]) == (D(5), D(5), D(0))


async def test_a_reservation_ended_twice_at_once_gives_its_stock_back_once(jimu_platform):
    from jimu_parts import services
    from jimu_sdk import Conflict

    tenant, admin = await setup(jimu_platform)
    await receive(admin, "SH", "OIL-FILTER", 10, "28")
    for ref in ("a", "b"):
        await admin.post("/api/v1/parts/reservations", json={
            "ref": ref, "sku": "OIL-FILTER", "quantity": "4"})
    async with jimu_platform.as_tenant(tenant), jimu_platform.kernel.db.transaction():
        seen_by_the_timer = await services.reservation_by_ref("a")
    assert (await admin.post("/api/v1/parts/reservations/a/release")).status_code == 201
    # The expiry timer read "active" before the release committed: it must not release again
    # (that would eat into reservation b's hold).
    async with jimu_platform.as_tenant(tenant), jimu_platform.kernel.db.transaction():
        try:
            await services._end(seen_by_the_timer, "expired")
        except Conflict:
            pass
        else:
            raise AssertionError("a reservation was released twice")
    held = await stock(admin, "OIL-FILTER", "SH")
    assert (held["reserved"], held["available"]) == (D(4), D(6))
