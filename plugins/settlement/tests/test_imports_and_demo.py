"""Imported opening sales (期初导入) count like booked orders, a bad row refuses the whole
batch, a row of a closed month is carried forward; a run can close its period; the work-order
revenue list shows a partner only its own share; the demo tenant has a closed month with the
North and South China dealers' statements."""

from decimal import Decimal as D

from settlement_support import API, NORTH_LADDER, at, ok, repair, run_period, world


def rows(*specs):
    return [{"partner": code, "date": day, "ref": ref, "item": "FILTER", "quantity": quantity,
             "amount": amount} for code, day, ref, quantity, amount in specs]


async def test_an_import_books_sales_that_a_run_settles(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 11, 20))
    here = await world(jimu_platform, rules=False)
    await ok(await here.admin.post(f"{API}/programmes", json={
        **NORTH_LADDER, "categories": ["配件"]}), 201)
    october = rows(("HB-ZD", "2026-10-03", "ERP-001", "800", "36000.00"),
                   ("HB-ZD", "2026-10-20", "ERP-002", "700", "31500.00"))
    batch = await ok(await here.admin.post(f"{API}/imports", json={
        "label": "旧系统10月进货", "rows": october}), 201)
    assert (batch["rows"], D(batch["quantity"]), D(batch["amount"])) == (2, 1500, D("67500"))
    await ok(await here.admin.post(f"{API}/periods/2026-10/runs", json={"close": True}), 201)
    await jimu_platform.run_jobs()
    period = await ok(await here.admin.get(f"{API}/periods/2026-10"))
    assert period["status"] == "closed"
    [statement] = await ok(await here.admin.get(f"{API}/statements", params={"period": "2026-10"}))
    detail = await ok(await here.admin.get(f"{API}/statements/{statement['id']}"))
    lines = {line["kind"]: line for line in detail["lines"]}
    assert D(lines["sales"]["amount"]) == D("67500.00")
    assert D(lines["rebates"]["amount"]) == D("1500.00")  # 1,500 cases in the 1 元/箱 band
    entries = await ok(await here.admin.get(
        f"{API}/statements/{statement['id']}/lines/{lines['sales']['line_no']}/entries"))
    assert sorted(e["source_ref"] for e in entries["items"]) == ["ERP-001", "ERP-002"]
    assert {e["source_type"] for e in entries["items"]} == {"import"}
    # A row dated in the closed month is carried forward into November.
    await ok(await here.admin.post(f"{API}/imports", json={
        "label": "补录", "rows": rows(("HB-ZD", "2026-10-31", "ERP-003", "10", "450.00"))}), 201)
    [late] = (await ok(await here.admin.get(f"{API}/entries", params={
        "period": "2026-11", "kind": "sales"})))["items"]
    assert (late["origin_period"], late["source_ref"]) == ("2026-10", "ERP-003")


async def test_one_bad_row_refuses_the_whole_batch(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 11, 20))
    here = await world(jimu_platform, rules=False)
    good = ("HB-ZD", "2026-11-02", "ERP-1", "5", "250.00")
    for bad, field in (
            (("NO-SUCH", "2026-11-02", "ERP-2", "5", "250.00"), "rows[1].partner"),
            (("HB-ZD", "2026-12-02", "ERP-2", "5", "250.00"), "rows[1].date"),
            (("HB-ZD", "2026-11-31", "ERP-2", "5", "250.00"), "rows[1].date"),
            (("HB-ZD", "2026-11-02", "ERP-2", "0", "250.00"), "rows[1].quantity"),
            (("HB-ZD", "2026-11-02", "ERP-2", "5", "250.001"), "rows[1].amount")):
        answer = await here.admin.post(f"{API}/imports", json={
            "label": "批次", "rows": rows(good, bad)})
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
    answer = await here.admin.post(f"{API}/imports", json={"label": "批次", "rows": [
        {**rows(good)[0], "item": "NO-SUCH-SKU"}]})
    assert answer.status_code == 422 and "NO-SUCH-SKU" in answer.text
    assert await ok(await here.admin.get(f"{API}/imports")) == []
    assert (await ok(await here.admin.get(f"{API}/entries")))["total"] == 0
    refused = await here.dealer_client.post(f"{API}/imports", json={
        "label": "批次", "rows": rows(good)})
    assert refused.status_code == 403


async def test_the_work_order_revenue_list_shows_a_partner_its_own_share(jimu_platform):
    here = await world(jimu_platform)
    order = await repair(jimu_platform, here)
    listed = await ok(await here.admin.get(f"{API}/work-orders"))
    [row] = listed["items"]
    assert row["work_order_id"] == order["id"] and row["installer_id"] == here.ids["installer"]
    assert D(row["total"]) == D(row["enterprise_amount"]) + D(row["dealer_amount"]) + D(
        row["installer_amount"])
    mine = (await ok(await here.installer_client.get(f"{API}/work-orders")))["items"]
    assert [r["share"] for r in mine] == [row["installer_amount"]]
    assert "total" not in mine[0] and "dealer_amount" not in mine[0]
    theirs = (await ok(await here.dealer_client.get(f"{API}/work-orders")))["items"]
    assert [r["share"] for r in theirs] == [row["dealer_amount"]]
    # The run of the month settles the same amounts.
    done = await run_period(jimu_platform, here.admin, row["period"])
    assert done["statements"] == 2


async def test_the_demo_has_a_closed_month_with_both_dealers_statements(jimu_platform):
    from jimu.db.tables import Tenant
    from jimu.demo import ensure_demo

    await ensure_demo(jimu_platform.kernel, "demo-password-1")
    await jimu_platform.run_jobs()
    async with jimu_platform.kernel.tenant_scope(None):
        demo = await Tenant.select(Tenant.id).where(Tenant.slug == "demo").first()
    admin = await jimu_platform.login("demo-admin", "demo-password-1")
    this_month, closed = await ok(await admin.get(f"{API}/periods"))  # newest first
    assert (this_month["status"], closed["status"]) == ("open", "closed")
    partners = {p["code"]: p["id"] for p in (await ok(await admin.get(
        "/api/v1/partners", params={"per_page": 100})))["items"]}
    statements = {s["partner_id"]: s for s in await ok(await admin.get(
        f"{API}/statements", params={"period": closed["code"]}))}
    north = await ok(await admin.get(f"{API}/statements/{statements[partners['HB-ZD']]['id']}"))
    south = await ok(await admin.get(f"{API}/statements/{statements[partners['HN-ZD']]['id']}"))
    assert {line["kind"]: D(line["amount"]) for line in north["lines"]}["rebates"] == D("10800")
    assert {line["kind"]: D(line["amount"]) for line in south["lines"]}["volume_shares"] == D(
        "2926.80")
    installer = await jimu_platform.login("demo-installer", "demo-password-1")
    fees = (await ok(await installer.get(f"{API}/work-orders")))["items"]
    assert fees and all(D(row["share"]) > 0 for row in fees)
    assert demo is not None


async def test_a_volume_share_counts_each_document_once(jimu_platform):
    """Per-order pay counts documents, not ledger ids: an imported batch's documents each
    count, and an order whose id equals a batch's is another document."""
    from jimu_sdk import emit
    from settlement_support import SOUTH_SHARE, partner

    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await world(jimu_platform, rules=False)
    south = await partner(here.admin, "HN-GZ", "华南总代", "440106")
    await ok(await here.admin.post(f"{API}/programmes", json={
        **SOUTH_SHARE, "share_pct": "1", "per_order": "10.00"}), 201)
    batch = await ok(await here.admin.post(f"{API}/imports", json={"label": "旧系统", "rows": [
        {"partner": "HN-GZ", "date": "2026-10-02", "ref": f"ERP-{n}", "item": "FILTER",
         "quantity": "1", "amount": "100.00"} for n in (1, 2, 3)]}), 201)
    async with jimu_platform.as_tenant(here.tenant):
        await emit("orders.completed", {
            "order_id": batch["id"], "order_no": "SO-1", "partner_id": south,
            "customer_id": None, "region_code": None,
            "completed_at": at(2026, 10, 5).isoformat(),
            "lines": [{"line_no": 1, "item": "FILTER", "quantity": "1", "unit_price": "100.00",
                       "amount": "100.00", "category": "配件"}]})
    await jimu_platform.run_jobs()
    await run_period(jimu_platform, here.admin, "2026-10")
    [row] = await ok(await here.admin.get(f"{API}/statements", params={"period": "2026-10"}))
    detail = await ok(await here.admin.get(f"{API}/statements/{row['id']}"))
    share = next(line for line in detail["lines"] if line["kind"] == "volume_shares")
    assert D(share["amount"]) == D("44.00")  # 400.00 × 1% + 4 documents × 10.00
