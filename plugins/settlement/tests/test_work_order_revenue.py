"""Work-order revenue (工单收益透明): a completed repair's labour at the region's rate, parts at
the partner's price, the call-out fee and the subsidy, split between the enterprise, the dealer
and the installer; each party sees its own part at once; corrections are adjusting entries."""

from decimal import Decimal as D

from settlement_support import API, at, ok, repair, world


def amounts(line, *keys):
    return tuple(D(line[k]) for k in keys)


async def test_a_completed_repair_books_its_revenue_split_three_ways(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 12))
    here = await world(jimu_platform)
    order = await repair(jimu_platform, here)
    body = await ok(await here.admin.get(f"{API}/work-orders/{order['id']}"))
    [document] = body["documents"]
    assert (document["kind"], document["status"], document["period"]) == (
        "original", "booked", "2026-10")
    lines = {line["key"]: line for line in document["lines"]}
    assert list(lines) == ["labour", "parts:FILTER", "fee:callout", "subsidy:suburb"]
    keys = ("amount", "enterprise_amount", "dealer_amount", "installer_amount")
    assert amounts(lines["labour"], *keys) == (D("300.00"), D("90.00"), D(0), D("210.00"))
    assert amounts(lines["parts:FILTER"], *keys) == (D("100.00"), D("90.00"), D("10.00"), D(0))
    assert D(lines["parts:FILTER"]["cost"]) == D("56.00")  # what the parts library booked
    assert amounts(lines["fee:callout"], *keys) == (D("50.00"), D(0), D(0), D("50.00"))
    assert amounts(lines["subsidy:suburb"], *keys) == (D(0), D("-20.00"), D(0), D("20.00"))
    assert (D(document["total"]), D(document["installer_amount"]), D(document["dealer_amount"]),
            D(document["enterprise_amount"]), D(document["margin"])) == (
        D("450.00"), D("280.00"), D("10.00"), D("160.00"), D("104.00"))
    # Each line says how it was priced and why each party got its share.
    labour = lines["labour"]
    assert any("120.00" in step["reason"] for step in labour["price_trace"])
    assert labour["split_trace"][0]["reason"] == "安装工时分成：工时费 × 70% → 安装/服务商"
    assert lines["subsidy:suburb"]["split_trace"][0]["reason"].startswith("远郊补贴")

    entries = (await ok(await here.admin.get(f"{API}/entries",
                                             params={"period": "2026-10"})))["items"]
    booked = sorted((e["role"], e["kind"], D(e["amount"])) for e in entries)
    assert booked == [("dealer", "work_order_shares", D("10.00")),
                      ("enterprise", "work_order_revenue", D("450.00")),
                      ("installer", "service_fees", D("260.00")),
                      ("installer", "subsidies", D("20.00"))]


async def test_each_party_sees_its_own_part_at_once(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 12))
    here = await world(jimu_platform)
    order = await repair(jimu_platform, here)
    mine = await ok(await here.installer_client.get(f"{API}/work-orders/{order['id']}"))
    [document] = mine["documents"]
    assert mine["roles"] == ["installer"] and document["share"] == "280.00"
    assert [(line["title"], line["share"]) for line in document["lines"]] == [
        ("工时 2.5 h", "210.00"), ("上门费", "50.00"), ("远郊补贴", "20.00")]
    assert "total" not in document and "enterprise_amount" not in document
    dealer = await ok(await here.dealer_client.get(f"{API}/work-orders/{order['id']}"))
    assert dealer["documents"][0]["share"] == "10.00"
    assert [line["title"] for line in dealer["documents"][0]["lines"]] == ["滤芯 × 2"]
    # The installer was told at once, with a link to its fee detail.
    inbox = (await ok(await here.installer_client.get("/api/v1/notifications")))["items"]
    [told] = [n for n in inbox if order["number"] in n["title"] and "¥" in n["title"]]
    assert "¥280.00" in told["title"]
    assert told["link"] == f"/admin/p/settlement/work-orders/{order['id']}"
    # Another partner's people see nothing of it.
    other = await ok(await here.admin.post("/api/v1/partners", json={
        "code": "HN-ZD", "name": "华南总代", "kind": "dealer"}), 201)
    await jimu_platform.make_user(here.tenant, f"{here.tenant.slug}-hn", role="partner",
                                  partner_id=other["id"])
    stranger = await jimu_platform.login(f"{here.tenant.slug}-hn")
    assert (await stranger.get(f"{API}/work-orders/{order['id']}")).status_code == 404
    entries = (await ok(await stranger.get(f"{API}/entries")))["items"]
    assert entries == []


async def test_a_redelivered_completion_books_nothing_twice(jimu_platform):
    from jimu_settlement import revenue

    jimu_platform.clock.freeze(at(2026, 10, 12))
    here = await world(jimu_platform)
    order = await repair(jimu_platform, here)
    async with jimu_platform.as_tenant(here.tenant):
        again = await revenue.book_work_order({**order, "completed_at": None})
    assert again is None
    body = await ok(await here.admin.get(f"{API}/work-orders/{order['id']}"))
    assert len(body["documents"]) == 1


async def test_a_correction_is_a_new_adjusting_entry(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 12))
    here = await world(jimu_platform)
    order = await repair(jimu_platform, here)
    nothing = await here.admin.post(f"{API}/work-orders/{order['id']}/recompute",
                                    json={"reason": "核对"})
    assert nothing.status_code == 409, nothing.text
    rule = await ok(await here.admin.get(f"{API}/split-rules/INST-LABOUR"))
    changed = {**{k: rule[k] for k in ("code", "name", "component", "role", "basis")},
               "value": "75"}
    await ok(await here.admin.put(f"{API}/split-rules/INST-LABOUR", json=changed))
    body = await ok(await here.admin.post(f"{API}/work-orders/{order['id']}/recompute",
                                          json={"reason": "十月起工时分成提高到75%"}))
    original, adjusting = body["documents"]
    assert D(original["installer_amount"]) == D("280.00")  # never edited
    assert (adjusting["kind"], adjusting["sequence"], adjusting["reason"]) == (
        "adjustment", 1, "十月起工时分成提高到75%")
    [line] = adjusting["lines"]
    assert (line["key"], D(line["amount"]), D(line["installer_amount"]),
            D(line["enterprise_amount"])) == ("labour", D(0), D("15.00"), D("-15.00"))
    manual = await ok(await here.admin.post(f"{API}/work-orders/{order['id']}/adjustments",
                                            json={"reason": "夜间加急", "lines": [{
                                                "title": "夜间加急费", "amount": "80.00",
                                                "installer": "60.00"}]}))
    [extra] = manual["documents"][2]["lines"]
    assert (D(extra["amount"]), D(extra["installer_amount"]), D(extra["enterprise_amount"])) == (
        D("80.00"), D("60.00"), D("20.00"))
    mine = await ok(await here.installer_client.get(f"{API}/work-orders/{order['id']}"))
    assert [d["share"] for d in mine["documents"]] == ["280.00", "15.00", "60.00"]
    fees = (await ok(await here.admin.get(f"{API}/entries", params={
        "partner_id": here.ids["installer"], "kind": "service_fees"})))["items"]
    assert sorted(D(e["amount"]) for e in fees) == [D("15.00"), D("60.00"), D("260.00")]
    refused = await here.admin.post(f"{API}/work-orders/{order['id']}/adjustments", json={
        "reason": "x", "lines": [{"title": "给经销商", "amount": "0", "dealer": "5.001"}]})
    assert refused.status_code == 422 and refused.json()["field"] == "lines[0].dealer"


async def test_a_work_order_without_a_fee_schedule_is_recorded_as_skipped(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 12))
    here = await world(jimu_platform)
    await ok(await here.admin.delete(f"{API}/fee-schedules/by-type",
                                     params={"work_order_type": "repair"}), 204)
    order = await repair(jimu_platform, here)
    [document] = (await ok(await here.admin.get(f"{API}/work-orders/{order['id']}")))[
        "documents"]
    assert (document["status"], document["reason"]) == (
        "skipped", "no fee schedule for work order type repair")
    assert (await ok(await here.admin.get(f"{API}/entries")))["items"] == []


async def test_split_rules_refuse_shares_above_100_percent(jimu_platform):
    here = await world(jimu_platform)
    over = await here.admin.post(f"{API}/split-rules", json={
        "code": "TOO-MUCH", "name": "过高", "component": "labour", "role": "installer",
        "value": "120"})
    assert over.status_code == 422 and over.json()["field"] == "value"
    together = await here.admin.post(f"{API}/split-rules", json={
        "code": "DEALER-LABOUR", "name": "经销商工时", "component": "labour",
        "role": "dealer", "value": "40"})
    assert together.status_code == 422, together.text
    assert "110%" in together.json()["message"] and "INST-LABOUR" in together.json()["message"]
    elsewhere = await here.admin.post(f"{API}/split-rules", json={
        "code": "DEALER-LABOUR", "name": "经销商工时（上海）", "component": "labour",
        "role": "dealer", "value": "40", "region_codes": ["310000"],
        "work_order_types": ["install"]})
    assert elsewhere.status_code == 422  # INST-LABOUR covers every region and type
    bad = await here.admin.post(f"{API}/split-rules", json={
        "code": "X", "name": "x", "component": "tips", "role": "installer", "value": "1"})
    assert bad.status_code == 422 and bad.json()["field"] == "component"
