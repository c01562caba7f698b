"""Settlement runs (结算单) end to end: a North China dealer on a ladder rebate and a South China
dealer on a volume share settled in the same run; re-running changes nothing; a closed period
is locked and a late order is carried forward; statements move draft → confirmed → paid; a
failed run writes nothing."""

from decimal import Decimal as D

from settlement_support import (
    API,
    NORTH_LADDER,
    SOUTH_SHARE,
    at,
    complete_order,
    ok,
    partner,
    run_period,
    statement_of,
    world,
)


async def dealers(jimu_platform):
    here = await world(jimu_platform, rules=False)
    here.ids["north"] = await partner(here.admin, "HB-TJ", "天津津南一级代理", "120112",
                                      level="level1")
    here.ids["south"] = await partner(here.admin, "HN-GZ", "华南总代·广州粤通", "440106")
    await ok(await here.admin.post(f"{API}/programmes", json=NORTH_LADDER), 201)
    await ok(await here.admin.post(f"{API}/programmes", json=SOUTH_SHARE), 201)
    return here


async def october(jimu_platform, here):
    await complete_order(jimu_platform, here.tenant, here.ids["north"], [
        ("TEA-500", "饮料", 3000, "204000.00"), ("CUP", "器具", 50, "500.00")],
        at(2026, 10, 9))
    await complete_order(jimu_platform, here.tenant, here.ids["north"], [
        ("TEA-500", "饮料", 1680, "114240.00")], at(2026, 10, 28))
    await complete_order(jimu_platform, here.tenant, here.ids["south"], [
        ("TEA-500", "饮料", 1500, "120000.00")], at(2026, 10, 15))


async def test_north_ladder_and_south_share_settle_in_the_same_run(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await dealers(jimu_platform)
    await october(jimu_platform, here)
    accrued = await ok(await here.admin.get(f"{API}/accruals/{here.ids['north']}"))
    [ladder] = accrued["programmes"]
    assert (ladder["volume"], ladder["accrued"], ladder["band"], ladder["to_next_band"]) == (
        "4680", "4680.00", 2, "320")  # "you are 320 cases from the next band"
    south = (await ok(await here.admin.get(f"{API}/accruals/{here.ids['south']}")))[
        "programmes"]
    assert [(p["programme"], p["accrued"]) for p in south] == [("HN-SHARE", "3600.00")]

    run = await run_period(jimu_platform, here.admin, "2026-10")
    assert run["totals"]["rebates"] == "4680.00" and run["totals"]["volume_shares"] == "3600.00"
    north = await statement_of(here.admin, "2026-10", here.ids["north"])
    assert north["status"] == "draft" and north["number"].startswith("ST-2026-10-")
    lines = [(x["kind"], x["carried"], D(x["amount"]), D(x["quantity"])) for x in north["lines"]]
    assert lines == [("sales", False, D("318740.00"), D("4730")),
                     ("rebates", False, D("4680.00"), D(0))]
    assert (D(north["sales"]), D(north["payable"])) == (D("318740.00"), D("4680.00"))
    [programme] = north["lines"][1]["detail"]["programmes"]
    assert programme["explanation"] == "4,680箱 达到第 2 档，全量按 1 元/箱 = 4,680.00"
    south = await statement_of(here.admin, "2026-10", here.ids["south"])
    assert [(x["kind"], D(x["amount"])) for x in south["lines"]] == [
        ("sales", D("120000.00")), ("volume_shares", D("3600.00"))]
    # Each line leads to the ledger entries it sums, each naming its document.
    sales = await ok(await here.admin.get(
        f"{API}/statements/{north['id']}/lines/1/entries"))
    assert sales["total"] == 3 and sum(D(e["amount"]) for e in sales["items"]) == D("318740.00")
    assert {e["source_ref"] for e in sales["items"]} == {
        e["source_ref"] for e in sales["items"] if e["source_ref"].startswith("SO-2026-")}
    rebate = await ok(await here.admin.get(f"{API}/statements/{north['id']}/lines/2/entries"))
    assert [(e["source_type"], e["source_ref"]) for e in rebate["items"]] == [
        ("programme", "HB-LADDER")]


async def test_running_a_period_again_gives_the_same_statements(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await dealers(jimu_platform)
    await october(jimu_platform, here)
    await run_period(jimu_platform, here.admin, "2026-10")
    first = await statement_of(here.admin, "2026-10", here.ids["north"])
    confirmed = await ok(await here.admin.post(f"{API}/statements/{first['id']}/confirm",
                                               json={}))
    assert confirmed["status"] == "confirmed"
    await run_period(jimu_platform, here.admin, "2026-10")
    again = await statement_of(here.admin, "2026-10", here.ids["north"])
    assert (again["id"], again["status"], again["revision"]) == (first["id"], "confirmed", 0)
    assert [(x["kind"], x["amount"]) for x in again["lines"]] == [
        (x["kind"], x["amount"]) for x in first["lines"]]
    rebates = (await ok(await here.admin.get(f"{API}/entries", params={
        "period": "2026-10", "kind": "rebates"})))["items"]
    assert len(rebates) == 1  # replaced, never counted twice
    # A document booked after confirmation changes the amounts: back to draft, with a note.
    await complete_order(jimu_platform, here.tenant, here.ids["north"], [
        ("TEA-500", "饮料", 400, "27200.00")], at(2026, 10, 30))
    await run_period(jimu_platform, here.admin, "2026-10")
    changed = await statement_of(here.admin, "2026-10", here.ids["north"])
    assert (changed["status"], changed["revision"], changed["payable"]) == (
        "draft", 1, "10160.00")  # 5,080 cases: band 3, 2 元 × 5,080
    assert changed["events"][-1]["action"] == "recomputed"


async def test_a_run_again_rewrites_only_the_lines_that_changed(jimu_platform):
    # A line of a run again is updated (amount, number), added or removed as the ledger and
    # the programmes now say; the stored lines then match what a first run would write.
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await dealers(jimu_platform)
    await october(jimu_platform, here)
    await run_period(jimu_platform, here.admin, "2026-10")
    await ok(await here.admin.post(f"{API}/periods/2026-10/close", json={}))
    jimu_platform.clock.freeze(at(2026, 11, 10))
    north = here.ids["north"]
    await complete_order(jimu_platform, here.tenant, north, [
        ("TEA-500", "饮料", 200, "13600.00")], at(2026, 11, 5))
    await run_period(jimu_platform, here.admin, "2026-11")

    def shape(statement):
        return [(x["line_no"], x["kind"], x["carried"], D(x["amount"]))
                for x in statement["lines"]]

    first = await statement_of(here.admin, "2026-11", north)
    assert shape(first) == [(1, "sales", False, D("13600.00")), (2, "rebates", False, D(0))]
    # A late October order: a carried-forward line comes between; the ladder is switched
    # off: its line goes.
    await complete_order(jimu_platform, here.tenant, north, [
        ("TEA-500", "饮料", 100, "6800.00")], at(2026, 10, 31, 9))
    await ok(await here.admin.put(f"{API}/programmes/HB-LADDER",
                                  json={**NORTH_LADDER, "enabled": False}))
    await run_period(jimu_platform, here.admin, "2026-11")
    again = await statement_of(here.admin, "2026-11", north)
    assert again["id"] == first["id"]
    assert shape(again) == [(1, "sales", False, D("13600.00")), (2, "sales", True, D("6800.00"))]
    await ok(await here.admin.put(f"{API}/programmes/HB-LADDER", json=NORTH_LADDER))
    await complete_order(jimu_platform, here.tenant, north, [
        ("TEA-500", "饮料", 700, "47600.00")], at(2026, 11, 9))
    await run_period(jimu_platform, here.admin, "2026-11")
    back = await statement_of(here.admin, "2026-11", north)
    assert shape(back) == [(1, "sales", False, D("61200.00")), (2, "sales", True, D("6800.00")),
                           (3, "rebates", False, D("1000.00"))]  # 1,000 cases: band 2
    for line in back["lines"]:
        found = await ok(await here.admin.get(
            f"{API}/statements/{back['id']}/lines/{line['line_no']}/entries"))
        assert sum((D(e["amount"]) for e in found["items"]), D(0)) == D(line["amount"])


async def test_a_closed_period_is_locked_and_a_late_order_is_carried_forward(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await dealers(jimu_platform)
    await october(jimu_platform, here)
    early = await here.admin.post(f"{API}/periods/2026-10/close", json={})
    assert early.status_code == 409 and "run the settlement" in early.json()["message"]
    await run_period(jimu_platform, here.admin, "2026-10")
    await complete_order(jimu_platform, here.tenant, here.ids["south"], [
        ("TEA-500", "饮料", 10, "800.00")], at(2026, 10, 30))
    stale = await here.admin.post(f"{API}/periods/2026-10/close", json={})
    assert stale.status_code == 409 and "after its last settlement run" in stale.json()[
        "message"]
    await run_period(jimu_platform, here.admin, "2026-10")
    closed = await ok(await here.admin.post(f"{API}/periods/2026-10/close",
                                            json={"note": "十月关账"}))
    assert closed["status"] == "closed"
    refused = await here.admin.post(f"{API}/periods/2026-10/runs")
    assert refused.status_code == 409
    jimu_platform.clock.freeze(at(2026, 11, 3))
    # A late order dated in October goes to November, marked as carried forward.
    await complete_order(jimu_platform, here.tenant, here.ids["north"], [
        ("TEA-500", "饮料", 100, "6800.00")], at(2026, 10, 31, 9))
    [late] = (await ok(await here.admin.get(f"{API}/entries", params={
        "period": "2026-11", "partner_id": here.ids["north"]})))["items"]
    assert (late["period"], late["origin_period"]) == ("2026-11", "2026-10")
    await run_period(jimu_platform, here.admin, "2026-11")
    november = await statement_of(here.admin, "2026-11", here.ids["north"])
    assert [(x["kind"], x["carried"], D(x["amount"])) for x in november["lines"]] == [
        ("sales", True, D("6800.00")), ("rebates", False, D("0.00"))]
    october_north = await statement_of(here.admin, "2026-10", here.ids["north"])
    assert D(october_north["sales"]) == D("318740.00")  # the closed month did not move
    # Reopening needs a reason, and both moves are in the audit log.
    silent = await here.admin.post(f"{API}/periods/2026-10/reopen", json={"reason": " "})
    assert silent.status_code == 422
    await ok(await here.admin.post(f"{API}/periods/2026-10/reopen",
                                   json={"reason": "补录返利"}))
    audit = (await ok(await here.admin.get("/api/v1/audit", params={
        "action": "settlement.period"})))
    actions = [a["action"] for a in (audit["items"] if isinstance(audit, dict) else audit)]
    assert "settlement.period.close" in actions and "settlement.period.reopen" in actions


async def test_a_statement_goes_from_draft_to_confirmed_to_paid(jimu_platform):
    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await dealers(jimu_platform)
    dealer_user = await jimu_platform.make_user(here.tenant, f"{here.tenant.slug}-tj",
                                                role="partner", partner_id=here.ids["north"])
    assert dealer_user
    dealer = await jimu_platform.login(f"{here.tenant.slug}-tj")
    await october(jimu_platform, here)
    await run_period(jimu_platform, here.admin, "2026-10")
    mine = await ok(await dealer.get(f"{API}/statements"))
    assert [s["partner_id"] for s in mine] == [here.ids["north"]]
    statement = mine[0]
    other = await statement_of(here.admin, "2026-10", here.ids["south"])
    assert (await dealer.get(f"{API}/statements/{other['id']}")).status_code == 404
    assert (await dealer.post(f"{API}/statements/{other['id']}/confirm", json={})
            ).status_code == 404
    empty = await dealer.post(f"{API}/statements/{statement['id']}/dispute", json={})
    assert empty.status_code == 422 and empty.json()["field"] == "comment"
    disputed = await ok(await dealer.post(f"{API}/statements/{statement['id']}/dispute",
                                          json={"comment": "10月28日订单未计入"}))
    assert (disputed["status"], disputed["dispute_comment"]) == ("disputed", "10月28日订单未计入")
    confirmed = await ok(await dealer.post(f"{API}/statements/{statement['id']}/confirm",
                                           json={"comment": "已核对"}))
    assert confirmed["status"] == "confirmed"
    early = await here.admin.post(f"{API}/statements/{statement['id']}/pay", json={})
    assert early.status_code == 409 and "close period 2026-10" in early.json()["message"]
    assert (await dealer.post(f"{API}/statements/{statement['id']}/pay", json={})
            ).status_code == 403
    await ok(await here.admin.post(f"{API}/periods/2026-10/close", json={}))
    paid = await ok(await here.admin.post(f"{API}/statements/{statement['id']}/pay",
                                          json={"reference": "BANK-20261105-01"}))
    assert (paid["status"], paid["paid_ref"]) == ("paid", "BANK-20261105-01")
    twice = await here.admin.post(f"{API}/statements/{statement['id']}/pay", json={})
    assert twice.status_code == 409 and "paid already" in twice.json()["message"]
    assert [e["action"] for e in paid["events"]] == ["dispute", "confirm", "pay"]
    reopen = await here.admin.post(f"{API}/periods/2026-10/reopen",
                                   json={"reason": "更正"})
    assert reopen.status_code == 409 and "is paid" in reopen.json()["message"]


async def test_a_failed_run_writes_nothing(jimu_platform, monkeypatch):
    from jimu_settlement import runs

    jimu_platform.clock.freeze(at(2026, 10, 30))
    here = await dealers(jimu_platform)
    await october(jimu_platform, here)
    real = runs._write_lines

    async def failing(period):  # the last write: everything before it must go too
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "_write_lines", failing)
    run = await ok(await here.admin.post(f"{API}/periods/2026-10/runs"), 201)
    await jimu_platform.run_jobs()  # the job fails (recorded for the admin)
    failed = await ok(await here.admin.get(f"{API}/runs/{run['id']}"))
    assert (failed["status"], failed["error"]) == ("failed", "RuntimeError: disk full")
    assert await ok(await here.admin.get(f"{API}/statements")) == []
    rebates = await ok(await here.admin.get(f"{API}/entries", params={"kind": "rebates"}))
    assert rebates["items"] == []
    monkeypatch.setattr(runs, "_write_lines", real)
    await run_period(jimu_platform, here.admin, "2026-10")
    assert len(await ok(await here.admin.get(f"{API}/statements"))) == 2


async def test_bad_periods_and_unknown_statements_answer_4xx(jimu_platform):
    here = await world(jimu_platform, rules=False)
    assert (await here.admin.post(f"{API}/periods/2026-13/runs")).status_code in (400, 422)
    missing = await here.admin.post(f"{API}/periods/2031-01/runs")
    assert missing.status_code == 404 and "2031-01" in missing.json()["message"]
    assert (await here.admin.get(f"{API}/statements/999999")).status_code == 404
    made = await ok(await here.admin.post(f"{API}/periods", json={"period": "2026-12"}), 201)
    assert made["status"] == "open"
    assert (await here.admin.post(f"{API}/periods", json={"period": "2026-12"})
            ).status_code == 409
    unknown = await here.admin.get(f"{API}/accruals/999999")
    assert unknown.status_code == 404
