"""Price tiers, end to end through the HTTP API, with the seeds' worked examples."""

import datetime as dt

import pytest
from jimu_price_tiers.tables import Assignment, Volume
from jimu_sdk import emit

# 2026-11-15 12:00 in Shanghai: the last full month is October 2026.
NOW = dt.datetime(2026, 11, 15, 4, 0, tzinfo=dt.UTC)
FMCG_BANDS = {"unit": "箱", "bands": [{"min": "0", "max": "1000", "tier": "C"},
                                      {"min": "1000", "max": "5000", "tier": "B"},
                                      {"min": "5000", "max": None, "tier": "A"}]}
LEVELS = {"general_agent": "A", "level1": "B", "level2": "C", "": "C"}
CITY = {"groups": [{"name": "一线城市", "region_codes": ["110000", "310000", "440100", "440300"],
                    "tier": "T1"},
                   {"name": "二线城市", "region_codes": ["510100", "330100"], "tier": "T2"},
                   {"name": "三线城市", "region_codes": ["510700"], "tier": "T3"}],
        "county_tier": "T4", "default": "T4"}
COOPERATION = {"thresholds": [{"tier": "A", "min_completed_orders": 20, "min_months": 12},
                              {"tier": "B", "min_completed_orders": 5, "min_months": 3},
                              {"tier": "C", "min_completed_orders": 0, "min_months": 0}]}


async def setup(jimu_platform, plugins=("price_tiers",)):
    jimu_platform.clock.freeze(NOW)
    tenant = await jimu_platform.make_tenant(plugins=list(plugins))
    admin = await jimu_platform.login(tenant.admin_username)
    for code, rank in (("A", 1), ("B", 2), ("C", 3), ("T1", 1), ("T2", 2), ("T3", 3),
                       ("T4", 4)):
        r = await admin.post("/api/v1/price_tiers/tiers",
                             json={"code": code, "name": f"{code} 档", "rank": rank})
        assert r.status_code == 201, r.text
    return tenant, admin


async def partner(admin, code, kind="store", level="", region="110105"):
    r = await admin.post("/api/v1/partners", json={"code": code, "name": code, "kind": kind,
                                                   "level": level, "region_code": region})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def rule_set(admin, code, basis, body, status=201, **extra):
    r = await admin.post("/api/v1/price_tiers/rule-sets",
                         json={"code": code, "name": code, "basis": basis, "body": body,
                               **extra})
    assert r.status_code == status, r.text
    return r.json()


async def volumes(admin, partner_id, quantity, when="2026-10-10T10:00:00+08:00", ref=None,
                  evaluate=False):
    r = await admin.post("/api/v1/price_tiers/volumes", json={"evaluate": evaluate, "lines": [
        {"order_ref": ref or f"O-{partner_id}-{when}-{quantity}", "partner_id": partner_id,
         "quantity": str(quantity), "amount": "0", "completed_at": when,
         "item": "WATER", "category": "饮料"}]})
    assert r.status_code == 200, r.text
    return r.json()


async def tier_of(admin, partner_id):
    r = await admin.get(f"/api/v1/price_tiers/partners/{partner_id}/tier")
    assert r.status_code == 200, r.text
    return r.json()


async def evaluate(admin, partner_id=None):
    url = "/api/v1/price_tiers/evaluate" + (f"?partner_id={partner_id}" if partner_id else "")
    r = await admin.post(url)
    assert r.status_code == 200, r.text
    return r.json()


async def test_monthly_volume_5000_4999_1000_200(jimu_platform):
    _, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS, partner_kinds=["store"])
    ids = {}
    for quantity in (5000, 4999, 1000, 200):
        ids[quantity] = await partner(admin, f"S{quantity}")
        await volumes(admin, ids[quantity], quantity)
    summary = await evaluate(admin)
    assert summary == {"evaluated": 4, "changed": 4, "by_tier": {"A": 1, "B": 2, "C": 1}}
    tiers = {q: (await tier_of(admin, pid))["tier"] for q, pid in ids.items()}
    assert tiers == {5000: "A", 4999: "B", 1000: "B", 200: "C"}
    a = await tier_of(admin, ids[5000])
    assert a["reason"] == "上月（2026-10）完成 5,000箱 ≥ 5,000箱 → A"
    assert a["rule_set"] == "fmcg"
    assert (await tier_of(admin, ids[200]))["reason"] == "上月（2026-10）完成 200箱 < 1,000箱 → C"


async def test_volume_window_is_the_last_full_month_in_shanghai(jimu_platform):
    _, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    # 2026-10-01 00:00 Shanghai is 2026-09-30 16:00 UTC: inside October.
    await volumes(admin, store, 600, when="2026-10-01T00:00:00+08:00")
    await volumes(admin, store, 400, when="2026-10-31T23:59:59+08:00")
    await volumes(admin, store, 9000, when="2026-09-30T23:59:59+08:00")  # September
    await volumes(admin, store, 9000, when="2026-11-01T00:00:00+08:00")  # this month
    await evaluate(admin)
    current = await tier_of(admin, store)
    assert current["tier"] == "B"
    history = (await admin.get(f"/api/v1/price_tiers/partners/{store}/history")).json()
    assert history[0]["facts"]["quantity"] == "1000.0000"


async def test_city_tiers_put_the_county_store_on_t4(jimu_platform):
    _, admin = await setup(jimu_platform)
    await rule_set(admin, "hotpot", "city_tier", CITY, partner_kinds=["store"])
    stores = {"HG-SH-XH": "310104", "HG-CD-JJ": "510104", "HG-MY-FC": "510703",
              "HG-DY-XC": "510129", "HG-SZ": "320506"}
    ids = {code: await partner(admin, code, region=region) for code, region in stores.items()}
    await evaluate(admin)
    tiers = {code: (await tier_of(admin, pid))["tier"] for code, pid in ids.items()}
    assert tiers == {"HG-SH-XH": "T1", "HG-CD-JJ": "T2", "HG-MY-FC": "T3", "HG-DY-XC": "T4",
                     "HG-SZ": "T4"}
    assert (await tier_of(admin, ids["HG-DY-XC"]))["reason"] == "大邑县 为县域门店 → T4"
    assert (await tier_of(admin, ids["HG-CD-JJ"]))["reason"] == "所在 成都市 属于「二线城市」→ T2"


async def test_partner_levels(jimu_platform):
    _, admin = await setup(jimu_platform)
    await rule_set(admin, "dealers", "partner_level", LEVELS, partner_kinds=["dealer"])
    ids = {level: await partner(admin, f"D-{level or 'none'}", kind="dealer", level=level)
           for level in ("general_agent", "level1", "level2", "")}
    await evaluate(admin)
    assert {lv: (await tier_of(admin, pid))["tier"] for lv, pid in ids.items()} == {
        "general_agent": "A", "level1": "B", "level2": "C", "": "C"}
    assert (await tier_of(admin, ids["general_agent"]))["reason"] == "合作伙伴级别 总代 → A"


async def test_cooperation_unlocks_b_after_five_orders_and_a_after_twelve_months(
        jimu_platform, run_jobs):
    tenant, admin = await setup(jimu_platform)
    await rule_set(admin, "sp", "cooperation", COOPERATION, partner_kinds=["service_provider"])
    sp = await partner(admin, "SZ-SP-01", kind="service_provider", region="320506")
    for n in range(4):
        await volumes(admin, sp, 1, when=f"2026-11-0{n + 1}T10:00:00+08:00", ref=f"R{n}")
    await evaluate(admin)
    assert (await tier_of(admin, sp))["tier"] == "C"
    # The fifth completed order arrives as a domain event and re-evaluates the partner.
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.completed", {"order_id": "R4", "partner_id": sp,
                                        "completed_at": "2026-11-10T10:00:00+08:00",
                                        "lines": [{"item": "SVC", "category": "维修",
                                                   "quantity": "1", "amount": "680.00"}]})
    await run_jobs()
    current = await tier_of(admin, sp)
    assert current["tier"] == "B"
    assert current["reason"] == "已完成 5 单 ≥ 5 单 → B"
    # Twelve months after the first order, A unlocks by time alone.
    jimu_platform.clock.freeze(dt.datetime(2027, 11, 1, 4, 0, tzinfo=dt.UTC))
    admin = await jimu_platform.login(tenant.admin_username)  # a year later: sign in again
    await evaluate(admin)
    assert (await tier_of(admin, sp))["reason"] == "合作 12 个月 ≥ 12 个月 → A"


async def test_history_is_kept_and_evaluating_twice_writes_nothing(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    await volumes(admin, store, 200)
    await evaluate(admin)
    jimu_platform.clock.freeze(NOW + dt.timedelta(hours=1))
    await volumes(admin, store, 4900)
    assert (await evaluate(admin))["changed"] == 1
    again = await evaluate(admin)
    assert again["changed"] == 0
    history = (await admin.get(f"/api/v1/price_tiers/partners/{store}/history")).json()
    assert [(h["tier"], h["valid_to"] is None) for h in history] == [("A", True), ("C", False)]
    assert history[1]["valid_to"] == history[0]["valid_from"]
    assert history[1]["reason"] == "上月（2026-10）完成 200箱 < 1,000箱 → C"
    assert history[0]["reason"] == "上月（2026-10）完成 5,100箱 ≥ 5,000箱 → A"
    async with jimu_platform.as_tenant(tenant):
        assert await Assignment.scoped_count() == 2


async def test_orders_completed_redelivered_counts_once(jimu_platform, run_jobs):
    tenant, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    payload = {"order_id": 981, "partner_id": store, "completed_at": "2026-10-20T10:00:00+08:00",
               "lines": [{"item": "WATER", "category": "饮料", "quantity": "3000",
                          "amount": "72000.00"},
                         {"item": "COLA", "category": "饮料", "quantity": "2000",
                          "amount": "50000.00"}]}
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.completed", payload)
    await run_jobs()
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.completed", payload)  # the same order completed again (resent)
    await run_jobs()
    async with jimu_platform.as_tenant(tenant):
        assert await Volume.scoped_count() == 2
    current = await tier_of(admin, store)
    assert current["tier"] == "A" and current["reason"].startswith("上月（2026-10）完成 5,000箱")
    # The ERP's own order 981 is another order than this platform's order 981; the ERP
    # resending its lines is harmless too.
    erp = {"lines": [{"order_ref": "981", "line_no": 1, "partner_id": store, "quantity": "30",
                      "completed_at": "2026-10-20T10:00:00+08:00"}]}
    first = await admin.post("/api/v1/price_tiers/volumes", json=erp)
    assert first.json()["recorded"] == 1
    again = await admin.post("/api/v1/price_tiers/volumes", json=erp)
    assert again.json()["recorded"] == 0 and again.json()["skipped"] == 1


async def test_a_customers_order_has_no_partner_volume(jimu_platform, run_jobs):
    tenant, _admin = await setup(jimu_platform)
    async with jimu_platform.as_tenant(tenant):
        await emit("orders.completed", {"order_id": 5, "partner_id": None,
                                        "completed_at": "2026-10-20T10:00:00+08:00",
                                        "lines": [{"item": "WATER", "quantity": "3"}]})
    await run_jobs()
    async with jimu_platform.as_tenant(tenant):
        assert await Volume.scoped_count() == 0
    failures = (await _admin.get("/api/v1/plugins/price_tiers")).json()["failures"]
    assert failures == 0


async def test_save_time_errors_name_the_problem(jimu_platform):
    _, admin = await setup(jimu_platform)
    gap = await rule_set(admin, "g", "monthly_volume", {"bands": [
        {"min": "0", "max": "1000", "tier": "C"}, {"min": "1200", "max": None, "tier": "A"}]},
        status=422)
    assert gap["field"] == "body.bands"
    assert "[0, 1,000) → C" in gap["message"] and "[1,200, ∞) → A" in gap["message"]
    assert "gap" in gap["message"]
    overlap = await rule_set(admin, "o", "monthly_volume", {"bands": [
        {"min": "0", "max": "1000", "tier": "C"}, {"min": "800", "max": "5000", "tier": "B"},
        {"min": "5000", "max": None, "tier": "A"}]}, status=422)
    assert "overlap" in overlap["message"] and "[800, 5,000) → B" in overlap["message"]
    start = await rule_set(admin, "s", "monthly_volume", {"bands": [
        {"min": "10", "max": None, "tier": "A"}]}, status=422)
    assert "[0, 10)" in start["message"]
    unknown = await rule_set(admin, "u", "monthly_volume", {"bands": [
        {"min": "0", "max": None, "tier": "Z9"}]}, status=422)
    assert "Z9" in unknown["message"]
    levels = await rule_set(admin, "l", "partner_level",
                            {"general_agent": "A", "level1": "B", "": "C"}, status=422)
    assert "level2" in levels["message"]
    city = await rule_set(admin, "c", "city_tier", {"groups": CITY["groups"]}, status=422)
    assert city["field"] == "body.default"
    coop = await rule_set(admin, "k", "cooperation", {"thresholds": [
        {"tier": "A", "min_completed_orders": 3, "min_months": 12},
        {"tier": "B", "min_completed_orders": 5, "min_months": 3}]}, status=422)
    assert "monotonic" in coop["message"]
    await rule_set(admin, "first", "partner_level", LEVELS, partner_kinds=["dealer"],
                   priority=5)
    clash = await rule_set(admin, "second", "partner_level", LEVELS,
                           partner_kinds=["dealer", "store"], priority=5, status=422)
    assert "first" in clash["message"] and "second" in clash["message"]
    assert clash["field"] == "priority"
    # Different partner scopes at the same priority do not clash.
    await partner(admin, "HB-MD-CY")
    await partner(admin, "HG-SH-XH", region="310104")
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS, partner_kinds=["store"],
                   partner_codes=["HB-MD-CY"], priority=20)
    await rule_set(admin, "hotpot", "city_tier", CITY, partner_kinds=["store"],
                   partner_codes=["HG-SH-XH"], priority=20)
    await rule_set(admin, "north", "city_tier", CITY, region_codes=["110000"], priority=20,
                   status=422)  # HB-MD-CY is in Beijing: clashes with fmcg
    bad_basis = await rule_set(admin, "x", "nonsense", {}, status=422)
    assert bad_basis["field"] == "basis"
    assert (await admin.post("/api/v1/price_tiers/tiers",
                             json={"code": "a", "name": "x"})).json()["field"] == "code"
    in_use = await admin.delete("/api/v1/price_tiers/tiers/A")
    assert in_use.status_code == 409


async def test_bad_volume_lines_are_refused_and_nothing_is_written(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    store = await partner(admin, "S1")
    ok = {"order_ref": "O1", "partner_id": store, "quantity": "5",
          "completed_at": "2026-10-10T10:00:00+08:00"}
    for bad, field in (({"quantity": "0"}, "lines[1].quantity"),
                       ({"quantity": "-3"}, "lines[1].quantity"),
                       ({"partner_id": 99999}, "lines[1].partner_id"),
                       ({"completed_at": "2026-10-10T10:00:00"}, "lines[1].completed_at"),
                       ({"order_ref": "O1"}, "lines[1].line_no")):
        r = await admin.post("/api/v1/price_tiers/volumes", json={"lines": [
            ok, {**ok, "order_ref": "O2", **bad}]})
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field
    async with jimu_platform.as_tenant(tenant):
        assert await Volume.scoped_count() == 0


async def test_manual_locked_tier_survives_evaluation_until_unlocked(jimu_platform):
    _, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    await volumes(admin, store, 200)
    await evaluate(admin)
    r = await admin.post("/api/v1/price_tiers/assignments",
                         json={"partner_id": store, "tier": "A", "note": "战略门店"})
    assert r.status_code == 201, r.text
    assert r.json()["locked"] is True and "战略门店" in r.json()["reason"]
    await evaluate(admin)
    assert (await tier_of(admin, store))["tier"] == "A"
    unlocked = await admin.post(f"/api/v1/price_tiers/partners/{store}/unlock")
    assert unlocked.status_code == 200 and unlocked.json()["changed"] == 1
    assert (await tier_of(admin, store))["tier"] == "C"
    history = (await admin.get(f"/api/v1/price_tiers/partners/{store}/history")).json()
    assert [h["tier"] for h in history] == ["C", "A", "C"]


async def test_tier_fact_appears_in_the_quote(jimu_platform):
    _, admin = await setup(jimu_platform, plugins=("price_tiers", "tier_test_prices"))
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    await volumes(admin, store, 5120, evaluate=True)
    r = await admin.post("/api/v1/pricing/quote", json={"item": "WATER", "quantity": "2",
                                                        "partner_id": store, "explain": True})
    assert r.status_code == 200, r.text
    facts = r.json()["facts"]
    assert facts["price_tiers.tier"] == "A"
    assert facts["price_tiers.tier_reason"] == "上月（2026-10）完成 5,120箱 ≥ 5,000箱 → A"
    anonymous = await admin.post("/api/v1/pricing/quote", json={"item": "WATER"})
    assert anonymous.json()["facts"]["price_tiers.tier"] is None
    # A change of tier is seen by the next quote (the cache is invalidated).
    await admin.post("/api/v1/price_tiers/assignments", json={"partner_id": store, "tier": "B"})
    r = await admin.post("/api/v1/pricing/quote", json={"item": "WATER", "partner_id": store})
    assert r.json()["facts"]["price_tiers.tier"] == "B"


async def test_partner_user_sees_its_own_tier_only(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    await volumes(admin, store, 1500, evaluate=True)
    await jimu_platform.make_user(tenant, "s1-user", role="partner", partner_id=store)
    user = await jimu_platform.login("s1-user")
    mine = await user.get("/api/v1/price_tiers/my-tier")
    assert mine.status_code == 200, mine.text
    assert mine.json()["tier"] == "B" and "1,500" in mine.json()["reason"]
    assert (await user.get("/api/v1/price_tiers/assignments")).status_code == 403
    assert (await admin.get("/api/v1/price_tiers/my-tier")).status_code == 403


async def test_another_tenant_sees_nothing(jimu_platform):
    _, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    await volumes(admin, store, 1500, evaluate=True)
    other = await jimu_platform.make_tenant(plugins=["price_tiers"])
    other_admin = await jimu_platform.login(other.admin_username)
    assert (await other_admin.get("/api/v1/price_tiers/tiers")).json() == []
    assert (await other_admin.get("/api/v1/price_tiers/assignments")).json() == []
    assert (await other_admin.get(f"/api/v1/price_tiers/partners/{store}/tier")
            ).status_code == 404


@pytest.mark.slow
async def test_demo_seed_shows_tiers_with_history(jimu_platform):
    from jimu_price_tiers.demo import seed_demo

    tenant, admin = await setup(jimu_platform)
    for code, name, kind, level, region in (
            ("HB-ZD", "华北总代", "dealer", "general_agent", "110105"),
            ("HB-YJ-TJ", "天津一级", "dealer", "level1", "120112"),
            ("HB-EJ-LF", "廊坊二级", "dealer", "level2", "131000"),
            ("HB-MD-CY", "朝阳便利店", "store", "", "110105"),
            ("HN-MD-TH", "天河小卖部", "store", "", "440106"),
            ("HG-SH-XH", "徐汇店", "store", "", "310104"),
            ("HG-CD-JJ", "锦江店", "store", "", "510104"),
            ("HG-MY-FC", "涪城店", "store", "", "510703"),
            ("HG-DY-XC", "大邑县城店", "store", "", "510129"),
            ("SZ-SP-01", "苏州维修服务商", "service_provider", "", "320506")):
        r = await admin.post("/api/v1/partners", json={"code": code, "name": name, "kind": kind,
                                                       "level": level, "region_code": region})
        assert r.status_code == 201, r.text
    async with jimu_platform.as_tenant(tenant):
        # The demo seeder creates the tiers itself: start from none.
        from jimu_price_tiers.tables import Tier

        await Tier.scoped_delete()
        await seed_demo(tenant.id)
    ids = {p["code"]: p["id"] for p in (await admin.get("/api/v1/partners?per_page=100")
                                        ).json()["items"]}
    expected = {"HB-ZD": "A", "HB-YJ-TJ": "B", "HB-EJ-LF": "C", "HB-MD-CY": "A",
                "HN-MD-TH": "C", "HG-SH-XH": "T1", "HG-CD-JJ": "T2", "HG-MY-FC": "T3",
                "HG-DY-XC": "T4", "SZ-SP-01": "B"}
    assert {c: (await tier_of(admin, ids[c]))["tier"] for c in expected} == expected
    history = (await admin.get(f"/api/v1/price_tiers/partners/{ids['HB-MD-CY']}/history")
               ).json()
    assert [h["tier"] for h in history] == ["A", "B", "C"]
    assert history[0]["reason"] == "上月（2026-10）完成 5,120箱 ≥ 5,000箱 → A"
    sp = (await admin.get(f"/api/v1/price_tiers/partners/{ids['SZ-SP-01']}/history")).json()
    assert [h["tier"] for h in sp] == ["B", "C"]


async def test_admin_pages(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await rule_set(admin, "fmcg", "monthly_volume", FMCG_BANDS)
    store = await partner(admin, "S1")
    await volumes(admin, store, 1200, evaluate=True)
    board = await admin.get("/admin/p/price_tiers/")
    assert board.status_code == 200
    assert "1,200箱" in board.text and f"/admin/p/price_tiers/partners/{store}" in board.text
    history = await admin.get(f"/admin/p/price_tiers/partners/{store}")
    assert history.status_code == 200 and "fmcg" in history.text
    assert (await admin.get("/admin/p/price_tiers/tiers")).status_code == 200
    listing = await admin.get("/admin/p/price_tiers/rule-sets")
    assert listing.status_code == 200 and "fmcg" in listing.text
    edit = await admin.get("/admin/p/price_tiers/rule-sets/fmcg")
    assert edit.status_code == 200 and "bands" in edit.text
    assert (await admin.get("/admin/p/price_tiers/rule-sets/new")).status_code == 200
    token = admin.headers["X-CSRF-Token"]
    bad = await admin.post("/admin/p/price_tiers/rule-sets/new/save", data={
        "csrf_token": token, "code": "gap", "name": "有空缺", "basis": "monthly_volume",
        "priority": "1", "enabled": "on",
        "body": '{"bands": [{"min": 0, "max": 1000, "tier": "C"},'
                ' {"min": 2000, "max": null, "tier": "A"}]}'})
    assert bad.status_code == 422
    assert 'class="field-error"' in bad.text
    assert "[0, 1,000) → C" in bad.text
    bad_tier = await admin.post("/admin/p/price_tiers/tiers/create", data={
        "csrf_token": token, "code": "bad code", "name": "x", "rank": "1"})
    assert bad_tier.status_code == 422 and "field-error" in bad_tier.text
    good = await admin.post("/admin/p/price_tiers/tiers/create", data={
        "csrf_token": token, "code": "VIP", "name": "贵宾", "rank": "1"})
    assert good.status_code in (200, 303)
    evaluated = await admin.post("/admin/p/price_tiers/evaluate", data={"csrf_token": token})
    assert evaluated.status_code in (200, 303)
    staff_id = await jimu_platform.make_user(tenant, "staff-1", role="staff")
    assert staff_id
    staff = await jimu_platform.login("staff-1")
    assert (await staff.get("/admin/p/price_tiers/")).status_code == 200
    assert (await staff.post("/admin/p/price_tiers/evaluate")).status_code == 403


async def test_volume_can_count_only_some_categories(jimu_platform):
    tenant, admin = await setup(jimu_platform)
    await rule_set(admin, "drinks", "monthly_volume", {**FMCG_BANDS, "categories": ["饮料"]})
    store = await partner(admin, "S1")
    r = await admin.post("/api/v1/price_tiers/volumes", json={"lines": [
        {"order_ref": "O1", "line_no": 1, "partner_id": store, "quantity": "800",
         "category": "饮料", "completed_at": "2026-10-10T10:00:00+08:00"},
        {"order_ref": "O1", "line_no": 2, "partner_id": store, "quantity": "9000",
         "category": "日化", "completed_at": "2026-10-10T10:00:00+08:00"}]})
    assert r.json()["evaluation"]["by_tier"] == {"C": 1}
    listed = (await admin.get(f"/api/v1/price_tiers/volumes?partner_id={store}")).json()
    assert sorted(v["quantity"] for v in listed) == ["800", "9000"]
    await jimu_platform.make_user(tenant, "staff-2", role="staff")
    staff = await jimu_platform.login("staff-2")
    assert (await staff.get("/api/v1/price_tiers/rule-sets")).status_code == 200
    assert (await staff.post("/api/v1/price_tiers/evaluate")).status_code == 403


async def test_a_partner_never_has_two_current_tiers(jimu_platform):
    import sqlite3

    from jimu_price_tiers.tables import Assignment

    tenant, admin = await setup(jimu_platform)
    store = await partner(admin, "S9")
    assigned = await admin.post("/api/v1/price_tiers/assignments",
                                json={"partner_id": store, "tier": "A"})
    assert assigned.status_code == 201, assigned.text
    # What a racing second writer would do: open another current row for the same partner.
    async with jimu_platform.as_tenant(tenant):
        try:
            async with jimu_platform.kernel.db.transaction():
                await Assignment.insert(Assignment(
                    tenant_id=tenant.id, partner_id=store, tier="B", rule_set="", reason="race",
                    facts={}, locked=False, valid_from=jimu_platform.clock.now()))
        except Exception as exc:  # sqlite3.IntegrityError or asyncpg's UniqueViolationError
            assert isinstance(exc, sqlite3.IntegrityError) or "Unique" in type(exc).__name__
        else:
            raise AssertionError("two current tiers were stored for one partner")
